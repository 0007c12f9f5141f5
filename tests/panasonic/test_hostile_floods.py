"""Floods from the PBX side: memory stays flat and the log stays short, whatever it sends.

The client is wired to a scripted PBX in memory (the same client, session and mapper as
over TCP), so that hundreds of thousands of PDUs take seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from pbx_protocols.core.calls import MAX_CALLS_PER_EXTENSION
from pbx_protocols.core.errors import CommandRejected
from pbx_protocols.core.memory import MemoryPduLink, memory_link_pair
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.codec import Invoke, ReturnResult
from pbx_protocols.panasonic.events import MAX_CONFERENCES
from pbx_protocols.panasonic.kme import (
    KmeDevice,
    LinkedReply,
    linked_reply_argument,
    pos_ack_result,
)
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.session import MAX_DEVICE_LISTS_IN_PROGRESS
from tests.common import wait_until
from tests.panasonic.scripted import Peer, answers, empty_snapshot, play

CROSS_REF = b"\x01"
#: Memory a flood of this many more PDUs may add (allocator noise, log records).
FLAT = 256 * 1024


def monitor_101(invoke: Invoke) -> ReturnResult:
    return ReturnResult(invoke.invoke_id, Opcode.MONITOR_START, {"crossRefIdentifier": CROSS_REF})


@contextlib.asynccontextmanager
async def client_and_pbx(**by_operation: object) -> AsyncIterator[tuple[PanasonicClient, Peer]]:
    """A client on a memory link whose far end a test drives (after the handshake)."""
    client_end, pbx_end = memory_link_pair("flood")
    peer = Peer(pbx_end)
    handlers = {"monitorStart": monitor_101, "snapshotDevice": empty_snapshot, **by_operation}
    player = asyncio.create_task(play(peer, answers(**handlers)))  # type: ignore[arg-type]

    async def open_link() -> MemoryPduLink:
        return client_end

    config = PanasonicConfig(open_link=open_link, extensions=("101",), call_records=False)
    client = PanasonicClient(config)
    await client.connect()
    try:
        await wait_until(lambda: client.extension("101").monitored)
        yield client, peer
    finally:
        await client.close()
        player.cancel()


#: Stands for the call id in an encoded template; each PDU of a flood gets its own.
MARKER = 0x7E7E7E7E
#: Call ids and cross references never used before, across floods.
_UNIQUE = itertools.count(1)


def reports(event: Callable[[int], tuple[str, dict[str, object]]], count: int) -> Iterator[bytes]:
    """``count`` event reports, each naming a call id never seen before."""
    name, body = event(MARKER)
    argument = {
        "crossRefIdentifier": CROSS_REF,
        "eventSpecificInfo": ("callControlEvents", (name, body)),
    }
    template = Invoke(1, Opcode.CSTA_EVENT_REPORT, argument).encode()
    marker = MARKER.to_bytes(4)
    for _ in range(count):
        yield template.replace(marker, (next(_UNIQUE) | 0x01000000).to_bytes(4))


def delivered(n: int) -> tuple[str, dict[str, object]]:
    return "delivered", {
        "connection": ("callID", n.to_bytes(4)),
        "alertingDevice": ("deviceIdentifier", {"deviceIdentifier": ("dialingNumber", "101")}),
        "callingDevice": ("notKnown", None),
        "calledDevice": ("notKnown", None),
        "lastRedirectionDevice": ("notKnown", None),
        "cause": "newCall",
    }


def conferenced(n: int) -> tuple[str, dict[str, object]]:
    return "conferenced", {
        "primaryOldCall": ("callID", b"\x00"),
        "conferencingDevice": ("notKnown", None),
        "addedParty": ("notKnown", None),
        "conferenceConnections": [{"newConnection": ("callID", n.to_bytes(4))}],
        "cause": "conference",
    }


async def flood(peer: Peer, pdus: Iterator[bytes], client: PanasonicClient) -> None:
    for pdu in pdus:
        await peer.link.send(pdu)
    # The client has read everything once a request of ours comes back answered.
    with contextlib.suppress(CommandRejected):
        await client._active_session().invoke(Opcode.SYSTEM_STATUS, None)


async def growth(run: Callable[[int], object], count: int) -> int:
    """Bytes still allocated after a second flood of ``count``, compared with the first."""
    await run(count)  # type: ignore[misc]
    gc.collect()
    before, _ = tracemalloc.get_traced_memory()
    await run(count)  # type: ignore[misc]
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    return after - before


@pytest.fixture
async def traced() -> AsyncIterator[None]:
    """Trace allocations; asyncio's debug mode (a traceback per task) would only add noise."""
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()
        loop.set_debug(debug)


@pytest.mark.parametrize(("event", "count"), [(delivered, 5_000), (conferenced, 5_000)])
async def test_calls_and_conferences_named_by_the_pbx_are_bounded(traced, event, count):
    async with client_and_pbx() as (client, peer):
        assert await growth(lambda n: flood(peer, reports(event, n), client), count) < FLAT
        assert len(client.extension("101").calls) <= MAX_CALLS_PER_EXTENSION
        assert len(client._mapper._conferences) <= MAX_CONFERENCES


def segment(n: int) -> bytes:
    reply = LinkedReply(n.to_bytes(4), 1, False, (KmeDevice(f"{n}", None, True),))
    return Invoke(n % 30000 + 1, Opcode.ESCAPE, linked_reply_argument(reply)).encode()


async def test_device_list_segments_for_cross_references_nobody_asked_for(traced):
    async with client_and_pbx() as (client, peer):
        run = lambda n: flood(peer, (segment(next(_UNIQUE)) for _ in range(n)), client)  # noqa: E731
        assert await growth(run, 5_000) < FLAT


async def test_device_list_segments_while_a_list_is_being_read(traced):
    async with client_and_pbx() as (client, peer):
        session = client._active_session()
        reading = asyncio.create_task(session.device_list())
        request = await peer.receive()
        await peer.send(ReturnResult(request.invoke_id, Opcode.ESCAPE, pos_ack_result(b"\xff")))
        run = lambda n: flood(peer, (segment(next(_UNIQUE)) for _ in range(n)), client)  # noqa: E731
        assert await growth(run, 5_000) < FLAT
        assert len(session._device_lists) <= MAX_DEVICE_LISTS_IN_PROGRESS
        reading.cancel()


async def test_undecodable_pdus_log_one_warning_not_one_each(traced, caplog):
    caplog.set_level(logging.INFO, logger="pbx_protocols")
    async with client_and_pbx() as (client, peer):
        assert (
            await growth(lambda n: flood(peer, (b"\x00" * 2 for _ in range(n)), client), 50_000)
            < FLAT
        )
    warnings = [
        r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("pbx")
    ]
    assert 1 <= len(warnings) <= 2, [r.getMessage() for r in warnings]
    assert "Ignoring a PDU" in warnings[0].getMessage()
