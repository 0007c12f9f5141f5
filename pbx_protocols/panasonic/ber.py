"""A small, iterative BER reader: limits checked before asn1tools sees a PDU, and spans.

asn1tools decodes an OBJECT IDENTIFIER in quadratic time (a 65 KB one costs over a second
of event-loop time), so the envelope is read here first: the PDU's size, every element's
length against its parent, and the length of every identifier. The same reader finds the
login inside an AARQ, so that hex dumps can mask it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple

from ..core.errors import ProtocolError

MAX_PDU_SIZE: Final = 16 * 1024
"""Largest PDU this library decodes.

Panasonic PDUs seen in public traffic are under 200 bytes and USB cannot carry more than
255; the limit leaves room for long device lists while keeping every decode cheap.
"""

MAX_OBJECT_IDENTIFIER: Final = 64
"""Longest OBJECT IDENTIFIER (content bytes) accepted; CSTA's are 5 to 7 bytes long."""

MAX_ACSE_ELEMENTS: Final = 64
"""Most BER elements an ACSE PDU (association, release, abort) may hold; real ones have
about a dozen. Bounds the check's own work by count, not by size: a PDU packed with
thousands of empty elements is refused before anything else reads it.
"""

#: How deep the ACSE check reads: identifiers sit at most three levels down.
_ACSE_DEPTH: Final = 4
#: Elements of a ROSE envelope read: invoke id, linked id, operation code, argument.
_ROSE_ELEMENTS: Final = 4
_OBJECT_IDENTIFIER_TAG: Final = 0x06
_SEQUENCE_TAG: Final = 0x30
#: IMPLICIT identifiers: mechanism-name is [11] in an AARQ and [9] in an AARE.
_IMPLICIT_IDENTIFIER_TAGS: Final = {0x60: frozenset({0x8B}), 0x61: frozenset({0x89})}
_CONSTRUCTED: Final = 0x20
_AARQ_TAG: Final = 0x60
_CALLING_AUTHENTICATION_VALUE_TAG: Final = 0xAC


class Element(NamedTuple):
    """One BER element: its first tag byte, where its content starts and ends."""

    tag: int
    start: int
    end: int

    @property
    def constructed(self) -> bool:
        """Whether the content is itself a sequence of elements."""
        return bool(self.tag & _CONSTRUCTED)


def read_element(data: bytes, offset: int, limit: int) -> Element:
    """Read the element header at ``offset``; its content must end by ``limit``."""
    if offset >= limit:
        raise ProtocolError("element expected", data=data, offset=offset)
    tag = data[offset]
    position = offset + 1
    if tag & 0x1F == 0x1F:  # high tag number: base-128 continuation bytes
        for _ in range(4):
            if position >= limit:
                raise ProtocolError("tag cut off", data=data, offset=offset)
            more = data[position] & 0x80
            position += 1
            if not more:
                break
        else:
            raise ProtocolError("tag number too long", data=data, offset=offset)
    if position >= limit:
        raise ProtocolError("length cut off", data=data, offset=position)
    length = data[position]
    position += 1
    if length == 0x80:
        raise ProtocolError("indefinite lengths are not supported", data=data, offset=offset)
    if length & 0x80:
        size = length & 0x7F
        if size > 3 or position + size > limit:
            raise ProtocolError("bad length", data=data, offset=position - 1)
        length = int.from_bytes(data[position : position + size])
        position += size
    end = position + length
    if end > limit:
        raise ProtocolError(
            f"element announces {length} bytes, {limit - position} left", data=data, offset=offset
        )
    return Element(tag, position, end)


def children(data: bytes, parent: Element) -> Iterator[Element]:
    """The elements directly inside a constructed element."""
    offset = parent.start
    while offset < parent.end:
        element = read_element(data, offset, parent.end)
        yield element
        offset = element.end


def check_pdu_size(data: bytes) -> None:
    """Raise ProtocolError if the PDU is larger than this library decodes."""
    if len(data) > MAX_PDU_SIZE:
        raise ProtocolError(f"PDU of {len(data)} bytes exceeds the {MAX_PDU_SIZE}-byte limit")


def check_pdu_limits(data: bytes) -> None:
    """Raise ProtocolError if the PDU is too large, badly nested or carries a huge identifier.

    The work is bounded by the envelope, not by what the peer packs inside it: of an ACSE
    PDU at most :data:`MAX_ACSE_ELEMENTS` elements are read, of a ROSE PDU the envelope.
    """
    check_pdu_size(data)
    top = read_element(data, 0, len(data))
    if top.end != len(data):
        raise ProtocolError(
            f"{len(data) - top.end} unexpected byte(s) after the PDU", data=data, offset=top.end
        )
    if top.tag < 0x80:
        _check_acse(data, top)
    else:
        _check_rose(data, top)


def _check_identifier(data: bytes, element: Element, tags: frozenset[int]) -> None:
    if element.tag in tags and element.end - element.start > MAX_OBJECT_IDENTIFIER:
        raise ProtocolError(
            f"object identifier of {element.end - element.start} bytes",
            data=data,
            offset=element.start,
        )


def _check_acse(data: bytes, top: Element) -> None:
    budget = MAX_ACSE_ELEMENTS
    tags = frozenset({_OBJECT_IDENTIFIER_TAG}) | _IMPLICIT_IDENTIFIER_TAGS.get(top.tag, set())
    # Iterative, level by level: a deeply nested PDU cannot exhaust the stack here.
    level = [top]
    for _ in range(_ACSE_DEPTH):
        inner: list[Element] = []
        for element in level:
            if element.constructed:
                for child in children(data, element):
                    budget -= 1
                    if budget < 0:
                        raise ProtocolError(
                            f"association PDU with more than {MAX_ACSE_ELEMENTS} elements",
                            data=data,
                            offset=child.start,
                        )
                    _check_identifier(data, child, tags)
                    inner.append(child)
        level = inner


def _check_rose(data: bytes, top: Element) -> None:
    tags = frozenset({_OBJECT_IDENTIFIER_TAG})
    for index, child in enumerate(children(data, top)):
        if index == _ROSE_ELEMENTS:
            break
        _check_identifier(data, child, tags)
        if child.tag == _SEQUENCE_TAG and index == 1:  # ReturnResult: { opcode, result }
            for inner in children(data, child):
                _check_identifier(data, inner, tags)
                break


def credential_spans(pdu: bytes) -> list[tuple[int, int]]:
    """Byte ranges of the login in an AARQ (calling-authentication-value); [] otherwise."""
    if not pdu or pdu[0] != _AARQ_TAG:
        return []
    try:
        top = read_element(pdu, 0, len(pdu))
        return [
            (child.start, child.end)
            for child in children(pdu, top)
            if child.tag == _CALLING_AUTHENTICATION_VALUE_TAG
        ]
    except ProtocolError:
        # Unreadable: mask everything after the application context rather than risk it.
        return [(min(len(pdu), 2), len(pdu))]
