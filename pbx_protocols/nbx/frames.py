"""3Com NBX frames (ethertype 0x8868): the light ``struct`` parser of the hot path.

Frame: ``dst(6) src(6) 0x8868(2) 'H'+letter(2) orig(6) seq(2) data...``, big-endian,
optionally behind an 802.1Q tag (captures keep it inline; the kernel hands a raw socket the
frame without it). Letters: ``HH`` ack, ``HE`` error, ``HR`` request (ring, lamps, display
text, display mode), ``HU`` update (the NCP's broadcast about once a second: date and time,
one nibble per phone slot), ``HA`` voice (192 bytes of mu-law).

The header, HH/HE and HU are documented by real dumps and decoding code; HR's offsets come
from one dump printed with unlabelled and missing bytes, so each is a named constant
marked unverified. Decoding never fails on a frame that is long enough for the header:
what a frame is too short to hold is left out. scapy layers (:mod:`.layers`) build frames
and decode pcaps; this module is what a busy monitor runs per frame.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from ..core.errors import ProtocolError

ETHERTYPE: Final = 0x8868
ETHERTYPE_VLAN: Final = 0x8100
#: Destination and source MACs, the ethertype.
ETHERNET_HEADER: Final = 14
#: Type (2), originator MAC (6), sequence number (2).
NBX_HEADER: Final = 10
#: Where NBX data starts in an untagged frame.
DATA_OFFSET: Final = ETHERNET_HEADER + NBX_HEADER
VLAN_TAG: Final = 4

TYPE_ACK: Final = b"HH"
TYPE_ERROR: Final = b"HE"
TYPE_REQUEST: Final = b"HR"
TYPE_UPDATE: Final = b"HU"
TYPE_VOICE: Final = b"HA"
TYPE_NAMES: Final = {
    TYPE_ACK: "ack",
    TYPE_ERROR: "error",
    TYPE_REQUEST: "request",
    TYPE_UPDATE: "update",
    TYPE_VOICE: "voice",
}
#: One voice frame: 24 ms of 8 kHz mu-law (documented: "192 bytes"), ~41.7 per second.
VOICE_BYTES: Final = 192
VOICE_INTERVAL: Final = VOICE_BYTES / 8000

# -- HU (update) offsets, from the start of an untagged frame, as the seed's code reads them

#: Year (2 bytes), month, day, hour, minute, milliseconds (2 bytes).
HU_TIME: Final = 44
HU_TABLE_TYPE: Final = 56
HU_TABLE_SIZE: Final = 58
HU_SLOTS: Final = 60
#: The seed's code reads 12 bytes of slot nibbles (slots 0-23), whatever the table size.
HU_SLOT_BYTES: Final = 12
HU_LENGTH: Final = HU_SLOTS + HU_SLOT_BYTES

# -- HR (request) offsets, from the start of the data (unverified) --------------------------

HR_RING: Final = 40
"""Unverified: the ring byte (tone in the high nibble, 0-9; rings in the low nibble, 0-3,
0 "on always"); a phone rings while it is not zero. From the dump's ``Ring 1207 00ff 0007
5500`` group, without a capture of a ringing and a silent phone to compare."""
HR_LAMPS: Final = 44
"""Unverified: eight bytes of button lamps, two bits per button (0 off, 1 slow flash, 2 fast
flash, 3 solid; documented values), button 0 in the high bits of the first byte."""
HR_LAMP_BYTES: Final = 8
HR_DISPLAY: Final = 54
"""Unverified offset of the 64 bytes of ASCII display text (two lines of 32 assumed)."""
HR_DISPLAY_BYTES: Final = 64
HR_DISPLAY_LINE: Final = 32
HR_CLOCK: Final = 122
"""Unverified: the "what to display" byte CC (1: a clock with seconds; documented value)."""
HR_TIMER: Final = 127
"""Unverified: the "what to display" byte TT (1: a count-up call timer; documented value)."""
HR_LENGTH: Final = 132


@dataclass(frozen=True, slots=True)
class NbxFrame:
    """One frame's header and the offset of its data in ``raw``."""

    dst: bytes
    src: bytes
    vlan: int | None
    type: bytes
    orig: bytes
    seq: int
    raw: bytes
    data_offset: int

    @property
    def data(self) -> bytes:
        """The bytes after the NBX header (padding included)."""
        return self.raw[self.data_offset :]


@dataclass(frozen=True, slots=True)
class Update:
    """An HU frame: the NCP's clock and which phone slots are online."""

    time: datetime | None
    table_type: int
    table_size: int
    #: Slot -> its non-zero nibble (phones are 3; the meaning of other values is unknown).
    slots: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Request:
    """An HR frame to one phone: ring, lamps, display (what the frame is long enough for)."""

    ring: int | None = None
    lamps: tuple[int, ...] = ()
    display: str | None = None
    clock: bool | None = None
    timer: bool | None = None

    @property
    def ringing(self) -> bool:
        """Whether the phone is told to ring."""
        return bool(self.ring)

    @property
    def display_lines(self) -> list[str]:
        """The display text as its lines, trailing spaces removed."""
        if self.display is None:
            return []
        text = self.display.ljust(HR_DISPLAY_BYTES)
        return [
            text[i : i + HR_DISPLAY_LINE].rstrip() for i in range(0, len(text), HR_DISPLAY_LINE)
        ]


def mac_text(mac: bytes) -> str:
    """``00:e0:bb:03:d0:b1``."""
    return mac.hex(":")


