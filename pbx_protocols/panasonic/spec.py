"""The compiled ASN.1 specification (ACSE, ROSE, CSTA, KME), cached on disk.

Compiling takes a few hundred milliseconds; the pickled result loads in a few. The cache key
is a hash of the .asn sources and the asn1tools version, so an upgrade of either recompiles.
A cache that cannot be read or written is skipped silently: it is an optimisation only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import pickle
from functools import cache
from pathlib import Path
from typing import Any, Final

import asn1tools

_LOGGER = logging.getLogger(__name__)
ASN1_DIRECTORY: Final = Path(__file__).with_name("asn1")

#: asn1tools' compiled specification (asn1tools ships no type information).
type Asn1Specification = Any


def _sources() -> list[Path]:
    return sorted(ASN1_DIRECTORY.glob("*.asn"))


def _cache_path() -> Path:
    digest = hashlib.sha256(asn1tools.__version__.encode())
    for source in _sources():
        digest.update(source.read_bytes())
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "pbx-protocols" / f"panasonic-asn1-{digest.hexdigest()[:16]}.pickle"


@cache
def specification() -> Asn1Specification:
    """Return the compiled BER specification (compiled once per process, cached on disk)."""
    path = _cache_path()
    try:
        with path.open("rb") as cached:
            return pickle.load(cached)  # our own cache file, keyed by content hash
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass  # no usable cache: compile below
    spec = asn1tools.compile_files([str(p) for p in _sources()], codec="ber")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as out:
            pickle.dump(spec, out, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(path)
    except OSError as err:
        _LOGGER.debug("Cannot cache the compiled ASN.1 specification at %s: %s", path, err)
    return spec


async def async_load_specification() -> Asn1Specification:
    """Load the specification in a worker thread (it reads, maybe compiles, files).

    Sessions and the simulator await this before their first PDU, so that no event loop
    ever blocks on it; later calls of :func:`specification` are answered from memory.
    """
    if specification.cache_info().currsize:
        return specification()
    return await asyncio.get_running_loop().run_in_executor(None, specification)
