"""A TCP peer that plays a PBX exactly as a test scripts it (misbehaviour included)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from pbx_protocols.core.errors import ConnectionClosed
from pbx_protocols.core.transport import PduLink, StreamPduLink, open_tcp_link
from pbx_protocols.panasonic.codec import (
    Aare,
    Aarq,
    Invoke,
    Pdu,
    ReleaseRequest,
    ReleaseResponse,
    ReturnError,
    ReturnResult,
    decode_pdu,
)
from pbx_protocols.panasonic.framing import TcpFramer
from pbx_protocols.panasonic.operations import UNIVERSAL_FAILURE, Opcode
from pbx_protocols.panasonic.session import CstaSession


class ScriptedPbx:
    """A TCP peer that speaks framed PDUs exactly as the test tells it to."""

    def __init__(self) -> None:
        self.links: asyncio.Queue[StreamPduLink] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self.links.put(StreamPduLink(reader, writer, TcpFramer(), "scripted pbx"))

        self._server = await asyncio.start_server(accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        while not self.links.empty():
            await self.links.get_nowait().close()


class Peer:
    """The PBX's end of one connection."""

    def __init__(self, link: PduLink) -> None:
        self.link = link

    async def receive(self) -> Pdu:
        async with asyncio.timeout(5):
            return decode_pdu(await self.link.receive())

    async def send(self, pdu: Pdu) -> None:
        await self.link.send(pdu.encode())


class Connection:
    """A session on the client's side, its events, and the PBX's side of the socket."""

    def __init__(self, session: CstaSession, peer: Peer, events: list[dict[str, Any]]) -> None:
        self.session = session
        self.peer = peer
        self.events = events


async def connect(pbx: ScriptedPbx, **options: Any) -> tuple[CstaSession, list[dict[str, Any]]]:
    link = await open_tcp_link("127.0.0.1", pbx.port, TcpFramer())
    events: list[dict[str, Any]] = []
    return CstaSession(link, on_event=events.append, **options), events


@contextlib.asynccontextmanager
async def associated(pbx: ScriptedPbx, **options: Any) -> AsyncIterator[Connection]:
    session, events = await connect(pbx, **options)
    opening = asyncio.create_task(session.open())
    peer = Peer(await pbx.links.get())
    assert (await peer.receive()).kind == "aarq"
    await peer.send(Aare(result=0))
    await opening
    try:
        yield Connection(session, peer, events)
    finally:
        # Answer our release like a PBX would, so closing takes no RELEASE_TIMEOUT.
        answering = asyncio.create_task(_answer_release(peer))
        await session.close()
        answering.cancel()


async def _answer_release(peer: Peer) -> None:
    with contextlib.suppress(ConnectionClosed):
        while not isinstance(await peer.receive(), ReleaseRequest):
            pass
        await peer.send(ReleaseResponse())


type Answer = Callable[[Invoke], Pdu | bytes | None]

NO_SUCH_SERVICE = ("operation", "serviceNotSupported")


class Raw:
    """Bytes sent exactly as given."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self) -> bytes:
        return self.data


def answers(**by_operation: Answer) -> Answer:
    """A PBX that answers per operation name, and refuses everything else."""

    def answer(invoke: Invoke) -> Pdu | bytes | None:
        handler = by_operation.get(invoke.operation)
        if handler is not None:
            return handler(invoke)
        return ReturnError(invoke.invoke_id, UNIVERSAL_FAILURE, NO_SUCH_SERVICE)

    return answer


async def play(peer: Peer, answer: Answer) -> None:
    """Associate, then answer every request with ``answer`` until the client leaves."""
    with contextlib.suppress(Exception):
        while True:
            pdu = await peer.link.receive()
            request = decode_pdu(pdu)
            if isinstance(request, Aarq):
                await peer.send(Aare(result=0))
            elif isinstance(request, ReleaseRequest):
                await peer.send(ReleaseResponse())
            elif isinstance(request, Invoke):
                reply = answer(request)
                if isinstance(reply, bytes):
                    await peer.link.send(reply)
                elif reply is not None:
                    await peer.send(reply)


def monitor_result(invoke: Invoke) -> Pdu:
    return ReturnResult(invoke.invoke_id, Opcode.MONITOR_START, {"crossRefIdentifier": b"\x01"})


def empty_snapshot(invoke: Invoke) -> Pdu:
    result = {"crossRefIDorSnapshotData": ("snapshotData", [])}
    return ReturnResult(invoke.invoke_id, Opcode.SNAPSHOT_DEVICE, result)
