"""Remote sites: a real mosquitto, a bridged simulated PBX, and Home Assistant's own MQTT.

Both ways a Home Assistant sees a bridged site are covered: MQTT discovery alone (the
MQTT integration, nothing of ours), and the ``pbx`` integration's remote hardware type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.pbx.const import (
    CONF_HARDWARE,
    CONF_SITE,
    CONF_TOPIC_PREFIX,
    CONF_WITHDRAW_DISCOVERY,
    DOMAIN,
    EVENT_CALL,
    HARDWARE_REMOTE,
)
from tests.common import wait_until
from tests.mosquitto import Bridged, Mosquitto, mosquitto, needs_mosquitto

__all__ = ["mosquitto"]

pytestmark = [needs_mosquitto, pytest.mark.timeout(120)]


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A config directory with a configuration.yaml: the MQTT integration reads it."""
    (Path(hass_tmp_config_dir) / "configuration.yaml").write_text("")
    return hass_tmp_config_dir


@pytest.fixture
async def mqtt_entry(hass: HomeAssistant, mosquitto: Mosquitto) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's MQTT integration, connected to the real broker."""
    entry = MockConfigEntry(domain="mqtt", data={"broker": "127.0.0.1", "port": mosquitto.port})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def bridged(mosquitto: Mosquitto, simulator) -> AsyncIterator[Bridged]:
    async with Bridged(mosquitto, simulator) as site:
        yield site


def state(hass: HomeAssistant, entity_id: str) -> str | None:
    current = hass.states.get(entity_id)
    return None if current is None else current.state


async def test_mqtt_discovery_alone_shows_the_site(hass: HomeAssistant, bridged, mqtt_entry):
    await wait_until(lambda: state(hass, "sensor.pbx_branch_104_line") == "idle", timeout=15)
    assert state(hass, "binary_sensor.pbx_branch_link") == "on"
    registry = er.async_get(hass)
    line = registry.async_get("sensor.pbx_branch_102_line")
    assert line is not None and line.platform == "mqtt"
    call = bridged.simulator.pbx.incoming_call("0301234567", "102")
    await wait_until(lambda: state(hass, "sensor.pbx_branch_102_line") == "ringing")
    ringing = hass.states.get("sensor.pbx_branch_102_line")
    assert ringing.attributes["caller"] == "0301234567"
    assert ringing.attributes["direction"] == "incoming"
    await wait_until(
        lambda: hass.states.get("event.pbx_branch_102_call").attributes["event_type"] == "ringing"
    )
    event = hass.states.get("event.pbx_branch_102_call")
    assert event.attributes["caller"] == "0301234567"
    bridged.simulator.pbx.clear_connection("0301234567", call)
    await wait_until(lambda: state(hass, "sensor.pbx_branch_102_line") == "idle")


async def add_remote_site(hass: HomeAssistant) -> MockConfigEntry:
    """Through the config flow, as a user does it."""
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "remote" in menu["menu_options"]
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "remote"}
    )
    assert form["step_id"] == "remote"
    sites = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_TOPIC_PREFIX: "pbx"}
    )
    assert sites["step_id"] == "remote_site", sites.get("errors")
    schema = sites["data_schema"].schema
    (site_key,) = [key for key in schema if key == CONF_SITE]
    options = schema[site_key].config["options"]
    assert [option["value"] for option in options] == ["branch"]
    created = await hass.config_entries.flow.async_configure(
        sites["flow_id"], {CONF_SITE: "branch", CONF_WITHDRAW_DISCOVERY: True}
    )
    assert created["type"] is FlowResultType.CREATE_ENTRY, created.get("errors")
    assert created["title"] == "KX-TDA/TDE/NS (branch)"
    assert created["data"] == {
        CONF_HARDWARE: HARDWARE_REMOTE,
        CONF_TOPIC_PREFIX: "pbx",
        CONF_SITE: "branch",
        CONF_WITHDRAW_DISCOVERY: True,
    }
    await hass.async_block_till_done()
    return created["result"]


async def test_a_remote_site_through_the_pbx_integration(hass: HomeAssistant, bridged, mqtt_entry):
    await wait_until(lambda: state(hass, "sensor.pbx_branch_101_line") == "idle", timeout=15)
    entry = await add_remote_site(hass)
    assert entry.state is ConfigEntryState.LOADED
    # the bridge withdrew its own discovery: each extension appears once, through pbx
    await wait_until(lambda: hass.states.get("sensor.pbx_branch_101_line") is None, timeout=10)
    assert state(hass, "sensor.extension_101_line") == "idle"
    assert state(hass, "binary_sensor.kx_tda_tde_ns_branch_connectivity") == "on"

    events = async_capture_events(hass, EVENT_CALL)
    await hass.services.async_call(
        DOMAIN,
        "make_call",
        {"entity_id": "sensor.extension_101_line", "number": "102"},
        blocking=True,
    )
    await wait_until(lambda: state(hass, "sensor.extension_102_line") == "ringing")
    assert bridged.simulator.pbx.calls  # the command reached the PBX at the site
    ringing = next(e for e in events if e.data["event"] == "incoming_call")
    assert (ringing.data["extension"], ringing.data["caller"]) == ("102", "101")
    await hass.services.async_call(
        DOMAIN, "hang_up", {"entity_id": "sensor.extension_101_line"}, blocking=True
    )
    await wait_until(lambda: state(hass, "sensor.extension_102_line") == "idle")

    # the bridge goes away (its status says offline): the site's entities are unavailable
    await bridged.bridge.stop()
    await wait_until(lambda: state(hass, "sensor.extension_101_line") == STATE_UNAVAILABLE)
    await bridged.bridge.start()
    await wait_until(lambda: state(hass, "sensor.extension_101_line") == "idle", timeout=30)

    # removing the entry hands discovery back to the bridge
    await hass.config_entries.async_remove(entry.entry_id)
    await wait_until(lambda: state(hass, "sensor.pbx_branch_101_line") == "idle", timeout=15)


async def test_without_mqtt_the_remote_type_says_what_to_do(hass: HomeAssistant):
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "remote"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_set_up"


async def test_no_site_on_the_broker(hass: HomeAssistant, mqtt_entry):
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "remote"}
    )
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_TOPIC_PREFIX: "pbx"}
    )
    assert result["errors"] == {"base": "no_sites"}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_TOPIC_PREFIX: "pbx/#"}
    )
    assert result["errors"] == {CONF_TOPIC_PREFIX: "invalid_topic_prefix"}
