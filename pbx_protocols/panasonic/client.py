"""PanasonicClient: a KX-TDA/TDE/NS PBX over LAN (TCP 33333) or USB, as a PbxClient."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Final

from ..core.calls import utc_now
from ..core.client import PbxClient, Session
from ..core.errors import (
    CommandRejected,
    ConnectionFailed,
    DiscoveryFailed,
    PbxError,
    ProtocolError,
    RequestTimeout,
)
from ..core.model import CallInfo, Capability, PbxInfo
from ..core.reconnect import ReconnectPolicy
from ..core.requests import run_windowed
from ..core.transport import PduLink, open_tcp_link
from ..core.watchdog import DEAD_LINK_TIMEOUT
from .codec import Asn1Value, Credentials
from .devices import call_id_of, connection_id, device_id
from .events import EventMapper, snapshot_calls
from .framing import TcpFramer
from .operations import Opcode
from .records import call_records
from .session import REQUEST_TIMEOUT, CstaSession
from .settings import DEFAULT_PORT
from .usb_settings import UsbSettings

_LOGGER = logging.getLogger(__name__)

MAX_REQUESTS_IN_FLIGHT: Final = 8
"""Monitor and snapshot requests sent before their answers arrive, while connecting.

Unverified how many a real PBX accepts: LinTcMon sends its monitors back to back without
waiting, so a small window is conservative.
"""

#: How long connect() waits for the monitors before returning; extensions still pending
#: then are unavailable until their monitor runs (connecting a large PBX never fails for
#: being slow).
MONITOR_WAIT: Final = 10.0
#: Retry delays for monitors the PBX did not answer: 5 s doubling up to a minute.
MONITOR_RETRY_INITIAL: Final = 5.0
MONITOR_RETRY_MAXIMUM: Final = 60.0
#: transferAtEndOfCall: one report per finished call (what LinTcMon asks for).
_CDR_TRANSFER_MODE: Final = "transferAtEndOfCall"


@dataclass(frozen=True, slots=True)
class PanasonicConfig:
    """How to reach the PBX: ``host`` (LAN) or ``usb``, plus optional login and extensions.

    ``extensions`` are monitored in addition to the ones the PBX lists, and instead of them
    if the PBX cannot list its extensions. ``link_timeout`` is how long the PBX may stay
    silent (it is probed before) until the link counts as dead.
    """

    host: str | None = None
    port: int = DEFAULT_PORT
    usb: UsbSettings | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    extensions: tuple[str, ...] = ()
    name: str | None = None
    link_timeout: float = DEAD_LINK_TIMEOUT
    request_timeout: float = REQUEST_TIMEOUT
    requests_in_flight: int = MAX_REQUESTS_IN_FLIGHT
    monitor_wait: float = MONITOR_WAIT
    monitor_retry: float = MONITOR_RETRY_INITIAL
    call_records: bool = True
    #: Opens the link instead of TCP or USB (an in-memory simulator, a test, a tunnel).
    open_link: Callable[[], Awaitable[PduLink]] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if [self.host, self.usb, self.open_link].count(None) != 2:
            raise ValueError("give one of a host, USB settings or a link opener")

    @property
    def credentials(self) -> Credentials | None:
        """The login, if one is configured."""
        if self.username is None:
            return None
        return Credentials(self.username, self.password or "")


class PanasonicClient(PbxClient):
    """A Panasonic KX-TDA/TDE/NS PBX speaking CSTA Phase III."""

    capabilities = frozenset(
        {
            Capability.MAKE_CALL,
            Capability.ANSWER_CALL,
            Capability.HANG_UP,
            Capability.HOLD_CALL,
            Capability.RETRIEVE_CALL,
            Capability.TRANSFER_CALL,
        }
    )

    def __init__(
        self, config: PanasonicConfig, *, reconnect_policy: ReconnectPolicy | None = None
    ) -> None:
        where = f"{config.host}:{config.port}" if config.host else "USB" if config.usb else "link"
        super().__init__(
            name=config.name or f"Panasonic PBX at {where}", reconnect_policy=reconnect_policy
        )
        self.config = config
        self._usb_identifier: str | None = None
        self._mapper = EventMapper(self.tracker)

    @property
    def info(self) -> PbxInfo:
        """Identity of the PBX: the address it is reached at is all CSTA tells."""
        if self.config.host is not None:
            unique_id = f"{self.config.host}:{self.config.port}"
        elif self.config.usb is not None:
            unique_id = f"usb:{self._usb_identifier or 'unknown'}"
        else:
            unique_id = f"link:{id(self.config.open_link):x}"
        return PbxInfo("Panasonic", "KX-TDA/TDE/NS", unique_id, self.name)

    @property
    def monitored_extensions(self) -> list[str]:
        """The extensions with a running monitor."""
        return [n for n in self.tracker.extension_numbers if self._mapper.cross_ref_of(n)]

    # -- session ------------------------------------------------------------------------

    async def _open_link(self) -> PduLink:
        if self.config.open_link is not None:
            return await self.config.open_link()
        if self.config.usb is not None:
            # pyusb loads for a USB link only; importing reads files: in a worker thread.
            await asyncio.get_running_loop().run_in_executor(None, _load_usb_transport)
            from .transport_usb import UsbPduLink

            usb_link = await UsbPduLink.open(self.config.usb)
            self._usb_identifier = usb_link.info.identifier
            return usb_link
        assert self.config.host is not None
        return await open_tcp_link(self.config.host, self.config.port, TcpFramer())

    async def _open_session(self) -> CstaSession:
        """Associate and learn the extensions; monitoring them follows in _resynchronise."""
        link = await self._open_link()
        self._mapper = mapper = EventMapper(self.tracker)
        session = CstaSession(
            link,
            on_event=lambda report: self._publish(mapper.apply(report)),
            on_record=self._on_record,
            link_timeout=self.config.link_timeout,
            request_timeout=self.config.request_timeout,
        )
        try:
            await session.open(self.config.credentials)
            numbers = await self._discover(session)
        except BaseException:
            await session.close()
            raise
        for number in self.tracker.extension_numbers:
            if number not in numbers:
                self.tracker.remove_extension(number)
        for number in numbers:
            # Unknown (unavailable) until the PBX confirms the monitor of this association.
            self.tracker.add_extension(number, monitored=False)
        return session

    async def _discover(self, session: CstaSession) -> list[str]:
        """Extensions to monitor: the PBX's device list plus the configured ones."""
        numbers: list[str] = []
        try:
            numbers = [device.number for device in await session.device_list() if device.in_service]
        except CommandRejected as err:  # includes RequestTimeout
            _LOGGER.info("%s did not list its extensions (%s)", self.name, err)
        numbers = list(dict.fromkeys([*numbers, *self.config.extensions]))
        if not numbers:
            raise DiscoveryFailed(f"{self.name} listed no extensions and none are configured")
        return numbers

    async def _resynchronise(self, session: Session) -> None:
        """Monitor every extension and read its calls; wait a while for it, not forever."""
        assert isinstance(session, CstaSession)
        numbers = self.tracker.extension_numbers
        first_pass = asyncio.Event()
        self._spawn_for_session(self._monitor_all(session, numbers, first_pass), "monitors")
        if self.config.call_records:
            self._spawn_for_session(self._start_call_records(session), "call records")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.config.monitor_wait):
                await first_pass.wait()
        if not first_pass.is_set():
            pending = len([n for n in numbers if not self._mapper.cross_ref_of(n)])
            _LOGGER.info(
                "%s: %d extension(s) not monitored yet; they follow in the background",
                self.name,
                pending,
            )

    async def _monitor_all(
        self, session: CstaSession, numbers: list[str], first_pass: asyncio.Event
    ) -> None:
        """Start monitors (a window at a time); retry the unanswered ones until they run.

        ``first_pass`` is set once every extension was tried once: connect() waits for that,
        the retries go on in the background. Each pass logs at most one line for its
        refusals and one for its failures, whatever the size of the PBX.
        """
        delay = self.config.monitor_retry
        pending = numbers
        while True:
            outcomes = await run_windowed(
                pending,
                lambda number: self._monitor(session, number),
                self.config.requests_in_flight,
            )
            first_pass.set()
            if session.closed:
                return  # the reconnect logs the loss once and monitors everything again
            failures = {
                n: o for n, o in zip(pending, outcomes, strict=True) if isinstance(o, Exception)
            }
            refused = {n: err for n, err in failures.items() if _is_refusal(err)}
            if refused:
                self._forget_refused(refused)
            failed = {n: err for n, err in failures.items() if n not in refused}
            if not failed:
                return
            first = next(iter(failed.values()))
            _LOGGER.warning(
                "%s: %d extension(s) not monitored yet (%s: %s); retrying in %g s",
                self.name,
                len(failed),
                _some(failed),
                first,
                delay,
                exc_info=None if isinstance(first, PbxError) else first,
            )
            await asyncio.sleep(delay)
            delay = min(MONITOR_RETRY_MAXIMUM, delay * 2)
            pending = [n for n in failed if n in self.tracker]

    def _forget_refused(self, refused: dict[str, Exception]) -> None:
        """Extensions the PBX will not monitor (unknown to it, say) are not shown."""
        _LOGGER.warning(
            "%s refused to monitor %d extension(s) (%s): %s",
            self.name,
            len(refused),
            _some(refused),
            next(iter(refused.values())),
        )
        for number in refused:
            self.tracker.remove_extension(number)
        self._publish()

    async def _monitor(self, session: CstaSession, number: str) -> bool:
        """Monitor one extension and read its calls (True); raise what went wrong."""
        argument = {"monitorObject": ("deviceObject", device_id(number))}
        cross_ref = await session.request(Opcode.MONITOR_START, argument, monitor_cross_ref)
        self._mapper.add_monitor(cross_ref, number)
        session.probe_device = session.probe_device or number
        # Events flow from now on; the snapshot then catches up with calls already there.
        self.tracker.set_monitored(number, True)
        await self._snapshot(session, number)
        self._publish()
        return True

    async def _snapshot(self, session: CstaSession, number: str) -> None:
        """Read an extension's calls from the PBX into the tracker (snapshotDevice)."""
        argument = {"snapshotObject": device_id(number)}
        try:
            calls = await session.request(Opcode.SNAPSHOT_DEVICE, argument, snapshot_result_calls)
        except PbxError as err:
            _LOGGER.debug("No snapshot of %s: %s", number, err)
            return
        self._publish(self.tracker.resynchronise(number, calls))

    async def _start_call_records(self, session: CstaSession) -> None:
        """Ask for a call detail record after each call; a PBX that refuses just has none."""
        try:
            await session.invoke(
                Opcode.START_CDR_TRANSMISSION, {"transferMode": _CDR_TRANSFER_MODE}
            )
        except PbxError as err:
            _LOGGER.info("%s sends no call records: %s", self.name, err)

    def _on_record(self, report: dict[str, Any]) -> None:
        try:
            records = call_records(report, utc_now)
        except ProtocolError as err:
            _LOGGER.debug("%s: %s", self.name, err)
            return
        for record in records:
            self._publish_record(record)

    # -- call control -------------------------------------------------------------------

    def _active_session(self) -> CstaSession:
        if not isinstance(self._session, CstaSession) or self._session.closed:
            raise ConnectionFailed(f"{self.name} is not connected")
        return self._session

    async def _make_call(self, extension: str, number: str) -> None:
        argument = {
            "callingDevice": device_id(extension),
            "calledDirectoryNumber": device_id(number),
        }
        await self._active_session().invoke(Opcode.MAKE_CALL, argument)

    async def _answer_call(self, extension: str, call: CallInfo) -> None:
        argument = {"callToBeAnswered": connection_id(call.call_id, extension)}
        await self._active_session().invoke(Opcode.ANSWER_CALL, argument)

    async def _hang_up(self, extension: str, call: CallInfo) -> None:
        argument = {"connectionToBeCleared": connection_id(call.call_id, extension)}
        await self._active_session().invoke(Opcode.CLEAR_CONNECTION, argument)

    async def _hold_call(self, extension: str, call: CallInfo) -> None:
        argument = {"callToBeHeld": connection_id(call.call_id, extension)}
        await self._active_session().invoke(Opcode.HOLD_CALL, argument)

    async def _retrieve_call(self, extension: str, call: CallInfo) -> None:
        argument = {"callToBeRetrieved": connection_id(call.call_id, extension)}
        await self._active_session().invoke(Opcode.RETRIEVE_CALL, argument)

    async def _transfer_call(self, extension: str, call: CallInfo, number: str) -> str | None:
        argument = {
            "activeCall": connection_id(call.call_id, extension),
            "transferredTo": device_id(number),
        }
        result = await self._active_session().invoke(Opcode.SINGLE_STEP_TRANSFER_CALL, argument)
        # The call continues under a new id (SingleStepTransferCallResult.transferredCall).
        return call_id_of(result.get("transferredCall")) if isinstance(result, dict) else None


def monitor_cross_ref(result: Asn1Value) -> bytes:
    """The cross reference of a started monitor (MonitorStartResult)."""
    return bytes(result["crossRefIdentifier"])


def snapshot_result_calls(result: Asn1Value) -> list[CallInfo]:
    """The calls in a SnapshotDeviceResult."""
    kind, data = result["crossRefIDorSnapshotData"]
    return snapshot_calls(data) if kind == "snapshotData" else []


def _is_refusal(outcome: object) -> bool:
    """The PBX turned the request down (not a timeout: a busy PBX is asked again)."""
    return isinstance(outcome, CommandRejected) and not isinstance(outcome, RequestTimeout)


def _some(numbers: Collection[str]) -> str:
    """The first few extension numbers, for a log line that stays one line."""
    return ", ".join(list(numbers)[:5]) + (" ..." if len(numbers) > 5 else "")


def _load_usb_transport() -> None:
    from . import transport_usb  # noqa: F401  # loads pyusb; the caller imports it
