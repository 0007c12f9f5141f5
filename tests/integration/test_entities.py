"""Entity states through scripted calls, parallel calls, outages, new extensions."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from tests.common import wait_until

LINE = "sensor.extension_{}_line"
CALL = "event.extension_{}_call"


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    return current.state if current else "missing"


async def wait_state(hass: HomeAssistant, entity_id: str, wanted: str) -> None:
    await wait_until(lambda: state(hass, entity_id) == wanted)


async def test_a_scripted_call(hass: HomeAssistant, loaded_entry, simulator):
    call = simulator.pbx.make_call("101", "102")
    await wait_state(hass, LINE.format("102"), "ringing")
    assert state(hass, LINE.format("101")) == "dialing"
    ringing = hass.states.get(LINE.format("102"))
    assert ringing.attributes["caller"] == "101"
    assert ringing.attributes["peer"] == "101"
    assert ringing.attributes["direction"] == "incoming"
    assert ringing.attributes["extension"] == "102"
    assert ringing.attributes["active_calls"] == 1
    assert ringing.attributes["options"] == [
        "idle",
        "dialing",
        "ringing",
        "talking",
        "held",
        "offline",
    ]
    event = hass.states.get(CALL.format("102"))
    assert event.attributes["event_type"] == "incoming_call"
    assert event.attributes["caller"] == "101"

    simulator.pbx.answer("102", call)
    await wait_state(hass, LINE.format("101"), "talking")
    assert hass.states.get(CALL.format("101")).attributes["event_type"] == "answered"
    simulator.pbx.hold("101", call)
    await wait_state(hass, LINE.format("101"), "held")
    simulator.pbx.retrieve("101", call)
    await wait_state(hass, LINE.format("101"), "talking")
    simulator.pbx.clear_connection("101", call)
    await wait_state(hass, LINE.format("102"), "idle")
    assert hass.states.get(CALL.format("102")).attributes["event_type"] == "ended"
    assert hass.states.get(LINE.format("102")).attributes["caller"] is None


async def test_parallel_calls_keep_the_line_talking(hass: HomeAssistant, loaded_entry, simulator):
    """home-assistant/core#95191: a second call ending must not reset a talking line."""
    simulator.pbx.call_waiting.add("101")
    first = simulator.pbx.make_call("102", "101")
    simulator.pbx.answer("101", first)
    await wait_state(hass, LINE.format("101"), "talking")
    waiting = simulator.pbx.incoming_call("0301234567", "101")
    await wait_until(lambda: hass.states.get(LINE.format("101")).attributes["active_calls"] == 2)
    assert state(hass, LINE.format("101")) == "talking"
    simulator.pbx.clear_connection("0301234567", waiting)
    await wait_until(
        lambda: hass.states.get(CALL.format("101")).attributes["event_type"] == "missed"
    )
    assert state(hass, LINE.format("101")) == "talking"
    assert hass.states.get(LINE.format("101")).attributes["active_calls"] == 1
    simulator.pbx.clear_connection("102", first)
    await wait_state(hass, LINE.format("101"), "idle")


async def test_last_caller_and_active_calls(hass: HomeAssistant, loaded_entry, simulator):
    registry = er.async_get(hass)
    active = "sensor.panasonic_pbx_127_0_0_1_active_calls"
    registry.async_update_entity(active, disabled_by=None)
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    simulator.pbx.make_call("101", "102")
    await wait_state(hass, LINE.format("102"), "ringing")
    simulator.pbx.incoming_call("0891234", "103")
    await wait_state(hass, active, "2")
    last = hass.states.get("sensor.panasonic_pbx_127_0_0_1_last_caller")
    assert last.state == "0891234"
    assert last.attributes["extension"] == "103"


async def test_unavailable_while_the_link_is_down_and_back_by_itself(
    hass: HomeAssistant, loaded_entry, simulator, caplog
):
    simulator.set_keepalives(True)
    await simulator.drop_clients()
    await wait_state(hass, LINE.format("101"), "unavailable")
    assert state(hass, "binary_sensor.panasonic_pbx_127_0_0_1_connectivity") == "off"
    assert state(hass, "sensor.panasonic_pbx_127_0_0_1_last_caller") != "unavailable"
    await wait_state(hass, LINE.format("101"), "idle")  # reconnects after about a second
    assert state(hass, "binary_sensor.panasonic_pbx_127_0_0_1_connectivity") == "on"
    assert caplog.text.count("Lost connection") == 1
    assert caplog.text.count("restored") == 1


async def test_new_extensions_appear_without_reload(hass: HomeAssistant, loaded_entry, simulator):
    assert state(hass, LINE.format("105")) == "missing"
    simulator.pbx.add_extension("105")
    await simulator.drop_clients()  # the next association discovers it
    await wait_state(hass, LINE.format("105"), "idle")
    assert state(hass, CALL.format("105")) == "unknown"


async def test_extension_out_of_service(hass: HomeAssistant, loaded_entry, simulator):
    simulator.pbx.set_in_service("104", False)
    await wait_state(hass, LINE.format("104"), "offline")
    simulator.pbx.set_in_service("104", True)
    await wait_state(hass, LINE.format("104"), "idle")


async def test_prefixes_and_names_from_the_options(hass: HomeAssistant, loaded_entry, simulator):
    hass.config_entries.async_update_entry(
        loaded_entry, options={"prefixes": ["0"], "names": {"103": "Support"}, "extensions": []}
    )
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    simulator.pbx.incoming_call("0301234", "103")
    await wait_state(hass, LINE.format("103"), "ringing")
    assert hass.states.get(LINE.format("103")).attributes["caller"] == "301234"
    assert hass.states.get(LINE.format("103")).name == "Support Line"
