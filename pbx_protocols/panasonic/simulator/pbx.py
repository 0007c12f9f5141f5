"""The simulated switching function: devices, calls, connections and the events they cause.

Every change goes through one method that changes the call model and reports the CSTA
call-control event a PBX would, to every device in the call. Sessions (the wire side)
turn those reports into event reports for the devices they monitor.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from ..codec import Asn1Value
from ..devices import device_id
from ..kme import KME_EXTENSION_DEVICE_NUMBER_BASE
from .failures import SimulatorFailure
from .outside import OutsideLines, OutsideParties

_LOGGER = logging.getLogger(__name__)

#: The trunk (CO line) that carries external calls in the simulator.
TRUNK: Final = "CO1"
_NUMBER: Final = re.compile(r"\+?[0-9*#]{1,32}")

TRANSFERRED_CONNECTION_FIELDS: Final = ("newConnection",)
"""What the simulator puts in a transferred event's connection list: newConnection only.

Derived: a CTI client whose decoder was written from real Panasonic traffic (LinTcMon's
ConnectionListDetail) knows only newConnection [0], carrying the party's device, and
associatedNID [3], and fails on oldConnection [1] and endpoint [2]. The library still
decodes all four.
"""


@dataclass(slots=True)
class Device:
    """An extension of the simulated PBX."""

    number: str
    device_number: int
    in_service: bool = True


@dataclass(slots=True)
class Connection:
    """One party of a call; ``state`` is an ECMA-285 LocalConnectionState name."""

    party: str
    state: str
    external: bool = False


@dataclass(slots=True)
class Call:
    """A call: its parties in the order they joined, and when things happened."""

    call_id: bytes
    calling: str
    called: str
    connections: dict[str, Connection] = field(default_factory=dict)
    started: datetime = field(default_factory=datetime.now)
    answered: datetime | None = None
    #: How the call went, for its call record (forwarded, transferred, ...).
    condition: str | None = None

    @property
    def parties(self) -> list[str]:
        """Numbers of everyone in the call."""
        return list(self.connections)


@dataclass(frozen=True, slots=True)
class FinishedCall:
    """What the PBX's call detail record says about a call that ended."""

    calling: str
    called: str
    calling_external: bool
    called_external: bool
    started: datetime
    answered: datetime | None
    ended: datetime
    condition: str | None


type EventSink = Callable[[str, str, str, Asn1Value], None]
type RecordSink = Callable[[FinishedCall], None]

#: Call id of the first call after the PBX starts (the default of the simulator).
FIRST_CALL_ID: Final = 0x00E0


def subject(number: str | None) -> tuple[str, Asn1Value]:
    """A Calling/Called/Subject DeviceID for a number (notKnown for None)."""
    return ("deviceIdentifier", device_id(number)) if number else ("notKnown", None)


def connection(call_id: bytes, number: str) -> tuple[str, Asn1Value]:
    """The ConnectionID of ``number`` in a call."""
    return ("both", {"callID": call_id, "deviceID": ("staticID", device_id(number))})


