"""Logbook lines: one per call event ("Missed call · 0301234567") and per call record.

Each line has the event's icon, links to the extension's line sensor and is worded from
the integration's translations (the event types' names), so it reads in Home Assistant's
language; numbers are shown by name where they are named extensions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .const import CONF_NAMES, DOMAIN, EVENT_CALL, EVENT_RECORD
from .wording import DATA_WORDING

#: Who the event is with, by event type: the caller for calls coming in, else the peer.
_PARTY = {"incoming_call": "caller", "missed": "caller", "diverted": "caller", "failed": "called"}
#: A number the PBX did not tell.
_UNKNOWN = "?"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[Event[Mapping[str, Any]]], dict[str, str]]], None
    ],
) -> None:
    """Describe the call event and the call record."""

    def extension(data: Mapping[str, Any]) -> dict[str, str]:
        """The extension's name and a link to its line."""
        wording = hass.data.get(DATA_WORDING)
        template = wording.extension_name if wording else "{number}"
        described = {LOGBOOK_ENTRY_NAME: template.replace("{number}", f"{data.get('extension')}")}
        device = dr.async_get(hass).async_get(data.get("device_id") or "")
        if device is not None:
            described[LOGBOOK_ENTRY_NAME] = device.name_by_user or device.name or ""
            for entity in er.async_entries_for_device(er.async_get(hass), device.id):
                if entity.unique_id.endswith("_line"):
                    described[LOGBOOK_ENTRY_ENTITY_ID] = entity.entity_id
        return described

    def named(data: Mapping[str, Any], number: str | None) -> str:
        """A number as a person says it: a named extension by its name."""
        if not number:
            return _UNKNOWN
        entry = hass.config_entries.async_get_entry(data.get("config_entry_id") or "")
        names: dict[str, str] = (entry.options.get(CONF_NAMES) or {}) if entry else {}
        return names.get(number) or number

    @callback
    def describe(event: Event[Mapping[str, Any]]) -> dict[str, str]:
        data = event.data
        kind = str(data.get("event"))
        wording = hass.data.get(DATA_WORDING)
        name = wording.event_names.get(kind, kind) if wording else kind
        party = data.get(_PARTY.get(kind, "peer")) or data.get("peer")
        described = {**extension(data), LOGBOOK_ENTRY_MESSAGE: f"{name} · {named(data, party)}"}
        if wording is not None and kind in wording.event_icons:
            described[LOGBOOK_ENTRY_ICON] = wording.event_icons[kind]
        return described

    @callback
    def describe_record(event: Event[Mapping[str, Any]]) -> dict[str, str]:
        data = event.data
        parts = [f"{named(data, data.get('caller'))} → {named(data, data.get('called'))}"]
        if duration := data.get("duration"):
            parts.append(_duration(duration))
        if condition := data.get("condition"):
            parts.append(str(condition).replace("_", " "))
        described = {**extension(data), LOGBOOK_ENTRY_MESSAGE: " · ".join(parts)}
        if (wording := hass.data.get(DATA_WORDING)) is not None:
            described[LOGBOOK_ENTRY_ICON] = wording.record_icon
        return described

    async_describe_event(DOMAIN, EVENT_CALL, describe)
    async_describe_event(DOMAIN, EVENT_RECORD, describe_record)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"
