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
from collections.abc import Callable, Iterable
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

    def shape(self) -> tuple[str, bool, _Node]:
        """What the generated SEQUENCE depends on of this member."""
        return (self.name, self.optional, self.node)


#: What makes two decoders the same: their kind, tags and parts (child nodes by identity).
type _Shape = tuple[object, ...]


class _Compiler:
    """Builds decoders from asn1tools' compiled BER types; equal ones are built once.

    asn1tools compiles a referenced type into every type that refers to it: the CSTA
    specification's 33 named types hold 1,277 type objects as compiled, most of them copies
    of a few dozen (device identifiers, call identifiers). Decoders are shared by shape
    (what they decode and how, children by identity, built first): 285 of them.
    A type reached again while it is still being built (recursion) keeps its own node, which
    the members that reached it read at each call.
    """

    def __init__(self, max_identifier: int) -> None:
        self._max_identifier = max_identifier
        #: Nodes by asn1tools type; those still being built, and those reached meanwhile.
        self._nodes: dict[int, _Node] = {}
        self._in_progress: set[int] = set()
        self._reentered: set[int] = set()
        #: Finished nodes by shape.
        self._shared: dict[_Shape, _Node] = {}
        self._tag_sets: dict[TagKey, frozenset[TagKey]] = {}

    def node(self, kind: Any) -> _Node:  # noqa: ANN401  # asn1tools types are untyped
        """The decoder of an asn1tools type."""
        key = id(kind)
        existing = self._nodes.get(key)
        if existing is not None:
            if key in self._in_progress:
                self._reentered.add(key)
            return existing
        placeholder = self._nodes[key] = _Node()
        self._in_progress.add(key)
        try:
            built = self._build(kind, placeholder)
        finally:
            self._in_progress.discard(key)
        if built is not placeholder and key in self._reentered:
            # Members already hold the placeholder: it becomes the decoder.
            placeholder.tags, placeholder.content = built.tags, built.content
            built = placeholder
        self._nodes[key] = built
        return built

    def _made(
        self, shape: _Shape, tags: frozenset[TagKey] | None, make: Callable[[], ContentDecoder]
    ) -> _Node:
        """The node of ``shape``: the shared one, or a new one whose content ``make()`` builds."""
        node = self._shared.get(shape)
        if node is None:
            node = self._shared[shape] = _Node()
            node.tags, node.content = tags, make()
        return node

    def _tags(self, tag: bytes) -> frozenset[TagKey]:
        key = tag_key(tag)
        tags = self._tag_sets.get(key)
        if tags is None:
            tags = self._tag_sets[key] = frozenset({key})
        return tags

    def _build(self, kind: Any, placeholder: _Node) -> _Node:  # noqa: ANN401
        if isinstance(kind, ber.Recursive):
            if kind.inner is None:
                raise FallBack  # not resolved by asn1tools: leave this type to it
            if id(kind.inner) in self._in_progress:  # asn1tools decodes this recursion
                return self._made(("unsupported", None), frozenset(), lambda: _unsupported)
            return self.node(kind.inner)
        if isinstance(kind, ber.Choice):
            return self._choice(kind)
        if isinstance(kind, ber.Any):
            return self._made(("any",), None, lambda: _any)
        # Known before the content: a member that reaches this type again reads its tags.
        tags = placeholder.tags = self._tags(kind.tag)
        if isinstance(kind, ber.ExplicitTag):
            inner = self.node(kind.inner)
            return self._made(("explicit", tags, inner), tags, lambda: generated_explicit(inner))
        if isinstance(kind, ber.MembersType):
            return self._members(kind, tags)
        if isinstance(kind, ber.ArrayType):
            element = self.node(kind.element_type)
            return self._made(("array", tags, element), tags, lambda: _sequence_of(element))
        if isinstance(kind, ber.ObjectIdentifier):
            limit = self._max_identifier
            return self._made(("oid", tags), tags, lambda: _object_identifier(limit))
        shape, make = _primitive(kind, tags)
        return self._made(shape, tags, make)

    def _members(self, kind: Any, tags: frozenset[TagKey]) -> _Node:  # noqa: ANN401
        if isinstance(kind, ber.Set):
            # Any member order is valid in a SET: asn1tools' business.
            return self._made(("unsupported", tags), tags, lambda: _unsupported)
        root = [_Member(member, self.node(member)) for member in kind.root_members]
        additions = [
            _Member(member, self.node(member)) for member in ber.flatten(kind.additions or [])
        ]
        if any(member.has_default for member in (*root, *additions)):
            # The specification has no DEFAULT members; asn1tools fills them in otherwise.
            return self._made(("unsupported", tags), tags, lambda: _unsupported)
        shape = ("sequence", tags, *map(_Member.shape, root), "...", *map(_Member.shape, additions))
        return self._made(shape, tags, lambda: generated_sequence(root, additions))

    def _choice(self, kind: Any) -> _Node:  # noqa: ANN401
        table: dict[TagKey, tuple[str, _Node]] = {
            tag_key(tag): (member.name, self.node(member))
            for tag, member in kind.tag_to_member.items()
        }
        extensible = bool(kind.has_extension_marker)
        shape = ("choice", extensible, *((tag, *chosen) for tag, chosen in table.items()))
        tags = None if extensible else frozenset(table)
        return self._made(shape, tags, lambda: _choice_content(table, extensible=extensible))


