"""Which library client serves which hardware type: the one table new PBX types extend."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.watchdog import DEAD_LINK_TIMEOUT
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig, UsbSettings

from .const import (
    CONF_HARDWARE,
    CONF_LINK_TIMEOUT,
    CONF_USB_PRODUCT_ID,
    CONF_USB_SERIAL_NUMBER,
    CONF_USB_VENDOR_ID,
    HARDWARE_PANASONIC_LAN,
    HARDWARE_PANASONIC_USB,
)


def _panasonic_lan(data: Mapping[str, Any], link_timeout: float) -> PbxClient:
    return PanasonicClient(
        PanasonicConfig(
            host=data[CONF_HOST],
            port=data[CONF_PORT],
            username=data.get(CONF_USERNAME) or None,
            password=data.get(CONF_PASSWORD) or None,
            link_timeout=link_timeout,
        )
    )


def _panasonic_usb(data: Mapping[str, Any], link_timeout: float) -> PbxClient:
    settings = UsbSettings(
        vendor_id=data[CONF_USB_VENDOR_ID],
        product_id=data.get(CONF_USB_PRODUCT_ID),
        serial_number=data.get(CONF_USB_SERIAL_NUMBER),
    )
    return PanasonicClient(PanasonicConfig(usb=settings, link_timeout=link_timeout))


CLIENT_FACTORIES: dict[str, Callable[[Mapping[str, Any], float], PbxClient]] = {
    HARDWARE_PANASONIC_LAN: _panasonic_lan,
    HARDWARE_PANASONIC_USB: _panasonic_usb,
}

#: Hardware types whose PBX may ask for a login (they offer reauthentication).
HARDWARE_WITH_LOGIN = frozenset({HARDWARE_PANASONIC_LAN})


def create_client(data: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> PbxClient:
    """Build the library client for a config entry's data and options."""
    link_timeout = float((options or {}).get(CONF_LINK_TIMEOUT) or DEAD_LINK_TIMEOUT)
    return CLIENT_FACTORIES[data[CONF_HARDWARE]](data, link_timeout)
