"""Matching responses to requests by id, with timeouts and no leaked waiters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager

from .errors import ConnectionClosed, PbxError


class RequestTracker[T]:
    """Futures keyed by request id (CSTA invoke id, AlphaCom sequence number, ...).

    The waiter is registered before the request is sent, and removed when the caller is
    done with it, whatever happens (zigpy-znp: "create the response listener before we
    send the request").
    """

    def __init__(self) -> None:
        self._pending: dict[int, asyncio.Future[T]] = {}

    def __contains__(self, request_id: int) -> bool:
        return request_id in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    @contextmanager
    def expect(self, request_id: int) -> Iterator[asyncio.Future[T]]:
        """Register a waiter for ``request_id`` for the duration of the block."""
        if request_id in self._pending:
            raise PbxError(f"request id {request_id} is already waiting for an answer")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            yield future
        finally:
            self._pending.pop(request_id, None)
            if not future.done():
                future.cancel()

    def resolve(self, request_id: int, result: T) -> bool:
        """Deliver a result; return False if nobody waits for that id."""
        future = self._pending.get(request_id)
        if future is None or future.done():
            return False
        future.set_result(result)
        return True

    def fail(self, request_id: int, error: BaseException) -> bool:
        """Deliver an error; return False if nobody waits for that id."""
        future = self._pending.get(request_id)
        if future is None or future.done():
            return False
        future.set_exception(error)
        return True

    def fail_all(self, error: Callable[[], BaseException] = ConnectionClosed) -> None:
        """Fail every waiter (the link is gone)."""
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error())


class IdAllocator:
    """Hands out request ids in 1..maximum, wrapping and skipping ids still in use."""

    def __init__(self, maximum: int, in_use: Callable[[int], bool]) -> None:
        self._maximum = maximum
        self._in_use = in_use
        self._last = 0

    def next(self) -> int:
        """Return the next free id."""
        for _ in range(self._maximum):
            self._last = self._last % self._maximum + 1
            if not self._in_use(self._last):
                return self._last
        raise PbxError(f"all {self._maximum} request ids are waiting for answers")


async def run_windowed[T, R](
    items: Iterable[T], worker: Callable[[T], Awaitable[R]], window: int
) -> list[R | Exception]:
    """Run ``worker`` on every item with at most ``window`` running at once.

    Returns each item's result or the exception it raised, in the order of ``items``: one
    failing request must not stop the others (a PBX refusing one monitor, say).
    """
    pending = list(enumerate(items))
    outcomes: list[R | Exception] = [RuntimeError("not run")] * len(pending)
    queue = iter(pending)

    async def drain() -> None:
        for index, item in queue:
            try:
                outcomes[index] = await worker(item)
            except Exception as err:  # collected for the caller, who decides per item
                outcomes[index] = err

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, min(window, len(pending)))):
            group.create_task(drain())
    return outcomes
