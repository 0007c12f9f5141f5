"""Panasonic KX-TDA/TDE/NS PBXs: CSTA Phase III (ECMA-285) over LAN or USB.

The names below load on first use, so that decoding (``panasonic.codec``) does not pay
for the client, asyncio and pyusb.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .lazy_asn1tools import defer_unused_parts

if TYPE_CHECKING:
    from .client import DEFAULT_PORT, PanasonicClient, PanasonicConfig
    from .codec import Credentials
    from .transport_usb import PANASONIC_VENDOR_ID, UsbDeviceInfo, UsbSettings, find_usb_devices

defer_unused_parts()  # before anything here imports asn1tools

#: Public name -> the module that defines it.
_WHERE = {
    "DEFAULT_PORT": "client",
    "PanasonicClient": "client",
    "PanasonicConfig": "client",
    "Credentials": "codec",
    "PANASONIC_VENDOR_ID": "transport_usb",
    "UsbDeviceInfo": "transport_usb",
    "UsbSettings": "transport_usb",
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


def __getattr__(name: str) -> Any:  # noqa: ANN401  # whatever the named object is
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
