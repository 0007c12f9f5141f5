"""A fake clock for the running event loop (the xknx ``time_travel`` pattern).

Protocol timers only use loop time (asyncio.sleep, asyncio.timeout, loop.call_at), so
offsetting ``loop.time`` moves them all; nothing in the library is patched.
"""

from __future__ import annotations

import asyncio
from typing import Any

_DRAIN_ROUNDS = 50


class EventLoopClockAdvancer:
    """Offsets ``loop.time`` and runs whatever becomes due."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._real_time = loop.time
        self._debug = loop.get_debug()
        self.offset = 0.0
        # Debug mode would report every jump of the clock as a slow callback.
        loop.set_debug(False)
        loop.time = self._time  # type: ignore[method-assign]

    def _time(self) -> float:
        return self._real_time() + self.offset

    def restore(self) -> None:
        """Give the loop its real clock back."""
        del self._loop.time
        self._loop.set_debug(self._debug)

    async def _drain(self) -> None:
        for _ in range(_DRAIN_ROUNDS):
            await asyncio.sleep(0)

    def _next_deadline(self) -> float | None:
        scheduled: list[Any] = getattr(self._loop, "_scheduled", [])
        deadlines = [handle.when() for handle in scheduled if not handle.cancelled()]
        return min(deadlines, default=None)

    async def __call__(self, seconds: float) -> None:
        """Advance the clock by ``seconds``, firing timers in order as they come due."""
        target = self._time() + seconds
        await self._drain()
        while (deadline := self._next_deadline()) is not None and deadline <= target:
            self.offset += max(0.0, deadline - self._time())
            await self._drain()
        self.offset += max(0.0, target - self._time())
        await self._drain()
