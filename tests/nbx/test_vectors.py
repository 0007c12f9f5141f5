"""Every NBX vector: the facts it must decode to, the kernel filter's verdict, and the same
bytes back through the scapy layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.l2 import Ether

from pbx_protocols.core.errors import ProtocolError
from pbx_protocols.nbx.bpf import nbx_program
from pbx_protocols.nbx.frames import frame_as_json, parse_frame
from pbx_protocols.nbx.layers import NBX
from tests.nbx.bpf_interpreter import run

FIXTURES = Path(__file__).parents[1] / "fixtures" / "vectors"


def _load() -> dict[str, dict[str, Any]]:
    vectors = {}
    for name in ("3com-nbx.json", "3com-nbx-more.json"):
        for vector in json.loads((FIXTURES / name).read_text())["vectors"]:
            if "frame_from_ethertype" in vector:  # the seed prints frames from the ethertype
                vector["frame"] = "00" * 12 + vector["frame_from_ethertype"]
            vectors[vector["name"]] = vector
    return vectors


VECTORS = _load()
NBX_VECTORS = [name for name, v in VECTORS.items() if "error" not in v["expect"]]


def frame(name: str) -> bytes:
    return bytes.fromhex(VECTORS[name]["frame"])


def test_every_vector_is_checked():
    assert len(VECTORS) == 10
    assert set(NBX_VECTORS) | {"IPv4_noise", "boot_request_8023_snap"} == set(VECTORS)


@pytest.mark.parametrize("name", NBX_VECTORS)
def test_header_facts(name):
    expect = VECTORS[name]["expect"]
    decoded = frame_as_json(parse_frame(frame(name)))
    assert f"{decoded['type']} ({decoded['kind']}" in expect["type"].replace("mu-law", "")
    if "orig" in expect:
        assert decoded["orig"] == expect["orig"]
    if "seq" in expect:
        assert decoded["seq"] == expect["seq"]


@pytest.mark.parametrize("name", [n for n in NBX_VECTORS if n.startswith("HU_")])
def test_update_slots_as_the_seed_code_reads_them(name):
    expect = VECTORS[name]["expect"]
    decoded = frame_as_json(parse_frame(frame(name)))
    assert decoded["table_size"] == expect["table_size"]
    assert decoded["table_type"] == expect.get("table_type", "0x0200")
    assert decoded["slots"] == expect["nibbles_nonzero_per_seed_code"]


def test_update_clock_of_the_four_phone_dump():
    decoded = frame_as_json(parse_frame(frame("HU_update_4_phones")))
    assert decoded["time"] == "2002-07-09T21:15:08"  # 07d2 07 09 15 0f, then 8000 ms


def test_request_as_printed():
    decoded = frame_as_json(parse_frame(frame("HR_as_printed")))
    assert decoded["length"] == 156
    assert decoded["display"] == ["", ""]  # 64 spaces
    assert decoded["clock"] is False and decoded["timer"] is False


def test_voice():
    decoded = frame_as_json(parse_frame(frame("HA_voice_synthetic")))
    assert decoded["voice_bytes"] == 192


@pytest.mark.parametrize("name", ["IPv4_noise", "boot_request_8023_snap"])
def test_other_protocols_are_refused(name):
    with pytest.raises(ProtocolError, match="not NBX"):
        parse_frame(frame(name))


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_kernel_filter_verdict(name):
    expect = VECTORS[name]["expect"]
    dropped = expect.get("kernel_filter") == "dropped" or name == "HA_voice_synthetic"
    assert (run(nbx_program(), frame(name)) == 0) is dropped


@pytest.mark.parametrize("name", NBX_VECTORS)
def test_scapy_layers_give_the_same_bytes_back(name):
    raw = frame(name)
    packet = Ether(raw)
    assert packet.haslayer(NBX)
    assert bytes(packet) == raw
    assert packet[NBX].seq == parse_frame(raw).seq
