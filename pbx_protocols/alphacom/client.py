"""AlphaComClient: a Zenitel AlphaCom exchange over TCP or a serial port, as a PbxClient.

Stations are extensions; their directory number is the extension number. The exchange has
no documented way to list its stations or read their state, so the client follows the
stations it is told about and every station its broadcasts name; after a reconnect, calls
it saw before are ended (the broadcasts of what happened meanwhile are lost) and new
broadcasts rebuild the picture.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from ..core.client import PbxClient, Session
from ..core.errors import ConnectionClosed, ConnectionFailed, InvalidInput, PbxError
from ..core.model import CallInfo, Capability, PbxInfo
from ..core.reconnect import ReconnectPolicy
from ..core.transport import PduLink
from ..core.watchdog import DEAD_LINK_TIMEOUT
from .codec import Packet
from .datatypes import NetObjRef, encode_bcd
from .events import BroadcastMapper
from .link_layer import AutoLinkLayer
from .messages import (
    CSF_RETURN_ACK,
    GET_DEVICE_ID,
    CallSetup,
    DeviceInfo,
    DialDigits,
    DisconSt,
    DisplayText,
    MKey,
    ParkInqBroker,
    ReqTransfCall,
    SendTxtMail,
    UnknownMessage,
)
from .session import (
    FIRST_CLIENT_DEVICE,
    LAST_CLIENT_DEVICE,
    REQUEST_TIMEOUT,
    AlphaComSession,
    SessionSettings,
)
from .settings import DEFAULT_BAUD_RATE, DEFAULT_PORT, LinkLayerKind
from .transport import AlphaComLink, open_serial, open_tcp

_LOGGER = logging.getLogger(__name__)

#: How long connect() waits for the exchange to answer GET_DEVICE: silence is allowed.
IDENTIFY_TIMEOUT: Final = 3.0
#: DISPLAY_TEXT carries a UINT1 length; station displays show far less, but the exchange
#: decides, and a network message holds at most 64 bytes.
MAX_DISPLAY_TEXT: Final = 40
#: SEND_TXT_MAIL carries one TEXT16.
MAX_MAIL_TEXT: Final = 16
#: Mail priority of messages we send (SEND_TXT_MAIL's default is 100 for SEND_MAIL).
MAIL_PRIORITY: Final = 100


@dataclass(frozen=True, slots=True)
class AlphaComConfig:
    """How to reach the exchange (``host`` or ``serial``) and who we are on it.

    ``device`` is our device number (1-64, defined on the port in AlphaPro); ``stations``
    are followed from the start (others appear when a broadcast names them).
    """

    host: str | None = None
    port: int = DEFAULT_PORT
    serial: str | None = None
    baud_rate: int = DEFAULT_BAUD_RATE
    link: LinkLayerKind = LinkLayerKind.AUTO
    node: int = 1
    device: int = 1
    stations: tuple[str, ...] = ()
    learn_stations: bool = True
    name: str | None = None
    link_timeout: float = DEAD_LINK_TIMEOUT
    request_timeout: float = REQUEST_TIMEOUT
    open_link: Callable[[], Awaitable[PduLink]] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if [self.host, self.serial, self.open_link].count(None) != 2:
            raise ValueError("give one of a host, a serial port or a link opener")
        if not FIRST_CLIENT_DEVICE <= self.device <= LAST_CLIENT_DEVICE:
            raise InvalidInput(
                f"the device number must be {FIRST_CLIENT_DEVICE} to {LAST_CLIENT_DEVICE}"
            )
        if not 1 <= self.node <= 254:
            raise InvalidInput("the node number must be 1 to 254")

    @property
    def where(self) -> str:
        """The exchange's address as a person would name it."""
        if self.host is not None:
            return f"{self.host}:{self.port}"
        return self.serial or "link"


