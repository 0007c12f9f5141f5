"""Diagnostics: the link, the extensions and their calls, without secrets or numbers."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from . import PbxConfigEntry
from .const import CONF_NAMES, CONF_PHONES, CONF_USB_SERIAL_NUMBER

#: Logins, addresses and people's phone numbers stay out of reports users post publicly.
TO_REDACT = {
    CONF_PASSWORD,
    CONF_USERNAME,
    CONF_HOST,
    CONF_USB_SERIAL_NUMBER,
    CONF_NAMES,
    CONF_PHONES,  # names of people beside their phones
    "calling",
    "called",
    "peer",
    "unique_id",
    "name",  # the client's name carries the PBX's address
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PbxConfigEntry
) -> dict[str, Any]:
    """Return what helps to understand a problem with the link or the call states."""
    hub = entry.runtime_data
    client = hub.client
    extensions = {
        number: {
            "line_state": snapshot.line_state.value,
            "calls": [
                {**asdict(call), "started": call.started.isoformat() if call.started else None}
                for call in snapshot.calls
            ],
        }
        for number, snapshot in client.extensions.items()
    }
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "pbx": {**asdict(client.info), "connection_state": client.connection_state.value},
            "capabilities": sorted(c.value for c in client.capabilities),
            "link": client.link_statistics(),
            "shown_extensions": hub.shown_extensions,
            "extensions": extensions,
        },
        TO_REDACT,
    )
