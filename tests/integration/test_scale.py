"""Many extensions: an event report costs the same, and only what changed is written."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant

from custom_components.pbx.event import ExtensionCallEvent
from pbx_protocols.panasonic.simulator import SimulatorConfig
from tests.common import wait_until

NUMBERS = tuple(str(n) for n in range(200, 500))


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    return SimulatorConfig(port=0, extensions=NUMBERS, keepalive_interval=60.0)


async def test_an_event_report_writes_only_what_it_changed(
    hass: HomeAssistant, loaded_entry, simulator
):
    tracker = loaded_entry.runtime_data.client.tracker
    call = simulator.pbx.make_call("200", "201")
    simulator.pbx.answer("201", call)
    await wait_until(lambda: hass.states.get("sensor.extension_201_line").state == "talking")
    await hass.async_block_till_done()
    written: list[str] = []
    machine = type(hass.states)
    original = machine.async_set_internal

    def spy(states, entity_id: str, *args, **kwargs):
        written.append(entity_id)
        return original(states, entity_id, *args, **kwargs)

    shown: list[str] = []
    event_shown = ExtensionCallEvent._shown

    def event_spy(entity: ExtensionCallEvent) -> tuple[object, ...]:
        shown.append(entity.entity_id)
        return event_shown(entity)

    computed = tracker.snapshot_computations
    with (
        patch.object(machine, "async_set_internal", spy),
        patch.object(ExtensionCallEvent, "_shown", event_spy),
    ):
        simulator.pbx.hold("200", call)  # reported to both; only 200's line changes
        await wait_until(lambda: hass.states.get("sensor.extension_200_line").state == "held")
        await hass.async_block_till_done()
    assert sorted(written) == ["event.extension_200_call", "sensor.extension_200_line"], written
    # An event entity works out what it shows (a timestamp, the call) only for its event,
    # not again for the snapshot update that comes with it.
    assert shown == ["event.extension_200_call"], shown
    # the hub and every entity read snapshots, but only the changed one is rebuilt
    assert tracker.snapshot_computations - computed <= 2
