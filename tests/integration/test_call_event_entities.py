"""At office scale the extensions' call event entities start disabled; below it, enabled."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.pbx.const import CALL_EVENT_ENTITIES_ENABLED_UP_TO, EVENT_CALL
from pbx_protocols.panasonic.simulator import SimulatorConfig
from tests.common import wait_until


@pytest.fixture
def simulator_config(request: pytest.FixtureRequest) -> SimulatorConfig:
    numbers = tuple(str(number) for number in range(200, 200 + request.param))
    return SimulatorConfig(port=0, extensions=numbers, keepalive_interval=60.0)


@pytest.mark.parametrize(
    ("simulator_config", "enabled"),
    [(CALL_EVENT_ENTITIES_ENABLED_UP_TO, True), (CALL_EVENT_ENTITIES_ENABLED_UP_TO + 1, False)],
    indirect=["simulator_config"],
    ids=["up-to-the-limit", "office"],
)
async def test_call_event_entities_start_disabled_at_office_scale(
    hass: HomeAssistant, loaded_entry, simulator, simulator_config, enabled
):
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, loaded_entry.entry_id)
    calls = [entity for entity in entities if entity.domain == "event"]
    lines = [entity for entity in entities if entity.unique_id.endswith("_line")]
    count = len(simulator_config.extensions)
    assert len(calls) == len(lines) == count  # registered either way: enabled in one step
    disabled_by = None if enabled else er.RegistryEntryDisabler.INTEGRATION
    assert {entity.disabled_by for entity in calls} == {disabled_by}
    assert {entity.disabled_by for entity in lines} == {None}
    assert (hass.states.get("event.extension_200_call") is not None) is enabled
    # Without the event entity, a call still reaches automations and the line sensor.
    fired = []
    hass.bus.async_listen(EVENT_CALL, fired.append)
    simulator.pbx.incoming_call("0301234567", "200")
    await wait_until(lambda: hass.states.get("sensor.extension_200_line").state == "ringing")
    await wait_until(lambda: any(e.data["event"] == "incoming_call" for e in fired))
