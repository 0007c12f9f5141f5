"""Entity ids that follow the names given to extensions in the options.

Naming extension 101 "Reception" renames its device; Home Assistant's own device rename
then offers to rename the entity ids as well. The options flow cannot ask, so it does
what that offer does: ids still as generated from the old name ("sensor.extension_101_line")
follow the new one ("sensor.reception_line"). Ids a user chose, and devices a user
renamed, are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import slugify

from .const import DOMAIN


async def async_follow_extension_names(
    hass: HomeAssistant, entry: ConfigEntry[Any], names: Mapping[str, str]
) -> None:
    """Rename the generated entity ids of extensions whose name changed."""
    translations = await async_get_translations(hass, hass.config.language, "device", [DOMAIN])
    default = translations.get(f"component.{DOMAIN}.device.extension.name", "Extension {number}")
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    prefix = f"{entry.entry_id}_"
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        number = next(
            (ident[len(prefix) :] for domain, ident in device.identifiers
             if domain == DOMAIN and ident.startswith(prefix)),
            None,
        )  # fmt: skip
        if number is None or device.name_by_user or device.name is None:
            continue  # the PBX itself, or a name the user gave the device
        new_name = names.get(number) or default.replace("{number}", number)
        if new_name == device.name:
            continue
        for entity in er.async_entries_for_device(
            entities, device.id, include_disabled_entities=True
        ):
            _rename(hass, entities, entity, device.name, new_name)


def _rename(
    hass: HomeAssistant,
    entities: er.EntityRegistry,
    entity: er.RegistryEntry,
    old_name: str,
    new_name: str,
) -> None:
    suffix = entity.original_name or ""
    generated = f"{entity.domain}.{slugify(f'{old_name} {suffix}')}"
    if entity.entity_id != generated:
        return  # chosen by the user (or made unique by Home Assistant): keep it
    wanted = f"{entity.domain}.{slugify(f'{new_name} {suffix}')}"
    if entities.async_is_registered(wanted) or hass.states.get(wanted) is not None:
        return
    entities.async_update_entity(entity.entity_id, new_entity_id=wanted)
