"""A real Home Assistant process: its configuration directory, start, stop, log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
#: Ctrl-C must leave nothing behind within 5 s: Home Assistant gets this long to stop
#: cleanly, then it is killed.
STOP_GRACE: Final = 3.5

CONFIGURATION: Final = """\
# Written by script/demo on every start. The HTTP port lives in .storage/http, where
# Home Assistant keeps it; an http: block here would be a deprecated trial configuration.
homeassistant:
  name: PBX demo
  unit_system: metric
  time_zone: UTC
  country: DE
  currency: EUR
  latitude: 52.52
  longitude: 13.40
  elevation: 34
frontend:
config:
history:
logbook:
automation: []
conversation:
intent:
logger:
  default: warning
  logs:
    custom_components.pbx: info
    pbx_protocols: info
"""

#: Onboarding steps the demo marks done before the first start. Home Assistant's own
#: core_config step would add Met.no, Radio Browser, Google Translate and a shopping list,
#: which need the internet and show as failed cards without it; the location comes from
#: configuration.yaml instead. The owner is still created through the onboarding API.
ONBOARDING_DONE_BEFORE_START: Final = ("core_config", "analytics", "integration")
#: Version of Home Assistant's onboarding store that the list above is written in.
ONBOARDING_STORE_VERSION: Final = 4


class HomeAssistantExited(RuntimeError):
    """Home Assistant stopped by itself; the message carries the end of its log."""


def prepare_config(config_dir: Path, port: int, *, copy_integration: bool = False) -> None:
    """Write the configuration, the HTTP port and the integration into ``config_dir``.

    The integration is linked (the demo runs the live code) or copied, as HACS installs it.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(CONFIGURATION)
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    _store_http_port(storage / "http", port)
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        _write_store(
            onboarding,
            {"done": list(ONBOARDING_DONE_BEFORE_START)},
            "onboarding",
            ONBOARDING_STORE_VERSION,
        )
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / "pbx"
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    if copy_integration:
        shutil.copytree(ROOT / "custom_components" / "pbx", link)
    else:
        link.symlink_to(ROOT / "custom_components" / "pbx", target_is_directory=True)
    sentences = config_dir / "custom_sentences" / "en"
    sentences.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "custom_components/pbx/custom_sentences/en/pbx.yaml", sentences / "pbx.yaml")


def _store_http_port(path: Path, port: int) -> None:
    """Set the confirmed ("stable") HTTP port in Home Assistant's own HTTP store.

    A store Home Assistant already wrote (version 2) keeps everything but the port and
    loses any unconfirmed trial configuration. Without one, the store is written in its
    first version, holding only the port: Home Assistant migrates it at start, filling in
    every default itself.
    """
    document: dict[str, Any] | None = None
    with contextlib.suppress(OSError, ValueError):
        document = json.loads(path.read_text())
    if isinstance(document, dict) and document.get("version") == 2:
        data = document["data"]
        data["stable"]["server_port"] = port
        data["pending"] = None
        data["yaml_migration_done"] = True
        path.write_text(json.dumps(document, indent=2))
        return
    _write_store(path, {"server_port": port}, "http", 1)


def _write_store(path: Path, data: dict[str, Any], key: str, version: int) -> None:
    document = {"version": version, "minor_version": 1, "key": key, "data": data}
    path.write_text(json.dumps(document, indent=2))


class HomeAssistantProcess:
    """``hass`` on a configuration directory, in its own process group."""

    def __init__(
        self,
        config_dir: Path,
        *,
        executable: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.config_dir = config_dir
        #: Variables added to this process's environment for it.
        self.env = env or {}
        self.log = config_dir / "home-assistant.log"
        #: ``hass`` of this environment unless another is given (a fresh one, say).
        self.executable = executable or Path(sys.executable).with_name("hass")
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start Home Assistant (it writes its own log to ``self.log``)."""
        self._process = await asyncio.create_subprocess_exec(
            str(self.executable),
            "--config",
            str(self.config_dir),
            "--skip-pip",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            # Its own group: a Ctrl-C meant for the demo reaches it only through stop().
            start_new_session=True,
            env={**os.environ, **self.env},
        )

    @property
    def pid(self) -> int:
        """The process id (once started)."""
        assert self._process is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit status, once it has exited."""
        return None if self._process is None else self._process.returncode

    async def wait(self) -> int:
        """Wait until Home Assistant exits; return its status."""
        assert self._process is not None
        return await self._process.wait()

    def exited_error(self) -> HomeAssistantExited:
        """The error that says Home Assistant stopped, with the end of its log."""
        return HomeAssistantExited(
            f"Home Assistant exited with status {self.returncode}; the end of {self.log}:\n"
            + self.log_tail()
        )

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of Home Assistant's log."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop Home Assistant and everything it started; kill it if it takes too long."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        # Anything it left in its group (helpers of integrations) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