class SimulatedPbx:
    """A small KX-TDA: extensions, one trunk, and calls between them."""

    def __init__(
        self,
        extensions: Iterable[str],
        *,
        first_call_id: int = FIRST_CALL_ID,
        outside: OutsideParties | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.devices: dict[str, Device] = {
            number: Device(number, KME_EXTENSION_DEVICE_NUMBER_BASE + index)
            for index, number in enumerate(extensions)
        }
        self.calls: dict[bytes, Call] = {}
        #: Extensions that accept a second call while busy (call waiting).
        self.call_waiting: set[str] = set()
        self._sinks: list[EventSink] = []
        self._record_sinks: list[RecordSink] = []
        self._call_ids = itertools.count(first_call_id)
        self.outside = OutsideLines(self, outside, rng or random.Random()) if outside else None

    # -- observers ----------------------------------------------------------------------

    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        """Receive (device, family, event name, event value) for every event."""
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink) if sink in self._sinks else None

    def subscribe_records(self, sink: RecordSink) -> Callable[[], None]:
        """Receive a record of every call that ends (for call detail records)."""
        self._record_sinks.append(sink)
        return lambda: self._record_sinks.remove(sink) if sink in self._record_sinks else None

    def _next_call_id(self) -> bytes:
        return struct.pack(">H", next(self._call_ids) & 0xFFFF)

    def _new_call(self, calling: str, called: str) -> Call:
        call = Call(self._next_call_id(), calling, called)
        self.calls[call.call_id] = call
        return call

    def _record(self, call: Call, condition: str | None = None) -> None:
        finished = FinishedCall(
            calling=call.calling,
            called=call.called,
            calling_external=call.calling not in self.devices,
            called_external=call.called not in self.devices,
            started=call.started,
            answered=call.answered,
            ended=datetime.now(),
            condition=condition or call.condition or (None if call.answered else "not_answered"),
        )
        for sink in list(self._record_sinks):
            sink(finished)

    def _report(self, devices: Iterable[str], family: str, name: str, value: Asn1Value) -> None:
        for device in dict.fromkeys(devices):
            if device in self.devices:
                for sink in list(self._sinks):
                    sink(device, family, name, value)

    def _call_event(
        self, call: Call, name: str, value: Asn1Value, also: Iterable[str] = ()
    ) -> None:
        self._report([*call.parties, *also], "callControlEvents", name, value)

    # -- queries ------------------------------------------------------------------------

    def is_extension(self, number: str) -> bool:
        """Whether ``number`` is one of the PBX's extensions."""
        return number in self.devices

    def calls_of(self, number: str) -> list[Call]:
        """Calls ``number`` takes part in."""
        return [call for call in self.calls.values() if number in call.connections]

    def is_idle(self, number: str) -> bool:
        """Whether an extension has no call at all."""
        return not self.calls_of(number)

    def idle_extensions(self) -> list[str]:
        """Extensions in service without any call."""
        return [n for n, d in self.devices.items() if d.in_service and self.is_idle(n)]

    def snapshot(self, number: str) -> list[Asn1Value]:
        """SnapshotDeviceData entries of an extension."""
        entries = []
        for call in self.calls_of(number):
            others = [c for c in call.connections.values() if c.party != number]
            states = [call.connections[number].state, *(c.state for c in others)]
            entry: dict[str, Asn1Value] = {
                "connectionIdentifier": connection(call.call_id, number),
                "localCallState": ("compoundCallState", states),
            }
            if others:
                entry["endpointDevice"] = subject(others[0].party)
            entries.append(entry)
        return entries

    def _call(self, call_id: bytes, number: str, states: tuple[str, ...] = ()) -> Call:
        call = self.calls.get(call_id)
        if call is None or number not in call.connections:
            raise SimulatorFailure("operation", "invalidConnectionID")
        if states and call.connections[number].state not in states:
            raise SimulatorFailure("stateIncompatibility", "invalidConnectionState")
        return call

    def _extension(self, number: str, failure: str) -> Device:
        device = self.devices.get(number)
        if device is None:
            raise SimulatorFailure("operation", failure)
        return device

    # -- call control -------------------------------------------------------------------

    def make_call(self, calling: str, called: str) -> bytes:
        """``calling`` goes off hook and dials ``called`` (CSTA makeCall, or a person)."""
        caller = self._extension(calling, "invalidCallingDeviceID")
        if not _NUMBER.fullmatch(called) or called == calling:
            raise SimulatorFailure("operation", "invalidCalledDeviceID")
        if not caller.in_service:
            raise SimulatorFailure("systemResourceAvailability", "callingDeviceOutOfService")
        if any(c.connections[calling].state != "hold" for c in self.calls_of(calling)):
            raise SimulatorFailure("stateIncompatibility", "invalidCallingDeviceState")
        call = self._new_call(calling, called)
        call.connections[calling] = Connection(calling, "initiated")
        self._call_event(
            call,
            "serviceInitiated",
            {
                "initiatedConnection": connection(call.call_id, calling),
                "initiatingDevice": subject(calling),
                "localConnectionInfo": "initiated",
                "cause": "newCall",
            },
        )
        call.connections[calling].state = "connected"
        self._call_event(
            call,
            "originated",
            {
                "originatedConnection": connection(call.call_id, calling),
                "callingDevice": subject(calling),
                "calledDevice": subject(called),
                "localConnectionInfo": "connected",
                "cause": "newCall",
            },
        )
        if called in self.devices:
            self._offer(call, called, calling, "newCall")
        else:
            call.connections[called] = Connection(called, "alerting", external=True)
            self._call_event(
                call,
                "networkReached",
                {
                    "outboundConnection": connection(call.call_id, TRUNK),
                    "networkInterfaceUsed": subject(TRUNK),
                    "callingDevice": subject(calling),
                    "calledDevice": subject(called),
                    "lastRedirectionDevice": ("notKnown", None),
                    "localConnectionInfo": "connected",
                    "cause": "networkSignal",
                },
            )
            if self.outside is not None:
                self.outside.dialled(call.call_id, called)
        return call.call_id

    def incoming_call(self, caller: str, called: str) -> bytes:
        """An external ``caller`` rings extension ``called`` through the trunk."""
        self._extension(called, "invalidCalledDeviceID")
        call = self._new_call(caller, called)
        call.connections[caller] = Connection(caller, "connected", external=True)
        self._offer(call, called, caller, "newCall")
        return call.call_id

    def add_extension(self, number: str) -> None:
        """Install a new extension (clients see it after their next discovery)."""
        if number not in self.devices:
            index = len(self.devices)
            self.devices[number] = Device(number, KME_EXTENSION_DEVICE_NUMBER_BASE + index)

    def _busy(self, target: str) -> bool:
        calls = self.calls_of(target)
        if not calls:
            return False
        waiting_allowed = target in self.call_waiting
        ringing = any(c.connections[target].state == "alerting" for c in calls)
        return not waiting_allowed or ringing

    def _offer(self, call: Call, target: str, calling: str, cause: str) -> None:
        """Ring ``target`` (delivered), or fail the call if it cannot ring."""
        device = self.devices[target]
        busy = self._busy(target)
        if busy or not device.in_service:
            failure = "busy" if busy else "destOutOfOrder"
            self._call_event(
                call,
                "failed",
                {
                    "failedConnection": connection(call.call_id, target),
                    "failingDevice": subject(target),
                    "callingDevice": subject(calling),
                    "calledDevice": subject(call.called),
                    "lastRedirectionDevice": ("notKnown", None),
                    "localConnectionInfo": "fail",
                    "cause": failure,
                },
            )
            self.clear_call(call.call_id, cause=failure)
            return
        call.connections[target] = Connection(target, "alerting")
        self._call_event(
            call,
            "delivered",
            {
                "connection": connection(call.call_id, target),
                "alertingDevice": subject(target),
                "callingDevice": subject(calling),
                "calledDevice": subject(call.called),
                "lastRedirectionDevice": ("notKnown", None),
                "localConnectionInfo": "alerting",
                "cause": cause,
            },
        )

    def answer(self, number: str, call_id: bytes) -> None:
        """``number`` answers its ringing call (people, CSTA answerCall, external parties)."""
        call = self.calls.get(call_id)
        ringing = call is not None and number in call.connections
        if call is None or not ringing or call.connections[number].state != "alerting":
            raise SimulatorFailure("stateIncompatibility", "noCallToAnswer")
        call.connections[number].state = "connected"
        call.answered = call.answered or datetime.now()
        self._call_event(
            call,
            "established",
            {
                "establishedConnection": connection(call.call_id, number),
                "answeringDevice": subject(number),
                "callingDevice": subject(call.calling),
                "calledDevice": subject(call.called),
                "lastRedirectionDevice": ("notKnown", None),
                "localConnectionInfo": "connected",
                "cause": "newCall",
            },
        )

    def clear_connection(self, number: str, call_id: bytes, cause: str = "normalClearing") -> None:
        """``number`` hangs up; a call left with one party ends for it too."""
        call = self._call(call_id, number)
        self._call_event(
            call,
            "connectionCleared",
            {
                "droppedConnection": connection(call.call_id, number),
                "releasingDevice": subject(number),
                "localConnectionInfo": "null",
                "cause": cause,
            },
        )
        del call.connections[number]
        if len(call.connections) <= 1:
            self.clear_call(call_id, cause=cause, also=[number])

    def clear_call(
        self, call_id: bytes, cause: str = "normalClearing", also: Iterable[str] = ()
    ) -> None:
        """End a call for everyone in it."""
        call = self.calls.pop(call_id, None)
        if call is None:
            raise SimulatorFailure("operation", "invalidCallID")
        if self.outside is not None:
            self.outside.forget(call_id)
        self._call_event(
            call, "callCleared", {"clearedCall": ("callID", call.call_id), "cause": cause}, also
        )
        self._record(call)

    def hold(self, number: str, call_id: bytes) -> None:
        """Put ``number``'s conversation on hold."""
        call = self._call(call_id, number, ("connected",))
        if not any(c.state == "connected" for p, c in call.connections.items() if p != number):
            raise SimulatorFailure("stateIncompatibility", "invalidConnectionState")
        call.connections[number].state = "hold"
        self._call_event(
            call,
            "held",
            {
                "heldConnection": connection(call.call_id, number),
                "holdingDevice": subject(number),
                "localConnectionInfo": "hold",
                "cause": "normal",
            },
        )

    def retrieve(self, number: str, call_id: bytes) -> None:
        """Take ``number``'s held call back."""
        call = self.calls.get(call_id)
        if call is None or call.connections.get(number, Connection("", "")).state != "hold":
            raise SimulatorFailure("stateIncompatibility", "noHeldCall")
        call.connections[number].state = "connected"
        self._call_event(
            call,
            "retrieved",
            {
                "retrievedConnection": connection(call.call_id, number),
                "retrievingDevice": subject(number),
                "localConnectionInfo": "connected",
                "cause": "normal",
            },
        )

    def single_step_transfer(self, number: str, call_id: bytes, target: str) -> bytes:
        """``number`` hands its call to ``target`` and leaves; returns the new call id."""
        call = self._call(call_id, number, ("connected", "hold"))
        if target not in self.devices or target in call.connections:
            raise SimulatorFailure("operation", "invalidDestination")
        remaining = [c for p, c in call.connections.items() if p != number]
        new_call = Call(self._next_call_id(), call.calling, target)
        new_call.answered = call.answered
        # What a real PBX sends: each remaining party as newConnection (with its device)
        # only; see TRANSFERRED_CONNECTION_FIELDS.
        entries = [
            {"newConnection": connection(new_call.call_id, party)}
            for party in [*(c.party for c in remaining), target]
        ]
        self._call_event(
            call,
            "transferred",
            {
                "primaryOldCall": connection(call.call_id, number),
                "transferringDevice": subject(number),
                "transferredToDevice": subject(target),
                "transferredConnections": entries,
                "localConnectionInfo": "null",
                "cause": "singleStepTransfer",
            },
            also=[target],
        )
        del self.calls[call_id]
        if self.outside is not None:
            self.outside.moved(call_id, new_call.call_id)
        self._record(call, "transferred")
        for remaining_connection in remaining:
            if remaining_connection.state == "hold":
                remaining_connection.state = "connected"
            new_call.connections[remaining_connection.party] = remaining_connection
        self.calls[new_call.call_id] = new_call
        calling = remaining[0].party if remaining else number
        self._offer(new_call, target, calling, "singleStepTransfer")
        return new_call.call_id

    def divert(self, number: str, call_id: bytes, target: str) -> None:
        """Send ``number``'s ringing call on to ``target`` (deflect)."""
        call = self._call(call_id, number, ("alerting",))
        if target not in self.devices or target in call.connections:
            raise SimulatorFailure("operation", "invalidDestination")
        self._call_event(
            call,
            "diverted",
            {
                "connection": connection(call.call_id, number),
                "divertingDevice": subject(number),
                "newDestination": subject(target),
                "callingDevice": subject(call.calling),
                "calledDevice": subject(call.called),
                "lastRedirectionDevice": ("numberdialed", device_id(number)),
                "localConnectionInfo": "null",
                "cause": "redirected",
            },
        )
        del call.connections[number]
        call.condition = "forwarded"
        self._offer(call, target, call.calling, "redirected")

    def set_in_service(self, number: str, in_service: bool) -> None:
        """Take an extension out of service (unplugged) or back."""
        device = self._extension(number, "invalidDeviceID")
        if device.in_service == in_service:
            return
        device.in_service = in_service
        name = "backInService" if in_service else "outOfService"
        self._report([number], "deviceMaintenanceEvents", name, {"device": subject(number)})

    def fail_external(self, call_id: bytes, cause: str) -> None:
        """The outside party of a call cannot be reached (busy, no answer)."""
        call = self.calls.get(call_id)
        party = self.external_party(call_id)
        if call is None or party is None:
            return
        self._call_event(
            call,
            "failed",
            {
                "failedConnection": connection(call.call_id, party),
                "failingDevice": subject(party),
                "callingDevice": subject(call.calling),
                "calledDevice": subject(call.called),
                "lastRedirectionDevice": ("notKnown", None),
                "localConnectionInfo": "fail",
                "cause": cause,
            },
        )
        self.clear_call(call_id, cause=cause)

    def external_party(self, call_id: bytes) -> str | None:
        """The external party of a call, if it has one."""
        call = self.calls.get(call_id)
        if call is None:
            return None
        return next((p for p, c in call.connections.items() if c.external), None)
