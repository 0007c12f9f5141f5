"""asn1tools values: decoding and encoding one ASN.1 type, and rendering values as JSON."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from functools import cache
from typing import Any, Final

from asn1tools.errors import Error as Asn1ToolsError

from ..core.errors import ProtocolError
from ..core.render import json_value
from .ber import MAX_OBJECT_IDENTIFIER
from .fast_ber import FallBack, FastDecoder
from .spec import specification

#: Exceptions asn1tools raises for malformed input. Besides its own errors it lets a few
#: builtins escape from deep inside (bad characters in strings, impossible values), which
#: are bad input all the same.
#: A value as asn1tools represents it: dicts for SEQUENCE, (name, value) tuples for CHOICE,
#: bytes for OCTET STRING, (bytes, bit count) for BIT STRING, names for ENUMERATED.
type Asn1Value = Any

_DECODE_FAILURES: Final = (
    Asn1ToolsError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    UnicodeError,
    OverflowError,
    RecursionError,
)


@cache
def fast_decoder() -> FastDecoder:
    """The fast decoder of the specification's types (built once per process)."""
    return FastDecoder(specification(), max_identifier=MAX_OBJECT_IDENTIFIER)


def prepare_decoders(type_names: Iterable[str]) -> None:
    """Load the specification and build the fast decoders of these types (blocking)."""
    fast_decoder().prepare(sorted(type_names))


_fast_path = True


@contextlib.contextmanager
def asn1tools_only() -> Iterator[None]:
    """Decode with asn1tools alone inside the block (to compare it with the fast path)."""
    global _fast_path  # a debugging switch for the whole process
    _fast_path = False
    try:
        yield
    finally:
        _fast_path = True


def decode_value(
    type_name: str, data: bytes, *, before_asn1tools: Callable[[bytes], None] | None = None
) -> Asn1Value:
    """Decode one ASN.1 value; raise ProtocolError (with the offset) if malformed.

    The canonical encodings PBXs send take the fast path; everything else, malformed
    input included, is asn1tools' (same values, same errors). ``before_asn1tools`` checks
    what only asn1tools needs checked (sizes it would choke on) before it sees the data.
    """
    if _fast_path:
        try:
            return fast_decoder().decode(type_name, data)
        except FallBack:
            pass
    if before_asn1tools is not None:
        before_asn1tools(data)
    try:
        value, length = specification().decode_with_length(type_name, data)
    except _DECODE_FAILURES as err:
        offset = getattr(err, "offset", None)
        message = getattr(err, "message", None) or str(err) or type(err).__name__
        raise ProtocolError(f"malformed {type_name}: {message}", data=data, offset=offset) from err
    if length != len(data):
        raise ProtocolError(
            f"{len(data) - length} unexpected byte(s) after {type_name}", data=data, offset=length
        )
    return value


def encode_value(type_name: str, value: Asn1Value) -> bytes:
    """Encode one ASN.1 value."""
    try:
        return bytes(specification().encode(type_name, value))
    except _DECODE_FAILURES as err:
        raise ProtocolError(f"cannot encode {type_name}: {err}") from err


def bit_names(bits: bytes, names: list[str]) -> tuple[str, ...]:
    """Names of the bits set in a BIT STRING."""
    return tuple(
        name
        for index, name in enumerate(names)
        if index // 8 < len(bits) and bits[index // 8] & (0x80 >> (index % 8))
    )


def to_json(value: Asn1Value) -> Any:  # noqa: ANN401  # JSON is as dynamic as its input
    """Render a decoded ASN.1 value for JSON: CHOICEs as {name: value}, bytes as hex."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, tuple) and len(value) == 2:
        first, second = value
        if isinstance(first, str):
            return {first: to_json(second)}
        if isinstance(first, (bytes, bytearray)) and isinstance(second, int):
            return {"bits": bytes(first).hex(), "length": second}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, (datetime, date)):  # GeneralizedTime (call detail records)
        return value.isoformat()
    return json_value(value)
