"""The benchmarks still run (tiny sizes; the figures themselves are not tested)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mosquitto import needs_mosquitto

ROOT = Path(__file__).parents[1]


def benchmark(*args: str, timeout: float = 240) -> list[dict]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.splitlines()]


def test_latency_benchmark(socket_enabled):
    lines = benchmark(
        "latency", "--seconds", "0.5", "--rates", "200", "--extensions", "10",
        "--connect-extensions", "20",
    )  # fmt: skip
    before, connect, latency, after = lines
    # how fast the cores were, before and after: they vary from minute to minute
    assert before["calibration"] == "before" and before["decodes_per_second"] > 0
    assert after["calibration"] == "after" and after["decodes_per_second"] > 0
    assert connect["benchmark"] == "connect" and connect["all_monitored_s"] > 0
    assert latency["sent"] == 100 and latency["lost"] == 0
    assert latency["p99_ms"] is not None


@pytest.mark.timeout(540)
def test_home_assistant_benchmark(socket_enabled):
    lines = benchmark("ha", "--extensions", "10", "--rates", "50", "--seconds", "1", timeout=480)
    before, load, rate, load_without, rate_without, *reference_lines, after, over, over_without = (
        lines
    )
    assert (before["calibration"], after["calibration"]) == ("before", "after")
    assert load["extensions"] == 10 and load["entry_load_s"] > 0 and load["reload_s"] > 0
    assert rate["sent"] == 50 and rate["received"] == 50
    assert rate["cpu_ms_per_report"] >= 0
    assert rate["cpu_ms_per_report_in_full_collections"] >= 0
    assert rate["gc_full_collections"] >= 0  # Home Assistant's own stalls, noted meanwhile
    assert (load["recorder"], load_without["recorder"]) == ("all", "without-pbx")
    assert rate_without["received"] == 50
    # Home Assistant's own floor: the same entity model, with no PBX behind it, in the
    # same runs (recording everything, then with the advice)
    reference, reference_rate, reference_without, reference_rate_without = reference_lines
    assert reference["integration"] == "pbx_reference" and "rss_kb_per_extension" in reference
    assert reference_rate["sent"] == 50 and reference_rate["cpu_ms_per_report"] >= 0
    assert reference_rate["gc_full_collections"] >= 0
    assert reference_rate["cpu_ms_per_report_in_full_collections"] >= 0
    assert (reference["recorder"], reference_without["recorder"]) == ("all", "without-pbx")
    assert reference_rate_without["sent"] == 50
    # and what the integration costs beyond the floor, run by run
    assert (over["over_floor"], over["recorder"], over["rate"]) == (True, "all", 50)
    assert over_without["recorder"] == "without-pbx" and "cpu_ms_per_report" in over_without


def test_the_reference_integration_has_the_entity_model_of_pbx():
    """The floor is only Home Assistant's own if the model matches, attribute for attribute."""
    from benchmarks.ha_reference import REFERENCE_EVENT_TYPE
    from benchmarks.home_assistant import PBX_EVENT_TYPE
    from benchmarks.reference_integration.pbx_reference import calls, event, sensor
    from custom_components.pbx import event as pbx_event
    from custom_components.pbx import sensor as pbx_sensor
    from custom_components.pbx.const import (
        CALL_EVENT_ENTITIES_ENABLED_UP_TO,
        EVENT_CALL,
        EVENT_TYPES,
        LINE_STATES,
    )

    assert sensor.LINE_STATES == LINE_STATES
    assert event.CALL_EVENT_ENTITIES_ENABLED_UP_TO == CALL_EVENT_ENTITIES_ENABLED_UP_TO
    # what the advice leaves out of the recorder, for each of the two
    assert calls.EVENT_CALL == REFERENCE_EVENT_TYPE
    assert EVENT_CALL == PBX_EVENT_TYPE
    assert list(EVENT_TYPES.values()) == event.CALL_EVENT_TYPES
    line, call = pbx_sensor.LineStateSensor, pbx_event.ExtensionCallEvent
    assert line._unrecorded_attributes == sensor.UNRECORDED_LINE_ATTRIBUTES
    assert call._unrecorded_attributes == event.UNRECORDED_CALL_ATTRIBUTES
    assert sensor.ReferenceLine._attr_device_class == line._attr_device_class
    assert (
        sensor.ReferenceLine._attr_translation_key,
        event.ReferenceCall._attr_translation_key,
    ) == (
        line._attr_translation_key,
        call._attr_translation_key,
    )
    reference_line = object.__new__(sensor.ReferenceLine)
    reference_line.extension, reference_line._call = "100", ("1", "0301234567")
    shown = set(reference_line.extra_state_attributes)
    assert shown == line._unrecorded_attributes | {"extension"}


