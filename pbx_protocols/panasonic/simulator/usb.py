"""A pyusb backend whose only device is the simulated PBX: the USB path without a USB bus.

pyusb finds, configures and talks to this device through its public API exactly as it
does with libusb; bulk packets cross into the simulator's event loop through a queue.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from array import array
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Final

import usb.backend
import usb.core

from ...core.errors import ConnectionClosed, ProtocolError
from ...core.transport import PduLink
from ..framing import NextLayer, UsbReassembler, unwrap_next_layer, usb_packets
from ..settings import PANASONIC_VENDOR_ID

_LOGGER = logging.getLogger(__name__)

SIMULATED_PRODUCT_ID: Final = 0x0F01
"""Product id the simulated PBX reports (made up: the real one is unknown)."""

_ENDPOINT_IN: Final = 0x81
_ENDPOINT_OUT: Final = 0x02
_BULK: Final = 0x02
_GET_DESCRIPTOR: Final = 0x06
_STRING_DESCRIPTOR: Final = 0x03
_ENODEV: Final = 19
_ETIMEDOUT: Final = 110


class UsbCable(PduLink):
    """The PBX end of the simulated cable: PDUs in the loop, packets in the host's threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop, description: str) -> None:
        self.description = description
        self._loop = loop
        self._from_host: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._to_host: queue.Queue[bytes] = queue.Queue()
        self._reassembler = UsbReassembler()
        self._lock = threading.Lock()
        self.closed = False

    # host side (pyusb calls, executor threads)

    def host_wrote(self, packet: bytes) -> None:
        """A bulk OUT packet from the host."""
        with self._lock:
            if self.closed:
                raise usb.core.USBError("No such device", errno=_ENODEV)
            try:
                message = self._reassembler.feed_packet(packet)
                layer = unwrap_next_layer(message) if message is not None else None
            except ProtocolError as err:
                _LOGGER.info("Simulated PBX got bad USB data: %s", err)
                return
        if layer is not None and layer.protocol == NextLayer.CSTA:
            self._loop.call_soon_threadsafe(self._from_host.put_nowait, layer.pdu)

    def host_reads(self, timeout_ms: int) -> bytes:
        """The next bulk IN packet for the host; raises like libusb on timeout or unplug."""
        try:
            return self._to_host.get(timeout=timeout_ms / 1000)
        except queue.Empty:
            if self.closed:
                raise usb.core.USBError("No such device", errno=_ENODEV) from None
            raise usb.core.USBTimeoutError("Operation timed out", errno=_ETIMEDOUT) from None

    def host_closed(self) -> None:
        """The host released the device."""
        self._loop.call_soon_threadsafe(self._from_host.put_nowait, None)

    # PBX side (event loop)

    async def send(self, payload: bytes) -> None:
        """Queue one PDU's packets for the host."""
        if self.closed:
            raise ConnectionClosed(f"{self.description} is unplugged")
        for packet in usb_packets(payload):
            self._to_host.put(packet)

    def send_packet(self, packet: bytes) -> None:
        """Put one raw bulk packet on the way to the host: line noise, maintenance traffic."""
        self._to_host.put(packet)

    async def receive(self) -> bytes:
        """The next PDU from the host."""
        pdu = await self._from_host.get() if not self.closed else None
        if pdu is None:
            self.closed = True
            raise ConnectionClosed(f"{self.description}: the host closed the device")
        return pdu

    async def close(self) -> None:
        """Unplug: the host's next transfer fails."""
        with self._lock:
            self.closed = True


@dataclass(slots=True)
class _Handle:
    cable: UsbCable
    session: Future[None] | None = field(default=None)


