"""Logbook lines for the call event: "Reception: incoming call from 0301234567"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, EVENT_CALL, EVENT_RECORD

_MESSAGES = {
    "incoming_call": "incoming call from {caller}",
    "outgoing_call": "calling {called}",
    "answered": "talking with {peer}",
    "held": "put the call with {peer} on hold",
    "retrieved": "took the call with {peer} back",
    "transferred": "call transferred, now with {peer}",
    "diverted": "call from {caller} diverted",
    "conferenced": "conference call with {peer}",
    "missed": "missed a call from {caller}",
    "ended": "call with {peer} ended",
    "failed": "call to {called} failed",
}
UNKNOWN_NUMBER = "an unknown number"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[Event[Mapping[str, Any]]], dict[str, str]]], None
    ],
) -> None:
    """Describe the call event."""

    @callback
    def describe(event: Event[Mapping[str, Any]]) -> dict[str, str]:
        data = event.data
        device = dr.async_get(hass).async_get(data.get("device_id") or "")
        name = (device.name_by_user or device.name) if device else None
        numbers = {key: data.get(key) or UNKNOWN_NUMBER for key in ("caller", "called", "peer")}
        template = _MESSAGES.get(data.get("event", ""), "{event}")
        return {
            LOGBOOK_ENTRY_NAME: name or f"Extension {data.get('extension')}",
            LOGBOOK_ENTRY_MESSAGE: template.format(event=data.get("event"), **numbers),
        }

    @callback
    def describe_record(event: Event[Mapping[str, Any]]) -> dict[str, str]:
        data = event.data
        device = dr.async_get(hass).async_get(data.get("device_id") or "")
        name = (device.name_by_user or device.name) if device else None
        duration = data.get("duration")
        talked = f", {_duration(duration)}" if duration else ""
        condition = f" ({data['condition'].replace('_', ' ')})" if data.get("condition") else ""
        caller = data.get("caller") or UNKNOWN_NUMBER
        called = data.get("called") or UNKNOWN_NUMBER
        return {
            LOGBOOK_ENTRY_NAME: name or f"Extension {data.get('extension')}",
            LOGBOOK_ENTRY_MESSAGE: f"call record: {caller} to {called}{talked}{condition}",
        }

    async_describe_event(DOMAIN, EVENT_CALL, describe)
    async_describe_event(DOMAIN, EVENT_RECORD, describe_record)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
