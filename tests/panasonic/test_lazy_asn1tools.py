"""asn1tools loads only what BER needs, and only when used; other users do not notice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import types
from pathlib import Path

import asn1tools

from pbx_protocols.panasonic import lazy_asn1tools
from pbx_protocols.panasonic.lazy_asn1tools import EXTENSION_MARKER_SOURCE, UNUSED_CODECS

#: A systemStatus invoke, the first PDU a client decodes.
FIRST_PDU = "a10c020101020200d330030a0102"

#: Decodes the first PDU in a fresh interpreter; prints which of asn1tools' parts ran.
DECODE_AND_LIST = (
    "import json, sys, types;"
    "from pbx_protocols.panasonic.codec import decode_pdu;"
    f"pdu = decode_pdu(bytes.fromhex('{FIRST_PDU}'));"
    "assert pdu.argument == {'systemStatus': 'normal'}, pdu;"
    "ran = lambda name: type(sys.modules.get(name)) is types.ModuleType;"
    "print(json.dumps({"
    "'codecs': sorted(name.rsplit('.', 1)[1] for name in list(sys.modules)"
    " if name.startswith('asn1tools.codecs.') and ran(name)),"
    "'package': ran('asn1tools'), 'parser': ran('asn1tools.parser'),"
    "'pyparsing': 'pyparsing' in sys.modules}))"
)


def run_fresh(code: str, cache: Path, python_path: Path | None = None) -> object:
    """Run ``code`` in a fresh interpreter (asn1tools not yet imported); its JSON output."""
    environment = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    if python_path is not None:
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(python_path), environment.get("PYTHONPATH")])
        )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment
    )
    return json.loads(completed.stdout)


def test_decoding_from_the_cache_runs_only_what_ber_needs(tmp_path):
    # No cache yet: asn1tools compiles, in a child process (see spec), not in this one.
    compiled = run_fresh(DECODE_AND_LIST, tmp_path)
    assert isinstance(compiled, dict)
    assert (compiled["package"], compiled["parser"], compiled["pyparsing"]) == (
        False,
        False,
        False,
    )
    assert "ber" in compiled["codecs"]
    assert not set(UNUSED_CODECS) & set(compiled["codecs"]), compiled

    cached = run_fresh(DECODE_AND_LIST, tmp_path)
    assert isinstance(cached, dict)
    assert (cached["package"], cached["parser"], cached["pyparsing"]) == (False, False, False)
    assert "ber" in cached["codecs"]
    assert not set(UNUSED_CODECS) & set(cached["codecs"]), cached


def test_asn1tools_still_works_for_others_after_it_was_deferred(tmp_path):
    """Someone else's code in the same process may compile, or use PER or JER."""
    run_fresh(DECODE_AND_LIST, tmp_path)  # the cache, so that decoding defers everything
    answers = run_fresh(
        "import json, sys, types;"
        "from pbx_protocols.panasonic.codec import decode_pdu;"
        f"decode_pdu(bytes.fromhex('{FIRST_PDU}'));"
        "assert 'pyparsing' not in sys.modules;"
        "import asn1tools;"
        "from asn1tools import compile_string;"
        "per = compile_string('A DEFINITIONS ::= BEGIN X ::= BMPString END', 'per');"
        "jer = asn1tools.compile_string('A DEFINITIONS ::= BEGIN X ::= INTEGER END', 'jer');"
        "broken = None\n"
        "try:\n"
        "    asn1tools.compile_string('A DEFINITIONS ::= BEGIN X ::= END', 'ber')\n"
        "except asn1tools.ParseError as error:\n"
        "    broken = type(error).__module__\n"
        "print(json.dumps([per.encode('X', 'hi').hex(), jer.encode('X', 5).decode(),"
        " broken, asn1tools.__version__, type(asn1tools) is types.ModuleType]))",
        tmp_path,
    )
    assert answers == ["0200680069", "5", "asn1tools.parser", asn1tools.__version__, True]


def test_another_asn1tools_release_is_imported_as_it_is(tmp_path):
    """If the parser's marker is not what we know, nothing of asn1tools is deferred."""
    installed = Path(next(iter(asn1tools.__path__)))
    patched = tmp_path / "site" / "asn1tools"
    shutil.copytree(installed, patched, ignore=shutil.ignore_patterns("__pycache__"))
    parser = patched / "parser.py"
    source = parser.read_text("utf-8")
    assert EXTENSION_MARKER_SOURCE in source
    parser.write_text(
        source.replace(EXTENSION_MARKER_SOURCE, "\nEXTENSION_MARKER = '...'\n"), "utf-8"
    )
    run_fresh(DECODE_AND_LIST, tmp_path / "cache", python_path=tmp_path / "site")
    cached = run_fresh(DECODE_AND_LIST, tmp_path / "cache", python_path=tmp_path / "site")
    assert isinstance(cached, dict)
    assert (cached["package"], cached["parser"], cached["pyparsing"]) == (True, True, True)
    assert set(UNUSED_CODECS) <= set(cached["codecs"]), cached


def test_a_thread_asking_while_another_runs_the_code_waits_for_it(tmp_path, monkeypatch):
    """Two threads loading the specification at once (a simulator and a client in one
    process, first run) must not see a half-executed asn1tools."""
    sync = types.ModuleType("deferred_test_sync")
    sync.started, sync.release = threading.Event(), threading.Event()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, sync.__name__, sync)
    source = tmp_path / "slow_module.py"
    source.write_text(
        "import sys\n"
        "sync = sys.modules['deferred_test_sync']\n"
        "sync.started.set()\n"
        "assert sync.release.wait(10)\n"
        "VALUE = 42\n"
    )
    module = lazy_asn1tools._defer_file("deferred_slow_module", source)
    monkeypatch.setitem(sys.modules, "deferred_slow_module", module)
    answers: dict[str, object] = {}

    def ask(who: str) -> None:
        try:
            answers[who] = getattr(module, "VALUE")  # noqa: B009  # the deferred lookup
        except AttributeError as error:
            answers[who] = error

    first = threading.Thread(target=ask, args=("first",))
    second = threading.Thread(target=ask, args=("second",))
    first.start()
    try:
        assert sync.started.wait(10)  # the first thread is running the module's code
        second.start()
        second.join(0.2)
        waited = second.is_alive()  # waiting for the code to finish, not failing
    finally:
        sync.release.set()
        first.join(10)
        if second.ident is not None:
            second.join(10)
    assert answers == {"first": 42, "second": 42}
    assert waited
    assert type(module) is types.ModuleType
