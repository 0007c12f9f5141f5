"""Runs the simulated NCP: frames onto an interface in real time, or into a pcap at once.

One timeline merges the NCP's updates (every second), the scenario's actions and, with
voice on, a voice tick every 24 ms while phones talk; live, the runner sleeps until each
moment comes; into a pcap, it stamps each frame with the moment and does not wait.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from ..capture import CapturedFrame, PcapWriter, open_send_socket
from ..frames import VOICE_INTERVAL
from .ncp import SCENARIOS, Ncp, apply

UPDATE_INTERVAL: Final = 1.0
#: A pcap without a duration gets this many seconds.
DEFAULT_PCAP_DURATION: Final = 30.0


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """What to simulate."""

    phones: int = 8
    scenario: str | None = "basic-call"
    seed: int | None = None
    voice: bool = False
    vlan: int | None = None
    #: Stop after this many seconds (None: live until cancelled; a pcap gets 30 s).
    duration: float | None = None


def timeline(ncp: Ncp, config: SimulatorConfig) -> Iterator[tuple[float, list[bytes]]]:
    """(seconds from the start, frames) in time order, without end (or to ``duration``)."""
    rng = random.Random(config.seed)
    scenario = iter(SCENARIOS[config.scenario](ncp, rng)) if config.scenario else iter(())
    started = datetime.now()  # the NCP shows local time
    # (when, order, kind): order keeps ties stable.
    queue: list[tuple[float, int, str]] = [(0.0, 0, "update")]
    next_action = next(scenario, None)
    order = 1
    while True:
        candidates = [queue[0][0]] if queue else []
        if next_action is not None:
            candidates.append(next_action[0])
        now = min(candidates)
        if config.duration is not None and now > config.duration:
            return
        if (
            next_action is not None
            and next_action[0] <= now
            and (not queue or next_action[0] <= queue[0][0])
        ):
            frames = apply(ncp, next_action[1])
            next_action = next(scenario, None)
            if config.voice and ncp.talking_pairs and not any(k == "voice" for *_, k in queue):
                heapq.heappush(queue, (now + VOICE_INTERVAL, order, "voice"))
                order += 1
            yield now, frames
            continue
        when, _, kind = heapq.heappop(queue)
        if kind == "update":
            heapq.heappush(queue, (when + UPDATE_INTERVAL, order, "update"))
            frames = [ncp.update(started + timedelta(seconds=when))]
        else:
            frames = ncp.voice()
            if ncp.talking_pairs:
                heapq.heappush(queue, (when + VOICE_INTERVAL, order, "voice"))
        order += 1
        yield when, frames


async def run_on_interface(
    ncp: Ncp, config: SimulatorConfig, interface: str, *, sock: socket.socket | None = None
) -> int:
    """Send the timeline on ``interface`` as it happens; return the frames sent.

    ``sock``: a send socket already open (one opened in another network namespace).
    """
    sock = sock or open_send_socket(interface)
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    try:
        for when, frames in timeline(ncp, config):
            delay = start + when - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            for frame in frames:
                await loop.sock_sendall(sock, frame)
                sent += 1
    finally:
        sock.close()
    return sent


async def write_pcap(ncp: Ncp, config: SimulatorConfig, path: str | Path) -> int:
    """Write the timeline into a pcap (30 s unless a duration is given); return the count."""
    duration = config.duration if config.duration is not None else DEFAULT_PCAP_DURATION
    config = SimulatorConfig(
        config.phones, config.scenario, config.seed, config.voice, config.vlan, duration
    )
    writer = PcapWriter(path)
    origin = time.time()
    batch: list[CapturedFrame] = []
    try:
        for when, frames in timeline(ncp, config):
            batch += [CapturedFrame(origin + when, frame) for frame in frames]
            if len(batch) >= 1000:
                await writer.write(batch)
                batch = []
        await writer.write(batch)
    finally:
        await writer.close()
    return writer.written
