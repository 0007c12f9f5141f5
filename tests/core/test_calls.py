"""The per-call state machine: line states derived from every call of an extension."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pbx_protocols.core.calls import CallTracker
from pbx_protocols.core.errors import Refusal
from pbx_protocols.core.model import (
    CallEventKind,
    CallInfo,
    CallState,
    Direction,
    EndReason,
    LineState,
)

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def tracker() -> CallTracker:
    tracker = CallTracker(clock=lambda: T0)
    tracker.add_extension("101", "Reception")
    tracker.add_extension("102")
    tracker.set_link_up(True)
    return tracker


def kinds(events) -> list[str]:
    return [e.kind.value for e in events]


def line(tracker: CallTracker, number: str) -> LineState:
    return tracker.snapshot(number).line_state


def test_new_extension_is_idle_and_unknown_while_link_down(tracker):
    assert line(tracker, "101") is LineState.IDLE
    tracker.set_link_up(False)
    assert line(tracker, "101") is LineState.UNKNOWN


def test_outgoing_call_dialing_answered_ended(tracker):
    events = tracker.update("101", "c1", CallState.DIALING, calling="101", called="102")
    assert kinds(events) == ["originated"]
    assert events[0].direction is Direction.OUTGOING
    assert events[0].line_state is LineState.DIALING
    events = tracker.update("101", "c1", CallState.TALKING, peer="102")
    assert kinds(events) == ["answered"]
    assert events[0].line_state is LineState.TALKING
    assert events[0].peer == "102"
    assert events[0].called == "102"  # kept from the first update
    events = tracker.end("101", "c1")
    assert kinds(events) == ["ended"]
    assert events[0].line_state is LineState.IDLE


def test_incoming_call_not_answered_is_missed(tracker):
    events = tracker.update("102", "c1", CallState.RINGING, calling="0301234", peer="0301234")
    assert kinds(events) == ["ringing"]
    assert events[0].direction is Direction.INCOMING
    assert kinds(tracker.end("102", "c1")) == ["missed"]


def test_incoming_call_answered_then_ended_is_not_missed(tracker):
    tracker.update("102", "c1", CallState.RINGING)
    tracker.update("102", "c1", CallState.TALKING)
    assert kinds(tracker.end("102", "c1")) == ["ended"]


def test_answered_elsewhere_is_ended_not_missed(tracker):
    tracker.update("102", "c1", CallState.RINGING)
    assert kinds(tracker.end("102", "c1", EndReason.ANSWERED_ELSEWHERE)) == ["ended"]


def test_second_call_ending_keeps_line_talking(tracker):
    """home-assistant/core#95191: a parallel call must not reset a talking line."""
    tracker.update("101", "c1", CallState.RINGING)
    tracker.update("101", "c1", CallState.TALKING)
    waiting = tracker.update("101", "c2", CallState.RINGING, calling="103")
    assert waiting[0].line_state is LineState.TALKING  # call waiting does not steal the line
    events = tracker.end("101", "c2")
    assert kinds(events) == ["missed"]
    assert events[0].line_state is LineState.TALKING
    assert line(tracker, "101") is LineState.TALKING
    assert [c.call_id for c in tracker.snapshot("101").calls] == ["c1"]


def test_hold_retrieve_and_consultation(tracker):
    tracker.update("101", "c1", CallState.DIALING)
    tracker.update("101", "c1", CallState.TALKING)
    held = tracker.update("101", "c1", CallState.HELD)
    assert kinds(held) == ["held"]
    assert held[0].line_state is LineState.HELD
    # consultation call while the first is held: the line is dialing, then talking
    assert tracker.update("101", "c2", CallState.DIALING)[0].line_state is LineState.DIALING
    assert tracker.update("101", "c2", CallState.TALKING)[0].line_state is LineState.TALKING
    assert tracker.end("101", "c2")[0].line_state is LineState.HELD
    retrieved = tracker.update("101", "c1", CallState.TALKING)
    assert kinds(retrieved) == ["retrieved"]
    assert retrieved[0].line_state is LineState.TALKING


def test_same_state_again_only_updates_details(tracker):
    tracker.update("101", "c1", CallState.DIALING)
    assert tracker.update("101", "c1", CallState.DIALING, called="0800") == []
    assert tracker.call("101", "c1").called == "0800"


def test_transfer_moves_call_to_new_id(tracker):
    tracker.update("102", "c1", CallState.RINGING, calling="0301234", peer="0301234")
    tracker.update("102", "c1", CallState.TALKING)
    events = tracker.rename("102", "c1", "c9", peer="103", kind=CallEventKind.TRANSFERRED)
    assert kinds(events) == ["transferred"]
    assert events[0].call_id == "c9"
    assert events[0].peer == "103"
    assert events[0].line_state is LineState.TALKING
    assert tracker.call("102", "c1") is None
    assert tracker.call("102", "c9").answered  # history kept: ending is not "missed"
    assert kinds(tracker.end("102", "c9")) == ["ended"]