def _choice_content(table: dict[TagKey, tuple[str, _Node]], *, extensible: bool) -> ContentDecoder:
    def content(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
        chosen = table.get(tag)
        if chosen is None:
            if extensible:
                return (None, None)  # what asn1tools makes of an unknown alternative
            raise FallBack
        name, member = chosen
        return (name, member.content(data, element, start, end, tag))

    return content


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


def _primitive(
    kind: Any,  # noqa: ANN401  # asn1tools type
    tags: frozenset[TagKey],
) -> tuple[_Shape, Callable[[], ContentDecoder]]:
    """A simple type's shape, and how to make its content decoder (once per shape).

    Other types delegate to asn1tools' own method of this very type.
    """
    primitive_tag = tag_key(kind.tag)
    if isinstance(kind, ber.Integer):
        return ("integer", tags), lambda: _integer
    if isinstance(kind, ber.Enumerated):
        shape = ("enumerated", tags, *_enumerated_rules(kind), *kind.value_to_data.items())
        return shape, lambda: _enumerated(kind)
    if isinstance(kind, ber.OctetString):
        return ("octets", tags), lambda: _octets(primitive_tag)
    if isinstance(kind, ber.StringType):
        encoding = kind.ENCODING
        return ("text", tags, encoding), lambda: _text(primitive_tag, encoding)
    if isinstance(kind, ber.BitString):
        return (ber.BitString, tags), lambda: _bits(primitive_tag)
    if isinstance(kind, ber.Null):
        return (ber.Null, tags), lambda: _null
    if isinstance(kind, ber.Boolean):
        return (ber.Boolean, tags), lambda: _boolean
    return ("delegated", id(kind)), lambda: _delegated(kind)


def _integer(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
    return int.from_bytes(data[start:end], signed=True)


def _octets(primitive_tag: TagKey) -> ContentDecoder:
    def octets(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
        if tag != primitive_tag:
            raise FallBack  # constructed (segmented) form
        return bytes(data[start:end])

    return octets


def _text(primitive_tag: TagKey, encoding: str) -> ContentDecoder:
    def text(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
        if tag != primitive_tag:
            raise FallBack
        try:
            return bytes(data[start:end]).decode(encoding)
        except UnicodeDecodeError:
            raise FallBack from None

    return text


def _bits(primitive_tag: TagKey) -> ContentDecoder:
    def bits(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
        if tag != primitive_tag or end == start:
            raise FallBack
        return (bytearray(data[start + 1 : end]), 8 * (end - start - 1) - data[start])

    return bits


def _null(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
    if end != start:
        raise FallBack
    return None


def _boolean(data: bytes, element: int, start: int, end: int, tag: TagKey) -> Asn1Value:
    if end - start != 1:
        raise FallBack
    return bool(data[start])


def _delegated(kind: Any) -> ContentDecoder:  # noqa: ANN401  # asn1tools type
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


def _enumerated_rules(kind: Any) -> tuple[bool, bool]:  # noqa: ANN401  # asn1tools type
    """Whether an ENUMERATED keeps unknown values as numbers, and whether it is extensible.

    The specification's tolerant ENUMERATED keeps unknown values as numbers; a plain one
    decodes them to None if it is extensible, else asn1tools raises its error.
    """
    tolerant = type(kind).decode_content is not ber.Enumerated.decode_content
    return tolerant, bool(getattr(kind, "has_extension_marker", False))


def _enumerated(kind: Any) -> ContentDecoder:  # noqa: ANN401  # asn1tools type
    names: dict[int, Asn1Value] = kind.value_to_data
    tolerant, extensible = _enumerated_rules(kind)

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
        self._max_identifier = max_identifier
        self._roots: dict[str, _Node | None] = {}
        # Decoders may be built in a worker thread (prepare) while a loop decodes: one
        # builder at a time, and a root is published only when all of it is built.
        self._building = threading.Lock()

    def is_prepared(self, type_name: str) -> bool:
        """Whether the decoder of ``type_name`` is built."""
        return type_name in self._roots

    def prepare(self, type_names: Iterable[str]) -> None:
        """Build the decoders of ``type_names`` now (an event report's takes tens of ms).

        Types prepared together share what they have in common; the compiler's tables are
        dropped afterwards.
        """
        with self._building:
            compiler = _Compiler(self._max_identifier)
            for type_name in type_names:
                if type_name not in self._roots:
                    self._roots[type_name] = self._built(compiler, type_name)

    def decode(self, type_name: str, data: bytes) -> Asn1Value:
        """Decode ``data`` as ``type_name``; raise FallBack for anything left to asn1tools."""
        root = self._roots.get(type_name, _MISSING)
        if root is _MISSING:
            self.prepare((type_name,))
            root = self._roots[type_name]
        if root is None:
            raise FallBack
        try:
            value, end = root.element(data, 0, len(data))
        except (IndexError, ValueError, TypeError, RecursionError):
            raise FallBack from None
        if end != len(data):
            raise FallBack
        return value

    def _built(self, compiler: _Compiler, type_name: str) -> _Node | None:
        try:
            return compiler.node(self._types[type_name]._type)  # noqa: SLF001
        except FallBack:
            return None


_MISSING: Final = _Node()
