"""A deadline that proof of life pushes back; when it passes, the link is declared dead."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Watchdog:
    """Calls ``on_expired`` once if :meth:`feed` is not called for ``timeout`` seconds."""

    def __init__(self, timeout: float, on_expired: Callable[[], None]) -> None:
        self._timeout = timeout
        self._on_expired = on_expired
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Arm the watchdog (or re-arm it)."""
        self.feed()

    def feed(self) -> None:
        """Push the deadline ``timeout`` seconds into the future."""
        self.stop()
        loop = asyncio.get_running_loop()
        self._handle = loop.call_at(loop.time() + self._timeout, self._expire)

    def stop(self) -> None:
        """Disarm the watchdog."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expire(self) -> None:
        self._handle = None
        self._on_expired()
