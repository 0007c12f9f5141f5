"""Config flow: a menu of hardware types, each tested before it is configured.

The forms of each hardware family live in its module under ``hardware/``; this flow only
offers the menu and routes reauthentication and reconfiguration to the entry's family.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, override

import probatio
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from pbx_protocols.core.watchdog import DEAD_LINK_TIMEOUT

from .const import (
    CONF_EXTENSIONS,
    CONF_HARDWARE,
    CONF_LINK_TIMEOUT,
    CONF_NAMES,
    CONF_PREFIXES,
    CONF_VOICE_EXTENSION,
    DOMAIN,
)
from .hardware import (
    HARDWARE_TYPES,
    AlphaComSteps,
    NbxSteps,
    PanasonicSteps,
    RemoteSteps,
    async_load_stack,
)

#: The config flow's menu: one step per hardware type.
HARDWARE_MENU: Final = list(HARDWARE_TYPES)

_PREFIX: Final = re.compile(r"[0-9*#+]+")

_LINK_TIMEOUT = NumberSelector(
    NumberSelectorConfig(
        min=10, max=600, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
    )
)


class PbxConfigFlow(PanasonicSteps, AlphaComSteps, NbxSteps, RemoteSteps, domain=DOMAIN):
    """Add a PBX: pick the hardware, say where it is, and it is tested on the spot."""

    VERSION = 1

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry[Any]) -> PbxOptionsFlow:
        """Options: shown extensions, their names, prefixes, the voice extension."""
        return PbxOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask which hardware to add."""
        return self.async_show_menu(step_id="user", menu_options=HARDWARE_MENU)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The PBX refused the stored login."""
        return await self.async_step_reauth_confirm()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change where the PBX is: the form of the entry's hardware type."""
        hardware = HARDWARE_TYPES[self._get_reconfigure_entry().data[CONF_HARDWARE]]
        if hardware.reconfigure_step is None:
            return self.async_abort(reason="nothing_to_reconfigure")
        step = getattr(self, f"async_step_{hardware.reconfigure_step}")
        result: ConfigFlowResult = await step(user_input)
        return result


class PbxOptionsFlow(OptionsFlowWithReload):
    """Which extensions to show, their names, prefixes to strip, the voice extension."""

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}

    def _known_extensions(self) -> list[str]:
        entry = self.config_entry
        if entry.state is ConfigEntryState.LOADED:
            return list(entry.runtime_data.client.extensions)
        return list(entry.options.get(CONF_EXTENSIONS) or [])

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Extensions, prefixes and the voice extension."""
        numbers = self._known_extensions()
        if not numbers:
            return self.async_abort(reason="not_connected")
        errors: dict[str, str] = {}
        options = self.config_entry.options
        hardware = HARDWARE_TYPES[self.config_entry.data[CONF_HARDWARE]]
        if user_input is not None:
            if hardware.check_options is not None:
                await async_load_stack(self.hass, hardware.stack)
                errors.update(hardware.check_options(user_input))
            prefixes = [p.strip() for p in (user_input.get(CONF_PREFIXES) or "").split(",")]
            prefixes = [p for p in prefixes if p]
            if any(not _PREFIX.fullmatch(prefix) for prefix in prefixes):
                errors[CONF_PREFIXES] = "malformed_prefixes"
            if not errors:
                self._options = {
                    # A hardware setting left out keeps the entry's (the data's) value.
                    **{k: user_input[k] for k in hardware.option_fields if k in user_input},
                    CONF_EXTENSIONS: user_input.get(CONF_EXTENSIONS) or [],
                    CONF_PREFIXES: prefixes,
                    CONF_VOICE_EXTENSION: user_input.get(CONF_VOICE_EXTENSION),
                    CONF_LINK_TIMEOUT: float(
                        user_input.get(CONF_LINK_TIMEOUT) or DEAD_LINK_TIMEOUT
                    ),
                }
                return await self.async_step_names()
        names: dict[str, str] = options.get(CONF_NAMES) or {}
        select = [
            SelectOptionDict(value=n, label=f"{names[n]} ({n})" if names.get(n) else n)
            for n in numbers
        ]
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_EXTENSIONS): SelectSelector(
                    SelectSelectorConfig(
                        options=select, multiple=True, mode=SelectSelectorMode.DROPDOWN
                    )
                ),
                probatio.Optional(CONF_PREFIXES): str,
                probatio.Optional(CONF_VOICE_EXTENSION): SelectSelector(
                    SelectSelectorConfig(options=select, mode=SelectSelectorMode.DROPDOWN)
                ),
                probatio.Optional(CONF_LINK_TIMEOUT): _LINK_TIMEOUT,
                **{probatio.Optional(key): field for key, field in hardware.option_fields.items()},
            }
        )
        suggested = user_input or {
            **{
                key: options.get(key, self.config_entry.data.get(key))
                for key in hardware.option_fields
            },
            CONF_EXTENSIONS: options.get(CONF_EXTENSIONS) or [],
            CONF_PREFIXES: ", ".join(options.get(CONF_PREFIXES) or []),
            CONF_VOICE_EXTENSION: options.get(CONF_VOICE_EXTENSION),
            CONF_LINK_TIMEOUT: options.get(CONF_LINK_TIMEOUT, DEAD_LINK_TIMEOUT),
        }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_names(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A name for each shown extension (empty: "Extension 101")."""
        shown = self._options[CONF_EXTENSIONS] or self._known_extensions()
        if user_input is not None:
            names = {n: user_input[n].strip() for n in shown if (user_input.get(n) or "").strip()}
            return self.async_create_entry(data={**self._options, CONF_NAMES: names})
        current: dict[str, str] = self.config_entry.options.get(CONF_NAMES) or {}
        schema = probatio.Schema({probatio.Optional(number): str for number in shown})
        return self.async_show_form(
            step_id="names",
            data_schema=self.add_suggested_values_to_schema(schema, current),
        )
