"""3Com NBX: a passive monitor of the NBX's Ethernet protocol on one of the host's interfaces."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any, Final

import probatio
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.errors import ConnectionFailed, InvalidInput, PbxError

from ..const import (
    CONF_ALLOW_DISPLAY_TEXT,
    CONF_HARDWARE,
    CONF_INTERFACE,
    CONF_PHONES,
    CONF_SAMPLE_VOICE,
    HARDWARE_NBX,
)
from .base import HardwareSteps, HardwareType, async_load_stack

#: The repair issue raised when the host does not let Home Assistant open raw sockets.
ISSUE_RAW_SOCKETS: Final = "raw_socket_not_permitted"


#: The stack; the functions below import from it once it is loaded.
_STACK: Final = "pbx_protocols.nbx.client"


def _client(hass: HomeAssistant, data: Mapping[str, Any], link_timeout: float) -> PbxClient:
    from pbx_protocols.nbx.bpf import DEFAULT_VOICE_SAMPLE_RATE
    from pbx_protocols.nbx.client import NbxClient, NbxConfig
    from pbx_protocols.nbx.monitor import parse_phones

    config = NbxConfig(
        data[CONF_INTERFACE],
        phones=tuple(parse_phones(data.get(CONF_PHONES) or "")),
        voice_sample_rate=DEFAULT_VOICE_SAMPLE_RATE if data.get(CONF_SAMPLE_VOICE) else None,
        allow_display_text=bool(data.get(CONF_ALLOW_DISPLAY_TEXT)),
    )
    return NbxClient(config)


def _needs_repair(error: PbxError) -> str | None:
    from pbx_protocols.nbx.capture import RawSocketNotPermitted

    return ISSUE_RAW_SOCKETS if isinstance(error, RawSocketNotPermitted) else None


_PHONES: Final = TextSelector(TextSelectorConfig(multiline=True))


def _check_options(options: Mapping[str, Any]) -> dict[str, str]:
    from pbx_protocols.nbx.monitor import parse_phones

    try:
        parse_phones(options.get(CONF_PHONES) or "")
    except InvalidInput:
        return {CONF_PHONES: "invalid_phones"}
    return {}


NBX: Final = HardwareType(
    HARDWARE_NBX,
    _client,
    stack=_STACK,
    reconfigure_step="reconfigure_nbx",
    repair_issue=_needs_repair,
    # Phones come and go: their list is an option (Configure), not only a setup field.
    option_fields={CONF_PHONES: _PHONES},
    check_options=_check_options,
)


def _interfaces() -> list[str]:
    return sorted(name for _, name in socket.if_nameindex() if name != "lo")


async def _probe(interface: str) -> tuple[str | None, str | None]:
    """(error key, None), or (None, the entry's unique id): a raw socket and NBX traffic."""
    from pbx_protocols.nbx.capture import RawSocketNotPermitted
    from pbx_protocols.nbx.client import probe_interface
    from pbx_protocols.nbx.frames import mac_text

    try:
        probe = await probe_interface(interface)
    except RawSocketNotPermitted:
        return ISSUE_RAW_SOCKETS, None
    except ConnectionFailed:
        return "no_interface", None
    if not probe.frames:
        return "no_nbx_traffic", None
    # One entry per NBX: its call processor's MAC, from its updates.
    return None, f"nbx:{mac_text(probe.ncp)}" if probe.ncp else f"nbx:{interface}"


class NbxSteps(HardwareSteps):
    """The config-flow step of the NBX hardware type."""

    async def _async_nbx(
        self, step_id: str, user_input: dict[str, Any] | None, *, reconfigure: bool = False
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        await async_load_stack(self.hass, _STACK)
        if user_input is not None:
            entry_data = self._get_reconfigure_entry().data if reconfigure else {}
            phones = user_input.get(CONF_PHONES, entry_data.get(CONF_PHONES)) or ""
            data = {
                CONF_HARDWARE: HARDWARE_NBX,
                CONF_INTERFACE: user_input[CONF_INTERFACE].strip(),
                CONF_PHONES: phones.strip(),
                CONF_SAMPLE_VOICE: bool(user_input.get(CONF_SAMPLE_VOICE)),
                CONF_ALLOW_DISPLAY_TEXT: bool(user_input.get(CONF_ALLOW_DISPLAY_TEXT)),
            }
            errors.update(_check_options(data))
            unique_id = None
            if not errors:
                error, unique_id = await _probe(data[CONF_INTERFACE])
                if error is not None:
                    errors["base"] = error
            if unique_id is not None and reconfigure:
                return self.async_update_reload_and_abort(
                    self._get_reconfigure_entry(), data_updates=data
                )
            if unique_id is not None:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(title=f"NBX ({data[CONF_INTERFACE]})", data=data)
        interfaces = await self.hass.async_add_executor_job(_interfaces)
        fields: dict[Any, Any] = {
            probatio.Required(CONF_INTERFACE): SelectSelector(
                SelectSelectorConfig(
                    options=interfaces, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                )
            ),
            probatio.Optional(CONF_SAMPLE_VOICE, default=False): BooleanSelector(),
            probatio.Optional(CONF_ALLOW_DISPLAY_TEXT, default=False): BooleanSelector(),
        }
        if not reconfigure:  # afterwards the phones list is an option
            fields[probatio.Optional(CONF_PHONES)] = _PHONES
        schema = probatio.Schema(fields)
        suggested = user_input
        if suggested is None and reconfigure:
            suggested = dict(self._get_reconfigure_entry().data)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_nbx(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """An NBX seen from one of the host's network interfaces."""
        return await self._async_nbx("nbx", user_input)

    async def async_step_reconfigure_nbx(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Another interface, the phones list, voice sampling, display text."""
        return await self._async_nbx("reconfigure_nbx", user_input, reconfigure=True)
