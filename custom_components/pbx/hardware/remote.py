"""Remote PBXs through Home Assistant's own MQTT integration (no second broker connection).

The library's :class:`~pbx_protocols.remote.client.RemoteClient` does the work; this module
only plugs Home Assistant's MQTT client into it as its publish/subscribe, finds the sites
that announce themselves, and asks a site's bridge to withdraw its own MQTT discovery so no
entity appears twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import probatio
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
)

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.errors import ConnectionFailed, ProtocolError
from pbx_protocols.core.watchdog import DEAD_LINK_TIMEOUT
from pbx_protocols.remote.pubsub import ConnectionHandler, MessageHandler

from ..const import (
    CONF_HARDWARE,
    CONF_SITE,
    CONF_TOPIC_PREFIX,
    CONF_WITHDRAW_DISCOVERY,
    HARDWARE_REMOTE,
)
from .base import HardwareSteps, HardwareType, async_load_stack

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

#: How long the config flow listens for sites announcing themselves (their status is
#: retained, so the broker hands every site over at once; this only covers a slow link).
SITE_SEARCH_SECONDS: Final = 2.0


class HassMqttPubSub:
    """The library's pub/sub over Home Assistant's MQTT client."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish through Home Assistant's MQTT client."""
        from homeassistant.components import mqtt

        try:
            await mqtt.async_publish(self.hass, topic, payload, qos=qos, retain=retain)
        except HomeAssistantError as err:
            raise ConnectionFailed(f"MQTT is not available: {err}") from err

    async def subscribe(self, topic_filter: str, handler: MessageHandler) -> Callable[[], None]:
        """Subscribe; payloads arrive as bytes, exactly as the bridge sent them."""
        from homeassistant.components import mqtt

        @callback
        def receive(message: ReceiveMessage) -> None:
            payload = message.payload
            handler(message.topic, payload if isinstance(payload, bytes) else str(payload).encode())

        try:
            unsubscribe = await mqtt.async_subscribe(
                self.hass, topic_filter, receive, 1, encoding=None
            )
        except HomeAssistantError as err:
            raise ConnectionFailed(f"MQTT is not available: {err}") from err

        def safely() -> None:
            # After the MQTT entry went away its subscriptions are gone with it.
            with contextlib.suppress(Exception):
                unsubscribe()

        return safely

    def subscribe_connection(self, handler: ConnectionHandler) -> Callable[[], None]:
        """Follow Home Assistant's broker connection."""
        from homeassistant.components import mqtt

        @callback
        def changed(connected: bool) -> None:
            handler(connected)

        return mqtt.async_subscribe_connection_status(self.hass, changed)


async def async_mqtt_ready(hass: HomeAssistant) -> bool:
    """Whether Home Assistant's MQTT integration is set up (waiting while it starts)."""
    from homeassistant.components import mqtt

    return await mqtt.async_wait_for_mqtt_client(hass)


#: The stack; the functions below import from it once it is loaded.
_STACK: Final = "pbx_protocols.remote.client"


def _remote_client(hass: HomeAssistant, data: Mapping[str, Any], link_timeout: float) -> PbxClient:
    from pbx_protocols.remote.client import RemoteClient
    from pbx_protocols.remote.scheme import DEFAULT_PREFIX

    # The bridge watches the PBX link itself; the site's status says when it is gone.
    return RemoteClient(
        HassMqttPubSub(hass),
        data[CONF_SITE],
        prefix=data.get(CONF_TOPIC_PREFIX) or DEFAULT_PREFIX,
        name=f"remote PBX {data[CONF_SITE]}",
    )


async def async_find_sites(hass: HomeAssistant, prefix: str) -> dict[str, bool]:
    """Sites announcing themselves under ``prefix``: name -> whether the bridge is online."""
    from pbx_protocols.remote.scheme import SITE_NAME, decode

    sites: dict[str, bool] = {}

    def on_status(topic: str, data: bytes) -> None:
        site = topic.split("/")[-2]
        if not data or not SITE_NAME.fullmatch(site):
            return  # a cleared status, or not one of ours
        try:
            sites[site] = decode(data).get("state") == "online"
        except ProtocolError:
            return

    unsubscribe = await HassMqttPubSub(hass).subscribe(f"{prefix}/+/status", on_status)
    try:
        await asyncio.sleep(SITE_SEARCH_SECONDS)
    finally:
        unsubscribe()
    return dict(sorted(sites.items()))


