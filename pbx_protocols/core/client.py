"""The client API every PBX stack implements, with the shared reconnect supervisor."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Coroutine
from types import TracebackType
from typing import Any, Final, Protocol, Self

from .callbacks import CallbackRegistry
from .calls import CallTracker
from .errors import (
    AuthenticationFailed,
    CommandRejected,
    ConnectionFailed,
    InvalidInput,
    NoMatchingCall,
    PbxError,
    Refusal,
    UnexpectedError,
    UnsupportedOperation,
)
from .model import (
    CallEvent,
    CallEventKind,
    CallInfo,
    CallRecord,
    CallState,
    Capability,
    ConnectionState,
    ExtensionSnapshot,
    PbxInfo,
)
from .numbers import validate_number, validate_text
from .reconnect import ReconnectPolicy

_LOGGER = logging.getLogger(__name__)

#: How long a blind transfer waits for the PBX to say the target rings (or cannot): PBXs
#: accept the request first and try the target after.
TRANSFER_OUTCOME_WAIT: Final = 3.0

#: Which calls each operation acts on when the caller names none, best candidate first.
_ANSWERABLE = (CallState.RINGING,)
_HANGABLE = (CallState.TALKING, CallState.DIALING, CallState.RINGING, CallState.HELD)
_HOLDABLE = (CallState.TALKING,)
_RETRIEVABLE = (CallState.HELD,)
_TRANSFERABLE = (CallState.TALKING, CallState.HELD)
_DIGIT_TARGETS = (CallState.TALKING, CallState.DIALING)
_TRANSFER_ARRIVED = (CallEventKind.RINGING, CallEventKind.ANSWERED)
#: What is missing when an operation finds no call, as a person would say it.
_NO_CALL: Final = {
    Capability.ANSWER_CALL: "no ringing call to answer",
    Capability.HANG_UP: "no call to hang up",
    Capability.HOLD_CALL: "no call to put on hold",
    Capability.RETRIEVE_CALL: "no call on hold",
    Capability.TRANSFER_CALL: "no call to transfer",
    Capability.DIAL_DIGITS: "no call to send digits on",
}


class Session(Protocol):
    """One established, single-use association with a PBX."""

    async def wait_closed(self) -> BaseException | None:
        """Wait until the session ends; return why (None for a local close)."""
        ...

    async def close(self) -> None:
        """End the session."""
        ...


class PbxClient(ABC):
    """Async client of one PBX: connection, extension states, events and call control.

    ``connect()`` establishes the first session and raises if that fails; from then on the
    client keeps the link up by itself (backoff per :class:`ReconnectPolicy`, one log line
    when the link is lost and one when it is back) and resynchronises line states after
    every reconnect.
    """

    #: What this client can do: a class attribute for a stack, set per instance where the
    #: PBX says so at run time (a remote site).
    capabilities: frozenset[Capability] = frozenset()
    #: Longest text a station display accepts, for display_text/send_message.
    max_text_length: int = 0
    #: Character set of station displays (texts outside it are refused before sending).
    text_encoding: str = "ascii"
    #: Whether stations can ask to be called back (``call_request`` events).
    sends_call_requests: bool = False

    def __init__(self, *, name: str, reconnect_policy: ReconnectPolicy | None = None) -> None:
        self.name = name
        self.tracker = CallTracker()
        self._events: CallbackRegistry[CallEvent] = CallbackRegistry()
        self._extension_updates: CallbackRegistry[ExtensionSnapshot] = CallbackRegistry()
        self._connection_states: CallbackRegistry[ConnectionState] = CallbackRegistry()
        self._records: CallbackRegistry[CallRecord] = CallbackRegistry()
        self._state = ConnectionState.DISCONNECTED
        self._policy = reconnect_policy or ReconnectPolicy()
        self._session: Session | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._session_tasks: set[asyncio.Task[Any]] = set()
        self._connected_at = 0.0

    # -- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Establish the first session; raise ConnectionFailed/AuthenticationFailed if not."""
        if self._supervisor is not None:
            raise PbxError(f"{self.name} is already connected")
        self._set_state(ConnectionState.CONNECTING)
        try:
            self._session = await self._establish()
        except AuthenticationFailed:
            self._set_state(ConnectionState.AUTHENTICATION_FAILED)
            raise
        except PbxError:
            self._set_state(ConnectionState.DISCONNECTED)
            raise
        except Exception as err:
            # A bug in a stack must still look like a failed connection to the caller.
            _LOGGER.exception("Unexpected error while connecting to %s", self.name)
            self._set_state(ConnectionState.DISCONNECTED)
            raise UnexpectedError(f"unexpected error while connecting: {err!r}") from err
        except BaseException:
            self._set_state(ConnectionState.DISCONNECTED)
            raise
        self._supervisor = asyncio.create_task(self._supervise(), name=f"{self.name} supervisor")

    async def close(self) -> None:
        """Close the link for good; no reconnect follows."""
        supervisor, self._supervisor = self._supervisor, None
        cancelled = False
        if supervisor is not None:
            supervisor.cancel()
            try:
                await supervisor
            except asyncio.CancelledError:
                # Our caller is being cancelled too: finish closing, then let it through.
                cancelled = bool((task := asyncio.current_task()) and task.cancelling())
            except Exception:  # already logged by the supervisor; closing must not fail
                _LOGGER.debug("Supervisor of %s had failed", self.name, exc_info=True)
        await self._cancel_session_tasks()
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.tracker.set_link_up(False)
        self._set_state(ConnectionState.CLOSED)
        self._publish()
        if cancelled:
            raise asyncio.CancelledError

    @property
    def connection_state(self) -> ConnectionState:
        """Current state of the link."""
        return self._state

    @property
    def connected(self) -> bool:
        """Whether the link is up."""
        return self._state is ConnectionState.CONNECTED

    # -- what the PBX is ----------------------------------------------------------------

    @property
    @abstractmethod
    def info(self) -> PbxInfo:
        """Identity of the PBX (vendor, model, a unique id)."""

    @property
    def extensions(self) -> dict[str, ExtensionSnapshot]:
        """Every known extension, by number (builds a dict: prefer :meth:`extension`)."""
        return self.tracker.snapshots()

    def extension(self, number: str) -> ExtensionSnapshot | None:
        """One extension's current view (None if the PBX has no such extension)."""
        return self.tracker.get(number)

    @property
    def extension_numbers(self) -> list[str]:
        """Numbers of every known extension."""
        return self.tracker.extension_numbers

    def link_statistics(self) -> dict[str, Any]:
        """Counters of the link for diagnostics: what was dropped, repeated or lost."""
        return {}

    def supports(self, capability: Capability) -> bool:
        """Whether this client can perform ``capability`` on its PBX."""
        return capability in self.capabilities

    # -- subscriptions ------------------------------------------------------------------

    def subscribe_events(self, callback: Callable[[CallEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every event; return the unsubscribe function."""
        return self._events.subscribe(callback)

    def subscribe_extension_updates(
        self, callback: Callable[[ExtensionSnapshot], None]
    ) -> Callable[[], None]:
        """Call ``callback`` with an extension's snapshot whenever it may have changed.

        Line state and call details can change without an event (the dialled number
        arriving, the link going down); this is the subscription for state displays.
        """
        return self._extension_updates.subscribe(callback)

    def subscribe_connection_state(
        self, callback: Callable[[ConnectionState], None]
    ) -> Callable[[], None]:
        """Call ``callback`` on every change of the link state; return the unsubscribe."""
        return self._connection_states.subscribe(callback)

    def subscribe_records(self, callback: Callable[[CallRecord], None]) -> Callable[[], None]:
        """Call ``callback`` with every call record (CDR) the PBX sends, where it has them."""
        return self._records.subscribe(callback)

    # -- call control -------------------------------------------------------------------

    async def make_call(self, extension: str, number: str) -> None:
        """Let ``extension`` call ``number``."""
        self._require(Capability.MAKE_CALL, extension)
        await self._make_call(extension, validate_number(number))

    async def answer_call(self, extension: str, call_id: str | None = None) -> None:
        """Answer the ringing call at ``extension``."""
        self._require(Capability.ANSWER_CALL, extension)
        call = self._pick_call(extension, call_id, _ANSWERABLE, Capability.ANSWER_CALL)
        await self._answer_call(extension, call)

    async def hang_up(self, extension: str, call_id: str | None = None) -> None:
        """Clear ``extension``'s current call (or the one named)."""
        self._require(Capability.HANG_UP, extension)
        await self._hang_up(
            extension, self._pick_call(extension, call_id, _HANGABLE, Capability.HANG_UP)
        )

    async def hold_call(self, extension: str, call_id: str | None = None) -> None:
        """Put ``extension``'s conversation on hold."""
        self._require(Capability.HOLD_CALL, extension)
        await self._hold_call(
            extension, self._pick_call(extension, call_id, _HOLDABLE, Capability.HOLD_CALL)
        )

    async def retrieve_call(self, extension: str, call_id: str | None = None) -> None:
        """Take ``extension``'s held call back."""
        self._require(Capability.RETRIEVE_CALL, extension)
        call = self._pick_call(extension, call_id, _RETRIEVABLE, Capability.RETRIEVE_CALL)
        await self._retrieve_call(extension, call)

    async def transfer_call(self, extension: str, number: str, call_id: str | None = None) -> None:
        """Transfer ``extension``'s call to ``number`` (blind transfer).

        PBXs accept a blind transfer before they try the target, so this waits a moment
        (:data:`TRANSFER_OUTCOME_WAIT`) for the target to ring; if the PBX reports that
        it cannot (busy, out of service), CommandRejected says why.
        """
        self._require(Capability.TRANSFER_CALL, extension)
        target = validate_number(number)
        call = self._pick_call(extension, call_id, _TRANSFERABLE, Capability.TRANSFER_CALL)
        seen: list[CallEvent] = []
        unsubscribe = self._events.subscribe(seen.append)  # before: events may come first
        try:
            new_call_id = await self._transfer_call(extension, call, target)
            if new_call_id is not None:
                await self._transfer_outcome(new_call_id, target, seen)
        finally:
            unsubscribe()

    async def dial_digits(self, extension: str, digits: str, call_id: str | None = None) -> None:
        """Send DTMF digits on ``extension``'s call."""
        self._require(Capability.DIAL_DIGITS, extension)
        checked = validate_number(digits, what="digits")
        call = self._pick_call(extension, call_id, _DIGIT_TARGETS, Capability.DIAL_DIGITS)
        await self._dial_digits(extension, call, checked)

    async def display_text(self, extension: str, text: str) -> None:
        """Show ``text`` on the station's display."""
        self._require(Capability.DISPLAY_TEXT, extension)
        checked = validate_text(text, max_length=self.max_text_length, encoding=self.text_encoding)
        await self._display_text(extension, checked)

    async def send_message(self, extension: str, text: str) -> None:
        """Send a text message to the station."""
        self._require(Capability.SEND_MESSAGE, extension)
        checked = validate_text(text, max_length=self.max_text_length, encoding=self.text_encoding)
        await self._send_message(extension, checked)

    # -- what a stack implements --------------------------------------------------------

    @abstractmethod
    async def _open_session(self) -> Session:
        """Connect, associate, discover extensions and start monitoring them."""

    @abstractmethod
    async def _resynchronise(self, session: Session) -> None:
        """Read every extension's calls from the PBX into the tracker (after each connect)."""

    async def _make_call(self, extension: str, number: str) -> None:
        raise self._unsupported(Capability.MAKE_CALL)

    async def _answer_call(self, extension: str, call: CallInfo) -> None:
        raise self._unsupported(Capability.ANSWER_CALL)

    async def _hang_up(self, extension: str, call: CallInfo) -> None:
        raise self._unsupported(Capability.HANG_UP)

    async def _hold_call(self, extension: str, call: CallInfo) -> None:
        raise self._unsupported(Capability.HOLD_CALL)

    async def _retrieve_call(self, extension: str, call: CallInfo) -> None:
        raise self._unsupported(Capability.RETRIEVE_CALL)

    async def _transfer_call(self, extension: str, call: CallInfo, number: str) -> str | None:
        """Start the transfer; return the call id the call continues under, if known."""
        raise self._unsupported(Capability.TRANSFER_CALL)

    async def _dial_digits(self, extension: str, call: CallInfo, digits: str) -> None:
        raise self._unsupported(Capability.DIAL_DIGITS)

    async def _display_text(self, extension: str, text: str) -> None:
        raise self._unsupported(Capability.DISPLAY_TEXT)

    async def _send_message(self, extension: str, text: str) -> None:
        raise self._unsupported(Capability.SEND_MESSAGE)

    # -- helpers for stacks -------------------------------------------------------------

    def _publish(self, events: Collection[CallEvent] = ()) -> None:
        """Hand events, then the changed extensions, to subscribers.

        Stacks call this after every change they make to the tracker.
        """
        for event in events:
            self._events.publish(event)
        for number in self.tracker.pop_changed():
            self._extension_updates.publish(self.tracker.snapshot(number))

    def _publish_record(self, record: CallRecord) -> None:
        """Hand a call record to subscribers."""
        self._records.publish(record)

    def _spawn_for_session(
        self, coroutine: Coroutine[Any, Any, Any], name: str
    ) -> asyncio.Task[Any]:
        """Run work that belongs to the current session; it is cancelled when the link ends."""
        task = asyncio.create_task(coroutine, name=f"{self.name}: {name}")
        self._session_tasks.add(task)
        task.add_done_callback(self._session_task_done)
        return task

    def _session_task_done(self, task: asyncio.Task[Any]) -> None:
        self._session_tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("Background work for %s failed", self.name, exc_info=error)

    async def _cancel_session_tasks(self) -> None:
        tasks = list(self._session_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- internals ----------------------------------------------------------------------

    async def _establish(self) -> Session:
        session = await self._open_session()
        self.tracker.set_link_up(True)
        try:
            await self._resynchronise(session)
        except BaseException:
            await self._cancel_session_tasks()
            self.tracker.set_link_up(False)
            await session.close()
            raise
        self._connected_at = asyncio.get_running_loop().time()
        self._set_state(ConnectionState.CONNECTED)
        self._publish()
        return session

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            assert self._session is not None
            reason = await self._session.wait_closed()
            await self._cancel_session_tasks()
            self._policy.link_lost(loop.time(), loop.time() - self._connected_at)
            self.tracker.set_link_up(False)
            self._publish()
            _LOGGER.warning(
                "Lost connection to %s (%s); reconnecting in the background",
                self.name,
                reason or "closed",
            )
            self._set_state(ConnectionState.RECONNECTING)
            self._session = await self._reconnect()
            _LOGGER.info("Connection to %s restored", self.name)

    async def _reconnect(self) -> Session:
        loop = asyncio.get_running_loop()
        attempt = 0
        unexpected_logged: set[type[BaseException]] = set()
        while True:
            await asyncio.sleep(self._policy.next_delay(loop.time()))
            attempt += 1
            try:
                return await self._establish()
            except AuthenticationFailed as err:
                self._policy.authentication_failed()
                self._set_state(ConnectionState.AUTHENTICATION_FAILED)
                _LOGGER.debug("Reconnect attempt %d to %s: %s", attempt, self.name, err)
            except PbxError as err:
                _LOGGER.debug("Reconnect attempt %d to %s failed: %s", attempt, self.name, err)
            except Exception as err:
                # A bug in a stack (or a reply it did not expect) must not end the
                # reconnecting for good: log it once with its traceback and keep trying.
                if type(err) not in unexpected_logged:
                    unexpected_logged.add(type(err))
                    _LOGGER.exception(
                        "Unexpected error reconnecting to %s (attempt %d); will retry",
                        self.name,
                        attempt,
                    )
                else:
                    _LOGGER.debug("Reconnect attempt %d to %s: %r", attempt, self.name, err)

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self._state:
            self._state = state
            self._connection_states.publish(state)

    def _unsupported(self, capability: Capability) -> UnsupportedOperation:
        return UnsupportedOperation(
            f"{self.name} cannot {capability.value.replace('_', ' ')}", action=capability.value
        )

    def _require(self, capability: Capability, extension: str) -> None:
        if self._state is not ConnectionState.CONNECTED:
            raise ConnectionFailed(f"{self.name} is not connected ({self._state.value})")
        if capability not in self.capabilities:
            raise self._unsupported(capability)
        if extension not in self.tracker:
            raise InvalidInput(f"{extension!r} is not an extension of {self.name}")

    def _pick_call(
        self,
        extension: str,
        call_id: str | None,
        states: tuple[CallState, ...],
        action: Capability,
    ) -> CallInfo:
        calls = self.tracker.snapshot(extension).calls
        if call_id is not None:
            for call in calls:
                if call.call_id == call_id:
                    return call
            raise NoMatchingCall(
                f"extension {extension} has no call {call_id}",
                extension=extension,
                action=action.value,
            )
        for state in states:
            for call in calls:
                if call.state is state:
                    return call
        raise NoMatchingCall(
            f"extension {extension} has {_NO_CALL[action]}",
            extension=extension,
            action=action.value,
        )

    async def _transfer_outcome(self, call_id: str, target: str, seen: list[CallEvent]) -> None:
        """Wait until the transferred call rings at ``target``, or fails; raise if it fails."""
        outcome: asyncio.Future[CallEvent | None] = asyncio.get_running_loop().create_future()

        def watch(event: CallEvent) -> None:
            if event.call_id != call_id or outcome.done():
                return
            if event.kind is CallEventKind.FAILED:
                outcome.set_result(event)
            elif event.extension == target and event.kind in _TRANSFER_ARRIVED:
                outcome.set_result(None)

        for event in seen:
            watch(event)
        unsubscribe = self._events.subscribe(watch)
        try:
            async with asyncio.timeout(TRANSFER_OUTCOME_WAIT):
                failed = await outcome
        except TimeoutError:
            return  # an outside number rings where nobody monitors it: no news is good news
        finally:
            unsubscribe()
        if failed is not None:
            refusal = failed.failure or Refusal.OTHER
            reason = str(failed.vendor.get("cause") or refusal.value)
            raise CommandRejected("transfer", reason, refusal)
