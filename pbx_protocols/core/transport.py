"""Links that carry whole PDUs, and the stream implementation shared by TCP and serial."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

from .errors import ConnectionClosed, ConnectionFailed, ProtocolError
from .log_throttle import RepeatedWarning

#: Hex dumps of every PDU go to this logger at DEBUG, so they can be enabled on their own.
RAW_LOGGER: Final = logging.getLogger("pbx_protocols.raw")
READ_CHUNK: Final = 4096
CONNECT_TIMEOUT: Final = 10.0
#: How long closing waits for unsent bytes to leave before cutting the connection.
CLOSE_TIMEOUT: Final = 2.0
# TCP keepalive finds a silently dead peer (a PBX that lost power) even when the protocol is
# idle; see home-assistant/core#61880 for what happens without it.
TCP_KEEPALIVE_IDLE: Final = 60
TCP_KEEPALIVE_INTERVAL: Final = 10
TCP_KEEPALIVE_COUNT: Final = 3


class Framer(Protocol):
    """Turns a byte stream into payloads and back; keeps partial input between calls."""

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every payload completed by them."""
        ...

    def frame(self, payload: bytes) -> bytes:
        """Return the bytes that carry ``payload`` on the wire."""
        ...


#: Returns the (start, end) byte ranges of a PDU that must not be logged (credentials).
type Redactor = Callable[[bytes], Sequence[tuple[int, int]]]


class PduLink(ABC):
    """A connected link that carries whole PDUs in both directions.

    ``redactor`` is set by the session that knows the protocol: it names the bytes of a
    PDU (a login, say) that the raw logger must mask.
    """

    description: str = "link"
    redactor: Redactor | None = None

    @property
    def send_delay(self) -> float:
        """Seconds a sent PDU may wait before it leaves; request timeouts add it.

        A polled link holds what is sent until it is polled.
        """
        return 0.0

    @abstractmethod
    async def send(self, payload: bytes) -> None:
        """Send one PDU."""

    @abstractmethod
    async def receive(self) -> bytes:
        """Return the next PDU; raise ConnectionClosed when the link has ended."""

    @abstractmethod
    async def close(self) -> None:
        """Close the link; safe to call more than once."""

    async def abort(self) -> None:
        """Drop the link at once, whatever is still waiting to be sent."""
        await self.close()


def redacted_hex(payload: bytes, redactor: Redactor | None = None) -> str:
    """Hex of ``payload`` with the bytes the redactor names shown as ``**``."""
    if redactor is None:
        return payload.hex(" ")
    masked = [f"{byte:02x}" for byte in payload]
    for start, end in redactor(payload):
        masked[start:end] = ["**"] * len(masked[start:end])
    return " ".join(masked)


def log_pdu(
    direction: str, description: str, payload: bytes, redactor: Redactor | None = None
) -> None:
    """Hex-dump a PDU to the raw logger if it is enabled (credentials masked)."""
    if RAW_LOGGER.isEnabledFor(logging.DEBUG):
        RAW_LOGGER.debug("%s %s %s", description, direction, redacted_hex(payload, redactor))


class StreamPduLink(PduLink):
    """A PDU link over an asyncio stream (TCP socket or serial port)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        framer: Framer,
        description: str,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._framer = framer
        self._received: deque[bytes] = deque()
        self.description = description

    async def send(self, payload: bytes) -> None:
        """Frame and send one PDU."""
        if self._writer.is_closing():
            raise ConnectionClosed(f"{self.description} is closed")
        log_pdu(">>", self.description, payload, self.redactor)
        try:
            self._writer.write(self._framer.frame(payload))
            await self._writer.drain()
        except (ConnectionError, OSError) as err:
            raise ConnectionClosed(f"{self.description}: {err}") from err

    async def receive(self) -> bytes:
        """Return the next PDU, reading as much of the stream as that takes."""
        while not self._received:
            try:
                data = await self._reader.read(READ_CHUNK)
            except (ConnectionError, OSError) as err:
                raise ConnectionClosed(f"{self.description}: {err}") from err
            if not data:
                raise ConnectionClosed(f"{self.description} closed by the peer")
            self._received.extend(self._framer.feed(data))
        payload = self._received.popleft()
        log_pdu("<<", self.description, payload, self.redactor)
        return payload

    async def close(self) -> None:
        """Close the stream; a peer that does not read what is left is cut off."""
        if self._writer.is_closing():
            return
        self._writer.close()
        # The peer may already be gone; closed is closed. One that stopped reading would
        # keep the unsent bytes (and us) waiting for ever.
        with contextlib.suppress(ConnectionError, OSError):
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self._writer.wait_closed()
            except TimeoutError:
                self._writer.transport.abort()

    async def abort(self) -> None:
        """Drop the connection at once, unsent bytes and all."""
        self._writer.transport.abort()


def enable_tcp_keepalive(writer: asyncio.StreamWriter) -> None:
    """Switch on TCP keepalive probes for the socket behind ``writer``."""
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (
        ("TCP_KEEPIDLE", TCP_KEEPALIVE_IDLE),
        ("TCP_KEEPINTVL", TCP_KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", TCP_KEEPALIVE_COUNT),
    ):
        if hasattr(socket, option):  # not every platform has every knob
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


async def open_tcp_stream(
    host: str, port: int, *, connect_timeout: float = CONNECT_TIMEOUT
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to ``host:port`` with keepalive; ConnectionFailed says why not."""
    try:
        async with asyncio.timeout(connect_timeout):
            reader, writer = await asyncio.open_connection(host, port)
    except TimeoutError as err:
        raise ConnectionFailed(
            f"no answer from {host}:{port} within {connect_timeout:g} s"
        ) from err
    except OSError as err:
        raise ConnectionFailed(f"cannot connect to {host}:{port}: {err.strerror or err}") from err
    enable_tcp_keepalive(writer)
    return reader, writer


async def open_tcp_link(
    host: str, port: int, framer: Framer, *, connect_timeout: float = CONNECT_TIMEOUT
) -> StreamPduLink:
    """Connect to ``host:port`` and return a PDU link using ``framer``."""
    reader, writer = await open_tcp_stream(host, port, connect_timeout=connect_timeout)
    return StreamPduLink(reader, writer, framer, f"tcp {host}:{port}")


async def read_until_closed[T](
    link: PduLink,
    decode: Callable[[bytes], T],
    handle: Callable[[T], Awaitable[None]],
    *,
    received: Callable[[], None],
    bad: RepeatedWarning,
) -> ConnectionFailed:
    """A session's reader: decode every PDU and hand it on until the link fails; return why.

    ``received`` is told of every PDU (proof of life, even an undecodable one); a PDU that
    does not decode is the peer's problem, not a reason to drop the link: it is reported
    through ``bad`` (once, then counted) and skipped.
    """
    try:
        while True:
            data = await link.receive()
            received()
            try:
                item = decode(data)
            except ProtocolError as err:
                bad.report("Ignoring a PDU from %s: %s", link.description, err)
                continue
            await handle(item)
    except ConnectionFailed as err:
        return err
