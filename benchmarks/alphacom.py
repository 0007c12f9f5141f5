"""AlphaCom: simple-link-layer lines decoded per second, data-link goodput at 0 and 10 percent loss.

Decoding: real broadcast lines (ST_BUSY_BC, CALL_STATUS_BC, CONN_STATUS_BC) through the
simple link layer and the codec. Data link: 1,000 messages (or ``--messages``) from one
data link layer to another over a line that drops or corrupts frames, on simulated time
with a 9600 bit/s serial line's byte time, counting what arrives exactly once and in order.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Final

from pbx_protocols.alphacom.codec import decode_packet
from pbx_protocols.alphacom.data_link import DataLinkLayer
from pbx_protocols.alphacom.link_layer import SimpleLinkLayer

LINES: Final = (
    b"014101FF2118410015003632018002=54\r\n",
    b"014101FF211A410017004007D706070B1A2D32018002320180090201=76\r\n",
    b"014101FF211B410018004107D706070B1A2D01043201800232018009=7F\r\n",
)
#: Seconds per byte on a 9600 bit/s 8N1 line (10 bits a byte).
BYTE_TIME: Final = 10 / 9600
STEP: Final = 0.001


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--seconds", type=float, default=3.0, help="time for the decode run")
    parser.add_argument("--messages", type=int, default=1000, help="messages per data link run")


def decode_rate(seconds: float) -> dict[str, object]:
    """Lines per second through the simple link layer and the codec."""
    chunk = b"".join(LINES) * 100
    layer = SimpleLinkLayer()
    decoded = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for message in layer.receive(chunk, 0.0):
            decode_packet(message)
            decoded += 1
    return {
        "benchmark": "alphacom_sll_decode",
        "messages": decoded,
        "messages_per_s": round(decoded / elapsed),
    }


def _lossy(rng: random.Random, loss: float, data: bytes) -> tuple[bytes, int]:
    out = bytearray()
    for frame in data.split(b"\xf1")[:-1]:
        roll = rng.random()
        if roll < loss / 2:
            continue  # dropped
        damaged = bytearray(frame)
        if roll < loss and damaged:
            damaged[rng.randrange(len(damaged))] ^= 0x10  # corrupted
        out += damaged + b"\xf1"
    return bytes(out), len(data)


def data_link_run(messages: int, loss: float) -> dict[str, object]:
    """Goodput (messages per second of line time) and exactly-once delivery."""
    rng = random.Random(1)
    sender, receiver = DataLinkLayer(), DataLinkLayer()
    sent = [bytes([1, 1, 1, 0x41, 0, 0x41, n >> 8, n & 0xFF, 0, 0x50]) for n in range(messages)]
    sender.start(0.0)
    receiver.start(0.0)
    for message in sent:
        sender.send(message, 0.0)
    received: list[bytes] = []
    now, busy_until = 0.0, 0.0
    while (len(received) < messages or sender._unacked) and now < 3600:  # noqa: SLF001
        data, size = _lossy(rng, loss, sender.take_output())
        busy_until = max(busy_until, now) + size * BYTE_TIME  # the line is serial
        received += receiver.receive(data, busy_until)
        sender.receive(_lossy(rng, loss, receiver.take_output())[0], busy_until)
        now = max(now + STEP, busy_until)
        for side in (sender, receiver):
            deadline = side.next_deadline()
            if deadline is not None and now >= deadline:
                side.on_deadline(now)
    unique_in_order = received == sent
    return {
        "benchmark": "alphacom_sdll_goodput",
        "loss": loss,
        "messages": messages,
        "delivered": len(received),
        "exactly_once_in_order": unique_in_order,
        "line_time_s": round(now, 2),
        "goodput_messages_per_s": round(messages / now, 1) if now else None,
        "retransmitted_frames": sender.counters.retransmitted,
    }


def main(args: argparse.Namespace) -> None:
    """Print one JSON line per measurement."""
    print(json.dumps(decode_rate(args.seconds)), flush=True)
    for loss in (0.0, 0.10):
        print(json.dumps(data_link_run(args.messages, loss)), flush=True)
