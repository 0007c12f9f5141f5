"""``pbx-protocols ... alphacom``: decode every vector, and simulate + monitor as a user runs
them, over TCP and over a pseudo-terminal through serialx."""

from __future__ import annotations

import json

import pytest

from pbx_protocols.alphacom.data_link import DataLinkLayer
from pbx_protocols.alphacom.iso1745 import ACK, EOT, enquiry, text_block
from pbx_protocols.alphacom.link_layer import parse_simple_line
from pbx_protocols.cli import run
from tests.alphacom.test_vectors import GOOD, VECTORS
from tests.panasonic.test_cli import cli, free_port

REQUIRED_KEYS = {"src", "dst", "hop_count", "options", "reference", "message_id", "message"}


@pytest.mark.parametrize("name", GOOD)
def test_decode_prints_every_vector(capsys, name):
    assert run(["decode", "alphacom", VECTORS[name]["line"]]) == 0
    (decoded,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert set(decoded) >= REQUIRED_KEYS
    assert decoded["message"] == VECTORS[name]["expect"]["message"]
    for value in decoded["parameters"].values():
        if isinstance(value, dict):
            assert {"format", "node", "number"} <= set(value)


def test_decode_exits_2_on_the_corrupted_checksum(capsys):
    assert run(["decode", "alphacom", VECTORS["corrupted_checksum"]["line"]]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert "checksum mismatch" in line


def test_decode_data_link_frames(capsys):
    message = parse_simple_line(VECTORS["st_busy_bc_8002"]["line"].encode())
    layer = DataLinkLayer()
    layer.start(0)  # an idle frame first, as after a reset; then the message
    layer.send(message, 0)
    assert run(["decode", "alphacom", "--link", "sdll", layer.take_output().hex()]) == 0
    (decoded,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert decoded["message"] == "ST_BUSY_BC"


def test_decode_iso1745_line_bytes(capsys):
    message = parse_simple_line(VECTORS["st_busy_bc_8002"]["line"].encode())
    wire = enquiry(b"2", reset=True) + bytes([ACK]) + text_block(message) + bytes([EOT])
    assert run(["decode", "alphacom", "--link", "iso1745", wire.hex()]) == 0
    (decoded,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert decoded["hex"] == message.hex()
    damaged = bytearray(text_block(message))
    damaged[-1] ^= 0x40
    assert run(["decode", "alphacom", "--link", "iso1745", damaged.hex()]) == 2
    assert "block check does not match" in capsys.readouterr().err


def calls_of(out: bytes) -> dict[str, list[tuple[str, str, str | None]]]:
    stories: dict[str, list[tuple[str, str, str | None]]] = {}
    for line in out.decode().splitlines():
        event = json.loads(line)
        assert {"extension", "event", "state", "peer", "call_id", "direction"} <= set(event)
        stories.setdefault(event["extension"], []).append(
            (event["event"], event["state"], event["peer"])
        )
    return stories


BASIC_CALL = {
    "102": [
        ("ringing", "ringing", "101"),
        ("answered", "talking", "101"),
        ("ended", "idle", "101"),
    ],
    "101": [
        ("originated", "dialing", "102"),
        ("answered", "talking", "102"),
        ("ended", "idle", "102"),
    ],
}


@pytest.mark.parametrize("link", ["sll", "sdll"])
async def test_simulate_and_monitor_over_tcp(socket_enabled, link):
    port = free_port()
    simulator = await cli(
        "simulate", "alphacom", "--listen", f"127.0.0.1:{port}", "--link", link,
        "--scenario", "basic-call", "--pace", "0.2",
    )  # fmt: skip
    try:
        announcement = json.loads(await simulator.stdout.readline())
        assert announcement["listening"] == f"127.0.0.1:{port}"
        monitor = await cli(
            "monitor", "alphacom", "--host", "127.0.0.1", "--port", str(port), "--duration", "2.5"
        )
        out, err = await monitor.communicate()
        assert monitor.returncode == 0, err.decode()
    finally:
        simulator.terminate()
        await simulator.wait()
    stories = calls_of(out)
    assert stories["102"][:3] == BASIC_CALL["102"]
    assert stories["101"][:3] == BASIC_CALL["101"]


@pytest.mark.parametrize("link", ["sll", "iso1745"])
async def test_simulate_on_a_pty_and_monitor_through_serial(link):
    simulator = await cli(
        "simulate", "alphacom", "--pty", "--link", link, "--scenario", "basic-call", "--pace", "0.2"
    )
    try:
        announcement = json.loads(await simulator.stdout.readline())
        monitor = await cli(
            "monitor", "alphacom", "--serial", announcement["pty"], "--duration", "2.5"
        )
        out, err = await monitor.communicate()
        assert monitor.returncode == 0, err.decode()
    finally:
        simulator.terminate()
        await simulator.wait()
    stories = calls_of(out)
    assert stories["102"][:3] == BASIC_CALL["102"]
    assert stories["101"][:3] == BASIC_CALL["101"]


async def test_monitor_needs_a_host_or_a_serial_port():
    monitor = await cli("monitor", "alphacom")
    _, err = await monitor.communicate()
    assert monitor.returncode == 2
    assert "give either --host or --serial" in err.decode()