class AlphaComClient(PbxClient):
    """A Zenitel AlphaCom exchange speaking the AlphaCom Data Protocol."""

    capabilities = frozenset(
        {
            Capability.MAKE_CALL,
            Capability.ANSWER_CALL,
            Capability.HANG_UP,
            Capability.TRANSFER_CALL,
            Capability.DIAL_DIGITS,
            Capability.DISPLAY_TEXT,
            Capability.SEND_MESSAGE,
        }
    )
    max_text_length = MAX_DISPLAY_TEXT
    text_encoding = "latin-1"
    sends_call_requests = True

    def __init__(
        self, config: AlphaComConfig, *, reconnect_policy: ReconnectPolicy | None = None
    ) -> None:
        super().__init__(
            name=config.name or f"AlphaCom exchange at {config.where}",
            reconnect_policy=reconnect_policy,
        )
        self.config = config
        self.device_info: DeviceInfo | None = None
        self._link: PduLink | None = None
        self._mapper = BroadcastMapper(self.tracker, config.node, learn=config.learn_stations)
        for number in config.stations:
            self.tracker.add_extension(number)

    @property
    def info(self) -> PbxInfo:
        """Identity: node and address (the exchange's name and version when it said)."""
        firmware = None
        model = "AlphaCom"
        if self.device_info is not None and self.device_info.sw_major is not None:
            firmware = f"{self.device_info.sw_major:02d}.{self.device_info.sw_minor or 0:02d}"
            model = self.device_info.device_name or model
        unique_id = f"alphacom:{self.config.where}:node{self.config.node}"
        return PbxInfo("Zenitel", model, unique_id, self.name, firmware)

    def link_statistics(self) -> dict[str, Any]:
        """The link layer in use and what it dropped or repeated."""
        link = self._link
        if not isinstance(link, AlphaComLink):
            return {}
        layer = link.layer
        settled = layer.settled if isinstance(layer, AutoLinkLayer) else layer
        return {
            "link_layer": settled.kind.value if settled is not None else "detecting",
            "bytes_received": link.bytes_received,
            **asdict(layer.counters),
        }

    # -- session ------------------------------------------------------------------------

    async def _open_link(self) -> PduLink:
        config = self.config
        if config.open_link is not None:
            return await config.open_link()
        if config.host is not None:
            return await open_tcp(config.host, config.port, config.link)
        assert config.serial is not None
        return await open_serial(config.serial, config.link, baud_rate=config.baud_rate)

    async def _open_session(self) -> AlphaComSession:
        link = self._link = await self._open_link()
        # No station states can be read back: calls seen on an earlier link are over for
        # us (their ends were broadcast while we were away); broadcasts from now on count.
        for number in self.tracker.extension_numbers:
            if self.tracker.snapshot(number).calls:
                self._publish(self.tracker.resynchronise(number, []))
        settings = SessionSettings(
            node=self.config.node,
            device=self.config.device,
            link_timeout=self.config.link_timeout,
            request_timeout=self.config.request_timeout,
        )
        session = AlphaComSession(link, settings, self._on_packet)
        session.start()
        try:
            await self._identify(session, link)
        except BaseException:
            await session.close()
            raise
        return session

    async def _identify(self, session: AlphaComSession, link: PduLink) -> None:
        """Ask the exchange who it is; silence is allowed (broadcast-only exchanges)."""
        try:
            answer = await session.request(
                "identify", UnknownMessage(GET_DEVICE_ID), wait=IDENTIFY_TIMEOUT
            )
        except ConnectionClosed as err:
            if isinstance(link, AlphaComLink) and not link.first_bytes_seen:
                raise ConnectionFailed(
                    f"{self.name} closed the connection at once: its API port takes one "
                    "connection at a time (is another program connected?)"
                ) from err
            raise
        except PbxError as err:
            _LOGGER.info("%s did not say who it is (%s); following its broadcasts", self.name, err)
            return
        if isinstance(answer.message, DeviceInfo):
            self.device_info = answer.message

    async def _resynchronise(self, session: Session) -> None:
        """Nothing to read: the exchange has no documented station-state query."""

    def _on_packet(self, packet: Packet) -> None:
        self._publish(self._mapper.apply(packet))

    # -- call control -------------------------------------------------------------------

    def _active_session(self) -> AlphaComSession:
        if not isinstance(self._session, AlphaComSession) or self._session.closed:
            raise ConnectionFailed(f"{self.name} is not connected")
        return self._session

    def _station(self, number: str) -> NetObjRef:
        return NetObjRef.local_dirno(number, self.config.node)

    async def _make_call(self, extension: str, number: str) -> None:
        """CALL_SETUP with the return-ack flag: busy and down stations are reported."""
        digits = self._digits(number)
        message = CallSetup(self._station(extension), self._station(digits), flags=CSF_RETURN_ACK)
        session = self._active_session()
        if session.answers_requests:
            await session.request("make_call", message)
        else:  # an exchange that answers nothing: its broadcasts will tell how the call went
            await session.command("make_call", message)

    async def _answer_call(self, extension: str, call: CallInfo) -> None:
        """M_KEY: an intercom station answers a private call with its M key."""
        await self._active_session().command("answer_call", MKey(self._station(extension)))

    async def _hang_up(self, extension: str, call: CallInfo) -> None:
        """DISCON_ST: the exchange disconnects the station from the call (as C would)."""
        await self._active_session().command("hang_up", DisconSt(self._station(extension)))

    async def _transfer_call(self, extension: str, call: CallInfo, number: str) -> str | None:
        """Park the peer (inquiry), then transfer the parked call to ``number``."""
        session = self._active_session()
        station = self._station(extension)
        await session.command("transfer_call", ParkInqBroker(station))
        target = self._station(self._digits(number))
        await session.request("transfer_call", ReqTransfCall(target, station))
        return None

    async def _dial_digits(self, extension: str, call: CallInfo, digits: str) -> None:
        """DIAL_DIGITS: the station dials, as if its keys were pressed."""
        message = DialDigits(self._station(extension), NetObjRef.digit_string(self._digits(digits)))
        await self._active_session().command("dial_digits", message)

    async def _display_text(self, extension: str, text: str) -> None:
        """DISPLAY_TEXT; the exchange refreshes displays, so text may not stay for long."""
        # The core's validate_text already refused what ISO 8859-1 (text_encoding) lacks.
        message = DisplayText(self._station(extension), text.encode(self.text_encoding))
        await self._active_session().command("display_text", message)

    async def _send_message(self, extension: str, text: str) -> None:
        """SEND_TXT_MAIL from no one (NULL sender) to the station."""
        if len(text) > MAX_MAIL_TEXT:
            raise InvalidInput(f"a message is at most {MAX_MAIL_TEXT} characters")
        message = SendTxtMail(NetObjRef(0), self._station(extension), MAIL_PRIORITY, text)
        await self._active_session().command("send_message", message)

    @staticmethod
    def _digits(number: str) -> str:
        """AlphaCom numbers are digits only (no + * #)."""
        encode_bcd(number)  # raises InvalidInput naming what is wrong
        return number
