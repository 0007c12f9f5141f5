"""NbxClient: a passive monitor of a 3Com NBX's Ethernet protocol, as a PbxClient.

It opens a raw socket on the interface that sees the NBX's frames (a mirror port, or the
LAN the phones are on) and follows the phones from what the NCP sends them. It controls
nothing, with one opt-in exception: putting text on a phone's display, which means sending
a forged HR frame to the phone (off unless ``allow_display_text``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any, Final

from ..core.client import PbxClient
from ..core.errors import ConnectionClosed, ConnectionFailed, InvalidInput, PbxError
from ..core.log_throttle import RepeatedWarning
from ..core.model import Capability, PbxInfo
from ..core.reconnect import ReconnectPolicy
from .capture import CaptureStatistics, LiveCapture, open_raw_socket, open_send_socket
from .frames import (
    HR_DISPLAY_BYTES,
    TYPE_REQUEST,
    TYPE_UPDATE,
    NbxFrame,
    mac_text,
    parse_frame,
)
from .monitor import CALLER_PATTERNS, OFFLINE_AFTER, NbxMonitor, PhoneEntry

_LOGGER = logging.getLogger(__name__)

#: How often phones missing from updates and silent calls are checked.
TICK: Final = 1.0
#: Kernel drop counters are read (and logged when they grew) this often.
STATISTICS_INTERVAL: Final = 30.0
#: How long a probe listens for the NCP's update (it sends one about every second).
PROBE_TIMEOUT: Final = 5.0


@dataclass(frozen=True, slots=True)
class Probe:
    """What listening on an interface for a moment found."""

    frames: int
    #: The NCP's MAC, from its update (None: no update seen).
    ncp: bytes | None


async def probe_interface(interface: str, listen: float = PROBE_TIMEOUT) -> Probe:
    """Listen for NBX frames until the NCP's first update, or for ``listen`` seconds.

    RawSocketNotPermitted without CAP_NET_RAW; ConnectionFailed for a missing interface.
    """
    capture = LiveCapture(open_raw_socket(interface, promiscuous=True), interface)
    frames = 0
    try:
        async with asyncio.timeout(listen):
            while True:
                for captured in await capture.receive():
                    frames += 1
                    with contextlib.suppress(PbxError):
                        frame = parse_frame(captured.data)
                        if frame.type == TYPE_UPDATE:
                            return Probe(frames, frame.orig)
    except TimeoutError:
        return Probe(frames, None)
    finally:
        capture.close()


@dataclass(frozen=True, slots=True)
class NbxConfig:
    """Which interface to watch and what the phones are."""

    interface: str
    phones: tuple[PhoneEntry, ...] = ()
    #: Let about one voice frame in this many through the kernel filter (talking without
    #: the call timer); None: voice is dropped in the kernel.
    voice_sample_rate: int | None = None
    promiscuous: bool = True
    offline_after: float = OFFLINE_AFTER
    caller_patterns: tuple[str, ...] = CALLER_PATTERNS
    #: Send forged HR frames to put text on a phone's display (off: passive only).
    allow_display_text: bool = False
    name: str | None = None


class NbxSession:
    """The capture of one interface, fed to the monitor until the interface goes away."""

    def __init__(self, capture: LiveCapture, client: NbxClient) -> None:
        self.capture = capture
        self._client = client
        self._closed: asyncio.Future[BaseException | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._tasks = [
            asyncio.create_task(self._read(), name=f"NBX {capture.description}"),
            asyncio.create_task(self._tick(), name=f"NBX ticks {capture.description}"),
        ]

    async def _read(self) -> None:
        try:
            while True:
                for captured in await self.capture.receive():
                    self._client.frame_received(captured.data)
        except ConnectionClosed as err:
            self._finish(err)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last_statistics = loop.time()
        while True:
            await asyncio.sleep(TICK)
            self._client.tick()
            if loop.time() - last_statistics >= STATISTICS_INTERVAL:
                last_statistics = loop.time()
                self._client.statistics_updated(self.capture.update_statistics())

    def _finish(self, reason: BaseException | None) -> None:
        if not self._closed.done():
            self._closed.set_result(reason)

    async def wait_closed(self) -> BaseException | None:
        """Until the capture ends (the interface went down, or close())."""
        return await asyncio.shield(self._closed)

    async def close(self) -> None:
        """Stop reading."""
        self._finish(None)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.capture.close()


class NbxClient(PbxClient):
    """A 3Com NBX seen from the LAN: phones' line states, ringing with the caller's number."""

    max_text_length = HR_DISPLAY_BYTES
    text_encoding = "ascii"

    def __init__(
        self, config: NbxConfig, *, reconnect_policy: ReconnectPolicy | None = None
    ) -> None:
        super().__init__(
            name=config.name or f"NBX on {config.interface}", reconnect_policy=reconnect_policy
        )
        self.config = config
        self.monitor = NbxMonitor(
            self.tracker,
            config.phones,
            offline_after=config.offline_after,
            caller_patterns=config.caller_patterns,
        )
        self.capabilities = (
            frozenset({Capability.DISPLAY_TEXT}) if config.allow_display_text else frozenset()
        )
        self.statistics = CaptureStatistics()
        self._bad_frames = RepeatedWarning(_LOGGER)
        self._send_sequence = 0

    @property
    def info(self) -> PbxInfo:
        """The NCP by its MAC once an update named it; the interface until then."""
        ncp = self.monitor.ncp
        unique_id = f"nbx:{mac_text(ncp)}" if ncp else f"nbx:{self.config.interface}"
        return PbxInfo("3Com", "NBX", unique_id, self.name)

    def link_statistics(self) -> dict[str, Any]:
        """Frames received, dropped by the kernel or the queue, and unreadable."""
        session = self._session
        if isinstance(session, NbxSession):
            self.statistics_updated(session.capture.update_statistics())
        return {
            "interface": self.config.interface,
            "voice_sampling": self.config.voice_sample_rate,
            **asdict(self.statistics),
            "unreadable_frames": self.monitor.unparsable,
        }

    # -- session ------------------------------------------------------------------------

    async def _open_session(self) -> NbxSession:
        config = self.config
        sock = open_raw_socket(
            config.interface,
            voice_sample_rate=config.voice_sample_rate,
            promiscuous=config.promiscuous,
        )
        capture = LiveCapture(sock, f"interface {config.interface}")
        return NbxSession(capture, self)

    async def _resynchronise(self, session: object) -> None:
        """Nothing to ask: the NCP's next updates (about one a second) tell."""

    def frame_received(self, data: bytes, now: float | None = None) -> None:
        """One captured frame (from the session, or a test)."""
        try:
            frame = parse_frame(data)
        except PbxError as err:
            self._bad_frames.report("Ignoring a frame on %s: %s", self.config.interface, err)
            return
        self._publish(self.monitor.frame(frame, time.monotonic() if now is None else now))

    def tick(self, now: float | None = None) -> None:
        """Check phones missing from updates and silent calls."""
        self._publish(self.monitor.tick(time.monotonic() if now is None else now))

    def statistics_updated(self, statistics: CaptureStatistics) -> None:
        """Log once when the kernel or the queue started dropping frames."""
        dropped = statistics.kernel_dropped + statistics.queue_dropped
        if dropped > self.statistics.kernel_dropped + self.statistics.queue_dropped:
            _LOGGER.warning(
                "%s: %d frames dropped so far (kernel %d, queue %d) of %d received",
                self.name,
                dropped,
                statistics.kernel_dropped,
                statistics.queue_dropped,
                statistics.received,
            )
        self.statistics = CaptureStatistics(
            statistics.received, statistics.kernel_dropped, statistics.queue_dropped
        )

    # -- the one active feature -----------------------------------------------------------

    async def _display_text(self, extension: str, text: str) -> None:
        """A forged HR frame to the phone: its last request with the display text replaced."""
        mac = self.monitor.mac_of(extension)
        ncp = self.monitor.ncp
        if mac is None or ncp is None:
            raise InvalidInput(
                f"the MAC address of extension {extension} (or the NCP's) is not known yet"
            )
        frame = build_display_frame(
            self.monitor.last_request(extension), mac, ncp, text, self._next_sequence()
        )
        sock = open_send_socket(self.config.interface)
        try:
            await asyncio.get_running_loop().sock_sendall(sock, frame)
        except OSError as err:
            raise ConnectionFailed(f"cannot send on {self.config.interface}: {err}") from err
        finally:
            sock.close()

    def _next_sequence(self) -> int:
        self._send_sequence = (self._send_sequence + 1) & 0xFFFF
        return self._send_sequence


def build_display_frame(
    last: NbxFrame | None, mac: bytes, ncp: bytes, text: str, sequence: int
) -> bytes:
    """An HR frame that shows ``text`` (two lines of 32 characters, padded)."""
    from .layers import NBX, NBXRequest, build  # scapy, only when text is sent

    display = text.encode("ascii").ljust(HR_DISPLAY_BYTES)[:HR_DISPLAY_BYTES]
    if last is not None and last.type == TYPE_REQUEST:
        from scapy.layers.l2 import Ether

        packet = Ether(last.raw)
        if packet.haslayer(NBXRequest):
            packet[NBXRequest].display = display
            packet[NBX].orig = ncp.hex(":")
            packet[NBX].seq = sequence
            return bytes(packet)
    return build(mac.hex(":"), ncp.hex(":"), TYPE_REQUEST, ncp.hex(":"), sequence,
                 NBXRequest(display=display))  # fmt: skip
