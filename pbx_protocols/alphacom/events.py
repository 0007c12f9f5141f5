"""AlphaCom broadcasts -> the vendor-neutral call model (per call, as for every stack).

The exchange reports stations busy and free (ST_BUSY_BC/ST_FREE_BC), that A calls B and how
(CALL_STATUS_BC: open, private, busy, no access), that A and B are connected
(CONN_STATUS_BC, with a connection reference) and disconnected (DISCON_STATUS_BC). It names
no call id before the connection, so a call is identified by its (A, B) pair until it has
a connection reference; our call ids are our own counter.

A station that turns busy without a call yet (handset lifted, digits being dialled) shows
as dialing, announced by the call it makes. Mail queued as a call request (Q_ELEM_ADDED,
or SEND_TXT_MAIL/SEND_MAIL with the call-request flag) is a ``call_request`` event at the
station that asks.
"""

from __future__ import annotations

import itertools
import logging
from typing import Final

from ..core.calls import CallTracker
from ..core.errors import Refusal
from ..core.model import CallEvent, CallEventKind, CallState, Direction, EndReason
from .codec import Packet
from .datatypes import NetObjFormat, NetObjRef
from .messages import (
    CALL_MODE_BUSY,
    CALL_MODE_NO_ACCESS,
    CALL_MODE_OPEN,
    CALL_MODE_PRIVATE,
    MAIL_FLAG_CALL_REQUEST,
    CallStatusBc,
    ConnStatusBc,
    DisconStatusBc,
    QElemAdded,
    SendMail,
    SendTxtMail,
    StBusyBc,
    StFreeBc,
)

_LOGGER = logging.getLogger(__name__)

#: Stations learned from broadcasts, at most (a hostile peer must not grow the model).
MAX_LEARNED_STATIONS: Final = 4096
#: Calls followed at once, at most, by (A, B) pair and by connection reference.
MAX_OPEN_CALLS: Final = 4096

CALL_REQUEST_MAILS: Final = frozenset({17, 18})
"""Mail individ numbers that mean "call me back" (17 alarm call request, 18 normal call
request; SEND_MAIL page). Unverified: how Q_ELEM_ADDED names them (here: the last byte of
the mail reference, whatever its entity class value, which is not documented)."""

_CALL_MODES: Final = {
    CALL_MODE_NO_ACCESS: "no_access",
    CALL_MODE_OPEN: "open",
    CALL_MODE_PRIVATE: "private",
    CALL_MODE_BUSY: "busy",
}
_FAILED_MODES: Final = {
    CALL_MODE_BUSY: Refusal.NUMBER_BUSY,
    CALL_MODE_NO_ACCESS: Refusal.NOT_ALLOWED,
}


def _is_call_request(mail: NetObjRef | None) -> bool:
    return bool(mail and mail.content and mail.content[-1] in CALL_REQUEST_MAILS)


def placeholder_id(number: str) -> str:
    """Call id of a station that is busy without a known call."""
    return f"busy-{number}"


