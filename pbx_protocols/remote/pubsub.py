"""Publish/subscribe, as the bridge and the remote client need it from any broker.

Two implementations plug in: :mod:`.mqtt` (aiomqtt, for the command line) and Home
Assistant's own MQTT integration (in the ``pbx`` integration). :class:`MemoryBroker` is an
in-memory broker with MQTT's semantics (retained messages, ``+`` and ``#``), for tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

_LOGGER = logging.getLogger(__name__)

#: Called with (topic, payload) for every message a subscription receives.
type MessageHandler = Callable[[str, bytes], None]
#: Called with True when the broker connection comes up and False when it goes.
type ConnectionHandler = Callable[[bool], None]


class PubSub(Protocol):
    """What the bridge and the remote client need from a broker connection."""

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish (or queue, while the broker is away) one message."""
        ...

    async def subscribe(self, topic_filter: str, handler: MessageHandler) -> Callable[[], None]:
        """Receive the messages of ``topic_filter`` (retained ones first); return unsubscribe."""
        ...

    def subscribe_connection(self, handler: ConnectionHandler) -> Callable[[], None]:
        """Follow the broker connection (retained messages come again after it is back)."""
        ...


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches an MQTT topic filter (``+`` one level, ``#`` the rest)."""
    wanted, levels = topic_filter.split("/"), topic.split("/")
    for index, part in enumerate(wanted):
        if part == "#":
            return True
        if index >= len(levels) or (part != "+" and part != levels[index]):
            return False
    return len(wanted) == len(levels)


class MemoryBroker:
    """A broker in memory: retained messages, filters, synchronous delivery (tests)."""

    def __init__(self) -> None:
        self.retained: dict[str, bytes] = {}
        self._subscriptions: list[tuple[str, MessageHandler]] = []
        #: Every message published, in order (topic, payload, retain).
        self.log: list[tuple[str, bytes, bool]] = []
        self._connection_handlers: list[ConnectionHandler] = []

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Deliver to every matching subscription; keep it if retained."""
        self.log.append((topic, payload, retain))
        if retain:
            if payload:
                self.retained[topic] = payload
            else:
                self.retained.pop(topic, None)  # an empty retained message clears it
        for topic_filter, handler in list(self._subscriptions):
            if topic_matches(topic_filter, topic):
                _deliver(handler, topic, payload)

    async def subscribe(self, topic_filter: str, handler: MessageHandler) -> Callable[[], None]:
        """Subscribe; retained messages that match are delivered at once."""
        entry = (topic_filter, handler)
        self._subscriptions.append(entry)
        for topic, payload in list(self.retained.items()):
            if topic_matches(topic_filter, topic):
                _deliver(handler, topic, payload)

        def unsubscribe() -> None:
            if entry in self._subscriptions:
                self._subscriptions.remove(entry)

        return unsubscribe

    def subscribe_connection(self, handler: ConnectionHandler) -> Callable[[], None]:
        """Follow :meth:`set_connected`."""
        self._connection_handlers.append(handler)
        return lambda: self._connection_handlers.remove(handler)

    def set_connected(self, connected: bool) -> None:
        """Cut or restore every subscriber's link (retained messages come again, as in MQTT)."""
        for handler in list(self._connection_handlers):
            handler(connected)
        if connected:
            for topic_filter, message_handler in list(self._subscriptions):
                for topic, payload in list(self.retained.items()):
                    if topic_matches(topic_filter, topic):
                        _deliver(message_handler, topic, payload)


def _deliver(handler: MessageHandler, topic: str, payload: bytes) -> None:
    try:
        handler(topic, payload)
    except Exception:  # one subscriber's bug must not stop delivery to the others
        _LOGGER.exception("Handler of %s failed", topic)
