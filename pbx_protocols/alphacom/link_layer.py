"""The link layers the AlphaCom speaks, behind one I/O-free interface.

A link layer turns received bytes into network messages and network messages into bytes to
send, and may want to be woken at a deadline (retransmission, idle frames). It never does
I/O itself: :class:`~.transport.AlphaComLink` feeds it from a stream and writes what it
produces, and tests drive it with a fake clock.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from ..core.errors import ProtocolError
from .codec import xor_checksum
from .settings import LinkLayerKind


@dataclass(slots=True)
class LinkCounters:
    """What went wrong on a link (the link stays up through all of it)."""

    dropped: int = 0
    bad_checksum: int = 0
    retransmitted: int = 0
    out_of_order: int = 0
    last_error: str | None = field(default=None)

    def drop(self, reason: str, *, checksum: bool = False) -> None:
        """Count one unusable line or frame."""
        self.dropped += 1
        if checksum:
            self.bad_checksum += 1
        self.last_error = reason


class LinkLayer(ABC):
    """A link layer state machine (no I/O, time passed in)."""

    kind: LinkLayerKind

    def __init__(self) -> None:
        self.counters = LinkCounters()
        self._output = bytearray()

    @property
    def send_delay(self) -> float:
        """Seconds a queued message may wait before it leaves (0: it goes at once)."""
        return 0.0

    def start(self, now: float) -> None:  # noqa: B027  # most link layers have nothing to do
        """The stream is open (a data link layer announces itself here)."""

    @abstractmethod
    def receive(self, data: bytes, now: float) -> list[bytes]:
        """Take received bytes; return the network messages they completed."""

    @abstractmethod
    def send(self, message: bytes, now: float) -> None:
        """Queue a network message for sending."""

    def take_output(self) -> bytes:
        """The bytes to write now (and forget them)."""
        data = bytes(self._output)
        self._output.clear()
        return data

    def next_deadline(self) -> float | None:
        """When :meth:`on_deadline` wants to be called, if at all."""
        return None

    def on_deadline(self, now: float) -> None:  # noqa: B027  # no timers by default
        """Time passed ``next_deadline``."""


# -- Stentofon Simple Link Layer -------------------------------------------------------

#: Longest line kept while waiting for its CR: a 64-byte message is 128 hex digits, plus
#: spaces, quotes and the checksum. Longer input is noise and is dropped.
MAX_LINE: Final = 512
_HEX_PAIR = re.compile(rb"[0-9A-Fa-f]{2}")
_LINE_END = re.compile(rb"[\r\n]")


def parse_simple_line(line: bytes) -> bytes:
    """One simple-link-layer line (without its CR) as the network message it carries.

    Hex digits (spaces allowed between them), text in double quotes taken byte for byte,
    an optional ``=SS`` XOR checksum at the end. ProtocolError says what is wrong.
    """
    message = bytearray()
    position = 0
    checksum: int | None = None
    while position < len(line):
        char = line[position : position + 1]
        if char in b" \t":
            position += 1
        elif char == b'"':
            end = line.find(b'"', position + 1)
            if end < 0:
                raise ProtocolError("unterminated quoted text", data=line, offset=position)
            message += line[position + 1 : end]
            position = end + 1
        elif char == b"=":
            tail = line[position + 1 :].strip()
            if not _HEX_PAIR.fullmatch(tail):
                raise ProtocolError("the checksum is not two hex digits", data=line)
            checksum = int(tail, 16)
            break
        elif _HEX_PAIR.match(line, position):
            message.append(int(line[position : position + 2], 16))
            position += 2
        else:
            raise ProtocolError(
                f"unexpected character {line[position : position + 1]!r}",
                data=line,
                offset=position,
            )
    if not message:
        raise ProtocolError("the line holds no message", data=line)
    if checksum is not None and checksum != xor_checksum(bytes(message)):
        raise ProtocolError(
            f"checksum mismatch: the line says {checksum:02X}, "
            f"the message sums to {xor_checksum(bytes(message)):02X}",
            data=line,
        )
    return bytes(message)


def format_simple_line(message: bytes, line_end: bytes = b"\r\n") -> bytes:
    """A network message as a simple-link-layer line with its checksum."""
    return message.hex().upper().encode() + b"=%02X" % xor_checksum(message) + line_end


class SimpleLinkLayer(LinkLayer):
    """ASCII hex lines with an XOR checksum; no acknowledgements, no retransmission.

    A line with bad syntax or a bad checksum is dropped and counted (the exchange itself
    discards such input silently); control characters and spaces between lines are noise.
    """

    kind = LinkLayerKind.SIMPLE

    def __init__(self, *, line_end: bytes = b"\r") -> None:
        super().__init__()
        self._line_end = line_end
        self._buffer = bytearray()
        self._overflowed = False

    def receive(self, data: bytes, now: float) -> list[bytes]:
        """Complete lines in ``data`` as messages."""
        messages: list[bytes] = []
        buffer = self._buffer
        buffer += data
        start = 0
        # One pass over the buffer, cut once at the end (cutting per line would move the
        # rest of a large chunk once per line).
        while (found := _LINE_END.search(buffer, start)) is not None:
            end = found.start()
            line = bytes(buffer[start:end]).strip(b" \t\x00")
            start = end + 1
            if self._overflowed:
                self._overflowed = False
                continue
            if not line:
                continue
            if len(line) > MAX_LINE:  # no message is that long: noise, not worth parsing
                self.counters.drop(f"a line longer than {MAX_LINE} characters")
                continue
            try:
                messages.append(parse_simple_line(line))
            except ProtocolError as err:
                self.counters.drop(err.message, checksum=err.message.startswith("checksum"))
        del buffer[:start]
        if len(buffer) > MAX_LINE:
            buffer.clear()
            self._overflowed = True  # the rest of that line, up to its CR, is noise too
            self.counters.drop(f"a line longer than {MAX_LINE} characters")
        return messages

    def send(self, message: bytes, now: float) -> None:
        """Queue one line."""
        self._output += format_simple_line(message, self._line_end)


# -- choosing a link layer by what the peer sends ---------------------------------------

AUTO_DETECT_WAIT: Final = 3.0
"""Seconds ``auto`` waits for the exchange's first bytes before it settles on the simple
link layer. Unverified: which link layer TCP ports 61112/61113 speak is not documented; a
data-link-layer peer sends idle frames soon after a (re)start, a simple-link-layer peer
may stay silent until something happens."""


#: A poll or a selection (``[EOT] <address> ENQ``): the exchange speaks ISO 1745.
_ISO1745_ENQUIRY: Final = re.compile(rb"\x04*[\x20-\x7e]{1,4}\x05")
#: What may still become one (EOTs and an address so far).
_ISO1745_START: Final = re.compile(rb"\x04*[\x20-\x7e]{0,4}")


def detect_link_layer(data: bytes) -> LinkLayerKind | None:
    """Which link layer the peer's first bytes are in; None to wait for more."""
    if _ISO1745_ENQUIRY.match(data):
        return LinkLayerKind.ISO1745
    if 0xF1 in data or any(byte >= 0x80 for byte in data):
        return LinkLayerKind.DATA_LINK
    if _ISO1745_START.fullmatch(data):
        return None
    text = data.strip(b"\r\n\x00 ")
    if any(byte < 0x20 for byte in text.replace(b"\r", b"").replace(b"\n", b"")):
        return LinkLayerKind.DATA_LINK
    if b"\r" in data or b"\n" in data:
        return LinkLayerKind.SIMPLE
    return None


