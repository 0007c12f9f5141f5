"""Two PDU links joined in memory: a client and a simulator without a socket between them.

Used where a real boundary adds nothing but time (unit tests, fuzzing the session layer,
benchmarks of the layers above the transport). Each direction holds at most ``capacity``
PDUs; a sender beyond that waits, as it would on a full socket.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from .errors import ConnectionClosed
from .transport import PduLink, Redactor, log_pdu

DEFAULT_CAPACITY: Final = 1024


class MemoryPduLink(PduLink):
    """One end of an in-memory link."""

    def __init__(self, description: str, capacity: int = DEFAULT_CAPACITY) -> None:
        self.description = description
        self.redactor: Redactor | None = None
        self._capacity = capacity
        self._inbox: deque[bytes] = deque()
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = False
        self.peer: MemoryPduLink | None = None

    @property
    def closed(self) -> bool:
        """Whether this end was closed."""
        return self._closed

    async def send(self, payload: bytes) -> None:
        """Hand one PDU to the other end (waiting while its inbox is full)."""
        peer = self.peer
        if self._closed or peer is None or peer.closed:
            raise ConnectionClosed(f"{self.description} is closed")
        await peer.wait_for_room()
        if self._closed or peer.closed:
            raise ConnectionClosed(f"{self.description} is closed")
        log_pdu(">>", self.description, payload, self.redactor)
        peer.deliver(payload)

    async def wait_for_room(self) -> None:
        """Wait until this end's inbox has room (or the link closed)."""
        while len(self._inbox) >= self._capacity and not self._closed:
            self._writable.clear()
            await self._writable.wait()

    def deliver(self, payload: bytes) -> None:
        """Put a PDU into this end's inbox (the other end's send)."""
        self._inbox.append(bytes(payload))
        self._readable.set()

    async def receive(self) -> bytes:
        """Return the next PDU from the other end."""
        await asyncio.sleep(0)  # a full inbox must not keep the reader from yielding
        while not self._inbox:
            if self._closed:
                raise ConnectionClosed(f"{self.description} closed by the peer")
            self._readable.clear()
            await self._readable.wait()
        payload = self._inbox.popleft()
        self._writable.set()
        log_pdu("<<", self.description, payload, self.redactor)
        return payload

    async def close(self) -> None:
        """Close both ends; PDUs already delivered can still be read."""
        self.mark_closed()
        if self.peer is not None:
            self.peer.mark_closed()

    def mark_closed(self) -> None:
        """Close this end and wake whoever waits on it."""
        self._closed = True
        self._readable.set()
        self._writable.set()


def memory_link_pair(
    description: str = "memory", capacity: int = DEFAULT_CAPACITY
) -> tuple[MemoryPduLink, MemoryPduLink]:
    """Return two joined links: (client end, PBX end)."""
    client = MemoryPduLink(f"{description} (client end)", capacity)
    pbx = MemoryPduLink(f"{description} (PBX end)", capacity)
    client.peer, pbx.peer = pbx, client
    return client, pbx
