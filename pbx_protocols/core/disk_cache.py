"""Where the library keeps what it computes once and can compute again (compiled ASN.1).

By default that is the user's cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``). An
application with a cache directory of its own says so with :func:`set_cache_directory`:
Home Assistant's, for one, survives its container being replaced on every update, which
its home directory does not (and that one may not be writable at all).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

#: The library's directory inside the user's cache directory.
LIBRARY_DIRECTORY: Final = "pbx-protocols"

_directory: Path | None = None


def set_cache_directory(directory: str | os.PathLike[str] | None) -> None:
    """Keep the cache in ``directory`` from now on (None: the user's cache directory)."""
    global _directory  # one cache per process, like the compiled types it holds
    _directory = None if directory is None else Path(directory)


def cache_directory() -> Path | None:
    """The directory of the cache (it may not exist yet, or be unusable); None: no cache.

    There is none without a home directory: a shared one such as /tmp would let others
    plant what the library loads.
    """
    if _directory is not None:
        return _directory
    root = os.environ.get("XDG_CACHE_HOME")
    if root:
        return Path(root) / LIBRARY_DIRECTORY
    try:
        return Path.home() / ".cache" / LIBRARY_DIRECTORY
    except RuntimeError:  # no home directory
        return None
