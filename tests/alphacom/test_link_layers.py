"""The link layers, I/O-free: every deframer byte at a time and in one chunk, noise,
hostile input, and the data link layer over a lossy line (fake time)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbx_protocols.alphacom.data_link import (
    FRAME_ACK,
    FRAME_MESSAGE,
    MAX_FRAME,
    DataLinkLayer,
    build_frame,
    stuff,
    unstuff,
)
from pbx_protocols.alphacom.link_layer import (
    MAX_LINE,
    AutoLinkLayer,
    SimpleLinkLayer,
    format_simple_line,
)
from pbx_protocols.alphacom.transport import make_link_layer
from pbx_protocols.core.errors import ProtocolError

MESSAGES = [
    bytes([1, 0x41, 1, 0xFF, 0, 0x41, 0, n, 0, 0x36, 0x32, 1, 0x10, 0x1F]) for n in range(5)
]
SPECIAL = bytes.fromhex("0101014100 41 F0F1 0050 F1F0F0F1")  # bytes that need stuffing


# -- simple link layer -------------------------------------------------------------------


def stream_of_lines() -> bytes:
    return b"".join(format_simple_line(message) for message in MESSAGES)


def test_simple_lines_in_one_chunk_and_byte_at_a_time():
    assert SimpleLinkLayer().receive(stream_of_lines(), 0) == MESSAGES
    layer = SimpleLinkLayer()
    received = []
    for byte in stream_of_lines():
        received += layer.receive(bytes([byte]), 0)
    assert received == MESSAGES


def test_noise_between_lines_is_ignored_and_bad_lines_counted():
    noise = b"\x00 \t\r\n\r\nGARBAGE\r\n" + b"41=ZZ\r" + b'"unterminated\r'
    layer = SimpleLinkLayer()
    assert layer.receive(noise + stream_of_lines(), 0) == MESSAGES
    assert layer.counters.dropped == 3


def test_an_endless_line_is_dropped_not_kept():
    layer = SimpleLinkLayer()
    assert layer.receive(b"A" * (MAX_LINE * 4), 0) == []
    assert len(layer._buffer) <= MAX_LINE
    assert layer.receive(b"BBB\r" + format_simple_line(MESSAGES[0]), 0) == [MESSAGES[0]]


def test_a_long_complete_line_is_dropped_unparsed():
    # A valid-looking line too long for any message, arriving whole in one chunk.
    layer = SimpleLinkLayer()
    huge = format_simple_line(bytes(MAX_LINE))
    assert layer.receive(huge + format_simple_line(MESSAGES[1]), 0) == [MESSAGES[1]]
    assert layer.counters.dropped == 1
    assert layer.counters.last_error == f"a line longer than {MAX_LINE} characters"


@given(st.binary(min_size=1, max_size=64))
def test_simple_link_layer_round_trip(message):
    line = format_simple_line(message)
    assert SimpleLinkLayer().receive(line, 0) == [message]
    layer = SimpleLinkLayer()
    layer.send(message, 0)
    assert layer.take_output() == line.replace(b"\r\n", b"\r")


@given(st.binary(max_size=300))
def test_simple_link_layer_survives_anything(data):
    layer = SimpleLinkLayer()
    layer.receive(data, 0)
    assert layer.receive(b"\r" + format_simple_line(MESSAGES[1]), 0)[-1] == MESSAGES[1]


# -- data link layer ---------------------------------------------------------------------


def test_stuffing_round_trip():
    assert stuff(b"\xf0\xf1\x01") == b"\xf0\x01\xf0\x00\x01\xf1"
    assert unstuff(b"\xf0\x01\xf0\x00\x01") == b"\xf0\xf1\x01"
    assert unstuff(b"\xf0\x05") is None


def connected_pair(window: int = 7) -> tuple[DataLinkLayer, DataLinkLayer]:
    a, b = DataLinkLayer(window=window), DataLinkLayer(window=window)
    a.start(0)
    b.start(0)
    b.receive(a.take_output(), 0)
    a.receive(b.take_output(), 0)
    a.receive(b.take_output(), 0)
    b.receive(a.take_output(), 0)
    return a, b


def test_data_link_frames_in_one_chunk_and_byte_at_a_time():
    a, b = connected_pair()
    for message in [*MESSAGES, SPECIAL]:
        a.send(message, 0)
    wire = a.take_output()
    assert b"\xf1" in wire and wire.count(b"\xf1") == 6
    assert DataLinkLayer().receive(wire, 0) == [*MESSAGES, SPECIAL]  # first frame syncs
    received = []
    for byte in wire:
        received += b.receive(bytes([byte]), 0)
    assert received == [*MESSAGES, SPECIAL]
    acks = b.take_output()
    assert acks.count(b"\xf1") == 6
    a.receive(acks, 0)
    assert not a._unacked


def test_window_limits_frames_in_flight():
    a, b = connected_pair(window=1)
    for message in MESSAGES:
        a.send(message, 0)
    assert a.take_output().count(b"\xf1") == 1
    b.receive(build_frame(FRAME_MESSAGE, 0, b""), 0)  # noise for b
    a.receive(build_frame(FRAME_ACK, a._unacked[0][0]), 0)
    assert a.take_output().count(b"\xf1") == 1


def fits_one_frame(message: bytes) -> bool:
    return len(build_frame(FRAME_MESSAGE, 0, message)) <= MAX_FRAME


# A network message is at least 5 bytes; 4 bytes of data are an idle frame.
network_messages = st.binary(min_size=5, max_size=64).filter(fits_one_frame)


@given(st.lists(network_messages, max_size=20))
def test_data_link_round_trip(messages):
    a, b = connected_pair()
    for message in messages:
        a.send(message, 0)
    received: list[bytes] = []
    for _ in range(10):  # the window is 7: acknowledgements let the rest go
        received += b.receive(a.take_output(), 0)
        a.receive(b.take_output(), 0)
    assert received == messages
    assert not a._unacked


def test_a_message_too_long_once_escaped_is_refused_before_it_is_queued():
    layer = DataLinkLayer()
    with pytest.raises(ProtocolError, match="too long for one data link frame"):
        layer.send(b"\xf0" * 64, 0)
    assert layer.take_output() == b""


def test_an_oversized_frame_is_dropped():
    layer = DataLinkLayer()
    assert layer.receive(b"\x41" * (MAX_FRAME + 10) + b"\xf1", 0) == []
    assert layer.counters.dropped == 1


@given(st.binary(max_size=400))
def test_data_link_layer_survives_anything(data):
    layer = DataLinkLayer()
    layer.start(0)
    layer.receive(data, 0)
    layer.on_deadline(100)
    assert isinstance(layer.take_output(), bytes)


class LossyLine:
    """Drops or corrupts whole frames with the given probabilities."""

    def __init__(self, rng: random.Random, drop: float, corrupt: float) -> None:
        self.rng, self.drop, self.corrupt = rng, drop, corrupt
        self.damaged = 0

    def __call__(self, data: bytes) -> bytes:
        out = bytearray()
        for frame in data.split(b"\xf1")[:-1]:
            roll = self.rng.random()
            if roll < self.drop:
                self.damaged += 1
                continue
            damaged = bytearray(frame)
            if roll < self.drop + self.corrupt and damaged:
                self.damaged += 1
                damaged[self.rng.randrange(len(damaged))] ^= 1 << self.rng.randrange(8)
            out += damaged + b"\xf1"
        return bytes(out)


@pytest.mark.parametrize(("drop", "corrupt"), [(0.10, 0.0), (0.0, 0.10), (0.05, 0.05)])
def test_lossy_line_delivers_every_message_once_in_order(drop, corrupt):
    rng = random.Random(20261203)
    line = LossyLine(rng, drop, corrupt)
    a, b = DataLinkLayer(), DataLinkLayer()
    sent = [bytes([1, 1, 1, 0x41, 0, 0x41, n >> 8, n & 0xFF, 0x70, 0x00]) for n in range(1000)]
    a.start(0.0)
    b.start(0.0)
    for message in sent:
        a.send(message, 0.0)
    received: list[bytes] = []
    now = 0.0
    while (len(received) < len(sent) or a._unacked) and now < 600:
        received += b.receive(line(a.take_output()), now)
        a.receive(line(b.take_output()), now)
        now += 0.01
        for side in (a, b):
            deadline = side.next_deadline()
            if deadline is not None and now >= deadline:
                side.on_deadline(now)
    assert received == sent  # exactly once, in order
    assert line.damaged > 100  # the line really was lossy
    assert a.counters.retransmitted > 0


# -- auto ----------------------------------------------------------------------------------


def test_auto_settles_on_lines():
    layer = AutoLinkLayer(make_link_layer)
    layer.start(0)
    layer.send(MESSAGES[0], 0)
    assert layer.take_output() == format_simple_line(MESSAGES[0], b"\r")
    assert layer.receive(format_simple_line(MESSAGES[1]), 0) == [MESSAGES[1]]
    assert isinstance(layer.settled, SimpleLinkLayer)


def test_auto_settles_on_frames_and_sends_again_through_them():
    peer = DataLinkLayer()
    peer.start(0)
    layer = AutoLinkLayer(make_link_layer)
    layer.start(0)
    layer.send(MESSAGES[0], 0)
    layer.take_output()  # the provisional line, lost on a data-link peer
    layer.receive(peer.take_output(), 0)
    assert isinstance(layer.settled, DataLinkLayer)
    peer_received = peer.receive(layer.take_output(), 0)
    assert peer_received == [MESSAGES[0]]


def test_auto_falls_back_to_lines_when_the_peer_is_silent():
    layer = AutoLinkLayer(make_link_layer, wait=3)
    layer.start(0)
    assert layer.next_deadline() == 3
    layer.on_deadline(3)
    assert isinstance(layer.settled, SimpleLinkLayer)
