"""The demo: a simulated Panasonic PBX and a real Home Assistant with the integration set up.

Run through ``script/demo``. Everything is provisioned through Home Assistant's public
HTTP and WebSocket APIs, as a person in the browser would do it: onboarding with the owner
``demo``/``demo``, the PBX added through the config flow, extension names through the
options flow, and a dashboard of the extensions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig

ROOT = Path(__file__).resolve().parents[1]
USERNAME = "demo"
PASSWORD = "demo"
DASHBOARD = "pbx-demo"
NAMES = {"101": "Reception", "102": "Sales", "103": "Support", "104": "Warehouse"}
STARTUP_TIMEOUT = 300.0
#: Decoded JSON, as Home Assistant's APIs answer it.
type Json = Any

CONFIGURATION = """\
# Written by script/demo on every start.
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
http:
  server_port: {port}
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


def say(message: str) -> None:
    """Progress for the person who started the demo."""
    print(f"==> {message}", file=sys.stderr, flush=True)


def prepare_config(config_dir: Path, port: int) -> None:
    """Write configuration.yaml and link the integration (live code) and its sentences."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
    components = config_dir / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / "pbx"
    if link.is_symlink() or link.exists():
        link.unlink() if link.is_symlink() else shutil.rmtree(link)
    link.symlink_to(ROOT / "custom_components" / "pbx", target_is_directory=True)
    sentences = config_dir / "custom_sentences" / "en"
    sentences.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "custom_components/pbx/custom_sentences/en/pbx.yaml", sentences / "pbx.yaml")


class HomeAssistantApi:
    """The few REST and WebSocket calls the demo needs, authenticated as the owner."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.client_id = f"{base}/"
        self.token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = 0

    @property
    def headers(self) -> dict[str, str]:
        """The owner's bearer token."""
        return {"Authorization": f"Bearer {self.token}"}

    async def wait_until_up(self, process: asyncio.subprocess.Process) -> None:
        """Wait until the HTTP API answers (or Home Assistant dies)."""
        async with asyncio.timeout(STARTUP_TIMEOUT):
            while True:
                if process.returncode is not None:
                    raise RuntimeError("Home Assistant exited during start-up; see its log")
                with contextlib.suppress(aiohttp.ClientError):
                    async with self.session.get(f"{self.base}/api/onboarding") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(1)

    async def request(self, method: str, path: str, **kwargs: Json) -> Json:
        """Call a REST endpoint; return its JSON answer."""
        async with self.session.request(method, f"{self.base}{path}", **kwargs) as response:
            text = await response.text()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {text}")
            return json.loads(text) if text else None

    async def _token(self, code: str) -> None:
        data = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        self.token = (await self.request("POST", "/auth/token", data=data))["access_token"]

    async def onboard_or_login(self) -> None:
        """Finish onboarding with the owner demo/demo, or log in as that owner."""
        steps = await self.request("GET", "/api/onboarding")
        if not any(step["step"] == "user" and step["done"] for step in steps):
            say("Onboarding: creating the owner demo/demo")
            user = {
                "client_id": self.client_id,
                "name": "Demo",
                "username": USERNAME,
                "password": PASSWORD,
                "language": "en",
            }
            await self._token(
                (await self.request("POST", "/api/onboarding/users", json=user))["auth_code"]
            )
        else:
            await self.login()
        for step in ("core_config", "analytics"):
            if not any(s["step"] == step and s["done"] for s in steps):
                await self.request("POST", f"/api/onboarding/{step}", headers=self.headers, json={})
        if not any(s["step"] == "integration" and s["done"] for s in steps):
            body = {"client_id": self.client_id, "redirect_uri": f"{self.base}/?auth_callback=1"}
            await self.request(
                "POST", "/api/onboarding/integration", headers=self.headers, json=body
            )

    async def login(self) -> None:
        """Log in through the login flow, as the frontend does."""
        flow = await self.request(
            "POST",
            "/auth/login_flow",
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.base}/",
            },
        )
        result = await self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json={"client_id": self.client_id, "username": USERNAME, "password": PASSWORD},
        )
        await self._token(result["result"])

    async def flow(self, path: str, start: dict[str, Json], *steps: dict[str, Json]) -> Json:
        """Run a data-entry flow through the REST API, one input per step."""
        result = await self.request("POST", path, headers=self.headers, json=start)
        for step in steps:
            result = await self.request(
                "POST", f"{path}/{result['flow_id']}", headers=self.headers, json=step
            )
            if result.get("errors"):
                raise RuntimeError(f"{path}: {result['errors']}")
        return result

    async def ws(self, message: dict[str, Json]) -> Json:
        """Send one WebSocket command and return its result."""
        if self._ws is None:
            self._ws = await self.session.ws_connect(f"{self.base}/api/websocket")
            await self._ws.receive_json()
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            if (await self._ws.receive_json())["type"] != "auth_ok":
                raise RuntimeError("WebSocket authentication failed")
        self._ids += 1
        await self._ws.send_json({"id": self._ids, **message})
        while True:
            reply = await self._ws.receive_json()
            if reply.get("id") == self._ids and reply["type"] == "result":
                if not reply["success"]:
                    raise RuntimeError(f"{message['type']}: {reply['error']}")
                return reply["result"]

    async def close(self) -> None:
        """Close the WebSocket."""
        if self._ws is not None:
            await self._ws.close()


