"""The AlphaCom simulator as a server: TCP (one client, like older exchanges) or a pty.

Every connection speaks the chosen link layer through the library's own link layers and
:class:`~..transport.AlphaComLink`; the exchange's broadcasts go to every client. Faults
(dropped, corrupted, duplicated or delayed output, a dropped link) are injected here, from
tests and from the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import tty
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Final, Self

from ...core.errors import ConnectionFailed, ProtocolError
from ..codec import Packet, decode_packet, encode_packet
from ..data_link import DataLinkLayer
from ..iso1745 import ACK, ENQ, EOT, ETX, ISO1745_PROFILE, NAK
from ..link_layer import LinkLayer, SimpleLinkLayer
from ..settings import DEFAULT_PORT, LinkLayerKind
from ..transport import AlphaComLink
from .exchange import Exchange, Station
from .iso1745_control import Iso1745Control
from .scenarios import SCENARIOS

_LOGGER = logging.getLogger(__name__)

#: Older exchanges take one connection per API port; a second client is turned away.
MAX_CLIENTS: Final = 1


@dataclass(frozen=True, slots=True)
class Faults:
    """Probabilities (0..1) of damage to each line or frame the simulator sends."""

    drop: float = 0.0
    corrupt: float = 0.0
    duplicate: float = 0.0
    #: Seconds each line or frame is held back (0: none).
    delay: float = 0.0

    def __post_init__(self) -> None:
        for name in ("drop", "corrupt", "duplicate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a probability from 0 to 1")
        if self.delay < 0:
            raise ValueError("the delay cannot be negative")

    @property
    def any(self) -> bool:
        """Whether anything is to be damaged."""
        return bool(self.drop or self.corrupt or self.duplicate or self.delay)


class FaultInjector:
    """Damages output unit by unit.

    A unit is a line (simple link layer), a frame (data link), or a text block or one
    control answer (ISO 1745).
    """

    def __init__(self, faults: Faults, rng: random.Random, *, iso1745: bool = False) -> None:
        self.faults = faults
        self._rng = rng
        self._iso1745 = iso1745

    def __call__(self, data: bytes) -> list[tuple[float, bytes]]:
        """Pieces to write and how long to hold each back."""
        pieces: list[tuple[float, bytes]] = []
        start = 0
        for end in self._unit_ends(data):
            pieces += self._damage(data[start:end])
            start = end
        return pieces

    def _unit_ends(self, data: bytes) -> list[int]:
        if not self._iso1745:
            ends = [i + 1 for i, byte in enumerate(data) if byte in (0x0A, 0xF1)]
        else:  # after an ENQ, ACK, NAK or EOT answer, and after the BCC that follows ETX
            ends = [i + 1 for i, byte in enumerate(data) if byte in (ENQ, ACK, NAK)]
            ends += [i + 2 for i, byte in enumerate(data) if byte == ETX]
            ends += [i + 1 for i, byte in enumerate(data) if byte == EOT]
        return sorted({end for end in ends if 0 < end < len(data)} | {len(data)})

    def _damage(self, unit: bytes) -> list[tuple[float, bytes]]:
        rng, faults = self._rng, self.faults
        if rng.random() < faults.drop:
            return []
        if rng.random() < faults.corrupt and unit:
            damaged = bytearray(unit)
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
            unit = bytes(damaged)
        copies = 2 if rng.random() < faults.duplicate else 1
        return [(faults.delay, unit)] * copies


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """What to simulate and where."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    pty: bool = False
    link: LinkLayerKind = LinkLayerKind.SIMPLE
    stations: tuple[str, ...] = tuple(str(n) for n in range(101, 111))
    node: int = 1
    scenario: str | None = None
    pace: float = 1.0
    seed: int | None = None
    #: False: an exchange that answers nothing (no API licence), broadcasts only.
    answers: bool = True
    max_clients: int = MAX_CLIENTS
    faults: Faults = field(default_factory=Faults)
    #: Seconds between ISO 1745 polls (the exchange polls once a second).
    poll_interval: float = ISO1745_PROFILE.poll_interval


