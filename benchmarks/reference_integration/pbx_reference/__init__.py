"""The benchmark's reference integration: the entity model of ``pbx``, without a PBX."""

from __future__ import annotations

from typing import Final

import probatio
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util.json import JsonValueType

from .calls import CallLoad, ReferenceExtension

DOMAIN: Final = "pbx_reference"
CONF_EXTENSIONS: Final = "extensions"
PLATFORMS: Final = [Platform.EVENT, Platform.SENSOR]
#: The first extension's number; the others follow.
FIRST_EXTENSION: Final = 100
SERVICE_MAKE_CALLS: Final = "make_calls"
SERVICE_END_CALLS: Final = "end_calls"

type ReferenceConfigEntry = ConfigEntry[dict[str, ReferenceExtension]]


def extension_numbers(entry: ConfigEntry) -> list[str]:
    """The extensions the entry stands for."""
    count: int = entry.data[CONF_EXTENSIONS]
    return [str(FIRST_EXTENSION + index) for index in range(count)]


def extension_device_info(hass: HomeAssistant, entry: ConfigEntry, number: str) -> DeviceInfo:
    """An extension as a device, reached through the PBX (as ``pbx`` has it)."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"{entry.entry_id}_{number}")},
        manufacturer="Reference",
        model="Extension",
        translation_key="extension",
        translation_placeholders={"number": number},
        via_device_id=dr.async_get_device_id_by_identifier(
            hass, (DOMAIN, entry.entry_id), config_entry_id=entry.entry_id
        ),
    )


async def async_setup_entry(hass: HomeAssistant, entry: ReferenceConfigEntry) -> bool:
    """Add the PBX device, the extensions' entities, and the action that makes calls."""
    entry.runtime_data = {number: ReferenceExtension() for number in extension_numbers(entry)}
    load = CallLoad(hass, entry.entry_id, entry.runtime_data)

    async def make_calls(call: ServiceCall) -> ServiceResponse:
        late: list[JsonValueType] = [*await load.run(call.data["rate"], call.data["seconds"])]
        return {"late": late}

    hass.services.async_register(
        DOMAIN,
        SERVICE_MAKE_CALLS,
        make_calls,
        schema=probatio.Schema(
            {probatio.Required("rate"): float, probatio.Required("seconds"): float}
        ),
        supports_response=SupportsResponse.ONLY,
    )

    async def end_calls(call: ServiceCall) -> ServiceResponse:
        return {"ended": load.end_calls()}

    hass.services.async_register(
        DOMAIN, SERVICE_END_CALLS, end_calls, supports_response=SupportsResponse.ONLY
    )
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        manufacturer="Reference",
        model="PBX",
        name="Reference PBX",
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Remove the entities."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
