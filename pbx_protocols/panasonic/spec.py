"""The compiled ASN.1 specification (ACSE, ROSE, CSTA, KME), cached on disk.

Compiling takes a few hundred milliseconds; the pickled result loads in a few. The cache key
is a hash of the .asn sources and the asn1tools version, so an upgrade of either recompiles.
A cache that cannot be read or written is skipped silently: it is an optimisation only.

What is cached is the compiled types alone, not asn1tools' ``Specification``: loading that
class would import asn1tools' compiler, its parser and pyparsing (see
:mod:`.lazy_asn1tools`), which only compiling needs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from functools import cache
from pathlib import Path
from typing import Any, Final

import asn1tools
from asn1tools.codecs import ber, type_checker
from asn1tools.version import __version__ as ASN1TOOLS_VERSION

_LOGGER = logging.getLogger(__name__)
ASN1_DIRECTORY: Final = Path(__file__).with_name("asn1")

#: Changes whenever what is pickled changes (e.g. the tolerant enumerations).
_CACHE_FORMAT: Final = b"compiled-types-1"
#: One of asn1tools' compiled BER types (asn1tools ships no type information).
type CompiledType = Any


def _sources() -> list[Path]:
    return sorted(ASN1_DIRECTORY.glob("*.asn"))


def _cache_path() -> Path:
    digest = hashlib.sha256(ASN1TOOLS_VERSION.encode() + _CACHE_FORMAT)
    for source in _sources():
        digest.update(source.read_bytes())
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "pbx-protocols" / f"panasonic-asn1-{digest.hexdigest()[:16]}.pickle"


class _TolerantEnumerated(ber.Enumerated):  # type: ignore[misc]  # asn1tools is untyped
    """An ENUMERATED that decodes a value the specification does not list to its number.

    A PBX newer than the standard (or than our copy of it) sends causes and states we do not
    know; dropping the whole event for one of them would lose everything else it says.
    """

    def decode_content(self, data: bytearray, offset: int, length: int) -> tuple[Any, int]:
        end = offset + length
        value = int.from_bytes(data[offset:end], byteorder="big", signed=True)
        return self.value_to_data.get(value, value), end

    def encode_content(self, data: Any, values: Any = None) -> Any:  # noqa: ANN401
        if isinstance(data, int) and not isinstance(data, bool):
            return ber.encode_signed_integer(data)
        return super().encode_content(data, values)


class _TolerantEnumeratedCheck(type_checker.Enumerated):  # type: ignore[misc]
    """Lets the raw number of an unknown enumeration value be encoded again."""

    def encode(self, data: Any) -> None:  # noqa: ANN401
        if not (isinstance(data, int) and not isinstance(data, bool)):
            super().encode(data)


_TOLERANT: Final = {
    ber.Enumerated: _TolerantEnumerated,
    type_checker.Enumerated: _TolerantEnumeratedCheck,
}


class Asn1Types:
    """The specification's compiled types, encoding and decoding as asn1tools' ``Specification``."""

    __slots__ = ("types",)

    def __init__(self, types: dict[str, CompiledType]) -> None:
        #: Type name -> asn1tools' compiled BER type.
        self.types = types

    def encode(self, type_name: str, value: Any) -> bytes:  # noqa: ANN401  # asn1tools' values
        """Encode ``value`` as ``type_name``, checking its Python types first."""
        compiled = self.types[type_name]
        compiled.check_types(value)
        return bytes(compiled.encode(value))

    def decode_with_length(self, type_name: str, data: bytes) -> tuple[Any, int]:
        """Decode ``data`` as ``type_name``; return the value and the bytes it took."""
        value, length = self.types[type_name].decode_with_length(data)
        return value, length


def _tolerate_unknown_enumerations(types: dict[str, CompiledType]) -> dict[str, CompiledType]:
    """Swap every compiled ENUMERATED (codec and type check) for the tolerant kind."""
    seen: set[int] = set()
    pending: list[Any] = list(types.values())
    while pending:  # iterative: the type graph has cycles and deep chains
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (list, tuple)):
            pending.extend(item)
            continue
        if isinstance(item, dict):
            pending.extend(item.values())
            continue
        if not type(item).__module__.startswith("asn1tools") or not hasattr(item, "__dict__"):
            continue
        replacement = _TOLERANT.get(type(item))
        if replacement is not None:
            item.__class__ = replacement
        pending.extend(vars(item).values())
    return types


@cache
def specification() -> Asn1Types:
    """Return the compiled BER specification (compiled once per process, cached on disk)."""
    return Asn1Types(_load_or_compile())


def _load_or_compile() -> dict[str, CompiledType]:
    path = _cache_path()
    try:
        with path.open("rb") as cached:
            loaded = pickle.load(cached)  # our own cache file, keyed by content hash
        if isinstance(loaded, dict):
            return loaded
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass  # no usable cache: compile below
    # asn1tools' package (its compiler) loads here, and only here (see lazy_asn1tools).
    compiled = asn1tools.compile_files([str(p) for p in _sources()], codec="ber")
    types = _tolerate_unknown_enumerations(dict(compiled.types))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as out:
            pickle.dump(types, out, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(path)
    except OSError as err:
        _LOGGER.debug("Cannot cache the compiled ASN.1 specification at %s: %s", path, err)
    return types


async def async_load_specification() -> Asn1Types:
    """Load the specification in a worker thread (it reads, maybe compiles, files).

    Sessions and the simulator await this before their first PDU, so that no event loop
    ever blocks on it; later calls of :func:`specification` are answered from memory.
    """
    import asyncio  # only sessions and simulators get here; decoding alone does not

    if specification.cache_info().currsize:
        return specification()
    return await asyncio.get_running_loop().run_in_executor(None, specification)
