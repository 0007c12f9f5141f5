"""Base classes of the integration's entities."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity

from pbx_protocols.core.model import ExtensionSnapshot

from .hub import PbxHub


@callback
def add_extension_entities(
    hub: PbxHub,
    async_add_entities: Callable[[Iterable[Entity]], None],
    entity: Callable[[PbxHub, str], Entity],
) -> None:
    """Add ``entity(hub, number)`` for every shown extension, now and when one appears."""
    hub.add_extension_entities(
        lambda numbers: async_add_entities(entity(hub, number) for number in numbers)
    )


class PbxEntity(Entity):
    """An entity of the PBX itself."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: PbxHub, key: str) -> None:
        self.hub = hub
        self._attr_unique_id = f"{hub.entry.entry_id}_{key}"
        self._attr_device_info = hub.pbx_device_info

    @property
    def available(self) -> bool:
        """Unavailable while the link to the PBX is down."""
        return self.hub.available

    async def async_added_to_hass(self) -> None:
        """Follow the hub's changes."""
        self.async_on_remove(self.hub.subscribe_hub(self._on_hub_update))

    def _on_hub_update(self) -> None:
        self.async_write_ha_state()


class PbxExtensionEntity(Entity):
    """An entity of one extension."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: PbxHub, number: str, key: str) -> None:
        self.hub = hub
        self.extension = number
        self._attr_unique_id = f"{hub.entry.entry_id}_{number}_{key}"
        self._attr_device_info = hub.extension_device_info(number)

    @property
    def snapshot(self) -> ExtensionSnapshot | None:
        """The extension as the library sees it now."""
        return self.hub.extension(self.extension)

    @property
    def available(self) -> bool:
        """Unavailable while the link is down or the PBX no longer has this extension."""
        return self.hub.available and self.snapshot is not None

    async def async_added_to_hass(self) -> None:
        """Follow the extension's changes."""
        self.async_on_remove(self.hub.subscribe_extension(self.extension, self._on_update))

    def _on_update(self, snapshot: ExtensionSnapshot) -> None:
        self.async_write_ha_state()