class BroadcastMapper:
    """Turns the exchange's broadcasts into tracker updates; returns the events."""

    def __init__(self, tracker: CallTracker, node: int, *, learn: bool = True) -> None:
        self.tracker = tracker
        self.node = node
        self.learn = learn
        self._ids = itertools.count(1)
        self._by_pair: dict[tuple[str, str], str] = {}
        self._by_connection: dict[int, str] = {}

    def apply(self, packet: Packet) -> list[CallEvent]:
        """Events of one packet (none for messages that are not about calls)."""
        message = packet.message
        if isinstance(message, StBusyBc):
            return self._busy(message.station)
        if isinstance(message, StFreeBc):
            return self._free(message.station)
        if isinstance(message, CallStatusBc):
            return self._call_status(message)
        if isinstance(message, ConnStatusBc):
            return self._connected(message.connection, message.a, message.b)
        if isinstance(message, DisconStatusBc):
            return self._disconnected(message.connection, message.a, message.b)
        if isinstance(message, QElemAdded) and _is_call_request(message.mail):
            return self._call_request(message.sender, message.queue)
        if isinstance(message, (SendTxtMail, SendMail)) and (
            (message.flags or 0) & MAIL_FLAG_CALL_REQUEST
        ):
            return self._call_request(message.sender, message.receiver)
        return []

    # -- stations -----------------------------------------------------------------------

    def station(self, reference: NetObjRef | None) -> str | None:
        """The extension number of a station of our node (learning it if allowed)."""
        number = self.party(reference)
        if number is None or reference is None or reference.node not in (None, self.node):
            return None
        if number not in self.tracker:
            if not self.learn or len(self.tracker) >= MAX_LEARNED_STATIONS:
                return None
            self.tracker.add_extension(number)
        return number

    @staticmethod
    def party(reference: NetObjRef | None) -> str | None:
        """A peer as a number (any node), or None if the reference has none."""
        if reference is None or reference.format not in (
            NetObjFormat.LOCAL_DIRNO,
            NetObjFormat.DIGIT_STRING,
        ):
            return None
        return reference.number or None

    def _busy(self, reference: NetObjRef) -> list[CallEvent]:
        number = self.station(reference)
        if number is None or self.tracker.snapshot(number).calls:
            return []
        return self.tracker.update(number, placeholder_id(number), CallState.DIALING, quiet=True)

    def _free(self, reference: NetObjRef) -> list[CallEvent]:
        number = self.station(reference)
        if number is None:
            return []
        events: list[CallEvent] = []
        for call in self.tracker.snapshot(number).calls:
            events += self.tracker.end(number, call.call_id)
            self._forget_if_over(call.call_id)
        return events

    # -- calls --------------------------------------------------------------------------

    def _call_id(self, a: str, b: str) -> str:
        call_id = self._by_pair.get((a, b))
        if call_id is None:
            if len(self._by_pair) >= MAX_OPEN_CALLS:
                self._by_pair.pop(next(iter(self._by_pair)))
            call_id = self._by_pair[(a, b)] = f"{next(self._ids):x}"
        return call_id

    def _adopt(self, number: str, call_id: str) -> None:
        """Move a station's placeholder (busy, no call yet) onto the call it turned out to be."""
        if self.tracker.call(number, call_id) is None:
            self.tracker.rename(number, placeholder_id(number), call_id)

    def _call_status(self, message: CallStatusBc) -> list[CallEvent]:
        a_party, b_party = self.party(message.a), self.party(message.b)
        if a_party is None or b_party is None:
            return []
        call_id = self._call_id(a_party, b_party)
        mode = message.call_mode
        vendor = {"call_mode": _CALL_MODES.get(mode or -1, str(mode)), "priority": message.priority}
        events: list[CallEvent] = []
        if (a := self.station(message.a)) is not None:
            self._adopt(a, call_id)
            events += self.tracker.update(
                a,
                call_id,
                CallState.DIALING,
                direction=Direction.OUTGOING,
                calling=a,
                called=b_party,
                peer=b_party,
                vendor=vendor,
            )
            if mode in _FAILED_MODES:
                events += self.tracker.end(
                    a, call_id, EndReason.FAILED, failure=_FAILED_MODES[mode], vendor=vendor
                )
        if mode in _FAILED_MODES:
            self._forget_if_over(call_id)
            return events
        if (b := self.station(message.b)) is not None:
            self._adopt(b, call_id)
            events += self.tracker.update(
                b,
                call_id,
                CallState.RINGING,
                direction=Direction.INCOMING,
                calling=a_party,
                called=b,
                peer=a_party,
                vendor=vendor,
            )
        return events

    def _connected(self, connection: int, a_ref: NetObjRef, b_ref: NetObjRef) -> list[CallEvent]:
        a_party, b_party = self.party(a_ref), self.party(b_ref)
        if a_party is None or b_party is None:
            return []
        call_id = self._by_pair.get((b_party, a_party)) or self._call_id(a_party, b_party)
        if len(self._by_connection) >= MAX_OPEN_CALLS:
            self._by_connection.pop(next(iter(self._by_connection)))
        self._by_connection[connection] = call_id
        events: list[CallEvent] = []
        for reference, peer in ((a_ref, b_party), (b_ref, a_party)):
            number = self.station(reference)
            if number is not None:
                self._adopt(number, call_id)
                events += self.tracker.update(
                    number, call_id, CallState.TALKING, peer=peer, vendor={"connection": connection}
                )
        return events

    def _disconnected(
        self, connection: int, a_ref: NetObjRef | None, b_ref: NetObjRef | None
    ) -> list[CallEvent]:
        call_id = self._by_connection.pop(connection, None)
        a_party, b_party = self.party(a_ref), self.party(b_ref)
        if call_id is None and a_party is not None and b_party is not None:
            call_id = self._by_pair.get((a_party, b_party)) or self._by_pair.get((b_party, a_party))
        if call_id is None:
            return []
        events = self.tracker.end_call(call_id, vendor={"connection": connection})
        self._forget_if_over(call_id)
        return events

    def _forget_if_over(self, call_id: str) -> None:
        if self.tracker.extensions_in_call(call_id):
            return
        for pair in [pair for pair, known in self._by_pair.items() if known == call_id]:
            del self._by_pair[pair]
        for connection in [c for c, known in self._by_connection.items() if known == call_id]:
            del self._by_connection[connection]

    def _call_request(
        self, sender: NetObjRef | None, receiver: NetObjRef | None
    ) -> list[CallEvent]:
        asking = self.station(sender)
        target = self.party(receiver)
        if asking is None:
            asking, target = self.station(receiver), self.party(sender)
        if asking is None:
            return []
        return self.tracker.notify(
            asking,
            CallEventKind.CALL_REQUEST,
            peer=target,
            calling=asking,
            called=target,
            vendor={"to": target},
        )
