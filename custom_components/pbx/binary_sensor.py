"""Whether the link to the PBX is up."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import PbxConfigEntry
from .entity import PbxEntity
from .hub import PbxHub

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the connectivity sensor."""
    async_add_entities([PbxConnectivity(entry.runtime_data)])


class PbxConnectivity(PbxEntity, BinarySensorEntity):
    """On while the link to the PBX is up; never unavailable itself."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, hub: PbxHub) -> None:
        super().__init__(hub, "connectivity")

    @property
    def available(self) -> bool:
        """Always available: being off is the information."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether the link is up."""
        return self.hub.available
