"""The integration's actions: call control on an extension's line sensor (or its device)."""

from __future__ import annotations

import probatio
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import service
from homeassistant.helpers.typing import VolDictType

from .const import (
    ATTR_CALL_ID,
    ATTR_DIGITS,
    ATTR_NUMBER,
    ATTR_TEXT,
    DOMAIN,
    SERVICE_ANSWER_CALL,
    SERVICE_DIAL_DIGITS,
    SERVICE_DISPLAY_TEXT,
    SERVICE_HANG_UP,
    SERVICE_HOLD_CALL,
    SERVICE_MAKE_CALL,
    SERVICE_RETRIEVE_CALL,
    SERVICE_SEND_MESSAGE,
    SERVICE_TRANSFER_CALL,
)

#: Long enough for any number or display; the library checks the exact rules and says why.
_SHORT_TEXT = probatio.All(cv.string, probatio.Length(max=200))
_CALL: VolDictType = {probatio.Optional(ATTR_CALL_ID): _SHORT_TEXT}

SERVICES: dict[str, tuple[VolDictType, str]] = {
    SERVICE_MAKE_CALL: ({probatio.Required(ATTR_NUMBER): _SHORT_TEXT}, "async_make_call"),
    SERVICE_ANSWER_CALL: (_CALL, "async_answer_call"),
    SERVICE_HANG_UP: (_CALL, "async_hang_up"),
    SERVICE_HOLD_CALL: (_CALL, "async_hold_call"),
    SERVICE_RETRIEVE_CALL: (_CALL, "async_retrieve_call"),
    SERVICE_TRANSFER_CALL: (
        {probatio.Required(ATTR_NUMBER): _SHORT_TEXT, **_CALL},
        "async_transfer_call",
    ),
    SERVICE_DIAL_DIGITS: (
        {probatio.Required(ATTR_DIGITS): _SHORT_TEXT, **_CALL},
        "async_dial_digits",
    ),
    SERVICE_DISPLAY_TEXT: ({probatio.Required(ATTR_TEXT): _SHORT_TEXT}, "async_display_text"),
    SERVICE_SEND_MESSAGE: ({probatio.Required(ATTR_TEXT): _SHORT_TEXT}, "async_send_message"),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action; each targets extension line sensors."""
    for name, (schema, method) in SERVICES.items():
        service.async_register_platform_entity_service(
            hass,
            DOMAIN,
            name,
            entity_domain=SENSOR_DOMAIN,
            # Only the extensions' line sensors (ENUM) carry the call-control methods.
            entity_device_classes=[SensorDeviceClass.ENUM],
            schema=schema,
            func=method,
        )
