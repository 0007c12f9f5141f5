"""USB link to a KX-TDA: pyusb bulk endpoints, every pyusb call in an executor thread.

The endpoints are found at run time (the first bulk IN and bulk OUT endpoint of interface
0, which is what the usb-skeleton based Linux driver of the seed document used).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

import usb.core
import usb.util

from ..core.errors import ConnectionClosed, ConnectionFailed, ProtocolError
from ..core.log_throttle import RepeatedWarning
from ..core.transport import PduLink, log_pdu
from .framing import USB_PACKET_SIZE, NextLayer, UsbReassembler, unwrap_next_layer, usb_packets
from .usb_settings import UsbDeviceInfo, UsbSettings

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

#: pyusb objects (devices, endpoints); pyusb ships no type information.
type PyusbObject = Any

#: A read returns after this long without data, so that close() is never kept waiting.
READ_POLL_MS: Final = 200
WRITE_TIMEOUT_MS: Final = 2000


def _matching_devices(settings: UsbSettings) -> list[PyusbObject]:
    criteria: dict[str, int] = {"idVendor": settings.vendor_id}
    if settings.product_id is not None:
        criteria["idProduct"] = settings.product_id
    try:
        devices = list(usb.core.find(find_all=True, backend=settings.backend, **criteria))
    except usb.core.NoBackendError as err:
        raise ConnectionFailed("no USB backend available (is libusb installed?)") from err
    return [
        device
        for device in devices
        if settings.bus in (None, device.bus)
        and settings.address in (None, device.address)
        and settings.serial_number in (None, _string(device, "serial_number"))
    ]


def _string(device: PyusbObject, attribute: str) -> str | None:
    try:
        value = getattr(device, attribute)
    except (usb.core.USBError, ValueError, NotImplementedError):
        return None  # the device has no such string, or we may not read it
    return str(value) if value else None


def _device_info(device: PyusbObject) -> UsbDeviceInfo:
    return UsbDeviceInfo(
        device.idVendor,
        device.idProduct,
        device.bus,
        device.address,
        _string(device, "product"),
        _string(device, "serial_number"),
    )


def find_usb_devices(settings: UsbSettings | None = None) -> list[UsbDeviceInfo]:
    """List the USB devices that match ``settings`` (blocking: run it in an executor)."""
    return [_device_info(device) for device in _matching_devices(settings or UsbSettings())]


def _is_bulk(direction: int) -> Callable[[PyusbObject], bool]:
    def match(endpoint: PyusbObject) -> bool:
        return bool(
            usb.util.endpoint_direction(endpoint.bEndpointAddress) == direction
            and usb.util.endpoint_type(endpoint.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
        )

    return match


def _open_device(
    settings: UsbSettings,
) -> tuple[PyusbObject, PyusbObject, PyusbObject, UsbDeviceInfo]:
    devices = _matching_devices(settings)
    if not devices:
        product = "any" if settings.product_id is None else f"{settings.product_id:04x}"
        raise ConnectionFailed(
            f"no USB device with vendor {settings.vendor_id:04x} and product {product} found"
        )
    device = devices[0]
    try:
        with contextlib.suppress(NotImplementedError, usb.core.USBError):
            if device.is_kernel_driver_active(0):
                device.detach_kernel_driver(0)
        device.set_configuration()
        interface = device.get_active_configuration()[(0, 0)]
        endpoint_out = usb.util.find_descriptor(
            interface, custom_match=_is_bulk(usb.util.ENDPOINT_OUT)
        )
        endpoint_in = usb.util.find_descriptor(
            interface, custom_match=_is_bulk(usb.util.ENDPOINT_IN)
        )
        if endpoint_out is None or endpoint_in is None:
            raise ConnectionFailed("the USB device has no bulk IN/OUT endpoint pair")
        usb.util.claim_interface(device, interface)
    except usb.core.USBError as err:
        raise ConnectionFailed(f"cannot open the USB device: {err}") from err
    return device, endpoint_in, endpoint_out, _device_info(device)


class UsbPduLink(PduLink):
    """CSTA PDUs over USB bulk transfers, with the seed's fragmentation."""

    def __init__(
        self,
        device: PyusbObject,
        endpoint_in: PyusbObject,
        endpoint_out: PyusbObject,
        info: UsbDeviceInfo,
    ) -> None:
        self._device = device
        self._in = endpoint_in
        self._out = endpoint_out
        self.info = info
        self.description = f"usb {info.identifier}"
        # One thread reads, one writes: a pending read must not delay a request.
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="pbx-usb-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="pbx-usb-write")
        self._reassembler = UsbReassembler()
        self._received: deque[bytes] = deque()
        self._bad_packets = RepeatedWarning(_LOGGER)
        self._closed = False
        # A PDU spans several packets: two senders must never interleave theirs.
        self._send_lock = asyncio.Lock()

    @classmethod
    async def open(cls, settings: UsbSettings) -> UsbPduLink:
        """Find and open the device."""
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1, thread_name_prefix="pbx-usb-open") as executor:
            return cls(*await loop.run_in_executor(executor, _open_device, settings))

    async def _call(
        self, executor: ThreadPoolExecutor, function: Callable[..., _T], *args: object
    ) -> _T:
        return await asyncio.get_running_loop().run_in_executor(executor, function, *args)

    async def send(self, payload: bytes) -> None:
        """Send one PDU as USB packets."""
        if self._closed:
            raise ConnectionClosed(f"{self.description} is closed")
        log_pdu(">>", self.description, payload, self.redactor)
        try:
            packets = usb_packets(payload)
        except ProtocolError as err:
            raise ConnectionFailed(f"{self.description}: {err}") from err
        async with self._send_lock:
            for packet in packets:
                try:
                    await self._call(self._writer, self._out.write, packet, WRITE_TIMEOUT_MS)
                except usb.core.USBError as err:
                    raise ConnectionClosed(f"{self.description}: {err}") from err

    def _read_packet(self) -> bytes | None:
        try:
            return bytes(self._in.read(USB_PACKET_SIZE, READ_POLL_MS))
        except usb.core.USBTimeoutError:
            return None

    async def receive(self) -> bytes:
        """Return the next CSTA PDU."""
        while not self._received:
            if self._closed:
                raise ConnectionClosed(f"{self.description} is closed")
            try:
                packet = await self._call(self._reader, self._read_packet)
            except usb.core.USBError as err:
                raise ConnectionClosed(f"{self.description}: {err}") from err
            if packet is not None:
                self._take(packet)
        payload = self._received.popleft()
        log_pdu("<<", self.description, payload, self.redactor)
        return payload

    def _take(self, packet: bytes) -> None:
        try:
            message = self._reassembler.feed_packet(packet)
            if message is None:
                return
            layer = unwrap_next_layer(message)
        except ProtocolError as err:
            self._bad_packets.report("Ignoring USB data from %s: %s", self.description, err)
            return
        if layer.protocol == NextLayer.CSTA:
            self._received.append(layer.pdu)
        else:
            _LOGGER.debug("Ignoring next-layer protocol 0x%02x", layer.protocol)

    async def close(self) -> None:
        """Release the device and stop the threads."""
        if self._closed:
            return
        self._closed = True
        self._bad_packets.flush()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(usb.core.USBError):
            await self._call(self._writer, usb.util.dispose_resources, self._device)
        for executor in (self._reader, self._writer):
            # shutdown(wait=True) waits for a read in progress (at most READ_POLL_MS).
            await loop.run_in_executor(None, executor.shutdown, True)
