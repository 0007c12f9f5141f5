"""The integration's actions: call control on an extension's line sensor (or its device).

Targets are resolved here rather than by Home Assistant's entity-service helper, which
skips a target that does not exist (or is no extension line) with a log line and reports
success. A person who typed ``sensor.reception_line`` wrongly must hear so.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

import probatio
from homeassistant.components.sensor import DATA_COMPONENT as SENSOR_COMPONENT
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.target import TargetSelection, async_extract_referenced_entity_ids
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
#: What makes an entity an extension's line (its unique id ends so).
_LINE_SUFFIX: Final = "_line"

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
        hass.services.async_register(
            DOMAIN, name, _handler(hass, method), schema=cv.make_entity_service_schema(schema)
        )


def _handler(
    hass: HomeAssistant, method: str
) -> Callable[[ServiceCall], Coroutine[Any, Any, None]]:
    async def handle(call: ServiceCall) -> None:
        data = {
            key: value for key, value in call.data.items() if key not in cv.ENTITY_SERVICE_FIELDS
        }
        for entity_id in _lines(hass, call):
            entity = hass.data[SENSOR_COMPONENT].get_entity(entity_id)
            if entity is None or not entity.available:
                raise _error("line_unavailable", _name(hass, entity_id), HomeAssistantError)
            await getattr(entity, method)(**data)

    return handle


def _lines(hass: HomeAssistant, call: ServiceCall) -> list[str]:
    """The extension lines a call targets; raise if any target is not one."""
    selected = async_extract_referenced_entity_ids(hass, TargetSelection(call.data))
    entities = er.async_get(hass)
    for device_id in selected.missing_devices:
        raise _error("target_not_found", device_id)
    lines = []
    for entity_id in sorted(selected.referenced | selected.indirectly_referenced):
        entry = entities.async_get(entity_id)
        if entry is None and hass.states.get(entity_id) is None:
            raise _error("target_not_found", entity_id)
        if (
            entry is not None
            and entry.platform == DOMAIN
            and entry.unique_id.endswith(_LINE_SUFFIX)
        ):
            lines.append(entity_id)
        elif entity_id in selected.referenced:
            raise _error("target_not_a_line", _name(hass, entity_id))
    line_devices = {entry.device_id for e in lines if (entry := entities.async_get(e))}
    for device_id in TargetSelection(call.data).device_ids - line_devices:
        if device_id not in selected.missing_devices:
            device = dr.async_get(hass).async_get(device_id)
            name = (device.name_by_user or device.name) if device else None
            raise _error("target_not_a_line", name or device_id)
    if not lines:
        raise _error("target_not_a_line", ", ".join(sorted(selected.referenced)) or "?")
    return lines


def _is_line(entry: er.RegistryEntry | None) -> bool:
    return entry is not None and entry.platform == DOMAIN and entry.unique_id.endswith(_LINE_SUFFIX)


def _name(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    return f"{state.name} ({entity_id})" if state is not None else entity_id


def _error(
    key: str, target: str, kind: type[HomeAssistantError] = ServiceValidationError
) -> HomeAssistantError:
    return kind(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"target": target},
    )
