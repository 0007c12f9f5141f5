"""``script/benchmark latency``: wire to client callback, and connecting a large PBX.

The simulated PBX runs in its own process (:mod:`benchmarks.far_end`) and talks to a
:class:`PanasonicClient` in this one over a real TCP socket on loopback. For every report
it notes when it sent it; the client's event callback notes when the event arrived
(``time.monotonic`` is the same clock in both processes). Prints JSON lines: one for
connecting 1,000 extensions to a PBX that answers every request 10 ms late, then one per
(extensions, rate) with sent, received, lost, p50/p99/max and the client's CPU per report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any, Final

from pbx_protocols.core.model import CallEvent
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig

from .far_end_process import FarEnd
from .panasonic_decode import calibration
from .stats import lag_growth, match, summary

RATES: Final = (100, 1_000, 5_000, 10_000, 15_000)
SIZES: Final = (100, 1_000)
SLOW_ANSWER: Final = 0.010
#: After the last report, events still on their way get this long to arrive.
DRAIN: Final = 2.0


def emit(line: dict[str, Any]) -> None:
    """One JSON line per measurement."""
    print(json.dumps(line), flush=True)


async def monitored(client: PanasonicClient, extensions: int) -> None:
    """Wait until the client monitors every extension."""
    while len(client.monitored_extensions) < extensions:  # noqa: ASYNC110  # nothing to await
        await asyncio.sleep(0.01)


async def measure_connect(extensions: int, answer_delay: float) -> None:
    """connect() and all monitors against a PBX that answers every request late."""
    async with FarEnd(extensions, answer_delay) as far:
        config = PanasonicConfig(host="127.0.0.1", port=far.port, call_records=False)
        client = PanasonicClient(config)
        started = time.monotonic()
        await client.connect()
        connected = time.monotonic() - started
        await monitored(client, extensions)
        everything = time.monotonic() - started
        await client.close()
    emit(
        {
            "benchmark": "connect",
            "extensions": extensions,
            "answer_delay_ms": answer_delay * 1000,
            "requests": 2 * extensions,
            "connect_s": round(connected, 2),
            "all_monitored_s": round(everything, 2),
        }
    )


async def measure_latency(extensions: int, rates: tuple[int, ...], seconds: float) -> None:
    """Wire to callback at each rate, with ``extensions`` monitored."""
    async with FarEnd(extensions) as far:
        config = PanasonicConfig(host="127.0.0.1", port=far.port, call_records=False)
        async with PanasonicClient(config) as client:
            await monitored(client, extensions)
            # Flat lists of strings and floats: a tuple per arrival would be an object for
            # the garbage collector, whose collections (5-15 ms here) would then be the
            # benchmark's own, not the client's.
            call_ids: list[str] = []
            kinds: list[str] = []
            moments: list[float] = []
            # The client's CPU is read as the last measured report's event arrives: what
            # follows (the far end's answer, matching) is the benchmark's own work.
            expected = 0
            cpu_at_last: list[float] = []

            def arrived(event: CallEvent) -> None:
                call_ids.append(event.call_id or "")
                kinds.append(event.kind.value)
                moments.append(time.monotonic())
                if len(moments) == expected:
                    cpu_at_last.append(time.process_time())

            def arrivals() -> list[tuple[str, str, float]]:
                return list(zip(call_ids, kinds, moments, strict=False))

            client.subscribe_events(arrived)
            for rate in rates:
                await asyncio.sleep(DRAIN)  # the previous run's ends arrive
                call_ids.clear()
                kinds.clear()
                moments.clear()
                cpu_at_last.clear()
                expected = round(rate * seconds)  # as many as the far end measures
                cpu = time.process_time()
                sent = await far.load(rate, seconds)
                wanted = [(c, k, mono) for c, k, mono, _ in sent]
                deadline = time.monotonic() + DRAIN
                # Until every report's event is in (an event of another kind, such as a
                # late one from the previous rate, does not count).
                while len(moments) < len(sent) or len(match(wanted, arrivals())) < len(sent):
                    if time.monotonic() >= deadline:
                        break
                    await asyncio.sleep(0.01 if len(moments) < len(sent) else 0.05)
                # Some lost: until the wait ended (the benchmark's matching included).
                cpu = (cpu_at_last[0] if cpu_at_last else time.process_time()) - cpu
                delays = match(wanted, arrivals())
                span = sent[-1][2] - sent[0][2] if len(sent) > 1 else seconds
                emit(
                    {
                        "benchmark": "latency",
                        "extensions": extensions,
                        "rate": rate,
                        "achieved_rate": round(len(sent) / span),
                        "sent": len(sent),
                        "received": len(delays),
                        "lost": len(sent) - len(delays),
                        **summary(delays),
                        "lag_growth_ms": lag_growth(delays),
                        "client_cpu_us_per_report": round(cpu / len(sent) * 1e6, 1),
                        "connected": client.connected,
                    }
                )
                await far.end_calls()  # their ends arrive during the next rate's drain


async def run(args: argparse.Namespace) -> None:
    """Every measurement, one after the other."""
    emit(calibration("latency", "before"))
    await measure_connect(args.connect_extensions, SLOW_ANSWER)
    for extensions in args.extensions:
        await measure_latency(extensions, tuple(args.rates), args.seconds)
    emit(calibration("latency", "after"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per rate")
    parser.add_argument("--rates", type=int, nargs="+", default=list(RATES))
    parser.add_argument("--extensions", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--connect-extensions", type=int, default=1_000, help="size of the slow PBX connected"
    )


def main(args: argparse.Namespace) -> None:
    """Run the benchmark."""
    asyncio.run(run(args))
