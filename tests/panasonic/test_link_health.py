"""A dead PBX is noticed in 45 s, a restarted one reconnected in 5 s, lost monitors retried.

Some tests run the simulator as a real process (stopped with SIGSTOP, killed, restarted)
and watch the command-line monitor from outside, as a user would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator

import pytest

from pbx_protocols.core.model import ConnectionState, LineState
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.operations import Opcode
from tests.panasonic.conftest import fast_policy, wait_until
from tests.panasonic.test_cli import free_port


async def test_a_stalled_pbx_is_noticed_within_45_seconds_by_default(
    simulator, time_travel, caplog
):
    client = PanasonicClient(PanasonicConfig(host="127.0.0.1", port=simulator.port))
    await client.connect()
    try:
        simulator.freeze()  # a stopped PBX process: its kernel still acknowledges TCP
        await time_travel(44)
        assert client.connected
        await time_travel(2)
        await wait_until(lambda: client.connection_state is ConnectionState.RECONNECTING)
        assert "no answer from the PBX for 45 s" in caplog.text
    finally:
        simulator.freeze(False)
        await client.close()


async def test_a_monitor_the_pbx_did_not_answer_is_retried(simulator, make_client):
    simulator.leave_unanswered(Opcode.MONITOR_START)
    client = make_client(request_timeout=0.3, monitor_retry=0.3)
    async with client:
        unmonitored = [n for n in client.extension_numbers if not client.extension(n).monitored]
        assert len(unmonitored) == 1  # unavailable, not gone
        assert client.extension(unmonitored[0]).line_state is LineState.UNKNOWN
        await wait_until(lambda: client.extension(unmonitored[0]).monitored, timeout=5)
        assert client.extension(unmonitored[0]).line_state is LineState.IDLE
        assert sorted(simulator.sessions[0].monitored) == sorted(client.extension_numbers)


@contextlib.asynccontextmanager
async def simulator_process(port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pbx_protocols",
        "simulate",
        "panasonic",
        "--listen",
        f"127.0.0.1:{port}",
        "--extensions",
        "101-104",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            await process.stdout.readline()  # the announcement: it listens
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)
            process.kill()
        await process.wait()


async def test_a_sigstopped_simulator_process_is_noticed(socket_enabled):
    port = free_port()
    async with simulator_process(port) as process:
        config = PanasonicConfig(host="127.0.0.1", port=port, link_timeout=3.0)
        client = PanasonicClient(config, reconnect_policy=fast_policy())
        await client.connect()
        try:
            os.kill(process.pid, signal.SIGSTOP)
            stopped = time.monotonic()
            await wait_until(
                lambda: client.connection_state is ConnectionState.RECONNECTING, timeout=10
            )
            assert time.monotonic() - stopped < 4.0
            os.kill(process.pid, signal.SIGCONT)
            await wait_until(lambda: client.connected, timeout=10)
        finally:
            await client.close()


class MonitorProcess:
    """``pbx-protocols monitor`` as a user runs it; its log lines, timed on arrival."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[tuple[float, str]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append((time.monotonic(), line.decode().strip()))

    async def next_line(self, text: str, after: float, timeout: float) -> float:
        """When a log line containing ``text`` arrived after ``after``."""
        async with asyncio.timeout(timeout):
            while True:
                for arrived, line in self.lines:
                    if arrived > after and text in line:
                        return arrived
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self.process.terminate()
        await self.process.wait()
        self._reader.cancel()


@pytest.mark.parametrize("outages", [(5.0, 30.0)])
async def test_reconnects_within_5_seconds_after_restarts_and_says_so(socket_enabled, outages):
    port = free_port()
    monitor: MonitorProcess | None = None
    async with simulator_process(port) as first:
        monitor = MonitorProcess(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "pbx_protocols",
                "monitor",
                "panasonic",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        )
        await asyncio.sleep(1.0)  # connected by now
        first.kill()
    try:
        for outage in outages:
            killed = time.monotonic()
            await monitor.next_line("Lost connection", killed - 1, timeout=10)
            await asyncio.sleep(outage)
            async with simulator_process(port) as restarted:
                back = time.monotonic()
                restored = await monitor.next_line("restored", back, timeout=15)
                assert restored - back <= 5.0, f"{restored - back:.1f} s after a {outage} s outage"
                restarted.kill()
    finally:
        await monitor.stop()
