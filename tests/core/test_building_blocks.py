"""Request matching, id allocation, watchdog, callbacks and number validation."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pbx_protocols.core.callbacks import CallbackRegistry
from pbx_protocols.core.errors import (
    CommandRejected,
    ConnectionClosed,
    InvalidInput,
    PbxError,
    ProtocolError,
    RequestTimeout,
)
from pbx_protocols.core.numbers import normalize_number, validate_number, validate_text
from pbx_protocols.core.requests import IdAllocator, RequestTracker
from pbx_protocols.core.watchdog import LivenessMonitor


async def test_request_tracker_resolves_and_never_leaks():
    tracker: RequestTracker[str] = RequestTracker()
    with tracker.expect(7) as future:
        assert 7 in tracker
        assert tracker.resolve(7, "result")
        assert await future == "result"
    assert len(tracker) == 0
    assert not tracker.resolve(7, "late answer")


async def test_request_tracker_failures_and_duplicates():
    tracker: RequestTracker[str] = RequestTracker()
    with tracker.expect(1) as first, tracker.expect(2) as second:
        with pytest.raises(PbxError, match="already waiting"), tracker.expect(1):
            pass
        assert tracker.fail(1, CommandRejected("makeCall", "busy"))
        tracker.fail_all()
        with pytest.raises(CommandRejected):
            await first
        with pytest.raises(ConnectionClosed):
            await second
    assert not tracker.fail(1, ConnectionClosed())
    assert len(tracker) == 0


async def test_abandoned_waiter_is_cancelled_and_removed():
    tracker: RequestTracker[str] = RequestTracker()
    with pytest.raises(TimeoutError), tracker.expect(3) as future:
        async with asyncio.timeout(0):
            await future
    assert future.cancelled()
    assert 3 not in tracker


def test_id_allocator_wraps_and_skips_ids_in_use():
    in_use = {2, 3}
    ids = IdAllocator(4, in_use.__contains__)
    assert [ids.next() for _ in range(4)] == [1, 4, 1, 4]
    in_use.update({1, 4})
    with pytest.raises(PbxError, match="all 4 request ids"):
        ids.next()


async def test_liveness_monitor_probes_a_quiet_link_then_declares_it_dead(time_travel):
    events = []
    monitor = LivenessMonitor(45, lambda: events.append("dead"), lambda: events.append("probe"))
    monitor.start()
    await time_travel(29)
    monitor.feed()  # traffic: the quiet spell starts over
    await time_travel(29)
    assert events == []
    await time_travel(2)
    assert events == ["probe"]  # 30 s of silence
    await time_travel(13)
    assert events == ["probe"]
    await time_travel(1.5)
    assert events == ["probe", "dead"]  # 45 s of silence
    await time_travel(100)
    assert events == ["probe", "dead"]


async def test_an_answered_probe_keeps_the_link_alive(time_travel):
    events = []
    monitor = LivenessMonitor(45, lambda: events.append("dead"), lambda: events.append("probe"))
    monitor.start()
    for _ in range(5):
        await time_travel(31)
        monitor.feed()  # the probe's answer
    assert events == ["probe"] * 5
    monitor.stop()
    await time_travel(100)
    assert events == ["probe"] * 5


def test_callbacks_unsubscribe_and_isolate_failures(caplog):
    registry: CallbackRegistry[int] = CallbackRegistry()
    seen = []

    def broken(value: int) -> None:
        raise RuntimeError("subscriber bug")

    registry.subscribe(broken)
    unsubscribe = registry.subscribe(seen.append)
    with caplog.at_level(logging.ERROR):
        registry.publish(1)
    assert seen == [1]
    assert "subscriber bug" in caplog.text
    unsubscribe()
    unsubscribe()
    registry.publish(2)
    assert seen == [1]
    assert len(registry) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("102", "102"), ("+49 (30) 1234-56", "+4930123456"), ("*21#", "*21#"), ("0.30/1", "0301")],
)
def test_valid_numbers(raw, expected):
    assert validate_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        (" - ", "empty"),
        ("1" * 33, "longer than 32"),
        ("12a", "contains 'a'"),
        ("1+2", r"\+ only at the start"),
        ("++1", r"\+ only at the start"),
    ],
)
def test_invalid_numbers(raw, message):
    with pytest.raises(InvalidInput, match=message):
        validate_number(raw)


def test_texts():
    assert validate_text("Door open", max_length=16) == "Door open"
    for bad, message in [
        ("", "empty"),
        ("x" * 17, "longer"),
        ("tab\there", "printable"),
        ("Grüße", "ASCII"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            validate_text(bad, max_length=16)


def test_normalize_number_strips_longest_prefix():
    assert normalize_number("00301234", ["0", "00"]) == "301234"
    assert normalize_number("0301234", ["0", "00"]) == "301234"
    assert normalize_number("0", ["0"]) == "0"
    assert normalize_number("123", ["9"]) == "123"
    assert normalize_number(None, ["0"]) is None


def test_protocol_error_names_offset_and_quotes_bounded_data():
    err = ProtocolError("bad tag", data=bytes(range(40)), offset=3)
    assert str(err).startswith("bad tag at offset 3 (data: 00 01 02")
    assert str(err).endswith("1f ...)")
    assert str(ProtocolError("short")) == "short"
    assert (
        str(RequestTimeout("makeCall", 5)) == "makeCall rejected by the PBX: no answer within 5 s"
    )
