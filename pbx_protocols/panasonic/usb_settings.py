"""Which USB device is the PBX, and what a USB device found looks like.

Apart from :mod:`.transport_usb` so that configuring a client, or a LAN link, does not
import pyusb: ten modules and about 400 objects that a LAN link has no use for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from .settings import PANASONIC_VENDOR_ID

PANASONIC_PBX_PRODUCT_ID: Final[int | None] = None
"""USB product id of the KX-TDA's CTI port: unknown (no public source), so None matches any
Panasonic device with a bulk endpoint pair. Read yours with ``lsusb`` and configure it."""


@dataclass(frozen=True, slots=True)
class UsbSettings:
    """Which USB device to use."""

    vendor_id: int = PANASONIC_VENDOR_ID
    product_id: int | None = PANASONIC_PBX_PRODUCT_ID
    #: Pick this device among several; bus and address change when it is replugged.
    serial_number: str | None = None
    bus: int | None = None
    address: int | None = None
    #: A pyusb backend object; None lets pyusb pick libusb.
    backend: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class UsbDeviceInfo:
    """A USB device that may be a Panasonic PBX."""

    vendor_id: int
    product_id: int
    bus: int | None
    address: int | None
    product: str | None = None
    serial_number: str | None = None

    @property
    def identifier(self) -> str:
        """A stable identifier: the serial number if the device has one, else bus/address."""
        if self.serial_number:
            return f"{self.vendor_id:04x}:{self.product_id:04x}:{self.serial_number}"
        return f"{self.vendor_id:04x}:{self.product_id:04x}@{self.bus}-{self.address}"
