"""Whatever arrives from the broker: only the library's typed errors, bounded state.

A broker is shared: anything any client with write access publishes reaches the bridge's
command topics and the remote client's subscriptions. Random JSON, hostile shapes and raw
bytes go to every reader of the scheme and to every message handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbx_protocols.core.errors import PbxError, ProtocolError
from pbx_protocols.core.model import Capability
from pbx_protocols.remote.client import RemoteClient
from pbx_protocols.remote.pubsub import MemoryBroker
from pbx_protocols.remote.scheme import (
    MAX_PAYLOAD,
    MAX_SITE_EXTENSIONS,
    decode,
    discovery_wanted,
    encode,
    event_from,
    info_from,
    parse_command,
    record_from,
    snapshot_from,
)
from tests.common import wait_until
from tests.remote.conftest import Site

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
FIELDS = st.sampled_from(
    ["v", "id", "extension", "number", "state", "event", "calls", "call_id", "timestamp",
     "direction", "failure", "vendor", "capabilities", "extensions", "max_text_length",
     "vendor", "model", "unique_id", "duration", "started", "enabled", "ok", "error"]
)  # fmt: skip
#: Objects shaped like the scheme's, with fields of any type.
PAYLOADS = st.dictionaries(FIELDS, JSON, max_size=12).map(lambda d: {**d, "v": 1})


def readers() -> list[Any]:
    return [
        snapshot_from,
        event_from,
        record_from,
        lambda payload: info_from(payload, "fallback"),
        lambda payload: parse_command("make_call", payload),
        lambda payload: parse_command("transfer_call", payload),
        lambda payload: discovery_wanted(encode(payload)),
    ]


@settings(max_examples=400, deadline=None)
@given(PAYLOADS)
def test_readers_raise_only_typed_errors(payload):
    for read in readers():
        with contextlib.suppress(PbxError):
            read(payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_raw_bytes_are_protocol_errors(data):
    with contextlib.suppress(ProtocolError):
        decode(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"v": 1, "x": NaN}',
        b'{"v": 1, "x": Infinity}',
        b"[" * 100_000,
        b'{"v": 1, "s": "' + b"x" * (MAX_PAYLOAD + 1) + b'"}',
        b'{"v": 2}',
        b"\xff\xfe",
    ],
)
def test_hostile_documents_are_refused(data):
    with pytest.raises(ProtocolError):
        decode(data)


def test_snapshots_are_bounded():
    call = {"call_id": "1", "state": "connected"}
    with pytest.raises(ProtocolError):
        snapshot_from({"number": "101", "state": "idle", "calls": [call] * 17})
    with pytest.raises(ProtocolError):
        info_from({"vendor": "x", "model": "y", "unique_id": "z", "capabilities": [],
                   "extensions": ["1"] * (MAX_SITE_EXTENSIONS + 1)}, "n")  # fmt: skip
    with pytest.raises(ProtocolError):
        snapshot_from({"number": "1" * 300, "state": "idle", "calls": []})


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(topic=st.sampled_from(["status", "info", "extension/101", "extension/x", "event",
                              "record", "response/abc"]),
       payload=PAYLOADS | JSON.map(lambda value: {"v": 1, "x": value}))  # fmt: skip
def test_remote_client_handlers_take_anything(topic, payload):
    client = RemoteClient(MemoryBroker(), "hq")
    handlers = {
        "status": client._on_status,
        "info": client._on_info,
        "extension": client._on_extension,
        "event": client._on_event,
        "record": client._on_record,
        "response": client._on_response,
    }
    handler = handlers[topic.split("/")[0]]
    data = json.dumps(payload).encode()
    handler(f"pbx/hq/{topic}", data)  # nothing escapes a handler
    handler(f"pbx/hq/{topic}", data[: len(data) // 2])


async def test_a_flood_of_extensions_is_bounded():
    broker = MemoryBroker()
    client = RemoteClient(broker, "hq")
    client._on_status("pbx/hq/status", b"")  # no session needed: handlers alone
    for number in range(MAX_SITE_EXTENSIONS + 50):
        payload = {"v": 1, "number": str(number), "state": "idle", "calls": []}
        client._on_extension(f"pbx/hq/extension/{number}", encode(payload))
    assert len(client.tracker) == MAX_SITE_EXTENSIONS


async def test_a_hostile_response_is_a_typed_error(site: Site):
    client = RemoteClient(site.broker, "hq")
    async with client:
        unanswered: list[bytes] = []
        await site.broker.subscribe("pbx/hq/command/+", lambda _, data: unanswered.append(data))
        site.bridge._unsubscribe[-2]()  # the bridge stops taking commands; we answer instead

        async def answer(error: Any) -> None:
            await wait_until(lambda: bool(unanswered))
            request = json.loads(unanswered.pop())
            response = {"v": 1, "id": request["id"], "ok": "yes", "error": error}
            await site.broker.publish(f"pbx/hq/response/{request['id']}", encode(response))

        for error in (["not", "a", "dict"], {"type": ["x"], "refusal": {}}, None):
            with pytest.raises(PbxError):
                await asyncio.gather(client.make_call("101", "102"), answer(error))
    assert Capability.MAKE_CALL in client.capabilities
