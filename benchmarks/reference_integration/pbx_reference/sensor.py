"""Each extension's line sensor, as ``pbx`` has it: idle, with no call."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import ReferenceConfigEntry, extension_numbers
from .entity import ReferenceExtensionEntity

LINE_STATES: Final = ["idle", "dialing", "ringing", "talking", "held", "offline"]
UNRECORDED_LINE_ATTRIBUTES: Final = frozenset(
    {"caller", "called", "peer", "peer_name", "direction", "call_id", "active_calls"}
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ReferenceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A line sensor per extension."""
    async_add_entities(ReferenceLine(hass, entry, number) for number in extension_numbers(entry))


class ReferenceLine(ReferenceExtensionEntity, SensorEntity):
    """A line that rings when the reference's load calls it."""

    _attr_translation_key = "line_state"
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = LINE_STATES
    _attr_native_value = "idle"
    _unrecorded_attributes = UNRECORDED_LINE_ATTRIBUTES

    def __init__(self, hass: HomeAssistant, entry: ReferenceConfigEntry, number: str) -> None:
        super().__init__(hass, entry, number, "line")
        self._call: tuple[str, str] | None = None

    async def async_added_to_hass(self) -> None:
        """Let the load write this line."""
        await super().async_added_to_hass()
        extension = self.entry.runtime_data[self.extension]
        extension.line_entity_id = self.entity_id
        extension.write_line = self._write

    def _write(self, state: str, call_id: str | None, caller: str | None) -> None:
        self._attr_native_value = state
        self._call = (call_id, caller) if call_id and caller else None
        self.async_write_ha_state()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The current call, as ``pbx`` shows it."""
        call_id, caller = self._call or (None, None)
        return {
            "extension": self.extension,
            "caller": caller,
            "called": self.extension if call_id else None,
            "peer": caller,
            "peer_name": caller,
            "direction": "incoming" if call_id else None,
            "call_id": call_id,
            "active_calls": 1 if call_id else 0,
        }
