"""End to end: ``script/demo`` runs a real Home Assistant, driven over its WebSocket API.

Logs in as demo/demo the way the frontend does (login flow, token, WebSocket auth), reads
the states, waits for a ringing extension and a pbx_call_event, and calls pbx.make_call.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

ROOT = Path(__file__).parents[1]
READY = "Home Assistant is ready"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Frontend:
    """What the Home Assistant frontend does over HTTP and the WebSocket."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ids = 0
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.results: dict[int, asyncio.Future[Any]] = {}
        self.reader: asyncio.Task[None] | None = None

    async def login(self, username: str, password: str) -> None:
        client_id = f"{self.base}/"
        async with self.session.post(
            f"{self.base}/auth/login_flow",
            json={
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": client_id,
            },
        ) as response:
            flow = await response.json()
        async with self.session.post(
            f"{self.base}/auth/login_flow/{flow['flow_id']}",
            json={"client_id": client_id, "username": username, "password": password},
        ) as response:
            code = (await response.json())["result"]
        async with self.session.post(
            f"{self.base}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        ) as response:
            token = (await response.json())["access_token"]
        self.ws = await self.session.ws_connect(f"{self.base}/api/websocket")
        assert (await self.ws.receive_json())["type"] == "auth_required"
        await self.ws.send_json({"type": "auth", "access_token": token})
        assert (await self.ws.receive_json())["type"] == "auth_ok"
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            data = message.json()
            if data["type"] == "event":
                self.events.put_nowait(data["event"])
            elif data["type"] == "result" and data["id"] in self.results:
                future = self.results.pop(data["id"])
                if data["success"]:
                    future.set_result(data["result"])
                else:
                    future.set_exception(RuntimeError(data["error"]))

    async def call(self, message: dict[str, Any]) -> Any:
        assert self.ws is not None
        self.ids += 1
        future = asyncio.get_running_loop().create_future()
        self.results[self.ids] = future
        await self.ws.send_json({"id": self.ids, **message})
        async with asyncio.timeout(30):
            return await future

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


async def place_a_call(frontend: Frontend, lines: set[str]) -> str:
    """Let an idle extension call another one; return the caller's sensor.

    The busy-office scenario keeps calling too, so an extension idle a moment ago may be
    busy when the request arrives: then the next idle one is tried.
    """
    for _ in range(5):
        states = {s["entity_id"]: s for s in await frontend.call({"type": "get_states"})}
        idle = [e for e in sorted(lines) if states[e]["state"] == "idle"]
        if len(idle) < 2:
            await asyncio.sleep(1)
            continue
        caller, callee = idle[0], idle[-1]
        try:
            await frontend.call(
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


@pytest.fixture
async def demo(socket_enabled, tmp_path) -> AsyncIterator[str]:
    """``script/demo`` on free ports, until its Home Assistant is ready."""
    port, pbx_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        str(ROOT / "script" / "demo"),
        "--port", str(port),
        "--pbx-port", str(pbx_port),
        "--config-dir", str(tmp_path / "home-assistant"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        async with asyncio.timeout(300):
            while READY not in (line := (await process.stdout.readline()).decode()):
                if not line:
                    log = (tmp_path / "home-assistant" / "home-assistant.log").read_text()
                    pytest.fail(f"script/demo ended early; Home Assistant log:\n{log[-3000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        async with asyncio.timeout(90):
            await process.wait()


@pytest.mark.timeout(600)
@pytest.mark.skipif(sys.platform != "linux", reason="the demo builds on Linux")
async def test_demo_home_assistant_over_websocket(demo):
    async with aiohttp.ClientSession() as session:
        frontend = Frontend(session, demo)
        await frontend.login("demo", "demo")
        try:
            states = await frontend.call({"type": "get_states"})
            lines = [
                s for s in states
                if s["entity_id"].startswith("sensor.")
                and s["attributes"].get("device_class") == "enum"
                and "ringing" in s["attributes"].get("options", [])
            ]  # fmt: skip
            assert len(lines) >= 2

            await frontend.call({"type": "subscribe_events", "event_type": "pbx_call_event"})
            await frontend.call({"type": "subscribe_events", "event_type": "state_changed"})
            saw_ringing = saw_call_event = False
            async with asyncio.timeout(45):
                while not (saw_ringing and saw_call_event):
                    event = await frontend.events.get()
                    if event["event_type"] == "pbx_call_event":
                        saw_call_event = True
                        assert {"extension", "event", "caller", "device_id"} <= set(event["data"])
                    elif (new := event["data"].get("new_state")) and new["state"] == "ringing":
                        saw_ringing = new["entity_id"] in {s["entity_id"] for s in lines}

            caller = await place_a_call(frontend, {s["entity_id"] for s in lines})
            async with asyncio.timeout(15):
                while True:
                    current = {
                        s["entity_id"]: s for s in await frontend.call({"type": "get_states"})
                    }
                    if current[caller]["state"] != "idle":
                        break
                    await asyncio.sleep(0.2)
            assert current[caller]["state"] in ("dialing", "talking")
        finally:
            await frontend.close()
