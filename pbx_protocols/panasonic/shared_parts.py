"""One object for each set of equal parts of the compiled specification, before pickling.

asn1tools compiles a referenced type into every type that refers to it, and each copy
carries its own names, tags, member lists and type checkers: the kept types are 3,210
asn1tools objects, lists and dicts (and their strings and tags), 0.84 MB once unpickled.
Most are equal to another part: an alternative of a device identifier is the same wherever
the identifier is used. Here each part is replaced by the first equal one, children first,
so pickle writes it once and loading makes it once: 1,582 objects, 0.36 MB, and a file of
76 instead of 165 kB.

Sharing is sound because compiled types are never changed after compiling: asn1tools'
encoders and decoders only read them. A part reached again while it is being compared (the
specification's recursive types) keeps its own object.
"""

from __future__ import annotations

from typing import Any, Final

#: Values compared by value.
_ATOMS: Final = (str, bytes, int, bool, type(None))
#: Objects whose attributes are compared: asn1tools' types and those of this package.
_GRAPH_MODULES: Final = ("asn1tools", "pbx_protocols.panasonic.spec")


def share_equal_parts(types: dict[str, Any]) -> dict[str, Any]:
    """Return ``types`` with every part that equals an earlier one replaced by it."""
    sharing = _Sharing()
    return {name: sharing.shared(compiled) for name, compiled in types.items()}


class _Sharing:
    """Walks the graph children first (iteratively: its chains are deep) and keeps one of each."""

    def __init__(self) -> None:
        self._first: dict[tuple[Any, ...], Any] = {}
        #: Each object met, by identity: what replaces it (itself, or an equal earlier one).
        self._replacement: dict[int, Any] = {}
        self._in_progress: set[int] = set()
        #: Everything met stays alive until the end: identities are not reused meanwhile.
        self._met: list[Any] = []

    def shared(self, root: Any) -> Any:  # noqa: ANN401  # asn1tools' types are untyped
        """The object that replaces ``root`` (its parts replaced as well)."""
        pending: list[tuple[Any, bool]] = [(root, False)]
        while pending:
            item, children_done = pending.pop()
            if children_done:
                self._finish(item)
            elif id(item) not in self._replacement and id(item) not in self._in_progress:
                children = parts_of(item)
                if children is None:
                    self._replace(item, _atom_key(item))
                else:
                    self._in_progress.add(id(item))
                    pending.append((item, True))
                    pending.extend((child, False) for child in children)
        return self._replacement.get(id(root), root)

    def _finish(self, item: Any) -> None:  # noqa: ANN401
        self._in_progress.discard(id(item))
        new = self._replacement.get
        key: tuple[Any, ...]
        if isinstance(item, list):
            item[:] = [new(id(child), child) for child in item]
            key = (list, *map(id, item))
        elif isinstance(item, tuple):
            replaced = tuple(new(id(child), child) for child in item)
            key = (tuple, *map(id, replaced))
            self._met.append(item)
            self._replacement[id(item)] = self._first.setdefault(key, replaced)
            self._met.append(replaced)
            return
        elif isinstance(item, dict):
            pairs = [(new(id(k), k), new(id(v), v)) for k, v in item.items()]
            item.clear()
            item.update(pairs)
            key = (dict, *((id(k), id(v)) for k, v in pairs))
        else:
            attributes = vars(item)
            for name, value in attributes.items():
                attributes[name] = new(id(value), value)
            key = (type(item), *((name, id(value)) for name, value in attributes.items()))
        self._replace(item, key)

    def _replace(self, item: Any, key: tuple[Any, ...] | None) -> None:  # noqa: ANN401
        self._met.append(item)
        self._replacement[id(item)] = item if key is None else self._first.setdefault(key, item)


def _atom_key(item: Any) -> tuple[Any, ...] | None:  # noqa: ANN401
    """How a leaf is compared: atoms and byte arrays by value, anything else not at all."""
    if type(item) in _ATOMS:
        return (type(item), item)
    if type(item) is bytearray:
        return (bytearray, bytes(item))
    return None


def parts_of(item: Any) -> list[Any] | None:  # noqa: ANN401  # asn1tools' types are untyped
    """What a part of the compiled graph refers to; None for a leaf (a value, or foreign).

    The graph: asn1tools' types and type checkers, and their lists, tuples and dicts.
    """
    if isinstance(item, (list, tuple)):
        return list(item)
    if isinstance(item, dict):
        return [*item.keys(), *item.values()]
    if hasattr(item, "__dict__") and type(item).__module__.startswith(_GRAPH_MODULES):
        return list(vars(item).values())
    return None
