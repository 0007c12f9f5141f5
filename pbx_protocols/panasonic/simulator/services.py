"""The simulated PBX's CSTA services: what it answers to each request of one client.

Handlers return the result value (or None when they answered already, as the device list
does with its linked replies) and raise SimulatorFailure for a refusal.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Awaitable, Callable
from typing import Final

from ..codec import Asn1Value, Invoke, Pdu, ReturnResult
from ..devices import call_id_of, connection_device, number_of
from ..kme import (
    KME_EXTENSION_CATEGORY,
    KME_EXTENSION_DEVICE_NUMBER_BASE,
    KME_SEGMENT_SIZE,
    KmeDevice,
    LinkedReply,
    linked_reply_argument,
    pos_ack_result,
    requested_category,
)
from ..operations import Opcode
from .failures import SimulatorFailure
from .pbx import SimulatedPbx

type Handler = Callable[[Invoke], Awaitable[Asn1Value]]
type Sender = Callable[[Pdu], None]

_NO_DATA: Final = ("noData", None)


class CstaServices:
    """Monitors, snapshots, the device list, call control and CDR start for one client."""

    def __init__(
        self,
        pbx: SimulatedPbx,
        send: Sender,
        next_invoke_id: Callable[[], int],
        *,
        device_list: Callable[[], bool],
    ) -> None:
        self._pbx = pbx
        self._send = send
        self._next_invoke_id = next_invoke_id
        self._device_list_enabled = device_list
        self.monitors: dict[str, bytes] = {}
        #: Set once the client asked for call detail records (startCDRTransmission).
        self.cdr_cross_ref: bytes | None = None
        self._monitor_ids = itertools.count(1)
        self._cross_refs = itertools.count(1)
        self.handlers: dict[int, Handler] = {
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
            Opcode.START_CDR_TRANSMISSION: self._start_cdr_transmission,
        }

    async def _monitor_start(self, invoke: Invoke) -> Asn1Value:
        kind, device = invoke.argument["monitorObject"]
        number = number_of(device) if kind == "deviceObject" else None
        if number is not None and number.startswith("#"):
            number = self._number_of_device(device["deviceIdentifier"][1])
        if number is None or not self._pbx.is_extension(number):
            raise SimulatorFailure("operation", "invalidMonitorObject")
        cross_ref = self.monitors.get(number)
        if cross_ref is None:
            cross_ref = struct.pack(
                ">I", KME_EXTENSION_DEVICE_NUMBER_BASE + next(self._monitor_ids)
            )
            self.monitors[number] = cross_ref
        return {"crossRefIdentifier": cross_ref}

    async def _monitor_stop(self, invoke: Invoke) -> Asn1Value:
        cross_ref = bytes(invoke.argument["crossRefIdentifier"])
        for number, monitor in list(self.monitors.items()):
            if monitor == cross_ref:
                del self.monitors[number]
                return _NO_DATA
        raise SimulatorFailure("operation", "invalidMonitorCrossRefID")

    async def _snapshot_device(self, invoke: Invoke) -> Asn1Value:
        number = self._extension(invoke.argument["snapshotObject"], "invalidDeviceID")
        return {"crossRefIDorSnapshotData": ("snapshotData", self._pbx.snapshot(number))}

    async def _escape(self, invoke: Invoke) -> Asn1Value:
        category = requested_category(invoke.argument)
        if category is None or not self._device_list_enabled():
            raise SimulatorFailure("privateData", "cSTAPrivateDataInfoError")
        cross_ref = struct.pack(">H", next(self._cross_refs) & 0xFFFF)
        devices = [
            KmeDevice(d.number, d.device_number, d.in_service) for d in self._pbx.devices.values()
        ]
        if category != KME_EXTENSION_CATEGORY:
            devices = []  # the simulator has no trunks to list
        self._send(ReturnResult(invoke.invoke_id, Opcode.ESCAPE, pos_ack_result(cross_ref)))
        segments = [
            devices[i : i + KME_SEGMENT_SIZE] for i in range(0, len(devices), KME_SEGMENT_SIZE)
        ] or [[]]
        for index, segment in enumerate(segments):
            reply = LinkedReply(cross_ref, index + 1, index == len(segments) - 1, tuple(segment))
            self._send(Invoke(self._next_invoke_id(), Opcode.ESCAPE, linked_reply_argument(reply)))
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
        return _NO_DATA

    async def _clear_connection(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["connectionToBeCleared"])
        self._pbx.clear_connection(number, call_id)
        return _NO_DATA

    async def _clear_call(self, invoke: Invoke) -> Asn1Value:
        call_id = call_id_of(invoke.argument["callToBeCleared"])
        self._pbx.clear_call(bytes.fromhex(call_id or ""))
        return _NO_DATA

    async def _hold_call(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["callToBeHeld"])
        self._pbx.hold(number, call_id)
        return _NO_DATA

    async def _retrieve_call(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["callToBeRetrieved"])
        self._pbx.retrieve(number, call_id)
        return _NO_DATA

    async def _single_step_transfer(self, invoke: Invoke) -> Asn1Value:
        number, call_id = self._connection(invoke.argument["activeCall"])
        target = number_of(invoke.argument["transferredTo"])
        if target is None:
            raise SimulatorFailure("operation", "invalidDestination")
        new_call = self._pbx.single_step_transfer(number, call_id, target)
        return {"transferredCall": ("both", _both(new_call, number))}

    async def _start_cdr_transmission(self, invoke: Invoke) -> Asn1Value:
        if invoke.argument["transferMode"] != "transferAtEndOfCall":
            raise SimulatorFailure("operation", "valueOutOfRange")
        self.cdr_cross_ref = self.cdr_cross_ref or struct.pack(">H", next(self._cross_refs))
        return {"cdrCrossRefID": self.cdr_cross_ref}

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

    def _number_of_device(self, device_number: object) -> str | None:
        return next(
            (d.number for d in self._pbx.devices.values() if d.device_number == device_number),
            None,
        )


def _both(call_id: bytes, number: str) -> dict[str, Asn1Value]:
    return {
        "callID": call_id,
        "deviceID": ("staticID", {"deviceIdentifier": ("dialingNumber", number)}),
    }
