"""Zenitel AlphaCom: the AlphaCom Data Protocol over TCP (61112/61113) or a serial port."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import probatio
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from pbx_protocols.alphacom.settings import (
    DEFAULT_BAUD_RATE,
    DEFAULT_PORT,
    LinkLayerKind,
    station_range,
)
from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.watchdog import DEAD_LINK_TIMEOUT

from ..const import (
    CONF_BAUD_RATE,
    CONF_DEVICE_NUMBER,
    CONF_HARDWARE,
    CONF_LINK_LAYER,
    CONF_SERIAL_PORT,
    CONF_STATIONS,
    HARDWARE_ALPHACOM_SERIAL,
    HARDWARE_ALPHACOM_TCP,
)
from .base import HardwareSteps, HardwareType, async_load_stack

_LOGGER = logging.getLogger(__name__)

_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX))
_DEVICE = NumberSelector(NumberSelectorConfig(min=1, max=64, mode=NumberSelectorMode.BOX))
_BAUD = SelectSelector(
    SelectSelectorConfig(
        options=["1200", "2400", "4800", "9600", "19200", "38400", "57600", "115200"],
        mode=SelectSelectorMode.DROPDOWN,
    )
)
_LINK = SelectSelector(
    SelectSelectorConfig(
        options=[kind.value for kind in LinkLayerKind],
        translation_key=CONF_LINK_LAYER,
        mode=SelectSelectorMode.DROPDOWN,
    )
)
_COMMON: Final = {
    probatio.Required(CONF_DEVICE_NUMBER, default=1): _DEVICE,
    probatio.Optional(CONF_STATIONS): str,
    probatio.Required(CONF_LINK_LAYER, default=LinkLayerKind.AUTO.value): _LINK,
}
TCP_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_HOST): str,
        probatio.Required(CONF_PORT, default=DEFAULT_PORT): _PORT,
        **_COMMON,
    }
)


#: The stack; the functions below import from it once it is loaded.
_STACK: Final = "pbx_protocols.alphacom.client"


def _client(hass: HomeAssistant, data: Mapping[str, Any], link_timeout: float) -> PbxClient:
    from pbx_protocols.alphacom.client import AlphaComClient, AlphaComConfig

    serial = data[CONF_HARDWARE] == HARDWARE_ALPHACOM_SERIAL
    config = AlphaComConfig(
        host=None if serial else data[CONF_HOST],
        port=int(data.get(CONF_PORT) or DEFAULT_PORT),
        serial=data[CONF_SERIAL_PORT] if serial else None,
        baud_rate=int(data.get(CONF_BAUD_RATE) or DEFAULT_BAUD_RATE),
        link=LinkLayerKind(data.get(CONF_LINK_LAYER) or LinkLayerKind.AUTO),
        device=int(data[CONF_DEVICE_NUMBER]),
        stations=station_range(data[CONF_STATIONS]) if data.get(CONF_STATIONS) else (),
        link_timeout=link_timeout,
    )
    return AlphaComClient(config)


ALPHACOM_TCP: Final = HardwareType(
    HARDWARE_ALPHACOM_TCP, _client, stack=_STACK, reconfigure_step="reconfigure_alphacom_tcp"
)
ALPHACOM_SERIAL: Final = HardwareType(
    HARDWARE_ALPHACOM_SERIAL,
    _client,
    stack=_STACK,
    reconfigure_step="reconfigure_alphacom_serial",
)


def _unique_id(data: Mapping[str, Any]) -> str:
    if data[CONF_HARDWARE] == HARDWARE_ALPHACOM_SERIAL:
        return f"alphacom:{data[CONF_SERIAL_PORT]}"
    return f"alphacom:{data[CONF_HOST].strip().lower()}:{int(data[CONF_PORT])}"


def _data(hardware: str, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's data; ValueError (naming what is wrong) for a bad station list."""
    stations = (user_input.get(CONF_STATIONS) or "").strip()
    if stations:
        station_range(stations)
    data: dict[str, Any] = {
        CONF_HARDWARE: hardware,
        CONF_DEVICE_NUMBER: int(user_input[CONF_DEVICE_NUMBER]),
        CONF_STATIONS: stations or None,
        CONF_LINK_LAYER: user_input.get(CONF_LINK_LAYER) or LinkLayerKind.AUTO.value,
    }
    if hardware == HARDWARE_ALPHACOM_SERIAL:
        data[CONF_SERIAL_PORT] = user_input[CONF_SERIAL_PORT].strip()
        data[CONF_BAUD_RATE] = int(user_input.get(CONF_BAUD_RATE) or DEFAULT_BAUD_RATE)
    else:
        data[CONF_HOST] = user_input[CONF_HOST].strip()
        data[CONF_PORT] = int(user_input[CONF_PORT])
    return data


