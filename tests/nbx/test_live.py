"""The NBX stack across its real boundary: raw AF_PACKET sockets on a veth pair in a network
namespace (the kernel filter, sampling, drop counters, the client, the command line)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pbx_protocols.core.model import CallEvent
from pbx_protocols.nbx import NbxClient, NbxConfig, parse_phones
from pbx_protocols.nbx.capture import (
    LiveCapture,
    kernel_statistics,
    open_raw_socket,
    open_send_socket,
)
from pbx_protocols.nbx.frames import TYPE_REQUEST, TYPE_VOICE, parse_frame, parse_request
from pbx_protocols.nbx.layers import NBXRequest, NBXVoice, build
from pbx_protocols.nbx.simulator import Ncp, SimulatorConfig, run_on_interface
from tests.nbx.test_vectors import VECTORS
from tests.netns import Namespace, inside, veth_namespace

PHONE, NCP = "00:e0:bb:00:01:02", "00:e0:bb:0b:d8:be"
PHONES_TEXT = "101; 0; 00:e0:bb:00:01:01; Reception\n102; 1; 00:e0:bb:00:01:02; Sales\n"


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    with veth_namespace() as namespace:
        yield namespace


async def received_within(capture: LiveCapture, count: int, seconds: float = 2.0) -> list[bytes]:
    frames: list[bytes] = []
    try:
        async with asyncio.timeout(seconds):
            while len(frames) < count:
                frames += [captured.data for captured in await capture.receive()]
    except TimeoutError:
        pass
    return frames


async def test_the_kernel_drops_voice_and_other_protocols(socket_enabled, namespace):
    with inside(namespace):
        sock = open_raw_socket("veth1")
        sender = open_send_socket("veth0")
    capture = LiveCapture(sock, "veth1")
    loop = asyncio.get_running_loop()
    try:
        sent = {name: bytes.fromhex(vector["frame"]) for name, vector in VECTORS.items()}
        tagged_request = build(PHONE, NCP, TYPE_REQUEST, NCP, 4242, NBXRequest(ring=0x50), vlan=5)
        tagged_voice = build(PHONE, NCP, TYPE_VOICE, NCP, 4343, NBXVoice(), vlan=5)
        for frame in [*sent.values(), tagged_request, tagged_voice]:
            await loop.sock_sendall(sender, frame)
        frames = await received_within(capture, 7)
        received = {(parse_frame(f).type, parse_frame(f).seq) for f in frames}
        expected = {
            (parse_frame(sent[n]).type, parse_frame(sent[n]).seq)
            for n in sent
            if n.startswith(("HH_", "HE_", "HU_", "HR_"))
        } | {(b"HR", 4242)}
        assert received == expected  # no voice (tagged or not), no IPv4, no 802.3 boot
        assert len(frames) == len(expected)
        packets, drops = kernel_statistics(sock)
        assert (packets, drops) == (len(expected), 0)  # only what passed the filter
    finally:
        capture.close()
        sender.close()


async def test_sampling_lets_a_share_of_voice_through(socket_enabled, namespace):
    with inside(namespace):
        sock = open_raw_socket("veth1", voice_sample_rate=2)
        sender = open_send_socket("veth0")
    capture = LiveCapture(sock, "veth1")
    loop = asyncio.get_running_loop()
    try:
        for seq in range(400):
            await loop.sock_sendall(sender, build(PHONE, NCP, TYPE_VOICE, NCP, seq, NBXVoice()))
        frames = await received_within(capture, 400, seconds=1.0)
        assert 120 <= len(frames) <= 280  # about half, by the kernel's random numbers
    finally:
        capture.close()
        sender.close()


async def test_client_follows_the_simulated_ncp(socket_enabled, namespace):
    events: list[CallEvent] = []
    config = NbxConfig("veth1", phones=tuple(parse_phones(PHONES_TEXT)), allow_display_text=True)
    client = NbxClient(config)
    client.subscribe_events(events.append)
    with inside(namespace):
        await client.connect()
        receiver = open_raw_socket("veth0")  # what the phones would see
    watch = LiveCapture(receiver, "veth0")
    ncp = Ncp.with_phones(4)
    simulator_config = SimulatorConfig(phones=4, duration=7, voice=True)
    try:
        with inside(namespace):
            sender = open_send_socket("veth0")
        await run_on_interface(ncp, simulator_config, "veth0", sock=sender)
        story = [(e.kind.value, e.line_state.value, e.peer) for e in events if e.extension == "102"]
        assert story[-3:] == [
            ("ringing", "ringing", "101"),
            ("answered", "talking", "101"),
            ("ended", "idle", "101"),
        ]
        assert client.info.unique_id == f"nbx:{NCP}"
        # The opt-in active feature: an HR frame with the text goes to the phone.
        with inside(namespace):
            await client.display_text("102", "Lunch is ready")
        shown = [parse_frame(f) for f in await received_within(watch, 50, seconds=1.0)]
        requests = [f for f in shown if f.type == TYPE_REQUEST and f.dst.hex(":") == PHONE]
        assert requests, "no HR frame reached the phone"
        assert parse_request(requests[-1]).display_lines[0] == "Lunch is ready"
    finally:
        watch.close()
        await client.close()


async def run_in(namespace: Namespace, *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *namespace.command(sys.executable, "-m", "pbx_protocols", *argv),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_simulate_monitor_capture_and_decode_as_processes(namespace, tmp_path: Path):
    phones = tmp_path / "phones.txt"
    phones.write_text(PHONES_TEXT)
    pcap = tmp_path / "capture.pcap"
    monitor = await run_in(namespace, "monitor", "nbx", "--interface", "veth1",
                           "--phones-file", str(phones), "--duration", "8")  # fmt: skip
    capture = await run_in(namespace, "capture", "nbx", "--interface", "veth1",
                           "--out", str(pcap), "--duration", "8")  # fmt: skip
    await asyncio.sleep(1.0)  # both have their sockets open
    simulator = await run_in(namespace, "simulate", "nbx", "--interface", "veth0",
                             "--phones", "4", "--voice", "--duration", "6.5")  # fmt: skip
    _, sim_err = await simulator.communicate()
    assert simulator.returncode == 0, sim_err.decode()
    out, err = await monitor.communicate()
    assert monitor.returncode == 0, err.decode()
    story = [
        (e["event"], e["state"], e["peer"])
        for e in map(json.loads, out.decode().splitlines())
        if e["extension"] == "102"
    ]
    assert ("ringing", "ringing", "101") in story
    assert story[-2:] == [("answered", "talking", "101"), ("ended", "idle", "101")]
    summary_out, summary_err = await capture.communicate()
    assert capture.returncode == 0, summary_err.decode()
    summary = json.loads(summary_out)
    assert summary["frames"] > 10 and summary["kernel_dropped"] == 0
    decode = await run_in(namespace, "decode", "nbx", "--pcap", str(pcap))
    decoded, _ = await decode.communicate()
    kinds = {json.loads(line)["type"] for line in decoded.decode().splitlines()}
    assert {"HU", "HR", "HH"} <= kinds
    assert "HA" not in kinds  # voice was dropped in the kernel


def test_without_cap_net_raw_the_monitor_says_what_it_needs():
    if os.geteuid() != 0:
        pytest.skip("dropping a capability from the bounding set needs root")
    # Root without CAP_NET_RAW, as in a container that was not granted it.
    result = subprocess.run(
        ["setpriv", "--bounding-set=-net_raw", sys.executable, "-m", "pbx_protocols",
         "monitor", "nbx", "--interface", "lo", "--duration", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "CAP_NET_RAW" in result.stderr
    assert "Traceback" not in result.stderr


async def test_interface_down_and_up_again(namespace, tmp_path: Path):
    # The whole monitor in the namespace (its reconnects open sockets there too).
    phones = tmp_path / "phones.txt"
    phones.write_text(PHONES_TEXT)
    monitor = await run_in(namespace, "monitor", "nbx", "--interface", "veth1",
                           "--phones-file", str(phones), "--duration", "9")  # fmt: skip
    await asyncio.sleep(1.0)
    ip = ["ip", "-n", namespace.name, "link", "set", "veth1"]
    await (await asyncio.create_subprocess_exec(*ip, "down")).wait()
    await asyncio.sleep(1.0)
    await (await asyncio.create_subprocess_exec(*ip, "up")).wait()
    simulator = await run_in(namespace, "simulate", "nbx", "--interface", "veth0",
                             "--phones", "2", "--duration", "6.5")  # fmt: skip
    await simulator.communicate()
    out, err = await monitor.communicate()
    log = err.decode()
    assert log.count("Lost connection") == 1, log
    assert log.count("restored") == 1, log
    story = [
        (e["event"], e["state"])
        for e in map(json.loads, out.decode().splitlines())
        if e["extension"] == "102"
    ]
    # Back after the reconnect's backoff: the call is followed from then on.
    assert story[-2:] == [("answered", "talking"), ("ended", "idle")]
