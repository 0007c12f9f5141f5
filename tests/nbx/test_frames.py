"""The struct parser against the scapy layers (random field values, tagged and untagged),
hostile input, and the kernel filter program on any frame."""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbx_protocols.core.errors import ProtocolError
from pbx_protocols.nbx.bpf import nbx_program
from pbx_protocols.nbx.frames import (
    ETHERTYPE,
    HR_DISPLAY_BYTES,
    TYPE_REQUEST,
    TYPE_UPDATE,
    frame_as_json,
    parse_frame,
    parse_request,
    parse_update,
)
from pbx_protocols.nbx.layers import NBXRequest, NBXUpdate, build
from tests.nbx.bpf_interpreter import run

PHONE = "00:e0:bb:00:01:02"
NCP = "00:e0:bb:0b:d8:be"
vlans = st.one_of(st.none(), st.integers(0, 4095))


@given(
    slots=st.binary(min_size=12, max_size=12),
    year=st.integers(1990, 2100),
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    millis=st.integers(0, 59_999),
    table_size=st.integers(0, 0xFFFF),
    vlan=vlans,
    seq=st.integers(0, 0xFFFF),
)
def test_update_struct_parser_agrees_with_scapy(
    slots, year, month, day, hour, minute, millis, table_size, vlan, seq
):
    body = NBXUpdate(year=year, month=month, day=day, hour=hour, minute=minute, millis=millis,
                     table_size=table_size, slots=slots)  # fmt: skip
    raw = build("ff:ff:ff:ff:ff:ff", NCP, TYPE_UPDATE, NCP, seq, body, vlan=vlan)
    frame = parse_frame(raw)
    assert (frame.vlan, frame.seq, frame.orig.hex(":")) == (vlan, seq, NCP)
    update = parse_update(frame)
    assert update.table_size == table_size
    assert update.time is not None
    assert (update.time.year, update.time.month, update.time.minute) == (year, month, minute)
    assert update.time.second == millis // 1000
    expected = {}
    for index, byte in enumerate(slots):
        if byte >> 4:
            expected[index * 2] = byte >> 4
        if byte & 0x0F:
            expected[index * 2 + 1] = byte & 0x0F
    assert update.slots == expected


@given(
    ring=st.integers(0, 255),
    lamps=st.binary(min_size=8, max_size=8),
    display=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=64),
    clock=st.integers(0, 1),
    timer=st.integers(0, 1),
    vlan=vlans,
)
def test_request_struct_parser_agrees_with_scapy(ring, lamps, display, clock, timer, vlan):
    body = NBXRequest(ring=ring, lamps=lamps, clock=clock, timer=timer,
                      display=display.encode().ljust(HR_DISPLAY_BYTES))  # fmt: skip
    request = parse_request(parse_frame(build(PHONE, NCP, TYPE_REQUEST, NCP, 7, body, vlan=vlan)))
    assert request.ring == ring
    assert request.ringing is (ring != 0)
    assert request.lamps == tuple((b >> s) & 3 for b in lamps for s in (6, 4, 2, 0))
    assert request.display == display.rstrip()
    assert (request.clock, request.timer) == (clock == 1, timer == 1)


def test_a_short_request_decodes_what_it_holds():
    raw = build(PHONE, NCP, TYPE_REQUEST, NCP, 1, NBXRequest(ring=0x51))[: 24 + 42]
    request = parse_request(parse_frame(raw))
    assert request.ring == 0x51
    assert request.display is None and request.timer is None


@given(st.binary(max_size=300))
def test_any_bytes_raise_only_protocol_errors(data):
    try:
        frame = parse_frame(data)
    except ProtocolError:
        return
    with contextlib.suppress(ProtocolError):
        frame_as_json(frame)


@given(st.binary(min_size=0, max_size=120))
def test_any_body_after_a_valid_header_raises_only_protocol_errors(body):
    for letter in b"HRUAE":
        raw = bytes(12) + ETHERTYPE.to_bytes(2, "big") + b"H" + bytes([letter]) + bytes(8) + body
        with contextlib.suppress(ProtocolError):
            frame_as_json(parse_frame(raw))


def test_a_truncated_update_says_so():
    raw = build("ff:ff:ff:ff:ff:ff", NCP, TYPE_UPDATE, NCP, 1, NBXUpdate())[:50]
    with pytest.raises(ProtocolError, match="no slot table"):
        parse_update(parse_frame(raw))


def test_an_impossible_clock_keeps_the_slots():
    raw = build("ff:ff:ff:ff:ff:ff", NCP, TYPE_UPDATE, NCP, 1,
                NBXUpdate(month=13, slots=b"\x30" + bytes(11)))  # fmt: skip
    update = parse_update(parse_frame(raw))
    assert update.time is None and update.slots == {0: 3}


