"""Config flow: a menu of hardware types, each tested before it is configured."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any, Final, override

import probatio
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from pbx_protocols.core.errors import (
    AuthenticationFailed,
    DiscoveryFailed,
    PbxError,
    UnexpectedError,
)
from pbx_protocols.core.watchdog import DEAD_LINK_TIMEOUT
from pbx_protocols.panasonic import (
    DEFAULT_PORT,
    PANASONIC_VENDOR_ID,
    UsbDeviceInfo,
    UsbSettings,
    find_usb_devices,
)

from .const import (
    CONF_EXTENSIONS,
    CONF_HARDWARE,
    CONF_LINK_TIMEOUT,
    CONF_NAMES,
    CONF_PREFIXES,
    CONF_USB_DEVICE,
    CONF_USB_PRODUCT_ID,
    CONF_USB_SERIAL_NUMBER,
    CONF_USB_VENDOR_ID,
    CONF_VOICE_EXTENSION,
    CONNECT_TIMEOUT,
    DOMAIN,
    HARDWARE_PANASONIC_LAN,
    HARDWARE_PANASONIC_USB,
)
from .hardware import create_client

_LOGGER = logging.getLogger(__name__)

#: The config flow's menu: one step per hardware type (AlphaCom and NBX add theirs here).
HARDWARE_MENU: Final = [HARDWARE_PANASONIC_LAN, HARDWARE_PANASONIC_USB]

_HEX_ID: Final = re.compile(r"(0x)?[0-9a-fA-F]{1,4}")
_PREFIX: Final = re.compile(r"[0-9*#+]+")

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX))
_LINK_TIMEOUT = NumberSelector(
    NumberSelectorConfig(
        min=10, max=600, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
    )
)

LAN_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_HOST): str,
        probatio.Required(CONF_PORT, default=DEFAULT_PORT): _PORT,
        probatio.Optional(CONF_USERNAME): str,
        probatio.Optional(CONF_PASSWORD): _PASSWORD,
    }
)
USB_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_USB_VENDOR_ID, default=f"{PANASONIC_VENDOR_ID:04x}"): str,
        probatio.Optional(CONF_USB_PRODUCT_ID): str,
    }
)
LOGIN_SCHEMA = probatio.Schema(
    {probatio.Optional(CONF_USERNAME): str, probatio.Optional(CONF_PASSWORD): _PASSWORD}
)


async def async_test_connection(data: Mapping[str, Any]) -> str | None:
    """Connect, associate and read the extensions; return an error key or None."""
    client = create_client(data)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await client.connect()
    except AuthenticationFailed:
        return "invalid_auth"
    except DiscoveryFailed:
        return "no_extensions"
    except UnexpectedError:
        return "unknown"  # the library logged it with its traceback
    except (PbxError, TimeoutError) as err:
        _LOGGER.debug("Cannot connect to %s: %s", client.name, err)
        return "cannot_connect"
    except Exception:
        _LOGGER.exception("Unexpected error connecting to %s", client.name)
        return "unknown"
    finally:
        await client.close()
    return None


def _parse_hex_id(text: str | None) -> int | None:
    if not text:
        return None
    if not _HEX_ID.fullmatch(text.strip()):
        raise ValueError(text)
    return int(text.strip(), 16)


def _lan_unique_id(data: Mapping[str, Any]) -> str:
    return f"{data[CONF_HOST].strip().lower()}:{int(data[CONF_PORT])}"


def _lan_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    return {
        CONF_HARDWARE: HARDWARE_PANASONIC_LAN,
        CONF_HOST: user_input[CONF_HOST].strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_USERNAME: user_input.get(CONF_USERNAME) or None,
        CONF_PASSWORD: user_input.get(CONF_PASSWORD) or None,
    }


def _usb_data(device: UsbDeviceInfo) -> dict[str, Any]:
    return {
        CONF_HARDWARE: HARDWARE_PANASONIC_USB,
        CONF_USB_VENDOR_ID: device.vendor_id,
        CONF_USB_PRODUCT_ID: device.product_id,
        CONF_USB_SERIAL_NUMBER: device.serial_number,
    }


class PbxConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a PBX: pick the hardware, say where it is, and it is tested on the spot."""

    VERSION = 1

    def __init__(self) -> None:
        self._usb_devices: dict[str, UsbDeviceInfo] = {}

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry[Any]) -> PbxOptionsFlow:
        """Options: shown extensions, their names, prefixes, the voice extension."""
        return PbxOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask which hardware to add."""
        return self.async_show_menu(step_id="user", menu_options=HARDWARE_MENU)

    # -- Panasonic over LAN -------------------------------------------------------------

    async def async_step_panasonic_lan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A KX-TDA/TDE/NS on the LAN."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _lan_data(user_input)
            await self.async_set_unique_id(_lan_unique_id(data))
            self._abort_if_unique_id_configured()
            error = await async_test_connection(data)
            if error is None:
                return self.async_create_entry(
                    title=f"Panasonic PBX ({data[CONF_HOST]})", data=data
                )
            errors["base"] = error
        return self.async_show_form(
            step_id=HARDWARE_PANASONIC_LAN,
            data_schema=self.add_suggested_values_to_schema(LAN_SCHEMA, user_input),
            errors=errors,
        )

    # -- Panasonic over USB -------------------------------------------------------------

    async def _async_scan_usb(
        self, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> list[UsbDeviceInfo]:
        try:
            vendor = _parse_hex_id(user_input[CONF_USB_VENDOR_ID])
            product = _parse_hex_id(user_input.get(CONF_USB_PRODUCT_ID))
        except ValueError:
            errors["base"] = "invalid_usb_id"
            return []
        settings = UsbSettings(vendor_id=vendor or PANASONIC_VENDOR_ID, product_id=product)
        try:
            devices = await self.hass.async_add_executor_job(find_usb_devices, settings)
        except PbxError as err:
            _LOGGER.debug("USB scan failed: %s", err)
            errors["base"] = "usb_unavailable"
            return []
        if not devices:
            errors["base"] = "no_usb_devices"
        return devices

    async def async_step_panasonic_usb(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A KX-TDA on a USB port: which vendor and product ids to look for."""
        errors: dict[str, str] = {}
        if user_input is not None:
            devices = await self._async_scan_usb(user_input, errors)
            if devices:
                self._usb_devices = {device.identifier: device for device in devices}
                return await self.async_step_panasonic_usb_device()
        return self.async_show_form(
            step_id=HARDWARE_PANASONIC_USB,
            data_schema=self.add_suggested_values_to_schema(USB_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_panasonic_usb_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick one of the USB devices found."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device = self._usb_devices[user_input[CONF_USB_DEVICE]]
            await self.async_set_unique_id(f"usb:{device.identifier}")
            self._abort_if_unique_id_configured()
            data = _usb_data(device)
            error = await async_test_connection(data)
            if error is None:
                title = f"Panasonic PBX (USB {device.product or device.identifier})"
                return self.async_create_entry(title=title, data=data)
            errors["base"] = error
        options = [
            SelectOptionDict(
                value=identifier, label=f"{device.product or 'USB device'} ({identifier})"
            )
            for identifier, device in self._usb_devices.items()
        ]
        schema = probatio.Schema(
            {
                probatio.Required(CONF_USB_DEVICE): SelectSelector(
                    SelectSelectorConfig(options=options)
                )
            }
        )
        return self.async_show_form(
            step_id="panasonic_usb_device", data_schema=schema, errors=errors
        )

    # -- reauthentication ---------------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The PBX refused the stored login."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new login and try it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            login = {
                CONF_USERNAME: user_input.get(CONF_USERNAME) or None,
                CONF_PASSWORD: user_input.get(CONF_PASSWORD) or None,
            }
            error = await async_test_connection({**entry.data, **login})
            if error is None:
                return self.async_update_reload_and_abort(entry, data_updates=login)
            errors["base"] = error
        suggested = user_input or {CONF_USERNAME: entry.data.get(CONF_USERNAME)}
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(LOGIN_SCHEMA, suggested),
            errors=errors,
            description_placeholders={"pbx": entry.title},
        )

    # -- reconfiguration ----------------------------------------------------------------

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change where the PBX is (new address, other USB ids)."""
        entry = self._get_reconfigure_entry()
        if entry.data[CONF_HARDWARE] == HARDWARE_PANASONIC_USB:
            return await self.async_step_reconfigure_usb(user_input)
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _lan_data(user_input)
            unique_id = _lan_unique_id(data)
            if unique_id != entry.unique_id:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
            error = await async_test_connection(data)
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, unique_id=unique_id, data_updates=data
                )
            errors["base"] = error
        suggested = user_input or {
            key: entry.data.get(key) for key in (CONF_HOST, CONF_PORT, CONF_USERNAME)
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(LAN_SCHEMA, suggested),
            errors=errors,
        )

    async def async_step_reconfigure_usb(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Other USB ids for the same PBX."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            devices = await self._async_scan_usb(user_input, errors)
            if devices:
                serial = entry.data.get(CONF_USB_SERIAL_NUMBER)
                device = next((d for d in devices if d.serial_number == serial), devices[0])
                data = _usb_data(device)
                error = await async_test_connection(data)
                if error is None:
                    return self.async_update_reload_and_abort(entry, data_updates=data)
                errors["base"] = error
        suggested = user_input or {
            CONF_USB_VENDOR_ID: f"{entry.data[CONF_USB_VENDOR_ID]:04x}",
            CONF_USB_PRODUCT_ID: f"{entry.data[CONF_USB_PRODUCT_ID]:04x}"
            if entry.data.get(CONF_USB_PRODUCT_ID) is not None
            else None,
        }
        return self.async_show_form(
            step_id="reconfigure_usb",
            data_schema=self.add_suggested_values_to_schema(USB_SCHEMA, suggested),
            errors=errors,
        )


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
        if user_input is not None:
            prefixes = [p.strip() for p in (user_input.get(CONF_PREFIXES) or "").split(",")]
            prefixes = [p for p in prefixes if p]
            if any(not _PREFIX.fullmatch(prefix) for prefix in prefixes):
                errors[CONF_PREFIXES] = "malformed_prefixes"
            else:
                self._options = {
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
            }
        )
        suggested = user_input or {
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
