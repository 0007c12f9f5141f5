"""The machinery of AlphaCom-class messages: the base class, wire types, the registry.

Each message class lists its parameters' wire types in ``LAYOUT`` (in field order); the fields
after the first ``REQUIRED`` ones are optional and may be absent from the end of a message, as
newer firmware adds parameters at the end. A message whose id has no class, or whose
parameters do not fit its class, decodes to :class:`UnknownMessage` with the raw bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final, cast

from ..core.errors import InvalidInput, ProtocolError
from .datatypes import Clock, NetObjRef, ParameterReader, check_uint, encode_text16

#: Documented names of message ids (filled by :mod:`.messages`), for UnknownMessage.
MESSAGE_NAMES: dict[int, str] = {}

#: Wire types of parameters, as LAYOUT names them.
_READERS: Final[dict[str, Callable[[ParameterReader, str], Any]]] = {
    "u1": ParameterReader.uint1,
    "s1": ParameterReader.sint1,
    "u2": ParameterReader.uint2,
    "u4": ParameterReader.uint4,
    "text16": ParameterReader.text16,
    "clock": ParameterReader.clock,
    "nor": ParameterReader.net_obj_ref,
    "counted": ParameterReader.counted_bytes,
}


def _write(kind: str, value: Any, name: str) -> bytes:  # noqa: ANN401  # per LAYOUT kind
    if kind in ("u1", "u2", "u4"):
        size = {"u1": 1, "u2": 2, "u4": 4}[kind]
        return check_uint(int(value), size, name).to_bytes(size)
    if kind == "s1":
        if not -128 <= value <= 127:
            raise InvalidInput(f"{name} must be between -128 and 127")
        return int(value).to_bytes(1, signed=True)
    if kind == "text16":
        return encode_text16(value)
    if kind in ("clock", "nor"):
        encoded: bytes = value.encode()
        return encoded
    if kind == "counted":
        data = bytes(value)
        check_uint(len(data), 1, f"length of {name}")
        return bytes([len(data)]) + data
    raise AssertionError(kind)


class Message:
    """Base of every application message (AlphaCom class)."""

    __slots__ = ()
    MESSAGE_ID: ClassVar[int]
    NAME: ClassVar[str]
    LAYOUT: ClassVar[tuple[str, ...]] = ()
    REQUIRED: ClassVar[int] = 0

    @property
    def message_id(self) -> int:
        """The message id on the wire."""
        return self.MESSAGE_ID

    @property
    def name(self) -> str:
        """The message's name in Zenitel's documentation."""
        return self.NAME

    def encode_parameters(self) -> bytes:
        """The parameters as bytes; absent optional ones must all be at the end."""
        out = bytearray()
        absent: str | None = None
        for spec, kind in zip(fields(self), self.LAYOUT, strict=True):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if value is None:
                absent = absent or spec.name
                continue
            if absent is not None:
                raise InvalidInput(f"{self.NAME}: {spec.name} needs {absent} before it")
            out += _write(kind, value, spec.name)
        return bytes(out)

    @classmethod
    def decode_parameters(cls, reader: ParameterReader) -> Message:
        """Read the parameters this class knows; optional trailing ones may be missing."""
        values = []
        for index, (spec, kind) in enumerate(zip(fields(cls), cls.LAYOUT, strict=True)):  # type: ignore[arg-type]
            if index >= cls.REQUIRED and reader.at_end:
                break
            values.append(_READERS[kind](reader, f"{cls.NAME} {spec.name}"))
        dataclass_type: Any = cls  # every concrete subclass is a dataclass of LAYOUT's fields
        return cast("Message", dataclass_type(*values))

    def parameters_json(self) -> dict[str, Any]:
        """The parameters by name, as JSON-friendly values."""
        result: dict[str, Any] = {}
        for spec in fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if value is None:
                continue  # an optional parameter the message does not carry
            if isinstance(value, NetObjRef):
                value = value.as_json()
            elif isinstance(value, Clock):
                value = value.isoformat()
            elif isinstance(value, bytes):
                value = value.decode("latin-1")
            result[spec.name] = value
        return result


@dataclass(frozen=True, slots=True)
class UnknownMessage(Message):
    """A message id without a known layout (or parameters that do not fit it): raw bytes."""

    unknown_id: int
    parameters: bytes = b""

    NAME = "UNKNOWN"

    @property
    def message_id(self) -> int:
        """The message id on the wire."""
        return self.unknown_id

    @property
    def name(self) -> str:
        """The documented name of the id if there is one, else its hex."""
        return MESSAGE_NAMES.get(self.unknown_id, f"0x{self.unknown_id:04X}")

    def encode_parameters(self) -> bytes:
        """The raw parameter bytes."""
        return self.parameters

    def parameters_json(self) -> dict[str, Any]:
        """The raw parameters as hex."""
        return {"parameters": self.parameters.hex()}


_REGISTRY: dict[int, type[Message]] = {}


def register[M: type[Message]](message_class: M) -> M:
    """Class decorator: decode this message id with this class."""
    _REGISTRY[message_class.MESSAGE_ID] = message_class
    return message_class


def decode_message(message_id: int, data: bytes, *, base_offset: int = 0) -> tuple[Message, bytes]:
    """Decode parameters of ``message_id``; return the message and the bytes it left unread.

    Never raises: a message that does not fit its class is returned as UnknownMessage.
    """
    message_class = _REGISTRY.get(message_id)
    if message_class is None:
        return UnknownMessage(message_id, data), b""
    reader = ParameterReader(data, base_offset=base_offset)
    try:
        message = message_class.decode_parameters(reader)
    except ProtocolError:
        return UnknownMessage(message_id, data), b""
    return message, reader.rest()


def registered_classes() -> list[type[Message]]:
    """Every message class with a layout (for tests and documentation)."""
    return list(_REGISTRY.values())
