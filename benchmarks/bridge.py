"""``script/benchmark bridge``: many sites through one broker, simulator to remote callback.

Each site is a simulated PBX in its own process (:mod:`benchmarks.far_end`) and a real
``pbx-protocols bridge panasonic`` process in front of it, all publishing to one local
mosquitto. This process follows every site with a :class:`RemoteClient` (one broker
connection for all), as Home Assistant does. The far ends send event reports at the total
rate, spread evenly over the sites; each report's send time is matched by site, call id
and event kind to the remote client's callback (``time.monotonic`` is one clock for every
process on the machine). Prints one JSON line: sent, received, lost, p50/p99/max, and each
bridge process's CPU share and resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

from demo.mosquitto import MOSQUITTO, Mosquitto
from pbx_protocols.core.model import CallEvent
from pbx_protocols.remote.client import RemoteClient
from pbx_protocols.remote.mqtt import MqttPubSub, MqttSettings

from .far_end import Sent
from .far_end_process import FarEnd
from .process_usage import cpu_seconds, rss_bytes
from .stats import lag_growth, match, summary

SITES: Final = 10
EXTENSIONS: Final = 100
RATE: Final = 500
SECONDS: Final = 30.0
#: After the last report, events still on their way get this long to arrive.
DRAIN: Final = 5.0
#: How long a bridge may take to connect its PBX and announce every extension.
ANNOUNCE_TIMEOUT: Final = 60.0


@contextlib.asynccontextmanager
async def bridge_process(
    port: int, broker: Mosquitto, site: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``pbx-protocols bridge panasonic`` for one site, as a user starts it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pbx_protocols",
        "bridge",
        "panasonic",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--mqtt",
        broker.url,
        "--site",
        site,
        "--no-discovery",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=(broker.directory / f"bridge-{site}.log").open("ab"),
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


def all_monitored(client: RemoteClient, extensions: int) -> bool:
    """Whether the site reports every one of its extensions as monitored."""
    numbers = client.extension_numbers
    return len(numbers) >= extensions and all(
        (snapshot := client.extension(n)) is not None and snapshot.monitored for n in numbers
    )


async def measure(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    """Start everything, load it, and measure."""
    broker = Mosquitto(directory)
    broker.start()
    sites = [f"site{n:02d}" for n in range(args.sites)]
    received: dict[str, list[tuple[str, str, float]]] = {site: [] for site in sites}
    try:
        async with contextlib.AsyncExitStack() as stack:
            far_ends = [await stack.enter_async_context(FarEnd(args.extensions)) for _ in sites]
            bridges = [
                await stack.enter_async_context(bridge_process(far.port, broker, site))
                for far, site in zip(far_ends, sites, strict=True)
            ]
            pubsub = MqttPubSub(MqttSettings.from_url(broker.url))
            stack.push_async_callback(pubsub.stop)
            clients = [RemoteClient(pubsub, site) for site in sites]
            for site, client in zip(sites, clients, strict=True):
                stack.push_async_callback(client.close)

                def arrived(
                    event: CallEvent, into: list[tuple[str, str, float]] = received[site]
                ) -> None:
                    into.append((event.call_id or "", event.kind.value, time.monotonic()))

                client.subscribe_events(arrived)
            async with asyncio.timeout(ANNOUNCE_TIMEOUT):
                await asyncio.gather(*(client.connect() for client in clients))
                # Every extension monitored at its site: a report for one whose monitor
                # is still starting would be lost before the load begins.
                while not all(all_monitored(c, args.extensions) for c in clients):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            for events in received.values():
                events.clear()
            cpu_before = [cpu_seconds(b.pid) for b in bridges]
            started = time.monotonic()
            per_site = args.rate / args.sites
            sent: list[list[Sent]] = await asyncio.gather(
                *(far.load(per_site, args.seconds) for far in far_ends)
            )
            elapsed = time.monotonic() - started
            expected = sum(len(s) for s in sent)

            def matched() -> list[float]:
                delays: list[float] = []
                for site, site_sent in zip(sites, sent, strict=True):
                    delays += match([(c, k, m) for c, k, m, _ in site_sent], received[site])
                return delays

            # Wait for the events that match what was sent: counting every event that
            # arrives stopped early when one from before the load (a late end) came too.
            deadline = time.monotonic() + DRAIN
            while len(matched()) < expected and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            cpu = [
                (cpu_seconds(b.pid) - before) / elapsed * 100
                for b, before in zip(bridges, cpu_before, strict=True)
            ]
            rss = [rss_bytes(b.pid) / 1024 / 1024 for b in bridges]
            delays = matched()
            connected = all(client.connected for client in clients)
    finally:
        broker.kill()
    return {
        "benchmark": "bridge",
        "sites": args.sites,
        "extensions_per_site": args.extensions,
        "rate": args.rate,
        "seconds": args.seconds,
        "sent": expected,
        "received": len(delays),
        "lost": expected - len(delays),
        **summary(delays),
        "lag_growth_ms": lag_growth(delays),
        "bridge_cpu_percent_mean": round(sum(cpu) / len(cpu), 2),
        "bridge_cpu_percent_max": round(max(cpu), 2),
        "bridge_rss_mb_mean": round(sum(rss) / len(rss), 1),
        "bridge_rss_mb_max": round(max(rss), 1),
        "connected": connected,
    }


async def run(args: argparse.Namespace) -> None:
    """One measurement, in a scratch directory for the broker's files and the bridges' logs."""
    if MOSQUITTO is None:
        raise SystemExit("mosquitto is not installed: script/setup installs it (as root)")
    with tempfile.TemporaryDirectory(prefix="pbx-bridge-benchmark-") as directory:
        print(json.dumps(await measure(args, Path(directory))), flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--sites", type=int, default=SITES)
    parser.add_argument("--extensions", type=int, default=EXTENSIONS, help="per site")
    parser.add_argument("--rate", type=float, default=RATE, help="events/s, all sites")
    parser.add_argument("--seconds", type=float, default=SECONDS)


def main(args: argparse.Namespace) -> None:
    """Run the benchmark."""
    asyncio.run(run(args))
