"""The simulated exchange: stations, calls, displays and mail, driven by ACDP messages.

It is built on the library's own message classes and answers the way the documentation
says the exchange does: addressed answers carry the request's reference; broadcasts go to
node/0xFF with a sequence number as their one network option (as in the real broadcasts);
bad input on the simple link layer gets no answer at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from ..codec import BROADCAST_ALL, EXCHANGE_DEVICE, Address, Packet
from ..datatypes import Clock, NetObjRef
from ..events import CALL_REQUEST_MAILS
from ..messages import (
    CALL_MODE_BUSY,
    CALL_MODE_PRIVATE,
    CSF_RETURN_ACK,
    GET_DEVICE_ID,
    MAIL_FLAG_CALL_REQUEST,
    CallSetup,
    CallStatusBc,
    CKey,
    CommandResponse,
    ConnReference,
    ConnStatusBc,
    DeviceInfo,
    DialDigits,
    DisconSt,
    DisconStatusBc,
    DisplayText,
    HandsetOff,
    HandsetOn,
    IllegalParam,
    Message,
    MKey,
    ParkInqBroker,
    QElemAdded,
    ReqTransfCall,
    SendTxtMail,
    StationBusy,
    StationDown,
    StBusyBc,
    StFreeBc,
    UnknownMessage,
)

#: What the simulated exchange says it is (DEVICE_INFO).
DEVICE_TYPE_ALPHACOM: Final = 1
SOFTWARE_VERSION: Final = (11, 2)
EXCHANGE_NAME: Final = "AlphaCom sim"

ECL_MAIL: Final = 0x0D
"""Entity class of mail in NET_OBJ_REFs the simulator sends. Unverified: the ECL_* values
are not documented; the client reads call requests by the mail number alone."""
#: The mail number of a normal call request (SEND_MAIL: 18).
NORMAL_CALL_REQUEST: Final = 18
assert NORMAL_CALL_REQUEST in CALL_REQUEST_MAILS


@dataclass(slots=True)
class Station:
    """One intercom station."""

    number: str
    state: str = "idle"  # idle, dialing, ringing, talking, inquiry
    peer: str | None = None
    display: str = ""
    dialled: str = ""
    down: bool = False
    mail: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The station as the simulator shows it."""
        return {
            "station": self.number,
            "state": self.state,
            "peer": self.peer,
            "display": self.display,
            "dialled": self.dialled,
            "down": self.down,
            "mail": list(self.mail),
        }


@dataclass(slots=True)
class _Call:
    a: str
    b: str
    connection: int
    connected: bool = False


#: Mail kept per station, at most (oldest dropped).
MAX_MAIL: Final = 32