class AlphaComSimulator:
    """Serves a simulated exchange until closed."""

    def __init__(
        self, config: SimulatorConfig, *, on_station: Callable[[Station], None] | None = None
    ) -> None:
        if config.link is LinkLayerKind.AUTO:
            raise ValueError("the simulator speaks one link layer: sll, sdll or iso1745")
        if config.scenario is not None and config.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {config.scenario!r}")
        self.config = config
        self.exchange = Exchange(config.stations, node=config.node, answers=config.answers)
        self.exchange.broadcast = self._broadcast
        self.exchange.changed = on_station or (lambda station: None)
        self._rng = random.Random(config.seed)
        self._links: set[AlphaComLink] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self._pty_fds: tuple[int, int] | None = None
        self._client_arrived = asyncio.Event()
        self.refused_clients = 0
        self.bad_input = 0
        self.port = config.port
        self.pty_path: str | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def station(self, number: str) -> dict[str, Any]:
        """A station's state: line, peer, display text, mail."""
        return self.exchange.station(number)

    async def start(self) -> None:
        """Listen (or open the pty) and start the scenario."""
        if self.config.pty:
            await self._open_pty()
        else:
            self._server = await asyncio.start_server(
                self._accept, self.config.host, self.config.port
            )
            self.port = self._server.sockets[0].getsockname()[1]
        if self.config.scenario is not None:
            scenario = SCENARIOS[self.config.scenario]
            self._spawn(self._run_scenario(scenario), "scenario")

    async def close(self) -> None:
        """Stop serving and close every link."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for link in list(self._links):
            await link.close()
        if self._pty_fds is not None:
            for fd in self._pty_fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pty_fds = None
        if self._server is not None:
            await self._server.wait_closed()

    async def drop_links(self) -> None:
        """Cut every client off (a network outage, an exchange restart)."""
        for link in list(self._links):
            await link.abort()

    # -- links --------------------------------------------------------------------------

    def _layer(self) -> LinkLayer:
        if self.config.link is LinkLayerKind.DATA_LINK:
            return DataLinkLayer(idle_data=bytes([self.config.node, 0x41, self.config.node, 0]))
        if self.config.link is LinkLayerKind.ISO1745:
            return Iso1745Control(replace(ISO1745_PROFILE, poll_interval=self.config.poll_interval))
        return SimpleLinkLayer(line_end=b"\r\n")

    def _link(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, description: str
    ) -> AlphaComLink:
        faults = self.config.faults
        output_filter = (
            FaultInjector(faults, self._rng, iso1745=self.config.link is LinkLayerKind.ISO1745)
            if faults.any
            else None
        )
        return AlphaComLink(reader, writer, self._layer(), description, output_filter=output_filter)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._links) >= self.config.max_clients:
            # Like an API port that takes one connection: the newcomer is closed at once.
            self.refused_clients += 1
            writer.close()
            return
        self._client_arrived.set()
        await self._serve(self._link(reader, writer, "client"))

    async def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation: the bytes as sent
        self._pty_fds = (master, slave)  # our slave fd keeps the master readable
        self.pty_path = os.ttyname(slave)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader)
        await loop.connect_read_pipe(lambda: protocol, os.fdopen(os.dup(master), "rb", 0))
        # The write side needs a protocol of its own (one transport per protocol).
        write_protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
        transport, _ = await loop.connect_write_pipe(
            lambda: write_protocol, os.fdopen(os.dup(master), "wb", 0)
        )
        writer = asyncio.StreamWriter(transport, write_protocol, reader, loop)
        self._spawn(self._serve(self._link(reader, writer, f"pty {self.pty_path}")), "pty")

    async def _serve(self, link: AlphaComLink) -> None:
        self._links.add(link)
        try:
            while True:
                data = await link.receive()
                # A pty is always there; its client is, once it speaks.
                self._client_arrived.set()
                try:
                    packet = decode_packet(data)
                except ProtocolError:
                    self.bad_input += 1  # the exchange ignores what it cannot read
                    continue
                for answer in self.exchange.handle(packet):
                    link.send_nowait(encode_packet(answer))
        except ConnectionFailed:
            pass
        finally:
            self._links.discard(link)
            await link.close()

    def _broadcast(self, packet: Packet) -> None:
        data = encode_packet(packet)
        for link in list(self._links):
            link.send_nowait(data)

    # -- scenario -----------------------------------------------------------------------

    async def _run_scenario(
        self, scenario: Callable[[Exchange, random.Random, float], Any]
    ) -> None:
        await self._client_arrived.wait()
        await scenario(self.exchange, self._rng, self.config.pace)

    def _spawn(self, coroutine: Any, name: str) -> None:  # noqa: ANN401  # any coroutine
        task = asyncio.create_task(coroutine, name=f"AlphaCom simulator {name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
