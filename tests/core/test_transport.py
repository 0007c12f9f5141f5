"""The stream PDU link across a real TCP socket."""

from __future__ import annotations

import asyncio
import socket

import pytest

from pbx_protocols.core.errors import ConnectionClosed, ConnectionFailed
from pbx_protocols.core.transport import open_tcp_link


class LineFramer:
    """Newline-delimited frames: the simplest framer that still needs reassembly."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        *frames, self._buffer = self._buffer.split(b"\n")
        return frames

    def frame(self, payload: bytes) -> bytes:
        return payload + b"\n"


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled):
    """These tests cross a real TCP boundary on the loopback interface."""


async def test_pdus_cross_a_real_socket_in_pieces():
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"one\ntw")
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b"o\nthree\n")
        echo = await reader.readline()
        writer.write(b"echo:" + echo)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = await open_tcp_link("127.0.0.1", port, LineFramer())
    try:
        assert link.description == f"tcp 127.0.0.1:{port}"
        assert [await link.receive() for _ in range(3)] == [b"one", b"two", b"three"]
        await link.send(b"hello")
        assert await link.receive() == b"echo:hello"
        with pytest.raises(ConnectionClosed, match="closed by the peer"):
            await link.receive()
    finally:
        await link.close()
        await link.close()
        server.close()
        await server.wait_closed()
    with pytest.raises(ConnectionClosed):
        await link.send(b"too late")


async def test_tcp_keepalive_is_enabled():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = await open_tcp_link("127.0.0.1", port, LineFramer())
    sock = link._writer.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    await link.close()
    server.close()
    await server.wait_closed()


async def test_refused_connection_is_a_connection_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailed, match=f"cannot connect to 127.0.0.1:{port}"):
        await open_tcp_link("127.0.0.1", port, LineFramer())
