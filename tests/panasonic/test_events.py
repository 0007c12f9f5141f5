"""Event reports the simulator does not produce, mapped by hand: conference, queue, ..."""

from __future__ import annotations

import pytest

from pbx_protocols.core.calls import CallTracker
from pbx_protocols.core.model import CallState, LineState
from pbx_protocols.panasonic.events import EventMapper, snapshot_calls
from pbx_protocols.panasonic.simulator.pbx import connection, subject

XREF = b"\x01"
CALL = b"\x00\x10"
OTHER = b"\x00\x11"
MERGED = b"\x00\x12"


@pytest.fixture
def tracker() -> CallTracker:
    tracker = CallTracker()
    tracker.set_link_up(True)
    return tracker


@pytest.fixture
def mapper(tracker) -> EventMapper:
    mapper = EventMapper(tracker)
    mapper.add_monitor(XREF, "101")
    return mapper


def report(name: str, value: dict, family: str = "callControlEvents") -> dict:
    return {"crossRefIdentifier": XREF, "eventSpecificInfo": (family, (name, value))}


def kinds(events) -> list[str]:
    return [e.kind.value for e in events]


def test_unknown_monitor_and_untyped_events_are_ignored(mapper):
    stray = {"crossRefIdentifier": b"\x99", "eventSpecificInfo": ("callControlEvents", ("x", {}))}
    assert mapper.apply(stray) == []
    display = ("displayUpdated", b"\xa2\x00")
    assert mapper.apply(report("displayUpdated", {}, "physicalDeviceFeatureEvents")) == []
    assert mapper.apply({"crossRefIdentifier": XREF, "eventSpecificInfo": ("x", display)}) == []
    assert mapper.apply(report("digitsDialed", {})) == []
    assert mapper.monitored(XREF) == "101"


def test_conference_merges_calls(mapper, tracker):
    tracker.update("101", CALL.hex(), CallState.HELD)
    tracker.update("101", OTHER.hex(), CallState.TALKING)
    events = mapper.apply(
        report(
            "conferenced",
            {
                "primaryOldCall": connection(CALL, "101"),
                "secondaryOldCall": connection(OTHER, "101"),
                "conferencingDevice": subject("101"),
                "addedParty": subject("103"),
                "conferenceConnections": [
                    {
                        "newConnection": connection(MERGED, "101"),
                        "endpoint": ("deviceID", {"deviceIdentifier": ("dialingNumber", "101")}),
                    },
                    {"newConnection": connection(MERGED, "102")},
                    {"newConnection": connection(MERGED, "103")},
                ],
                "cause": "conference",
            },
        )
    )
    assert kinds(events) == ["conferenced"]
    assert [c.call_id for c in tracker.snapshot("101").calls] == [MERGED.hex()]
    # one party leaving a conference does not end ours
    left = report(
        "connectionCleared",
        {
            "droppedConnection": connection(MERGED, "102"),
            "releasingDevice": subject("102"),
            "cause": "normalClearing",
        },
    )
    assert mapper.apply(left) == []
    cleared = report("callCleared", {"clearedCall": ("callID", MERGED), "cause": "normalClearing"})
    assert kinds(mapper.apply(cleared)) == ["ended"]


def test_queued_rings_the_queue_and_dials_for_the_caller(mapper, tracker):
    value = {
        "queuedConnection": connection(CALL, "101"),
        "queue": subject("101"),
        "callingDevice": subject("0301"),
        "calledDevice": subject("101"),
        "lastRedirectionDevice": ("notKnown", None),
        "cause": "newCall",
    }
    assert kinds(mapper.apply(report("queued", value))) == ["ringing"]
    value = {**value, "queuedConnection": connection(OTHER, "600"), "queue": subject("600")}
    assert kinds(mapper.apply(report("queued", value))) == ["originated"]
    assert tracker.call("101", OTHER.hex()).peer == "600"


