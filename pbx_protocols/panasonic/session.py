"""One CSTA association with a Panasonic PBX over one PDU link (single use).

The session associates (ACSE), answers keepalives by the Panasonic rule, matches ROSE
answers to requests by invoke id, and hands event reports to its owner. Whatever ends it
(link loss, missing keepalives, an abort from the PBX) is reported once through
:meth:`wait_closed`; reconnecting is the client's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

from ..core.errors import (
    AuthenticationFailed,
    CommandRejected,
    ConnectionClosed,
    ConnectionFailed,
    ProtocolError,
    RequestTimeout,
)
from ..core.requests import IdAllocator, RequestTracker
from ..core.transport import PduLink
from ..core.watchdog import Watchdog
from .codec import (
    Aare,
    Aarq,
    Abort,
    Asn1Value,
    Credentials,
    Invoke,
    Pdu,
    Reject,
    ReleaseRequest,
    ReleaseResponse,
    ReturnError,
    ReturnResult,
    decode_pdu,
)
from .kme import KmeDevice, LinkedReply, device_list_request, parse_linked_reply, pos_ack_cross_ref
from .operations import Opcode, operation_name
from .spec import async_load_specification

_LOGGER = logging.getLogger(__name__)

FIRST_SYSTEM_STATUS_UNANSWERED: Final = True
"""The systemStatus that follows the AARE must not be answered; every later one must.

