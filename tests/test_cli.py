"""Command-line error paths: one line on stderr, exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pbx_protocols import __version__
from pbx_protocols.cli import run


def test_version(capsys):
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"pbx-protocols {__version__}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["decode", "no-such-pbx", "00"], "invalid choice: 'no-such-pbx'"),
        (["monitor", "no-such-pbx"], "invalid choice: 'no-such-pbx'"),
        ([], "required: command"),
        (["decode"], "required: TYPE"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(capsys, argv, message):
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pbx-protocols: error: ")
    assert message in lines[0]


def test_console_script_exits_2_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "pbx_protocols", "decode", "no-such-pbx", "00"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_importing_the_library_does_not_import_home_assistant():
    code = (
        "import sys, pbx_protocols, pbx_protocols.cli, pbx_protocols.stacks;"
        "import pbx_protocols.core.client;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def probe_lines(probe: str) -> list[str]:
    """What a fresh interpreter running ``probe`` prints, line by line."""
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return completed.stdout.splitlines()


def test_version_and_import_load_no_stack():
    """--version answered before argparse, asyncio or asn1tools are even imported."""
    probe = (
        "import sys; sys.argv = ['pbx-protocols', '--version'];"
        "import pbx_protocols; from pbx_protocols.entry import main; main();"
        "print(sorted(m for m in ('argparse', 'asyncio', 'asn1tools', 'pbx_protocols.panasonic')"
        " if m in sys.modules))"
    )
    assert probe_lines(probe) == [f"pbx-protocols {__version__}", "[]"]


def test_decoding_on_the_command_line_loads_no_client_simulator_or_asyncio():
    """decode starts as fast as a bare decode: what other commands need is not loaded."""
    probe = (
        "import sys; from pbx_protocols.cli import run;"
        "run(['decode', 'panasonic', 'a10c020101020200d330030a0102']);"
        "print(sorted(m for m in ('asyncio', 'usb', 'pbx_protocols.core.client',"
        " 'pbx_protocols.panasonic.client', 'pbx_protocols.panasonic.simulator')"
        " if m in sys.modules))"
    )
    decoded, loaded = probe_lines(probe)
    assert '"operation": "systemStatus"' in decoded
    assert loaded == "[]"
