"""Panasonic KX-TDA/TDE/NS: on the LAN (CSTA over TCP, with a login) or on a USB port."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import probatio
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.errors import PbxError
from pbx_protocols.core.watchdog import DEAD_LINK_TIMEOUT
from pbx_protocols.panasonic.settings import DEFAULT_PORT, PANASONIC_VENDOR_ID

from ..const import (
    CONF_HARDWARE,
    CONF_USB_DEVICE,
    CONF_USB_PRODUCT_ID,
    CONF_USB_SERIAL_NUMBER,
    CONF_USB_VENDOR_ID,
    HARDWARE_PANASONIC_LAN,
    HARDWARE_PANASONIC_USB,
)
from .base import HardwareSteps, HardwareType, async_load_stack

if TYPE_CHECKING:
    from pbx_protocols.panasonic.usb_settings import UsbDeviceInfo

_LOGGER = logging.getLogger(__name__)

_HEX_ID: Final = re.compile(r"(0x)?[0-9a-fA-F]{1,4}")

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX))

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


#: The stack; the functions below import from it once it is loaded.
_STACK: Final = "pbx_protocols.panasonic.client"
#: What the USB step needs to list devices: the USB link's module (it loads pyusb).
_USB_TRANSPORT: Final = "pbx_protocols.panasonic.transport_usb"


def _lan_client(hass: HomeAssistant, data: Mapping[str, Any], link_timeout: float) -> PbxClient:
    from pbx_protocols.panasonic.client import PanasonicClient, PanasonicConfig

    return PanasonicClient(
        PanasonicConfig(
            host=data[CONF_HOST],
            port=data[CONF_PORT],
            username=data.get(CONF_USERNAME) or None,
            password=data.get(CONF_PASSWORD) or None,
            link_timeout=link_timeout,
        )
    )


def _usb_client(hass: HomeAssistant, data: Mapping[str, Any], link_timeout: float) -> PbxClient:
    from pbx_protocols.panasonic.client import PanasonicClient, PanasonicConfig
    from pbx_protocols.panasonic.usb_settings import UsbSettings

    settings = UsbSettings(
        vendor_id=data[CONF_USB_VENDOR_ID],
        product_id=data.get(CONF_USB_PRODUCT_ID),
        serial_number=data.get(CONF_USB_SERIAL_NUMBER),
    )
    return PanasonicClient(PanasonicConfig(usb=settings, link_timeout=link_timeout))


PANASONIC_LAN: Final = HardwareType(
    HARDWARE_PANASONIC_LAN,
    _lan_client,
    stack=_STACK,
    reconfigure_step="reconfigure_lan",
    has_login=True,
)
PANASONIC_USB: Final = HardwareType(
    HARDWARE_PANASONIC_USB, _usb_client, stack=_STACK, reconfigure_step="reconfigure_usb"
)


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


class PanasonicSteps(HardwareSteps):
    """The config-flow steps of the Panasonic hardware types."""

    _usb_devices: dict[str, UsbDeviceInfo]

    async def _async_test(self, data: Mapping[str, Any]) -> str | None:
        hardware = PANASONIC_LAN if data[CONF_HARDWARE] == HARDWARE_PANASONIC_LAN else PANASONIC_USB
        await async_load_stack(self.hass, _STACK)
        return await self.async_test_connection(
            hardware.create_client(self.hass, data, DEAD_LINK_TIMEOUT)
        )

    # -- on the LAN -----------------------------------------------------------------------

    async def async_step_panasonic_lan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A KX-TDA/TDE/NS on the LAN."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _lan_data(user_input)
            await self.async_set_unique_id(_lan_unique_id(data))
            self._abort_if_unique_id_configured()
            error = await self._async_test(data)
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

    # -- on a USB port ----------------------------------------------------------------------

    async def _async_scan_usb(
        self, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> list[UsbDeviceInfo]:
        await async_load_stack(self.hass, _USB_TRANSPORT)
        from pbx_protocols.panasonic.transport_usb import find_usb_devices
        from pbx_protocols.panasonic.usb_settings import UsbSettings

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
            error = await self._async_test(data)
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

    # -- a new login ------------------------------------------------------------------------

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
            error = await self._async_test({**entry.data, **login})
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

    # -- somewhere else ---------------------------------------------------------------------

    async def async_step_reconfigure_lan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new address (or login) for the same PBX."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _lan_data(user_input)
            unique_id = _lan_unique_id(data)
            if unique_id != entry.unique_id:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
            error = await self._async_test(data)
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, unique_id=unique_id, data_updates=data
                )
            errors["base"] = error
        suggested = user_input or {
            key: entry.data.get(key) for key in (CONF_HOST, CONF_PORT, CONF_USERNAME)
        }
        return self.async_show_form(
            step_id="reconfigure_lan",
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
                error = await self._async_test(data)
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
