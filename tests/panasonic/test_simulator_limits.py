"""The simulator is a tool people point their own CTI software at: one client's behaviour
must not starve another, and connections that do nothing must not pile up."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket

import pytest

from pbx_protocols.core.errors import ConnectionClosed
from pbx_protocols.core.memory import memory_link_pair
from pbx_protocols.core.transport import open_tcp_link
from pbx_protocols.panasonic.codec import Aarq, Credentials, Invoke, decode_pdu
from pbx_protocols.panasonic.devices import device_id
from pbx_protocols.panasonic.framing import TcpFramer
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.simulator import SimulatorConfig
from tests.panasonic.conftest import EXTENSIONS, wait_until


def rss() -> int:
    """Resident memory of this process (the simulator runs in it), in bytes."""
    with open("/proc/self/statm") as statm:  # noqa: PTH123  # a tiny procfs read
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_a_client_that_never_reads_cannot_starve_the_others(
    simulator, make_client, recorder, caplog
):
    asyncio.get_running_loop().set_debug(False)  # a traceback per task would be the load
    caplog.set_level(logging.INFO)  # a hex dump per request would be the memory
    greedy = socket.socket()
    greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # it reads nothing anyway
    greedy.connect(("127.0.0.1", simulator.port))
    _, writer = await asyncio.open_connection(sock=greedy)
    framer = TcpFramer()
    writer.write(framer.frame(Aarq().encode()))
    request = Invoke(7, Opcode.MONITOR_START, {"monitorObject": ("deviceObject", device_id("101"))})
    flood = framer.frame(request.encode()) * 1000
    async with make_client() as client:
        client.subscribe_events(recorder)
        before = rss()
        with contextlib.suppress(ConnectionError):
            for _ in range(300):  # 300,000 requests, pipelined, never reading an answer
                writer.write(flood)
                await writer.drain()  # as fast as the simulator takes them
        await asyncio.sleep(3)  # the simulator works through what it can take
        (busy,) = [s for s in simulator.sessions if s.monitored == ["101"]]
        assert busy._outbox.qsize() <= busy._settings.max_outbox
        grown = rss() - before
        simulator.pbx.make_call("101", "102")
        await recorder.wait_for("102", "ringing")  # the other client still gets its events
    writer.transport.abort()
    assert grown < 64 * 1024 * 1024, f"{grown / 1e6:.0f} MB"


async def test_a_connection_that_never_associates_is_closed(simulator, caplog):
    caplog.set_level(logging.INFO, logger="pbx_protocols")
    simulator.settings = dataclasses.replace(simulator.settings, association_deadline=0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    writer.write(b"\x00\x40")  # a length prefix, and nothing after it
    await writer.drain()
    async with asyncio.timeout(3):
        assert await reader.read() == b""  # the simulator closed the connection
    writer.close()
    assert "did not associate for 0.2 s" in caplog.text


async def test_an_associated_client_that_falls_silent_is_closed(simulator, caplog):
    caplog.set_level(logging.INFO, logger="pbx_protocols")
    simulator.settings = dataclasses.replace(
        simulator.settings, idle_timeout=0.3, send_keepalives=False
    )
    link = await open_tcp_link("127.0.0.1", simulator.port, TcpFramer())
    await link.send(Aarq().encode())
    assert decode_pdu(await link.receive()).kind == "aare"
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(3):
            while True:
                await link.receive()
    assert "sent nothing for 0.3 s" in caplog.text


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(port=0, extensions=EXTENSIONS, max_clients=2)]
)
async def test_connections_past_the_cap_are_refused_with_a_log_line(simulator, caplog):
    links = [await open_tcp_link("127.0.0.1", simulator.port, TcpFramer()) for _ in range(2)]
    await wait_until(lambda: len(simulator.sessions) == 2)
    third = await open_tcp_link("127.0.0.1", simulator.port, TcpFramer())
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(3):
            await third.receive()
    assert "2 clients are connected (the limit)" in caplog.text
    for link in [*links, third]:
        await link.close()


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(port=0, extensions=EXTENSIONS, credentials=Credentials("cti", "s3cret"))],
)
async def test_the_password_never_reaches_a_debug_log(simulator, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    async with make_client(username="cti", password="s3cret") as client:
        assert client.connected
    logged = caplog.text.lower()
    assert "aarq" in logged or ">>" in logged  # the raw logger did dump the PDUs
    for form in ("s3cret", b"s3cret".hex(), b"s3cret".hex(" ")):
        assert form not in logged


async def test_a_client_whose_answers_pile_up_is_dropped(simulator, caplog):
    simulator.settings = dataclasses.replace(simulator.settings, max_outbox=64)
    client_end, pbx_end = memory_link_pair("greedy", capacity=8)
    serving = asyncio.create_task(simulator.serve_link(pbx_end))
    await client_end.send(Aarq().encode())
    request = Invoke(7, Opcode.MONITOR_START, {"monitorObject": ("deviceObject", device_id("101"))})
    with contextlib.suppress(ConnectionClosed):
        for _ in range(1000):  # never reading an answer
            await client_end.send(request.encode())
    async with asyncio.timeout(5):
        await serving
    assert "reads nothing (64 PDUs waiting); dropping the client" in caplog.text