async def async_set_bridge_discovery(
    hass: HomeAssistant, data: Mapping[str, Any], enabled: bool | None
) -> None:
    """Ask the site's bridge to withdraw (False) or restore (True) its MQTT discovery.

    ``None`` clears the request, so the bridge goes back to what it was started with.
    """
    from pbx_protocols.remote.scheme import DEFAULT_PREFIX, Topics, discovery_payload, encode

    topics = Topics(data[CONF_SITE], data.get(CONF_TOPIC_PREFIX) or DEFAULT_PREFIX)
    payload = b"" if enabled is None else encode(discovery_payload(enabled))
    await HassMqttPubSub(hass).publish(topics.discovery, payload, qos=1, retain=True)


async def _entry_loaded(hass: HomeAssistant, data: Mapping[str, Any]) -> None:
    if data.get(CONF_WITHDRAW_DISCOVERY):
        await async_set_bridge_discovery(hass, data, False)


async def _entry_removed(hass: HomeAssistant, data: Mapping[str, Any]) -> None:
    if data.get(CONF_WITHDRAW_DISCOVERY):
        await async_set_bridge_discovery(hass, data, None)  # the bridge's own default again


REMOTE: Final = HardwareType(
    HARDWARE_REMOTE,
    _remote_client,
    stack=_STACK,
    async_entry_loaded=_entry_loaded,
    async_entry_removed=_entry_removed,
)


class RemoteSteps(HardwareSteps):
    """The config-flow steps of a remote site: which topic prefix, then which site."""

    _remote_prefix: str
    _remote_sites: dict[str, bool]

    async def async_step_remote(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Where the bridges publish (their topic prefix); needs Home Assistant's MQTT."""
        if not await async_mqtt_ready(self.hass):
            return self.async_abort(reason="mqtt_not_set_up")
        await async_load_stack(self.hass, _STACK)
        from pbx_protocols.remote.scheme import DEFAULT_PREFIX

        errors: dict[str, str] = {}
        if user_input is not None:
            prefix = user_input[CONF_TOPIC_PREFIX].strip().strip("/")
            if not prefix or any(c in prefix for c in "+#") or "//" in prefix:
                errors[CONF_TOPIC_PREFIX] = "invalid_topic_prefix"
            else:
                self._remote_prefix = prefix
                self._remote_sites = await async_find_sites(self.hass, prefix)
                if self._remote_sites:
                    return await self.async_step_remote_site()
                errors["base"] = "no_sites"
        schema = probatio.Schema(
            {probatio.Required(CONF_TOPIC_PREFIX, default=DEFAULT_PREFIX): str}
        )
        return self.async_show_form(
            step_id=HARDWARE_REMOTE,
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def async_step_remote_site(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick one of the sites announcing themselves; tested before it is added."""
        errors: dict[str, str] = {}
        if user_input is not None:
            await async_load_stack(self.hass, _STACK)
            site = user_input[CONF_SITE]
            data = {
                CONF_HARDWARE: HARDWARE_REMOTE,
                CONF_TOPIC_PREFIX: self._remote_prefix,
                CONF_SITE: site,
                CONF_WITHDRAW_DISCOVERY: bool(user_input.get(CONF_WITHDRAW_DISCOVERY)),
            }
            await self.async_set_unique_id(f"mqtt:{self._remote_prefix}/{site}")
            self._abort_if_unique_id_configured()
            client = _remote_client(self.hass, data, DEAD_LINK_TIMEOUT)
            error = await self.async_test_connection(client)
            if error == "cannot_connect":
                error = "site_not_ready"
            if error is None:
                title = f"{client.info.model} ({site})"
                return self.async_create_entry(title=title, data=data)
            errors["base"] = error
        options = [
            SelectOptionDict(value=site, label=site if online else f"{site} (offline)")
            for site, online in self._remote_sites.items()
        ]
        schema = probatio.Schema(
            {
                probatio.Required(CONF_SITE): SelectSelector(SelectSelectorConfig(options=options)),
                probatio.Required(CONF_WITHDRAW_DISCOVERY, default=True): bool,
            }
        )
        return self.async_show_form(
            step_id="remote_site",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )
