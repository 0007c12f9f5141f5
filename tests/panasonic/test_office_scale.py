"""A thousand extensions: per-event work does not grow with the office (counted, not timed)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pbx_protocols.core.model import LineState
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig
from tests.common import wait_until

N = 1000
NUMBERS = tuple(str(n) for n in range(1000, 1000 + N))


@pytest.fixture
async def office():
    config = SimulatorConfig(port=None, extensions=NUMBERS, keepalive_interval=60)
    async with PanasonicSimulator(config) as simulator:
        client = PanasonicClient(
            PanasonicConfig(open_link=simulator.open_memory_link, call_records=False)
        )
        async with client:
            yield simulator, client


async def test_an_event_computes_only_the_snapshots_it_touched(office):
    simulator, client = office
    assert len(client.extension_numbers) == N
    assert all(client.extension(n).monitored for n in NUMBERS)
    tracker = client.tracker
    updates = []
    client.subscribe_extension_updates(updates.append)
    before = tracker.snapshot_computations
    call = simulator.pbx.make_call("1000", "1001")  # 2 extensions, 5 event reports
    await wait_until(lambda: client.extension("1001").line_state is LineState.RINGING)
    simulator.pbx.answer("1001", call)
    await wait_until(lambda: client.extension("1000").line_state is LineState.TALKING)
    for _ in range(100):  # reading an extension again costs nothing
        client.extension("1000")
    computed = tracker.snapshot_computations - before
    assert {u.number for u in updates} == {"1000", "1001"}
    assert computed <= 2 * len(updates)


async def test_connecting_a_slow_large_pbx_stays_bounded(time_travel):
    """1,000 extensions, every answer 10 ms late: a window of requests, not 2,000 in a row."""
    config = SimulatorConfig(port=None, extensions=NUMBERS, answer_delay=0.01)
    async with PanasonicSimulator(config) as simulator:
        client = PanasonicClient(
            PanasonicConfig(open_link=simulator.open_memory_link, call_records=False)
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        connecting = asyncio.create_task(client.connect())
        while not connecting.done():
            await time_travel(0.01)
        await connecting
        try:
            assert all(client.extension(n).monitored for n in NUMBERS)
            # 2,000 requests at 10 ms each, 8 at a time: about 2.5 s of PBX time
            assert loop.time() - started < 5
        finally:
            await client.close()


def extension_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Warnings and errors of the library's client about monitoring extensions."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and "extension" in record.getMessage()
    ]


async def test_losing_the_link_while_monitoring_logs_no_line_per_extension(time_travel, caplog):
    """The link drops with 900 monitors still to start: one 'lost', not 900 'failed'."""
    config = SimulatorConfig(port=None, extensions=NUMBERS, answer_delay=0.01)
    async with PanasonicSimulator(config) as simulator:
        client = PanasonicClient(
            PanasonicConfig(
                open_link=simulator.open_memory_link, call_records=False, monitor_wait=0.1
            )
        )
        connecting = asyncio.create_task(client.connect())
        while not connecting.done():
            await time_travel(0.01)
        await connecting
        try:
            assert not all(client.extension(n).monitored for n in NUMBERS)
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="pbx_protocols"):
                await simulator.drop_clients()
                for _ in range(100):
                    await time_travel(0.01)
            assert len(extension_warnings(caplog)) <= 1, extension_warnings(caplog)[:3]
        finally:
            await client.close()


async def test_a_pbx_refusing_many_monitors_gets_one_warning(caplog):
    """200 configured extensions the PBX does not have: one warning that lists some."""
    unknown = tuple(str(n) for n in range(5000, 5200))
    config = SimulatorConfig(port=None, extensions=NUMBERS[:10])
    async with PanasonicSimulator(config) as simulator:
        client = PanasonicClient(
            PanasonicConfig(
                open_link=simulator.open_memory_link, call_records=False, extensions=unknown
            )
        )
        with caplog.at_level(logging.INFO, logger="pbx_protocols"):
            async with client:
                assert sorted(client.extension_numbers) == sorted(NUMBERS[:10])
        warnings = extension_warnings(caplog)
        assert len(warnings) == 1, warnings[:3]
        assert "200 extension(s)" in warnings[0]
        assert "5000" in warnings[0]