class AutoLinkLayer(LinkLayer):
    """Settles on a link layer from the first bytes received.

    Until then, messages go out as simple-link-layer lines at once (a data-link or ISO
    1745 peer drops them as bad input) and are kept: if the peer turns out to speak
    another link layer, they are sent again through it.
    """

    kind = LinkLayerKind.AUTO

    def __init__(
        self, make_layer: Callable[[LinkLayerKind], LinkLayer], *, wait: float = AUTO_DETECT_WAIT
    ) -> None:
        super().__init__()
        self._make_layer = make_layer
        self._wait = wait
        self._inner: LinkLayer | None = None
        self._deadline: float | None = None
        self._seen = bytearray()
        self._provisional = SimpleLinkLayer()
        self._sent: list[bytes] = []

    @property
    def settled(self) -> LinkLayer | None:
        """The link layer chosen, once it is."""
        return self._inner

    def start(self, now: float) -> None:
        """Start the detection period."""
        self._deadline = now + self._wait

    def receive(self, data: bytes, now: float) -> list[bytes]:
        """Decide on the first bytes; then pass everything on."""
        if self._inner is not None:
            return self._inner.receive(data, now)
        self._seen += data
        verdict = detect_link_layer(bytes(self._seen))
        if verdict is None and len(self._seen) < MAX_LINE:
            return []
        if verdict is None or verdict is LinkLayerKind.SIMPLE:
            self._settle(self._provisional, now, resend=False)
        else:
            self._settle(self._make_layer(verdict), now, resend=True)
        seen, self._seen = bytes(self._seen), bytearray()
        return self._settled_receive(seen, now)

    def _settled_receive(self, data: bytes, now: float) -> list[bytes]:
        assert self._inner is not None
        return self._inner.receive(data, now)

    def send(self, message: bytes, now: float) -> None:
        """Send through the settled layer, or as a line for now (and keep a copy)."""
        if self._inner is not None:
            self._inner.send(message, now)
            return
        if len(self._sent) < MAX_UNSETTLED_MESSAGES:
            self._sent.append(message)
        self._provisional.send(message, now)

    @property
    def send_delay(self) -> float:
        """The settled layer's."""
        return 0.0 if self._inner is None else self._inner.send_delay

    def take_output(self) -> bytes:
        """The settled (or provisional) layer's output."""
        return (self._inner or self._provisional).take_output()

    def next_deadline(self) -> float | None:
        """The end of the detection period, then the settled layer's deadlines."""
        return self._deadline if self._inner is None else self._inner.next_deadline()

    def on_deadline(self, now: float) -> None:
        """Silence until the end of the detection period means the simple link layer."""
        if self._inner is None:
            if self._deadline is not None and now >= self._deadline:
                self._settle(self._provisional, now, resend=False)
        else:
            self._inner.on_deadline(now)

    def _settle(self, inner: LinkLayer, now: float, *, resend: bool) -> None:
        self._inner = inner
        self.counters = inner.counters
        if inner is not self._provisional:
            self._provisional.take_output()
            inner.start(now)
        for message in self._sent if resend else ():
            inner.send(message, now)
        self._sent.clear()


#: Messages kept for sending again while the link layer is not settled, at most.
MAX_UNSETTLED_MESSAGES: Final = 16
