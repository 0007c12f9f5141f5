"""The integration's own words and icons at run time, from its translations and icons.json.

Entities and the frontend translate themselves; logbook lines and the event entity's
per-event icon are made in Python, so they read the same files once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.icon import async_get_icons
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, EVENT_TYPES

DATA_WORDING: Final[HassKey[Wording]] = HassKey(f"{DOMAIN}_wording")
_EVENT_TYPE_KEY: Final = f"component.{DOMAIN}.entity.event.call.state_attributes.event_type.state"


@dataclass(frozen=True, slots=True)
class Wording:
    """Event types' names (in Home Assistant's language) and icons."""

    event_names: dict[str, str]
    event_icons: dict[str, str]
    record_icon: str
    #: An extension's name when it has none of its own: "Extension {number}".
    extension_name: str


async def async_load_wording(hass: HomeAssistant) -> Wording:
    """Read the names and icons (once per Home Assistant run)."""
    if (loaded := hass.data.get(DATA_WORDING)) is not None:
        return loaded
    names = await async_get_translations(hass, hass.config.language, "entity", [DOMAIN])
    devices = await async_get_translations(hass, hass.config.language, "device", [DOMAIN])
    icons: dict[str, Any] = await async_get_icons(hass, "entity", integrations=[DOMAIN])
    event: dict[str, Any] = icons.get(DOMAIN, {}).get("event", {}).get("call", {})
    sensor: dict[str, Any] = icons.get(DOMAIN, {}).get("sensor", {})
    wording = Wording(
        event_names={
            kind: names.get(f"{_EVENT_TYPE_KEY}.{kind}", kind) for kind in EVENT_TYPES.values()
        },
        event_icons=dict(event["state_attributes"]["event_type"]["state"]),
        record_icon=sensor.get("active_calls", {}).get("default", "mdi:phone-log"),
        extension_name=devices.get(
            f"component.{DOMAIN}.device.extension.name", "Extension {number}"
        ),
    )
    hass.data[DATA_WORDING] = wording
    return wording
