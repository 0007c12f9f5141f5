"""The bridge: one PBX client published on a broker, and call control taken from it.

It works with every stack, through the vendor-neutral client API only. The PBX link is
the client's business (it reconnects and resynchronises by itself); the broker link is the
pub/sub's (:mod:`.mqtt` buffers while the broker is away and republishes the state).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

from ..core.client import PbxClient
from ..core.errors import ConnectionFailed, InvalidInput, PbxError, ProtocolError
from ..core.log_throttle import RepeatedWarning
from ..core.model import CallEvent, CallRecord, Capability, ConnectionState, ExtensionSnapshot
from ..core.reconnect import ReconnectPolicy
from .discovery import DISCOVERY_PREFIX, Discovery
from .pubsub import PubSub
from .scheme import (
    REQUEST_ID,
    Command,
    Topics,
    decode,
    discovery_wanted,
    encode,
    event_payload,
    extension_payload,
    info_payload,
    parse_command,
    record_payload,
    response_payload,
    status_payload,
)

_LOGGER = logging.getLogger(__name__)

#: Commands carried out at once; further ones wait (a broker flood cannot pile up tasks).
MAX_COMMANDS_IN_FLIGHT: Final = 16


class Bridge:
    """Publishes ``client``'s PBX under ``topics`` and carries out commands for it."""

    def __init__(
        self,
        client: PbxClient,
        pubsub: PubSub,
        topics: Topics,
        *,
        discovery: bool = True,
        discovery_prefix: str = DISCOVERY_PREFIX,
        policy: ReconnectPolicy | None = None,
    ) -> None:
        self.client = client
        self.pubsub = pubsub
        self.topics = topics
        self._discovery = Discovery(topics, discovery_prefix) if discovery else None
        self._policy = policy or ReconnectPolicy()
        self._published: set[str] = set()
        #: Extensions whose discovery configuration is on the broker.
        self._announced: set[str] = set()
        #: What consumers asked for on the ``discovery`` topic (``--no-discovery`` wins).
        self._discovery_wanted = True
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self._commands = asyncio.Semaphore(MAX_COMMANDS_IN_FLIGHT)
        self._bad_commands = RepeatedWarning(_LOGGER)
        self._connector: asyncio.Task[None] | None = None

    @property
    def will(self) -> tuple[str, bytes]:
        """The last will to give the broker: this site's status, offline."""
        return self.topics.status, encode(status_payload(False, ConnectionState.DISCONNECTED))

    async def start(self) -> None:
        """Announce the site, follow the client, take commands; connect the PBX link."""
        client = self.client
        self._unsubscribe = [
            client.subscribe_events(self._on_event),
            client.subscribe_extension_updates(self._on_extension),
            client.subscribe_connection_state(self._on_connection_state),
            client.subscribe_records(self._on_record),
            await self.pubsub.subscribe(self.topics.commands, self._on_command),
            await self.pubsub.subscribe(self.topics.discovery, self._on_discovery_setting),
        ]
        await self._publish_status()
        self._connector = asyncio.create_task(self._connect(), name="bridge: PBX link")

    async def stop(self) -> None:
        """Say the site is offline, stop following, close the PBX link."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._connector is not None:
            self._connector.cancel()
            await asyncio.gather(self._connector, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()
        await self.pubsub.publish(*self.will, qos=1, retain=True)

    async def _connect(self) -> None:
        """First connection to the PBX, retried with the shared backoff until it works."""
        loop = asyncio.get_running_loop()
        self._policy.link_lost(loop.time(), 0.0)
        while True:
            try:
                await self.client.connect()
            except PbxError as err:
                _LOGGER.warning("Cannot connect to %s yet: %s", self.client.name, err)
                await asyncio.sleep(self._policy.next_delay(loop.time()))
                continue
            return  # from now on the client keeps the link up by itself

    # -- what the PBX says ----------------------------------------------------------------

    def _on_connection_state(self, state: ConnectionState) -> None:
        self._post(self._publish_status())
        if state is ConnectionState.CONNECTED:
            self._post(self._publish_everything())

    def _on_extension(self, snapshot: ExtensionSnapshot) -> None:
        self._post(self._publish_extension(snapshot))

    def _on_event(self, event: CallEvent) -> None:
        payload = encode(event_payload(event))
        self._post(self.pubsub.publish(self.topics.event, payload, qos=1))
        extension_topic = self.topics.extension_event(event.extension)
        self._post(self.pubsub.publish(extension_topic, payload, qos=1))

    def _on_record(self, record: CallRecord) -> None:
        self._post(self.pubsub.publish(self.topics.record, encode(record_payload(record)), qos=1))

    async def _publish_status(self) -> None:
        payload = encode(status_payload(True, self.client.connection_state))
        await self.pubsub.publish(self.topics.status, payload, qos=1, retain=True)

    async def _publish_everything(self) -> None:
        """Info, every extension (discovery too); extensions the PBX dropped are cleared."""
        client = self.client
        numbers = client.extension_numbers
        payload = info_payload(client.info, client.capabilities, client.max_text_length, numbers)
        await self.pubsub.publish(self.topics.info, encode(payload), qos=1, retain=True)
        if self._announcing is not None:
            topic, config = self._announcing.pbx(client.info)
            await self.pubsub.publish(topic, config, qos=1, retain=True)
        for number in self._published - set(numbers):
            await self._clear_extension(number)
        for number in numbers:
            if (snapshot := client.extension(number)) is not None:
                await self._publish_extension(snapshot)

    async def _publish_extension(self, snapshot: ExtensionSnapshot) -> None:
        number = snapshot.number
        topic = self.topics.extension(number)
        await self.pubsub.publish(topic, encode(extension_payload(snapshot)), qos=1, retain=True)
        self._published.add(number)
        if (discovery := self._announcing) is not None and number not in self._announced:
            self._announced.add(number)
            config_topic, config = discovery.extension(snapshot, self.client.info)
            await self.pubsub.publish(config_topic, config, qos=1, retain=True)

    async def _clear_extension(self, number: str) -> None:
        self._published.discard(number)
        await self.pubsub.publish(self.topics.extension(number), b"", qos=1, retain=True)
        await self._withdraw(number)

    async def _withdraw(self, number: str) -> None:
        """Take one extension's discovery configuration off the broker."""
        if self._discovery is not None and number in self._announced:
            self._announced.discard(number)
            topic = self._discovery.extension_topic(number)
            await self.pubsub.publish(topic, b"", qos=1, retain=True)

    # -- discovery on request -----------------------------------------------------------------

    @property
    def _announcing(self) -> Discovery | None:
        """The discovery to publish, unless turned off here or by a consumer."""
        return self._discovery if self._discovery_wanted else None

    def _on_discovery_setting(self, topic: str, data: bytes) -> None:
        try:
            wanted = discovery_wanted(data)
        except ProtocolError as err:
            self._bad_commands.report("Ignoring %s: %s", topic, err)
            return
        if wanted == self._discovery_wanted or self._discovery is None:
            self._discovery_wanted = wanted
            return
        self._discovery_wanted = wanted
        _LOGGER.info("Home Assistant discovery %s on request", "on" if wanted else "off")
        self._post(self._publish_everything() if wanted else self._withdraw_all())

    async def _withdraw_all(self) -> None:
        if self._discovery is None:
            return
        for number in list(self._announced):
            await self._withdraw(number)
        await self.pubsub.publish(self._discovery.pbx_topic, b"", qos=1, retain=True)

    # -- commands ---------------------------------------------------------------------------

    def _on_command(self, topic: str, data: bytes) -> None:
        action = topic.rsplit("/", 1)[-1]
        try:
            payload = decode(data)
        except ProtocolError as err:
            self._bad_commands.report("Ignoring a command on %s: %s", topic, err)
            return
        try:
            command = parse_command(action, payload)
        except InvalidInput as err:
            request_id = payload.get("id")
            if isinstance(request_id, str) and REQUEST_ID.fullmatch(request_id):
                self._post(self._respond(request_id, err))
            else:
                self._bad_commands.report("Ignoring a command on %s: %s", topic, err)
            return
        self._post(self._carry_out(command))

    async def _carry_out(self, command: Command) -> None:
        async with self._commands:
            error: PbxError | None = None
            try:
                await _ACTIONS[command.action](self.client, command)
            except PbxError as err:
                error = err
            await self._respond(command.request_id, error)

    async def _respond(self, request_id: str, error: BaseException | None) -> None:
        payload = encode(response_payload(request_id, error))
        await self.pubsub.publish(self.topics.response(request_id), payload, qos=1)

    def _post(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            if isinstance(error, ConnectionFailed):
                return
            _LOGGER.error("Bridge work failed", exc_info=error)


def _call_id(command: Command) -> str | None:
    return command.arguments.get("call_id")


#: Each action, carried out through the client (which checks the values before sending).
_ACTIONS: Final[dict[Capability, Callable[[PbxClient, Command], Awaitable[None]]]] = {
    Capability.MAKE_CALL: lambda c, cmd: c.make_call(cmd.extension, cmd.arguments["number"]),
    Capability.ANSWER_CALL: lambda c, cmd: c.answer_call(cmd.extension, _call_id(cmd)),
    Capability.HANG_UP: lambda c, cmd: c.hang_up(cmd.extension, _call_id(cmd)),
    Capability.HOLD_CALL: lambda c, cmd: c.hold_call(cmd.extension, _call_id(cmd)),
    Capability.RETRIEVE_CALL: lambda c, cmd: c.retrieve_call(cmd.extension, _call_id(cmd)),
    Capability.TRANSFER_CALL: lambda c, cmd: c.transfer_call(
        cmd.extension, cmd.arguments["number"], _call_id(cmd)
    ),
    Capability.DIAL_DIGITS: lambda c, cmd: c.dial_digits(
        cmd.extension, cmd.arguments["digits"], _call_id(cmd)
    ),
    Capability.DISPLAY_TEXT: lambda c, cmd: c.display_text(cmd.extension, cmd.arguments["text"]),
    Capability.SEND_MESSAGE: lambda c, cmd: c.send_message(cmd.extension, cmd.arguments["text"]),
}
