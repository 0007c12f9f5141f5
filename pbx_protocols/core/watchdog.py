"""Noticing a dead link: probe after a quiet spell, give up when the probe goes unanswered.

A PBX process that hangs (or a host that stopped it) leaves its kernel acknowledging TCP,
so neither TCP keepalive nor the socket tell that nobody is there. The session feeds the
monitor with every PDU it receives; after ``probe_after`` seconds of silence the monitor
asks the session to send something the PBX must answer, and ``timeout`` seconds after the
last PDU it declares the link dead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

#: Seconds of silence after which a link counts as dead (library default, configurable).
DEAD_LINK_TIMEOUT: Final = 45.0
#: How long a probe's answer may take; the probe goes out this long before the deadline.
PROBE_ANSWER_TIME: Final = 15.0


class LivenessMonitor:
    """Calls ``probe`` after a quiet spell and ``on_dead`` once the link stayed silent.

    :meth:`feed` is cheap (it records the time); one timer per quiet spell does the rest.
    """

    def __init__(
        self,
        timeout: float,
        on_dead: Callable[[], None],
        probe: Callable[[], None] | None = None,
        *,
        probe_answer_time: float = PROBE_ANSWER_TIME,
    ) -> None:
        self.timeout = timeout
        self._probe_after = max(timeout - probe_answer_time, timeout / 3)
        self._on_dead = on_dead
        self._probe = probe
        self._last_seen = 0.0
        self._probed_at: float | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start watching (from now)."""
        self._loop = asyncio.get_running_loop()
        self.feed()
        self._schedule(self._last_seen + self._probe_after)

    def feed(self) -> None:
        """Record proof of life (any PDU from the peer)."""
        if self._loop is not None:
            self._last_seen = self._loop.time()

    def stop(self) -> None:
        """Stop watching."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._loop = None

    def _schedule(self, when: float) -> None:
        assert self._loop is not None
        self._handle = self._loop.call_at(when, self._check)

    def _check(self) -> None:
        self._handle = None
        if self._loop is None:
            return
        now = self._loop.time()
        quiet = now - self._last_seen
        if quiet >= self.timeout:
            self._loop = None
            self._on_dead()
            return
        if quiet < self._probe_after:
            self._schedule(self._last_seen + self._probe_after)
            return
        if self._probe is not None and (
            self._probed_at is None or self._probed_at < self._last_seen
        ):
            self._probed_at = now
            self._probe()
        self._schedule(self._last_seen + self.timeout)
