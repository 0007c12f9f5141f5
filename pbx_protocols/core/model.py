"""Vendor-neutral data model: line states, calls, events and what a PBX can do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import Refusal


class LineState(StrEnum):
    """What an extension's line is doing, derived from all of its calls."""

    IDLE = "idle"
    DIALING = "dialing"
    RINGING = "ringing"
    TALKING = "talking"
    HELD = "held"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class CallState(StrEnum):
    """State of one call at one extension (one connection, in CSTA terms)."""

    DIALING = "dialing"
    RINGING = "ringing"
    TALKING = "talking"
    HELD = "held"


class CallEventKind(StrEnum):
    """What happened to a call or an extension."""

    ORIGINATED = "originated"
    RINGING = "ringing"
    ANSWERED = "answered"
    HELD = "held"
    RETRIEVED = "retrieved"
    TRANSFERRED = "transferred"
    DIVERTED = "diverted"
    CONFERENCED = "conferenced"
    ENDED = "ended"
    MISSED = "missed"
    FAILED = "failed"
    ONLINE = "online"
    OFFLINE = "offline"
    #: A station asks to be called back (an intercom's call request: the doorbell case).
    CALL_REQUEST = "call_request"


class Direction(StrEnum):
    """Direction of a call, seen from the extension."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


class EndReason(StrEnum):
    """Why a call left an extension; decides between ended, missed, failed and friends."""

    NORMAL = "normal"
    FAILED = "failed"
    DIVERTED = "diverted"
    TRANSFERRED = "transferred"
    ANSWERED_ELSEWHERE = "answered_elsewhere"


class ConnectionState(StrEnum):
    """State of the link between the client and the PBX."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    AUTHENTICATION_FAILED = "authentication_failed"
    CLOSED = "closed"


class Capability(StrEnum):
    """Call-control features; a client lists the ones its PBX supports."""

    MAKE_CALL = "make_call"
    ANSWER_CALL = "answer_call"
    HANG_UP = "hang_up"
    HOLD_CALL = "hold_call"
    RETRIEVE_CALL = "retrieve_call"
    TRANSFER_CALL = "transfer_call"
    DIAL_DIGITS = "dial_digits"
    DISPLAY_TEXT = "display_text"
    SEND_MESSAGE = "send_message"


@dataclass(frozen=True, slots=True)
class CallInfo:
    """One call at one extension."""

    call_id: str
    state: CallState
    direction: Direction | None = None
    calling: str | None = None
    called: str | None = None
    peer: str | None = None
    started: datetime | None = None
    answered: bool = False


@dataclass(frozen=True, slots=True)
class ExtensionSnapshot:
    """An extension as the client currently sees it."""

    number: str
    name: str | None = None
    line_state: LineState = LineState.UNKNOWN
    calls: tuple[CallInfo, ...] = ()
    #: Whether the PBX reports this extension's calls yet (its monitor runs).
    monitored: bool = True

    @property
    def current_call(self) -> CallInfo | None:
        """The call that decides the line state (the most active one), if any."""
        return current_call(self.calls)


def current_call(calls: Iterable[CallInfo]) -> CallInfo | None:
    """Of an extension's calls, the one that decides its line state (the most active)."""
    # A loop, not max(key=...): this runs for every report, mostly over one call.
    chosen, chosen_priority = None, -1
    for call in calls:
        priority = _CALL_PRIORITY[call.state]
        if priority > chosen_priority:  # the first of equals wins, as with max()
            chosen, chosen_priority = call, priority
    return chosen


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Something that happened at an extension, with the line state it left behind."""

    extension: str
    kind: CallEventKind
    line_state: LineState
    timestamp: datetime
    call_id: str | None = None
    direction: Direction | None = None
    calling: str | None = None
    called: str | None = None
    peer: str | None = None
    #: Why the call failed (``failed`` events), when the PBX said.
    failure: Refusal | None = None
    vendor: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dict with a stable set of keys."""
        return {
            "extension": self.extension,
            "event": self.kind.value,
            "state": self.line_state.value,
            "call_id": self.call_id,
            "direction": self.direction.value if self.direction else None,
            "calling": self.calling,
            "called": self.called,
            "peer": self.peer,
            "failure": self.failure.value if self.failure else None,
            "timestamp": self.timestamp.isoformat(),
            "vendor": self.vendor,
        }


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A finished call as the PBX's call detail record (CDR) describes it.

    ``extension`` is the PBX's own party (calling for outgoing calls, called for incoming
    ones); ``trunk`` the outside line it used, if any; ``condition`` the vendor's note on
    how the call went (transferred, forwarded, not answered, ...).
    """

    timestamp: datetime
    extension: str | None = None
    calling: str | None = None
    called: str | None = None
    direction: Direction | None = None
    trunk: str | None = None
    started: datetime | None = None
    answered: datetime | None = None
    ended: datetime | None = None
    duration: float | None = None
    condition: str | None = None
    vendor: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dict with a stable set of keys."""

        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "record": "call",
            "timestamp": self.timestamp.isoformat(),
            "extension": self.extension,
            "calling": self.calling,
            "called": self.called,
            "direction": self.direction.value if self.direction else None,
            "trunk": self.trunk,
            "started": when(self.started),
            "answered": when(self.answered),
            "ended": when(self.ended),
            "duration": self.duration,
            "condition": self.condition,
            "vendor": self.vendor,
        }


@dataclass(frozen=True, slots=True)
class PbxInfo:
    """Identity of the PBX a client talks to."""

    vendor: str
    model: str
    unique_id: str
    name: str
    firmware: str | None = None
    #: Where it is, when the model alone does not say which PBX it is (a remote site).
    location: str | None = None


#: Which call decides the line state when an extension has several: a conversation beats
#: dialing, which beats ringing (call waiting), which beats a call on hold.
_CALL_PRIORITY: dict[CallState, int] = {
    CallState.HELD: 0,
    CallState.RINGING: 1,
    CallState.DIALING: 2,
    CallState.TALKING: 3,
}

LINE_STATE_OF_CALL: dict[CallState, LineState] = {
    CallState.DIALING: LineState.DIALING,
    CallState.RINGING: LineState.RINGING,
    CallState.TALKING: LineState.TALKING,
    CallState.HELD: LineState.HELD,
}
