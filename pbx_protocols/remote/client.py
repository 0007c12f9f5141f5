"""RemoteClient: a PBX behind a bridge, through any pub/sub, as the core client API.

Everything that works on a local PBX works on a remote one: extension snapshots, events,
call records and call control (commands answered by request id). The link counts as up
while the site's bridge is online *and* its own PBX link is up; the core supervisor then
handles outages as for any other stack.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final

from ..core.client import PbxClient
from ..core.errors import (
    CommandRejected,
    ConnectionClosed,
    ConnectionFailed,
    InvalidInput,
    NoMatchingCall,
    PbxError,
    ProtocolError,
    Refusal,
    RequestTimeout,
    UnsupportedOperation,
)
from ..core.log_throttle import RepeatedWarning
from ..core.model import CallInfo, Capability, ConnectionState, LineState, PbxInfo
from ..core.reconnect import ReconnectPolicy
from .pubsub import PubSub
from .scheme import (
    DEFAULT_PREFIX,
    MAX_SITE_EXTENSIONS,
    MAX_TEXT,
    Topics,
    check_site,
    decode,
    encode,
    event_from,
    info_from,
    record_from,
    snapshot_from,
)

_LOGGER = logging.getLogger(__name__)

#: How long connecting waits for the site's bridge to say it is online.
ANNOUNCE_TIMEOUT: Final = 10.0
#: How long a command waits for the bridge's answer (a transfer waits for the target too).
COMMAND_TIMEOUT: Final = 15.0
#: Commands waiting for an answer at once (the broker could drop answers; none piles up).
MAX_PENDING_COMMANDS: Final = 64


class _SiteSession:
    """One period in which the site is online; ends when its bridge or PBX link goes."""

    def __init__(self) -> None:
        self._closed: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )

    def end(self, reason: BaseException | None) -> None:
        if not self._closed.done():
            self._closed.set_result(reason)

    @property
    def ended(self) -> bool:
        return self._closed.done()

    async def wait_closed(self) -> BaseException | None:
        return await asyncio.shield(self._closed)

    async def close(self) -> None:
        self.end(None)


class RemoteClient(PbxClient):
    """A PBX published by ``pbx-protocols bridge`` on a broker, as ``site``."""

    def __init__(
        self,
        pubsub: PubSub,
        site: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        name: str | None = None,
        close_pubsub: Callable[[], Awaitable[None]] | None = None,
        reconnect_policy: ReconnectPolicy | None = None,
    ) -> None:
        super().__init__(
            name=name or f"remote PBX {check_site(site)}", reconnect_policy=reconnect_policy
        )
        self.pubsub = pubsub
        self.topics = Topics(site, prefix)
        self._close_pubsub = close_pubsub
        self._info: PbxInfo | None = None
        self._expected: list[str] = []
        self._bridge_online = False
        self._link = ConnectionState.DISCONNECTED
        self._announced = asyncio.Event()
        self._site_session: _SiteSession | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._bad = RepeatedWarning(_LOGGER)

    @property
    def info(self) -> PbxInfo:
        """What the bridge said the PBX is (placeholders until it said)."""
        return self._info or PbxInfo(
            "unknown", "unknown", f"remote:{self.topics.site}", self.name, location=self.topics.site
        )

    async def close(self) -> None:
        """Close the link, unsubscribe, and close the pub/sub if it is ours."""
        await super().close()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._close_pubsub is not None:
            await self._close_pubsub()

    # -- session --------------------------------------------------------------------------

    async def _open_session(self) -> _SiteSession:
        if not self._unsubscribe:
            topics = self.topics
            for topic_filter, handler in (
                (topics.status, self._on_status),
                (topics.info, self._on_info),
                (topics.extensions, self._on_extension),
                (topics.event, self._on_event),
                (topics.record, self._on_record),
                (topics.responses, self._on_response),
            ):
                self._unsubscribe.append(await self.pubsub.subscribe(topic_filter, handler))
            self._unsubscribe.append(self.pubsub.subscribe_connection(self._on_broker))
        try:
            async with asyncio.timeout(ANNOUNCE_TIMEOUT):
                while not self._site_up():
                    self._announced.clear()
                    await self._announced.wait()
        except TimeoutError as err:
            raise ConnectionFailed(
                f"no bridge announces site {self.topics.site!r} with its PBX link up"
            ) from err
        self._site_session = session = _SiteSession()
        return session

    async def _resynchronise(self, session: Any) -> None:  # noqa: ANN401  # core's Session
        """Wait (briefly) for every extension the bridge listed to arrive."""
        try:
            async with asyncio.timeout(ANNOUNCE_TIMEOUT):
                while any(number not in self.tracker for number in self._expected):
                    self._announced.clear()
                    await self._announced.wait()
        except TimeoutError:
            missing = [n for n in self._expected if n not in self.tracker]
            _LOGGER.info("%s: %d extension(s) not announced yet", self.name, len(missing))

    def _site_up(self) -> bool:
        return self._bridge_online and self._link is ConnectionState.CONNECTED and bool(self._info)

    # -- what the bridge publishes -----------------------------------------------------------

    def _read(self, topic: str, data: bytes) -> dict[str, Any] | None:
        if not data:
            return {}  # a retained message cleared
        try:
            return decode(data)
        except ProtocolError as err:
            self._bad.report("Ignoring a message on %s: %s", topic, err)
            return None

    def _on_status(self, topic: str, data: bytes) -> None:
        payload = self._read(topic, data)
        if payload is None:
            return
        self._bridge_online = payload.get("state") == "online"
        try:
            self._link = ConnectionState(payload.get("link", "disconnected"))
        except ValueError:
            self._link = ConnectionState.DISCONNECTED
        if not self._site_up() and self._site_session is not None:
            why = "the bridge is offline" if not self._bridge_online else "its PBX link is down"
            self._site_session.end(ConnectionClosed(f"site {self.topics.site}: {why}"))
        self._announced.set()

    def _on_broker(self, connected: bool) -> None:
        """Without the broker nothing of the site is current; its retained status comes back."""
        if not connected:
            self._bridge_online = False
            if self._site_session is not None:
                self._site_session.end(ConnectionClosed("the MQTT broker connection is down"))

    def _on_info(self, topic: str, data: bytes) -> None:
        payload = self._read(topic, data)
        if not payload:
            return
        try:
            site = info_from(payload, self.name)
        except ProtocolError as err:
            self._bad.report("Ignoring info on %s: %s", topic, err)
            return
        self._info = dataclasses.replace(site.info, location=self.topics.site)
        self.capabilities = site.capabilities
        self.max_text_length = site.max_text_length
        self._expected = site.extensions
        self._announced.set()

    def _on_extension(self, topic: str, data: bytes) -> None:
        number = self.topics.number_of(topic)
        payload = self._read(topic, data)
        if number is None or payload is None:
            return
        if not payload:  # the PBX no longer has it
            self.tracker.remove_extension(number)
            self._publish()
            return
        try:
            snapshot = snapshot_from(payload)
            if snapshot.number != number:
                raise ProtocolError(f"the payload is extension {snapshot.number!r}")
            if number not in self.tracker and len(self.tracker) >= MAX_SITE_EXTENSIONS:
                raise ProtocolError(f"more than {MAX_SITE_EXTENSIONS} extensions announced")
        except ProtocolError as err:
            self._bad.report("Ignoring %s: %s", topic, err)
            return
        tracker = self.tracker
        tracker.add_extension(
            number, snapshot.name, monitored=snapshot.line_state is not LineState.UNKNOWN
        )
        # The bridge sends the events itself: what resynchronising would report is dropped.
        tracker.resynchronise(number, snapshot.calls)
        tracker.set_online(number, snapshot.line_state is not LineState.OFFLINE)
        self._publish()
        self._announced.set()

    def _on_event(self, topic: str, data: bytes) -> None:
        payload = self._read(topic, data)
        if not payload:
            return
        try:
            event = event_from(payload)
        except ProtocolError as err:
            self._bad.report("Ignoring an event on %s: %s", topic, err)
            return
        self._publish([event])

    def _on_record(self, topic: str, data: bytes) -> None:
        payload = self._read(topic, data)
        if not payload:
            return
        try:
            self._publish_record(record_from(payload))
        except ProtocolError as err:
            self._bad.report("Ignoring a record on %s: %s", topic, err)

    def _on_response(self, topic: str, data: bytes) -> None:
        payload = self._read(topic, data)
        if not payload:
            return
        waiter = self._pending.get(str(payload.get("id")))
        if waiter is not None and not waiter.done():
            waiter.set_result(payload)

    # -- call control ---------------------------------------------------------------------------

    async def _command(self, action: Capability, extension: str, **arguments: str | None) -> None:
        if len(self._pending) >= MAX_PENDING_COMMANDS:
            raise CommandRejected(action.value, "too many commands waiting", Refusal.PBX_BUSY)
        request_id = uuid.uuid4().hex[:16]
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answer
        payload = {"id": request_id, "extension": extension}
        payload.update({key: value for key, value in arguments.items() if value is not None})
        try:
            await self.pubsub.publish(self.topics.command(action.value), encode(payload), qos=1)
            async with asyncio.timeout(COMMAND_TIMEOUT):
                response = await answer
        except TimeoutError as err:
            raise RequestTimeout(action.value, COMMAND_TIMEOUT) from err
        finally:
            self._pending.pop(request_id, None)
        if response.get("ok") is not True:
            detail = response.get("error")
            raise _error_from(action, extension, detail if isinstance(detail, dict) else {})

    async def _make_call(self, extension: str, number: str) -> None:
        await self._command(Capability.MAKE_CALL, extension, number=number)

    async def _answer_call(self, extension: str, call: CallInfo) -> None:
        await self._command(Capability.ANSWER_CALL, extension, call_id=call.call_id)

    async def _hang_up(self, extension: str, call: CallInfo) -> None:
        await self._command(Capability.HANG_UP, extension, call_id=call.call_id)

    async def _hold_call(self, extension: str, call: CallInfo) -> None:
        await self._command(Capability.HOLD_CALL, extension, call_id=call.call_id)

    async def _retrieve_call(self, extension: str, call: CallInfo) -> None:
        await self._command(Capability.RETRIEVE_CALL, extension, call_id=call.call_id)

    async def _transfer_call(self, extension: str, call: CallInfo, number: str) -> str | None:
        # The bridge waits for the target to ring before it answers.
        await self._command(
            Capability.TRANSFER_CALL, extension, number=number, call_id=call.call_id
        )
        return None

    async def _dial_digits(self, extension: str, call: CallInfo, digits: str) -> None:
        await self._command(Capability.DIAL_DIGITS, extension, digits=digits, call_id=call.call_id)

    async def _display_text(self, extension: str, text: str) -> None:
        await self._command(Capability.DISPLAY_TEXT, extension, text=text)

    async def _send_message(self, extension: str, text: str) -> None:
        await self._command(Capability.SEND_MESSAGE, extension, text=text)


def _error_from(action: Capability, extension: str, detail: dict[str, Any]) -> PbxError:
    """The bridge's typed error, as the library's own."""
    kind = str(detail.get("type"))[:MAX_TEXT]
    message = str(detail.get("message") or "the bridge refused")[:MAX_TEXT]
    if kind == "InvalidInput":
        return InvalidInput(message)
    if kind == "NoMatchingCall":
        return NoMatchingCall(message, extension=extension, action=action.value)
    if kind == "UnsupportedOperation":
        return UnsupportedOperation(message, action=action.value)
    if kind in ("CommandRejected", "RequestTimeout"):
        try:
            refusal = Refusal(detail.get("refusal") or Refusal.OTHER)
        except ValueError:
            refusal = Refusal.OTHER
        reason = str(detail.get("reason") or message)[:MAX_TEXT]
        return CommandRejected(action.value, reason, refusal)
    if "Connection" in kind:
        return ConnectionFailed(message)
    return PbxError(message)
