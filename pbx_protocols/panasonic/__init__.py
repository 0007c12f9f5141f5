"""Panasonic KX-TDA/TDE/NS PBXs: CSTA Phase III (ECMA-285) over LAN or USB.

The names below load on first use, so that decoding (``panasonic.codec``) does not pay
for the client, asyncio and pyusb.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy_exports import lazy_exports
from .lazy_asn1tools import defer_unused_parts

if TYPE_CHECKING:
    from .client import PanasonicClient, PanasonicConfig
    from .codec import Credentials
    from .settings import DEFAULT_PORT, PANASONIC_VENDOR_ID
    from .transport_usb import find_usb_devices
    from .usb_settings import UsbDeviceInfo, UsbSettings

defer_unused_parts()  # before anything here imports asn1tools

#: Public name -> the module that defines it.
_WHERE = {
    "DEFAULT_PORT": "settings",
    "PanasonicClient": "client",
    "PanasonicConfig": "client",
    "Credentials": "codec",
    "PANASONIC_VENDOR_ID": "settings",
    "UsbDeviceInfo": "usb_settings",
    "UsbSettings": "usb_settings",
    "find_usb_devices": "transport_usb",
}

__all__ = [
    "DEFAULT_PORT",
    "PANASONIC_VENDOR_ID",
    "Credentials",
    "PanasonicClient",
    "PanasonicConfig",
    "UsbDeviceInfo",
    "UsbSettings",
    "find_usb_devices",
]


__getattr__ = lazy_exports(__name__, _WHERE)
