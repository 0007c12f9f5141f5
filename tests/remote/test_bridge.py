"""The bridge on an in-memory broker: retained state, events, commands, and what it refuses."""

from __future__ import annotations

import json

import jsonschema
import pytest

from pbx_protocols.core.model import CallEventKind, LineState
from pbx_protocols.remote.scheme import encode
from tests.common import wait_until
from tests.remote.conftest import EXTENSIONS, SCHEMAS, Site, schema, validate


def retained(site: Site, topic: str) -> dict:
    return json.loads(site.broker.retained[topic])


async def test_the_site_announces_itself(site: Site):
    topics = site.topics
    assert retained(site, topics.status) == {"v": 1, "state": "online", "link": "connected"}
    info = retained(site, topics.info)
    assert (info["vendor"], info["extensions"]) == ("Panasonic", list(EXTENSIONS))
    assert "make_call" in info["capabilities"]
    line = retained(site, topics.extension("101"))
    assert (line["state"], line["active_calls"], line["calls"]) == ("idle", 0, [])
    # Home Assistant MQTT discovery: the PBX and a device per extension
    config = json.loads(site.broker.retained["homeassistant/device/pbx_hq/pbx_hq_101/config"])
    assert set(config["cmps"]) == {"line", "call"}
    assert config["dev"]["via_device"] == "pbx_hq"
    assert "homeassistant/device/pbx_hq/pbx_hq/config" in site.broker.retained


async def test_calls_are_published_as_state_and_events(site: Site):
    call = site.simulator.pbx.make_call("101", "102")
    site.simulator.pbx.answer("102", call)
    site.simulator.pbx.clear_connection("101", call)
    topics = site.topics
    await wait_until(lambda: len(site.payloads(topics.record)) == 1)
    kinds = [(e["extension"], e["event"]) for e in site.payloads(topics.event)]
    assert ("102", "ringing") in kinds and ("101", "answered") in kinds
    assert ("102", "ended") in kinds
    assert [e["event"] for e in site.payloads(topics.extension_event("102"))] == [
        "ringing",
        "answered",
        "ended",
    ]
    assert retained(site, topics.extension("102"))["state"] == "idle"
    ringing = next(p for p in site.payloads(topics.extension("102")) if p["state"] == "ringing")
    assert (ringing["caller"], ringing["peer"], ringing["direction"]) == ("101", "101", "incoming")


async def test_every_payload_follows_its_schema(site: Site):
    call = site.simulator.pbx.incoming_call("0301234567", "103")
    site.simulator.pbx.answer("103", call)
    site.simulator.pbx.clear_connection("0301234567", call)
    await site.broker.publish(
        site.topics.command("make_call"), encode({"id": "r1", "extension": "101", "number": "x"})
    )
    await wait_until(lambda: len(site.payloads(site.topics.record)) == 1)
    await wait_until(lambda: site.payloads(site.topics.response("r1")))
    kinds = set()
    for topic, payload, _ in site.broker.log:
        validate(site.topics, topic, payload)
        kinds.add(topic.split("/")[2])
    assert {"status", "info", "extension", "event", "record", "command", "response"} <= kinds


def test_the_schemas_are_schemas():
    names = ("status", "info", "extension", "event", "record", "command", "response", "discovery")
    shipped = {path.name.removesuffix(".schema.json") for path in SCHEMAS.glob("*.json")}
    assert shipped == set(names)  # one per payload kind, no more
    for name in names:
        jsonschema.Draft202012Validator.check_schema(schema(name))
        assert schema(name)["properties"]["v"] == {"const": 1}


async def command(site: Site, action: str, payload: bytes | dict) -> dict:
    data = payload if isinstance(payload, bytes) else encode(payload)
    await site.broker.publish(site.topics.command(action), data)
    request_id = payload.get("id") if isinstance(payload, dict) else None
    await wait_until(lambda: site.payloads(site.topics.response(request_id or "r")))
    return site.payloads(site.topics.response(request_id or "r"))[-1]


async def test_a_command_is_carried_out(site: Site):
    answer = await command(site, "make_call", {"id": "c1", "extension": "101", "number": "102"})
    assert answer == {"v": 1, "id": "c1", "ok": True}
    await wait_until(lambda: retained(site, site.topics.extension("102"))["state"] == "ringing")


