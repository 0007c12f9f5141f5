"""A simulated Panasonic KX-TDA that speaks the real CSTA bytes over TCP or (simulated) USB.

Three parts, as in pyatv's fake devices: the switching function (:mod:`.pbx`, the state),
the wire service (:mod:`.service`, one per client) and the test knobs on
:class:`PanasonicSimulator` (scenarios, dropping clients, pausing keepalives).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Self

from ...core.memory import memory_link_pair
from ...core.transport import PduLink, StreamPduLink, enable_tcp_keepalive
from ..codec import Credentials
from ..framing import TcpFramer
from ..settings import DEFAULT_PORT
from ..spec import async_load_specification
from .failures import SimulatorFailure
from .outside import OutsideParties
from .pbx import FIRST_CALL_ID, SimulatedPbx
from .scenarios import SCENARIOS
from .service import KEEPALIVE_INTERVAL, ServiceSettings, SimulatorSession
from .usb import SimulatedUsbBackend

__all__ = [
    "SCENARIOS",
    "OutsideParties",
    "PanasonicSimulator",
    "SimulatedPbx",
    "SimulatorConfig",
    "SimulatorFailure",
    "parse_extensions",
]

_LOGGER = logging.getLogger(__name__)
#: Clients served at once; a real KX-TDA serves few CTI clients (how many is not known).
MAX_CLIENTS = 16
DEFAULT_EXTENSIONS: tuple[str, ...] = tuple(str(n) for n in range(101, 111))


def parse_extensions(text: str) -> tuple[str, ...]:
    """Parse ``101-110,200`` into extension numbers."""
    numbers: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, last = part.split("-", 1)
            if not (first.isdigit() and last.isdigit()) or int(last) < int(first):
                raise ValueError(f"bad extension range {part!r}")
            if int(last) - int(first) > 999:
                raise ValueError(f"extension range {part!r} is larger than 1000")
            numbers += [str(n) for n in range(int(first), int(last) + 1)]
        elif part.isdigit():
            numbers.append(part)
        else:
            raise ValueError(f"bad extension number {part!r}")
    if not numbers:
        raise ValueError("no extensions given")
    return tuple(dict.fromkeys(numbers))


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """What the simulated PBX looks like and does."""

    host: str = "127.0.0.1"
    #: TCP port to listen on (0: any free one; None: no TCP, memory links only).
    port: int | None = DEFAULT_PORT
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS
    scenario: str | None = None
    #: Multiplies every delay of the scenario: 0.1 runs it ten times as fast.
    pace: float = 1.0
    seed: int | None = None
    keepalive_interval: float = KEEPALIVE_INTERVAL
    credentials: Credentials | None = field(default=None)
    #: Call id of the first call (a PBX that has run a while is further on).
    first_call_id: int = FIRST_CALL_ID
    #: How outside numbers called from an extension behave; None: they ring for ever.
    outside: OutsideParties | None = field(default_factory=OutsideParties)
    #: Seconds every answer to a request takes (a slow PBX).
    answer_delay: float = 0.0
    max_clients: int = MAX_CLIENTS


class PanasonicSimulator:
    """The simulated PBX: a TCP server, a pyusb backend and an optional scenario."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        if self.config.scenario is not None and self.config.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.config.scenario!r}")
        self._rng = random.Random(self.config.seed)
        outside = self.config.outside
        if outside is not None:
            outside = replace(outside, pace=outside.pace * self.config.pace)
        self.pbx = SimulatedPbx(
            self.config.extensions,
            first_call_id=self.config.first_call_id,
            outside=outside,
            rng=random.Random(self._rng.random()),
        )
        self.settings = ServiceSettings(
            keepalive_interval=self.config.keepalive_interval,
            credentials=self.config.credentials,
            answer_delay=self.config.answer_delay,
        )
        self._unanswered: dict[int, int] = {}
        #: Cleared by freeze(): the PBX stops reading and sending, like a stopped process.
        self._running = asyncio.Event()
        self._running.set()
        self.sessions: list[SimulatorSession] = []
        self._server: asyncio.Server | None = None
        self._scenario: asyncio.Task[None] | None = None
        self._serving: set[asyncio.Task[None]] = set()
        self._memory_tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port actually listened on (useful with port 0)."""
        assert self._server is not None, "the simulator is not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen for clients (unless the port is None) and start the scenario."""
        await async_load_specification()
        if self.config.port is not None:
            self._server = await asyncio.start_server(
                self._serve_tcp, self.config.host, self.config.port
            )
        self.start_scenario()

    async def open_memory_link(self) -> PduLink:
        """Serve a client in memory; return the client's end (for ``PanasonicConfig.open_link``)."""
        client_end, pbx_end = memory_link_pair("simulated PBX in memory")
        self._memory_tasks.add(asyncio.create_task(self.serve_link(pbx_end)))
        return client_end

    def start_scenario(self) -> None:
        """Start the configured scenario (if any and not running)."""
        name = self.config.scenario
        if name is None or self._scenario is not None:
            return
        rng = random.Random(self._rng.random())
        self._scenario = asyncio.create_task(
            SCENARIOS[name](self.pbx, rng, self.config.pace), name=f"scenario {name}"
        )

    async def stop_scenario(self) -> None:
        """Stop the scenario."""
        scenario, self._scenario = self._scenario, None
        if scenario is not None:
            scenario.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scenario

    async def stop(self) -> None:
        """Stop the scenario, the server and every client session."""
        await self.stop_scenario()
        if self.pbx.outside is not None:
            self.pbx.outside.cancel_all()
        self._running.set()  # a frozen PBX must still be able to stop
        if self._server is not None:
            self._server.close()
        await self.drop_clients()
        for task in [*self._serving, *self._memory_tasks]:
            task.cancel()
        await asyncio.gather(*self._serving, *self._memory_tasks, return_exceptions=True)
        self._memory_tasks.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def drop_clients(self) -> None:
        """Abort every association, as a restarting PBX does."""
        for session in list(self.sessions):
            await session.abort()

    def set_keepalives(self, enabled: bool) -> None:
        """Stop or resume keepalives for clients that connect from now on."""
        self.settings = replace(self.settings, send_keepalives=enabled)

    def freeze(self, frozen: bool = True) -> None:
        """Stop (or resume) all work, as a PBX process that was stopped: TCP stays up."""
        if frozen:
            self._running.clear()
        else:
            self._running.set()

    def leave_unanswered(self, opcode: int, count: int = 1) -> None:
        """Let the next ``count`` requests of an operation go unanswered (a PBX under load)."""
        self._unanswered[opcode] = self._unanswered.get(opcode, 0) + count

    def set_answer_delay(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` for clients that connect from now on."""
        self.settings = replace(self.settings, answer_delay=seconds)

    def set_device_list(self, enabled: bool) -> None:
        """Refuse or serve the KME device list for clients that connect from now on."""
        self.settings = replace(self.settings, device_list=enabled)

    def usb_backend(self) -> SimulatedUsbBackend:
        """A pyusb backend whose one device is this PBX (call from the event loop)."""
        return SimulatedUsbBackend(self.serve_link, asyncio.get_running_loop())

    async def serve_link(self, link: PduLink) -> None:
        """Serve one client on an established link until it leaves."""
        session = SimulatorSession(
            self.pbx,
            link,
            self.settings,
            running=self._running,
            rng=random.Random(self._rng.random()),
            unanswered=self._unanswered,
        )
        self.sessions.append(session)
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
        try:
            await session.run()
        finally:
            self.sessions.remove(session)
            if task is not None:
                self._serving.discard(task)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if len(self.sessions) >= self.config.max_clients:
            _LOGGER.warning(
                "Simulator: refusing the connection from %s: %d clients are connected (the limit)",
                peer,
                len(self.sessions),
            )
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            return
        enable_tcp_keepalive(writer)
        link = StreamPduLink(reader, writer, TcpFramer(), f"simulator client {peer}")
        await self.serve_link(link)
