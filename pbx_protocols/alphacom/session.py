"""One link to an AlphaCom exchange as a device on it: requests, answers, broadcasts, PING.

The session sends AlphaCom messages from our device (1-64) to the exchange (device 0x41 on
its node) with a reference of its own per request, and matches addressed answers to
requests by that reference. Everything else (broadcasts, DISCONNECTED) goes to the owner.

The simple link layer never answers bad input, and an exchange without the API licence may
answer nothing at all, so the session never depends on answers: a request nobody answers
times out (RequestTimeout) and the link stays up. Liveness: after a quiet spell the session
probes with GET_DEVICE; only an exchange that has answered before and then stays silent
counts as gone (one that never answers is monitored from its broadcasts, logged once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..core.errors import (
    CommandRejected,
    ConnectionClosed,
    ConnectionFailed,
    PbxError,
    Refusal,
    RequestTimeout,
)
from ..core.log_throttle import RepeatedWarning
from ..core.requests import IdAllocator, RequestTracker
from ..core.transport import PduLink, read_until_closed
from ..core.watchdog import DEAD_LINK_TIMEOUT, LivenessMonitor
from .codec import EXCHANGE_DEVICE, Address, Packet, decode_packet, encode_packet
from .messages import (
    COMMAND_OK,
    GET_DEVICE_ID,
    NO_ACCESS_ID,
    PING_ID,
    RESOURCE_BUSY_ID,
    CommandResponse,
    ConnRefAck,
    ConnReference,
    Disconnected,
    DisconnectedAck,
    IllegalParam,
    Message,
    Pong,
    StationBusy,
    StationDown,
    UnknownMessage,
)

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT: Final = 5.0
#: References are two bytes; 0 is left out so that a zero in a reply never matches.
MAX_REFERENCE: Final = 0xFFFF
#: Device numbers an external device may use.
FIRST_CLIENT_DEVICE: Final = 1
LAST_CLIENT_DEVICE: Final = 64

ANSWER_GRACE: Final = 0.5
"""Seconds a command without a documented answer waits for a refusal (ILLEGAL_PARAM or a
negative COMMAND_RESPONSE) before it counts as accepted. Unverified: which commands the
exchange answers with COMMAND_RESPONSE is not documented per message; silence is normal."""

#: Answers that refuse a request, and what they mean to a person.
_REFUSALS: Final = {
    StationBusy.MESSAGE_ID: Refusal.NUMBER_BUSY,
    StationDown.MESSAGE_ID: Refusal.NUMBER_OUT_OF_SERVICE,
    RESOURCE_BUSY_ID: Refusal.PBX_BUSY,
    NO_ACCESS_ID: Refusal.NOT_ALLOWED,
}
#: What an ILLEGAL_PARAM about a parameter of our requests means: the acting station is
#: parameter 1 of every station order, the number called parameter 2 of CALL_SETUP.
_ILLEGAL_PARAMETER: Final = {
    **{
        (operation, 1): Refusal.EXTENSION_UNKNOWN
        for operation in (
            "make_call",
            "answer_call",
            "hang_up",
            "dial_digits",
            "display_text",
            "transfer_call",
        )
    },
    ("make_call", 2): Refusal.NUMBER_UNKNOWN,
    ("send_message", 2): Refusal.EXTENSION_UNKNOWN,
    ("transfer_call", 2): Refusal.NUMBER_UNKNOWN,
}
#: COMMAND_RESPONSE statuses other than success.
_COMMAND_STATUS: Final = {
    2: ("the target is busy", Refusal.NUMBER_BUSY),
    3: ("the exchange is busy", Refusal.PBX_BUSY),
    4: ("access not allowed", Refusal.NOT_ALLOWED),
    5: ("the target is busy (queued)", Refusal.NUMBER_BUSY),
    6: ("the target is absent or faulty", Refusal.NUMBER_OUT_OF_SERVICE),
}


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Who we are on the exchange's network and how patient we are."""

    node: int = 1
    device: int = 1
    link_timeout: float = DEAD_LINK_TIMEOUT
    request_timeout: float = REQUEST_TIMEOUT


def refusal_error(operation: str, packet: Packet) -> CommandRejected | None:
    """The error an answer stands for, or None if it is not a refusal."""
    message = packet.message
    if isinstance(message, IllegalParam):
        where = f"parameter {message.parameter}" if message.parameter else "the message"
        refusal = _ILLEGAL_PARAMETER.get((operation, message.parameter or 0), Refusal.OTHER)
        return CommandRejected(operation, f"the exchange did not accept {where}", refusal)
    if isinstance(message, CommandResponse):
        if message.status == COMMAND_OK:
            return None
        reason, refusal = _COMMAND_STATUS.get(
            message.status, (f"status {message.status}", Refusal.OTHER)
        )
        return CommandRejected(operation, reason, refusal)
    negative = _REFUSALS.get(message.message_id)
    if negative is not None:
        return CommandRejected(operation, message.name, negative)
    return None


