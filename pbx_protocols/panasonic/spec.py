"""The compiled ASN.1 specification (ACSE, ROSE, CSTA, KME), cached on disk.

Compiling takes a few hundred milliseconds; the pickled result loads in a few. The cache key
is a hash of the .asn sources and the asn1tools version, so an upgrade of either recompiles.
A cache that cannot be read or written is skipped silently: it is an optimisation only.
The cache's directory is :mod:`..core.disk_cache`'s.

Compiling happens in a child process, which hands the pickled types over: asn1tools'
compiler, its parser and pyparsing (about 10 MB) would otherwise stay in the memory of a
long-running process such as Home Assistant after one cold start. If no child can run,
this process compiles.

What is cached is the compiled types alone, not asn1tools' ``Specification``: loading that
class would import asn1tools' compiler, its parser and pyparsing (see
:mod:`.lazy_asn1tools`), which only compiling needs.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Final

import asn1tools
from asn1tools.codecs import ber, type_checker
from asn1tools.version import __version__ as ASN1TOOLS_VERSION

from ..core.disk_cache import cache_directory
from .operations import operation_type_names
from .shared_parts import parts_of, share_equal_parts

_LOGGER = logging.getLogger(__name__)
ASN1_DIRECTORY: Final = Path(__file__).with_name("asn1")

#: Changes whenever what is pickled changes (e.g. the tolerant enumerations).
_CACHE_FORMAT: Final = b"compiled-types-4"
#: One of asn1tools' compiled BER types (asn1tools ships no type information).
type CompiledType = Any


#: The types this library encodes and decodes by name, besides its operations' (see
#: :func:`named_types`): the ACSE and ROSE envelopes, ACSE's user information, KME's login.
ENVELOPE_TYPE_NAMES: Final = frozenset(
    {
        "ACSE-apdu",
        "AARQ-apdu",
        "AARE-apdu",
        "RLRQ-apdu",
        "RLRE-apdu",
        "ABRT-apdu",
        "ACSEUserInformationForCSTA",
        "KmeSenderAuthentication",
        "ROSE-apdu",
    }
)


def named_types() -> frozenset[str]:
    """The types kept after compiling: each is compiled with the types it is made of.

    asn1tools compiles a referenced type into every type that refers to it, so the
    specification's other types, kept on their own as well, only took memory (0.7 MB).
    """
    return ENVELOPE_TYPE_NAMES | operation_type_names()


def _sources() -> list[Path]:
    return sorted(ASN1_DIRECTORY.glob("*.asn"))


#: How long the child compiling the specification may take (it takes about a second).
_COMPILE_TIMEOUT: Final = 120.0
#: What the child runs: it writes the pickled types to its standard output.
_CHILD_PROGRAM: Final = (
    "import sys\n"
    "from pbx_protocols.panasonic.spec import compiled_pickle\n"
    "sys.stdout.buffer.write(compiled_pickle())\n"
)


def _cache_path() -> Path | None:
    directory = cache_directory()
    if directory is None:
        return None
    digest = hashlib.sha256(ASN1TOOLS_VERSION.encode() + _CACHE_FORMAT)
    for source in _sources():
        digest.update(source.read_bytes())
    return directory / f"panasonic-asn1-{digest.hexdigest()[:16]}.pickle"


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
        replacement = _TOLERANT.get(type(item))
        if replacement is not None:
            item.__class__ = replacement
        pending.extend(parts_of(item) or ())
    return types


@cache
def specification() -> Asn1Types:
    """Return the compiled BER specification (compiled once per process, cached on disk)."""
    return Asn1Types(_load_or_compile())


_UNPICKLING_FAILURES: Final = (
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    IndexError,
    TypeError,
    ValueError,
)


def _load_or_compile() -> dict[str, CompiledType]:
    path = _cache_path()
    if path is not None:
        try:
            with path.open("rb") as cached:  # read as it unpickles: no copy of the file
                types = _unpickled(cached)  # our own cache file, keyed by content hash
        except OSError:
            types = None
        if types is not None:
            return types
    pickled = _compile_in_child()
    types = None if pickled is None else _unpickled(io.BytesIO(pickled))
    if types is None:  # no child, or it failed: compile here
        types = _compile()
        pickled = None
    if path is not None:  # pickled here only if there is a cache to write it to
        _write_cache(path, pickled or pickle.dumps(types, protocol=pickle.HIGHEST_PROTOCOL))
    return types


def _unpickled(pickled: BinaryIO) -> dict[str, CompiledType] | None:
    """The types pickled by this module (or its child); None if they are not that."""
    try:
        types = pickle.load(pickled)
    except _UNPICKLING_FAILURES:
        return None
    return types if isinstance(types, dict) else None


def _compile() -> dict[str, CompiledType]:
    """The kept types, equal parts shared (pickled once, loaded once: 0.84 -> 0.36 MB)."""
    return share_equal_parts(compiled_types())


def compiled_types() -> dict[str, CompiledType]:
    """The kept types as asn1tools compiles them (each part its own object), made tolerant."""
    # asn1tools' package (its compiler) loads here, and only here (see lazy_asn1tools).
    compiled = asn1tools.compile_files([str(p) for p in _sources()], codec="ber")
    named = named_types()
    types = _tolerate_unknown_enumerations(
        {name: compiled_type for name, compiled_type in compiled.types.items() if name in named}
    )
    for compiled_type in types.values():
        # Nothing here checks constraints (asn1tools' encode and decode do not by default),
        # and their checkers are a quarter of the compiled objects: 0.85 MB in memory.
        compiled_type.constraints_checker = None
    return types


def compiled_pickle() -> bytes:
    """Compile the specification in this process and return its types, pickled."""
    return pickle.dumps(_compile(), protocol=pickle.HIGHEST_PROTOCOL)


def _compile_in_child() -> bytes | None:
    """The pickled types, compiled by a child process; None if that failed."""
    if not sys.executable or getattr(sys, "frozen", False):
        return None  # no interpreter to run (a frozen application's binary is not one)
    package_root = Path(__file__).resolve().parents[2]  # where pbx_protocols is found
    search_path = os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")]))
    try:
        child = subprocess.run(  # our interpreter and our fixed program
            [sys.executable, "-c", _CHILD_PROGRAM],
            capture_output=True,
            timeout=_COMPILE_TIMEOUT,
            env={**os.environ, "PYTHONPATH": search_path},
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        _LOGGER.debug("Compiling the ASN.1 specification here: no child process (%s)", err)
        return None
    if child.returncode != 0 or not child.stdout:
        error = child.stderr.decode(errors="replace").strip().splitlines()[-1:]
        _LOGGER.debug(
            "Compiling the ASN.1 specification here: the child failed (%s: %s)",
            child.returncode,
            error,
        )
        return None
    return child.stdout


def _write_cache(path: Path, pickled: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(pickled)
        temporary.replace(path)
    except OSError as err:
        _LOGGER.debug("Cannot cache the compiled ASN.1 specification at %s: %s", path, err)


async def async_load_specification() -> Asn1Types:
    """Load the specification in a worker thread (it reads, maybe compiles, files).

    Sessions and the simulator await this before their first PDU, so that no event loop
    ever blocks on it; later calls of :func:`specification` are answered from memory.
    """
    import asyncio  # only sessions and simulators get here; decoding alone does not

    if specification.cache_info().currsize:
        return specification()
    return await asyncio.get_running_loop().run_in_executor(None, specification)
