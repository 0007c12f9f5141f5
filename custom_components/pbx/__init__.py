"""The PBX integration: legacy phone systems in Home Assistant.

All protocol work happens in the pbx-protocols library; this package maps its client onto
config entries, devices, entities, events and actions.
"""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from pbx_protocols.core.errors import AuthenticationFailed, PbxError

from .const import CONF_HARDWARE, CONF_NAMES, DOMAIN
from .hardware import HARDWARE_TYPES, async_create_client, async_load_stack
from .hub import PbxHub
from .naming import async_follow_extension_names
from .services import async_setup_services
from .wording import async_load_wording

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

type PbxConfigEntry = ConfigEntry[PbxHub]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (once, whatever the entries)."""
    async_setup_services(hass)
    await async_load_wording(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PbxConfigEntry) -> bool:
    """Connect to the PBX; from then on the library keeps the link up by itself."""
    client = await async_create_client(hass, entry.data, entry.options)
    hardware = HARDWARE_TYPES[entry.data[CONF_HARDWARE]]
    try:
        # No deadline of our own: every step of connecting has its own timeout in the
        # library, and a large PBX whose monitors are slow still connects.
        await client.connect()
    except AuthenticationFailed as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={"error": str(err)},
        ) from err
    except PbxError as err:
        _raise_repair_issue(hass, entry, hardware.repair_issue, err)
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err) or "timeout"},
        ) from err
    if hardware.repair_issue is not None:
        ir.async_delete_issue(hass, DOMAIN, f"{entry.entry_id}_repair")
    if hardware.async_entry_loaded is not None:
        await hardware.async_entry_loaded(hass, entry.data)
    await async_follow_extension_names(hass, entry, entry.options.get(CONF_NAMES) or {})
    hub = PbxHub(hass, entry, client)
    hub.register_pbx_device()
    hub.start()
    entry.runtime_data = hub
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


def _raise_repair_issue(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    repair_issue: Callable[[PbxError], str | None] | None,
    error: PbxError,
) -> None:
    """A repair issue when the error needs the user to change something on the host."""
    key = repair_issue(error) if repair_issue is not None else None
    if key is None:
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{entry.entry_id}_repair",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=key,
        translation_placeholders={"title": entry.title, "error": str(error)},
    )


async def async_unload_entry(hass: HomeAssistant, entry: PbxConfigEntry) -> bool:
    """Remove the entities and close the link."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: PbxConfigEntry) -> None:
    """Undo what the hardware type left outside Home Assistant (a remote site's request)."""
    hardware = HARDWARE_TYPES[entry.data[CONF_HARDWARE]]
    if hardware.async_entry_removed is not None:
        await async_load_stack(hass, hardware.stack)
        await hardware.async_entry_removed(hass, entry.data)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: PbxConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete extensions the PBX no longer has (or that are hidden)."""
    hub = entry.runtime_data
    if hub.pbx_identifier in device.identifiers:
        return False
    return not any(
        hub.extension_identifier(number) in device.identifiers for number in hub.shown_extensions
    )
