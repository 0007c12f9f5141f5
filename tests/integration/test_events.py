"""The pbx_call_event bus event, device triggers in automations, and logbook lines."""

from __future__ import annotations

import pytest
from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_get_device_automations,
)

from custom_components.pbx.const import DOMAIN, EVENT_CALL, EVENT_RECORD
from custom_components.pbx.logbook import async_describe_events
from tests.common import wait_until

PAYLOAD_KEYS = {
    "config_entry_id",
    "device_id",
    "entity_id",
    "extension",
    "event",
    "call_id",
    "caller",
    "called",
    "peer",
    "direction",
    "state",
}


def extension_device(hass: HomeAssistant, entry, number: str) -> dr.DeviceEntry:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_{number}"), entry.entry_id
    )


async def test_bus_event_payload(hass: HomeAssistant, loaded_entry, simulator):
    events = async_capture_events(hass, EVENT_CALL)
    call = simulator.pbx.incoming_call("0301234567", "102")
    await wait_until(lambda: len(events) == 1)
    (ringing,) = events
    assert set(ringing.data) == PAYLOAD_KEYS
    assert ringing.data == {
        "config_entry_id": loaded_entry.entry_id,
        "device_id": extension_device(hass, loaded_entry, "102").id,
        "entity_id": "sensor.extension_102_line",
        "extension": "102",
        "event": "incoming_call",
        "call_id": call.hex(),
        "caller": "0301234567",
        "called": "102",
        "peer": "0301234567",
        "direction": "incoming",
        "state": "ringing",
    }
    simulator.pbx.clear_connection("0301234567", call)
    await wait_until(lambda: len(events) == 2)
    assert (events[1].data["event"], events[1].data["state"]) == ("missed", "idle")


async def test_bus_event_follows_a_renamed_line(hass: HomeAssistant, loaded_entry, simulator):
    """The payload names the line as it is now, not as it was at the first event."""
    events = async_capture_events(hass, EVENT_CALL)
    call = simulator.pbx.incoming_call("0301234567", "102")
    await wait_until(lambda: len(events) == 1)
    assert events[0].data["entity_id"] == "sensor.extension_102_line"
    er.async_get(hass).async_update_entity(
        "sensor.extension_102_line", new_entity_id="sensor.reception_line"
    )
    await hass.async_block_till_done()
    simulator.pbx.clear_connection("0301234567", call)
    await wait_until(lambda: len(events) == 2)
    assert events[1].data["entity_id"] == "sensor.reception_line"
    assert events[1].data["device_id"] == extension_device(hass, loaded_entry, "102").id


async def test_hidden_extensions_stay_quiet(hass: HomeAssistant, loaded_entry, simulator):
    hass.config_entries.async_update_entry(loaded_entry, options={"extensions": ["101"]})
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    events = async_capture_events(hass, EVENT_CALL)
    simulator.pbx.make_call("102", "101")
    await wait_until(lambda: len(events) == 1)
    assert events[0].data["extension"] == "101"


async def test_device_triggers_are_listed(hass: HomeAssistant, loaded_entry):
    device = extension_device(hass, loaded_entry, "101")
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    ours = sorted(t["type"] for t in triggers if t["domain"] == DOMAIN)
    assert ours == ["answered", "ended", "incoming_call", "missed", "outgoing_call", "ringing"]
    pbx = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, loaded_entry.entry_id), loaded_entry.entry_id
    )
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, pbx.id)
    assert not [t for t in triggers if t["domain"] == DOMAIN]


@pytest.mark.parametrize(
    ("trigger", "script"),
    [
        ("ringing", "ring"),
        ("incoming_call", "ring"),
        ("answered", "answer"),
        ("missed", "miss"),
        ("ended", "answer_and_end"),
        ("outgoing_call", "dial"),
    ],
)
async def test_device_trigger_fires_an_automation(
    hass: HomeAssistant, loaded_entry, simulator, trigger, script
):
    device = extension_device(hass, loaded_entry, "103")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "trigger": {
                    "platform": "device",
                    "domain": DOMAIN,
                    "device_id": device.id,
                    "type": trigger,
                },
                "action": {
                    "event": "test_fired",
                    "event_data": {"trigger": trigger},
                },
            }
        },
    )
    fired = async_capture_events(hass, "test_fired")
    if script == "dial":
        simulator.pbx.make_call("103", "104")
    else:
        call = simulator.pbx.incoming_call("0891", "103")
        if script in ("answer", "answer_and_end"):
            simulator.pbx.answer("103", call)
        if script in ("miss", "answer_and_end"):
            simulator.pbx.clear_connection("0891", call)
    await wait_until(lambda: len(fired) >= 1)
    assert fired[0].data == {"trigger": trigger}


async def test_call_records_reach_the_bus_and_the_logbook(
    hass: HomeAssistant, loaded_entry, simulator
):
    records = async_capture_events(hass, EVENT_RECORD)
    await wait_until(lambda: simulator.sessions[0]._services.cdr_cross_ref is not None)
    call = simulator.pbx.incoming_call("0301234567", "102")
    simulator.pbx.answer("102", call)
    simulator.pbx.clear_connection("0301234567", call)
    await wait_until(lambda: len(records) == 1)
    (record,) = records
    assert record.data["device_id"] == extension_device(hass, loaded_entry, "102").id
    assert (record.data["caller"], record.data["called"], record.data["direction"]) == (
        "0301234567",
        "102",
        "incoming",
    )
    assert record.data["trunk"] == "CO1"
    described = {}
    async_describe_events(hass, lambda domain, event, describe: described.update({event: describe}))
    line = described[EVENT_RECORD](Event(EVENT_RECORD, {**record.data, "duration": 125.0}))
    assert line == {
        "name": "Extension 102",
        "entity_id": "sensor.extension_102_line",
        "message": "0301234567 → 102 · 2:05",
        "icon": "mdi:phone-log",
    }


async def test_logbook_lines(hass: HomeAssistant, loaded_entry):
    """One translated line per event, with its icon, linking the extension's line."""
    hass.config_entries.async_update_entry(loaded_entry, options={"names": {"102": "Sales"}})
    described = {}
    async_describe_events(hass, lambda domain, event, describe: described.update({event: describe}))
    describe = described[EVENT_CALL]
    device = extension_device(hass, loaded_entry, "101")
    dr.async_get(hass).async_update_device(device.id, name_by_user="Reception")

    def line(**data) -> dict:
        event = {"device_id": device.id, "config_entry_id": loaded_entry.entry_id, **data}
        return describe(Event(EVENT_CALL, {"extension": "101", **event}))

    assert line(event="incoming_call", caller="0301234") == {
        "name": "Reception",
        "entity_id": "sensor.extension_101_line",
        "message": "Incoming call · 0301234",
        "icon": "mdi:phone-incoming",
    }
    assert line(event="missed", caller=None)["message"] == "Missed · ?"
    assert line(event="missed", caller=None)["icon"] == "mdi:phone-missed"
    assert line(event="answered", peer="102")["message"] == "Answered · Sales"
    assert line(event="outgoing_call", called="0800", peer="0800")["message"] == (
        "Outgoing call · 0800"
    )
    assert line(event="something_new")["message"] == "something_new · ?"
    unknown_device = describe(
        Event(EVENT_CALL, {"device_id": None, "extension": "109", "event": "ended"})
    )
    assert unknown_device == {
        "name": "Extension 109",
        "message": "Ended · ?",
        "icon": "mdi:phone-hangup",
    }
