"""The Stentofon Data Link Layer: binary frames, a sliding window and go-back-N (I/O-free).

Frame: ``<header> <data...> <BCC>`` byte-stuffed (0xF1 -> F0 00, 0xF0 -> F0 01) and ended
by the stop flag 0xF1; at most 128 characters. Message frames (with a sequence number) are
acknowledged by ACK frames carrying the same number; the receiver takes frames in order
only and asks for the first missing one with a NAK, after which the sender repeats that
frame and every newer one. An idle frame (a message frame holding only the four address
bytes) starts the link and re-synchronises sequence numbers; it is sent when nothing else
is, as a watchdog.

What is documented (window 7, go-back-N, F1/F0 stuffing, frame types 1/2/3, encoding
0/1, idle frames) is followed; the header's bit layout, the BCC and the timers are not
documented, and each is one named constant below.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from ..core.errors import ProtocolError
from .codec import xor_checksum
from .link_layer import LinkLayer
from .settings import LinkLayerKind

STOP_FLAG: Final = 0xF1
ESCAPE_FLAG: Final = 0xF0
#: "Max total frame length: 128 characters" (stuffed, stop flag included).
MAX_FRAME: Final = 128
#: The sender may have up to 7 frames unacknowledged (sequence numbers modulo 8).
MAX_WINDOW: Final = 7
SEQUENCE_MODULO: Final = 8
FRAME_MESSAGE: Final = 1
FRAME_ACK: Final = 2
FRAME_NAK: Final = 3
ENCODING_BINARY: Final = 0
ENCODING_HEX: Final = 1
#: An idle frame's data: source and destination addresses only.
IDLE_FRAME_LENGTH: Final = 4


@dataclass(frozen=True, slots=True)
class HeaderLayout:
    """Where the frame type, encoding and sequence number sit in the header byte."""

    type_shift: int = 6
    type_mask: int = 0x03
    encoding_shift: int = 3
    encoding_mask: int = 0x07
    sequence_mask: int = 0x07

    def pack(self, frame_type: int, sequence: int, encoding: int = ENCODING_BINARY) -> int:
        """The header byte."""
        return (
            (frame_type & self.type_mask) << self.type_shift
            | (encoding & self.encoding_mask) << self.encoding_shift
            | (sequence & self.sequence_mask)
        )

    def unpack(self, header: int) -> tuple[int, int, int]:
        """(frame type, encoding, sequence number)."""
        return (
            (header >> self.type_shift) & self.type_mask,
            (header >> self.encoding_shift) & self.encoding_mask,
            header & self.sequence_mask,
        )


HEADER_LAYOUT: Final = HeaderLayout()
"""Unverified: the header's bit layout is not in any readable source. Documented: frame
types 1 (message/idle), 2 (ACK), 3 (NAK); a 3-bit "unused / encoding type" field (0 binary,
1 hex); window 7, hence a 3-bit sequence number. Assumed: one byte, type in bits 7-6,
encoding in bits 5-3, sequence in bits 2-0. Check against a capture before relying on it."""

BCC_IS_XOR: Final = True
"""Unverified: the block check character is assumed to be the XOR of the unstuffed header
and data (ISO 1155, as the simple link layer's checksum is)."""


@dataclass(frozen=True, slots=True)
class DataLinkTiming:
    """Timers of the data link layer, in seconds.

    Unverified: the documentation says only that the timeout follows "the normal delay of
    the link" and that idle frames go out "at regular intervals". These defaults suit a
    LAN or a local serial cable.
    """

    ack_timeout: float = 0.5
    idle_interval: float = 10.0
    #: Unanswered retransmissions of a window before the link counts as down (documented: 2).
    attempts: int = 2


def stuff(frame: bytes) -> bytes:
    """Escape 0xF0 and 0xF1 and append the stop flag."""
    return frame.replace(b"\xf0", b"\xf0\x01").replace(b"\xf1", b"\xf0\x00") + b"\xf1"


def unstuff(data: bytes) -> bytes | None:
    """Undo :func:`stuff` on a frame without its stop flag; None if an escape is bad."""
    out = bytearray()
    escaped = False
    for byte in data:
        if escaped:
            if byte not in (0x00, 0x01):
                return None
            out.append(STOP_FLAG if byte == 0x00 else ESCAPE_FLAG)
            escaped = False
        elif byte == ESCAPE_FLAG:
            escaped = True
        else:
            out.append(byte)
    return None if escaped else bytes(out)


def build_frame(frame_type: int, sequence: int, data: bytes = b"") -> bytes:
    """A complete, stuffed frame."""
    body = bytes([HEADER_LAYOUT.pack(frame_type, sequence)]) + data
    return stuff(body + bytes([xor_checksum(body)]))


class DataLinkLayer(LinkLayer):
    """Go-back-N sender (window up to 7) and in-order receiver, as the exchange runs them.

    Messages are never dropped by the sender: a window that stays unanswered is sent
    again (and the link counted as down after ``timing.attempts`` tries) until the peer
    acknowledges it, so that every message arrives exactly once and in order.
    """

    kind = LinkLayerKind.DATA_LINK

    def __init__(
        self,
        *,
        window: int = MAX_WINDOW,
        timing: DataLinkTiming | None = None,
        idle_data: bytes = b"\x00\x00\x00\x00",
    ) -> None:
        super().__init__()
        if not 1 <= window <= MAX_WINDOW:
            raise ValueError(f"the window is 1 to {MAX_WINDOW} frames")
        self.window = window
        self.timing = timing or DataLinkTiming()
        self._idle_data = idle_data
        self._queue: deque[bytes] = deque()
        #: Sent and not acknowledged: (sequence number, data), oldest first.
        self._unacked: deque[tuple[int, bytes]] = deque()
        self._next_sequence = 0
        self._retransmit_at: float | None = None
        self._idle_at: float | None = None
        self._attempts = 0
        self._expected: int | None = None
        self._nak_sent_for: int | None = None
        self._buffer = bytearray()
        self._discarding = False
        #: Whether the peer acknowledges us (False after unanswered retransmissions).
        self.up = False

    # -- sending ------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin with an idle frame, as the exchange does after a reset."""
        self._queue.appendleft(self._idle_data)
        self._pump(now)

    def send(self, message: bytes, now: float) -> None:
        """Queue a message; it goes out as soon as the window has room.

        ProtocolError if its frame, once escaped, is longer than the peer takes (it would
        be repeated forever).
        """
        if len(build_frame(FRAME_MESSAGE, 0, message)) > MAX_FRAME:
            raise ProtocolError(
                f"the message is too long for one data link frame ({MAX_FRAME} characters "
                "once escaped)",
                data=message,
            )
        self._queue.append(message)
        self._pump(now)

    def next_deadline(self) -> float | None:
        """The retransmission timer while frames are unacknowledged, else the idle timer."""
        return self._retransmit_at if self._unacked else self._idle_at

    def on_deadline(self, now: float) -> None:
        """Retransmit an unanswered window, or send an idle frame."""
        if self._unacked:
            if self._retransmit_at is not None and now >= self._retransmit_at:
                self._attempts += 1
                if self._attempts >= self.timing.attempts:
                    self.up = False
                self._retransmit(now, len(self._unacked))
        elif self._idle_at is not None and now >= self._idle_at:
            self._queue.appendleft(self._idle_data)
            self._pump(now)

    def _pump(self, now: float) -> None:
        while self._queue and len(self._unacked) < self.window:
            data = self._queue.popleft()
            sequence = self._next_sequence
            self._next_sequence = (sequence + 1) % SEQUENCE_MODULO
            self._unacked.append((sequence, data))
            self._output += build_frame(FRAME_MESSAGE, sequence, data)
            self._retransmit_at = self._retransmit_at or now + self.timing.ack_timeout
        self._idle_at = now + self.timing.idle_interval

    def _retransmit(self, now: float, count: int) -> None:
        for sequence, data in list(self._unacked)[-count:]:
            self._output += build_frame(FRAME_MESSAGE, sequence, data)
            self.counters.retransmitted += 1
        backoff = min(self._attempts, 4)
        self._retransmit_at = now + self.timing.ack_timeout * (1 + backoff)

    def _acknowledged_through(self, sequence: int, now: float, *, inclusive: bool) -> bool:
        """Drop window frames up to ``sequence``; False if it names no frame in the window."""
        sequences = [s for s, _ in self._unacked]
        if sequence in sequences:
            index = sequences.index(sequence) + (1 if inclusive else 0)
        elif not inclusive and sequence == self._next_sequence:
            index = len(sequences)  # "everything you sent, I have"
        else:
            return False
        for _ in range(index):
            self._unacked.popleft()
        self._attempts = 0
        self.up = True
        self._retransmit_at = now + self.timing.ack_timeout if self._unacked else None
        return True

    # -- receiving ----------------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> list[bytes]:
        """Split frames at stop flags; answer and deliver each."""
        messages: list[bytes] = []
        for byte in data:
            if byte != STOP_FLAG:
                if len(self._buffer) < MAX_FRAME:
                    self._buffer.append(byte)
                else:
                    self._discarding = True
                continue
            raw, self._buffer = bytes(self._buffer), bytearray()
            if self._discarding:
                self._discarding = False
                self._frame_error(f"a frame longer than {MAX_FRAME} characters")
            elif raw:
                message = self._frame(raw, now)
                if message is not None:
                    messages.append(message)
        self._pump(now)
        return messages

    def _frame(self, raw: bytes, now: float) -> bytes | None:
        body = unstuff(raw)
        if body is None or len(body) < 2:
            self._frame_error("a frame with a bad escape or no content")
            return None
        if xor_checksum(body[:-1]) != body[-1]:
            self._frame_error("a frame with a bad block check", checksum=True)
            return None
        frame_type, encoding, sequence = HEADER_LAYOUT.unpack(body[0])
        data = body[1:-1]
        if frame_type == FRAME_ACK:
            self._acknowledged_through(sequence, now, inclusive=True)
            return None
        if frame_type == FRAME_NAK:
            if self._acknowledged_through(sequence, now, inclusive=False):
                self._retransmit(now, len(self._unacked))
            return None
        if frame_type != FRAME_MESSAGE:
            self._frame_error(f"a frame of unknown type {frame_type}")
            return None
        return self._message_frame(sequence, encoding, data)

    def _message_frame(self, sequence: int, encoding: int, data: bytes) -> bytes | None:
        idle = len(data) == IDLE_FRAME_LENGTH
        if idle or self._expected is None:
            self._expected = sequence  # an idle frame (or the first frame) synchronises
        if sequence != self._expected:
            # A repeat of one already delivered, or one after a gap: either way not
            # delivered; the NAK says which frame comes next.
            self.counters.out_of_order += 1
            if self._nak_sent_for != self._expected:
                self._nak_sent_for = self._expected
                self._output += build_frame(FRAME_NAK, self._expected)
            return None
        self._output += build_frame(FRAME_ACK, sequence)
        self._expected = (sequence + 1) % SEQUENCE_MODULO
        self._nak_sent_for = None
        if idle:
            return None
        if encoding == ENCODING_HEX:
            text = data.split(b"\r", 1)[0]
            try:
                return bytes.fromhex(text.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                self._frame_error("a hex-encoded frame that is not hex")
                return None
        return data

    def _frame_error(self, reason: str, *, checksum: bool = False) -> None:
        self.counters.drop(reason, checksum=checksum)
        if self._expected is not None and self._nak_sent_for != self._expected:
            self._nak_sent_for = self._expected
            self._output += build_frame(FRAME_NAK, self._expected)