def test_the_cost_beyond_the_floor_is_taken_run_by_run():
    from benchmarks.home_assistant import Measured, over_floor

    pbx = {
        (1000, "all"): Measured(64 * 1024 * 1000, {20: 5.5, 200: 3.5}),
        (1000, "without-pbx"): Measured(50 * 1024 * 1000, {200: 1.1}),
        (300, "all"): Measured(30 * 1024 * 300, {200: 3.0}),  # no floor measured: left out
    }
    floor = {
        (1000, "all"): Measured(52 * 1024 * 1000, {20: 4.0, 200: 3.0}),
        (1000, "without-pbx"): Measured(37 * 1024 * 1000, {200: 0.8}),
    }
    lines = over_floor(pbx, floor)
    assert [(line["recorder"], line["rate"]) for line in lines] == [
        ("all", 20),
        ("all", 200),
        ("without-pbx", 200),
    ]
    assert [line["cpu_ms_per_report"] for line in lines] == [1.5, 0.5, 0.3]
    assert [line["rss_kb_per_extension"] for line in lines] == [12.0, 12.0, 13.0]


def test_memory_splits_into_a_fixed_part_and_a_part_per_extension():
    from benchmarks.home_assistant import memory_fit

    growth = {n: 12_000_000 + n * 55 * 1024 for n in (100, 300, 1000)}
    assert memory_fit(growth) == {
        "memory_fixed_mb": 12.0,
        "memory_kb_per_added_extension": 55.0,
    }


def test_startup_and_decode_benchmarks():
    startup = benchmark("startup", "--runs", "1")
    assert {line["command"] for line in startup} >= {"pbx-protocols --version"}
    assert all(5 < line["peak_rss_mb"] < 500 for line in startup)
    header, *rows = benchmark("decode", "--seconds", "0.1")
    assert header["reports_in_corpus"] > 0
    assert any("schema-less lower bound" in row["measurement"] for row in rows)


@needs_mosquitto
def test_bridge_benchmark(socket_enabled):
    (line,) = benchmark(
        "bridge", "--sites", "2", "--extensions", "5", "--rate", "20", "--seconds", "1"
    )
    assert (line["sent"], line["received"], line["lost"]) == (20, 20, 0)
    assert line["bridge_rss_mb_max"] > 0 and line["connected"]


def test_alphacom_benchmark():
    decode, clean, lossy = benchmark("alphacom", "--seconds", "0.2", "--messages", "50")
    assert decode["messages_per_s"] > 0
    assert clean["loss"] == 0 and clean["exactly_once_in_order"]
    assert lossy["loss"] == 0.1 and lossy["exactly_once_in_order"]


def test_nbx_benchmark():
    lines = benchmark("nbx", "--seconds", "2", "--calls", "5")
    if "skipped" in lines[0]:
        pytest.skip(lines[0]["skipped"])
    ours, naive = lines
    assert (ours["listener"], naive["listener"]) == ("ours", "naive")
    assert ours["voice_frames_seen"] == 0 and ours["signalling_lost"] == 0
    assert naive["voice_frames_seen"] > 0


def test_the_dashboard_follower_reads_line_changes_from_compressed_diffs():
    """As the frontend: all states, then diffs that carry only what changed."""
    from benchmarks.ha_followers import Follower

    follower = Follower("entities")
    line = "sensor.extension_101_line"
    added = {"a": {line: {"s": "idle", "a": {"call_id": None, "caller": None}, "lc": 1.0}}}
    assert follower.parse(added) == []
    ringing = {"s": "ringing", "a": {"call_id": "c1", "caller": "0301234567"}, "lc": 2.0}
    assert follower.parse({"c": {line: {"+": ringing}}}) == [("c1", "ringing", 2.0)]
    # An attribute changes, the state does not: no arrival.
    assert follower.parse({"c": {line: {"+": {"a": {"active_calls": 1}, "lu": 2.5}}}}) == []
    # Idle again: the call given up is the one the line had (the diff says call_id None).
    idle = {"s": "idle", "a": {"call_id": None, "caller": None}, "lc": 3.0}
    assert follower.parse({"c": {line: {"+": idle}}}) == [("c1", "missed", 3.0)]
    event = {"event.extension_101_call": {"+": {"s": "t1", "a": {"call_id": "c2"}, "lc": 4.0}}}
    assert follower.parse({"c": event}) == []
    old_state = {"entity_id": line, "state": "ringing", "attributes": {"call_id": "c3"}}
    new_state = {"entity_id": line, "state": "idle", "attributes": {"call_id": None}}
    state_changed = {
        "time_fired": "2026-12-03T10:00:00+00:00",
        "data": {"old_state": old_state, "new_state": new_state},
    }
    [(call_id, kind, _)] = Follower("state-changed").parse(state_changed)
    assert (call_id, kind) == ("c3", "missed")


