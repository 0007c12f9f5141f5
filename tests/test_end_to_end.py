"""End to end: ``script/demo`` runs a real Home Assistant, driven over its WebSocket API.

Logs in as demo/demo the way the frontend does (login flow, token, WebSocket auth), checks
what a new user would see (no repairs, no failed entries), waits for a ringing extension
and a pbx_call_event, and calls pbx.make_call. The demo runs twice on the same state with
different ports, and Ctrl-C during its start-up leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Final

import aiohttp
import pytest

from demo.hass_api import HomeAssistantApi
from demo.mosquitto import MOSQUITTO
from demo.nbx_site import SIMULATOR_SIDE, why_not

ROOT = Path(__file__).parents[1]
READY = "Home Assistant is ready"

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(sys.platform != "linux", reason="the demo builds on Linux"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_using(config_dir: Path) -> list[int]:
    """Processes whose command line names the demo's configuration directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if str(config_dir).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def start_demo(
    config_dir: Path, port: int, pbx_port: int, alphacom_port: int | None = None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(ROOT / "script" / "demo"),
        "--port", str(port),
        "--pbx-port", str(pbx_port),
        "--alphacom-port", str(alphacom_port or free_port()),
        "--config-dir", str(config_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


async def interrupt(process: asyncio.subprocess.Process) -> None:
    """What Ctrl-C does."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    async with asyncio.timeout(30):
        await process.wait()


type DemoStarter = Callable[[int], Awaitable[str]]


@pytest.fixture
async def run_demo(socket_enabled, tmp_path) -> AsyncIterator[DemoStarter]:
    """Start ``script/demo`` on one configuration directory, until it says it is ready."""
    config_dir = tmp_path / "home-assistant"
    running: list[asyncio.subprocess.Process] = []
    pbx_port = free_port()  # the same PBX each time, as for a user
    alphacom_port = free_port()

    async def start(port: int) -> str:
        for process in running:  # one demo at a time on the same state
            await interrupt(process)
        process = await start_demo(config_dir, port, pbx_port, alphacom_port)
        running.append(process)
        assert process.stdout is not None
        async with asyncio.timeout(300):
            while READY not in (line := (await process.stdout.readline()).decode()):
                if not line:
                    log = (config_dir / "home-assistant.log").read_text()
                    pytest.fail(f"script/demo ended early; Home Assistant log:\n{log[-3000:]}")
        return f"http://127.0.0.1:{port}"

    yield start
    for process in running:
        await interrupt(process)


async def logged_in(session: aiohttp.ClientSession, base: str) -> HomeAssistantApi:
    api = HomeAssistantApi(session, base)
    await api.login("demo", "demo")
    return api


async def check_what_a_new_user_sees(api: HomeAssistantApi) -> list[dict]:
    """No repairs, no failed entries, the PBX's entities there; returns the line sensors."""
    issues = (await api.ws({"type": "repairs/list_issues"}))["issues"]
    assert [(i["domain"], i["issue_id"]) for i in issues if not i.get("dismissed_version")] == []
    entries = await api.ws({"type": "config_entries/get"})
    assert {e["domain"]: e["state"] for e in entries}.get("pbx") == "loaded"
    assert [e["domain"] for e in entries if e["state"] != "loaded"] == []
    http = await api.ws({"type": "http/config"})
    assert http["pending"] is None and http["revert_at"] is None
    states = await api.ws({"type": "get_states"})
    lines = [
        s for s in states
        if s["entity_id"].startswith("sensor.")
        and s["attributes"].get("device_class") == "enum"
        and "ringing" in s["attributes"].get("options", [])
    ]  # fmt: skip
    assert len(lines) >= 4
    return lines


async def check_the_phones_dashboard(api: HomeAssistantApi, lines: set[str]) -> None:
    """Every line's tile shows who is on the other end; ringing has a colour of its own."""
    config = await api.ws({"type": "lovelace/config", "url_path": "pbx-demo"})
    cards = [card for view in config["views"] for card in view["cards"]]
    tiles = [c["card"] for grid in cards for c in grid.get("cards", []) if "card" in c]
    assert {tile["entity"] for tile in tiles} == lines
    assert all("peer_name" in tile["state_content"] for tile in tiles)
    assert {tile.get("color") for tile in tiles} >= {"red", None}
    assert {"sensor.reception_line", "sensor.sales_line"} <= lines  # named, ids follow


async def place_a_call(api: HomeAssistantApi, lines: set[str]) -> str:
    """Let an idle extension call another one; return the caller's sensor.

    The busy-office scenario keeps calling too, so an extension idle a moment ago may be
    busy when the request arrives: then the next idle one is tried.
    """
    for _ in range(5):
        states = {s["entity_id"]: s for s in await api.ws({"type": "get_states"})}
        idle = [e for e in sorted(lines) if states[e]["state"] == "idle"]
        if len(idle) < 2:
            await asyncio.sleep(1)
            continue
        caller, callee = idle[0], idle[-1]
        try:
            await api.ws(
                {
                    "type": "call_service",
                    "domain": "pbx",
                    "service": "make_call",
                    "target": {"entity_id": caller},
                    "service_data": {"number": states[callee]["attributes"]["extension"]},
                }
            )
        except RuntimeError:  # refused: the scenario was faster
            continue
        return caller
    pytest.fail("no idle extension could place a call")


#: The simulated AlphaCom exchange's named stations (the demo names 301 and 306).
INTERCOM: Final = {"sensor.security_desk_line", "sensor.gate_intercom_line"}


async def check_the_intercom(api: HomeAssistantApi, config_dir: Path) -> None:
    """AlphaCom stations are extension devices with line sensors; a display text arrives."""
    states = {s["entity_id"]: s for s in await api.ws({"type": "get_states"})}
    assert set(states) >= INTERCOM
    assert states["sensor.security_desk_line"]["attributes"]["extension"] == "301"
    await api.ws(
        {
            "type": "call_service",
            "domain": "pbx",
            "service": "display_text",
            "target": {"entity_id": "sensor.security_desk_line"},
            "service_data": {"text": "Visitor at gate"},
        }
    )
    log = config_dir / "alphacom-stations.jsonl"
    async with asyncio.timeout(10):
        while True:
            shown = [json.loads(line) for line in log.read_text().splitlines()]
            if any(s["station"] == "301" and s["display"] == "Visitor at gate" for s in shown):
                break
            await asyncio.sleep(0.2)


#: The simulated NBX's named phones (the demo names 401, 402 and 406), where it runs.
NBX: Final = {"sensor.shipping_line", "sensor.loading_dock_line", "sensor.print_room_line"}
NBX_RUNS: Final = why_not() is None


async def check_the_nbx(api: HomeAssistantApi, changes: asyncio.Queue[dict]) -> None:
    """NBX phones are extension devices whose lines ring (busy office) from the frames."""
    states = {s["entity_id"]: s for s in await api.ws({"type": "get_states"})}
    assert set(states) >= NBX
    assert states["sensor.shipping_line"]["attributes"]["extension"] == "401"
    nbx_lines = {e for e, s in states.items() if str(s["attributes"].get("extension"))[:2] == "40"}
    async with asyncio.timeout(30):
        while True:
            new = (await changes.get())["data"].get("new_state") or {}
            if new.get("entity_id") in nbx_lines and new["state"] == "ringing":
                break


def extension_number(state: dict) -> int:
    return int(state["attributes"].get("extension") or 0)


async def entry_ids(api: HomeAssistantApi) -> set[str]:
    return {entry["entry_id"] for entry in await api.ws({"type": "config_entries/get"})}


async def test_the_demo_twice_on_the_same_state(run_demo, tmp_path):
    """The second start (another port) used to hang 300 s; a port change was a trial.

    Nothing is set up again on the second start: a PBX entry made anew renames its entity
    ids once more, and Home Assistant's log then warns about their history.
    """
    async with aiohttp.ClientSession() as session:
        api = await logged_in(session, await run_demo(free_port()))
        await check_what_a_new_user_sees(api)
        first_entries = await entry_ids(api)
        await api.close()

        api = await logged_in(session, await run_demo(free_port()))
        try:
            lines = await check_what_a_new_user_sees(api)
            assert await entry_ids(api) == first_entries
            await check_the_phones_dashboard(api, {s["entity_id"] for s in lines})
            call_events = await api.subscribe_events("pbx_call_event")
            changes = await api.subscribe_events("state_changed")
            line_ids = {s["entity_id"] for s in lines}
            # The branch office, a remote site through mosquitto, rings too (basic-call).
            branch = {"sensor.branch_desk_line", "sensor.branch_workshop_line"}
            if MOSQUITTO is not None:
                assert branch <= line_ids
            ringing: set[str] = set()
            async with asyncio.timeout(45):
                event = await call_events.get()
                assert {"extension", "event", "caller", "device_id"} <= set(event["data"])
                while not (ringing - branch and (ringing & branch or MOSQUITTO is None)):
                    new = (await changes.get())["data"].get("new_state") or {}
                    if new.get("entity_id") in line_ids and new["state"] == "ringing":
                        ringing.add(new["entity_id"])

            await check_the_intercom(api, tmp_path / "home-assistant")
            if NBX_RUNS:
                await check_the_nbx(api, changes)
            states = {s["entity_id"]: s for s in await api.ws({"type": "get_states"})}
            panasonic = {
                e for e in line_ids
                if e not in branch and 100 <= extension_number(states[e]) < 200
            }  # fmt: skip
            caller = await place_a_call(api, panasonic)
            async with asyncio.timeout(15):
                while True:
                    new = (await changes.get())["data"].get("new_state") or {}
                    if new.get("entity_id") == caller and new["state"] != "idle":
                        break
            assert new["state"] in ("dialing", "talking")
        finally:
            await api.close()


async def test_ctrl_c_during_start_up_leaves_nothing_behind(socket_enabled, tmp_path):
    config_dir = tmp_path / "home-assistant"
    port, pbx_port = free_port(), free_port()
    process = await start_demo(config_dir, port, pbx_port)
    assert process.stderr is not None
    async with asyncio.timeout(120):  # Home Assistant is starting now
        while b"Starting Home Assistant" not in await process.stderr.readline():
            pass
    await asyncio.sleep(2)
    assert processes_using(config_dir), "Home Assistant should be running"
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    while (processes_using(config_dir) or process.returncode is None) and (
        time.monotonic() - started < 5
    ):
        await asyncio.sleep(0.05)
    gone_after = time.monotonic() - started
    try:
        assert gone_after < 5, f"still running after {gone_after:.1f} s"
        assert not listening(pbx_port)
        assert not listening(port)
        assert SIMULATOR_SIDE not in {name for _, name in socket.if_nameindex()}
        stderr = (await process.stderr.read()).decode()
        assert "Traceback" not in stderr
        assert process.returncode == 130
    finally:
        for pid in processes_using(config_dir):
            os.kill(pid, signal.SIGKILL)
