"""One CSTA association with a Panasonic PBX over one PDU link (single use).

The session associates (ACSE), answers keepalives by the Panasonic rule, matches ROSE
answers to requests by invoke id, checks that every answer has the shape its operation
promises, and hands event reports and call records to its owner. Whatever ends it (link
loss, silence, an abort from the PBX) is reported once through :meth:`wait_closed`;
reconnecting is the client's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Final

from ..core.errors import (
    AuthenticationFailed,
    CommandRejected,
    ConnectionClosed,
    ConnectionFailed,
    PbxError,
    ProtocolError,
    RequestTimeout,
)
from ..core.log_throttle import RepeatedWarning
from ..core.render import safe_repr
from ..core.requests import IdAllocator, RequestTracker
from ..core.transport import PduLink, read_until_closed
from ..core.watchdog import DEAD_LINK_TIMEOUT, LivenessMonitor
from .ber import credential_spans
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
    async_prepare_decoding,
    decode_pdu,
)
from .devices import device_id
from .kme import KmeDevice, LinkedReply, device_list_request, parse_linked_reply, pos_ack_cross_ref
from .operations import OPERATIONS, Opcode, operation_name
from .refusals import refusal_of

_LOGGER = logging.getLogger(__name__)

FIRST_SYSTEM_STATUS_UNANSWERED: Final = True
"""The systemStatus that follows the AARE must not be answered; every later one must.

Seed document (Panasonic KX-TDA PBX support for Linux): answering the first made the PBX
ignore later requests; not answering later ones stops monitoring events. LinTcMon, which
works against real PBXs, does the same.
"""

LIVENESS_PROBE: Final = Opcode.SNAPSHOT_DEVICE
"""What the session sends to a PBX that has been quiet: a snapshot of a monitored device.

