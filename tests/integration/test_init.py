"""Setup, unload, reload, devices, and what happens when the PBX is not there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.importlib import DATA_IMPORT_CACHE
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx import async_remove_config_entry_device
from custom_components.pbx.const import DOMAIN
from pbx_protocols.core.disk_cache import cache_directory
from pbx_protocols.panasonic.codec import Credentials
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig
from tests.common import wait_until
from tests.integration.conftest import EXTENSIONS, lan_data


async def test_setup_creates_devices_and_entities(hass: HomeAssistant, loaded_entry, simulator):
    devices = dr.async_get(hass)
    pbx = devices.async_get_device_by_identifier(
        (DOMAIN, loaded_entry.entry_id), loaded_entry.entry_id
    )
    # Named by its model, so that its entities' names stay short; the address is its serial.
    assert (pbx.manufacturer, pbx.model, pbx.name, pbx.serial_number) == (
        "Panasonic",
        "KX-TDA/TDE/NS",
        "KX-TDA/TDE/NS",
        f"127.0.0.1:{simulator.port}",
    )
    assert hass.states.get("binary_sensor.kx_tda_tde_ns_connectivity").name == (
        "KX-TDA/TDE/NS Connectivity"
    )
    for number in EXTENSIONS:
        device = devices.async_get_device_by_identifier(
            (DOMAIN, f"{loaded_entry.entry_id}_{number}"), loaded_entry.entry_id
        )
        assert device.via_device_id == pbx.id
        assert device.name == f"Extension {number}"
        assert hass.states.get(f"sensor.extension_{number}_line").state == "idle"
        assert hass.states.get(f"event.extension_{number}_call") is not None
    entities = er.async_get(hass)
    active = entities.async_get("sensor.kx_tda_tde_ns_active_calls")
    assert active.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get("binary_sensor.kx_tda_tde_ns_connectivity").state == "on"


#: The module each hardware family's client needs, and the heavy parts of each stack.
STACK_MODULES = (
    "pbx_protocols.panasonic.client",
    "pbx_protocols.alphacom.client",
    "pbx_protocols.alphacom.simulator",
    "pbx_protocols.nbx.client",
    "pbx_protocols.remote.client",
    "pbx_protocols.remote.scheme",
    "asn1tools.codecs.ber",
    "usb.core",
)


def test_importing_the_integration_loads_no_pbx_stack():
    """Every stack waits for an entry (or a config-flow step) of its own hardware."""
    probe = (
        "import importlib, sys;"
        "[importlib.import_module('custom_components.pbx.' + m) for m in ('config_flow',"
        " 'sensor', 'event', 'binary_sensor', 'diagnostics', 'device_trigger', 'logbook',"
        " 'intent', 'llm', 'services')];"
        f"print([m for m in {STACK_MODULES!r} if m in sys.modules])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"


async def test_setup_imports_its_stack_in_the_executor(hass: HomeAssistant, loaded_entry):
    """Through Home Assistant's import executor (not the event loop), and only its own."""
    imported = set(hass.data[DATA_IMPORT_CACHE])
    assert "pbx_protocols.panasonic.client" in imported
    assert imported.isdisjoint(set(STACK_MODULES) - {"pbx_protocols.panasonic.client"})


async def test_the_library_caches_in_home_assistants_cache_directory(
    hass: HomeAssistant, loaded_entry
):
    """Not in the home directory, which a container update replaces (or is not writable)."""
    assert cache_directory() == Path(hass.config.cache_path(DOMAIN))


async def test_unload_closes_the_link_and_reload_reconnects(
    hass: HomeAssistant, loaded_entry, simulator
):
    assert len(simulator.sessions) == 1
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    await wait_until(lambda: not simulator.sessions)
    assert hass.states.get("sensor.extension_101_line").state == "unavailable"
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.extension_101_line").state == "idle"
    assert len(simulator.sessions) == 1


async def test_pbx_not_there_means_retry(hass: HomeAssistant, socket_enabled):
    async with PanasonicSimulator(SimulatorConfig(port=0)) as gone:
        port = gone.port
    entry = MockConfigEntry(domain=DOMAIN, data=lan_data(port), unique_id=f"127.0.0.1:{port}")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot connect to the PBX" in entry.reason


async def test_an_unexpected_failure_while_connecting_means_retry(
    hass: HomeAssistant, simulator, entry
):
    """Whatever breaks in the library during setup, Home Assistant tries again later."""
    entry.add_to_hass(hass)
    with patch("asyncio.open_connection", side_effect=RuntimeError("a bug")):
        await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_refused_login_starts_reauthentication(hass: HomeAssistant, socket_enabled):
    config = SimulatorConfig(port=0, extensions=EXTENSIONS, credentials=Credentials("cti", "new"))
    async with PanasonicSimulator(config) as simulator:
        entry = MockConfigEntry(
            domain=DOMAIN,
            data=lan_data(simulator.port, username="cti", password="old"),
            unique_id=f"127.0.0.1:{simulator.port}",
        )
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_ERROR
        (flow,) = hass.config_entries.flow.async_progress()
        assert flow["context"]["source"] == "reauth"


async def test_only_gone_extensions_can_be_removed(hass: HomeAssistant, loaded_entry, simulator):
    devices = dr.async_get(hass)
    pbx = devices.async_get_device_by_identifier(
        (DOMAIN, loaded_entry.entry_id), loaded_entry.entry_id
    )
    present = devices.async_get_device_by_identifier(
        (DOMAIN, f"{loaded_entry.entry_id}_101"), loaded_entry.entry_id
    )
    assert not await async_remove_config_entry_device(hass, loaded_entry, pbx)
    assert not await async_remove_config_entry_device(hass, loaded_entry, present)
    gone = devices.async_get_or_create(
        config_entry_id=loaded_entry.entry_id,
        identifiers={(DOMAIN, f"{loaded_entry.entry_id}_199")},
    )
    assert await async_remove_config_entry_device(hass, loaded_entry, gone)
