"""Subscriber lists whose subscribe() returns the matching unsubscribe."""

from __future__ import annotations

import logging
from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)


class CallbackRegistry[T]:
    """Calls every subscriber with each published value; one failing subscriber is logged."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], None]] = []

    def subscribe(self, callback: Callable[[T], None]) -> Callable[[], None]:
        """Add a subscriber; return a function that removes it again."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def publish(self, value: T) -> None:
        """Call every subscriber with ``value``."""
        for callback in list(self._callbacks):
            try:
                callback(value)
            except Exception:  # a subscriber's bug must not break the protocol session
                _LOGGER.exception("Subscriber %r failed on %r", callback, value)

    def __len__(self) -> int:
        return len(self._callbacks)