Unverified that a real PBX answers it at once; any answer (result, error or reject) is
proof of life, and the PBX already answers snapshots when the client connects.
"""

ASSOCIATION_TIMEOUT: Final = 10.0
REQUEST_TIMEOUT: Final = 5.0
RELEASE_TIMEOUT: Final = 2.0
#: LinTcMon wraps invoke ids at 32767 (positive two-byte INTEGERs).
MAX_INVOKE_ID: Final = 32767
#: Device-list requests answered at once; segments naming any other cross reference are
#: dropped, so a confused (or hostile) PBX cannot make the session keep them.
MAX_DEVICE_LISTS_IN_PROGRESS: Final = 2
#: Devices one device list may name (the largest KX-NS has about 1,000 extensions).
MAX_DEVICE_LIST_ENTRIES: Final = 4096
#: Operations whose answer carries nothing the client reads.
_NO_DATA_RESULT: Final = "NoDataResult"

type ReturnPdu = ReturnResult | ReturnError | Reject
type InvokeHandler = Callable[[Invoke], Awaitable[None]]


class _DeviceListInProgress:
    """Segments of one device list, collected until the last one."""

    def __init__(self) -> None:
        self.segments: deque[LinkedReply] = deque()
        self.entries = 0
        self.arrived = asyncio.Event()


class CstaSession:
    """An ACSE association carrying CSTA operations."""

    def __init__(
        self,
        link: PduLink,
        *,
        on_event: Callable[[dict[str, Any]], None],
        on_record: Callable[[dict[str, Any]], None] | None = None,
        link_timeout: float = DEAD_LINK_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self._link = link
        link.redactor = credential_spans
        self._on_event = on_event
        self._on_record = on_record
        self._request_timeout = request_timeout
        self._requests: RequestTracker[ReturnPdu] = RequestTracker()
        self._invoke_ids = IdAllocator(MAX_INVOKE_ID, self._requests.__contains__)
        self._liveness = LivenessMonitor(link_timeout, self._link_dead, self._probe)
        self._system_status_count = 0
        self._association: asyncio.Future[Aare] | None = None
        self._release: asyncio.Future[None] | None = None
        self._device_lists: dict[bytes, _DeviceListInProgress] = {}
        self._device_lists_requested = 0
        self._closed: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._associated = False
        self._bad_pdus = RepeatedWarning(_LOGGER)
        #: A monitored device the liveness probe can ask about (set by the client).
        self.probe_device: str | None = None
        self._invoked_handlers: dict[int, InvokeHandler] = {
            Opcode.SYSTEM_STATUS: self._keepalive,
            Opcode.CSTA_EVENT_REPORT: self._event_report,
            Opcode.ESCAPE: self._escape,
            Opcode.CDR_REPORT: self._cdr_report,
        }

    @property
    def description(self) -> str:
        """The link this session runs on."""
        return self._link.description

    @property
    def closed(self) -> bool:
        """Whether the session has ended."""
        return self._closed.done()

    # -- lifecycle ----------------------------------------------------------------------

    async def open(self, credentials: Credentials | None = None) -> Aare:
        """Associate with the PBX; raise ConnectionFailed or AuthenticationFailed if refused."""
        await async_prepare_decoding()
        self._reader = asyncio.create_task(
            self._read_loop(), name=f"CSTA reader {self.description}"
        )
        association: asyncio.Future[Aare] = asyncio.get_running_loop().create_future()
        self._association = association
        await self._send(Aarq(credentials=credentials))
        # No shield: nobody else awaits the future, and a shielded future that fails after
        # its waiter timed out is reported by asyncio as an error.
        done, _ = await asyncio.wait({association}, timeout=ASSOCIATION_TIMEOUT)
        if not done:
            association.cancel()
            raise ConnectionFailed(
                f"{self.description}: no association response within {ASSOCIATION_TIMEOUT:g} s"
            )
        aare = association.result()
        if not aare.accepted:
            reason = f"{aare.result_name} ({aare.diagnostic_name})"
            if aare.authentication_failed:
                raise AuthenticationFailed(f"the PBX refused the login: {reason}")
            raise ConnectionFailed(f"the PBX refused the association: {reason}")
        self._associated = True
        self._liveness.start()
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

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        tasks = [task for task in (self._reader, *self._tasks) if task and task is not current]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._link.close()
        self._bad_pdus.flush()

    def _finish(self, reason: BaseException | None) -> None:
        """Record why the session ended (once) and fail everything still waiting."""
        self._liveness.stop()
        self._associated = False
        if not self._closed.done():
            self._closed.set_result(reason)
        if self._association is not None and not self._association.done():
            self._association.set_exception(reason or ConnectionClosed("session closed"))
            self._association.exception()  # retrieved here; open() re-raises its own error
        self._requests.fail_all(
            lambda: ConnectionClosed(f"{self.description}: {reason or 'session closed'}")
        )
        for device_list in self._device_lists.values():
            device_list.arrived.set()

    def _spawn(self, coroutine: Awaitable[Any], name: str) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- requests -----------------------------------------------------------------------

    async def invoke(self, opcode: Opcode, argument: Asn1Value) -> Asn1Value:
        """Invoke a CSTA operation and return its result value.

        Raises CommandRejected (ReturnError or Reject), RequestTimeout, ConnectionClosed,
        and ProtocolError when the answer lacks what the operation promises.
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
            return checked_result(opcode, reply)
        raise CommandRejected(name, reply.reason, refusal_of(reply))

    async def request[T](
        self, opcode: Opcode, argument: Asn1Value, parse: Callable[[Asn1Value], T]
    ) -> T:
        """Invoke an operation and read its result with ``parse``.

        ``parse`` may index the decoded value freely: a value of the wrong shape (a PBX
        answering with something else than the operation's result) becomes ProtocolError.
        """
        return parse_result(opcode, await self.invoke(opcode, argument), parse)

    async def device_list(self) -> list[KmeDevice]:
        """Read the PBX's extensions through the KME device list (all segments)."""
        self._device_lists_requested += 1
        cross_ref: bytes | None = None
        try:
            cross_ref = await self.request(
                Opcode.ESCAPE, device_list_request(), device_list_cross_ref
            )
            in_progress = self._device_lists.setdefault(cross_ref, _DeviceListInProgress())
            devices: list[KmeDevice] = []
            while True:
                while not in_progress.segments:
                    if self._closed.done():
                        raise ConnectionClosed(f"{self.description}: session closed")
                    in_progress.arrived.clear()
                    # Each segment has its own deadline: a long list from a slow PBX is fine.
                    async with asyncio.timeout(self._request_timeout):
                        await in_progress.arrived.wait()
                segment = in_progress.segments.popleft()
                devices.extend(segment.devices)
                if segment.last:
                    return devices
        except TimeoutError as err:
            raise RequestTimeout("escape (device list)", self._request_timeout) from err
        finally:
            self._device_lists_requested -= 1
            if cross_ref is not None:
                self._device_lists.pop(cross_ref, None)

    # -- receiving ----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        failure = await read_until_closed(
            self._link, decode_pdu, self._dispatch, received=self._received, bad=self._bad_pdus
        )
        self._finish(failure)
        await self._link.close()

    def _received(self) -> None:
        if self._associated:  # any PDU proves the PBX alive, even one we cannot decode
            self._liveness.feed()

    async def _dispatch(self, pdu: Pdu) -> None:
        if isinstance(pdu, Invoke):
            handler = self._invoked_handlers.get(pdu.opcode)
            if handler is None:
                _LOGGER.debug("Ignoring %s from %s", pdu.operation, self.description)
            else:
                await handler(pdu)
        elif isinstance(pdu, (ReturnResult, ReturnError, Reject)):
            if pdu.invoke_id is None or not self._requests.resolve(pdu.invoke_id, pdu):
                _LOGGER.debug("Unexpected %s from %s: %r", pdu.kind, self.description, pdu)
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

    async def _keepalive(self, invoke: Invoke) -> None:
        self._system_status_count += 1
        if self._system_status_count == 1 and FIRST_SYSTEM_STATUS_UNANSWERED:
            return
        await self._send(ReturnResult(invoke.invoke_id, Opcode.SYSTEM_STATUS, ("noData", None)))

    async def _event_report(self, invoke: Invoke) -> None:
        if invoke.argument is None:
            self._bad_pdus.report("Undecodable event report from %s", self.description)
        else:
            self._on_event(invoke.argument)

    async def _escape(self, invoke: Invoke) -> None:
        # Device-list segments are not answered (neither public client answers them).
        segment = parse_linked_reply(invoke.argument) if invoke.argument is not None else None
        if segment is not None:
            self._store_segment(segment)

    async def _cdr_report(self, invoke: Invoke) -> None:
        # Every report must be answered, or the PBX keeps resending it (LinTcMon does).
        await self._send(ReturnResult(invoke.invoke_id, Opcode.CDR_REPORT, ("noData", None)))
        if invoke.argument is None:
            self._bad_pdus.report("Undecodable call record from %s", self.description)
        elif self._on_record is not None:
            self._on_record(invoke.argument)

    def _store_segment(self, segment: LinkedReply) -> None:
        in_progress = self._device_lists.get(segment.cross_ref)
        if in_progress is None:
            if not self._device_lists_requested or (
                len(self._device_lists) >= MAX_DEVICE_LISTS_IN_PROGRESS
            ):
                _LOGGER.debug("Dropping a device-list segment nobody asked for")
                return
            in_progress = self._device_lists[segment.cross_ref] = _DeviceListInProgress()
        in_progress.entries += len(segment.devices)
        if in_progress.entries > MAX_DEVICE_LIST_ENTRIES:
            _LOGGER.debug(
                "Dropping a device-list segment beyond %d entries", MAX_DEVICE_LIST_ENTRIES
            )
            return
        in_progress.segments.append(segment)
        in_progress.arrived.set()

    # -- liveness -----------------------------------------------------------------------

    def _probe(self) -> None:
        if self.probe_device is None:
            return  # the PBX's own keepalives (about once a minute) must do
        self._spawn(self._send_probe(self.probe_device), f"liveness probe {self.description}")

    async def _send_probe(self, number: str) -> None:
        # Whatever the answer says, its arrival fed the liveness monitor.
        with contextlib.suppress(PbxError):
            await self.invoke(LIVENESS_PROBE, {"snapshotObject": device_id(number)})

    def _link_dead(self) -> None:
        timeout = self._liveness.timeout
        self._finish(ConnectionFailed(f"no answer from the PBX for {timeout:g} s"))
        self._spawn(self._shutdown(), f"CSTA shutdown {self.description}")

    async def _send(self, pdu: Pdu) -> None:
        await self._link.send(pdu.encode())