@pytest.mark.parametrize(
    ("action", "payload", "error", "message"),
    [
        ("make_call", {"extension": "101", "number": "12x"}, "InvalidInput", "contains 'x'"),
        ("make_call", {"extension": "999", "number": "102"}, "InvalidInput", "not an extension"),
        ("make_call", {"extension": "101"}, "InvalidInput", "needs 'number'"),
        ("frobnicate", {"extension": "101"}, "InvalidInput", "unknown action 'frobnicate'"),
        ("display_text", {"extension": "101", "text": "hi"}, "UnsupportedOperation", "cannot"),
        ("hang_up", {"extension": "101"}, "NoMatchingCall", "no call to hang up"),
    ],
)
async def test_bad_commands_get_an_error_and_nothing_reaches_the_pbx(
    site: Site, action, payload, error, message
):
    answer = await command(site, action, {"id": "r", **payload})
    assert answer["ok"] is False
    assert answer["error"]["type"] == error
    assert message in answer["error"]["message"]
    assert not site.simulator.pbx.calls


async def test_commands_without_a_usable_id_are_dropped(site: Site, caplog):
    for data in (b"{not json", encode({"extension": "101", "number": "102"}), b"[1]"):
        await site.broker.publish(site.topics.command("make_call"), data)
    await site.broker.publish(
        site.topics.command("make_call"), encode({"id": "a/b", "extension": "101"})
    )
    assert not [t for t, _, _ in site.broker.log if "/response/" in t]
    assert caplog.text.count("Ignoring a command") == 1  # then counted, not repeated
    assert not site.simulator.pbx.calls


async def test_a_remote_client_sees_and_does_what_a_local_one_does(site: Site, remote):
    assert remote.connected
    assert remote.extension_numbers == list(EXTENSIONS)
    assert remote.info.vendor == "Panasonic"
    events = []
    remote.subscribe_events(events.append)
    await remote.make_call("101", "102")
    await wait_until(lambda: remote.extension("102").line_state is LineState.RINGING)
    await remote.answer_call("102")
    await wait_until(lambda: remote.extension("101").line_state is LineState.TALKING)
    await remote.hang_up("101")
    await wait_until(lambda: remote.extension("102").line_state is LineState.IDLE)
    kinds = [(e.extension, e.kind) for e in events]
    assert ("102", CallEventKind.RINGING) in kinds and ("101", CallEventKind.ENDED) in kinds


async def test_a_remote_refusal_is_the_library_s_typed_error(site: Site, remote):
    from pbx_protocols.core.errors import CommandRejected, Refusal

    await remote.make_call("101", "102")
    await wait_until(lambda: remote.extension("101").line_state is LineState.DIALING)
    with pytest.raises(CommandRejected) as info:
        await remote.make_call("101", "103")
    assert info.value.refusal is Refusal.EXTENSION_BUSY


@pytest.mark.timeout(30)
async def test_after_a_pbx_outage_the_resynchronised_state_is_published(site: Site):
    topics = site.topics
    await site.simulator.drop_clients()
    await wait_until(lambda: retained(site, topics.status)["link"] != "connected")
    call = site.simulator.pbx.incoming_call("0301234567", "103")  # while nobody listens
    await wait_until(lambda: retained(site, topics.status)["link"] == "connected", timeout=10)
    await wait_until(lambda: retained(site, topics.extension("103"))["state"] == "ringing")
    assert retained(site, topics.extension("103"))["call_id"] == call.hex()
    assert retained(site, topics.status) == {"v": 1, "state": "online", "link": "connected"}


@pytest.mark.timeout(30)
async def test_a_remote_site_is_down_while_the_broker_connection_is(site: Site, remote):
    site.broker.set_connected(False)
    await wait_until(lambda: not remote.connected)
    site.broker.set_connected(True)  # the retained status comes again
    await wait_until(lambda: remote.connected, timeout=10)
    assert remote.extension("101").line_state is LineState.IDLE


async def test_a_consumer_can_withdraw_and_restore_discovery(site: Site):
    from pbx_protocols.remote.scheme import discovery_payload

    def configs() -> set[str]:
        return {t for t in site.broker.retained if t.startswith("homeassistant/")}

    announced = configs()
    assert len(announced) == 1 + len(EXTENSIONS)
    await site.broker.publish(site.topics.discovery, encode(discovery_payload(False)), retain=True)
    await wait_until(lambda: not configs())
    call = site.simulator.pbx.make_call("101", "102")  # states go on; configs stay away
    await wait_until(lambda: retained(site, site.topics.extension("102"))["state"] == "ringing")
    site.simulator.pbx.clear_connection("101", call)
    assert not configs()
    await site.broker.publish(site.topics.discovery, b"", retain=True)  # the consumer left
    await wait_until(lambda: configs() == announced)
    for topic, payload, _ in site.broker.log:
        validate(site.topics, topic, payload)
