"""The AlphaCom codec: round trips per message class, limits, and hostile input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pbx_protocols.alphacom.codec import (
    MAX_NETWORK_MESSAGE,
    Address,
    Packet,
    decode_packet,
    encode_packet,
)
from pbx_protocols.alphacom.datatypes import NetObjRef, decode_bcd, encode_bcd, encode_text16
from pbx_protocols.alphacom.messages import (
    CallStatusBc,
    DisplayText,
    SendTxtMail,
    StBusyBc,
    UnknownMessage,
)
from pbx_protocols.core.errors import InvalidInput, ProtocolError
from tests.alphacom.strategies import MESSAGE_CLASSES, packets

EXCHANGE = Address(1, 0x41)
US = Address(1, 1)


@pytest.mark.parametrize("message_class", MESSAGE_CLASSES, ids=lambda c: c.NAME)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_per_message_class(message_class, data):
    packet = data.draw(packets(message_class))
    try:
        encoded = encode_packet(packet)
    except InvalidInput:
        assume(False)  # over the 64-byte limit
    decoded = decode_packet(encoded)
    assert decoded == packet
    assert encode_packet(decoded) == encoded


@given(st.binary(max_size=80))
def test_random_bytes_raise_only_protocol_errors(data):
    try:
        packet = decode_packet(data)
    except ProtocolError:
        return
    assert encode_packet(packet) == data  # whatever decodes encodes back the same


@given(st.sampled_from(MESSAGE_CLASSES), st.data())
def test_truncated_messages_decode_or_raise_typed(message_class, data):
    try:
        encoded = encode_packet(data.draw(packets(message_class)))
    except InvalidInput:
        return
    cut = data.draw(st.integers(0, len(encoded)))
    try:
        packet = decode_packet(encoded[:cut])
    except ProtocolError:
        return
    assert encode_packet(packet) == encoded[:cut]


def test_unknown_message_id_keeps_its_bytes():
    data = bytes.fromhex("0141 01FF 00 41 0007 7123 DEADBEEF")
    packet = decode_packet(data)
    assert isinstance(packet.message, UnknownMessage)
    assert (packet.message.message_id, packet.message.parameters) == (0x7123, b"\xde\xad\xbe\xef")
    assert encode_packet(packet) == data


def test_known_id_with_parameters_that_do_not_fit_is_generic():
    data = bytes.fromhex("0141 01FF 00 41 0007 0040 07D7")  # CALL_STATUS_BC cut inside CLOCK
    packet = decode_packet(data)
    assert isinstance(packet.message, UnknownMessage)
    assert packet.message.name == "CALL_STATUS_BC"
    assert encode_packet(packet) == data


def test_optional_parameters_may_be_absent_and_extra_ones_are_kept():
    short = decode_packet(bytes.fromhex("014101FF00 41 0001 0040 07D706070B1A2D 3201101F 3201102F"))
    assert isinstance(short.message, CallStatusBc)
    assert (short.message.priority, short.message.call_mode) == (None, None)
    packet = decode_packet(bytes.fromhex("014101FF00 41 0001 0037 3201101F AABB"))
    assert packet.trailing == b"\xaa\xbb"
    assert encode_packet(packet).hex().endswith("aabb")


def test_options_are_skipped():
    packet = decode_packet(bytes.fromhex("014101FF 63 010203 41 0001 0036 3201101F"))
    assert packet.options == b"\x01\x02\x03"
    assert isinstance(packet.message, StBusyBc)
    assert packet.hop_count == 3


def test_the_64_byte_limit_both_ways():
    long = bytes.fromhex("0101014100 41 0001 7000") + bytes(MAX_NETWORK_MESSAGE)
    with pytest.raises(ProtocolError, match="64-byte limit"):
        decode_packet(long[: MAX_NETWORK_MESSAGE + 1])
    too_long = Packet(US, EXCHANGE, 1, UnknownMessage(0x7000, bytes(60)))
    with pytest.raises(InvalidInput, match="at most 64"):
        encode_packet(too_long)


def test_net_obj_refs():
    assert NetObjRef.local_dirno("107").encode() == bytes.fromhex("3201107F")
    assert NetObjRef.digit_string("102").encode() == bytes.fromhex("20102F")
    assert decode_bcd(bytes.fromhex("107FFF")) == "107"
    assert encode_bcd("1234") == bytes.fromhex("1234")
    entity = NetObjRef.local_entity(1, 7, 0x0102)
    assert entity.entity == (7, 0x0102) and entity.node == 1 and entity.number is None
    raw = NetObjRef(5, b"\x01\x02")
    assert raw.as_json() == {"format": 5, "node": None, "number": None, "raw": "0102"}
    with pytest.raises(InvalidInput, match="digit string"):
        encode_bcd("12a")


def test_text_rules():
    assert encode_text16("Door") == b"Door" + b" " * 12
    with pytest.raises(InvalidInput, match="longer than 16"):
        encode_text16("x" * 17)
    with pytest.raises(InvalidInput, match="cannot show"):
        encode_text16("€uro")
    with pytest.raises(InvalidInput, match="control character"):
        encode_text16("a\tb")
    mail = SendTxtMail(NetObjRef(0), NetObjRef.local_dirno("101"), 100, "Grüße")
    packet = decode_packet(encode_packet(Packet(US, EXCHANGE, 9, mail)))
    assert packet.message == mail


def test_display_text_length_is_counted():
    message = DisplayText(NetObjRef.local_dirno("101"), b"Hello")
    assert message.encode_parameters() == bytes.fromhex("3201101F 05") + b"Hello"
