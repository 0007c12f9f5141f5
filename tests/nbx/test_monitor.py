"""The monitor model on the simulator's frames, in memory and on a fake clock."""

from __future__ import annotations

import pytest

from pbx_protocols.core.calls import CallTracker
from pbx_protocols.core.errors import InvalidInput
from pbx_protocols.core.model import CallEvent, LineState
from pbx_protocols.nbx.frames import TYPE_REQUEST, TYPE_VOICE, parse_frame
from pbx_protocols.nbx.layers import NBXRequest, NBXVoice, build
from pbx_protocols.nbx.monitor import (
    MAX_LEARNED_PHONES,
    OFFLINE_AFTER,
    NbxMonitor,
    parse_phones,
    replay_monitor,
)
from pbx_protocols.nbx.simulator import Ncp, SimulatorConfig, timeline

NCP = "00:e0:bb:0b:d8:be"


def follow(monitor: NbxMonitor, seconds: float, **options) -> list[CallEvent]:
    ncp = Ncp.with_phones(4)
    config = SimulatorConfig(phones=4, duration=seconds, **options)
    frames = ((when, frame) for when, batch in timeline(ncp, config) for frame in batch)
    return list(monitor.replay(frames))


def stories(events: list[CallEvent]) -> dict[str, list[tuple[str, str, str | None]]]:
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    for event in events:
        out.setdefault(event.extension, []).append(
            (event.kind.value, event.line_state.value, event.peer)
        )
    return out


PHONES = parse_phones(
    "# number; slot; mac; name\n"
    "101; 0; 00:e0:bb:00:01:01; Reception\n"
    "102; 1; 00:e0:bb:00:01:02; Sales\n"
)


def test_basic_call_with_the_phones_mapped():
    monitor = replay_monitor(PHONES)
    got = stories(follow(monitor, 9))
    assert got["102"] == [
        ("online", "idle", None),  # the first update names its slot
        ("ringing", "ringing", "101"),
        ("answered", "talking", "101"),
        ("ended", "idle", "101"),
    ]
    # The caller's display names the other party once connected.
    assert got["101"] == [
        ("online", "idle", None),
        ("answered", "talking", "102"),
        ("ended", "idle", "102"),
    ]
    assert monitor.tracker.snapshot("101").name == "Reception"


def test_unmapped_phones_appear_by_slot_and_by_mac():
    monitor = replay_monitor()
    follow(monitor, 4)
    numbers = set(monitor.tracker.extension_numbers)
    assert {"slot-0", "slot-1", "slot-2", "slot-3"} <= numbers
    assert "00:e0:bb:00:01:02" in numbers


def test_voice_alone_shows_talking_and_ends_after_silence():
    # A phone whose display shows no call timer: sampled voice is what says it talks.
    tracker = CallTracker()
    tracker.set_link_up(True)
    monitor = NbxMonitor(tracker, PHONES)
    phone, other = "00:e0:bb:00:01:02", "00:e0:bb:00:01:01"
    voice = build(phone, other, TYPE_VOICE, other, 2, NBXVoice())
    events = monitor.frame(parse_frame(voice), 1.0)
    assert {(e.extension, e.kind.value) for e in events} == {
        ("101", "online"),  # offline until an update named them; voice says otherwise
        ("102", "online"),
        ("101", "answered"),
        ("102", "answered"),
    }
    assert tracker.snapshot("102").line_state is LineState.TALKING
    monitor.frame(parse_frame(voice), 3.0)  # the next sampled frame
    assert monitor.tick(8.0) == []
    events = monitor.tick(9.5)  # no voice for more than VOICE_IDLE_AFTER
    assert {(e.extension, e.kind.value) for e in events} == {("101", "ended"), ("102", "ended")}


def test_the_idle_screen_ends_a_timed_call_at_once_despite_voice():
    monitor = replay_monitor(PHONES)
    events = follow(monitor, 9, voice=True)
    assert [kind for kind, _, _ in stories(events)["102"]] == [
        "online", "ringing", "answered", "ended"
    ]  # fmt: skip
    (ended,) = [e for e in events if e.extension == "102" and e.kind.value == "ended"]
    assert ended.timestamp.timestamp() == 6.0  # the hang-up, not the last voice + 6 s


def test_a_phone_missing_from_updates_goes_offline_and_comes_back():
    monitor = replay_monitor(PHONES)
    follow(monitor, 0.9)  # updates only, before the first call
    assert monitor.tracker.snapshot("101").line_state is LineState.IDLE
    events = monitor.tick(OFFLINE_AFTER + 1)
    assert {(e.extension, e.kind.value) for e in events} >= {("101", "offline")}
    assert monitor.tracker.snapshot("101").line_state is LineState.OFFLINE


def test_forged_macs_cannot_grow_the_model_without_end():
    monitor = NbxMonitor(CallTracker())
    for n in range(MAX_LEARNED_PHONES + 500):
        mac = f"02:00:00:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"
        monitor.frame(parse_frame(build(mac, NCP, TYPE_REQUEST, NCP, 1, NBXRequest())), 0.0)
    assert len(monitor.tracker) == MAX_LEARNED_PHONES


def test_a_broadcast_request_is_no_phone():
    monitor = NbxMonitor(CallTracker())
    frame = build("ff:ff:ff:ff:ff:ff", NCP, TYPE_REQUEST, NCP, 1, NBXRequest(ring=0x50))
    assert monitor.frame(parse_frame(frame), 0.0) == []
    assert len(monitor.tracker) == 0


def test_site_caller_patterns_replace_the_defaults():
    monitor = NbxMonitor(CallTracker(), caller_patterns=[r"Tel (?P<number>\d+)"])
    frame = build("00:e0:bb:00:01:09", NCP, TYPE_REQUEST, NCP, 1,
                  NBXRequest(ring=0x50, display=b"Anna Tel 5551234"))  # fmt: skip
    (event,) = monitor.frame(parse_frame(frame), 0.0)
    assert event.calling == "5551234"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [(r"(unclosed", "is not a regex"), (r"\d+", "has no \\(\\?P<number>")],
)
def test_bad_caller_patterns_are_refused(pattern, message):
    with pytest.raises(InvalidInput, match=message):
        NbxMonitor(CallTracker(), caller_patterns=[pattern])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc; 1", "line 1: 'abc' is not an extension number"),
        ("101; 99", "the slot must be 0 to 23"),
        ("101; ; 00:e0:bb", "is not a MAC address"),
        ("101", "give the phone's slot, its MAC address, or both"),
        ("101; 1\n101; 2", "line 2: extension 101 is listed twice"),
    ],
)
def test_bad_phone_lines_name_the_line(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_phones(text)


def test_phone_lines_with_names_containing_semicolons_and_comments():
    (entry,) = parse_phones("  201; ; 00-E0-BB-00-01-0A; Door; front  # the lobby\n\n")
    assert (entry.number, entry.slot, entry.mac, entry.name) == (
        "201", None, bytes.fromhex("00e0bb00010a"), "Door; front"
    )  # fmt: skip


def test_online_again_when_updates_return():
    monitor = replay_monitor(PHONES)
    follow(monitor, 0.9)
    monitor.tick(OFFLINE_AFTER + 1)
    events = follow(monitor, 0.5)
    assert ("101", "online") in {(e.extension, e.kind.value) for e in events}
