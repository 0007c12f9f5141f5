"""Latency statistics shared by the benchmarks."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from typing import Any


def match(
    sent: Iterable[tuple[str, str, float]], received: Iterable[tuple[str, str, float]]
) -> list[float]:
    """Seconds from each sent report to its event, matched by (call id, kind) in order."""
    arrivals: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)
    for call_id, kind, moment in received:
        arrivals[call_id, kind].append(moment)
    delays = []
    for call_id, kind, moment in sent:
        waiting = arrivals.get((call_id, kind))
        if waiting:
            delays.append(waiting.popleft() - moment)
    return delays


def summary(delays: list[float]) -> dict[str, Any]:
    """p50, p99 and max in milliseconds."""
    if not delays:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(delays)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)

    return {"p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1000, 2)}


def lag_growth(delays: list[float]) -> float | None:
    """Median delay of the last tenth minus that of the first, in ms: a growing backlog.

    ``delays`` in the order the reports were sent.
    """
    if len(delays) < 20:
        return None
    tenth = len(delays) // 10
    first = sorted(delays[:tenth])[tenth // 2]
    last = sorted(delays[-tenth:])[tenth // 2]
    return round((last - first) * 1000, 2)