async def test_the_far_end_keeps_answering_while_it_prepares_load(socket_enabled):
    """A minute of load takes longer to prepare than the client waits for a sign of life."""
    from benchmarks.far_end import PREPARE_BATCH, LoadScript
    from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
    from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig

    extensions = tuple(str(number) for number in range(100, 110))
    config = SimulatorConfig(port=0, extensions=extensions, keepalive_interval=3600.0, outside=None)
    async with PanasonicSimulator(config) as simulator:
        client_config = PanasonicConfig(host="127.0.0.1", port=simulator.port, call_records=False)
        async with PanasonicClient(client_config) as client:
            while len(client.monitored_extensions) < len(extensions):
                await asyncio.sleep(0.01)
            turns = 0

            async def count_turns() -> None:
                nonlocal turns
                while True:
                    turns += 1
                    await asyncio.sleep(0)

            counter = asyncio.create_task(count_turns())
            script = LoadScript(list(extensions))
            measured = await script.prepare(simulator.sessions[-1], 3 * PREPARE_BATCH)
            counter.cancel()
    assert len(measured) == 3 * PREPARE_BATCH
    assert turns >= 3  # the loop ran between batches, not only after the whole load


async def test_a_load_sends_only_its_reports_and_the_ringing_calls_end_when_asked(
    socket_enabled,
):
    """The reports that end the calls still ringing are not the load's: its CPU is read first."""
    from benchmarks.far_end_process import FarEnd
    from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig

    async with FarEnd(10) as far:
        config = PanasonicConfig(host="127.0.0.1", port=far.port, call_records=False)
        async with PanasonicClient(config) as client:
            while len(client.monitored_extensions) < 10:
                await asyncio.sleep(0.01)
            arrived: list[tuple[str, str]] = []
            client.subscribe_events(lambda event: arrived.append((event.call_id, event.kind)))
            sent = await far.load(100, 0.2)  # 20 reports; at most 5 of 10 ring at a time
            await asyncio.sleep(0.5)
            assert len(sent) == 20
            assert len(arrived) == 20  # nothing beyond the load
            ringing = {call_id for call_id, kind, *_ in sent if kind == "ringing"}
            ringing -= {call_id for call_id, kind, *_ in sent if kind == "missed"}
            assert await far.end_calls() == len(ringing) > 0
            while len(arrived) < 20 + len(ringing):
                await asyncio.sleep(0.01)
            assert await far.end_calls() == 0  # nothing rings any more


def test_the_probe_notes_full_collections_of_the_processes_it_is_given_to(tmp_path):
    import time

    from benchmarks.gc_passes import full_collection_seconds, full_collections, probe_environment

    program = "import gc; gc.collect(); gc.collect(0)"  # one full collection, one young
    began = time.time()
    subprocess.run([sys.executable, "-c", program], check=True, env=probe_environment(tmp_path))
    noted = full_collections(tmp_path, began, time.time())
    assert noted["gc_full_collections"] >= 1 and noted["gc_longest_ms"] >= 0
    took = full_collection_seconds(tmp_path, began, time.time())
    assert took * 1000 >= noted["gc_longest_ms"] - 0.1  # the longest is one of them
    assert full_collection_seconds(tmp_path, 0, began) == 0
    assert full_collections(tmp_path, 0, began)["gc_full_collections"] == 0  # not before
    never = full_collections(tmp_path / "a Home Assistant that noted none", 0, time.time())
    assert never == {"gc_full_collections": 0, "gc_longest_ms": None}


def test_cpu_is_read_to_the_nanosecond_unless_a_thread_ended_meanwhile():
    import os
    import threading
    import time

    from benchmarks.process_usage import cpu_between, read_cpu

    def burn(seconds: float) -> None:
        begin = time.thread_time()
        while time.thread_time() - begin < seconds:
            pass

    before = read_cpu(os.getpid())
    burn(0.013)
    after = read_cpu(os.getpid())
    # from the threads: finer than the clock tick (10 ms), which rounds 13 ms to 10 or 20
    assert 0.013 <= cpu_between(before, after) < 0.019
    release = threading.Event()

    def work() -> None:
        burn(0.05)
        release.wait()  # alive until read, however the threads are scheduled

    worker = threading.Thread(target=work)
    worker.start()
    during = read_cpu(os.getpid())
    release.set()
    worker.join()
    ended = read_cpu(os.getpid())
    assert worker.native_id in during.threads and worker.native_id not in ended.threads
    # the ended thread's time is only in the whole: to the clock tick, but counted
    assert cpu_between(during, ended) == ended.whole - during.whole
    # a thread that started and ended between two readings: only the whole has it
    assert cpu_between(before, ended) == ended.whole - before.whole >= 0.04
