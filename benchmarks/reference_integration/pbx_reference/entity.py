"""The base of the reference's extension entities (as ``pbx``'s ``PbxExtensionEntity``)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity

from . import ReferenceConfigEntry, extension_device_info


class ReferenceExtensionEntity(Entity):
    """An entity of one extension, on the extension's device."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, hass: HomeAssistant, entry: ReferenceConfigEntry, number: str, key: str
    ) -> None:
        self.entry = entry
        self.extension = number
        self._attr_unique_id = f"{entry.entry_id}_{number}_{key}"
        self._attr_device_info = extension_device_info(hass, entry, number)
