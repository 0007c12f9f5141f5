"""Panasonic framings: the LAN's 2-byte length prefix and the USB 64-byte fragments.

USB (seed document "Panasonic KX-TDA PBX support for Linux", sections "Packet
fragmentation" and "Next layer"): every USB packet starts with a type byte and a length
byte. The reassembled payload is a "next layer" packet: a protocol byte (0x00 CSTA, 0x02
maintenance console), a length byte, then the BER PDU. Over TCP the same two leading bytes
read as a 16-bit big-endian length.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from ..core.errors import IncompleteFrame, ProtocolError

_LOGGER = logging.getLogger(__name__)

TCP_HEADER: Final = struct.Struct(">H")
MAX_TCP_PAYLOAD: Final = 0xFFFF

USB_PACKET_SIZE: Final = 64
USB_HEADER_SIZE: Final = 2
#: Bytes after the 2-byte USB header: 62 per packet.
USB_PACKET_PAYLOAD: Final = USB_PACKET_SIZE - USB_HEADER_SIZE
#: The first fragment's length byte does not count the 2-byte next-layer header (0x3c = 60).
USB_FIRST_FRAGMENT_UNCOUNTED: Final = 2
#: Bytes a fragmented message may grow to before the reassembler gives up on it.
USB_MAX_MESSAGE: Final = 64 * 1024
#: Largest PDU the next-layer header can describe: its length is a single byte.
USB_MAX_PDU: Final = 0xFF

USB_PAD_PACKETS: Final = False
"""Whether packets are padded to 64 bytes on the way out.

Unverified: the seed only says the PBX "exchanges data using 64-byte packets". The stock
usb-skeleton driver it used writes exactly the bytes given, so this library does not pad;
received packets may carry padding after the declared length, which is ignored.
"""


class UsbPacketType(IntEnum):
    """First byte of a USB packet."""

    WHOLE = 0x00
    FIRST = 0x01
    MIDDLE = 0x02
    LAST = 0x03


class NextLayer(IntEnum):
    """Protocol byte of the reassembled USB payload."""

    CSTA = 0x00
    MAINTENANCE_CONSOLE = 0x02


class TcpFramer:
    """LAN CTI framing: a big-endian 16-bit length, then one PDU (LinTcMon, real traffic)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every complete PDU."""
        self._buffer += data
        frames: list[bytes] = []
        while len(self._buffer) >= TCP_HEADER.size:
            (length,) = TCP_HEADER.unpack_from(self._buffer)
            end = TCP_HEADER.size + length
            if len(self._buffer) < end:
                break
            if self._buffer[0] != NextLayer.CSTA:
                # Either a PDU longer than 255 bytes or a non-CSTA next-layer protocol; the
                # two cannot be told apart (unverified), so the frame is passed on.
                _LOGGER.debug("Frame header %s is not 00 LL", self._buffer[:2].hex())
            frames.append(bytes(self._buffer[TCP_HEADER.size : end]))
            del self._buffer[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received that do not form a whole frame yet."""
        return len(self._buffer)

    def frame(self, payload: bytes) -> bytes:
        """Prefix ``payload`` with its length."""
        if len(payload) > MAX_TCP_PAYLOAD:
            raise ProtocolError(f"PDU of {len(payload)} bytes exceeds the 65535-byte frame limit")
        return TCP_HEADER.pack(len(payload)) + payload


def split_tcp_frames(data: bytes) -> list[bytes]:
    """Split a complete TCP byte stream into PDUs; raise IncompleteFrame if it is cut off."""
    framer = TcpFramer()
    frames = framer.feed(data)
    if framer.pending:
        raise IncompleteFrame(
            f"the last frame is incomplete ({framer.pending} byte(s) left over)",
            data=data[len(data) - framer.pending :],
            offset=len(data) - framer.pending,
        )
    return frames


# -- USB ---------------------------------------------------------------------------------


def wrap_next_layer(pdu: bytes, protocol: NextLayer = NextLayer.CSTA) -> bytes:
    """Prefix a PDU with the next-layer header (protocol byte, length byte)."""
    if len(pdu) > USB_MAX_PDU:
        raise ProtocolError(f"a {len(pdu)}-byte PDU does not fit the USB next-layer header")
    return bytes((protocol, len(pdu))) + pdu


@dataclass(frozen=True, slots=True)
class NextLayerMessage:
    """A reassembled USB payload: which protocol, and its PDU."""

    protocol: int
    pdu: bytes


