"""Each extension's call events as an event entity (incoming call, answered, missed, ...)."""

from __future__ import annotations

from functools import partial

from homeassistant.components.event import DoorbellEventType, EventDeviceClass, EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from pbx_protocols.core.model import CallEvent, CallEventKind

from . import PbxConfigEntry
from .const import CALL_EVENT_ENTITIES_ENABLED_UP_TO, EVENT_TYPES
from .entity import PbxExtensionEventsEntity, add_extension_entities
from .hub import PbxHub
from .wording import async_load_wording

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an event entity per extension (now and when discovered)."""
    # The frontend shows an event entity with its default icon whatever happened; the
    # icon of the last event makes a missed call look different from an ended one.
    icons = (await async_load_wording(hass)).event_icons
    hub = entry.runtime_data
    add_extension_entities(hub, async_add_entities, partial(ExtensionCallEvent, icons=icons))
    if hub.client.sends_call_requests:
        add_extension_entities(hub, async_add_entities, CallRequestDoorbell)


class ExtensionCallEvent(PbxExtensionEventsEntity, EventEntity):
    """Fires on every call event of the extension, with the numbers involved."""

    _attr_translation_key = "call"
    _attr_event_types = list(EVENT_TYPES.values())  # noqa: RUF012  # HA's attribute
    # Unique per call (or multiplying the attribute sets per entity): recorded, they would
    # cost the recorder a database lookup per event. The logbook (pbx_call_event) keeps the
    # numbers; the event type is recorded.
    _unrecorded_attributes = frozenset({"call_id", "caller", "called", "peer", "direction", "icon"})

    def __init__(self, hub: PbxHub, number: str, *, icons: dict[str, str]) -> None:
        super().__init__(hub, number, "call")
        self._icons = icons
        # Read once, when Home Assistant first registers the entity.
        office = hub.shown_extension_count > CALL_EVENT_ENTITIES_ENABLED_UP_TO
        self._attr_entity_registry_enabled_default = not office

    async def async_added_to_hass(self) -> None:
        """Follow the extension's calls (and its availability)."""
        await super().async_added_to_hass()
        restored = self.state_attributes.get("event_type")  # the last event, restored
        self._attr_icon = self._icons.get(restored) if restored else None
        self.async_on_remove(self.hub.subscribe_calls(self.extension, self._on_call))

    @callback
    def _on_call(self, event: CallEvent, event_type: str) -> None:
        self._attr_icon = self._icons.get(event_type)
        self._trigger_event(
            event_type,
            {
                "call_id": event.call_id,
                "caller": self.hub.normalize(event.calling),
                "called": self.hub.normalize(event.called),
                "peer": self.hub.normalize(event.peer),
                "direction": event.direction.value if event.direction else None,
            },
        )
        self._write_now()


class CallRequestDoorbell(PbxExtensionEventsEntity, EventEntity):
    """Rings when the station asks to be called back: an intercom's call button.

    Only on PBXs that send call requests (an AlphaCom door station). A doorbell event
    entity is what HomeKit, voice assistants and doorbell cards understand; the call
    event entity fires ``call_request`` as well, for automations on all call events.
    """

    _attr_translation_key = "call_request"
    _attr_device_class = EventDeviceClass.DOORBELL
    _attr_event_types = [DoorbellEventType.RING]  # noqa: RUF012  # HA's attribute
    _unrecorded_attributes = frozenset({"call_id", "caller", "called"})

    def __init__(self, hub: PbxHub, number: str) -> None:
        super().__init__(hub, number, "call_request")

    async def async_added_to_hass(self) -> None:
        """Follow the extension's call requests (and its availability)."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.subscribe_calls(self.extension, self._on_call))

    @callback
    def _on_call(self, event: CallEvent, event_type: str) -> None:
        if event.kind is not CallEventKind.CALL_REQUEST:
            return
        self._trigger_event(
            DoorbellEventType.RING,
            {
                "call_id": event.call_id,
                "caller": self.hub.normalize(event.calling),
                "called": self.hub.normalize(event.called),
            },
        )
        self._write_now()