def parse_mac(text: str) -> bytes:
    """``00:e0:bb:03:d0:b1`` (or with dashes, or none) as six bytes; ValueError if not."""
    digits = text.replace(":", "").replace("-", "").strip()
    if len(digits) != 12:
        raise ValueError(f"{text!r} is not a MAC address")
    return bytes.fromhex(digits)


_HEADER = struct.Struct("!6s6sH")
_NBX = struct.Struct("!2s6sH")


def parse_frame(raw: bytes) -> NbxFrame:
    """The header of an NBX frame (from the destination MAC); ProtocolError if it is none."""
    if len(raw) < DATA_OFFSET:
        raise ProtocolError(f"{len(raw)} bytes are too short for an NBX frame", data=raw)
    dst, src, ethertype = _HEADER.unpack_from(raw)
    offset = ETHERNET_HEADER
    vlan = None
    if ethertype == ETHERTYPE_VLAN:
        if len(raw) < DATA_OFFSET + VLAN_TAG:
            raise ProtocolError("a VLAN-tagged frame too short for NBX", data=raw)
        tag, ethertype = struct.unpack_from("!HH", raw, ETHERNET_HEADER)
        vlan = tag & 0x0FFF
        offset += VLAN_TAG
    if ethertype != ETHERTYPE:
        raise ProtocolError(f"ethertype 0x{ethertype:04x} is not NBX (0x8868)", data=raw[:18])
    kind, orig, seq = _NBX.unpack_from(raw, offset)
    if kind[:1] != b"H":
        raise ProtocolError(f"type {kind!r} is not an NBX type ('H' and a letter)", data=kind)
    return NbxFrame(dst, src, vlan, kind, orig, seq, raw, offset + NBX_HEADER)


def parse_update(frame: NbxFrame) -> Update:
    """Decode an HU frame exactly as the seed's code does (offsets shifted by a tag)."""
    shift = frame.data_offset - DATA_OFFSET
    raw = frame.raw
    if len(raw) < HU_LENGTH + shift:
        raise ProtocolError(f"an update of {len(raw)} bytes has no slot table", data=raw)
    year, month, day, hour, minute, millis = struct.unpack_from("!HBBBBH", raw, HU_TIME + shift)
    try:
        time: datetime | None = datetime(  # the NCP's local time, zone unknown
            year, month, day, hour, minute, min(millis // 1000, 59), (millis % 1000) * 1000
        )
    except ValueError:
        time = None  # a clock value no date has: the slot table still counts
    table_type, table_size = struct.unpack_from("!HH", raw, HU_TABLE_TYPE + shift)
    slots: dict[int, int] = {}
    start = HU_SLOTS + shift
    for index, byte in enumerate(raw[start : start + HU_SLOT_BYTES]):
        if byte >> 4:
            slots[index * 2] = byte >> 4
        if byte & 0x0F:
            slots[index * 2 + 1] = byte & 0x0F
    return Update(time, table_type, table_size, slots)


def parse_request(frame: NbxFrame) -> Request:
    """Decode what an HR frame is long enough to hold."""
    data = frame.data
    ring = data[HR_RING] if len(data) > HR_RING else None
    lamps: tuple[int, ...] = ()
    if len(data) >= HR_LAMPS + HR_LAMP_BYTES:
        lamps = tuple(
            (byte >> shift) & 0x03
            for byte in data[HR_LAMPS : HR_LAMPS + HR_LAMP_BYTES]
            for shift in (6, 4, 2, 0)
        )
    display = None
    if len(data) >= HR_DISPLAY + HR_DISPLAY_BYTES:
        text = data[HR_DISPLAY : HR_DISPLAY + HR_DISPLAY_BYTES]
        # Printable ASCII only: anything else would be a forged or misread byte.
        display = "".join(chr(b) if 0x20 <= b < 0x7F else " " for b in text).rstrip()
    clock = data[HR_CLOCK] == 1 if len(data) > HR_CLOCK else None
    timer = data[HR_TIMER] == 1 if len(data) > HR_TIMER else None
    return Request(ring, lamps, display, clock, timer)


def frame_as_json(frame: NbxFrame) -> dict[str, Any]:
    """The header and the decoded body, JSON-friendly (the CLI's ``decode nbx``)."""
    out: dict[str, Any] = {
        "dst": mac_text(frame.dst),
        "src": mac_text(frame.src),
        "vlan": frame.vlan,
        "type": frame.type.decode("latin-1"),
        "kind": TYPE_NAMES.get(frame.type, "unknown"),
        "orig": mac_text(frame.orig),
        "seq": frame.seq,
        "length": len(frame.raw),
    }
    data = frame.data
    if frame.type in (TYPE_ACK, TYPE_ERROR):
        count = min(len(data), 10) // 2
        out["words"] = [f"{word:04x}" for word in struct.unpack_from(f"!{count}H", data)]
    elif frame.type == TYPE_UPDATE:
        update = parse_update(frame)
        out["time"] = update.time.isoformat() if update.time else None
        out["table_type"] = f"0x{update.table_type:04x}"
        out["table_size"] = update.table_size
        out["slots"] = {str(slot): value for slot, value in update.slots.items()}
        out["phones_online"] = len(update.slots)
    elif frame.type == TYPE_REQUEST:
        request = parse_request(frame)
        out["ring"] = request.ring
        out["lamps"] = list(request.lamps)
        out["display"] = request.display_lines
        out["clock"] = request.clock
        out["timer"] = request.timer
    elif frame.type == TYPE_VOICE:
        out["voice_bytes"] = min(len(data), VOICE_BYTES)
    return out
