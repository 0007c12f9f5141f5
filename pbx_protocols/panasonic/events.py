"""CSTA event reports and device snapshots, mapped onto the vendor-neutral call tracker.

Every event report arrives on the monitor of one extension (its cross reference). The
mapper translates it into what that extension's call did: dialling, ringing, talking,
held, or gone (and why).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from ..core.calls import CallTracker
from ..core.model import CallEvent, CallEventKind, CallInfo, CallState, Direction, EndReason
from .devices import call_id_of, connection_device, subject_number
from .refusals import failure_of

_LOGGER = logging.getLogger(__name__)

type Report = dict[str, Any]
type Handler = Callable[[str, Report, dict[str, Any]], list[CallEvent]]

#: Clearing causes that mean "the call went on elsewhere", not "nobody answered".
_ELSEWHERE_CAUSES: Final = frozenset({"callPickup", "activeParticipation"})
#: Conference calls remembered at once; the oldest is forgotten first. Every call id comes
#: from the PBX, so the set must not grow with whatever it names.
MAX_CONFERENCES: Final = 256
_DIVERT_CAUSES: Final = frozenset(
    {"redirected", "callForward", "callForwardImmediate", "callForwardBusy", "callForwardNoAnswer"}
)


class EventMapper:
    """Applies CSTA event reports to a CallTracker; knows which monitor is which extension."""

    def __init__(self, tracker: CallTracker) -> None:
        self._tracker = tracker
        self._monitors: dict[bytes, str] = {}
        self._cross_refs: dict[str, bytes] = {}
        #: Calls known to be conferences (an ordered set, oldest first, bounded).
        self._conferences: dict[str, None] = {}
        self._handlers: dict[str, Handler] = {
            "serviceInitiated": self._service_initiated,
            "originated": self._originated,
            "delivered": self._delivered,
            "established": self._established,
            "held": self._held,
            "retrieved": self._retrieved,
            "connectionCleared": self._connection_cleared,
            "failed": self._failed,
            "diverted": self._diverted,
            "transferred": self._transferred,
            "conferenced": self._conferenced,
            "queued": self._queued,
            "networkReached": self._network_reached,
            "callCleared": self._call_cleared,
        }

    def add_monitor(self, cross_ref: bytes, extension: str) -> None:
        """Remember that reports with ``cross_ref`` concern ``extension``."""
        previous = self._cross_refs.pop(extension, None)
        if previous is not None:
            self._monitors.pop(previous, None)
        self._monitors[bytes(cross_ref)] = extension
        self._cross_refs[extension] = bytes(cross_ref)

    def cross_ref_of(self, extension: str) -> bytes | None:
        """The cross reference of an extension's monitor, if it runs."""
        return self._cross_refs.get(extension)

    def monitored(self, cross_ref: bytes) -> str | None:
        """Return the extension a cross reference belongs to."""
        return self._monitors.get(bytes(cross_ref))

    def apply(self, report: Report) -> list[CallEvent]:
        """Apply one CSTAEventReportArgument; return the vendor-neutral events."""
        extension = self._monitors.get(bytes(report["crossRefIdentifier"]))
        if extension is None:
            _LOGGER.debug("Event for unknown monitor %s", bytes(report["crossRefIdentifier"]).hex())
            return []
        family, (name, event) = report["eventSpecificInfo"]
        if family == "deviceMaintenanceEvents" and name in ("backInService", "outOfService"):
            online = name == "backInService"
            return self._tracker.set_online(extension, online, vendor={"csta_event": name})
        handler = self._handlers.get(name) if family == "callControlEvents" else None
        if handler is None:
            return []
        detail = {"csta_event": name, "cause": event.get("cause")}
        return handler(extension, event, detail)

    # -- call control events, each from the monitored extension's point of view ----------

    def _service_initiated(
        self, ext: str, event: Report, detail: dict[str, Any]
    ) -> list[CallEvent]:
        # Off-hook: the line is dialling, but the number follows with "originated".
        call = call_id_of(event["initiatedConnection"])
        if call is None or subject_number(event["initiatingDevice"]) not in (ext, None):
            return []
        return self._tracker.update(
            ext, call, CallState.DIALING, direction=Direction.OUTGOING, calling=ext, quiet=True
        )

    def _originated(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["originatedConnection"])
        calling = subject_number(event["callingDevice"])
        if call is None or calling not in (ext, None):
            return []
        called = subject_number(event["calledDevice"])
        return self._tracker.update(
            ext,
            call,
            CallState.DIALING,
            direction=Direction.OUTGOING,
            calling=calling or ext,
            called=called,
            peer=called,
            vendor=detail,
        )

    def _delivered(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["connection"])
        if call is None:
            return []
        alerting = subject_number(event["alertingDevice"])
        calling = subject_number(event["callingDevice"])
        called = subject_number(event["calledDevice"])
        if alerting == ext:
            return self._tracker.update(
                ext,
                call,
                CallState.RINGING,
                direction=Direction.INCOMING,
                calling=calling,
                called=called,
                peer=calling,
                vendor=detail,
            )
        # Our outgoing call now rings at ``alerting``.
        return self._tracker.update(
            ext,
            call,
            CallState.DIALING,
            direction=Direction.OUTGOING,
            calling=calling,
            called=called,
            peer=alerting,
            vendor=detail,
        )

    def _established(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["establishedConnection"])
        if call is None:
            return []
        answering = subject_number(event["answeringDevice"])
        calling = subject_number(event["callingDevice"])
        called = subject_number(event["calledDevice"])
        peer = calling if answering == ext else answering
        direction = Direction.INCOMING if answering == ext else Direction.OUTGOING
        return self._tracker.update(
            ext,
            call,
            CallState.TALKING,
            direction=direction,
            calling=calling,
            called=called,
            peer=peer,
            vendor=detail,
        )

    def _held(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["heldConnection"])
        if call is None or subject_number(event["holdingDevice"]) != ext:
            return []  # the other party put us on hold: our own line is unchanged
        return self._tracker.update(ext, call, CallState.HELD, vendor=detail)

    def _retrieved(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["retrievedConnection"])
        if call is None or subject_number(event["retrievingDevice"]) != ext:
            return []
        return self._tracker.update(ext, call, CallState.TALKING, vendor=detail)

    def _connection_cleared(
        self, ext: str, event: Report, detail: dict[str, Any]
    ) -> list[CallEvent]:
        call = call_id_of(event["droppedConnection"])
        if call is None:
            return []
        releasing = subject_number(event["releasingDevice"])
        ours = releasing == ext or connection_device(event["droppedConnection"]) == ext
        if not ours and call in self._conferences:
            return []  # one party left a conference; ours goes on
        # In a two-party call the other side hanging up ends our part as well.
        reason = _clearing_reason(event.get("cause"), ours)
        return self._tracker.end(ext, call, reason, vendor=detail)

    def _failed(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["failedConnection"])
        if call is None:
            return []
        failure = failure_of(event.get("cause"))
        return self._tracker.end(ext, call, EndReason.FAILED, failure=failure, vendor=detail)

    def _diverted(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["connection"])
        if call is None:
            return []
        if subject_number(event["divertingDevice"]) == ext:
            return self._tracker.end(ext, call, EndReason.DIVERTED, vendor=detail)
        new_destination = subject_number(event["newDestination"])
        current = self._tracker.call(ext, call)
        state = current.state if current else CallState.DIALING
        return self._tracker.update(ext, call, state, peer=new_destination, vendor=detail)

    def _transferred(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        old_calls = [
            call
            for call in (
                call_id_of(event["primaryOldCall"]),
                call_id_of(event.get("secondaryOldCall")),
            )
            if call is not None
        ]
        if subject_number(event["transferringDevice"]) == ext:
            events: list[CallEvent] = []
            for call in old_calls:
                events += self._tracker.end(ext, call, EndReason.TRANSFERRED, vendor=detail)
            return events
        return self._move_to_new_call(
            ext,
            old_calls,
            event["transferredConnections"],
            subject_number(event["transferredToDevice"]),
            CallEventKind.TRANSFERRED,
            detail,
        )

    def _conferenced(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        primary = call_id_of(event["primaryOldCall"])
        secondary = call_id_of(event.get("secondaryOldCall"))
        connections = event["conferenceConnections"]
        new_calls = {call_id_of(entry.get("newConnection")) for entry in connections} - {None}
        for call in new_calls:
            if call:
                self._remember_conference(call)
        old_calls = [call for call in (primary, secondary) if call is not None]
        events = self._move_to_new_call(
            ext,
            old_calls[:1],
            connections,
            subject_number(event["addedParty"]),
            CallEventKind.CONFERENCED,
            detail,
        )
        for call in old_calls[1:]:  # the conferencing party's second call merged into the first
            events += self._tracker.end(ext, call, quiet=True)
        return events

    def _queued(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["queuedConnection"])
        if call is None:
            return []
        queue = subject_number(event["queue"])
        calling = subject_number(event["callingDevice"])
        if queue == ext:
            return self._tracker.update(
                ext,
                call,
                CallState.RINGING,
                direction=Direction.INCOMING,
                calling=calling,
                peer=calling,
                vendor=detail,
            )
        return self._tracker.update(ext, call, CallState.DIALING, peer=queue, vendor=detail)

    def _network_reached(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["outboundConnection"])
        if call is None:
            return []
        called = subject_number(event["calledDevice"])
        return self._tracker.update(
            ext, call, CallState.DIALING, direction=Direction.OUTGOING, called=called, vendor=detail
        )

    def _call_cleared(self, ext: str, event: Report, detail: dict[str, Any]) -> list[CallEvent]:
        call = call_id_of(event["clearedCall"])
        if call is None:
            return []
        self._conferences.pop(call, None)
        return self._tracker.end(ext, call, vendor=detail)

    def _remember_conference(self, call: str) -> None:
        self._conferences[call] = None
        if len(self._conferences) > MAX_CONFERENCES:
            del self._conferences[next(iter(self._conferences))]  # the oldest

    def _move_to_new_call(
        self,
        ext: str,
        old_calls: list[str],
        connections: list[dict[str, Any]],
        fallback_peer: str | None,
        kind: CallEventKind,
        detail: dict[str, Any],
    ) -> list[CallEvent]:
        """Rename our call after a transfer or conference and name the new peer."""
        ours = [entry for entry in connections if _endpoint(entry) == ext]
        others = [_endpoint(entry) for entry in connections if _endpoint(entry) not in (ext, None)]
        new_call = call_id_of(ours[0].get("newConnection")) if ours else None
        old_call = call_id_of(ours[0].get("oldConnection")) if ours else None
        peer = others[0] if len(others) == 1 else fallback_peer
        for candidate in [old_call, *old_calls]:
            if candidate is not None and self._tracker.call(ext, candidate) is not None:
                return self._tracker.rename(
                    ext, candidate, new_call or candidate, peer=peer, kind=kind, vendor=detail
                )
        return []


def _endpoint(entry: dict[str, Any]) -> str | None:
    endpoint = entry.get("endpoint")
    if endpoint is not None and endpoint[0] == "deviceID":
        return subject_number(("deviceIdentifier", endpoint[1]))
    return connection_device(entry.get("newConnection")) or connection_device(
        entry.get("oldConnection")
    )


def _clearing_reason(cause: str | None, ours: bool) -> EndReason:
    if cause in _ELSEWHERE_CAUSES and ours:
        return EndReason.ANSWERED_ELSEWHERE
    if cause in _DIVERT_CAUSES and ours:
        return EndReason.DIVERTED
    return EndReason.NORMAL


# -- snapshots ---------------------------------------------------------------------------

#: Local connection state -> our call state, for compound (or decoded simple) call states.
_LOCAL_STATES: Final = {
    "initiated": CallState.DIALING,
    "alerting": CallState.RINGING,
    "queued": CallState.RINGING,
    "hold": CallState.HELD,
}
#: SimpleCallState -> (local, remote) connection states (ECMA-285 CSTA-status-reporting:
#: the low nibble of the value is the local connection, the high nibble the remote one).
_CONNECTION_STATES: Final = ("null", "initiated", "alerting", "connected", "hold", "queued", "fail")
_SIMPLE_STATES: Final = {
    "callNull": 0x00,
    "callPending": 0x01,
    "callOriginated": 0x03,
    "callDelivered": 0x23,
    "callDeliveredHeld": 0x24,
    "callReceived": 0x32,
    "callEstablished": 0x33,
    "callEstablishedHeld": 0x34,
    "callReceivedOnHold": 0x42,
    "callEstablishedOnHold": 0x43,
    "callQueued": 0x53,
    "callQueuedHeld": 0x54,
    "callFailed": 0x63,
    "callFailedHeld": 0x64,
    "callBlocked": 0x60,
}


def snapshot_calls(snapshot: list[dict[str, Any]]) -> list[CallInfo]:
    """Translate SnapshotDeviceData into the calls of the snapshot's device."""
    calls: list[CallInfo] = []
    for entry in snapshot:
        call_id = call_id_of(entry["connectionIdentifier"])
        states = _connection_states(entry["localCallState"])
        if call_id is None or states is None:
            continue
        local, remote = states
        state = _call_state(local, remote)
        if state is None:
            continue
        peer = subject_number(entry.get("endpointDevice"))
        if state is CallState.RINGING:
            direction: Direction | None = Direction.INCOMING
        elif local in ("initiated", "connected") and state is CallState.DIALING:
            direction = Direction.OUTGOING
        else:
            direction = None
        calls.append(CallInfo(call_id, state, direction=direction, peer=peer))
    return calls


def _connection_states(call_state: tuple[str, Any]) -> tuple[str, list[str]] | None:
    kind, value = call_state
    if kind == "compoundCallState" and value:
        return value[0], list(value[1:])
    if kind == "simpleCallState" and value in _SIMPLE_STATES:
        code = _SIMPLE_STATES[value]
        remote, local = code >> 4, code & 0x0F
        return _CONNECTION_STATES[local], [_CONNECTION_STATES[remote]]
    return None


def _call_state(local: str, remote: list[str]) -> CallState | None:
    if local in _LOCAL_STATES:
        return _LOCAL_STATES[local]
    if local == "connected":
        answered = any(state in ("connected", "hold") for state in remote)
        return CallState.TALKING if answered else CallState.DIALING
    return None  # null or fail: nothing to show