def unwrap_next_layer(message: bytes) -> NextLayerMessage:
    """Split a reassembled USB payload into protocol byte and PDU."""
    if len(message) < 2:
        raise IncompleteFrame("USB payload shorter than its 2-byte header", data=message, offset=0)
    protocol, length = message[0], message[1]
    if length != len(message) - 2:
        raise ProtocolError(
            f"USB next-layer header announces {length} byte(s), {len(message) - 2} arrived",
            data=message,
            offset=1,
        )
    return NextLayerMessage(protocol, bytes(message[2:]))


def fragment(message: bytes) -> list[bytes]:
    """Cut a next-layer message into USB packets of at most 64 bytes."""
    if len(message) <= USB_PACKET_PAYLOAD:
        return [bytes((UsbPacketType.WHOLE, len(message))) + message]
    first = message[:USB_PACKET_PAYLOAD]
    packets = [bytes((UsbPacketType.FIRST, len(first) - USB_FIRST_FRAGMENT_UNCOUNTED)) + first]
    rest = message[USB_PACKET_PAYLOAD:]
    while len(rest) > USB_PACKET_PAYLOAD:
        chunk, rest = rest[:USB_PACKET_PAYLOAD], rest[USB_PACKET_PAYLOAD:]
        packets.append(bytes((UsbPacketType.MIDDLE, len(chunk))) + chunk)
    packets.append(bytes((UsbPacketType.LAST, len(rest))) + rest)
    if USB_PAD_PACKETS:
        packets = [packet.ljust(USB_PACKET_SIZE, b"\0") for packet in packets]
    return packets


def usb_packets(pdu: bytes, protocol: NextLayer = NextLayer.CSTA) -> list[bytes]:
    """Return the USB packets that carry one PDU."""
    return fragment(wrap_next_layer(pdu, protocol))


class UsbReassembler:
    """Joins USB packets into next-layer messages.

    A malformed or out-of-order packet raises ProtocolError and drops the message in
    progress, so the next FIRST or WHOLE packet starts cleanly (resynchronisation).
    """

    def __init__(self) -> None:
        self._partial: bytearray | None = None

    def feed_packet(self, packet: bytes) -> bytes | None:
        """Process one USB packet; return a completed message, if any."""
        if len(packet) < USB_HEADER_SIZE:
            raise IncompleteFrame("USB packet shorter than its header", data=packet, offset=0)
        kind, length = packet[0], packet[1]
        if kind == UsbPacketType.FIRST:
            length += USB_FIRST_FRAGMENT_UNCOUNTED
        if kind not in UsbPacketType._value2member_map_:
            self._partial = None
            raise ProtocolError(f"unknown USB packet type 0x{kind:02x}", data=packet, offset=0)
        if length > USB_PACKET_PAYLOAD:
            self._partial = None
            raise ProtocolError(f"USB packet announces {length} bytes", data=packet, offset=1)
        body = packet[USB_HEADER_SIZE : USB_HEADER_SIZE + length]
        if len(body) < length:
            raise IncompleteFrame(
                f"USB packet announces {length} bytes, {len(body)} arrived", data=packet, offset=1
            )
        return self._assemble(UsbPacketType(kind), body, packet)

    def _assemble(self, kind: UsbPacketType, body: bytes, packet: bytes) -> bytes | None:
        if kind in (UsbPacketType.WHOLE, UsbPacketType.FIRST):
            dropped, self._partial = self._partial, None
            if dropped is not None:
                _LOGGER.debug("Dropping %d bytes of an unfinished USB message", len(dropped))
            if kind == UsbPacketType.WHOLE:
                return body
            self._partial = bytearray(body)
            return None
        if self._partial is None:
            raise ProtocolError(f"USB {kind.name.lower()} fragment without a first", data=packet)
        self._partial += body
        if len(self._partial) > USB_MAX_MESSAGE:
            self._partial = None
            raise ProtocolError(f"USB message longer than {USB_MAX_MESSAGE} bytes", data=packet)
        if kind == UsbPacketType.LAST:
            message, self._partial = bytes(self._partial), None
            return message
        return None


def split_usb_stream(data: bytes) -> Iterator[bytes]:
    """Cut concatenated, unpadded USB packets apart (for decoding captured hex)."""
    offset = 0
    while offset < len(data):
        if len(data) - offset < USB_HEADER_SIZE:
            raise IncompleteFrame("USB packet header cut off", data=data[offset:], offset=offset)
        length = data[offset + 1]
        if data[offset] == UsbPacketType.FIRST:
            length += USB_FIRST_FRAGMENT_UNCOUNTED
        end = offset + USB_HEADER_SIZE + length
        if end > len(data):
            raise IncompleteFrame(
                f"USB packet at offset {offset} announces {length} bytes",
                data=data[offset:],
                offset=offset,
            )
        yield data[offset:end]
        offset = end
