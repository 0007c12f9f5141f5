"""A faster BER decoder for what PBXs send, built from asn1tools' own compiled types.

asn1tools spends most of a CSTA decode in general machinery (out-of-order members,
indefinite lengths, constructed strings, error bookkeeping), about 60 µs per event report.
PBXs send the canonical form: members in order, definite lengths, primitive strings. This
module walks asn1tools' compiled type tree once and builds a small decoder per type for
exactly that form (SEQUENCEs and explicit tags as generated code, see
:mod:`.fast_ber_codegen`), returning the very values asn1tools returns. Anything else (an
encoding it does not handle, and every malformed input) raises :class:`FallBack`, and
asn1tools decodes it as before, so errors and unusual encodings keep asn1tools' behaviour.
Tests and ``script/fuzz`` check that both agree wherever this decoder answers.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from asn1tools.codecs import ber

from .fast_ber_codegen import generated_explicit, generated_sequence
from .fast_ber_header import (
    Asn1Value,
    ContentDecoder,
    FallBack,
    TagKey,
    read_header,
    tag_key,
)

__all__ = ["FallBack", "FastDecoder"]


class _Node:
    """The decoder of one asn1tools type: the tags it accepts and how to read its content."""

    __slots__ = ("content", "tags")

    def __init__(self) -> None:
        #: Tags this type can start with; None: any tag (ANY, an extensible CHOICE).
        self.tags: frozenset[TagKey] | None = frozenset()
        self.content: ContentDecoder = _unsupported

    def element(self, data: bytes, offset: int, end: int) -> tuple[Asn1Value, int]:
        """Decode the whole element at ``offset``; return its value and where it ends."""
        tag, start, content_end = read_header(data, offset, end)
        if self.tags is not None and tag not in self.tags:
            raise FallBack
        return self.content(data, offset, start, content_end, tag), content_end


def _unsupported(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
    raise FallBack


class _Member:
    """A SEQUENCE member: its name, decoder and what its absence means."""

    __slots__ = ("has_default", "name", "node", "optional")

    def __init__(self, member: Any, node: _Node) -> None:  # noqa: ANN401  # asn1tools type
        self.name: str = member.name
        self.node = node
        self.optional: bool = bool(member.optional)
        self.has_default: bool = bool(member.has_default())


class _Compiler:
    """Builds decoders from asn1tools' compiled BER types (each type once; cycles allowed)."""

    def __init__(self, max_identifier: int) -> None:
        self._nodes: dict[int, _Node] = {}
        self._max_identifier = max_identifier

    def node(self, kind: Any) -> _Node:  # noqa: ANN401  # asn1tools types are untyped
        """The decoder of an asn1tools type."""
        existing = self._nodes.get(id(kind))
        if existing is not None:
            return existing
        node = self._nodes[id(kind)] = _Node()
        self._build(kind, node)
        return node

    def _build(self, kind: Any, node: _Node) -> None:  # noqa: ANN401
        if isinstance(kind, ber.Recursive):
            if kind.inner is None:
                raise FallBack  # not resolved by asn1tools: leave this type to it
            inner = self.node(kind.inner)
            node.tags, node.content = inner.tags, inner.content
            return
        if isinstance(kind, ber.Choice):
            self._choice(kind, node)
            return
        if isinstance(kind, ber.Any):
            node.tags = None
            node.content = _any
            return
        node.tags = frozenset({tag_key(kind.tag)})
        if isinstance(kind, ber.ExplicitTag):
            node.content = generated_explicit(self.node(kind.inner))
        elif isinstance(kind, ber.MembersType):
            if isinstance(kind, ber.Set):
                return  # any member order is valid in a SET: asn1tools' business
            root = [_Member(member, self.node(member)) for member in kind.root_members]
            additions = [
                _Member(member, self.node(member)) for member in ber.flatten(kind.additions or [])
            ]
            if not any(member.has_default for member in (*root, *additions)):
                # The specification has no DEFAULT members; asn1tools fills them in otherwise.
                node.content = generated_sequence(root, additions)
        elif isinstance(kind, ber.ArrayType):
            node.content = _sequence_of(self.node(kind.element_type))
        elif isinstance(kind, ber.ObjectIdentifier):
            node.content = _object_identifier(self._max_identifier)
        else:
            node.content = _primitive(kind)

    def _choice(self, kind: Any, node: _Node) -> None:  # noqa: ANN401
        table: dict[TagKey, tuple[str, _Node]] = {
            tag_key(tag): (member.name, self.node(member))
            for tag, member in kind.tag_to_member.items()
        }
        extensible = bool(kind.has_extension_marker)
        node.tags = None if extensible else frozenset(table)

        def content(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
            chosen = table.get(tag)
            if chosen is None:
                if extensible:
                    return (None, None)  # what asn1tools makes of an unknown alternative
                raise FallBack
            name, member = chosen
            return (name, member.content(data, element, start, end, tag))

        node.content = content


def _any(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
    return bytearray(data[element:end])


def _sequence_of(element_node: _Node) -> ContentDecoder:
    def content(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
        items = []
        position = start
        while position < end:
            value, position = element_node.element(data, position, end)
            items.append(value)
        return items

    return content


def _primitive(kind: Any) -> ContentDecoder:  # noqa: ANN401  # asn1tools type
    """Content decoders of the simple types; others delegate to asn1tools' own method."""
    primitive_tag = tag_key(kind.tag)
    if isinstance(kind, ber.Integer):
        return lambda data, element, start, end, tag: int.from_bytes(data[start:end], signed=True)
    if isinstance(kind, ber.Enumerated):
        return _enumerated(kind)
    if isinstance(kind, ber.OctetString):

        def octets(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
            if tag != primitive_tag:
                raise FallBack  # constructed (segmented) form
            return bytes(data[start:end])

        return octets
    if isinstance(kind, ber.StringType):
        encoding = kind.ENCODING

        def text(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
            if tag != primitive_tag:
                raise FallBack
            try:
                return bytes(data[start:end]).decode(encoding)
            except UnicodeDecodeError:
                raise FallBack from None

        return text
    if isinstance(kind, ber.BitString):

        def bits(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
            if tag != primitive_tag or end == start:
                raise FallBack
            return (bytearray(data[start + 1 : end]), 8 * (end - start - 1) - data[start])

        return bits
    if isinstance(kind, ber.Null):

        def null(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
            if end != start:
                raise FallBack
            return None

        return null
    if isinstance(kind, ber.Boolean):

        def boolean(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
            if end - start != 1:
                raise FallBack
            return bool(data[start])

        return boolean

    def delegated(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
        # Rare types (identifiers, times): asn1tools' own content decoding, errors and all.
        try:
            value, _ = kind.decode_content(bytearray(data), start, end - start)
        except Exception:  # whatever it raises, asn1tools will say it again
            raise FallBack from None
        return value

    return delegated


def _object_identifier(max_length: int) -> ContentDecoder:
    """Linear, unlike asn1tools' decoding, and capped: a longer one is asn1tools' to refuse."""

    def content(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
        if not start < end <= start + max_length or data[end - 1] & 0x80:
            raise FallBack
        arcs = []
        value = 0
        for byte in data[start:end]:
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                arcs.append(value)
                value = 0
        first = arcs[0]
        return ".".join(map(str, [first // 40, first % 40, *arcs[1:]]))

    return content


def _enumerated(kind: Any) -> ContentDecoder:  # noqa: ANN401  # asn1tools type
    names: dict[int, Asn1Value] = kind.value_to_data
    # The specification's tolerant ENUMERATED keeps unknown values as numbers; a plain one
    # decodes them to None if it is extensible, else asn1tools raises its error.
    tolerant = type(kind).decode_content is not ber.Enumerated.decode_content
    extensible = bool(getattr(kind, "has_extension_marker", False))

    def content(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
        value = int.from_bytes(data[start:end], signed=True)
        if value in names:
            return names[value]
        if tolerant:
            return value
        if extensible:
            return None
        raise FallBack

    return content


class FastDecoder:
    """Decoders for the types of one asn1tools specification, built on first use."""

    def __init__(self, specification: Any, *, max_identifier: int) -> None:  # noqa: ANN401
        """``max_identifier``: longest OBJECT IDENTIFIER (content bytes) decoded here."""
        self._types = specification.types
        self._compiler = _Compiler(max_identifier)
        self._roots: dict[str, _Node | None] = {}
        # Decoders may be built in a worker thread (prepare) while a loop decodes: one
        # builder at a time, and a root is published only when all of it is built.
        self._building = threading.Lock()

    def is_prepared(self, type_name: str) -> bool:
        """Whether the decoder of ``type_name`` is built."""
        return type_name in self._roots

    def prepare(self, type_name: str) -> None:
        """Build the decoder of ``type_name`` now (an event report's takes tens of ms)."""
        if type_name not in self._roots:
            self._root(type_name)

    def decode(self, type_name: str, data: bytes) -> Asn1Value:
        """Decode ``data`` as ``type_name``; raise FallBack for anything left to asn1tools."""
        root = self._roots.get(type_name, _MISSING)
        if root is _MISSING:
            root = self._root(type_name)
        if root is None:
            raise FallBack
        try:
            value, end = root.element(data, 0, len(data))
        except (IndexError, ValueError, TypeError, RecursionError):
            raise FallBack from None
        if end != len(data):
            raise FallBack
        return value

    def _root(self, type_name: str) -> _Node | None:
        with self._building:
            if type_name in self._roots:  # built meanwhile by another thread
                return self._roots[type_name]
            try:
                root: _Node | None = self._compiler.node(self._types[type_name]._type)  # noqa: SLF001
            except FallBack:
                root = None
            self._roots[type_name] = root
            return root


_MISSING: Final = _Node()
