"""Home Assistant's HTTP and WebSocket APIs, used the way its frontend uses them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Final

import aiohttp

from .hass_process import HomeAssistantProcess

#: Decoded JSON, as Home Assistant's APIs answer it.
type Json = Any

#: How long a WebSocket command may take before the caller is told.
COMMAND_TIMEOUT: Final = 60.0


class HomeAssistantApi:
    """REST and WebSocket calls as an authenticated user; events arrive in queues."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.client_id = f"{base}/"
        self.token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = 0
        self._results: dict[int, asyncio.Future[Json]] = {}
        self._subscriptions: dict[int, asyncio.Queue[Json]] = {}

    @property
    def headers(self) -> dict[str, str]:
        """The user's bearer token."""
        return {"Authorization": f"Bearer {self.token}"}

    # -- HTTP -----------------------------------------------------------------------------

    async def wait_until_up(self, process: HomeAssistantProcess) -> None:
        """Wait until the HTTP server answers at all; raise if Home Assistant exits first."""
        while True:
            if process.returncode is not None:
                raise process.exited_error()
            with contextlib.suppress(aiohttp.ClientError):
                # Served without a login (an API path would log a failed login each time).
                async with self.session.get(f"{self.base}/manifest.json") as response:
                    if response.status < 500:
                        return
            await asyncio.sleep(0.5)

    async def request(self, method: str, path: str, **kwargs: Json) -> Json:
        """Call a REST endpoint; return its JSON answer."""
        async with self.session.request(method, f"{self.base}{path}", **kwargs) as response:
            text = await response.text()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {text}")
            return json.loads(text) if text else None

    async def onboarding_needed(self) -> bool:
        """Whether the owner still has to be created (the onboarding API is gone after)."""
        async with self.session.get(f"{self.base}/api/onboarding") as response:
            if response.status == 404:
                return False
            steps = await response.json()
        return not any(step["step"] == "user" and step["done"] for step in steps)

    async def create_owner(self, name: str, username: str, password: str) -> None:
        """Create the owner through onboarding and log in as them."""
        user = {
            "client_id": self.client_id,
            "name": name,
            "username": username,
            "password": password,
            "language": "en",
        }
        answer = await self.request("POST", "/api/onboarding/users", json=user)
        await self._token(answer["auth_code"])

    async def login(self, username: str, password: str) -> None:
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
            json={"client_id": self.client_id, "username": username, "password": password},
        )
        await self._token(result["result"])

    async def _token(self, code: str) -> None:
        data = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        self.token = (await self.request("POST", "/auth/token", data=data))["access_token"]

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

    # -- WebSocket ------------------------------------------------------------------------

    async def ws(self, message: dict[str, Json]) -> Json:
        """Send one WebSocket command and return its result."""
        message_id, future = await self._send(message)
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                return await future
        finally:
            self._results.pop(message_id, None)

    async def subscribe_events(self, event_type: str | None = None) -> asyncio.Queue[Json]:
        """Subscribe to bus events (all if no type); they arrive in the returned queue."""
        message: dict[str, Json] = {"type": "subscribe_events"}
        if event_type is not None:
            message["event_type"] = event_type
        return await self.subscribe(message)

    async def subscribe_entities(self) -> asyncio.Queue[Json]:
        """Follow every entity as the frontend does: all states, then compressed diffs."""
        return await self.subscribe({"type": "subscribe_entities"})

    async def subscribe(self, message: dict[str, Json]) -> asyncio.Queue[Json]:
        """Send a subscription; its events arrive in the returned queue."""
        queue: asyncio.Queue[Json] = asyncio.Queue()
        message_id, future = await self._send(message, queue)
        async with asyncio.timeout(COMMAND_TIMEOUT):
            await future
        self._results.pop(message_id, None)
        return queue

    async def wait_running(self) -> None:
        """Wait until Home Assistant has finished starting (core state RUNNING)."""
        # Polled: an event could have fired before the subscription.
        while (await self.ws({"type": "get_config"}))["state"] != "RUNNING":  # noqa: ASYNC110
            await asyncio.sleep(0.5)

    async def _send(
        self, message: dict[str, Json], events: asyncio.Queue[Json] | None = None
    ) -> tuple[int, asyncio.Future[Json]]:
        websocket = await self._websocket()
        self._ids += 1
        future: asyncio.Future[Json] = asyncio.get_running_loop().create_future()
        self._results[self._ids] = future
        if events is not None:
            self._subscriptions[self._ids] = events
        await websocket.send_json({"id": self._ids, **message})
        return self._ids, future

    async def _websocket(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is None:
            websocket = await self.session.ws_connect(f"{self.base}/api/websocket", max_msg_size=0)
            await websocket.receive_json()
            await websocket.send_json({"type": "auth", "access_token": self.token})
            if (await websocket.receive_json())["type"] != "auth_ok":
                raise RuntimeError("WebSocket authentication failed")
            # As the frontend does: messages queued together arrive as one JSON array
            # (one write instead of one per state change); the result is not awaited.
            self._ids += 1
            features = {"coalesce_messages": 1}
            await websocket.send_json(
                {"id": self._ids, "type": "supported_features", "features": features}
            )
            self._ws = websocket
            self._reader = asyncio.create_task(self._read(websocket))
        return self._ws

    async def _read(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in websocket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            for item in data if isinstance(data, list) else [data]:  # coalesced messages
                self._dispatch(item)
        for future in self._results.values():
            if not future.done():
                future.set_exception(ConnectionError("Home Assistant closed the WebSocket"))

    def _dispatch(self, item: Json) -> None:
        if item.get("type") == "event":
            if (queue := self._subscriptions.get(item["id"])) is not None:
                queue.put_nowait(item["event"])
            return
        future = self._results.get(item.get("id", -1))
        if item.get("type") != "result" or future is None or future.done():
            return
        if item["success"]:
            future.set_result(item.get("result"))
        else:
            error = item.get("error", {})
            future.set_exception(RuntimeError(f"{error.get('code')}: {error.get('message')}"))

    async def close(self) -> None:
        """Close the WebSocket."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
