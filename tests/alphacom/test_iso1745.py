"""The ISO 1745 link layer (slave side, I/O-free) against the simulator's control device:
selections, polls, block checks, retries, noise, a lossy line, and detection by ``auto``."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbx_protocols.alphacom.iso1745 import (
    ACK,
    EOT,
    ETX,
    ISO1745_PROFILE,
    MAX_BLOCK,
    NAK,
    STX,
    Control,
    Enquiry,
    Iso1745Link,
    Scanner,
    TextBlock,
    enquiry,
    text_block,
)
from pbx_protocols.alphacom.link_layer import AutoLinkLayer, LinkLayer
from pbx_protocols.alphacom.simulator.iso1745_control import Iso1745Control
from pbx_protocols.alphacom.transport import make_link_layer

MESSAGE = bytes.fromhex("0101014100410007003632011002")
OTHER = bytes.fromhex("01410101000041000a0036320110")
POLL = enquiry(ISO1745_PROFILE.poll_address, reset=True)
SELECT = enquiry(ISO1745_PROFILE.select_address, reset=True)
SELECT_EXCHANGE = enquiry(ISO1745_PROFILE.exchange_address)


def test_a_text_block_is_hex_between_stx_and_etx_then_the_block_check():
    block = text_block(b"\x01\x41")
    assert block[:1] == bytes([STX]) and block[-2] == ETX
    assert block[1:-2] == b"0141"
    assert block[-1] == ord("0") ^ ord("1") ^ ord("4") ^ ord("1") ^ ETX


def test_scanner_tokens_in_one_chunk_and_byte_at_a_time():
    wire = b"\x04" + b"1\x05" + b"\x06" + b"\x15" + text_block(MESSAGE) + b"\x04"
    expected = [
        Control.EOT,
        Enquiry(b"1"),
        Control.ACK,
        Control.NAK,
        TextBlock(MESSAGE.hex().upper().encode(), True),
        Control.EOT,
    ]
    assert Scanner().feed(wire) == expected
    scanner = Scanner()
    tokens = []
    for byte in wire:
        tokens += scanner.feed(bytes([byte]))
    assert tokens == expected


def test_a_header_before_the_text_counts_in_the_block_check_only():
    body = b"HDR\x02" + MESSAGE.hex().encode() + b"\x03"
    check = 0
    for byte in body:
        check ^= byte
    assert Scanner().feed(b"\x01" + body + bytes([check])) == [
        TextBlock(MESSAGE.hex().encode(), True)
    ]


def test_an_endless_block_is_dropped_not_kept():
    scanner = Scanner()
    assert scanner.feed(b"\x02" + b"A" * (MAX_BLOCK * 3)) == []
    assert scanner.overflows == 1
    assert scanner.feed(b"\x04") == [Control.EOT]


# -- the slave ---------------------------------------------------------------------------


def test_selected_the_slave_acknowledges_and_delivers_each_block():
    link = Iso1745Link()
    assert link.receive(SELECT, 0) == []
    assert link.take_output() == bytes([ACK])
    assert link.receive(text_block(MESSAGE) + text_block(OTHER), 0) == [MESSAGE, OTHER]
    assert link.take_output() == bytes([ACK, ACK])
    assert link.receive(bytes([EOT]), 0) == []
    assert link.next_deadline() is None


def test_a_damaged_block_is_answered_nak_and_counted():
    link = Iso1745Link()
    link.receive(SELECT, 0)
    link.take_output()
    damaged = bytearray(text_block(MESSAGE))
    damaged[3] ^= 0x01
    assert link.receive(bytes(damaged), 0) == []
    not_hex = b"\x02ZZ\x03" + bytes([ord("Z") ^ ord("Z") ^ ETX])
    assert link.receive(not_hex, 0) == []
    assert link.take_output() == bytes([NAK, NAK])
    assert link.counters.dropped == 2 and link.counters.bad_checksum == 1
    assert link.receive(text_block(MESSAGE), 0) == [MESSAGE]  # the repeat gets through


def test_a_block_without_a_selection_is_not_delivered():
    link = Iso1745Link()
    assert link.receive(text_block(MESSAGE), 0) == []
    assert link.take_output() == b""
    assert link.counters.dropped == 1


def test_polled_with_nothing_to_send_the_slave_answers_eot():
    link = Iso1745Link()
    link.receive(POLL, 0)
    assert link.take_output() == bytes([EOT])


def test_polled_with_a_message_the_slave_selects_the_exchange_sends_and_ends():
    link = Iso1745Link()
    link.send(MESSAGE, 0)
    assert link.take_output() == b""  # nothing goes out before a poll
    link.receive(POLL, 0)
    assert link.take_output() == SELECT_EXCHANGE
    link.receive(bytes([ACK]), 0)
    assert link.take_output() == text_block(MESSAGE)
    link.receive(bytes([ACK]), 0)
    assert link.take_output() == bytes([EOT])
    assert link.pending == 0


def test_one_message_per_poll():
    link = Iso1745Link()
    link.send(MESSAGE, 0)
    link.send(OTHER, 0)
    link.receive(POLL, 0)
    link.receive(bytes([ACK]), 0)
    link.receive(bytes([ACK]), 0)
    assert link.take_output().endswith(bytes([EOT]))
    assert link.pending == 1


def test_nak_and_silence_repeat_the_block_then_the_transfer_is_given_up_but_kept():
    link = Iso1745Link()
    link.send(MESSAGE, 0)
    link.receive(POLL, 0)
    link.receive(bytes([ACK]), 0)
    link.take_output()
    link.receive(bytes([NAK]), 1)
    assert link.take_output() == text_block(MESSAGE)  # repeated after a NAK
    deadline = link.next_deadline()
    assert deadline == 1 + ISO1745_PROFILE.reply_timeout
    link.on_deadline(deadline)
    assert link.take_output() == text_block(MESSAGE)  # the third and last try
    link.on_deadline(link.next_deadline())
    assert link.take_output() == bytes([EOT])  # given up
    assert link.counters.retransmitted == 2
    assert link.pending == 1  # still queued for the next poll
    link.receive(POLL, 10)
    assert link.take_output() == SELECT_EXCHANGE


def test_enquiries_for_other_stations_are_ignored():
    link = Iso1745Link()
    link.receive(b"\x049\x05\x047\x05", 0)
    assert link.take_output() == b""


@given(st.binary(max_size=400))
def test_the_slave_survives_anything(data):
    link = Iso1745Link()
    link.send(MESSAGE, 0)
    link.receive(data, 0)
    link.on_deadline(100)
    link.receive(bytes([EOT]) + SELECT, 101)
    assert link.receive(text_block(OTHER), 101)[-1:] == [OTHER]


# -- slave and control device together ------------------------------------------------------


def exchange_messages(
    control: LinkLayer,
    slave: LinkLayer,
    line=lambda data: data,
    *,
    until,
    seconds: float = 120.0,
) -> tuple[list[bytes], list[bytes]]:
    """Run both sides on a fake clock; return what each received."""
    to_slave: list[bytes] = []
    to_control: list[bytes] = []
    now = 0.0
    while now < seconds and not until(to_slave, to_control):
        to_slave += slave.receive(line(control.take_output()), now)
        to_control += control.receive(line(slave.take_output()), now)
        now += 0.01
        for side in (control, slave):
            deadline = side.next_deadline()
            if deadline is not None and now >= deadline:
                side.on_deadline(now)
    return to_slave, to_control


def started_pair() -> tuple[Iso1745Control, Iso1745Link]:
    control, slave = Iso1745Control(), Iso1745Link()
    control.start(0)
    slave.start(0)
    return control, slave


messages = st.lists(st.binary(min_size=1, max_size=64), max_size=12)


@given(messages, messages)
def test_round_trip_both_ways(down, up):
    control, slave = started_pair()
    for message in down:
        control.send(message, 0)
    for message in up:
        slave.send(message, 0)
    to_slave, to_control = exchange_messages(
        control, slave, until=lambda a, b: len(a) == len(down) and len(b) == len(up)
    )
    assert to_slave == down
    assert to_control == up


class LossyLine:
    """Corrupts or drops whole pieces (text blocks or control answers)."""

    def __init__(self, rng: random.Random, probability: float) -> None:
        self.rng, self.probability = rng, probability
        self.damaged = 0

    def __call__(self, data: bytes) -> bytes:
        if not data or self.rng.random() >= self.probability:
            return data
        self.damaged += 1
        if self.rng.random() < 0.5:
            return b""
        damaged = bytearray(data)
        damaged[self.rng.randrange(len(damaged))] ^= 1 << self.rng.randrange(7)
        return bytes(damaged)


@pytest.mark.parametrize("probability", [0.05, 0.10])
def test_a_lossy_line_delivers_every_message_in_order(probability):
    line = LossyLine(random.Random(1745), probability)
    control, slave = started_pair()
    down = [bytes([1, 0x41, 1, 1, 0, 0x41, 0, n, 0, 0x36]) for n in range(100)]
    up = [bytes([1, 1, 1, 0x41, 0, 0x41, 0, n, 0, 0x36]) for n in range(20)]
    for message in down:
        control.send(message, 0)
    for message in up:
        slave.send(message, 0)
    to_slave, to_control = exchange_messages(
        control,
        slave,
        line,
        until=lambda a, b: not control._queue and not slave.pending,
        seconds=600,
    )
    # Basic mode has no sequence numbers: a lost ACK brings a block again, so repeats
    # are folded. The slave never gives a message up: all of ours arrive, in order.
    assert list(dict.fromkeys(to_control)) == up
    # The exchange gives a message up after its last try (a device error; the slave may
    # have it, only the ACKs were lost): the rest arrive, in order.
    delivered = list(dict.fromkeys(to_slave))
    assert delivered == [message for message in down if message in delivered]
    assert len(delivered) >= len(down) - control.given_up
    assert control.given_up <= len(down) // 10
    assert line.damaged > 5


def test_the_control_device_polls_about_once_a_second():
    control, slave = started_pair()
    exchange_messages(control, slave, until=lambda a, b: False, seconds=10)
    assert 9 <= control.polls <= 11


def test_auto_recognises_iso1745_from_a_poll_and_sends_through_it():
    layer = AutoLinkLayer(make_link_layer)
    layer.start(0)
    layer.send(MESSAGE, 0)
    layer.take_output()  # the provisional line, ignored by an ISO 1745 exchange
    layer.receive(POLL, 0)
    assert isinstance(layer.settled, Iso1745Link)
    assert layer.take_output() == SELECT_EXCHANGE
    assert layer.send_delay == ISO1745_PROFILE.poll_interval + ISO1745_PROFILE.reply_timeout