# -- the kernel filter program -------------------------------------------------------------


def expected_verdict(frame: bytes) -> bool:
    """Accept NBX frames (tagged or not) that are not voice."""
    if frame[12:14] == b"\x81\x00":
        frame = frame[:12] + frame[16:]
    return len(frame) > 15 and frame[12:14] == b"\x88\x68" and frame[15] != ord("A")


@given(
    st.binary(max_size=40),
    st.sampled_from([b"\x88\x68", b"\x81\x00", b"\x08\x00", b""]),
    st.sampled_from([b"HA", b"HR", b"HU", b"XA", b"H", b""]),
)
def test_filter_verdict_on_any_frame(tail, ethertype, letters):
    frame = bytes(12) + ethertype
    if ethertype == b"\x81\x00":
        frame += b"\x00\x05\x88\x68"
    frame += letters + tail
    assert (run(nbx_program(), frame) > 0) is expected_verdict(frame)


def test_sampling_lets_about_one_voice_frame_in_64_through():
    rng = random.Random(64)
    voice = bytes(12) + b"\x88\x68HA" + bytes(200)
    program = nbx_program(voice_sample_rate=64)
    passed = sum(run(program, voice, lambda: rng.getrandbits(32)) > 0 for _ in range(64_000))
    assert 800 <= passed <= 1200
    assert run(program, bytes(12) + b"\x88\x68HR" + bytes(50)) > 0  # signalling: always


def test_the_sample_rate_is_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        nbx_program(voice_sample_rate=60)


# -- every frame type through scapy and back, and pcaps ------------------------------------

macs = st.binary(min_size=6, max_size=6).map(lambda b: bytes([b[0] & 0xFE]) + b[1:])


@given(
    ptype=st.sampled_from([b"HH", b"HE", b"HU", b"HR", b"HA"]),
    dst=macs,
    orig=macs,
    seq=st.integers(0, 0xFFFF),
    vlan=vlans,
    words=st.tuples(*[st.integers(0, 0xFFFF)] * 3),
    error=st.integers(0, 0xFFFFFFFF),
    audio=st.binary(min_size=192, max_size=192),
)
def test_every_frame_type_round_trips(ptype, dst, orig, seq, vlan, words, error, audio):
    from scapy.layers.l2 import Ether

    from pbx_protocols.nbx.layers import NBX, NBXAck, NBXError, NBXVoice

    body = {
        b"HH": NBXAck(word1=words[0], word2=words[1], device=words[2]),
        b"HE": NBXError(flag=words[0], channel=words[1], device=words[2], error=error),
        b"HU": NBXUpdate(),
        b"HR": NBXRequest(),
        b"HA": NBXVoice(audio=audio),
    }[ptype]
    raw = build(dst.hex(":"), NCP, ptype, orig.hex(":"), seq, body, vlan=vlan)
    frame = parse_frame(raw)
    assert (frame.type, frame.orig, frame.seq, frame.dst, frame.vlan) == (
        ptype, orig, seq, dst, vlan
    )  # fmt: skip
    packet = Ether(raw)
    assert bytes(packet) == raw
    assert packet[NBX].ptype == ptype
    decoded = frame_as_json(frame)
    if ptype == b"HH":
        assert decoded["words"] == [f"{w:04x}" for w in words]
    elif ptype == b"HE":
        assert decoded["words"][3:] == [f"{error >> 16:04x}", f"{error & 0xFFFF:04x}"]
    elif ptype == b"HA":
        assert frame.data == audio


async def test_pcap_round_trip(tmp_path):
    from pbx_protocols.nbx.capture import CapturedFrame, PcapWriter, read_pcap

    frames = [
        CapturedFrame(1_700_000_000.25 + n, build(PHONE, NCP, TYPE_REQUEST, NCP, n, NBXRequest()))
        for n in range(5)
    ]
    writer = PcapWriter(tmp_path / "x.pcap")
    await writer.write(frames[:2])
    await writer.write(frames[2:])
    await writer.close()
    back = list(read_pcap(tmp_path / "x.pcap"))
    assert [f.data for f in back] == [f.data for f in frames]
    assert [round(f.timestamp, 6) for f in back] == [f.timestamp for f in frames]


def test_a_file_that_is_no_capture_is_a_clear_error(tmp_path):
    from pbx_protocols.core.errors import ConnectionFailed
    from pbx_protocols.nbx.capture import read_pcap

    (tmp_path / "not.pcap").write_bytes(b"hello, this is not a capture")
    with pytest.raises(ConnectionFailed, match="cannot read"):
        list(read_pcap(tmp_path / "not.pcap"))
