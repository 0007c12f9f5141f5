"""Sensors: each extension's line state, and the PBX's active calls and last caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.model import Capability, ExtensionSnapshot

from . import PbxConfigEntry
from .const import LINE_STATES, PBX_SENSOR_MIN_WRITE_INTERVAL
from .entity import PbxEntity, PbxExtensionEntity, add_extension_entities
from .hub import LastCall, PbxHub

# Push only: nothing to update in parallel; actions go through the PBX's own queue.
PARALLEL_UPDATES = 0

_NOTHING = object()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the PBX's sensors, and a line sensor per extension (now and when discovered)."""
    hub = entry.runtime_data
    async_add_entities([ActiveCallsSensor(hub), LastCallerSensor(hub)])
    add_extension_entities(hub, async_add_entities, LineStateSensor)


class LineStateSensor(PbxExtensionEntity, SensorEntity):
    """What an extension's line is doing; also the target of the call-control actions."""

    _attr_translation_key = "line_state"
    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = LINE_STATES
    # Who is calling changes with every call: the recorder would look up a new attribute
    # set each time (milliseconds on a busy PBX). The logbook keeps the numbers instead.
    _unrecorded_attributes = frozenset(
        {"caller", "called", "peer", "peer_name", "direction", "call_id", "active_calls"}
    )

    def __init__(self, hub: PbxHub, number: str) -> None:
        super().__init__(hub, number, "line")
        #: The snapshot the attributes were built from, and them: compared before each
        #: write and read again by Home Assistant, they are built once per change.
        self._described: object = _NOTHING
        self._attributes: dict[str, Any] = {}

    def _shown(self) -> tuple[object, ...]:
        # An ENUM's state is its native value as it is: comparing that spares the sensor's
        # conversion, which Home Assistant does again when it writes.
        return (self.available, self.native_value, self.extra_state_attributes)

    @property
    def native_value(self) -> str | None:
        """The line state (None while unknown)."""
        snapshot = self.snapshot
        state = snapshot.line_state.value if snapshot else None
        return state if state in LINE_STATES else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The current call: who, with whom, which way; and how many calls there are."""
        snapshot = self.snapshot
        if snapshot is not self._described:  # snapshots are replaced, never changed
            self._described = snapshot
            self._attributes = self._describe(snapshot)
        return self._attributes

    def _describe(self, snapshot: ExtensionSnapshot | None) -> dict[str, Any]:
        call = snapshot.current_call if snapshot else None
        return {
            "extension": self.extension,
            "caller": self.hub.normalize(call.calling) if call else None,
            "called": self.hub.normalize(call.called) if call else None,
            "peer": self.hub.normalize(call.peer) if call else None,
            "peer_name": self.hub.party_name(call.peer) if call else None,
            "direction": call.direction.value if call and call.direction else None,
            "call_id": call.call_id if call else None,
            "active_calls": len(snapshot.calls) if snapshot else 0,
        }

    # -- actions (registered in services.py) --------------------------------------------

    async def _act(
        self,
        action: Capability,
        run: Callable[[PbxClient], Awaitable[None]],
        number: str | None = None,
    ) -> None:
        await self.hub.async_call(action, self.extension, run, number=number)

    async def async_make_call(self, number: str) -> None:
        """Call ``number`` from this extension."""
        await self._act(
            Capability.MAKE_CALL, lambda client: client.make_call(self.extension, number), number
        )

    async def async_answer_call(self, call_id: str | None = None) -> None:
        """Answer the ringing call."""
        await self._act(
            Capability.ANSWER_CALL, lambda client: client.answer_call(self.extension, call_id)
        )

    async def async_hang_up(self, call_id: str | None = None) -> None:
        """Hang up the current call."""
        await self._act(Capability.HANG_UP, lambda client: client.hang_up(self.extension, call_id))

    async def async_hold_call(self, call_id: str | None = None) -> None:
        """Put the conversation on hold."""
        await self._act(
            Capability.HOLD_CALL, lambda client: client.hold_call(self.extension, call_id)
        )

    async def async_retrieve_call(self, call_id: str | None = None) -> None:
        """Take the held call back."""
        await self._act(
            Capability.RETRIEVE_CALL, lambda client: client.retrieve_call(self.extension, call_id)
        )

    async def async_transfer_call(self, number: str, call_id: str | None = None) -> None:
        """Transfer the call to ``number`` (the result waits for the target to ring)."""
        await self._act(
            Capability.TRANSFER_CALL,
            lambda client: client.transfer_call(self.extension, number, call_id),
            number,
        )

    async def async_dial_digits(self, digits: str, call_id: str | None = None) -> None:
        """Send DTMF digits on the call."""
        await self._act(
            Capability.DIAL_DIGITS,
            lambda client: client.dial_digits(self.extension, digits, call_id),
        )

    async def async_display_text(self, text: str) -> None:
        """Show text on the station's display."""
        await self._act(
            Capability.DISPLAY_TEXT, lambda client: client.display_text(self.extension, text)
        )

    async def async_send_message(self, text: str) -> None:
        """Send a text message to the station."""
        await self._act(
            Capability.SEND_MESSAGE, lambda client: client.send_message(self.extension, text)
        )


class ActiveCallsSensor(PbxEntity, SensorEntity):
    """Calls going on right now across the PBX."""

    _attr_translation_key = "active_calls"
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    # It changes with every call; useful for statistics, noisy on a busy PBX.
    _attr_entity_registry_enabled_default = False
    _min_write_interval = PBX_SENSOR_MIN_WRITE_INTERVAL

    def __init__(self, hub: PbxHub) -> None:
        super().__init__(hub, "active_calls")

    @property
    def native_value(self) -> int:
        """The number of distinct calls."""
        return self.hub.active_calls


class LastCallerSensor(PbxEntity, RestoreSensor):
    """The number of the last caller from outside (kept across restarts).

    Calls between extensions do not count: users want to know who called the company.
    """

    _attr_translation_key = "last_caller"
    # Only the number is history: with the extension and who answered recorded, every
    # call would make a new attribute set (a database lookup on a busy PBX); the logbook
    # keeps both through the call events.
    _unrecorded_attributes = frozenset({"extension", "answered_by", "time", "call_id"})
    _ATTRIBUTES = ("extension", "answered_by", "time", "call_id")
    _min_write_interval = PBX_SENSOR_MIN_WRITE_INTERVAL

    def __init__(self, hub: PbxHub) -> None:
        super().__init__(hub, "last_caller")
        self._attr_extra_state_attributes = dict.fromkeys(self._ATTRIBUTES)
        #: The call the attributes were last built for (None: the restored ones).
        self._described: LastCall | None = None

    async def async_added_to_hass(self) -> None:
        """Restore the last caller, then follow new calls (from what was restored)."""
        if (last := await self.async_get_last_sensor_data()) is not None:
            self._attr_native_value = last.native_value
        if (state := await self.async_get_last_state()) is not None:
            self._attr_extra_state_attributes = {
                key: state.attributes.get(key) for key in self._ATTRIBUTES
            }
        await super().async_added_to_hass()

    @property
    def available(self) -> bool:
        """The last caller stays known while the link is down."""
        return True

    def _shown(self) -> tuple[object, ...]:
        # Brought up to date when asked, at most once a second: built once per new call.
        last = self.hub.last_call
        if last is not None and last is not self._described:
            self._described = last
            self._attr_native_value = last.caller
            self._attr_extra_state_attributes = {
                "extension": last.extension,
                "answered_by": last.answered_by,
                "time": last.timestamp.isoformat(),
                "call_id": last.call_id,
            }
        return super()._shown()
