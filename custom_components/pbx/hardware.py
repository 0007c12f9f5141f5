"""Which library client serves which hardware type: the one table new PBX types extend."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME

from pbx_protocols.core.client import PbxClient
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig, UsbSettings

from .const import (
    CONF_HARDWARE,
    CONF_USB_PRODUCT_ID,
    CONF_USB_SERIAL_NUMBER,
    CONF_USB_VENDOR_ID,
    HARDWARE_PANASONIC_LAN,
    HARDWARE_PANASONIC_USB,
)


def _panasonic_lan(data: Mapping[str, Any]) -> PbxClient:
    return PanasonicClient(
        PanasonicConfig(
            host=data[CONF_HOST],
            port=data[CONF_PORT],
            username=data.get(CONF_USERNAME) or None,
            password=data.get(CONF_PASSWORD) or None,
        )
    )


def _panasonic_usb(data: Mapping[str, Any]) -> PbxClient:
    settings = UsbSettings(
        vendor_id=data[CONF_USB_VENDOR_ID],
        product_id=data.get(CONF_USB_PRODUCT_ID),
        serial_number=data.get(CONF_USB_SERIAL_NUMBER),
    )
    return PanasonicClient(PanasonicConfig(usb=settings))


CLIENT_FACTORIES: dict[str, Callable[[Mapping[str, Any]], PbxClient]] = {
    HARDWARE_PANASONIC_LAN: _panasonic_lan,
    HARDWARE_PANASONIC_USB: _panasonic_usb,
}

#: Hardware types whose PBX may ask for a login (they offer reauthentication).
HARDWARE_WITH_LOGIN = frozenset({HARDWARE_PANASONIC_LAN})


def create_client(data: Mapping[str, Any]) -> PbxClient:
    """Build the library client for a config entry's data."""
    return CLIENT_FACTORIES[data[CONF_HARDWARE]](data)
