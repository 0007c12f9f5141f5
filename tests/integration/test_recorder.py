"""What the recorder keeps: line states and call events, not a new attribute set per call."""

from __future__ import annotations

import pytest
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from tests.common import wait_until


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_mock: Recorder, enable_custom_integrations):
    """The recorder has to start before Home Assistant does."""


@pytest.fixture
async def loaded_with_recorder(loaded_entry):
    return loaded_entry


async def test_per_call_attributes_stay_out_of_the_database(
    hass: HomeAssistant, loaded_with_recorder, simulator
):
    started = dt_util.utcnow()
    simulator.pbx.incoming_call("0301234567", "102")
    await wait_until(lambda: hass.states.get("sensor.extension_102_line").state == "ringing")
    shown = hass.states.get("sensor.extension_102_line").attributes
    assert shown["caller"] == "0301234567"  # the dashboard sees who calls
    await async_wait_recording_done(hass)

    def history() -> dict:
        return get_significant_states(
            hass,
            started,
            entity_ids=["sensor.extension_102_line", "event.extension_102_call"],
            significant_changes_only=False,
        )

    recorded = await hass.async_add_executor_job(history)
    line = recorded["sensor.extension_102_line"][-1]
    assert line.state == "ringing"
    assert "caller" not in line.attributes and "call_id" not in line.attributes
    assert line.attributes["extension"] == "102"
    event = recorded["event.extension_102_call"][-1]
    assert event.attributes["event_type"] == "incoming_call"
    assert "caller" not in event.attributes and "call_id" not in event.attributes


async def test_the_last_caller_is_recorded_without_a_new_attribute_set_per_call(
    hass: HomeAssistant, loaded_with_recorder, simulator
):
    """Who called is history; which extension rang and who answered is the logbook's."""
    started = dt_util.utcnow()
    last_caller = "sensor.kx_tda_tde_ns_last_outside_caller"
    call = simulator.pbx.incoming_call("0301234567", "102")
    simulator.pbx.answer("102", call)
    await wait_until(lambda: hass.states.get(last_caller).attributes["answered_by"] == "102")
    assert hass.states.get(last_caller).attributes["extension"] == "102"  # shown
    await async_wait_recording_done(hass)

    def history() -> dict:
        return get_significant_states(
            hass, started, entity_ids=[last_caller], significant_changes_only=False
        )

    recorded = (await hass.async_add_executor_job(history))[last_caller]
    assert recorded[-1].state == "0301234567"
    kept = set().union(*(s.attributes for s in recorded))
    assert not kept & {"extension", "answered_by", "time", "call_id"}, kept