class AlphaComSession:
    """An AlphaCom device's view of one link (single use)."""

    def __init__(
        self,
        link: PduLink,
        settings: SessionSettings,
        on_packet: Callable[[Packet], None],
    ) -> None:
        self._link = link
        self.settings = settings
        self.address = Address(settings.node, settings.device)
        self.exchange = Address(settings.node, EXCHANGE_DEVICE)
        self._on_packet = on_packet
        self._requests: RequestTracker[Packet] = RequestTracker()
        self._references = IdAllocator(MAX_REFERENCE, self._requests.__contains__)
        self._three_way: set[int] = set()
        self._liveness = LivenessMonitor(settings.link_timeout, self._quiet, self._probe)
        self._closed: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._bad = RepeatedWarning(_LOGGER)
        self._silence_logged = False
        #: Whether the exchange has answered any request of ours on this link.
        self.answers_requests = False

    @property
    def description(self) -> str:
        """The link this session runs on."""
        return self._link.description

    @property
    def closed(self) -> bool:
        """Whether the session has ended."""
        return self._closed.done()

    def start(self) -> None:
        """Start reading and watching the link."""
        self._reader = asyncio.create_task(self._read_loop(), name=f"AlphaCom {self.description}")
        self._liveness.start()

    async def wait_closed(self) -> BaseException | None:
        """Wait until the session ends; return the reason (None after close())."""
        return await asyncio.shield(self._closed)

    async def close(self) -> None:
        """Stop and close the link."""
        self._finish(None)
        tasks = [t for t in (self._reader, *self._tasks) if t and t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._link.close()
        self._bad.flush()

    # -- sending ------------------------------------------------------------------------

    async def send(self, message: Message, *, reference: int = 0) -> None:
        """Send one message to the exchange (no answer expected)."""
        if self._closed.done():
            raise ConnectionClosed(f"{self.description}: session closed")
        packet = Packet(self.address, self.exchange, reference, message)
        await self._link.send(encode_packet(packet))

    async def request(
        self,
        operation: str,
        message: Message,
        *,
        wait: float | None = None,
        three_way: bool = False,
    ) -> Packet:
        """Send ``message`` and return the exchange's answer to it.

        Refusals (STATION_BUSY, ILLEGAL_PARAM, a negative COMMAND_RESPONSE, ...) raise
        CommandRejected; silence raises RequestTimeout.
        """
        if self._closed.done():
            raise ConnectionClosed(f"{self.description}: session closed")
        reference = self._references.next()
        wait = (self.settings.request_timeout if wait is None else wait) + self._link.send_delay
        with self._requests.expect(reference) as answer:
            if three_way:
                self._three_way.add(reference)
            await self.send(message, reference=reference)
            try:
                async with asyncio.timeout(wait):
                    packet = await answer
            except TimeoutError as err:
                raise RequestTimeout(operation, wait) from err
        if (error := refusal_error(operation, packet)) is not None:
            raise error
        # Anything else with our reference is success: the answer asked for, or a positive
        # COMMAND_RESPONSE (which newer firmware may send instead).
        return packet

    async def command(self, operation: str, message: Message, grace: float = ANSWER_GRACE) -> None:
        """Send a command whose answer is not documented; raise if the exchange refuses it."""
        with contextlib.suppress(RequestTimeout):
            await self.request(operation, message, wait=grace)

    # -- receiving ----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        failure = await read_until_closed(
            self._link, decode_packet, self._dispatch, received=self._liveness.feed, bad=self._bad
        )
        self._finish(failure)
        await self._link.close()

    async def _dispatch(self, packet: Packet) -> None:
        if not packet.dst.is_broadcast and packet.dst.device != self.address.device:
            _LOGGER.debug("Ignoring a message for device %d", packet.dst.device)
            return
        message = packet.message
        if isinstance(message, UnknownMessage) and message.message_id == PING_ID:
            await self._answer(Pong(), packet.reference)
            return
        if not packet.dst.is_broadcast and self._requests.resolve(packet.reference, packet):
            self.answers_requests = True
            if isinstance(message, ConnReference) and packet.reference in self._three_way:
                await self._answer(ConnRefAck(message.connection or 0), packet.reference)
            return
        if isinstance(message, Disconnected) and packet.reference in self._three_way:
            self._three_way.discard(packet.reference)
            await self._answer(DisconnectedAck(message.connection), packet.reference)
        self._on_packet(packet)

    async def _answer(self, message: Message, reference: int) -> None:
        with contextlib.suppress(PbxError):
            await self.send(message, reference=reference)

    # -- liveness -----------------------------------------------------------------------

    def _probe(self) -> None:
        task = asyncio.create_task(self._send_probe(), name=f"AlphaCom probe {self.description}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_probe(self) -> None:
        # Whatever comes back (or nothing) is judged by the liveness monitor.
        with contextlib.suppress(PbxError):
            await self.request("probe", UnknownMessage(GET_DEVICE_ID))

    def _quiet(self) -> None:
        """The link stayed silent through a probe."""
        if self.answers_requests:
            timeout = self._liveness.timeout
            self._finish(ConnectionFailed(f"no answer from the exchange for {timeout:g} s"))
            task = asyncio.create_task(self._link.close())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        if not self._silence_logged:
            self._silence_logged = True
            _LOGGER.info(
                "%s answers no requests; following its broadcasts (is an external device "
                "defined on this port, and the API licence installed?)",
                self.description,
            )
        self._liveness.start()

    def _finish(self, reason: BaseException | None) -> None:
        self._liveness.stop()
        if not self._closed.done():
            self._closed.set_result(reason)
        self._requests.fail_all(
            lambda: ConnectionClosed(f"{self.description}: {reason or 'session closed'}")
        )
