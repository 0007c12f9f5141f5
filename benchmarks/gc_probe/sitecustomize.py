"""Notes Home Assistant's full garbage collections for ``script/benchmark ha``.

Python runs this module at start-up because the benchmark puts its directory on the
PYTHONPATH of the Home Assistant processes it starts; it does nothing unless
``PBX_BENCHMARK_GC_LOG`` names a file. Each full collection adds a line: when it started
(wall clock, seconds), how long it took (seconds) and how many objects it freed.
"""

import gc
import os
import time
from pathlib import Path

# Taken out of the environment: the processes Home Assistant starts (the specification's
# compiling child, for one) inherit its PYTHONPATH and would write to the same log.
_LOG_PATH = os.environ.pop("PBX_BENCHMARK_GC_LOG", None)


def _install(path: str) -> None:
    log = Path(path).open("a", buffering=1)  # noqa: SIM115  # open for the process's lifetime
    started = [0.0, 0.0]

    def note(phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started[:] = [time.time(), time.perf_counter()]
            return
        took = time.perf_counter() - started[1]
        log.write(f"{started[0]:.6f} {took:.6f} {info.get('collected', 0)}\n")

    gc.callbacks.append(note)


if _LOG_PATH:
    _install(_LOG_PATH)
