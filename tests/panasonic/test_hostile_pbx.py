"""A PBX that answers with malformed but decodable replies, odd values and huge identifiers.

Each test scripts a PBX over a real socket; the client must report typed errors, carry on
with what it can use and never lose its reconnect loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator

import pytest

from pbx_protocols.core.calls import utc_now
from pbx_protocols.core.errors import CommandRejected, ProtocolError
from pbx_protocols.core.model import LineState
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.codec import (
    Invoke,
    Pdu,
    Reject,
    ReturnResult,
    decode_pdu,
)
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.records import call_records
from tests.common import wait_until
from tests.panasonic.conftest import fast_policy
from tests.panasonic.scripted import (
    Answer,
    Peer,
    ScriptedPbx,
    answers,
    associated,
    empty_snapshot,
    monitor_result,
    play,
)


@contextlib.asynccontextmanager
async def scripted(pbx: ScriptedPbx, answer: Answer) -> AsyncIterator[None]:
    async def serve() -> None:
        while True:
            peer = Peer(await pbx.links.get())
            asyncio.create_task(play(peer, answer))  # noqa: RUF006  # ends with the link

    server = asyncio.create_task(serve())
    try:
        yield
    finally:
        server.cancel()


def client_for(pbx: ScriptedPbx, **options: object) -> PanasonicClient:
    config = PanasonicConfig(
        host="127.0.0.1",
        port=pbx.port,
        extensions=("101",),
        request_timeout=0.5,
        monitor_wait=0.5,
        monitor_retry=0.2,
        call_records=False,
        **options,  # type: ignore[arg-type]
    )
    return PanasonicClient(config, reconnect_policy=fast_policy())


@pytest.mark.parametrize(
    "malformed",
    [
        lambda invoke_id: bytes([0xA2, 0x03, 0x02, 0x01, invoke_id]),  # no result at all
        lambda invoke_id: bytes.fromhex(f"a20b0201{invoke_id:02x}3006020200478500"),
    ],
    ids=["empty-result", "undecodable-result"],
)
async def test_a_malformed_monitor_answer_is_retried_not_fatal(pbx, caplog, malformed):
    replies = iter([malformed, None])

    def monitor(invoke: Invoke) -> Pdu | bytes:
        bad = next(replies, None)
        return bad(invoke.invoke_id) if bad else monitor_result(invoke)

    async with scripted(pbx, answers(monitorStart=monitor, snapshotDevice=empty_snapshot)):
        client = client_for(pbx)
        await client.connect()  # the first monitor answer is unusable: no TypeError
        try:
            assert client.connected
            await wait_until(lambda: client.extension("101").monitored)
            assert client.extension("101").line_state is LineState.IDLE
        finally:
            await client.close()
    assert "answered with" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_session_checks_each_result_shape(pbx):
    async with associated(pbx) as connection:
        request = asyncio.create_task(
            connection.session.invoke(
                Opcode.MONITOR_START,
                {"monitorObject": ("deviceObject", {"deviceIdentifier": ("dialingNumber", "101")})},
            )
        )
        invoke = await connection.peer.receive()
        await connection.peer.send(ReturnResult(invoke.invoke_id))
        with pytest.raises(ProtocolError, match="monitorStart answered with no result"):
            await request
        # A result of the right type but a different operation is no answer either.
        request = asyncio.create_task(
            connection.session.invoke(
                Opcode.SNAPSHOT_DEVICE,
                {"snapshotObject": {"deviceIdentifier": ("dialingNumber", "101")}},
            )
        )
        invoke = await connection.peer.receive()
        await connection.peer.send(
            ReturnResult(invoke.invoke_id, Opcode.MONITOR_START, {"crossRefIdentifier": b"\x01"})
        )
        with pytest.raises(ProtocolError, match="answered as operation monitorStart"):
            await request


async def test_a_refusal_with_a_huge_code_reaches_the_caller_typed(pbx):
    def refuse_hugely(invoke: Invoke) -> Pdu:
        return Reject(invoke.invoke_id, "invoke", 10**5000)

    handlers = answers(
        monitorStart=monitor_result, snapshotDevice=empty_snapshot, makeCall=refuse_hugely
    )
    async with scripted(pbx, handlers):
        client = client_for(pbx)
        async with client:
            await wait_until(lambda: client.extension("101").monitored)
            with pytest.raises(CommandRejected, match=r"invoke\.<\d+-bit integer"):
                await client.make_call("101", "102")


async def test_an_unknown_enumeration_value_keeps_the_event(pbx):
    """A cause the specification does not list: the event still arrives, the value raw."""
    async with associated(pbx) as connection:
        report = {
            "crossRefIdentifier": b"\x01",
            "eventSpecificInfo": (
                "callControlEvents",
                (
                    "connectionCleared",
                    {
                        "droppedConnection": ("callID", b"\x00\xe1"),
                        "releasingDevice": ("notKnown", None),
                        "localConnectionInfo": 77,
                        "cause": 9999,
                    },
                ),
            ),
        }
        await connection.peer.send(Invoke(3, Opcode.CSTA_EVENT_REPORT, report))
        await wait_until(lambda: connection.events)
        _, (name, event) = connection.events[0]["eventSpecificInfo"]
        assert name == "connectionCleared"
        assert (event["cause"], event["localConnectionInfo"]) == (9999, 77)


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8)
    return bytes((tag, 0x80 | len(length))) + length + content


@pytest.mark.parametrize(
    ("pdu", "message"),
    [
        # asn1tools decodes identifiers in quadratic time; CSTA uses ones of 5 to 7 bytes
        (_tlv(0x60, _tlv(0xA1, _tlv(0x06, b"\x2b" + b"\x01" * 100))), "object identifier"),
        (
            _tlv(0xA1, _tlv(0x02, b"\x01") + _tlv(0x06, b"\x2b" + b"\x01" * 9_000)),
            "object identifier",
        ),
        (
            _tlv(0xA1, _tlv(0x02, b"\x01") + _tlv(0x02, b"\x15") + _tlv(0x30, b"\x05\x00" * 9_000)),
            "limit",
        ),
    ],
    ids=["aarq-oid", "global-opcode", "oversized"],
)
def test_identifiers_and_pdus_are_capped_before_decoding(pdu, message):
    with pytest.raises(ProtocolError, match=message):
        decode_pdu(pdu)


async def test_an_association_timeout_reports_nothing_to_asyncio(pbx, monkeypatch):
    """No "exception in shielded future" ERROR when the AARE never comes."""
    monkeypatch.setattr("pbx_protocols.panasonic.session.ASSOCIATION_TIMEOUT", 0.1)
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        client = client_for(pbx)
        for _ in range(3):
            with pytest.raises(Exception, match="no association response"):
                await client.connect()
        await asyncio.sleep(0.05)
        gc.collect()  # a failed future nobody retrieved is reported when collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert reported == []


#: Findings of script/fuzz, kept as regular tests.
FUZZ_CALL_RECORD = bytes.fromhex(
    "a159020108020201693050040101020101303d303b180c32303236313230323130333061083006800430333031"
    "620730058003313012650730058003434f31860c32303236313230323130333087017d7e09a107a605aa030a01"
    "01"
)


def test_a_call_record_renders_as_json():
    """A CDR report's times (GeneralizedTime) made ``decode panasonic`` fail."""
    rendered = json.dumps(decode_pdu(FUZZ_CALL_RECORD).as_json())
    assert '"recordCreationTime": "2026-12-02T10:30:00"' in rendered


def test_an_association_pdu_packed_with_elements_is_refused_before_reading_them():
    """An AARQ with 5,800 empty elements took the limit check itself 100 to 200 ms."""
    content = _tlv(0xA1, _tlv(0x06, b"\x2b\x0c\x00\x81\x5a")) + _tlv(0x30, b"\x05\x00" * 5800)
    with pytest.raises(ProtocolError, match=r"association PDU with more than 64 elements"):
        decode_pdu(_tlv(0x60, content))


#: A CDR report claiming a conversation of 10^21 tenths of a second (found by script/fuzz).
FUZZ_ENDLESS_CALL_RECORD = bytes.fromhex(
    "a159020108020201693050040101020101303d303b180c32303236313230323130333061083006800430333031"
    "620730058003313032650730058003434f31860c32303236313230323130333087097d7e01a107a605aa030a01"
    "01"
)


def test_a_call_record_with_an_impossible_duration_has_none():
    """timedelta() raised OverflowError, which the client did not expect."""
    (record,) = call_records(decode_pdu(FUZZ_ENDLESS_CALL_RECORD).argument, utc_now)
    assert record.duration is None
    assert record.answered is None
    assert record.ended is not None
