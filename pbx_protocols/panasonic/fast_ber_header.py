"""What the fast BER decoders share: an element's header, and the signal to fall back.

PBXs send the canonical form (definite lengths, short tags); anything the reader here does
not take raises :class:`FallBack`, and asn1tools decodes the PDU instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

#: Decoded ASN.1 values, as asn1tools returns them.
type Asn1Value = Any
#: A tag: its single byte as an int, or the bytes of a multi-byte tag.
type TagKey = int | bytes
#: Decodes the content of one element: (data, element start, content start, content end, tag).
type ContentDecoder = Callable[[bytes, int, int, int, TagKey], Asn1Value]

_HIGH_TAG: Final = 0x1F
#: Longest length field handled here (three bytes: 16 MB, far beyond any PDU we accept).
_MAX_LENGTH_BYTES: Final = 3
#: Longest tag handled here: the first byte and four more.
_MAX_TAG_BYTES: Final = 5


class FallBack(Exception):  # a signal, not an error: asn1tools takes over
    """The input is left to asn1tools (unusual encoding, or malformed)."""


def tag_key(tag: bytes | bytearray) -> TagKey:
    """A tag as the decoders compare it: its byte as an int if it has one, else bytes."""
    return tag[0] if len(tag) == 1 else bytes(tag)


def read_header(data: bytes, offset: int, end: int) -> tuple[TagKey, int, int]:
    """Read the element at ``offset`` (within ``end``): its tag, content start and end."""
    if offset >= end:
        raise FallBack
    first = data[offset]
    position = offset + 1
    tag: TagKey = first
    if first & _HIGH_TAG == _HIGH_TAG:
        while position < end and data[position] & 0x80:
            position += 1
        position += 1
        if position - offset > _MAX_TAG_BYTES:
            raise FallBack
        tag = bytes(data[offset:position])
    if position >= end:
        raise FallBack
    length = data[position]
    position += 1
    if length & 0x80:
        size = length & 0x7F
        if size == 0 or size > _MAX_LENGTH_BYTES:
            raise FallBack  # indefinite or absurd lengths: asn1tools' business
        length = int.from_bytes(data[position : position + size])
        position += size
    content_end = position + length
    if content_end > end:
        raise FallBack
    return tag, position, content_end
