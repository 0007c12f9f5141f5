"""TCP and USB framing: any payload, any split, malformed input, resynchronisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbx_protocols.core.errors import IncompleteFrame, ProtocolError
from pbx_protocols.panasonic.framing import (
    USB_PACKET_SIZE,
    NextLayer,
    TcpFramer,
    UsbReassembler,
    fragment,
    split_tcp_frames,
    split_usb_stream,
    unwrap_next_layer,
    usb_packets,
    wrap_next_layer,
)

payloads = st.binary(max_size=4096)
SYSTEM_STATUS = bytes.fromhex("a10c020101020200d330030a0102")


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return pieces


@settings(max_examples=200, deadline=None)
@given(st.lists(payloads, max_size=5), st.lists(st.integers(0, 20000), max_size=30))
def test_tcp_frames_survive_any_split(frames, cuts):
    framer = TcpFramer()
    stream = b"".join(framer.frame(frame) for frame in frames)
    received = [frame for piece in split_at(stream, cuts) for frame in framer.feed(piece)]
    assert received == frames
    assert framer.pending == 0


def test_tcp_byte_at_a_time_and_two_frames_in_one_chunk():
    framer = TcpFramer()
    stream = framer.frame(SYSTEM_STATUS) * 2
    assert [f for byte in stream for f in framer.feed(bytes([byte]))] == [SYSTEM_STATUS] * 2
    assert framer.feed(stream) == [SYSTEM_STATUS, SYSTEM_STATUS]


def test_tcp_limits_and_incomplete_input():
    with pytest.raises(ProtocolError, match="65535"):
        TcpFramer().frame(bytes(70000))
    with pytest.raises(IncompleteFrame) as info:
        split_tcp_frames(bytes.fromhex("000ea10c0201"))
    assert info.value.offset == 0
    assert split_tcp_frames(b"") == []
    framer = TcpFramer()
    assert framer.feed(b"\x01\x00" + bytes(256)) == [bytes(256)]  # first byte not 00: passed on


@settings(max_examples=200, deadline=None)
@given(payloads)
def test_usb_fragments_carry_any_payload_up_to_4k(message):
    packets = fragment(message)
    assert all(len(packet) <= USB_PACKET_SIZE for packet in packets)
    reassembler = UsbReassembler()
    out = [reassembler.feed_packet(packet) for packet in packets]
    assert out[-1] == message
    assert out[:-1] == [None] * (len(packets) - 1)
    assert list(split_usb_stream(b"".join(packets))) == packets


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=255), min_size=1, max_size=4))
def test_usb_pdus_through_next_layer(pdus):
    reassembler = UsbReassembler()
    received = []
    for pdu in pdus:
        for packet in usb_packets(pdu):
            message = reassembler.feed_packet(packet)
            if message is not None:
                layer = unwrap_next_layer(message)
                assert layer.protocol == NextLayer.CSTA
                received.append(layer.pdu)
    assert received == pdus


def test_usb_padding_after_the_declared_length_is_ignored():
    (packet,) = usb_packets(SYSTEM_STATUS)
    message = UsbReassembler().feed_packet(packet.ljust(USB_PACKET_SIZE, b"\xee"))
    assert unwrap_next_layer(message).pdu == SYSTEM_STATUS


@pytest.mark.parametrize(
    ("packets", "error"),
    [
        ([b"\x05\x01\x00"], "unknown USB packet type 0x05"),
        ([b"\x02\x01\x00"], "middle fragment without a first"),
        ([b"\x03\x01\x00"], "last fragment without a first"),
        ([b"\x00\x40" + bytes(64)], "announces 64 bytes"),
        ([b"\x00\x05\x00"], "announces 5 bytes, 1 arrived"),
        ([b"\x00"], "shorter than its header"),
    ],
)
def test_malformed_usb_packets(packets, error):
    reassembler = UsbReassembler()
    with pytest.raises(ProtocolError, match=error):
        for packet in packets:
            reassembler.feed_packet(packet)


def test_usb_resynchronises_after_garbage_and_drops_unfinished_messages():
    reassembler = UsbReassembler()
    first, *_ = usb_packets(bytes(200))
    assert reassembler.feed_packet(first) is None
    with pytest.raises(ProtocolError):
        reassembler.feed_packet(b"\x07\x00")
    (whole,) = usb_packets(SYSTEM_STATUS)
    assert unwrap_next_layer(reassembler.feed_packet(whole)).pdu == SYSTEM_STATUS
    assert reassembler.feed_packet(first) is None
    assert reassembler.feed_packet(whole) is not None  # a new message replaces the old
    with pytest.raises(ProtocolError, match="without a first"):
        reassembler.feed_packet(b"\x03\x01\x00")


def test_usb_message_size_is_capped():
    reassembler = UsbReassembler()
    reassembler.feed_packet(b"\x01\x3c" + bytes(62))
    with pytest.raises(ProtocolError, match="longer than"):
        for _ in range(1200):
            reassembler.feed_packet(b"\x02\x3e" + bytes(62))


def test_next_layer_header_limits():
    with pytest.raises(ProtocolError, match="does not fit"):
        wrap_next_layer(bytes(256))
    with pytest.raises(ProtocolError, match="announces 9 byte"):
        unwrap_next_layer(b"\x00\x09abc")
    with pytest.raises(IncompleteFrame):
        unwrap_next_layer(b"\x00")
    assert unwrap_next_layer(wrap_next_layer(b"mc", NextLayer.MAINTENANCE_CONSOLE)).protocol == 2


def test_cut_usb_stream():
    with pytest.raises(IncompleteFrame, match="header cut off"):
        list(split_usb_stream(b"\x00"))
    with pytest.raises(IncompleteFrame, match="announces 16 bytes") as info:
        list(split_usb_stream(b"\x00\x10abc"))
    assert info.value.offset == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=70), max_size=20))
def test_random_usb_packets_raise_only_protocol_errors(packets):
    reassembler = UsbReassembler()
    for packet in packets:
        try:
            message = reassembler.feed_packet(packet)
            if message is not None:
                unwrap_next_layer(message)
        except ProtocolError:
            pass