class SimulatedUsbBackend(usb.backend.IBackend):  # type: ignore[misc]  # pyusb is untyped
    """One simulated KX-TDA on a simulated bus; every open starts a simulator session."""

    def __init__(
        self,
        serve: Callable[[PduLink], Coroutine[Any, Any, None]],
        loop: asyncio.AbstractEventLoop,
        *,
        serial_number: str = "SIMULATED-0001",
    ) -> None:
        super().__init__()
        self._serve = serve
        self._loop = loop
        self.serial_number = serial_number
        self.device = SimpleNamespace(name="simulated KX-TDA")
        self.strings = {1: "Panasonic", 2: "KX-TDA (simulated)", 3: serial_number}
        self.handles: list[_Handle] = []

    def enumerate_devices(self) -> Iterator[SimpleNamespace]:
        """The one simulated device."""
        yield self.device

    def get_parent(self, dev: SimpleNamespace) -> None:
        """The device hangs off the root hub."""

    def get_device_descriptor(self, dev: SimpleNamespace) -> SimpleNamespace:
        """Device descriptor (vendor Panasonic, product made up)."""
        return SimpleNamespace(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0xFF,
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=64,
            idVendor=PANASONIC_VENDOR_ID,
            idProduct=SIMULATED_PRODUCT_ID,
            bcdDevice=0x0100,
            iManufacturer=1,
            iProduct=2,
            iSerialNumber=3,
            bNumConfigurations=1,
            address=7,
            bus=1,
            port_number=1,
            port_numbers=(1,),
            speed=2,
        )

    def get_configuration_descriptor(self, dev: SimpleNamespace, config: int) -> SimpleNamespace:
        """One configuration with one interface."""
        return SimpleNamespace(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=32,
            bNumInterfaces=1,
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0x80,
            bMaxPower=50,
            extra_descriptors=[],
        )

    def get_interface_descriptor(
        self, dev: SimpleNamespace, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        """A vendor-specific interface with a bulk endpoint pair."""
        return SimpleNamespace(
            bLength=9,
            bDescriptorType=4,
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bNumEndpoints=2,
            bInterfaceClass=0xFF,
            bInterfaceSubClass=0,
            bInterfaceProtocol=0,
            iInterface=0,
            extra_descriptors=[],
        )

    def get_endpoint_descriptor(
        self, dev: SimpleNamespace, ep: int, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        """Endpoint 0x81 bulk IN, 0x02 bulk OUT, 64 bytes each."""
        return SimpleNamespace(
            bLength=7,
            bDescriptorType=5,
            bEndpointAddress=(_ENDPOINT_IN, _ENDPOINT_OUT)[ep],
            bmAttributes=_BULK,
            wMaxPacketSize=64,
            bInterval=0,
            bRefresh=0,
            bSynchAddress=0,
            extra_descriptors=[],
        )

    def open_device(self, dev: SimpleNamespace) -> _Handle:
        """Plug in: the simulator starts serving this handle."""
        handle = _Handle(UsbCable(self._loop, "usb simulated KX-TDA"))
        handle.session = asyncio.run_coroutine_threadsafe(self._serve(handle.cable), self._loop)
        self.handles.append(handle)
        return handle

    def close_device(self, dev_handle: _Handle) -> None:
        """The host let go of the device."""
        dev_handle.cable.host_closed()

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        """Only one configuration exists."""

    def get_configuration(self, dev_handle: _Handle) -> int:
        """Configuration 1 is always active."""
        return 1

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        """Nothing to claim."""

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        """Nothing to release."""

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        """No kernel driver binds to a simulated device."""
        return False

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        """Endpoints never stall."""

    def bulk_write(
        self, dev_handle: _Handle, ep: int, intf: int, data: array[int], timeout: int
    ) -> int:
        """A packet from the host to the PBX."""
        dev_handle.cable.host_wrote(bytes(data))
        return len(data)

    def bulk_read(
        self, dev_handle: _Handle, ep: int, intf: int, buff: array[int], timeout: int
    ) -> int:
        """A packet from the PBX to the host, waiting at most ``timeout`` ms."""
        packet = dev_handle.cable.host_reads(timeout)
        buff[: len(packet)] = array("B", packet)
        return len(packet)

    def ctrl_transfer(
        self,
        dev_handle: _Handle,
        bmRequestType: int,  # pyusb's parameter names
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: array[int],
        timeout: int,
    ) -> int:
        """String descriptors (manufacturer, product, serial number); nothing else."""
        if bRequest != _GET_DESCRIPTOR or wValue >> 8 != _STRING_DESCRIPTOR:
            raise usb.core.USBError("Pipe error", errno=32)
        index = wValue & 0xFF
        if index == 0:
            body = (0x0409).to_bytes(2, "little")  # supported languages: US English
        else:
            body = self.strings.get(index, "").encode("utf-16-le")
        descriptor = bytes((2 + len(body), _STRING_DESCRIPTOR)) + body
        size = min(len(descriptor), len(data))
        data[:size] = array("B", descriptor[:size])
        return size
