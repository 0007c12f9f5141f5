"""The simulator's wire side: one CSTA association over one PDU link, as a PBX behaves.

Besides answering requests it reproduces what the seed document reports about keepalives:
the PBX sends systemStatus periodically; a client that answers the first one is ignored
from then on, and one that stops answering later ones gets no more monitoring events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

from ...core.errors import ConnectionFailed, ProtocolError
from ...core.transport import PduLink
from ..codec import (
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
from ..devices import call_id_of, connection_device, number_of
from ..kme import (
    KME_EXTENSION_CATEGORY,
    KME_SEGMENT_SIZE,
    KmeDevice,
    LinkedReply,
    linked_reply_argument,
    pos_ack_result,
    requested_category,
)
from ..operations import OPERATIONS, UNIVERSAL_FAILURE, Opcode
from .pbx import SimulatedPbx, SimulatorFailure

_LOGGER = logging.getLogger(__name__)

#: The seed says "ca 60 s"; the simulator defaults to that.
KEEPALIVE_INTERVAL: Final = 60.0
_ACSE_AUTHENTICATION_FAILURE: Final = 13
_ACSE_AUTHENTICATION_REQUIRED: Final = 14
_INVOKE_PROBLEM_UNRECOGNIZED_OPERATION: Final = 1
_INVOKE_PROBLEM_MISTYPED_ARGUMENT: Final = 2


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Behaviour of the simulated PBX towards one client."""

    keepalive_interval: float = KEEPALIVE_INTERVAL
    credentials: Credentials | None = None
    #: Test knob: no keepalives at all (the PBX went quiet).
    send_keepalives: bool = True
    #: Test knob: refuse the KME device list (PBX firmware without it).
    device_list: bool = True


type Handler = Callable[[Invoke], Awaitable[Asn1Value]]


