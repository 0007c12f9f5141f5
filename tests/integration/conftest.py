"""Fixtures: a real Home Assistant core (test harness) and the simulated PBX on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx.const import CONF_HARDWARE, DOMAIN, HARDWARE_PANASONIC_LAN
from pbx_protocols.core.disk_cache import set_cache_directory
from pbx_protocols.panasonic.simulator import SimulatorConfig

EXTENSIONS = ("101", "102", "103", "104")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load the integration from this repository."""


@pytest.fixture(autouse=True)
def library_cache_directory() -> Iterator[None]:
    """The integration points the library's cache at the test's Home Assistant: undo it."""
    yield
    set_cache_directory(None)


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    return SimulatorConfig(port=0, extensions=EXTENSIONS, keepalive_interval=1.0)


def lan_data(port: int, **extra: Any) -> dict[str, Any]:
    return {
        CONF_HARDWARE: HARDWARE_PANASONIC_LAN,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: port,
        CONF_USERNAME: None,
        CONF_PASSWORD: None,
        **extra,
    }


@pytest.fixture
def entry(simulator) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Panasonic PBX (127.0.0.1)",
        data=lan_data(simulator.port),
        unique_id=f"127.0.0.1:{simulator.port}",
    )


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> AsyncIterator[MockConfigEntry]:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    yield entry
    # Unload while the simulator still runs, so the client does not try to reconnect.
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
