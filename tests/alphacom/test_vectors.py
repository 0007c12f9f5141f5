"""Every AlphaCom vector: the facts it must decode to, and the same bytes back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pbx_protocols.alphacom.codec import decode_packet, encode_packet
from pbx_protocols.alphacom.link_layer import (
    SimpleLinkLayer,
    format_simple_line,
    parse_simple_line,
)
from pbx_protocols.core.errors import ProtocolError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "vectors"
VECTORS: dict[str, dict[str, Any]] = {
    vector["name"]: vector
    for name in ("zenitel-alphacom.json", "zenitel-alphacom-broadcasts.json")
    for vector in json.loads((FIXTURES / name).read_text())["vectors"]
}
GOOD = [name for name, vector in VECTORS.items() if "error" not in vector["expect"]]


def test_every_vector_is_checked():
    assert len(VECTORS) == 10
    assert set(GOOD) | {"corrupted_checksum"} == set(VECTORS)


@pytest.mark.parametrize("name", GOOD)
def test_vector_round_trips_byte_exact(name):
    line = VECTORS[name]["line"].encode()
    message = parse_simple_line(line)
    packet = decode_packet(message)
    assert encode_packet(packet) == message
    if b"=" in line:  # a line with its checksum is what the link layer writes again
        assert format_simple_line(message, b"") == line
    else:
        assert format_simple_line(message, b"") == line.replace(b" ", b"") + b"=35"


@pytest.mark.parametrize("name", GOOD)
def test_vector_facts(name):
    expect = VECTORS[name]["expect"]
    packet = decode_packet(parse_simple_line(VECTORS[name]["line"].encode()))
    facts = packet.as_json()
    assert facts["message"] == expect["message"]
    for key in ("message_id", "reference", "options", "hop_count"):
        if key in expect:
            assert facts[key] == (expect[key].lower() if key == "options" else expect[key])
    for key in ("src", "dst"):
        if key in expect:
            assert facts[key] == expect[key]
    if "hop_byte" in expect:
        assert packet.hop_byte == expect["hop_byte"]
    if "option_count" in expect:
        assert len(packet.options) == expect["option_count"]
    if "class" in expect:
        assert packet.message_class == expect["class"]
    if "checksum" in expect:
        assert VECTORS[name]["line"].endswith("=" + expect["checksum"])


def numbers(packet) -> list[str]:
    return [
        f"L({value['node']}){value['number']}" if value["format"] == 2 else value["number"]
        for value in packet.as_json()["parameters"].values()
        if isinstance(value, dict)
    ]


def test_parameters_of_the_wiki_example():
    packet = decode_packet(parse_simple_line(VECTORS["dial_digits_wiki_example"]["line"].encode()))
    assert packet.as_json()["parameters"] == {
        "station": {"format": 2, "node": 1, "number": "107"},
        "digits": {"format": 0, "node": None, "number": "102"},
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("st_busy_bc_8002", ["L(1)8002"]),
        ("st_busy_bc_8009", ["L(1)8009"]),
        ("call_setup_101_to_102", ["L(1)101", "L(1)102"]),
        ("m_key_101", ["L(1)101"]),
        ("display_text_hello", ["L(1)101"]),
        ("call_status_bc_8002_to_8009", ["L(1)8002", "L(1)8009"]),
        ("conn_status_bc_8002_8009", ["L(1)8002", "L(1)8009"]),
    ],
)
def test_stations_named(name, expected):
    assert numbers(decode_packet(parse_simple_line(VECTORS[name]["line"].encode()))) == expected


def test_broadcast_details():
    status = decode_packet(
        parse_simple_line(VECTORS["call_status_bc_8002_to_8009"]["line"].encode())
    ).as_json()["parameters"]
    assert (status["time"], status["priority"], status["call_mode"]) == (
        "2007-06-07T11:26:45",
        2,
        1,
    )
    connected = decode_packet(
        parse_simple_line(VECTORS["conn_status_bc_8002_8009"]["line"].encode())
    ).as_json()["parameters"]
    assert connected["connection"] == 0x0104
    text = decode_packet(parse_simple_line(VECTORS["display_text_hello"]["line"].encode()))
    assert text.as_json()["parameters"]["text"] == "Hello"


def test_quoted_text_form_has_the_same_checksum():
    line = b'0101014100410003005A3201101F05"Hello"=23'
    hexed = VECTORS["display_text_hello"]["line"].encode()
    assert parse_simple_line(line) == parse_simple_line(hexed)


def test_corrupted_checksum_is_dropped_and_counted():
    line = VECTORS["corrupted_checksum"]["line"].encode()
    with pytest.raises(ProtocolError, match="checksum mismatch"):
        parse_simple_line(line)
    layer = SimpleLinkLayer()
    good = VECTORS["st_busy_bc_8009"]["line"].encode()
    assert layer.receive(line + b"\r\n" + good + b"\r\n", 0.0) == [parse_simple_line(good)]
    assert (layer.counters.dropped, layer.counters.bad_checksum) == (1, 1)