class Exchange:
    """The call model; ``broadcast`` is called with every broadcast packet."""

    def __init__(
        self,
        numbers: tuple[str, ...],
        *,
        node: int = 1,
        answers: bool = True,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.node = node
        self.address = Address(node, EXCHANGE_DEVICE)
        self.stations = {number: Station(number) for number in numbers}
        self.answers = answers
        self._clock = clock
        self._calls: list[_Call] = []
        self._connections = itertools.count(0x0101)
        self._broadcast_references = itertools.count(1)
        self.broadcast: Callable[[Packet], None] = lambda packet: None
        self.changed: Callable[[Station], None] = lambda station: None

    def station(self, number: str) -> dict[str, Any]:
        """One station's state (KeyError if unknown)."""
        return self.stations[number].as_json()

    # -- messages from a device ----------------------------------------------------------

    def handle(self, packet: Packet) -> list[Packet]:
        """Act on one message from a device; return the addressed answers."""
        if packet.dst != self.address:
            return []
        answers = [
            Packet(self.address, packet.src, packet.reference, message, hop_count=1)
            for message in self._act(packet.message)
        ]
        return answers if self.answers else []

    def _act(self, message: Message) -> list[Message]:  # one branch per message
        if isinstance(message, UnknownMessage) and message.message_id == GET_DEVICE_ID:
            major, minor = SOFTWARE_VERSION
            return [DeviceInfo(DEVICE_TYPE_ALPHACOM, major, minor, 0, EXCHANGE_NAME)]
        station = message.a if isinstance(message, CallSetup) else getattr(message, "station", None)
        if isinstance(station, NetObjRef) and station.number not in self.stations:
            return [IllegalParam(message.message_id, 1, 0)]
        if isinstance(message, CallSetup):
            return self._call_setup(message)
        if isinstance(message, DialDigits):
            return self._dial(message.station.number or "", message.digits.number or "")
        if isinstance(message, (MKey, HandsetOff)):
            self.answer(message.station.number or "")
        elif isinstance(message, (DisconSt, CKey, HandsetOn)):
            self.hang_up(message.station.number or "")
        elif isinstance(message, DisplayText):
            station = self.stations[message.station.number or ""]
            station.display = message.text.decode("latin-1")
            self.changed(station)
        elif isinstance(message, SendTxtMail):
            return self._mail(message)
        elif isinstance(message, ParkInqBroker):
            self._park(message.station.number or "")
        elif isinstance(message, ReqTransfCall):
            return [self._transfer(message)]
        return []

    def _call_setup(self, message: CallSetup) -> list[Message]:
        a, b = message.a.number or "", message.b.number or ""
        acks = bool((message.flags or 0) & CSF_RETURN_ACK)
        if b not in self.stations:
            return [IllegalParam(message.MESSAGE_ID, 2, 0)]
        result = self.call(a, b)
        if not acks:
            return []
        return [result]

    def _dial(self, number: str, digits: str) -> list[Message]:
        station = self.stations[number]
        if station.state in ("idle", "dialing") and digits in self.stations:
            self.call(number, digits)
        else:
            station.dialled += digits
            self.changed(station)
        return []

    def _mail(self, message: SendTxtMail) -> list[Message]:
        receiver = self.stations.get(message.receiver.number or "")
        if receiver is None:
            return [IllegalParam(message.MESSAGE_ID, 2, 0)]
        sender = message.sender.number or None
        request = bool((message.flags or 0) & MAIL_FLAG_CALL_REQUEST)
        self._queue_mail(receiver, sender, message.text, call_request=request)
        return []

    # -- what stations do (also used by scenarios) ----------------------------------------

    def call(self, a: str, b: str) -> Message:
        """Station ``a`` calls ``b`` (private call: b rings); return the set-up answer."""
        caller, called = self.stations[a], self.stations[b]
        if caller.down:
            return StationDown(self._ref(a))
        if called.down:
            return StationDown(self._ref(b))
        if caller.state not in ("idle", "dialing"):
            self.hang_up(a)  # "the A station is disconnected if busy"
        if caller.state == "idle":
            self._set(caller, "dialing", None)
            self._broadcast(StBusyBc(self._ref(a)))
        if called.state != "idle":
            self._broadcast(
                CallStatusBc(self._now(), self._ref(a), self._ref(b), 2, CALL_MODE_BUSY)
            )
            self._set(caller, "idle", None)
            self._broadcast(StFreeBc(self._ref(a)))
            return StationBusy(self._ref(b))
        call = _Call(a, b, next(self._connections) & 0xFFFF)
        self._calls.append(call)
        self._set(called, "ringing", a)
        self._set(caller, "dialing", b)
        self._broadcast(StBusyBc(self._ref(b)))
        self._broadcast(CallStatusBc(self._now(), self._ref(a), self._ref(b), 2, CALL_MODE_PRIVATE))
        return ConnReference(call.connection)

    def answer(self, number: str) -> None:
        """The station presses M (or lifts the handset): a ringing call connects."""
        call = self._call_of(number)
        station = self.stations.get(number)
        if station is None:
            return
        if call is None:
            if station.state == "idle":
                self._set(station, "dialing", None)
                self._broadcast(StBusyBc(self._ref(number)))
            return
        if call.connected or call.b != number:
            return
        call.connected = True
        self._set(self.stations[call.a], "talking", call.b)
        self._set(self.stations[call.b], "talking", call.a)
        self._broadcast(
            ConnStatusBc(self._now(), call.connection, self._ref(call.a), self._ref(call.b))
        )

    def hang_up(self, number: str) -> None:
        """The station presses C: its call (or its dialling) ends."""
        station = self.stations.get(number)
        if station is None:
            return
        call = self._call_of(number)
        if call is None:
            if station.state != "idle":
                self._set(station, "idle", None)
                self._broadcast(StFreeBc(self._ref(number)))
            return
        self._end(call)

    def call_request(self, sender: str, receiver: str) -> None:
        """Station ``sender`` asks ``receiver`` to call back (a door station's button)."""
        self._queue_mail(self.stations[receiver], sender, "Call request", call_request=True)

    def set_down(self, number: str, down: bool) -> None:
        """Take a station out of order (or back)."""
        station = self.stations[number]
        station.down = down
        self.changed(station)

    # -- internals ----------------------------------------------------------------------

    def _park(self, number: str) -> None:
        call = self._call_of(number)
        if call is not None and call.connected:
            self._set(self.stations[number], "inquiry", self.stations[number].peer)

    def _transfer(self, message: ReqTransfCall) -> Message:
        number = message.a_station.number if message.a_station else None
        target = message.destination.number or ""
        call = self._call_of(number or "")
        if number is None or call is None or self.stations[number].state != "inquiry":
            return CommandResponse(message.MESSAGE_ID, 4)
        if target not in self.stations or self.stations[target].state != "idle":
            return CommandResponse(message.MESSAGE_ID, 2)
        parked = call.b if call.a == number else call.a
        self._end(call, keep=parked)
        self.call(parked, target)
        return CommandResponse(message.MESSAGE_ID, 1)

    def _end(self, call: _Call, keep: str | None = None) -> None:
        self._calls.remove(call)
        for number in (call.a, call.b):
            station = self.stations[number]
            if number == keep:
                self._set(station, "dialing", None)
                continue
            self._set(station, "idle", None)
            self._broadcast(StFreeBc(self._ref(number)))
        self._broadcast(
            DisconStatusBc(self._now(), call.connection, self._ref(call.a), self._ref(call.b))
        )

    def _queue_mail(
        self, receiver: Station, sender: str | None, text: str, *, call_request: bool
    ) -> None:
        receiver.mail = [*receiver.mail, {"from": sender, "text": text}][-MAX_MAIL:]
        self.changed(receiver)
        mail_number = NORMAL_CALL_REQUEST if call_request else 0
        self._broadcast(
            QElemAdded(
                self._now(),
                self._ref(receiver.number),
                len(receiver.mail),
                100,
                len(receiver.mail),
                len(text),
                0,
                NetObjRef.local_entity(self.node, ECL_MAIL, mail_number),
                self._ref(sender) if sender else NetObjRef(0),
                NetObjRef(0),
                text[:16],
            )
        )

    def _call_of(self, number: str) -> _Call | None:
        return next((c for c in self._calls if number in (c.a, c.b)), None)

    def _set(self, station: Station, state: str, peer: str | None) -> None:
        station.state, station.peer = state, peer
        self.changed(station)

    def _ref(self, number: str) -> NetObjRef:
        return NetObjRef.local_dirno(number, self.node)

    def _now(self) -> Clock:
        return Clock.from_datetime(self._clock())

    def _broadcast(self, message: Message) -> None:
        reference = next(self._broadcast_references) & 0xFFFF
        # The router numbers broadcasts with a one-byte sequence option (never 0).
        sequence = bytes([reference % 255 + 1])
        dst = Address(self.node, BROADCAST_ALL)
        self.broadcast(Packet(self.address, dst, reference, message, hop_count=1, options=sequence))
