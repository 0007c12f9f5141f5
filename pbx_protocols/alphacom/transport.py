"""Byte streams to the exchange (TCP, or a serial port through serialx) under a link layer.

:class:`AlphaComLink` is the core's PduLink for AlphaCom: it carries network messages,
feeding the chosen link layer from the stream and writing what the link layer produces,
and waking it at the deadlines it asks for (retransmission, idle frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

from ..core.errors import ConnectionClosed, ConnectionFailed
from ..core.log_throttle import RepeatedWarning
from ..core.transport import (
    CLOSE_TIMEOUT,
    CONNECT_TIMEOUT,
    READ_CHUNK,
    PduLink,
    log_pdu,
    open_tcp_stream,
)
from .data_link import DataLinkLayer
from .iso1745 import Iso1745Link
from .link_layer import AutoLinkLayer, LinkLayer, SimpleLinkLayer
from .settings import DEFAULT_BAUD_RATE, LinkLayerKind

_LOGGER = logging.getLogger(__name__)


#: Turns bytes to write into (delay, bytes) pieces: the simulator's fault injector.
type OutputFilter = Callable[[bytes], list[tuple[float, bytes]]]


def make_link_layer(kind: LinkLayerKind) -> LinkLayer:
    """A fresh link layer of the kind asked for."""
    if kind is LinkLayerKind.SIMPLE:
        return SimpleLinkLayer()
    if kind is LinkLayerKind.DATA_LINK:
        return DataLinkLayer()
    if kind is LinkLayerKind.ISO1745:
        return Iso1745Link()
    return AutoLinkLayer(make_link_layer)


class AlphaComLink(PduLink):
    """Network messages over a stream, through a link layer."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        layer: LinkLayer,
        description: str,
        *,
        output_filter: OutputFilter | None = None,
    ) -> None:
        self._reader = reader
        self._output_filter = output_filter
        self._writer = writer
        self.layer = layer
        self.description = description
        self._received: deque[bytes] = deque()
        self._arrived = asyncio.Event()
        self._ended: BaseException | None = None
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._dropped = RepeatedWarning(_LOGGER)
        self.bytes_received = 0
        layer.start(self._loop.time())
        self._flush()
        self._pump_task = asyncio.create_task(self._pump(), name=f"AlphaCom {description}")

    @property
    def send_delay(self) -> float:
        """How long the link layer may hold a message back (an ISO 1745 poll)."""
        return self.layer.send_delay

    @property
    def first_bytes_seen(self) -> bool:
        """Whether the exchange has sent anything yet."""
        return self.bytes_received > 0

    def send_nowait(self, payload: bytes) -> None:
        """Hand one network message to the link layer and write it (no flow control)."""
        if self._ended is not None or self._writer.is_closing():
            raise ConnectionClosed(f"{self.description} is closed")
        log_pdu(">>", self.description, payload)
        self.layer.send(payload, self._loop.time())
        self._flush()

    async def send(self, payload: bytes) -> None:
        """Hand one network message to the link layer and write what it produces."""
        self.send_nowait(payload)
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as err:
            raise ConnectionClosed(f"{self.description}: {err}") from err

    async def receive(self) -> bytes:
        """The next network message; ConnectionClosed once the stream ended."""
        while not self._received:
            if self._ended is not None:
                raise ConnectionClosed(f"{self.description}: {self._ended}")
            self._arrived.clear()
            await self._arrived.wait()
        payload = self._received.popleft()
        log_pdu("<<", self.description, payload)
        return payload

    async def close(self) -> None:
        """Stop reading and close the stream."""
        self._end(ConnectionClosed("closed"))
        self._pump_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump_task
        if self._writer.is_closing():
            return
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._writer.wait_closed()

    async def abort(self) -> None:
        """Drop the stream at once."""
        self._writer.transport.abort()
        await self.close()

    async def _pump(self) -> None:
        try:
            while True:
                data = await self._reader.read(READ_CHUNK)
                if not data:
                    self._end(ConnectionClosed("closed by the exchange"))
                    return
                self.bytes_received += len(data)
                dropped_before = self.layer.counters.dropped
                self._received.extend(self.layer.receive(data, self._loop.time()))
                if self.layer.counters.dropped != dropped_before:
                    self._dropped.report(
                        "Dropped input from %s: %s (%d so far)",
                        self.description,
                        self.layer.counters.last_error,
                        self.layer.counters.dropped,
                    )
                if self._received:
                    self._arrived.set()
                self._flush()
        except (ConnectionError, OSError) as err:
            self._end(ConnectionClosed(f"{err}"))

    def _flush(self) -> None:
        """Write the link layer's output and arm its next deadline."""
        output = self.layer.take_output()
        if output and self._output_filter is not None:
            for delay, piece in self._output_filter(output):
                if delay:
                    self._loop.call_later(delay, self._write, piece)
                else:
                    self._write(piece)
        elif output:
            self._write(output)
        deadline = self.layer.next_deadline()
        if self._timer is not None and (deadline is None or self._timer.when() != deadline):
            self._timer.cancel()
            self._timer = None
        if deadline is not None and self._timer is None and self._ended is None:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)

    def _on_timer(self) -> None:
        self._timer = None
        self.layer.on_deadline(self._loop.time())
        self._flush()

    def _end(self, reason: BaseException) -> None:
        if self._ended is None:
            self._ended = reason
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._arrived.set()
        self._dropped.flush()


async def open_tcp(
    host: str, port: int, kind: LinkLayerKind, *, connect_timeout: float = CONNECT_TIMEOUT
) -> AlphaComLink:
    """Connect to the exchange's API port."""
    reader, writer = await open_tcp_stream(host, port, connect_timeout=connect_timeout)
    return AlphaComLink(reader, writer, make_link_layer(kind), f"tcp {host}:{port}")


async def open_serial(
    url: str,
    kind: LinkLayerKind,
    *,
    baud_rate: int = DEFAULT_BAUD_RATE,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> AlphaComLink:
    """Open a serial port by path, or an ``rfc2217://`` / ``socket://`` URL (ser2net)."""
    # Imported here: serialx is only needed by people who use a serial port.
    import serialx

    try:
        async with asyncio.timeout(connect_timeout):
            reader, writer = await serialx.open_serial_connection(url, baudrate=baud_rate)
    except TimeoutError as err:
        raise ConnectionFailed(f"{url} did not open within {connect_timeout:g} s") from err
    except (OSError, serialx.SerialException, ValueError) as err:
        raise ConnectionFailed(f"cannot open {url}: {err}") from err
    return AlphaComLink(reader, writer, make_link_layer(kind), f"serial {url}")
