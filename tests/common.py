"""Helpers shared by the library and the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` until it holds (real I/O is in flight, so no fake clock here)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