async def ensure_pbx_entry(api: HomeAssistantApi, pbx_port: int) -> None:
    """Add the simulated PBX through the config flow (again, if its port changed)."""
    entries = await api.request(
        "GET", "/api/config/config_entries/entry?domain=pbx", headers=api.headers
    )
    for entry in entries:
        if entry["title"] == "Panasonic PBX (127.0.0.1)" and entry.get("state") == "loaded":
            config = await api.ws(
                {"type": "config_entries/get_single", "entry_id": entry["entry_id"]}
            )
            if config.get("config_entry", {}).get("unique_id", "").endswith(f":{pbx_port}"):
                return
        await api.request(
            "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}", headers=api.headers
        )
    say("Adding the simulated PBX through the config flow")
    created = await api.flow(
        "/api/config/config_entries/flow",
        {"handler": "pbx", "show_advanced_options": False},
        {"next_step_id": "panasonic_lan"},
        {"host": "127.0.0.1", "port": pbx_port},
    )
    if created.get("type") != "create_entry":
        raise RuntimeError(f"the config flow did not create an entry: {created}")
    entry_id = created["result"]["entry_id"]
    await api.flow(
        "/api/config/config_entries/options/flow",
        {"handler": entry_id},
        {"extensions": [], "prefixes": "", "voice_extension": "101"},
        NAMES,
    )


async def ensure_dashboard(api: HomeAssistantApi) -> None:
    """A dashboard with every extension's line and last call, and the PBX's state."""
    dashboards = await api.ws({"type": "lovelace/dashboards/list"})
    if not any(d["url_path"] == DASHBOARD for d in dashboards):
        await api.ws(
            {
                "type": "lovelace/dashboards/create",
                "url_path": DASHBOARD,
                "title": "Phones",
                "icon": "mdi:phone",
                "show_in_sidebar": True,
                "require_admin": False,
                "mode": "storage",
            }
        )
    registry = await api.ws({"type": "config/entity_registry/list"})
    ours = [e for e in registry if e["platform"] == "pbx"]
    lines = sorted(
        e["entity_id"]
        for e in ours
        if e["entity_id"].startswith("sensor.") and e["unique_id"].endswith("_line")
    )
    calls = sorted(e["entity_id"] for e in ours if e["entity_id"].startswith("event."))
    pbx = sorted(
        e["entity_id"]
        for e in ours
        if e["entity_id"].startswith("binary_sensor.") or e["unique_id"].endswith("last_caller")
    )
    config = {
        "views": [
            {
                "title": "Phones",
                "cards": [
                    {
                        "type": "entities",
                        "title": "Extensions",
                        "entities": lines,
                        "state_color": True,
                    },
                    {"type": "entities", "title": "Last calls", "entities": calls},
                    {"type": "entities", "title": "PBX", "entities": pbx},
                    {
                        "type": "logbook",
                        "title": "Call log",
                        "target": {"entity_id": calls},
                        "hours_to_show": 4,
                    },
                ],
            }
        ]
    }
    await api.ws({"type": "lovelace/config/save", "url_path": DASHBOARD, "config": config})


async def run(args: argparse.Namespace, config_dir: Path) -> int:
    """Start everything, provision it, then wait until interrupted."""
    simulator = PanasonicSimulator(
        SimulatorConfig(port=args.pbx_port, scenario=args.scenario, keepalive_interval=30.0)
    )
    await simulator.start()
    say(f"Simulated Panasonic PBX with scenario {args.scenario} on 127.0.0.1:{simulator.port}")
    say(f"Starting Home Assistant (config in {config_dir}, log in {config_dir}/home-assistant.log)")
    hass = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("hass")),
        "--config",
        str(config_dir),
        "--skip-pip",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    base = f"http://127.0.0.1:{args.port}"
    try:
        async with aiohttp.ClientSession() as session:
            api = HomeAssistantApi(session, base)
            await api.wait_until_up(hass)
            await api.onboard_or_login()
            await ensure_pbx_entry(api, simulator.port)
            await asyncio.sleep(2)  # let the first entities register
            await ensure_dashboard(api)
            await api.close()
        print(
            f"Home Assistant is ready: {base}/{DASHBOARD}  (user {USERNAME}, password {PASSWORD})",
            flush=True,
        )
        say("Press Ctrl-C to stop")
        waiter = asyncio.create_task(hass.wait())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        return 0 if stop.is_set() else 1
    finally:
        if hass.returncode is None:
            say("Stopping Home Assistant")
            os.killpg(hass.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(60):
                    await hass.wait()
            except TimeoutError:
                os.killpg(hass.pid, signal.SIGKILL)
                await hass.wait()
        await simulator.stop()


def main() -> None:
    """Parse the command line and run the demo."""
    parser = argparse.ArgumentParser(prog="script/demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's HTTP port (8123)")
    parser.add_argument(
        "--pbx-port", type=int, default=33333, help="the simulated PBX's port (33333)"
    )
    parser.add_argument("--scenario", default="busy-office", choices=["busy-office", "basic-call"])
    parser.add_argument(
        "--config-dir",
        default=str(ROOT / ".ha-demo"),
        help="Home Assistant's configuration directory",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config_dir = Path(args.config_dir).resolve()
    prepare_config(config_dir, args.port)
    sys.exit(asyncio.run(run(args, config_dir)))


if __name__ == "__main__":
    main()