def test_transferring_party_sees_transferred_and_goes_idle(tracker):
    tracker.update("101", "c1", CallState.TALKING)
    events = tracker.end("101", "c1", EndReason.TRANSFERRED)
    assert kinds(events) == ["transferred"]
    assert events[0].line_state is LineState.IDLE


def test_diverted_and_failed(tracker):
    tracker.update("102", "c1", CallState.RINGING)
    assert kinds(tracker.end("102", "c1", EndReason.DIVERTED)) == ["diverted"]
    tracker.update("101", "c2", CallState.DIALING)
    assert kinds(tracker.end("101", "c2", EndReason.FAILED)) == ["failed"]


def test_end_call_clears_every_party(tracker):
    tracker.update("101", "c1", CallState.TALKING)
    tracker.update("102", "c1", CallState.TALKING)
    events = tracker.end_call("c1")
    assert sorted(e.extension for e in events) == ["101", "102"]
    assert tracker.end_call("c1") == []  # idempotent
    assert tracker.end("101", "unknown") == []


def test_offline_and_back(tracker):
    events = tracker.set_online("101", False)
    assert kinds(events) == ["offline"]
    assert events[0].line_state is LineState.OFFLINE
    assert tracker.set_online("101", False) == []
    assert kinds(tracker.set_online("101", True)) == ["online"]
    assert line(tracker, "101") is LineState.IDLE


def test_resynchronise_reports_what_changed_while_link_was_down(tracker):
    tracker.update("101", "gone", CallState.TALKING)
    tracker.update("101", "rang", CallState.RINGING)
    tracker.update("101", "held", CallState.TALKING)
    tracker.set_link_up(False)
    tracker.set_link_up(True)
    events = tracker.resynchronise(
        "101",
        [
            CallInfo("held", CallState.HELD),
            CallInfo("new", CallState.RINGING, direction=Direction.INCOMING, calling="0301"),
        ],
    )
    assert kinds(events) == ["ended", "missed", "held", "ringing"]
    assert all(e.vendor["resynchronised"] for e in events)
    assert line(tracker, "101") is LineState.RINGING
    assert {c.call_id for c in tracker.snapshot("101").calls} == {"held", "new"}


def test_unknown_extension_is_added_on_first_event(tracker):
    tracker.update("199", "c1", CallState.RINGING)
    assert "199" in tracker
    assert tracker.extension_numbers == ["101", "102", "199"]
    tracker.remove_extension("199")
    assert "199" not in tracker


def test_event_dict_has_stable_keys(tracker):
    event = tracker.update("101", "c1", CallState.DIALING, calling="101", called="102")[0]
    assert event.as_dict() == {
        "extension": "101",
        "event": "originated",
        "state": "dialing",
        "call_id": "c1",
        "direction": "outgoing",
        "calling": "101",
        "called": "102",
        "peer": None,
        "failure": None,
        "timestamp": "2026-11-21T12:00:00+00:00",
        "vendor": {},
    }


def test_snapshot_current_call_prefers_conversation(tracker):
    tracker.update("101", "a", CallState.HELD)
    tracker.update("101", "b", CallState.RINGING)
    assert tracker.snapshot("101").current_call.call_id == "b"
    tracker.update("101", "c", CallState.TALKING)
    assert tracker.snapshot("101").current_call.call_id == "c"
    assert tracker.snapshot("102").current_call is None
    tracker.update("102", "d", CallState.RINGING)
    tracker.update("102", "e", CallState.RINGING)  # call waiting: the first one stays shown
    assert tracker.snapshot("102").current_call.call_id == "d"
    assert tracker.extensions_in_call("a") == ["101"]
    tracker.add_extension("101", "Front desk")
    assert tracker.snapshot("101").name == "Front desk"


def test_quiet_call_is_announced_by_its_next_update(tracker):
    """Off-hook without a number is recorded, but the event waits for the number."""
    assert tracker.update("101", "c1", CallState.DIALING, quiet=True) == []
    assert line(tracker, "101") is LineState.DIALING
    events = tracker.update("101", "c1", CallState.DIALING, called="102")
    assert kinds(events) == ["originated"]
    assert events[0].called == "102"
    assert kinds(tracker.update("101", "c1", CallState.TALKING)) == ["answered"]


def test_quiet_call_that_ends_unannounced_is_silent(tracker):
    tracker.update("101", "c1", CallState.DIALING, quiet=True)
    tracker.rename("101", "c1", "c2")
    assert tracker.end("101", "c2") == []
    assert line(tracker, "101") is LineState.IDLE
    tracker.update("101", "c3", CallState.TALKING)
    assert tracker.end("101", "c3", quiet=True) == []


def test_a_failed_call_says_why(tracker):
    tracker.update("101", "c1", CallState.DIALING, called="102")
    (event,) = tracker.end("101", "c1", EndReason.FAILED, failure=Refusal.NUMBER_BUSY)
    assert (event.kind, event.failure) == (CallEventKind.FAILED, Refusal.NUMBER_BUSY)
    assert event.as_dict()["failure"] == "number_busy"
