"""Entity states through scripted calls, parallel calls, outages, new extensions."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import mock_restore_cache_with_extra_data

from custom_components.pbx.sensor import LastCallerSensor
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
    active = "sensor.kx_tda_tde_ns_active_calls"
    registry.async_update_entity(active, disabled_by=None)
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    internal = simulator.pbx.make_call("101", "102")
    await wait_state(hass, LINE.format("102"), "ringing")
    outside = simulator.pbx.incoming_call("0891234", "103")
    await wait_state(hass, active, "2")
    last = hass.states.get("sensor.kx_tda_tde_ns_last_outside_caller")
    assert last.state == "0891234"
    assert last.attributes["extension"] == "103"
    assert last.attributes["answered_by"] is None
    simulator.pbx.answer("103", outside)
    await wait_until(lambda: hass.states.get(last.entity_id).attributes["answered_by"] == "103")
    # A call between extensions is not an outside caller.
    simulator.pbx.clear_connection("101", internal)
    await wait_state(hass, LINE.format("101"), "idle")
    simulator.pbx.make_call("104", "101")
    await wait_state(hass, LINE.format("101"), "ringing")
    assert hass.states.get(last.entity_id).state == "0891234"
    assert last.name == "KX-TDA/TDE/NS Last outside caller"


async def test_the_last_caller_is_kept_across_restarts(hass: HomeAssistant, entry, simulator):
    last_caller = "sensor.kx_tda_tde_ns_last_outside_caller"
    attributes = {"extension": "103", "answered_by": "104", "time": "2026-12-03T08:00:00+00:00"}
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(last_caller, "0891234", {**attributes, "call_id": "7"}),
                {"native_value": "0891234", "native_unit_of_measurement": None},
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    restored = hass.states.get(last_caller)
    assert restored is not None and restored.state == "0891234"
    assert {key: restored.attributes.get(key) for key in attributes} == attributes
    simulator.pbx.clear_connection("0301111", simulator.pbx.incoming_call("0301111", "102"))
    await wait_until(lambda: state(hass, last_caller) == "0301111")
    assert hass.states.get(last_caller).attributes["extension"] == "102"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_burst_of_outside_calls_writes_the_last_caller_once_a_second(
    hass: HomeAssistant, loaded_entry, simulator
):
    """Twenty callers in a moment: the first at once, then only the latest, a second later.

    Written a hundred times a second, the one entity's chain of states costs the recorder
    time that grows with its square at every commit.
    """
    last_caller = "sensor.kx_tda_tde_ns_last_outside_caller"
    writes: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: (
            writes.append(event.data["new_state"].state)
            if event.data["entity_id"] == last_caller
            else None
        ),
    )
    shown: list[object] = []
    sensor_shown = LastCallerSensor._shown

    def spy(sensor: LastCallerSensor) -> tuple[object, ...]:
        shown.append(sensor)
        return sensor_shown(sensor)

    started = hass.loop.time()
    with patch.object(LastCallerSensor, "_shown", spy):
        for caller in range(20):
            number = f"089{caller:04}"
            simulator.pbx.clear_connection(number, simulator.pbx.incoming_call(number, "103"))
        await wait_until(lambda: writes[-1:] == ["0890019"])
    assert writes[0] == "0890000"  # a quiet moment's caller comes at once
    assert len(writes) <= 3, writes  # the rest in at most two writes, one a second
    assert hass.loop.time() - started >= 1.0 or len(writes) == 1
    # What it shows is worked out for its writes, not for each of the calls' 40 reports.
    assert len(shown) <= len(writes) + 1, len(shown)


async def test_unavailable_while_the_link_is_down_and_back_by_itself(
    hass: HomeAssistant, loaded_entry, simulator, caplog
):
    simulator.set_keepalives(True)
    await simulator.drop_clients()
    await wait_state(hass, LINE.format("101"), "unavailable")
    assert state(hass, "binary_sensor.kx_tda_tde_ns_connectivity") == "off"
    assert state(hass, "sensor.kx_tda_tde_ns_last_outside_caller") != "unavailable"
    await wait_state(hass, LINE.format("101"), "idle")  # reconnects after about a second
    assert state(hass, "binary_sensor.kx_tda_tde_ns_connectivity") == "on"
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
    await wait_state(hass, "sensor.support_line", "ringing")
    assert hass.states.get("sensor.support_line").attributes["caller"] == "301234"
    assert hass.states.get("sensor.support_line").name == "Support Line"
    assert hass.states.get("event.support_call").attributes["caller"] == "301234"


async def test_who_is_on_the_other_end_by_name(hass: HomeAssistant, loaded_entry, simulator):
    hass.config_entries.async_update_entry(
        loaded_entry, options={"names": {"101": "Reception"}, "extensions": []}
    )
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    simulator.pbx.make_call("101", "102")
    await wait_state(hass, LINE.format("102"), "ringing")
    assert hass.states.get(LINE.format("102")).attributes["peer_name"] == "Reception"
    # The entity ids follow the name, as Home Assistant's device rename offers.
    assert hass.states.get("sensor.reception_line").attributes["peer_name"] == "102"
    assert hass.states.get(LINE.format("101")) is None
    simulator.pbx.incoming_call("0301234567", "103")
    await wait_state(hass, LINE.format("103"), "ringing")
    assert hass.states.get(LINE.format("103")).attributes["peer_name"] == "0301234567"


async def test_each_kind_of_call_event_has_its_icon(hass: HomeAssistant, loaded_entry, simulator):
    """A missed call must not look like an ended one in a list of last calls."""
    missed = simulator.pbx.incoming_call("0301234567", "103")
    await wait_until(lambda: hass.states.get(CALL.format("103")).attributes.get("icon"))
    assert hass.states.get(CALL.format("103")).attributes["icon"] == "mdi:phone-incoming"
    simulator.pbx.clear_call(missed)
    await wait_until(
        lambda: hass.states.get(CALL.format("103")).attributes["event_type"] == "missed"
    )
    assert hass.states.get(CALL.format("103")).attributes["icon"] == "mdi:phone-missed"
    answered = simulator.pbx.incoming_call("0301234567", "104")
    simulator.pbx.answer("104", answered)
    simulator.pbx.clear_connection("104", answered)
    await wait_until(
        lambda: hass.states.get(CALL.format("104")).attributes["event_type"] == "ended"
    )
    assert hass.states.get(CALL.format("104")).attributes["icon"] == "mdi:phone-hangup"


async def test_ids_a_user_chose_keep_when_an_extension_is_named(
    hass: HomeAssistant, loaded_entry, simulator
):
    registry = er.async_get(hass)
    registry.async_update_entity(LINE.format("101"), new_entity_id="sensor.front_desk")
    hass.config_entries.async_update_entry(
        loaded_entry, options={"names": {"101": "Reception", "102": "Sales"}, "extensions": []}
    )
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, "sensor.front_desk") == "idle"
    assert state(hass, "event.reception_call") == "unknown"
    assert state(hass, "sensor.sales_line") == "idle"
    # Back to no name: back to the generated ids.
    hass.config_entries.async_update_entry(loaded_entry, options={"names": {}, "extensions": []})
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, "sensor.extension_102_line") == "idle"
    assert state(hass, "event.extension_101_call") == "unknown"