def parse_result[T](opcode: Opcode, result: Asn1Value, parse: Callable[[Asn1Value], T]) -> T:
    """Read a result value with ``parse``; a value of the wrong shape is a ProtocolError."""
    try:
        return parse(result)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        raise ProtocolError(
            f"{operation_name(opcode)} answered with an unexpected result: {safe_repr(result)}"
        ) from err


def checked_result(opcode: Opcode, reply: ReturnResult) -> Asn1Value:
    """The answer's result if it has the shape the operation promises; else ProtocolError."""
    name = operation_name(opcode)
    if reply.opcode is not None and reply.opcode != opcode:
        raise ProtocolError(f"{name} answered as operation {operation_name(reply.opcode)}")
    operation = OPERATIONS[opcode]
    if operation.result in (None, _NO_DATA_RESULT):
        return reply.result
    if reply.result is None:
        what = "an undecodable" if reply.raw_result is not None else "no"
        raise ProtocolError(f"{name} answered with {what} result", data=reply.raw_result or b"")
    return reply.result


def device_list_cross_ref(result: Asn1Value) -> bytes:
    """The cross reference the PBX acknowledged a device-list request with."""
    cross_ref = pos_ack_cross_ref(result)
    if cross_ref is None:
        raise CommandRejected("escape", "the PBX did not acknowledge the device list request")
    return cross_ref
