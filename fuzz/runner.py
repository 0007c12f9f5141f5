"""``script/fuzz``: at least a million hostile inputs per target; JSON counts per target.

Checks per input: only the library's typed errors (PbxError) escape, and no input takes
100 ms or more; per target: resident memory stays flat (compared after a tenth of the run
with the end). Exit status 1 if anything failed. Findings are printed with their hex, to
go into the regular tests.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Final

from pbx_protocols.core.errors import PbxError

from . import alphacom, nbx, panasonic
from .inputs import inputs
from .panasonic import SessionDispatch, rng_for

#: Each stack's fuzz module: its seeds, the places adversarial content goes, its targets.
STACKS: Final = (panasonic, alphacom, nbx)


def targets() -> dict[str, Callable[[bytes], None]]:
    """Every synchronous target of every stack, by name."""
    return {name: target for stack in STACKS for name, target in stack.targets().items()}


def _stack_of(name: str) -> Any:  # noqa: ANN401  # a fuzz module
    for stack in STACKS:
        if name in stack.targets() or (stack is panasonic and name == "session-dispatch"):
            return stack
    raise KeyError(name)


SLOW_SECONDS: Final = 0.1
#: Resident memory a target may gain between a tenth of its run and the end.
FLAT_BYTES: Final = 32 * 1024 * 1024
SESSION_BATCH: Final = 50
MAX_FINDINGS: Final = 5


def rss() -> int:
    """Resident memory of this process, in bytes."""
    with open("/proc/self/statm") as statm:  # noqa: PTH123  # procfs, Linux only
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _wrapped(rng_seed: int, stack: Any) -> Callable[[bytes], bytes]:  # noqa: ANN401
    """Puts adversarial content into a randomly chosen place of a PDU of the stack."""
    options = stack.wraps()
    rng = random.Random(rng_seed)
    return lambda content: rng.choice(options)(content)


def run_target(name: str, count: int, seed: int) -> dict[str, Any]:
    """Feed ``count`` inputs to one target; return its counts."""
    # The library's warnings about bad PDUs are expected here by the million.
    logging.disable(logging.WARNING)
    try:
        return _run_target(name, count, seed)
    finally:
        logging.disable(logging.NOTSET)


def _run_target(name: str, count: int, seed: int) -> dict[str, Any]:
    rng = rng_for(name, seed)
    stack = _stack_of(name)
    corpus = stack.seeds()
    kinds: Counter[str] = Counter()
    outcome: Counter[str] = Counter()
    findings: list[dict[str, str]] = []
    slowest = 0.0
    baseline = None
    session = SessionDispatch() if name == "session-dispatch" else None
    target = None if session else targets()[name]
    batch: list[bytes] = []
    started = time.perf_counter()

    def finding(data: bytes, problem: str) -> None:
        outcome["untyped"] += 1
        if len(findings) < MAX_FINDINGS:
            findings.append({"problem": problem, "hex": data[:512].hex()})

    for index, (kind, data) in enumerate(inputs(rng, count, corpus, _wrapped(seed, stack))):
        kinds[kind] += 1
        if index == count // 10:
            gc.collect()
            baseline = rss()
        if session is not None:
            batch.append(data)
            if len(batch) < SESSION_BATCH and index < count - 1:
                continue
            begin = time.perf_counter()
            problem = session.run(batch)
            elapsed = time.perf_counter() - begin
            slowest = max(slowest, elapsed / len(batch))
            if problem:
                finding(b"".join(batch[-3:]), problem)
            if elapsed >= SLOW_SECONDS:  # which one? time them one by one
                for single in batch:
                    begin = time.perf_counter()
                    session.run([single])
                    single_elapsed = time.perf_counter() - begin
                    if single_elapsed >= SLOW_SECONDS:
                        outcome["slow"] += 1
                        problem = f"slow ({single_elapsed * 1000:.0f} ms)"
                        findings.append({"problem": problem, "hex": single[:512].hex()})
            outcome["fed"] += len(batch)
            batch = []
            continue
        assert target is not None
        begin = time.perf_counter()
        try:
            target(data)
            outcome["accepted"] += 1
        except PbxError:
            outcome["typed_error"] += 1
        except Exception as err:  # exactly what the fuzzer looks for
            finding(data, "".join(traceback.format_exception_only(err)).strip())
        elapsed = time.perf_counter() - begin
        slowest = max(slowest, elapsed)
        if elapsed >= SLOW_SECONDS:
            outcome["slow"] += 1
            findings.append({"problem": f"slow ({elapsed * 1000:.0f} ms)", "hex": data[:512].hex()})
    if session is not None:
        session.close()
    gc.collect()
    growth = rss() - (baseline or rss())
    return {
        "target": name,
        "inputs": count,
        "kinds": dict(kinds),
        "accepted": outcome["accepted"],
        "typed_errors": outcome["typed_error"],
        "untyped_errors": outcome["untyped"],
        "slow_inputs": outcome["slow"],
        "slowest_ms": round(slowest * 1000, 2),
        "rss_growth_mb": round(growth / 1e6, 1),
        "memory_flat": growth < FLAT_BYTES,
        "seconds": round(time.perf_counter() - started, 1),
        "findings": findings,
    }


def main() -> int:
    """Run every target (in parallel processes) and print one JSON line each."""
    parser = argparse.ArgumentParser(prog="script/fuzz", description=__doc__)
    parser.add_argument("--inputs", type=int, default=1_000_000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=1, help="makes the run repeatable")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--target", action="append", help="only these targets")
    args = parser.parse_args()
    names = args.target or [*targets(), "session-dispatch"]
    failed = False
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_target, name, args.inputs, args.seed) for name in names]
        for future in futures:
            result = future.result()
            failed |= bool(result["untyped_errors"] or result["slow_inputs"])
            failed |= not result["memory_flat"]
            print(json.dumps(result), flush=True)
    return 1 if failed else 0
