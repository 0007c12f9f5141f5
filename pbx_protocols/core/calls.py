"""Per-call state tracking: every extension's line state is derived from all its calls.

Stacks translate their wire events into :meth:`CallTracker.update` and :meth:`CallTracker.end`
calls; the tracker decides which vendor-neutral events happened. Because calls are keyed by
call id, a second call ending never resets a line that is still talking (the complaint
behind home-assistant/core#95191).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from .errors import Refusal
from .model import (
    LINE_STATE_OF_CALL,
    CallEvent,
    CallEventKind,
    CallInfo,
    CallState,
    Direction,
    EndReason,
    ExtensionSnapshot,
    LineState,
    current_call,
)

_LOGGER = logging.getLogger(__name__)

#: Event for a call that appears in a state, or moves between two states.
_APPEAR_KIND: dict[CallState, CallEventKind] = {
    CallState.DIALING: CallEventKind.ORIGINATED,
    CallState.RINGING: CallEventKind.RINGING,
    CallState.TALKING: CallEventKind.ANSWERED,
    CallState.HELD: CallEventKind.HELD,
}
_TRANSITION_KIND: dict[tuple[CallState, CallState], CallEventKind] = {
    (CallState.DIALING, CallState.TALKING): CallEventKind.ANSWERED,
    (CallState.RINGING, CallState.TALKING): CallEventKind.ANSWERED,
    (CallState.TALKING, CallState.HELD): CallEventKind.HELD,
    (CallState.DIALING, CallState.HELD): CallEventKind.HELD,
    (CallState.HELD, CallState.TALKING): CallEventKind.RETRIEVED,
    (CallState.RINGING, CallState.DIALING): CallEventKind.ORIGINATED,
    (CallState.DIALING, CallState.RINGING): CallEventKind.RINGING,
}
_END_KIND: dict[EndReason, CallEventKind] = {
    EndReason.FAILED: CallEventKind.FAILED,
    EndReason.DIVERTED: CallEventKind.DIVERTED,
    EndReason.TRANSFERRED: CallEventKind.TRANSFERRED,
    EndReason.ANSWERED_ELSEWHERE: CallEventKind.ENDED,
}


#: Calls one extension may have at once. Real phones have a handful of lines; a PBX that
#: names more (events lost, or a hostile peer) has the oldest forgotten, quietly.
MAX_CALLS_PER_EXTENSION: Final = 16


def utc_now() -> datetime:
    """Return the current time; the tracker's default clock."""
    return datetime.now(UTC)


@dataclass(slots=True)
class _Extension:
    number: str
    name: str | None
    online: bool = True
    #: Whether the PBX reports this extension's calls (its monitor is running).
    monitored: bool = True
    calls: dict[str, CallInfo] = field(default_factory=dict)
    #: Calls recorded quietly (e.g. off-hook, nothing dialled yet): their first real update
    #: announces them.
    unannounced: set[str] = field(default_factory=set)
    #: The last snapshot handed out; None once anything about the extension changed.
    snapshot: ExtensionSnapshot | None = None


