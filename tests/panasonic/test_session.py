"""The CSTA session against a scripted PBX on a real loopback socket.

The simulator always behaves; these tests make the PBX misbehave on purpose: silence,
refusals, garbage, aborts and releases. Each checks what the client reports and that
nothing it has already received is lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from pbx_protocols.core.errors import (
    AuthenticationFailed,
    ConnectionClosed,
    ConnectionFailed,
    RequestTimeout,
)
from pbx_protocols.panasonic.codec import (
    Aare,
    Abort,
    Invoke,
    ReleaseRequest,
    ReleaseResponse,
    ReturnResult,
    encode_value,
)
from pbx_protocols.panasonic.kme import pos_ack_result
from pbx_protocols.panasonic.operations import OPERATIONS, Opcode
from tests.panasonic.scripted import Peer, ScriptedPbx, associated, connect


async def refused_with(pbx: ScriptedPbx, aare: Aare) -> None:
    session, _ = await connect(pbx)
    opening = asyncio.create_task(session.open())
    peer = Peer(await pbx.links.get())
    await peer.receive()
    await peer.send(aare)
    try:
        await opening
    finally:
        await session.close()


async def test_a_pbx_that_never_answers_the_association(pbx, monkeypatch):
    monkeypatch.setattr("pbx_protocols.panasonic.session.ASSOCIATION_TIMEOUT", 0.2)
    session, _ = await connect(pbx)
    with pytest.raises(ConnectionFailed, match=r"no association response within 0\.2 s"):
        await session.open()
    await session.close()


async def test_refused_association_says_why(pbx):
    with pytest.raises(ConnectionFailed, match="application-context-name-not-supported") as err:
        await refused_with(pbx, Aare(result=1, diagnostic=2))
    assert not isinstance(err.value, AuthenticationFailed)


async def test_refused_login_is_an_authentication_failure(pbx):
    with pytest.raises(AuthenticationFailed, match="refused the login"):
        await refused_with(pbx, Aare(result=1, diagnostic=13))


async def test_garbage_from_the_pbx_is_skipped_and_later_events_still_arrive(pbx, caplog):
    async with associated(pbx) as connection:
        event = {
            "crossRefIdentifier": b"\x01",
            "eventSpecificInfo": ("vendorSpecEvents", b"\x04\x00"),
        }
        await connection.peer.link.send(b"\x30\x03\x02\x01")  # a truncated PDU
        await connection.peer.send(Invoke(1, Opcode.CSTA_EVENT_REPORT, raw_argument=b"\x30\x00"))
        await connection.peer.send(
            Invoke(2, Opcode.CSTA_EVENT_REPORT, raw_argument=_event_report_bytes(event))
        )
        async with asyncio.timeout(5):
            while not connection.events:
                await asyncio.sleep(0.01)
        assert "Ignoring a PDU from tcp 127.0.0.1" in caplog.text
        assert connection.events[0]["crossRefIdentifier"] == b"\x01"


def _event_report_bytes(event: dict[str, Any]) -> bytes:
    return encode_value(OPERATIONS[Opcode.CSTA_EVENT_REPORT].argument, event)


async def test_abort_from_the_pbx_ends_the_session_and_fails_waiting_requests(pbx):
    async with associated(pbx) as connection:
        request = asyncio.create_task(connection.session.device_list())
        assert (await connection.peer.receive()).kind == "invoke"
        await connection.peer.send(Abort())
        with pytest.raises(ConnectionClosed, match="aborted the association"):
            await request
        reason = await connection.session.wait_closed()
        assert isinstance(reason, ConnectionFailed)
        assert "aborted" in str(reason)


async def test_release_from_the_pbx_is_answered(pbx):
    async with associated(pbx) as connection:
        await connection.peer.send(ReleaseRequest())
        assert isinstance(await connection.peer.receive(), ReleaseResponse)
        reason = await connection.session.wait_closed()
        assert isinstance(reason, ConnectionClosed)
        with pytest.raises(ConnectionClosed, match="session closed"):
            await connection.session.invoke(Opcode.SYSTEM_STATUS, {})


async def test_our_release_waits_for_the_answer(pbx):
    async with associated(pbx) as connection:
        closing = asyncio.create_task(connection.session.close())
        assert isinstance(await connection.peer.receive(), ReleaseRequest)
        await connection.peer.send(ReleaseResponse())
        async with asyncio.timeout(1):  # well inside RELEASE_TIMEOUT: the answer ended it
            await closing
        assert await connection.session.wait_closed() is None


async def test_device_list_segments_that_never_come(pbx):
    async with associated(pbx, request_timeout=0.3) as connection:
        request = asyncio.create_task(connection.session.device_list())
        invoke = await connection.peer.receive()
        assert isinstance(invoke, Invoke)
        await connection.peer.send(
            ReturnResult(invoke.invoke_id, Opcode.ESCAPE, pos_ack_result(b"\x00\x07"))
        )
        with pytest.raises(RequestTimeout, match="device list"):
            await request


async def test_stray_answers_and_unexpected_pdus_are_ignored(pbx, caplog):
    caplog.set_level(logging.DEBUG, logger="pbx_protocols.panasonic.session")
    async with associated(pbx) as connection:
        await connection.peer.send(ReturnResult(999))  # answers nothing we asked
        await connection.peer.send(Aare(result=0))  # a second association response
        await connection.peer.send(ReleaseResponse())  # a release nobody requested
        await connection.peer.send(Invoke(5, Opcode.MAKE_CALL, raw_argument=b"\x30\x00"))
        probe = asyncio.create_task(connection.session.invoke(Opcode.SYSTEM_STATUS, None))
        invoke = await connection.peer.receive()
        await connection.peer.send(ReturnResult(invoke.invoke_id))
        assert await probe is None  # the link survived all of it
        assert "Unexpected returnResult" in caplog.text
