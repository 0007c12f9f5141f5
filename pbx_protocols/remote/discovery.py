"""Home Assistant MQTT discovery (device-based) for a bridged PBX.

A Home Assistant with only its MQTT integration gets the PBX as a device (link state) and
every extension as a device with its line state (an enum sensor, the snapshot as
attributes) and its call events (an event entity). Everything reads the bridge's own
topics, so Node-RED or openHAB see the same data.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from .. import __version__
from ..core.model import ExtensionSnapshot, LineState, PbxInfo
from .scheme import Topics

DISCOVERY_PREFIX: Final = "homeassistant"
#: The event types of the extension's event entity: the library's event kinds.
EVENT_TYPES: Final = (
    "originated",
    "ringing",
    "answered",
    "held",
    "retrieved",
    "transferred",
    "diverted",
    "conferenced",
    "ended",
    "missed",
    "failed",
    "call_request",
)
_ORIGIN: Final = {
    "name": "pbx-protocols",
    "sw": __version__,
    "url": "https://github.com/pbx-protocols/pbx-protocols",
}


class Discovery:
    """Discovery configurations for one site."""

    def __init__(self, topics: Topics, prefix: str = DISCOVERY_PREFIX) -> None:
        self.topics = topics
        self.prefix = prefix

    @property
    def _pbx_id(self) -> str:
        return f"pbx_{self.topics.site}"

    def _availability(self, *, needs_link: bool = True) -> list[dict[str, str]]:
        """Available while the bridge is online (and, for extensions, its PBX link is up)."""
        link = " and value_json.link == 'connected'" if needs_link else ""
        template = f"{{{{ 'online' if value_json.state == 'online'{link} else 'offline' }}}}"
        return [{"topic": self.topics.status, "value_template": template}]

    def pbx(self, info: PbxInfo) -> tuple[str, bytes]:
        """The PBX's device: is the link up."""
        components = {
            "link": {
                "p": "binary_sensor",
                "name": "Link",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "unique_id": f"{self._pbx_id}_link",
                "default_entity_id": f"binary_sensor.{_slug(self._pbx_id)}_link",
                "state_topic": self.topics.status,
                "value_template": "{{ 'ON' if value_json.link == 'connected' else 'OFF' }}",
            }
        }
        device = {
            "ids": [self._pbx_id],
            "name": f"{info.model} ({self.topics.site})",
            "mf": info.vendor,
            "mdl": info.model,
            "sw": info.firmware,
        }
        # The link sensor says "off" while the PBX is away; only a gone bridge hides it.
        return self._config(self._pbx_id, device, components, needs_link=False)

    @property
    def pbx_topic(self) -> str:
        """Where the PBX's discovery configuration lives."""
        return self._topic(self._pbx_id)

    def extension_topic(self, number: str) -> str:
        """Where an extension's discovery configuration lives."""
        return self._topic(f"{self._pbx_id}_{number}")

    def extension(self, snapshot: ExtensionSnapshot, info: PbxInfo) -> tuple[str, bytes]:
        """An extension's device: its line state and its call events."""
        number = snapshot.number
        object_id = f"{self._pbx_id}_{number}"
        state_topic = self.topics.extension(number)
        components = {
            "line": {
                "p": "sensor",
                "name": "Line",
                "device_class": "enum",
                "options": [state.value for state in LineState if state is not LineState.UNKNOWN],
                "unique_id": f"{object_id}_line",
                "default_entity_id": f"sensor.{_slug(object_id)}_line",
                "state_topic": state_topic,
                "value_template": (
                    "{{ value_json.state if value_json.state != 'unknown' else None }}"
                ),
                "json_attributes_topic": state_topic,
                "json_attributes_template": (
                    "{{ {'caller': value_json.caller, 'called': value_json.called, "
                    "'peer': value_json.peer, 'direction': value_json.direction, "
                    "'call_id': value_json.call_id, 'active_calls': value_json.active_calls} "
                    "| tojson }}"
                ),
            },
            "call": {
                "p": "event",
                "name": "Call",
                "event_types": list(EVENT_TYPES),
                "unique_id": f"{object_id}_call",
                "default_entity_id": f"event.{_slug(object_id)}_call",
                "state_topic": self.topics.extension_event(number),
                "value_template": (
                    "{{ {'event_type': value_json.event, 'caller': value_json.calling, "
                    "'called': value_json.called, 'peer': value_json.peer, "
                    "'call_id': value_json.call_id} | tojson }}"
                ),
            },
        }
        device = {
            "ids": [object_id],
            "name": snapshot.name or f"Extension {number}",
            "mf": info.vendor,
            "mdl": "Extension",
            "via_device": self._pbx_id,
        }
        return self._config(object_id, device, components)

    def _config(
        self,
        object_id: str,
        device: dict[str, Any],
        components: dict[str, Any],
        *,
        needs_link: bool = True,
    ) -> tuple[str, bytes]:
        payload = {
            # Home Assistant refuses a null where it expects a string: leave unknowns out.
            "dev": {key: value for key, value in device.items() if value is not None},
            "o": _ORIGIN,
            "cmps": components,
            "availability": self._availability(needs_link=needs_link),
            "qos": 1,
        }
        return self._topic(object_id), json.dumps(payload).encode()

    def _topic(self, object_id: str) -> str:
        # The site's own node level lets a broker ACL confine each bridge to its topics.
        return f"{self.prefix}/device/{self._pbx_id}/{object_id}/config"


def _slug(text: str) -> str:
    """An entity id part: site and number keep the ids apart (two sites both have 101)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
