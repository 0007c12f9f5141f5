"""An MQTT connection (aiomqtt) that stays up by itself and loses nothing it was given.

While the broker is away, messages wait: the latest retained message of every topic (sent
again after every reconnect, so the broker always holds the current state) and, bounded,
the others in order (the oldest dropped first, and counted). A QoS 1 message leaves the
outbox only once the broker has acknowledged it, so a broker restart loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Self
from urllib.parse import unquote, urlsplit

import aiomqtt

from ..core.errors import InvalidInput
from ..core.reconnect import ReconnectPolicy
from .pubsub import ConnectionHandler, MessageHandler, Subscribers

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT: Final = 1883
DEFAULT_TLS_PORT: Final = 8883
#: Messages (not retained) kept while the broker is away; the oldest go first.
MAX_BUFFERED: Final = 10_000
#: How long a publish may wait for the broker's acknowledgement.
PUBLISH_TIMEOUT: Final = 10.0


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """Where the broker is and how to log in (the password never shows in a repr)."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: str | None = None
    client_id: str | None = None

    @classmethod
    def from_url(cls, url: str, *, password: str | None = None, ca_file: str | None = None) -> Self:
        """``mqtt://user:pass@host:1883`` or ``mqtts://host`` (TLS); ``password`` wins."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise InvalidInput(f"expected mqtt://host[:port] or mqtts://..., got {_safe(url)!r}")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT)
        except ValueError as err:
            raise InvalidInput(f"bad port in {_safe(url)!r}") from err
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=password or (unquote(parts.password) if parts.password else None),
            tls=tls,
            ca_file=ca_file,
        )

    @property
    def where(self) -> str:
        """The broker, for log lines (no credentials)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


class MqttPubSub:
    """A self-healing broker connection implementing :class:`.pubsub.PubSub`."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        will: tuple[str, bytes] | None = None,
        policy: ReconnectPolicy | None = None,
        max_buffered: int = MAX_BUFFERED,
    ) -> None:
        self.settings = settings
        #: (topic, payload) the broker publishes (retained) if this connection dies.
        self.will = will
        self._policy = policy or ReconnectPolicy()
        self._retained: dict[str, tuple[bytes, int]] = {}
        #: Retained topics still to be sent (dict as an ordered set).
        self._dirty: dict[str, None] = {}
        self._outbox: deque[tuple[str, bytes, int]] = deque()
        self._max_buffered = max_buffered
        self._subscribers = Subscribers()
        self._client: aiomqtt.Client | None = None
        self._wake = asyncio.Event()
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Messages dropped from a full outbox since the start.
        self.dropped = 0

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up."""
        return self._connected.is_set()

    async def start(self) -> None:
        """Connect in the background (and keep connecting); publishing or subscribing does it."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mqtt {self.settings.where}")

    async def wait_connected(self) -> None:
        """Wait until the broker connection is up."""
        await self._connected.wait()

    async def stop(self) -> None:
        """Disconnect for good (what waits in the outbox is not sent)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False
    ) -> None:
        """Queue one message; it goes out as soon as the broker is there."""
        await self.start()
        if retain:
            self._retained[topic] = (payload, qos)
            self._dirty[topic] = None
        else:
            if len(self._outbox) >= self._max_buffered:
                self._outbox.popleft()
                self.dropped += 1
                if self.dropped in (1, 100, 10_000) or not self.dropped % 100_000:
                    _LOGGER.warning("MQTT outbox full: %d message(s) dropped so far", self.dropped)
            self._outbox.append((topic, payload, qos))
        self._wake.set()

    async def subscribe(self, topic_filter: str, handler: MessageHandler) -> Callable[[], None]:
        """Receive ``topic_filter``'s messages, now and after every reconnect."""
        await self.start()
        unsubscribe = self._subscribers.add(topic_filter, handler)
        if self._client is not None and self.connected:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._client.subscribe(topic_filter, qos=1)
        return unsubscribe

    def subscribe_connection(self, handler: ConnectionHandler) -> Callable[[], None]:
        """Be told when the broker connection comes up and when it goes."""
        return self._subscribers.add_connection(handler)

    async def flushed(self) -> None:
        """Wait until everything queued so far has been sent (tests, clean shutdown)."""
        while self._outbox or self._dirty:  # noqa: ASYNC110  # the sender empties them
            await asyncio.sleep(0.01)

    # -- internals ----------------------------------------------------------------------

    def _client_for(self) -> aiomqtt.Client:
        settings = self.settings
        will = None
        if self.will is not None:
            will = aiomqtt.Will(self.will[0], self.will[1], qos=1, retain=True)
        context = None
        if settings.tls:
            context = ssl.create_default_context(cafile=settings.ca_file)
        return aiomqtt.Client(
            settings.host,
            settings.port,
            username=settings.username,
            password=settings.password,
            identifier=settings.client_id,
            will=will,
            tls_context=context,
            timeout=PUBLISH_TIMEOUT,
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        lost = False
        while True:
            connected_at = loop.time()
            try:
                async with self._client_for() as client:
                    self._client = client
                    for topic_filter, _ in self._subscribers.subscriptions:
                        await client.subscribe(topic_filter, qos=1)
                    self._dirty = dict.fromkeys(self._retained)  # the state, again
                    self._connected.set()
                    self._subscribers.tell(True)
                    connected_at = loop.time()
                    if lost:
                        _LOGGER.info("MQTT broker %s is back", self.settings.where)
                    lost = False
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self._receive(client))
                        group.create_task(self._send(client))
            except* aiomqtt.MqttError as errors:
                if not lost:
                    _LOGGER.warning(
                        "Lost the MQTT broker %s (%s); reconnecting in the background",
                        self.settings.where,
                        errors.exceptions[0],
                    )
                lost = True
            finally:
                if self._connected.is_set():
                    self._connected.clear()
                    self._subscribers.tell(False)
                self._client = None
            self._policy.link_lost(loop.time(), loop.time() - connected_at)
            await asyncio.sleep(self._policy.next_delay(loop.time()))

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            topic = message.topic.value
            payload = message.payload
            data = payload if isinstance(payload, bytes) else str(payload or "").encode()
            self._subscribers.deliver(topic, data)

    async def _send(self, client: aiomqtt.Client) -> None:
        while True:
            if self._dirty:
                topic = next(iter(self._dirty))
                payload, qos = self._retained[topic]
                await client.publish(topic, payload, qos=qos, retain=True)
                # Sent unless a newer state arrived meanwhile (then it is dirty again).
                if self._retained.get(topic) == (payload, qos):
                    self._dirty.pop(topic, None)
            elif self._outbox:
                topic, payload, qos = self._outbox[0]
                await client.publish(topic, payload, qos=qos)
                if self._outbox and self._outbox[0] == (topic, payload, qos):
                    self._outbox.popleft()  # acknowledged: only now it leaves the outbox
            else:
                self._wake.clear()
                await self._wake.wait()