class SimulatorSession:
    """Serves one client: association, keepalives, monitors and call control."""

    def __init__(self, pbx: SimulatedPbx, link: PduLink, settings: ServiceSettings) -> None:
        self._pbx = pbx
        self._link = link
        self._settings = settings
        self._associated = False
        self._monitors: dict[str, bytes] = {}
        self._monitor_ids = itertools.count(1)
        self._invoke_ids = itertools.count(1)
        self._cross_refs = itertools.count(1)
        self._keepalives_sent = 0
        self._unanswered_keepalive: int | None = None
        #: The client answered the first systemStatus: the PBX ignores its requests.
        self.ignoring_requests = False
        #: A later systemStatus went unanswered: the PBX sends no more monitoring events.
        self.events_suspended = False
        self._unsubscribe = pbx.subscribe(self._on_pbx_event)
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: dict[int, Handler] = {
            Opcode.MONITOR_START: self._monitor_start,
            Opcode.MONITOR_STOP: self._monitor_stop,
            Opcode.SNAPSHOT_DEVICE: self._snapshot_device,
            Opcode.ESCAPE: self._escape,
            Opcode.MAKE_CALL: self._make_call,
            Opcode.ANSWER_CALL: self._answer_call,
            Opcode.CLEAR_CONNECTION: self._clear_connection,
            Opcode.CLEAR_CALL: self._clear_call,
            Opcode.HOLD_CALL: self._hold_call,
            Opcode.RETRIEVE_CALL: self._retrieve_call,
            Opcode.SINGLE_STEP_TRANSFER_CALL: self._single_step_transfer,
        }

    @property
    def monitored(self) -> list[str]:
        """Extensions this client monitors."""
        return list(self._monitors)

    async def run(self) -> None:
        """Serve the client until it leaves."""
        try:
            while True:
                try:
                    pdu = decode_pdu(await self._link.receive())
                except ProtocolError as err:
                    _LOGGER.info("Simulator received a bad PDU: %s", err)
                    await self._send(Reject(None, "general", 1))  # mistypedPDU
                    continue
                if not await self._handle(pdu):
                    break
        except ConnectionFailed:
            pass  # the client went away
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Drop the client."""
        self._unsubscribe()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._link.close()

    async def abort(self) -> None:
        """Abort the association, as a PBX does when it restarts."""
        with contextlib.suppress(ConnectionFailed):
            await self._send(Abort(source=1))
        await self.stop()

    # -- PDUs ---------------------------------------------------------------------------

    async def _handle(self, pdu: Pdu) -> bool:
        """Process one PDU; return False when the association is over."""
        if isinstance(pdu, Aarq):
            return await self._associate(pdu)
        if isinstance(pdu, ReleaseRequest):
            await self._send(ReleaseResponse())
            return False
        if isinstance(pdu, Abort):
            return False
        if isinstance(pdu, ReturnResult) and pdu.opcode == Opcode.SYSTEM_STATUS:
            self._keepalive_answered(pdu.invoke_id)
        elif isinstance(pdu, Invoke) and self._associated:
            if not self.ignoring_requests:
                self._spawn(self._invoked(pdu))
        else:
            _LOGGER.debug("Simulator ignores %s", pdu.kind)
        return True

    async def _associate(self, aarq: Aarq) -> bool:
        wanted = self._settings.credentials
        if wanted is not None and aarq.credentials != wanted:
            diagnostic = (
                _ACSE_AUTHENTICATION_REQUIRED
                if aarq.credentials is None
                else _ACSE_AUTHENTICATION_FAILURE
            )
            await self._send(Aare(result=1, diagnostic=diagnostic))
            return False
        await self._send(Aare(result=0, csta_version=aarq.csta_version or None))
        self._associated = True
        if self._settings.send_keepalives:
            self._spawn(self._keepalives())
        return True

    async def _keepalives(self) -> None:
        while True:
            if self._keepalives_sent > 1 and self._unanswered_keepalive is not None:
                self.events_suspended = True
            invoke_id = next(self._invoke_ids)
            self._keepalives_sent += 1
            self._unanswered_keepalive = invoke_id
            await self._send(Invoke(invoke_id, Opcode.SYSTEM_STATUS, {"systemStatus": "normal"}))
            await asyncio.sleep(self._settings.keepalive_interval)

    def _keepalive_answered(self, invoke_id: int) -> None:
        if self._keepalives_sent == 1 and invoke_id == self._unanswered_keepalive:
            self.ignoring_requests = True  # the seed: "the PBX didn't respond to my requests"
            _LOGGER.info("Simulator: the first systemStatus was answered; ignoring the client")
        if invoke_id == self._unanswered_keepalive:
            self._unanswered_keepalive = None

    async def _invoked(self, invoke: Invoke) -> None:
        handler = self._handlers.get(invoke.opcode)
        if invoke.opcode not in OPERATIONS:
            problem = _INVOKE_PROBLEM_UNRECOGNIZED_OPERATION
            await self._send(Reject(invoke.invoke_id, "invoke", problem))
            return
        if handler is None:
            failure = ("operation", "serviceNotSupported")
            await self._send(ReturnError(invoke.invoke_id, UNIVERSAL_FAILURE, failure))
            return
        if invoke.argument is None:
            await self._send(Reject(invoke.invoke_id, "invoke", _INVOKE_PROBLEM_MISTYPED_ARGUMENT))
            return
        try:
            result = await handler(invoke)
        except SimulatorFailure as failure:
            parameter = (failure.category, failure.value)
            await self._send(ReturnError(invoke.invoke_id, UNIVERSAL_FAILURE, parameter))
            return
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.info("Simulator rejects %s: %s", invoke.operation, err)
            await self._send(Reject(invoke.invoke_id, "invoke", _INVOKE_PROBLEM_MISTYPED_ARGUMENT))
            return
        if result is not None:
            await self._send(ReturnResult(invoke.invoke_id, invoke.opcode, result))

    # -- services -----------------------------------------------------------------------

    async def _monitor_start(self, invoke: Invoke) -> Asn1Value:
        kind, device = invoke.argument["monitorObject"]
        number = number_of(device) if kind == "deviceObject" else None
        if number is not None and number.startswith("#"):
            number = self._number_of_device(int(number[1:]))
        if number is None or not self._pbx.is_extension(number):
            raise SimulatorFailure("operation", "invalidMonitorObject")
        cross_ref = self._monitors.get(number)
        if cross_ref is None:
            cross_ref = struct.pack(">I", 0x01110000 + next(self._monitor_ids))
            self._monitors[number] = cross_ref
        return {"crossRefIdentifier": cross_ref}

    async def _monitor_stop(self, invoke: Invoke) -> Asn1Value:
        cross_ref = bytes(invoke.argument["crossRefIdentifier"])
        for number, monitor in list(self._monitors.items()):
            if monitor == cross_ref:
                del self._monitors[number]
                return ("noData", None)
        raise SimulatorFailure("operation", "invalidMonitorCrossRefID")

    async def _snapshot_device(self, invoke: Invoke) -> Asn1Value:
        number = self._extension(invoke.argument["snapshotObject"], "invalidDeviceID")
        return {"crossRefIDorSnapshotData": ("snapshotData", self._pbx.snapshot(number))}

    async def _escape(self, invoke: Invoke) -> Asn1Value:
        category = requested_category(invoke.argument)
        if category is None or not self._settings.device_list:
            raise SimulatorFailure("privateData", "cSTAPrivateDataInfoError")
        cross_ref = struct.pack(">H", next(self._cross_refs))
        devices = [
            KmeDevice(d.number, d.device_number, d.in_service) for d in self._pbx.devices.values()
        ]
        if category != KME_EXTENSION_CATEGORY:
            devices = []  # the simulator has no trunks to list
        await self._send(ReturnResult(invoke.invoke_id, Opcode.ESCAPE, pos_ack_result(cross_ref)))
        segments = [
            devices[i : i + KME_SEGMENT_SIZE] for i in range(0, len(devices), KME_SEGMENT_SIZE)
        ] or [[]]
        for index, segment in enumerate(segments):
            reply = LinkedReply(cross_ref, index + 1, index == len(segments) - 1, tuple(segment))
            argument = linked_reply_argument(reply)
            await self._send(Invoke(next(self._invoke_ids), Opcode.ESCAPE, argument))
        return None  # already answered

    async def _make_call(self, invoke: Invoke) -> Asn1Value:
        calling = self._extension(invoke.argument["callingDevice"], "invalidCallingDeviceID")
        called = number_of(invoke.argument["calledDirectoryNumber"])
        if called is None:
            raise SimulatorFailure("operation", "invalidCalledDeviceID")
        call_id = self._pbx.make_call(calling, called)
        return {"callingDevice": ("both", _both(call_id, calling))}

    async def _answer_call(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["callToBeAnswered"])
        self._pbx.answer(number, call_id)
        return ("noData", None)

    async def _clear_connection(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["connectionToBeCleared"])
        self._pbx.clear_connection(number, call_id)
        return ("noData", None)

    async def _clear_call(self, invoke: Invoke) -> Asn1Value:
        call_id = call_id_of(invoke.argument["callToBeCleared"])
        self._pbx.clear_call(bytes.fromhex(call_id or ""))
        return ("noData", None)

    async def _hold_call(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["callToBeHeld"])
        self._pbx.hold(number, call_id)
        return ("noData", None)

    async def _retrieve_call(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["callToBeRetrieved"])
        self._pbx.retrieve(number, call_id)
        return ("noData", None)

    async def _single_step_transfer(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["activeCall"])
        target = number_of(invoke.argument["transferredTo"])
        if target is None:
            raise SimulatorFailure("operation", "invalidDestination")
        new_call = self._pbx.single_step_transfer(number, call_id, target)
        return {"transferredCall": ("both", _both(new_call, number))}

    # -- helpers ------------------------------------------------------------------------

    def _extension(self, device: Asn1Value, failure: str) -> str:
        number = number_of(device)
        if number is None or not self._pbx.is_extension(number):
            raise SimulatorFailure("operation", failure)
        return number

    def _connection(self, connection: Asn1Value) -> tuple[str, bytes]:
        call_id = call_id_of(connection)
        number = connection_device(connection)
        if call_id is None or number is None:
            raise SimulatorFailure("operation", "invalidConnectionID")
        return number, bytes.fromhex(call_id)

    def _number_of_device(self, device_number: int) -> str | None:
        return next(
            (d.number for d in self._pbx.devices.values() if d.device_number == device_number),
            None,
        )

    def _on_pbx_event(self, device: str, family: str, name: str, value: Asn1Value) -> None:
        cross_ref = self._monitors.get(device)
        if cross_ref is None or self.events_suspended or not self._associated:
            return
        report = {"crossRefIdentifier": cross_ref, "eventSpecificInfo": (family, (name, value))}
        invoke = Invoke(next(self._invoke_ids), Opcode.CSTA_EVENT_REPORT, report)
        self._spawn(self._send(invoke))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and isinstance(task.exception(), ConnectionFailed):
            return  # the client left while we were talking to it
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("Simulator task failed", exc_info=task.exception())

    async def _send(self, pdu: Pdu) -> None:
        await self._link.send(pdu.encode())


def _both(call_id: bytes, number: str) -> dict[str, Asn1Value]:
    return {
        "callID": call_id,
        "deviceID": ("staticID", {"deviceIdentifier": ("dialingNumber", number)}),
    }
