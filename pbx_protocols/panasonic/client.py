"""PanasonicClient: a KX-TDA/TDE/NS PBX over LAN (TCP 33333) or USB, as a PbxClient."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from ..core.client import PbxClient, Session
from ..core.errors import CommandRejected, ConnectionFailed, DiscoveryFailed
from ..core.model import CallInfo, Capability, PbxInfo
from ..core.reconnect import ReconnectPolicy
from ..core.transport import open_tcp_link
from .codec import Credentials
from .devices import connection_id, device_id
from .events import EventMapper, snapshot_calls
from .framing import TcpFramer
from .operations import Opcode
from .session import KEEPALIVE_TIMEOUT, REQUEST_TIMEOUT, CstaSession
from .transport_usb import UsbPduLink, UsbSettings

_LOGGER = logging.getLogger(__name__)

#: LAN CTI port of KX-TDA/TDE/NS PBXs (LinTcMon ``ATS_PORT``).
DEFAULT_PORT: Final = 33333


@dataclass(frozen=True, slots=True)
class PanasonicConfig:
    """How to reach the PBX: ``host`` (LAN) or ``usb``, plus optional login and extensions.

    ``extensions`` are monitored in addition to the ones the PBX lists, and instead of them
    if the PBX cannot list its extensions.
    """

    host: str | None = None
    port: int = DEFAULT_PORT
    usb: UsbSettings | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    extensions: tuple[str, ...] = ()
    name: str | None = None
    keepalive_timeout: float = KEEPALIVE_TIMEOUT
    request_timeout: float = REQUEST_TIMEOUT

    def __post_init__(self) -> None:
        if (self.host is None) == (self.usb is None):
            raise ValueError("give either a host or USB settings")

    @property
    def credentials(self) -> Credentials | None:
        """The login, if one is configured."""
        if self.username is None:
            return None
        return Credentials(self.username, self.password or "")


class PanasonicClient(PbxClient):
    """A Panasonic KX-TDA/TDE/NS PBX speaking CSTA Phase III."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
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
        where = f"{config.host}:{config.port}" if config.host else "USB"
        super().__init__(
            name=config.name or f"Panasonic PBX at {where}", reconnect_policy=reconnect_policy
        )
        self.config = config
        self._usb_identifier: str | None = None

    @property
    def info(self) -> PbxInfo:
        """Identity of the PBX: the address it is reached at is all CSTA tells."""
        if self.config.host is not None:
            unique_id = f"{self.config.host}:{self.config.port}"
        else:
            unique_id = f"usb:{self._usb_identifier or 'unknown'}"
        return PbxInfo("Panasonic", "KX-TDA/TDE/NS", unique_id, self.name)

    @property
    def monitored_extensions(self) -> list[str]:
        """The extensions with a running monitor."""
        return self.tracker.extension_numbers

    # -- session ------------------------------------------------------------------------

    async def _open_session(self) -> CstaSession:
        if self.config.usb is not None:
            usb_link = await UsbPduLink.open(self.config.usb)
            self._usb_identifier = usb_link.info.identifier
            link: Any = usb_link
        else:
            assert self.config.host is not None
            link = await open_tcp_link(self.config.host, self.config.port, TcpFramer())
        mapper = EventMapper(self.tracker)
        session = CstaSession(
            link,
            on_event=lambda report: self._publish(mapper.apply(report)),
            keepalive_timeout=self.config.keepalive_timeout,
            request_timeout=self.config.request_timeout,
        )
        try:
            await session.open(self.config.credentials)
            extensions = await self._discover(session)
            await self._monitor(session, mapper, extensions)
        except BaseException:
            await session.close()
            raise
        return session

    async def _discover(self, session: CstaSession) -> list[str]:
        """Extensions to monitor: the PBX's device list plus the configured ones."""
        numbers: list[str] = []
        try:
            numbers = [device.number for device in await session.device_list() if device.in_service]
        except CommandRejected as err:  # includes RequestTimeout
            _LOGGER.info("%s did not list its extensions (%s)", self.name, err)
        numbers += [number for number in self.config.extensions if number not in numbers]
        if not numbers:
            raise DiscoveryFailed(f"{self.name} listed no extensions and none are configured")
        return numbers

    async def _monitor(self, session: CstaSession, mapper: EventMapper, numbers: list[str]) -> None:
        """Start a device monitor per extension; drop the ones that are gone."""
        monitored = []
        for number in numbers:
            argument = {"monitorObject": ("deviceObject", device_id(number))}
            try:
                result = await session.invoke(Opcode.MONITOR_START, argument)
            except CommandRejected as err:
                _LOGGER.warning("Cannot monitor extension %s of %s: %s", number, self.name, err)
                continue
            mapper.add_monitor(bytes(result["crossRefIdentifier"]), number)
            self.tracker.add_extension(number)
            monitored.append(number)
        if not monitored:
            raise DiscoveryFailed(f"{self.name} refused to monitor any extension")
        for number in self.tracker.extension_numbers:
            if number not in monitored:
                self.tracker.remove_extension(number)

    async def _resynchronise(self, session: Session) -> None:
        """Read every extension's calls (snapshotDevice) into the tracker."""
        assert isinstance(session, CstaSession)
        for number in self.tracker.extension_numbers:
            argument = {"snapshotObject": device_id(number)}
            try:
                result = await session.invoke(Opcode.SNAPSHOT_DEVICE, argument)
            except CommandRejected as err:
                _LOGGER.debug("No snapshot of %s: %s", number, err)
                continue
            kind, data = result["crossRefIDorSnapshotData"]
            calls = snapshot_calls(data) if kind == "snapshotData" else []
            self._publish(self.tracker.resynchronise(number, calls))

    # -- call control -------------------------------------------------------------------

    def _active_session(self) -> CstaSession:
        if not isinstance(self._session, CstaSession):
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

    async def _transfer_call(self, extension: str, call: CallInfo, number: str) -> None:
        argument = {
            "activeCall": connection_id(call.call_id, extension),
            "transferredTo": device_id(number),
        }
        await self._active_session().invoke(Opcode.SINGLE_STEP_TRANSFER_CALL, argument)
