"""Each extension's call event entity, as ``pbx`` has it (it never fires here)."""

from __future__ import annotations

from typing import Final

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import CONF_EXTENSIONS, ReferenceConfigEntry, extension_numbers
from .entity import ReferenceExtensionEntity

CALL_EVENT_TYPES: Final = [
    "incoming_call",
    "outgoing_call",
    "answered",
    "held",
    "retrieved",
    "transferred",
    "diverted",
    "conferenced",
    "missed",
    "ended",
    "failed",
    "call_request",
]
ICONS: Final = {"incoming_call": "mdi:phone-incoming", "missed": "mdi:phone-missed"}
#: As ``pbx``'s: above this many extensions the call event entities start disabled (a test
#: pins the two).
CALL_EVENT_ENTITIES_ENABLED_UP_TO: Final = 100
UNRECORDED_CALL_ATTRIBUTES: Final = frozenset(
    {"call_id", "caller", "called", "peer", "direction", "icon"}
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ReferenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A call event entity per extension."""
    async_add_entities(ReferenceCall(hass, entry, number) for number in extension_numbers(entry))


class ReferenceCall(ReferenceExtensionEntity, EventEntity):
    """Fires when the reference's load calls the extension."""

    _attr_translation_key = "call"
    _attr_event_types = CALL_EVENT_TYPES
    _unrecorded_attributes = UNRECORDED_CALL_ATTRIBUTES

    def __init__(self, hass: HomeAssistant, entry: ReferenceConfigEntry, number: str) -> None:
        super().__init__(hass, entry, number, "call")
        count: int = entry.data[CONF_EXTENSIONS]
        self._attr_entity_registry_enabled_default = count <= CALL_EVENT_ENTITIES_ENABLED_UP_TO

    async def async_added_to_hass(self) -> None:
        """Let the load fire this entity."""
        await super().async_added_to_hass()
        self.entry.runtime_data[self.extension].fire_event = self._fire

    def _fire(self, event_type: str, call_id: str, caller: str) -> None:
        self._attr_icon = ICONS[event_type]
        self._trigger_event(
            event_type,
            {
                "call_id": call_id,
                "caller": caller,
                "called": self.extension,
                "peer": caller,
                "direction": "incoming",
            },
        )
        self.async_write_ha_state()
