"""Helpers shared by the library and the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` until it holds (real I/O is in flight, so no fake clock here)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def identical(left: Any, right: Any) -> bool:
    """Equal, and of the same types all the way down (bytes is not bytearray here)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(identical(left[k], right[k]) for k in left)
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(map(identical, left, right))
    return bool(left == right)
