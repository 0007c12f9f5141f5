"""One warning for a problem that repeats, then a count at most once per interval.

A PBX (or something pretending to be one) can send thousands of bad frames a second; a
warning for each would fill the disk and bury everything else in the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

SUMMARY_INTERVAL: Final = 60.0


def _now() -> float:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:  # called from a thread (a USB reader) or without a loop
        return time.monotonic()


class RepeatedWarning:
    """Logs the first occurrence at WARNING, later ones as a periodic count.

    ``report`` takes a logging format and its arguments, like ``Logger.warning``.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = SUMMARY_INTERVAL,
        clock: Callable[[], float] = _now,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._last_logged: float | None = None
        self._suppressed = 0
        self.total = 0

    def report(self, message: str, *args: object) -> None:
        """Record one occurrence; log it if the interval allows."""
        self.total += 1
        now = self._clock()
        if self._last_logged is None:
            self._last_logged = now
            self._logger.warning(message, *args)
            return
        self._suppressed += 1
        if now - self._last_logged >= self._interval:
            self._summarise(now, message, *args)

    def flush(self) -> None:
        """Log the count of occurrences not yet reported (e.g. when the link closes)."""
        if self._suppressed:
            self._summarise(self._clock(), None)

    def _summarise(self, now: float, message: str | None, *args: object) -> None:
        assert self._last_logged is not None
        count, self._suppressed = self._suppressed, 0
        elapsed = now - self._last_logged
        self._last_logged = now
        if message is None:
            self._logger.warning("... and %d more like it in the last %.0f s", count, elapsed)
            return
        self._logger.warning(
            "%d more like it in the last %.0f s, the latest: %s",
            count,
            elapsed,
            message % args if args else message,
        )
