"""The AlphaCom Data Protocol's parameter types (application layer), pure and I/O-free.

All multi-byte integers are big-endian. A :class:`ParameterReader` reads one message's
parameters and raises only :class:`~pbx_protocols.core.errors.ProtocolError` (or its
subclass IncompleteFrame) on bad input; a writer is a plain ``bytearray``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Final

from ..core.errors import IncompleteFrame, InvalidInput, ProtocolError

TEXT16_LENGTH: Final = 16
CLOCK_LENGTH: Final = 7
#: A NET_OBJ_REF is a header byte and at most 15 content bytes (4-bit length).
MAX_NET_OBJ_REF_CONTENT: Final = 15
#: BCD nibble that pads a digit string (INVALID_DIGIT).
_PAD_NIBBLE: Final = 0xF
#: Characters of the extended digits 0xA..0xE, which AlphaCom accepts in the format but does
#: not support; kept readable (and reversible) rather than refused.
_EXTENDED_DIGITS: Final = "ABCDE"


class NetObjFormat(IntEnum):
    """NET_OBJ_REF formats (the low nibble of its header)."""

    DIGIT_STRING = 0  # 'G': digits to dial, interpreted by the receiving exchange
    LOCAL_DIRNO = 2  # 'L': a complete directory number in a node
    LOCAL_ENTITY = 3  # 'N': an internal (physical) id of an object in a node


#: Magic character of each format in the command-string notation (``L101``, ``G102``).
FORMAT_LETTERS: Final = {
    NetObjFormat.DIGIT_STRING: "G",
    NetObjFormat.LOCAL_DIRNO: "L",
    NetObjFormat.LOCAL_ENTITY: "N",
}


def encode_bcd(digits: str) -> bytes:
    """Digits "107" as BCD bytes 10 7F (first digit in the high nibble, F pads)."""
    nibbles: list[int] = []
    for char in digits:
        if char.isdigit() and char.isascii():
            nibbles.append(int(char))
        elif char in _EXTENDED_DIGITS:
            nibbles.append(10 + _EXTENDED_DIGITS.index(char))
        else:
            raise InvalidInput(f"{digits!r} is not a digit string (use the digits 0-9)")
    if len(nibbles) % 2:
        nibbles.append(_PAD_NIBBLE)
    return bytes((high << 4) | low for high, low in zip(nibbles[::2], nibbles[1::2], strict=True))


def decode_bcd(data: bytes) -> str:
    """BCD bytes as digits; padding nibbles (F) end the string wherever they are."""
    digits: list[str] = []
    for byte in data:
        for nibble in (byte >> 4, byte & 0x0F):
            if nibble == _PAD_NIBBLE:
                return "".join(digits)
            digits.append(str(nibble) if nibble < 10 else _EXTENDED_DIGITS[nibble - 10])
    return "".join(digits)


@dataclass(frozen=True, slots=True)
class NetObjRef:
    """A network object reference: a station, a digit string, an entity.

    ``content`` holds the bytes after the header exactly as received, so encoding gives
    back the same bytes (extra padding included); the properties read it.
    """

    format: int
    content: bytes = b""

    @classmethod
    def local_dirno(cls, number: str, node: int = 1) -> NetObjRef:
        """A directory number valid in ``node`` (``L(node)number``)."""
        return cls(NetObjFormat.LOCAL_DIRNO, bytes([node]) + encode_bcd(number))

    @classmethod
    def digit_string(cls, digits: str) -> NetObjRef:
        """Digits to dial (``G`` format)."""
        return cls(NetObjFormat.DIGIT_STRING, encode_bcd(digits))

    @classmethod
    def local_entity(cls, node: int, entity_class: int, entity_id: int) -> NetObjRef:
        """An object by its internal id: ``N`` format with a two-byte id."""
        return cls(NetObjFormat.LOCAL_ENTITY, bytes([node, entity_class]) + entity_id.to_bytes(2))

    @property
    def is_null(self) -> bool:
        """The NULL reference (no content)."""
        return not self.content and self.format == NetObjFormat.DIGIT_STRING

    @property
    def node(self) -> int | None:
        """The node a local reference is valid in."""
        if self.format in (NetObjFormat.LOCAL_DIRNO, NetObjFormat.LOCAL_ENTITY) and self.content:
            return self.content[0]
        return None

    @property
    def number(self) -> str | None:
        """The digits of a directory number or digit string; None for other formats."""
        if self.format == NetObjFormat.DIGIT_STRING:
            return decode_bcd(self.content)
        if self.format == NetObjFormat.LOCAL_DIRNO and self.content:
            return decode_bcd(self.content[1:])
        return None

    @property
    def entity(self) -> tuple[int, int] | None:
        """(entity class, internal id) of a local entity with a two-byte id."""
        if self.format == NetObjFormat.LOCAL_ENTITY and len(self.content) >= 4:
            return self.content[1], int.from_bytes(self.content[2:4])
        return None

    def encode(self) -> bytes:
        """Header (length high nibble, format low nibble) and content."""
        if len(self.content) > MAX_NET_OBJ_REF_CONTENT:
            raise InvalidInput(f"a NET_OBJ_REF holds at most {MAX_NET_OBJ_REF_CONTENT} bytes")
        if not 0 <= self.format <= 0x0F:
            raise InvalidInput(f"NET_OBJ_REF format {self.format} is not a nibble")
        return bytes([(len(self.content) << 4) | self.format]) + self.content

    def as_json(self) -> dict[str, object]:
        """``{format, node, number}`` (and the raw content for formats not decoded)."""
        result: dict[str, object] = {
            "format": self.format,
            "node": self.node,
            "number": self.number,
        }
        if (entity := self.entity) is not None:
            result["entity_class"], result["entity_id"] = entity
        elif self.format not in (NetObjFormat.DIGIT_STRING, NetObjFormat.LOCAL_DIRNO):
            result["raw"] = self.content.hex()
        return result

    def __str__(self) -> str:
        letter = FORMAT_LETTERS.get(NetObjFormat(self.format)) if self.format in (0, 2, 3) else None
        if self.format == NetObjFormat.LOCAL_DIRNO:
            return f"L({self.node}){self.number}"
        if self.format == NetObjFormat.DIGIT_STRING:
            return f"G{self.number}"
        return f"{letter or self.format}:{self.content.hex()}"


@dataclass(frozen=True, slots=True)
class Clock:
    """A CLOCK parameter as sent; exchanges may send impossible dates, so no datetime."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int

    @classmethod
    def from_datetime(cls, moment: datetime) -> Clock:
        """The CLOCK of a moment (seconds precision)."""
        return cls(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)

    def as_datetime(self) -> datetime | None:
        """The moment, or None if the fields are not a valid date and time."""
        try:
            return datetime(  # the exchange's local time, zone unknown
                self.year, self.month, self.day, self.hour, self.minute, self.second
            )
        except ValueError:
            return None

    def isoformat(self) -> str:
        """ISO 8601 when valid; the raw fields otherwise."""
        moment = self.as_datetime()
        if moment is not None:
            return moment.isoformat()
        return (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d}T"
            f"{self.hour:02d}:{self.minute:02d}:{self.second:02d}"
        )

    def encode(self) -> bytes:
        """UINT2 year then five UINT1."""
        if not 0 <= self.year <= 0xFFFF or not all(
            0 <= part <= 0xFF for part in (self.month, self.day, self.hour, self.minute)
        ):
            raise InvalidInput("a CLOCK field is out of range")
        return self.year.to_bytes(2) + bytes(
            [self.month, self.day, self.hour, self.minute, self.second & 0xFF]
        )