def _list_serial_ports() -> list[SelectOptionDict]:
    import serialx  # only people with a serial exchange need it

    return [
        SelectOptionDict(
            value=port.device, label=f"{port.device} ({port.description or 'serial port'})"
        )
        for port in serialx.list_serial_ports()
    ]


class AlphaComSteps(HardwareSteps):
    """The config-flow steps of the AlphaCom hardware types."""

    async def _serial_schema(self) -> probatio.Schema:
        ports = await self.hass.async_add_executor_job(_list_serial_ports)
        return probatio.Schema(
            {
                # The ports found, or a path or URL typed in (rfc2217://, socket://).
                probatio.Required(CONF_SERIAL_PORT): SelectSelector(
                    SelectSelectorConfig(options=ports, custom_value=True)
                ),
                probatio.Required(CONF_BAUD_RATE, default=str(DEFAULT_BAUD_RATE)): _BAUD,
                **_COMMON,
            }
        )

    async def _async_alphacom(
        self,
        hardware: str,
        step_id: str,
        user_input: dict[str, Any] | None,
        *,
        reconfigure: bool = False,
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                data = _data(hardware, user_input)
            except ValueError:
                errors[CONF_STATIONS] = "invalid_stations"
            else:
                unique_id = _unique_id(data)
                entry = self._get_reconfigure_entry() if reconfigure else None
                if entry is None or unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                await async_load_stack(self.hass, _STACK)
                client = _client(self.hass, data, DEAD_LINK_TIMEOUT)
                error = await self.async_test_connection(client)
                if error is None and entry is not None:
                    return self.async_update_reload_and_abort(
                        entry, unique_id=unique_id, data_updates=data
                    )
                if error is None:
                    where = data.get(CONF_HOST) or data[CONF_SERIAL_PORT]
                    return self.async_create_entry(title=f"AlphaCom ({where})", data=data)
                errors["base"] = error
        schema = await self._serial_schema() if hardware == HARDWARE_ALPHACOM_SERIAL else TCP_SCHEMA
        suggested = user_input
        if suggested is None and reconfigure:
            suggested = {
                key: str(value) if key == CONF_BAUD_RATE else value
                for key, value in self._get_reconfigure_entry().data.items()
            }
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_alphacom_tcp(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An AlphaCom exchange on the network."""
        return await self._async_alphacom(HARDWARE_ALPHACOM_TCP, "alphacom_tcp", user_input)

    async def async_step_alphacom_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An AlphaCom exchange on a serial port (or a ser2net box)."""
        return await self._async_alphacom(HARDWARE_ALPHACOM_SERIAL, "alphacom_serial", user_input)

    async def async_step_reconfigure_alphacom_tcp(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new address for the same exchange."""
        return await self._async_alphacom(
            HARDWARE_ALPHACOM_TCP, "reconfigure_alphacom_tcp", user_input, reconfigure=True
        )

    async def async_step_reconfigure_alphacom_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Another serial port or speed for the same exchange."""
        return await self._async_alphacom(
            HARDWARE_ALPHACOM_SERIAL, "reconfigure_alphacom_serial", user_input, reconfigure=True
        )
