"""One listener of the NBX benchmark, in its own process: ours, or a naive scapy sniff().

``python -m benchmarks.nbx_listener ours|naive --interface IF --seconds S`` prints ``ready``
once it listens, then, after S seconds, one JSON line: its CPU time and the signalling
frames (by sequence number) and voice frames it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time

from pbx_protocols.core.calls import CallTracker
from pbx_protocols.core.errors import ProtocolError
from pbx_protocols.nbx.capture import LiveCapture, open_raw_socket
from pbx_protocols.nbx.frames import TYPE_VOICE, NbxFrame, parse_frame
from pbx_protocols.nbx.monitor import NbxMonitor


def cpu_seconds() -> float:
    """User and system time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Tally:
    """What a listener saw."""

    def __init__(self) -> None:
        self.signalling: set[int] = set()
        self.voice = 0
        self.frames = 0

    def saw(self, data: bytes) -> NbxFrame | None:
        """Count one frame; return it parsed (None if it is no NBX frame)."""
        self.frames += 1
        try:
            frame = parse_frame(data)
        except ProtocolError:
            return None
        if frame.type == TYPE_VOICE:
            self.voice += 1
        else:
            self.signalling.add(frame.seq)
        return frame

    def report(self, kind: str, cpu: float, wall: float) -> None:
        """Print the tally as one JSON line."""
        line = {
            "listener": kind,
            "cpu_s": round(cpu, 3),
            "wall_s": round(wall, 3),
            "frames": self.frames,
            "voice": self.voice,
            "signalling": sorted(self.signalling),
        }
        print(json.dumps(line), flush=True)


async def ours(interface: str, seconds: float) -> None:
    """The library's monitor path: kernel filter, add_reader, parse, the monitor model."""
    tally = Tally()
    capture = LiveCapture(open_raw_socket(interface), interface)
    tracker = CallTracker()
    tracker.set_link_up(True)
    monitor = NbxMonitor(tracker)
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    cpu, started = cpu_seconds(), time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            while True:
                for captured in await capture.receive():
                    if (frame := tally.saw(captured.data)) is not None:
                        monitor.frame(frame, loop.time())
    except TimeoutError:
        pass
    capture.close()
    tally.report("ours", cpu_seconds() - cpu, time.monotonic() - started)


def naive(interface: str, seconds: float) -> None:
    """What a first attempt would do: scapy's sniff() on the interface, no kernel filter."""
    from scapy.all import sniff

    tally = Tally()
    marks: dict[str, float] = {}

    def started() -> None:
        print("ready", flush=True)
        marks["cpu"], marks["wall"] = cpu_seconds(), time.monotonic()

    def seen(packet: object) -> None:
        tally.saw(bytes(packet))  # type: ignore[call-overload]

    sniff(iface=interface, prn=seen, store=False, timeout=seconds, started_callback=started)
    tally.report("naive", cpu_seconds() - marks["cpu"], time.monotonic() - marks["wall"])


def main() -> None:
    """Run one listener."""
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["ours", "naive"])
    parser.add_argument("--interface", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    if args.kind == "ours":
        asyncio.run(ours(args.interface, args.seconds))
    else:
        naive(args.interface, args.seconds)
    sys.exit(0)


if __name__ == "__main__":
    main()