def test_others_hold_and_retrieve_leave_our_line_alone(mapper, tracker):
    tracker.update("101", CALL.hex(), CallState.TALKING)
    held = {
        "heldConnection": connection(CALL, "102"),
        "holdingDevice": subject("102"),
        "cause": "normal",
    }
    assert mapper.apply(report("held", held)) == []
    retrieved = {
        "retrievedConnection": connection(CALL, "102"),
        "retrievingDevice": subject("102"),
        "cause": "normal",
    }
    assert mapper.apply(report("retrieved", retrieved)) == []
    assert tracker.snapshot("101").line_state is LineState.TALKING


def test_picked_up_elsewhere_is_not_missed(mapper, tracker):
    tracker.update("101", CALL.hex(), CallState.RINGING)
    value = {
        "droppedConnection": connection(CALL, "101"),
        "releasingDevice": subject("101"),
        "cause": "callPickup",
    }
    assert kinds(mapper.apply(report("connectionCleared", value))) == ["ended"]
    tracker.update("101", OTHER.hex(), CallState.RINGING)
    value = {
        "droppedConnection": connection(OTHER, "101"),
        "releasingDevice": subject("101"),
        "cause": "callForwardNoAnswer",
    }
    assert kinds(mapper.apply(report("connectionCleared", value))) == ["diverted"]


def test_our_outgoing_call_diverted_elsewhere_updates_the_peer(mapper, tracker):
    tracker.update("101", CALL.hex(), CallState.DIALING, called="102")
    value = {
        "connection": connection(CALL, "102"),
        "divertingDevice": subject("102"),
        "newDestination": subject("105"),
        "lastRedirectionDevice": ("notKnown", None),
        "cause": "redirected",
    }
    assert mapper.apply(report("diverted", value)) == []
    assert tracker.call("101", CALL.hex()).peer == "105"


def test_events_without_call_ids_are_ignored(mapper):
    no_call = ("deviceID", ("staticID", {"deviceIdentifier": ("dialingNumber", "101")}))
    for name, field in [
        ("serviceInitiated", "initiatedConnection"),
        ("originated", "originatedConnection"),
        ("delivered", "connection"),
        ("established", "establishedConnection"),
        ("held", "heldConnection"),
        ("retrieved", "retrievedConnection"),
        ("connectionCleared", "droppedConnection"),
        ("failed", "failedConnection"),
        ("diverted", "connection"),
        ("queued", "queuedConnection"),
        ("networkReached", "outboundConnection"),
        ("callCleared", "clearedCall"),
    ]:
        value = {
            field: no_call,
            "initiatingDevice": subject("101"),
            "callingDevice": subject("101"),
            "alertingDevice": subject("101"),
            "answeringDevice": subject("101"),
            "holdingDevice": subject("101"),
            "retrievingDevice": subject("101"),
            "releasingDevice": subject("101"),
            "calledDevice": subject("102"),
            "divertingDevice": subject("101"),
            "newDestination": subject("102"),
            "queue": subject("101"),
        }
        assert mapper.apply(report(name, value)) == [], name


@pytest.mark.parametrize(
    ("call_state", "expected"),
    [
        (("simpleCallState", "callDelivered"), CallState.DIALING),
        (("simpleCallState", "callReceived"), CallState.RINGING),
        (("simpleCallState", "callEstablished"), CallState.TALKING),
        (("simpleCallState", "callEstablishedHeld"), CallState.HELD),
        (("simpleCallState", "callEstablishedOnHold"), CallState.TALKING),
        (("simpleCallState", "callPending"), CallState.DIALING),
        (("compoundCallState", ["connected", "hold"]), CallState.TALKING),
        (("compoundCallState", ["queued"]), CallState.RINGING),
        (("compoundCallState", ["connected"]), CallState.DIALING),
        (("simpleCallState", "callNull"), None),
        (("compoundCallState", ["fail", "connected"]), None),
        (("unknown", None), None),
    ],
)
def test_snapshot_states(call_state, expected):
    entry = {
        "connectionIdentifier": connection(CALL, "101"),
        "localCallState": call_state,
        "endpointDevice": subject("102"),
    }
    calls = snapshot_calls([entry])
    assert [c.state for c in calls] == ([expected] if expected else [])
    if expected:
        assert calls[0].peer == "102"
