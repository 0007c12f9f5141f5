"""A release as a HACS user gets it: the wheel from PyPI and a copy of the integration.

The wheel is built from this checkout and installed into a fresh virtual environment with
Home Assistant (and nothing of the checkout on the path); a real ``hass`` of that
environment loads the copied integration and connects to a simulator started from the
wheel's own console script. Also: the workflows that make a release one tag away.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

from demo.hass_api import HomeAssistantApi
from demo.hass_process import HomeAssistantProcess, prepare_config
from demo.provision import ensure_pbx_entry, signed_in_when_running
from pbx_protocols import __version__

ROOT = Path(__file__).parents[1]
UV = Path(sys.executable).with_name("uv")
WORKFLOWS = ROOT / ".github" / "workflows"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env() -> dict[str, str]:
    """No path into the checkout, no virtual environment of ours."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def release_env(tmp_path_factory) -> Path:
    """A fresh environment with the built wheel and Home Assistant, as a user's would be."""
    work = tmp_path_factory.mktemp("release")
    run = {"check": True, "capture_output": True, "text": True, "env": clean_env()}
    subprocess.run([UV, "build", "--wheel", "--out-dir", work / "dist", ROOT], **run)
    (wheel,) = (work / "dist").glob("pbx_protocols-*.whl")
    venv = work / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([UV, "venv", "--quiet", "--python", base, venv], **run)
    requirements = ROOT / "script" / "requirements-test.txt"
    install = [UV, "pip", "install", "--quiet", "--python", venv / "bin/python"]
    subprocess.run([*install, "-r", requirements, wheel], **run)
    return venv


@pytest.mark.timeout(900)
def test_the_wheel_is_what_gets_imported(release_env, tmp_path):
    where = subprocess.run(
        [release_env / "bin/python", "-c", "import pbx_protocols; print(pbx_protocols.__file__)"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(release_env)), where
    assert "site-packages" in where


@pytest.mark.timeout(900)
async def test_home_assistant_loads_the_released_integration(socket_enabled, release_env, tmp_path):
    pbx_port, port = free_port(), free_port()
    simulator = await asyncio.create_subprocess_exec(
        release_env / "bin/pbx-protocols", "simulate", "panasonic",
        "--listen", f"127.0.0.1:{pbx_port}", "--extensions", "101-104",
        cwd=tmp_path, env=clean_env(),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    config_dir = tmp_path / "config"
    prepare_config(config_dir, port, copy_integration=True)
    assert not (config_dir / "custom_components" / "pbx").is_symlink()
    hass = HomeAssistantProcess(config_dir, executable=release_env / "bin" / "hass")
    try:
        await hass.start()
        async with aiohttp.ClientSession() as session:
            api = HomeAssistantApi(session, f"http://127.0.0.1:{port}")
            try:
                async with asyncio.timeout(300):
                    await signed_in_when_running(api, hass)
                await ensure_pbx_entry(api, pbx_port, names={}, voice_extension=None)
                entries = await api.ws({"type": "config_entries/get", "domain": "pbx"})
                assert [entry["state"] for entry in entries] == ["loaded"]
                states = {s["entity_id"]: s["state"] for s in await api.ws({"type": "get_states"})}
                assert states["sensor.extension_101_line"] == "idle"
            finally:
                await api.close()
    finally:
        await hass.stop()
        simulator.terminate()
        await simulator.wait()
    log = hass.log.read_text()
    assert "custom integration pbx" in log  # loaded from the copy in custom_components
    assert "Error setting up" not in log


def test_versions_agree():
    manifest = json.loads((ROOT / "custom_components/pbx/manifest.json").read_text())
    assert manifest["version"] == __version__
    assert manifest["requirements"] == [f"pbx-protocols=={__version__}"]
    metadata = (ROOT / "pyproject.toml").read_text()
    assert 'path = "pbx_protocols/__init__.py"' in metadata  # the wheel's version is that one


def test_workflows_make_a_release_one_tag_away():
    tests = yaml.safe_load((WORKFLOWS / "tests.yml").read_text())
    assert any("script/test" in step.get("run", "") for step in tests["jobs"]["test"]["steps"])
    validate = yaml.safe_load((WORKFLOWS / "validate.yml").read_text())
    uses = [step.get("uses", "") for job in validate["jobs"].values() for step in job["steps"]]
    assert any(u.startswith("home-assistant/actions/hassfest") for u in uses)
    assert any(u.startswith("hacs/action") for u in uses)
    release = yaml.safe_load((WORKFLOWS / "release.yml").read_text())
    assert release[True]["push"]["tags"] == ["v*"]  # YAML reads the key "on" as True
    publish = release["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}  # trusted publishing, no token
    assert any("pypi-publish" in step.get("uses", "") for step in publish["steps"])
    build = "\n".join(step.get("run", "") for step in release["jobs"]["build"]["steps"])
    assert re.search(r"manifest\[.requirements.\]", build)  # tag, library, manifest agree
