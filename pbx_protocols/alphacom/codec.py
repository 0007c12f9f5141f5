"""Network and application layers of the AlphaCom Data Protocol: bytes <-> :class:`Packet`.

Network layer: ``<src node><src device> <dst node><dst device> <hop byte> <options>``, the
hop byte holding the option count (bits 7-5) and the hop counter (bits 4-0). Application
layer: ``<class> <reference:2> <message id:2> <parameters>``. Pure functions; decoding
raises only ProtocolError, and never refuses a message just because its id or parameters
are unknown (see :func:`~.messages.decode_message`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ..core.errors import IncompleteFrame, InvalidInput, ProtocolError
from .messages import Message, UnknownMessage, decode_message

#: "The maximum size of a network layer message handled by AlphaCom is 64 bytes."
MAX_NETWORK_MESSAGE: Final = 64
NETWORK_HEADER_LENGTH: Final = 5
MAX_OPTIONS: Final = 7
MAX_HOP_COUNT: Final = 31
#: Application class of AlphaCom messages ('A'); the others are TouchLine and site use.
ALPHACOM_CLASS: Final = 0x41
#: Device number of the exchange (the master AMC) on its node.
EXCHANGE_DEVICE: Final = 0x41
#: Device numbers from here up are broadcast addresses.
FIRST_BROADCAST_DEVICE: Final = 0xD0
BROADCAST_ALL: Final = 0xFF
#: Source device for messages whose answers nobody wants.
BITBUCKET_DEVICE: Final = 0xC8


@dataclass(frozen=True, slots=True, order=True)
class Address:
    """A device address: node (exchange) and device number."""

    node: int
    device: int

    @property
    def is_broadcast(self) -> bool:
        """Whether this is a broadcast address."""
        return self.device >= FIRST_BROADCAST_DEVICE

    def as_json(self) -> dict[str, int]:
        """``{node, device}``."""
        return {"node": self.node, "device": self.device}


@dataclass(frozen=True, slots=True)
class Packet:
    """One network-layer message with its application message.

    ``trailing`` holds parameter bytes after the ones the message's class knows (a newer
    firmware's additions); for a class other than AlphaCom, ``message`` is an
    UnknownMessage and ``foreign`` the application bytes after the class byte.
    """

    src: Address
    dst: Address
    reference: int
    message: Message
    hop_count: int = 0
    options: bytes = b""
    trailing: bytes = b""
    message_class: int = ALPHACOM_CLASS
    foreign: bytes = b""

    @property
    def hop_byte(self) -> int:
        """The network header's hop byte."""
        return (len(self.options) << 5) | self.hop_count

    def as_json(self) -> dict[str, Any]:
        """What ``pbx-protocols decode alphacom`` prints."""
        result: dict[str, Any] = {
            "src": self.src.as_json(),
            "dst": self.dst.as_json(),
            "hop_count": self.hop_count,
            "options": self.options.hex(),
            "class": self.message_class,
            "reference": self.reference,
            "message_id": self.message.message_id,
            "message": self.message.name,
            "parameters": self.message.parameters_json(),
        }
        if self.trailing:
            result["trailing"] = self.trailing.hex()
        if self.foreign:
            result["data"] = self.foreign.hex()
        return result


def encode_packet(packet: Packet) -> bytes:
    """The network-layer message; InvalidInput if a field is out of range or it is too long."""
    if len(packet.options) > MAX_OPTIONS:
        raise InvalidInput(f"at most {MAX_OPTIONS} network options")
    if not 0 <= packet.hop_count <= MAX_HOP_COUNT:
        raise InvalidInput(f"the hop count must be between 0 and {MAX_HOP_COUNT}")
    for value in (packet.src.node, packet.src.device, packet.dst.node, packet.dst.device):
        if not 0 <= value <= 0xFF:
            raise InvalidInput("node and device numbers are one byte")
    header = bytes(
        [packet.src.node, packet.src.device, packet.dst.node, packet.dst.device, packet.hop_byte]
    )
    if packet.message_class != ALPHACOM_CLASS:
        application = bytes([packet.message_class]) + packet.foreign
    else:
        if not 0 <= packet.reference <= 0xFFFF:
            raise InvalidInput("the reference is two bytes")
        application = (
            bytes([ALPHACOM_CLASS])
            + packet.reference.to_bytes(2)
            + packet.message.message_id.to_bytes(2)
            + packet.message.encode_parameters()
            + packet.trailing
        )
    data = header + packet.options + application
    if len(data) > MAX_NETWORK_MESSAGE:
        raise InvalidInput(
            f"the message is {len(data)} bytes; the exchange handles at most {MAX_NETWORK_MESSAGE}"
        )
    return data


def decode_packet(data: bytes) -> Packet:
    """Decode one network-layer message (ProtocolError if it is not one)."""
    if len(data) > MAX_NETWORK_MESSAGE:
        raise ProtocolError(
            f"a network message of {len(data)} bytes is over the {MAX_NETWORK_MESSAGE}-byte limit",
            data=data,
        )
    if len(data) < NETWORK_HEADER_LENGTH + 1:
        raise IncompleteFrame("a network message needs at least 6 bytes", data=data)
    hop_byte = data[4]
    option_count = hop_byte >> 5
    body = NETWORK_HEADER_LENGTH + option_count
    if len(data) < body + 1:
        raise IncompleteFrame(
            f"the header announces {option_count} option bytes and no message follows",
            data=data,
            offset=NETWORK_HEADER_LENGTH,
        )
    src = Address(data[0], data[1])
    dst = Address(data[2], data[3])
    options = data[NETWORK_HEADER_LENGTH:body]
    message_class = data[body]
    hop_count = hop_byte & 0x1F
    if message_class != ALPHACOM_CLASS:
        return Packet(
            src,
            dst,
            reference=0,
            hop_count=hop_count,
            options=options,
            message=UnknownMessage(0),
            message_class=message_class,
            foreign=data[body + 1 :],
        )
    if len(data) < body + 5:
        raise IncompleteFrame(
            "an AlphaCom message needs a reference and a message id", data=data, offset=body
        )
    reference = int.from_bytes(data[body + 1 : body + 3])
    message_id = int.from_bytes(data[body + 3 : body + 5])
    message, trailing = decode_message(message_id, data[body + 5 :], base_offset=body + 5)
    return Packet(
        src, dst, reference, message, hop_count=hop_count, options=options, trailing=trailing
    )


def xor_checksum(data: bytes) -> int:
    """ISO 1155 longitudinal parity: the bytewise XOR (simple link layer, ISO 1745)."""
    checksum = 0
    for byte in data:
        checksum ^= byte
    return checksum
