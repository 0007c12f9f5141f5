"""Panasonic KX-TDA/TDE/NS PBXs: CSTA Phase III (ECMA-285) over LAN or USB."""

from .client import DEFAULT_PORT, PanasonicClient, PanasonicConfig
from .codec import Credentials
from .transport_usb import PANASONIC_VENDOR_ID, UsbDeviceInfo, UsbSettings, find_usb_devices

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
