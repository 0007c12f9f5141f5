"""NBX: the monitor's CPU while 100 calls' voice crosses the wire, against a naive sniffer.

On a veth pair in a network namespace of its own (needs root), this process sends what an
NBX with 100 concurrent calls puts on a mirror port: 100 x 2 directions x 41.7 voice frames
a second (about 8,300 frames/s, 216 bytes each), plus signalling (an update every second,
and HR frames as calls start and end). Two listeners run at the same time on the other end,
each in its own process: the library's monitor (kernel filter, add_reader, the monitor
model) and a naive scapy ``sniff()`` without a filter. Each reports its CPU time and which
signalling frames it saw; the benchmark prints one JSON line per listener.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime
from typing import Any, Final

from pbx_protocols.nbx.capture import open_send_socket
from pbx_protocols.nbx.frames import TYPE_REQUEST, TYPE_VOICE, VOICE_INTERVAL
from pbx_protocols.nbx.layers import NBXRequest, NBXVoice, build
from pbx_protocols.nbx.simulator import Ncp

from .netns import Namespace, inside, veth_namespace, why_not

CALLS: Final = 100
NCP_MAC: Final = "00:e0:bb:0b:d8:be"
#: HR frames per second (calls starting and ending, displays changing).
SIGNALLING_RATE: Final = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--seconds", type=float, default=20.0, help="traffic duration (20)")
    parser.add_argument("--calls", type=int, default=CALLS, help="concurrent calls (100)")


def emit(line: dict[str, Any]) -> None:
    """One JSON line per measurement."""
    print(json.dumps(line), flush=True)


def phone_mac(n: int) -> str:
    """The MAC of simulated phone ``n``."""
    return f"00:e0:bb:01:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"


def start_listener(namespace: Namespace, kind: str, seconds: float) -> subprocess.Popen[str]:
    """A listener process in the namespace, once it listens."""
    argv = [sys.executable, "-m", "benchmarks.nbx_listener", kind, "--interface", "veth1",
            "--seconds", str(seconds)]  # fmt: skip
    process = subprocess.Popen(namespace.command(*argv), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError(f"the {kind} listener did not start")
    return process


def send_traffic(namespace: Namespace, calls: int, seconds: float) -> tuple[int, set[int]]:
    """Voice of ``calls`` calls and signalling, paced; (voice frames, signalling seqs)."""
    with inside(namespace):
        sock = open_send_socket("veth0")
    sock.setblocking(True)
    voice = []
    for call in range(calls):
        for side in (0, 1):
            source, destination = phone_mac(2 * call + side), phone_mac(2 * call + 1 - side)
            voice.append(build(destination, source, TYPE_VOICE, source, call, NBXVoice()))
    ncp = Ncp.with_phones(24)
    sequence = 0
    signalling: set[int] = set()
    voice_sent = 0
    started = time.monotonic()
    next_voice, next_update, next_request = started, started, started
    try:
        while (now := time.monotonic()) - started < seconds:
            if now >= next_voice:
                for frame in voice:
                    sock.send(frame)
                voice_sent += len(voice)
                next_voice += VOICE_INTERVAL
            if now >= next_update:
                sequence += 1
                update = bytearray(ncp.update(datetime.now()))
                update[22:24] = sequence.to_bytes(2, "big")  # our own numbering
                sock.send(bytes(update))
                signalling.add(sequence)
                next_update += 1.0
            if now >= next_request:
                sequence += 1
                body = NBXRequest(ring=0x50 if sequence % 2 else 0, display=b"Call from 2001")
                sock.send(build(phone_mac(sequence % (2 * calls)), NCP_MAC, TYPE_REQUEST,
                                NCP_MAC, sequence, body))  # fmt: skip
                signalling.add(sequence)
                next_request += 1.0 / SIGNALLING_RATE
            time.sleep(max(0.0, min(next_voice, next_update, next_request) - time.monotonic()))
    finally:
        sock.close()
    return voice_sent, signalling


def main(args: argparse.Namespace) -> None:
    """Run the traffic past both listeners; one JSON line each."""
    reason = why_not()
    if reason is not None:
        emit({"benchmark": "nbx", "skipped": reason})
        return
    with veth_namespace() as namespace:
        listen = args.seconds + 3.0
        listeners = {kind: start_listener(namespace, kind, listen) for kind in ("ours", "naive")}
        time.sleep(0.5)
        voice_sent, signalling = send_traffic(namespace, args.calls, args.seconds)
        for kind, process in listeners.items():
            out, _ = process.communicate(timeout=listen + 30)
            result = json.loads(out.strip().splitlines()[-1])
            seen = set(result["signalling"])
            emit(
                {
                    "benchmark": "nbx",
                    "listener": kind,
                    "calls": args.calls,
                    "seconds": args.seconds,
                    "voice_frames_sent": voice_sent,
                    "voice_frames_per_s": round(voice_sent / args.seconds),
                    "voice_frames_seen": result["voice"],
                    "signalling_sent": len(signalling),
                    "signalling_lost": len(signalling - seen),
                    "cpu_s": result["cpu_s"],
                    "cpu_percent_of_one_core": round(100 * result["cpu_s"] / result["wall_s"], 2),
                }
            )
