"""Home Assistant's full garbage collections during ``script/benchmark ha``'s runs.

A full collection walks every object Home Assistant tracks (about half a million with
1,000 extensions) and holds its event loop meanwhile, 0.3-0.7 s on this machine: every
report that arrives during one is late, whichever integration it is for. The benchmark's
Home Assistant processes load :mod:`benchmarks.gc_probe` (its ``sitecustomize``) to note
each one, and every run reports those that started while it was measured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

PROBE_DIRECTORY: Final = Path(__file__).resolve().with_name("gc_probe")
LOG_VARIABLE: Final = "PBX_BENCHMARK_GC_LOG"


def log_path(config_dir: Path) -> Path:
    """Where a Home Assistant on ``config_dir`` notes its full collections."""
    return config_dir / "full-collections.log"


def probe_environment(config_dir: Path, *paths: Path) -> dict[str, str]:
    """Environment for a Home Assistant that notes its full collections.

    ``paths`` go first on its PYTHONPATH (the probe's directory last).
    """
    search = os.pathsep.join(str(path) for path in (*paths, PROBE_DIRECTORY))
    return {"PYTHONPATH": search, LOG_VARIABLE: str(log_path(config_dir))}


def full_collections(config_dir: Path, begin: float, end: float) -> dict[str, Any]:
    """How many full collections started between ``begin`` and ``end`` (wall clock)."""
    lengths = _lengths(config_dir, begin, end)
    return {
        "gc_full_collections": len(lengths),
        "gc_longest_ms": round(max(lengths) * 1000, 1) if lengths else None,
    }


def full_collection_seconds(config_dir: Path, begin: float, end: float) -> float:
    """How long the full collections that started between ``begin`` and ``end`` took."""
    return sum(_lengths(config_dir, begin, end))


def _lengths(config_dir: Path, begin: float, end: float) -> list[float]:
    lengths = []
    try:
        lines = log_path(config_dir).read_text().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        fields = line.split()
        if len(fields) == 3 and begin <= float(fields[0]) <= end:
            lengths.append(float(fields[1]))
    return lengths
