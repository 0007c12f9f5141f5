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


class Subscribers:
    """Who follows a pub/sub: message handlers by topic filter, and connection handlers.

    One handler's bug is logged; the others still get the message (or the news).
    """

    def __init__(self) -> None:
        self._messages: list[tuple[str, MessageHandler]] = []
        self._connections: list[ConnectionHandler] = []

    @property
    def subscriptions(self) -> list[tuple[str, MessageHandler]]:
        """(topic filter, handler) of every subscription, oldest first (a copy)."""
        return list(self._messages)

    def add(self, topic_filter: str, handler: MessageHandler) -> Callable[[], None]:
        """Subscribe ``handler``; return the unsubscribe function."""
        entry = (topic_filter, handler)
        self._messages.append(entry)

        def unsubscribe() -> None:
            if entry in self._messages:
                self._messages.remove(entry)

        return unsubscribe

    def deliver(self, topic: str, payload: bytes) -> None:
        """Hand a message to every subscription whose filter matches its topic."""
        for topic_filter, handler in list(self._messages):
            if topic_matches(topic_filter, topic):
                deliver(handler, topic, payload)

    def add_connection(self, handler: ConnectionHandler) -> Callable[[], None]:
        """Follow the connection; return the function that stops it."""
        self._connections.append(handler)

        def remove() -> None:
            if handler in self._connections:
                self._connections.remove(handler)

        return remove

    def tell(self, connected: bool) -> None:
        """Tell every connection handler that the connection came up (or went)."""
        for handler in list(self._connections):
            try:
                handler(connected)
            except Exception:  # one follower's bug must not stop the others
                _LOGGER.exception("Connection handler failed")


class MemoryBroker:
    """A broker in memory: retained messages, filters, synchronous delivery (tests)."""

    def __init__(self) -> None:
        self.retained: dict[str, bytes] = {}
        self._subscribers = Subscribers()
        #: Every message published, in order (topic, payload, retain).
        self.log: list[tuple[str, bytes, bool]] = []

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
        self._subscribers.deliver(topic, payload)

    async def subscribe(self, topic_filter: str, handler: MessageHandler) -> Callable[[], None]:
        """Subscribe; retained messages that match are delivered at once."""
        unsubscribe = self._subscribers.add(topic_filter, handler)
        self._deliver_retained(topic_filter, handler)
        return unsubscribe

    def subscribe_connection(self, handler: ConnectionHandler) -> Callable[[], None]:
        """Follow :meth:`set_connected`."""
        return self._subscribers.add_connection(handler)

    def set_connected(self, connected: bool) -> None:
        """Cut or restore every subscriber's link (retained messages come again, as in MQTT)."""
        self._subscribers.tell(connected)
        if connected:
            for topic_filter, handler in self._subscribers.subscriptions:
                self._deliver_retained(topic_filter, handler)

    def _deliver_retained(self, topic_filter: str, handler: MessageHandler) -> None:
        for topic, payload in list(self.retained.items()):
            if topic_matches(topic_filter, topic):
                deliver(handler, topic, payload)


def deliver(handler: MessageHandler, topic: str, payload: bytes) -> None:
    """Hand one message to one handler; its bug is logged, not passed on."""
    try:
        handler(topic, payload)
    except Exception:  # one subscriber's bug must not stop delivery to the others
        _LOGGER.exception("Handler of %s failed", topic)
