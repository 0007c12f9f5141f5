"""Device triggers of an extension: it starts ringing, an incoming call, answered, ..."""

from __future__ import annotations

from typing import Final

import probatio
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.components.homeassistant.triggers import state
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_ENTITY_ID,
    CONF_EVENT_DATA,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, EVENT_CALL

#: "The line starts ringing": the line sensor turning to ringing (not a waiting call).
TRIGGER_RINGING: Final = "ringing"
#: Triggers on the bus event, by its event type.
EVENT_TRIGGERS: Final = [
    "incoming_call",
    "outgoing_call",
    "answered",
    "missed",
    "ended",
    "call_request",
]
TRIGGER_TYPES: Final = [TRIGGER_RINGING, *EVENT_TRIGGERS]
#: Offered only by extensions of PBXs that send call requests (intercom exchanges).
TRIGGER_CALL_REQUEST: Final = "call_request"

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {probatio.Required(CONF_TYPE): probatio.In(TRIGGER_TYPES)}
)


def _line_sensor(hass: HomeAssistant, device_id: str) -> str | None:
    registry = er.async_get(hass)
    for entry in er.async_entries_for_device(registry, device_id):
        if entry.platform == DOMAIN and entry.unique_id.endswith("_line"):
            return entry.entity_id
    return None


def _is_extension(hass: HomeAssistant, device_id: str) -> bool:
    device = dr.async_get(hass).async_get(device_id)
    return isinstance(device, dr.DeviceEntry) and device.via_device_id is not None


def _sends_call_requests(hass: HomeAssistant, device_id: str) -> bool:
    device = dr.async_get(hass).async_get(device_id)
    entry_id = device.config_entry_id if device else None
    entry = hass.config_entries.async_get_entry(entry_id) if entry_id else None
    hub = getattr(entry, "runtime_data", None) if entry else None
    return hub is not None and bool(hub.client.sends_call_requests)


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """Every extension offers the call triggers; the PBX itself offers none.

    Call requests are offered only where the PBX sends them (intercom exchanges).
    """
    if not _is_extension(hass, device_id):
        return []
    types = [t for t in TRIGGER_TYPES if t != TRIGGER_CALL_REQUEST]
    if _sends_call_requests(hass, device_id):
        types.append(TRIGGER_CALL_REQUEST)
    return [
        {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id, CONF_TYPE: t}
        for t in types
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Attach a state trigger (ringing) or an event trigger (everything else)."""
    if config[CONF_TYPE] == TRIGGER_RINGING:
        entity_id = _line_sensor(hass, config[CONF_DEVICE_ID])
        state_config = state.TRIGGER_STATE_SCHEMA(
            {
                CONF_PLATFORM: "state",
                CONF_ENTITY_ID: [entity_id] if entity_id else [],
                state.CONF_TO: "ringing",
            }
        )
        return await state.async_attach_trigger(
            hass, state_config, action, trigger_info, platform_type="device"
        )
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            event_trigger.CONF_EVENT_TYPE: EVENT_CALL,
            CONF_EVENT_DATA: {
                CONF_DEVICE_ID: config[CONF_DEVICE_ID],
                "event": config[CONF_TYPE],
            },
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