class CallTracker:
    """Tracks the calls of every extension of one PBX and derives line states.

    Per-extension work is independent of the number of extensions: snapshots are cached
    and rebuilt only for extensions that changed, and changes are tracked as they happen.
    """

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._extensions: dict[str, _Extension] = {}
        self._link_up = False
        #: Changed extensions in the order they changed (a dict as an ordered set).
        self._changed: dict[str, None] = {}
        #: Which extensions take part in each call.
        self._parties: dict[str, set[str]] = {}
        #: How many snapshots were computed (tests pin the O(1) behaviour with it).
        self.snapshot_computations = 0

    # -- extensions ---------------------------------------------------------------------

    def add_extension(
        self, number: str, name: str | None = None, *, monitored: bool | None = None
    ) -> None:
        """Start tracking an extension (idempotent; a new name replaces the old one)."""
        existing = self._extensions.get(number)
        if existing is None:
            existing = self._extensions[number] = _Extension(number, name)
        elif name is not None:
            existing.name = name
        if monitored is not None:
            existing.monitored = monitored
        self._touch(existing)

    def set_monitored(self, number: str, monitored: bool) -> None:
        """Record whether the PBX reports an extension's calls; unmonitored lines are unknown."""
        extension = self._extensions.get(number)
        if extension is not None and extension.monitored != monitored:
            extension.monitored = monitored
            self._touch(extension)

    def remove_extension(self, number: str) -> None:
        """Stop tracking an extension."""
        extension = self._extensions.pop(number, None)
        self._changed.pop(number, None)
        if extension is not None:
            for call_id in extension.calls:
                self._unlink(call_id, number)

    def __contains__(self, number: object) -> bool:
        return number in self._extensions

    def __len__(self) -> int:
        return len(self._extensions)

    @property
    def extension_numbers(self) -> list[str]:
        """Numbers of all tracked extensions, in the order they were added."""
        return list(self._extensions)

    # -- link ---------------------------------------------------------------------------

    def set_link_up(self, up: bool) -> None:
        """Record whether the link to the PBX is up; while down, every line is unknown.

        Calls are kept while the link is down, so that the resynchronisation after the
        reconnect can report what changed in between.
        """
        if up != self._link_up:
            for extension in self._extensions.values():
                self._touch(extension)
        self._link_up = up

    def pop_changed(self) -> list[str]:
        """Numbers of the extensions whose snapshot changed since the last call."""
        changed = [number for number in self._changed if number in self._extensions]
        self._changed.clear()
        return changed

    @property
    def link_up(self) -> bool:
        """Whether the link to the PBX is up."""
        return self._link_up

    # -- snapshots ----------------------------------------------------------------------

    def snapshot(self, number: str) -> ExtensionSnapshot:
        """Return the current view of one extension (KeyError if unknown)."""
        extension = self._extensions[number]
        if extension.snapshot is None:
            self.snapshot_computations += 1
            extension.snapshot = ExtensionSnapshot(
                number=number,
                name=extension.name,
                line_state=self._line_state(extension),
                calls=tuple(extension.calls.values()),
                monitored=extension.monitored,
            )
        return extension.snapshot

    def get(self, number: str) -> ExtensionSnapshot | None:
        """Return the current view of one extension, or None if it is not tracked."""
        return self.snapshot(number) if number in self._extensions else None

    def snapshots(self) -> dict[str, ExtensionSnapshot]:
        """Return the current view of every extension."""
        return {number: self.snapshot(number) for number in self._extensions}

    @property
    def active_call_count(self) -> int:
        """Calls going on now, counted once however many extensions share them."""
        return len(self._parties)

    def extensions_in_call(self, call_id: str) -> list[str]:
        """Numbers of the extensions that currently take part in a call."""
        return list(self._parties.get(call_id, ()))

    def call(self, number: str, call_id: str) -> CallInfo | None:
        """Return one call of an extension, if it is tracked."""
        extension = self._extensions.get(number)
        return extension.calls.get(call_id) if extension else None

    # -- updates ------------------------------------------------------------------------

    def update(
        self,
        number: str,
        call_id: str,
        state: CallState,
        *,
        direction: Direction | None = None,
        calling: str | None = None,
        called: str | None = None,
        peer: str | None = None,
        kind: CallEventKind | None = None,
        quiet: bool = False,
        vendor: Mapping[str, Any] | None = None,
    ) -> list[CallEvent]:
        """Record that a call at an extension is now in ``state``; return what happened.

        ``kind`` forces the event kind (e.g. transferred) where the state alone cannot tell.
        ``quiet`` records a new call without an event; its next update announces it.
        Fields left as None keep their previous value.
        """
        extension = self._ensure(number)
        self._touch(extension)
        calls = extension.calls
        previous = calls.get(call_id)
        if previous is None and len(calls) >= MAX_CALLS_PER_EXTENSION:
            self._forget_oldest_call(extension)
        if previous is not None and call_id in extension.unannounced:
            extension.unannounced.discard(call_id)
            kind = kind or _APPEAR_KIND[state]
        if previous is None:
            info = CallInfo(
                call_id=call_id,
                state=state,
                direction=direction or _direction_of_new_call(state),
                calling=calling,
                called=called,
                peer=peer,
                started=self._clock(),
                answered=state is CallState.TALKING,
            )
            event_kind: CallEventKind | None = kind or _APPEAR_KIND[state]
        else:
            # Built directly: dataclasses.replace costs twice as much, once per report.
            info = CallInfo(
                call_id=call_id,
                state=state,
                direction=direction or previous.direction,
                calling=calling or previous.calling,
                called=called or previous.called,
                peer=peer or previous.peer,
                started=previous.started,
                answered=previous.answered or state is CallState.TALKING,
            )
            event_kind = kind or _TRANSITION_KIND.get((previous.state, state))
        calls[call_id] = info
        self._parties.setdefault(call_id, set()).add(number)
        if quiet and previous is None:
            extension.unannounced.add(call_id)
            return []
        if event_kind is None:
            return []
        return [self._event(extension, event_kind, info, vendor)]

    def end(
        self,
        number: str,
        call_id: str,
        reason: EndReason = EndReason.NORMAL,
        *,
        quiet: bool = False,
        failure: Refusal | None = None,
        vendor: Mapping[str, Any] | None = None,
    ) -> list[CallEvent]:
        """Record that a call left an extension; unknown calls are ignored.

        A call that was never announced, or ``quiet``, leaves without an event.
        """
        extension = self._extensions.get(number)
        if extension is None or call_id not in extension.calls:
            return []
        info = extension.calls.pop(call_id)
        self._unlink(call_id, number)
        self._touch(extension)
        if call_id in extension.unannounced or quiet:
            extension.unannounced.discard(call_id)
            return []
        kind = _END_KIND.get(reason)
        if kind is None:
            missed = info.direction is Direction.INCOMING and not info.answered
            kind = CallEventKind.MISSED if missed else CallEventKind.ENDED
        return [self._event(extension, kind, info, vendor, failure)]

    def end_call(
        self,
        call_id: str,
        reason: EndReason = EndReason.NORMAL,
        *,
        vendor: Mapping[str, Any] | None = None,
    ) -> list[CallEvent]:
        """Record that a call ended everywhere (e.g. CSTA callCleared)."""
        events: list[CallEvent] = []
        for number in self.extensions_in_call(call_id):
            events += self.end(number, call_id, reason, vendor=vendor)
        return events

    def rename(
        self,
        number: str,
        old_call_id: str,
        new_call_id: str,
        *,
        peer: str | None = None,
        kind: CallEventKind | None = None,
        vendor: Mapping[str, Any] | None = None,
    ) -> list[CallEvent]:
        """Move a call to a new call id (transfer, conference), keeping its history."""
        extension = self._extensions.get(number)
        if extension is None or old_call_id not in extension.calls:
            return []
        info = extension.calls.pop(old_call_id)
        self._unlink(old_call_id, number)
        self._touch(extension)
        info = replace(info, call_id=new_call_id, peer=peer or info.peer)
        extension.calls[new_call_id] = info
        self._parties.setdefault(new_call_id, set()).add(number)
        if old_call_id in extension.unannounced:
            extension.unannounced.discard(old_call_id)
            extension.unannounced.add(new_call_id)
        return [self._event(extension, kind, info, vendor)] if kind else []

    def set_online(
        self, number: str, online: bool, *, vendor: Mapping[str, Any] | None = None
    ) -> list[CallEvent]:
        """Record that an extension went in or out of service."""
        extension = self._ensure(number)
        if extension.online == online:
            return []
        extension.online = online
        self._touch(extension)
        kind = CallEventKind.ONLINE if online else CallEventKind.OFFLINE
        return [self._event(extension, kind, None, vendor)]

    def notify(
        self,
        number: str,
        kind: CallEventKind,
        *,
        peer: str | None = None,
        calling: str | None = None,
        called: str | None = None,
        vendor: Mapping[str, Any] | None = None,
    ) -> list[CallEvent]:
        """An event about an extension that changes none of its calls (a call request)."""
        extension = self._ensure(number)
        event = self._event(extension, kind, None, vendor)
        return [replace(event, peer=peer, calling=calling, called=called)]

    def resynchronise(
        self,
        number: str,
        calls: Iterable[CallInfo],
        *,
        vendor: Mapping[str, Any] | None = None,
    ) -> list[CallEvent]:
        """Replace an extension's calls with the PBX's snapshot; report what changed.

        Calls that vanished while the link was down end (as missed if they only rang);
        new or changed calls produce the events a live observer would have seen.
        """
        extension = self._ensure(number)
        current = {call.call_id: call for call in calls}
        detail = {"resynchronised": True, **(vendor or {})}
        events: list[CallEvent] = []
        for call_id in list(extension.calls):
            if call_id not in current:
                events += self.end(number, call_id, vendor=detail)
        for call in current.values():
            events += self.update(
                number,
                call.call_id,
                call.state,
                direction=call.direction,
                calling=call.calling,
                called=call.called,
                peer=call.peer,
                vendor=detail,
            )
        return events

    # -- internals ----------------------------------------------------------------------

    def _ensure(self, number: str) -> _Extension:
        extension = self._extensions.get(number)
        if extension is None:
            extension = self._extensions[number] = _Extension(number, None)
            self._touch(extension)
        return extension

    def _touch(self, extension: _Extension) -> None:
        extension.snapshot = None
        self._changed[extension.number] = None

    def _unlink(self, call_id: str, number: str) -> None:
        parties = self._parties.get(call_id)
        if parties is not None:
            parties.discard(number)
            if not parties:
                del self._parties[call_id]

    def _forget_oldest_call(self, extension: _Extension) -> None:
        oldest = next(iter(extension.calls))
        del extension.calls[oldest]
        extension.unannounced.discard(oldest)
        self._unlink(oldest, extension.number)
        _LOGGER.debug("Extension %s has too many calls; forgetting %s", extension.number, oldest)

    def _line_state(self, extension: _Extension) -> LineState:
        if not self._link_up:
            return LineState.UNKNOWN
        if not extension.monitored:
            return LineState.UNKNOWN
        if not extension.online:
            return LineState.OFFLINE
        current = current_call(extension.calls.values())
        return LINE_STATE_OF_CALL[current.state] if current else LineState.IDLE

    def _event(
        self,
        extension: _Extension,
        kind: CallEventKind,
        info: CallInfo | None,
        vendor: Mapping[str, Any] | None,
        failure: Refusal | None = None,
    ) -> CallEvent:
        # The snapshot carries the line state; the change's publication reuses it.
        return CallEvent(
            extension=extension.number,
            kind=kind,
            line_state=self.snapshot(extension.number).line_state,
            timestamp=self._clock(),
            call_id=info.call_id if info else None,
            direction=info.direction if info else None,
            calling=info.calling if info else None,
            called=info.called if info else None,
            peer=info.peer if info else None,
            failure=failure,
            vendor=dict(vendor) if vendor else {},
        )


def _direction_of_new_call(state: CallState) -> Direction | None:
    if state is CallState.RINGING:
        return Direction.INCOMING
    if state is CallState.DIALING:
        return Direction.OUTGOING
    return None