def encode_text16(text: str) -> bytes:
    """TEXT16: exactly 16 ISO 8859-1 bytes, space padded, printable only."""
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError as err:
        bad = text[err.start]
        raise InvalidInput(f"the text contains {bad!r}, which the station cannot show") from err
    if len(data) > TEXT16_LENGTH:
        raise InvalidInput(f"the text is longer than {TEXT16_LENGTH} characters")
    if any(byte < 0x20 or 0x7F <= byte < 0xA0 for byte in data):
        raise InvalidInput("the text contains a control character")
    return data.ljust(TEXT16_LENGTH, b" ")


class ParameterReader:
    """Reads parameters from one message; every failure is a ProtocolError."""

    def __init__(self, data: bytes, *, base_offset: int = 0) -> None:
        self._data = data
        self._position = 0
        self._base = base_offset

    @property
    def at_end(self) -> bool:
        """Whether every byte was read."""
        return self._position >= len(self._data)

    def rest(self) -> bytes:
        """Every byte not read yet (and consume them)."""
        data = self._data[self._position :]
        self._position = len(self._data)
        return data

    def take(self, count: int, what: str) -> bytes:
        """Exactly ``count`` bytes."""
        end = self._position + count
        if end > len(self._data):
            raise IncompleteFrame(
                f"{what} needs {count} bytes, {len(self._data) - self._position} left",
                data=self._data,
                offset=self._base + self._position,
            )
        data = self._data[self._position : end]
        self._position = end
        return data

    def uint1(self, what: str = "UINT1") -> int:
        """One unsigned byte."""
        return self.take(1, what)[0]

    def sint1(self, what: str = "SINT1") -> int:
        """One signed byte."""
        return int.from_bytes(self.take(1, what), signed=True)

    def uint2(self, what: str = "UINT2") -> int:
        """Two bytes, MSB first."""
        return int.from_bytes(self.take(2, what))

    def uint4(self, what: str = "UINT4") -> int:
        """Four bytes, MSB first."""
        return int.from_bytes(self.take(4, what))

    def text16(self, what: str = "TEXT16") -> str:
        """Sixteen ISO 8859-1 bytes, trailing spaces dropped."""
        return self.take(TEXT16_LENGTH, what).decode("latin-1").rstrip(" ")

    def clock(self, what: str = "CLOCK") -> Clock:
        """Seven bytes of date and time."""
        data = self.take(CLOCK_LENGTH, what)
        return Clock(int.from_bytes(data[:2]), data[2], data[3], data[4], data[5], data[6])

    def net_obj_ref(self, what: str = "NET_OBJ_REF") -> NetObjRef:
        """A header byte and as many content bytes as its high nibble says."""
        header = self.uint1(what)
        return NetObjRef(header & 0x0F, self.take(header >> 4, what))

    def counted_bytes(self, what: str = "byte array") -> bytes:
        """A UINT1 length followed by that many bytes."""
        return self.take(self.uint1(what), what)


def check_uint(value: int, size: int, what: str) -> int:
    """Raise InvalidInput unless ``value`` fits ``size`` unsigned bytes."""
    if not 0 <= value < 1 << (8 * size):
        raise InvalidInput(f"{what} must be between 0 and {(1 << (8 * size)) - 1}")
    return value


__all__ = [
    "Clock",
    "NetObjFormat",
    "NetObjRef",
    "ParameterReader",
    "ProtocolError",
    "check_uint",
    "decode_bcd",
    "encode_bcd",
    "encode_text16",
]