Seed document (Panasonic KX-TDA PBX support for Linux): answering the first made the PBX
ignore later requests; not answering later ones stops monitoring events. LinTcMon, which
works against real PBXs, does the same.
"""

#: The PBX sends systemStatus "in random time intervals (ca 60 s)" (seed); three missed
#: intervals declare the link dead. LinTcMon gives up after 5 minutes.
KEEPALIVE_TIMEOUT: Final = 180.0
ASSOCIATION_TIMEOUT: Final = 10.0
REQUEST_TIMEOUT: Final = 5.0
RELEASE_TIMEOUT: Final = 2.0
#: LinTcMon wraps invoke ids at 32767 (positive two-byte INTEGERs).
MAX_INVOKE_ID: Final = 32767
#: Device-list segments kept for a cross reference nobody asked about (a confused PBX).
MAX_UNCLAIMED_SEGMENTS: Final = 256

type ReturnPdu = ReturnResult | ReturnError | Reject


class CstaSession:
    """An ACSE association carrying CSTA operations."""

    def __init__(
        self,
        link: PduLink,
        *,
        on_event: Callable[[dict[str, Any]], None],
        keepalive_timeout: float = KEEPALIVE_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self._link = link
        self._on_event = on_event
        self._request_timeout = request_timeout
        self._keepalive_timeout = keepalive_timeout
        self._requests: RequestTracker[ReturnPdu] = RequestTracker()
        self._invoke_ids = IdAllocator(MAX_INVOKE_ID, self._requests.__contains__)
        self._watchdog = Watchdog(keepalive_timeout, self._keepalive_missing)
        self._system_status_count = 0
        self._association: asyncio.Future[Aare] | None = None
        self._release: asyncio.Future[None] | None = None
        self._segments: defaultdict[bytes, asyncio.Queue[LinkedReply]] = defaultdict(asyncio.Queue)
        self._closed: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._reader: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._associated = False

    @property
    def description(self) -> str:
        """The link this session runs on."""
        return self._link.description

    # -- lifecycle ----------------------------------------------------------------------

    async def open(self, credentials: Credentials | None = None) -> Aare:
        """Associate with the PBX; raise ConnectionFailed or AuthenticationFailed if refused."""
        await async_load_specification()
        self._reader = asyncio.create_task(
            self._read_loop(), name=f"CSTA reader {self.description}"
        )
        self._association = asyncio.get_running_loop().create_future()
        await self._send(Aarq(credentials=credentials))
        try:
            async with asyncio.timeout(ASSOCIATION_TIMEOUT):
                aare = await asyncio.shield(self._association)
        except TimeoutError as err:
            raise ConnectionFailed(
                f"{self.description}: no association response within {ASSOCIATION_TIMEOUT:g} s"
            ) from err
        if not aare.accepted:
            reason = f"{aare.result_name} ({aare.diagnostic_name})"
            if aare.authentication_failed:
                raise AuthenticationFailed(f"the PBX refused the login: {reason}")
            raise ConnectionFailed(f"the PBX refused the association: {reason}")
        self._associated = True
        self._watchdog.start()
        return aare

    async def wait_closed(self) -> BaseException | None:
        """Wait until the session ends; return the reason (None after close())."""
        return await asyncio.shield(self._closed)

    async def close(self) -> None:
        """Release the association politely, then close the link."""
        if self._associated and not self._closed.done():
            self._release = asyncio.get_running_loop().create_future()
            with contextlib.suppress(ConnectionFailed, TimeoutError):
                await self._send(ReleaseRequest())
                async with asyncio.timeout(RELEASE_TIMEOUT):
                    await self._release
        self._finish(None)
        await self._shutdown()
        if self._closing is not None:
            await self._closing

    async def _shutdown(self) -> None:
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._link.close()

    def _finish(self, reason: BaseException | None) -> None:
        """Record why the session ended (once) and fail everything still waiting."""
        self._watchdog.stop()
        self._associated = False
        if not self._closed.done():
            self._closed.set_result(reason)
        if self._association is not None and not self._association.done():
            self._association.set_exception(reason or ConnectionClosed("session closed"))
            self._association.exception()  # retrieved here; open() re-raises its own error
        self._requests.fail_all(
            lambda: ConnectionClosed(f"{self.description}: {reason or 'session closed'}")
        )

    # -- requests -----------------------------------------------------------------------

    async def invoke(self, opcode: Opcode, argument: Asn1Value) -> Asn1Value:
        """Invoke a CSTA operation and return its result value.

        Raises CommandRejected (ReturnError or Reject), RequestTimeout, ConnectionClosed.
        """
        if self._closed.done():
            raise ConnectionClosed(f"{self.description}: session closed")
        invoke_id = self._invoke_ids.next()
        name = operation_name(opcode)
        with self._requests.expect(invoke_id) as answer:
            await self._send(Invoke(invoke_id, opcode, argument))
            try:
                async with asyncio.timeout(self._request_timeout):
                    reply = await answer
            except TimeoutError as err:
                raise RequestTimeout(name, self._request_timeout) from err
        if isinstance(reply, ReturnResult):
            return reply.result
        raise CommandRejected(name, reply.reason)

    async def device_list(self) -> list[KmeDevice]:
        """Read the PBX's extensions through the KME device list (all segments)."""
        result = await self.invoke(Opcode.ESCAPE, device_list_request())
        cross_ref = pos_ack_cross_ref(result)
        if cross_ref is None:
            raise CommandRejected("escape", "the PBX did not acknowledge the device list request")
        queue = self._segments[cross_ref]
        devices: list[KmeDevice] = []
        try:
            async with asyncio.timeout(self._request_timeout):
                while True:
                    segment = await queue.get()
                    devices.extend(segment.devices)
                    if segment.last:
                        return devices
        except TimeoutError as err:
            raise RequestTimeout("escape (device list)", self._request_timeout) from err
        finally:
            self._segments.pop(cross_ref, None)

    # -- receiving ----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self._link.receive()
                try:
                    pdu = decode_pdu(data)
                except ProtocolError as err:
                    # One bad PDU is the PBX's problem, not a reason to drop the link.
                    _LOGGER.warning("Ignoring a PDU from %s: %s", self.description, err)
                    continue
                if self._associated:
                    # Any PDU proves the PBX alive: a burst of events queued behind a
                    # keepalive must not look like silence. When the PBX is idle, only
                    # keepalives arrive, and their absence ends the link.
                    self._watchdog.feed()
                await self._dispatch(pdu)
        except ConnectionFailed as err:
            self._finish(err)
            await self._link.close()

    async def _dispatch(self, pdu: Pdu) -> None:
        if isinstance(pdu, Invoke):
            await self._invoked(pdu)
        elif isinstance(pdu, (ReturnResult, ReturnError, Reject)):
            if pdu.invoke_id is None or not self._requests.resolve(pdu.invoke_id, pdu):
                _LOGGER.debug("Unexpected %s from %s: %s", pdu.kind, self.description, pdu)
        elif isinstance(pdu, Aare):
            if self._association is not None and not self._association.done():
                self._association.set_result(pdu)
        elif isinstance(pdu, Abort):
            self._finish(ConnectionFailed("the PBX aborted the association"))
            await self._link.close()
        elif isinstance(pdu, ReleaseRequest):
            await self._send(ReleaseResponse())
            self._finish(ConnectionClosed("the PBX released the association"))
            await self._link.close()
        elif isinstance(pdu, ReleaseResponse):
            if self._release is not None and not self._release.done():
                self._release.set_result(None)
        else:
            _LOGGER.debug("Ignoring %s from %s", pdu.kind, self.description)

    async def _invoked(self, invoke: Invoke) -> None:
        if invoke.opcode == Opcode.SYSTEM_STATUS:
            await self._keepalive(invoke)
        elif invoke.opcode == Opcode.CSTA_EVENT_REPORT:
            if invoke.argument is None:
                _LOGGER.debug("Undecodable event report from %s", self.description)
            else:
                self._on_event(invoke.argument)
        elif invoke.opcode == Opcode.ESCAPE and invoke.argument is not None:
            # Device-list segments are not answered (neither public client answers them).
            segment = parse_linked_reply(invoke.argument)
            if segment is not None:
                self._store_segment(segment)
        else:
            _LOGGER.debug("Ignoring %s from %s", invoke.operation, self.description)

    async def _keepalive(self, invoke: Invoke) -> None:
        self._system_status_count += 1
        if self._system_status_count == 1 and FIRST_SYSTEM_STATUS_UNANSWERED:
            return
        await self._send(ReturnResult(invoke.invoke_id, Opcode.SYSTEM_STATUS, ("noData", None)))

    def _keepalive_missing(self) -> None:
        reason = ConnectionFailed(f"no keepalive from the PBX for {self._keepalive_timeout:g} s")
        self._finish(reason)
        self._closing = asyncio.create_task(self._shutdown())

    def _store_segment(self, segment: LinkedReply) -> None:
        queue = self._segments[segment.cross_ref]
        if queue.qsize() >= MAX_UNCLAIMED_SEGMENTS:
            _LOGGER.debug("Dropping device-list segment %d: nobody reads it", segment.segment)
            return
        queue.put_nowait(segment)

    async def _send(self, pdu: Pdu) -> None:
        await self._link.send(pdu.encode())
