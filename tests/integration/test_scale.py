"""Many extensions: an event report costs the same, and only what changed is written."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from unittest.mock import patch

import pytest
from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx.const import DOMAIN
from custom_components.pbx.event import ExtensionCallEvent
from pbx_protocols.panasonic import codec
from pbx_protocols.panasonic.simulator import SimulatorConfig
from tests.common import wait_until

NUMBERS = tuple(str(n) for n in range(200, 500))


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    return SimulatorConfig(port=0, extensions=NUMBERS, keepalive_interval=60.0)


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, entry) -> AsyncIterator[MockConfigEntry]:
    """The entry, with 200's call event entity enabled (at this size they start disabled)."""
    entry.add_to_hass(hass)
    er.async_get(hass).async_get_or_create(
        "event",
        DOMAIN,
        f"{entry.entry_id}_200_call",
        config_entry=entry,
        suggested_object_id="extension_200_call",
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


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
    event_state = EventEntity.state.fget

    def event_spy(entity: ExtensionCallEvent) -> str | None:
        shown.append(entity.entity_id)
        return event_state(entity)

    computed = tracker.snapshot_computations
    with (
        patch.object(machine, "async_set_internal", spy),
        patch.object(ExtensionCallEvent, "state", property(event_spy)),
    ):
        simulator.pbx.hold("200", call)  # reported to both; only 200's line changes
        await wait_until(lambda: hass.states.get("sensor.extension_200_line").state == "held")
        await hass.async_block_till_done()
    assert sorted(written) == ["event.extension_200_call", "sensor.extension_200_line"], written
    # An event entity works out its state (a timestamp) once per event, as Home Assistant
    # writes it: not to compare, and not again for the snapshot update that comes with it.
    assert shown == ["event.extension_200_call"], shown
    # the hub and every entity read snapshots, but only the changed one is rebuilt
    assert tracker.snapshot_computations - computed <= 2


#: What the integration and the library may keep per extension (their own allocations,
#: by tracemalloc). Home Assistant's own share (registries, states, entity objects) is
#: about 30 kB per extension at office scale, 50 kB with every call event entity enabled
#: (``script/benchmark ha``'s reference integration, recording everything).
OUR_BYTES_PER_EXTENSION = 3_500


async def test_an_extension_costs_a_few_kilobytes_of_our_memory(
    hass: HomeAssistant, entry, simulator
):
    await codec.async_prepare_decoding()  # once per process: not the extensions' cost
    tracemalloc.start()
    try:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ours = snapshot.filter_traces(
        [
            tracemalloc.Filter(True, "*/custom_components/pbx/*"),
            tracemalloc.Filter(True, "*/pbx_protocols/*"),
            tracemalloc.Filter(False, "*/simulator/*"),
        ]
    )
    per_extension = sum(stat.size for stat in ours.statistics("filename")) / len(NUMBERS)
    top = ours.statistics("lineno")[:5]
    assert per_extension < OUR_BYTES_PER_EXTENSION, (per_extension, top)
    await hass.config_entries.async_unload(entry.entry_id)
