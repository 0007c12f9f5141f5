"""The ISO 1745 link layer, slave side (I/O-free): the exchange polls and selects us.

ISO 1745 (basic mode control procedures) is half-duplex and polled: the exchange is always
the control device. It *selects* us when it has a message (we answer ACK, it sends
``STX <hex> ETX BCC``, we answer ACK or NAK, it ends with EOT) and *polls* us about once a
second (we answer EOT when we have nothing; otherwise we become master, select the
exchange, send one text block and end with EOT). The payload is always ASCII hex, since
bytes 0x00-0x1F are control characters here; the block check is ISO 1155 longitudinal
parity (XOR).

What is documented is followed; the address characters, the block check's range and the
timers are not, and they are :data:`ISO1745_PROFILE`, one named constant.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections import deque
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from .codec import xor_checksum
from .link_layer import LinkLayer
from .settings import LinkLayerKind

SOH: Final = 0x01
STX: Final = 0x02
ETX: Final = 0x03
EOT: Final = 0x04
ENQ: Final = 0x05
ACK: Final = 0x06
NAK: Final = 0x15
#: Longest text block kept while waiting for its ETX: a 64-byte message is 128 hex
#: digits; anything much longer is noise.
MAX_BLOCK: Final = 300
#: Address characters kept before an ENQ (ISO 1745 addresses are one or two characters).
MAX_ADDRESS: Final = 4


@dataclass(frozen=True, slots=True)
class Iso1745Profile:
    """Address characters and timers of an ISO 1745 link."""

    #: ``<poll_address> ENQ`` (after EOT) polls us: "anything to send?"
    poll_address: bytes = b"1"
    #: ``<select_address> ENQ`` selects us: "ready to receive?"
    select_address: bytes = b"2"
    #: What we send, polled with a message waiting, to select the exchange.
    exchange_address: bytes = b"1"
    #: Seconds to wait for the other side's ACK/NAK (or for a text block after selection).
    reply_timeout: float = 2.0
    #: Tries of a selection or a text block before the transfer is given up (the message
    #: is kept and sent at the next poll).
    attempts: int = 3
    #: Seconds between polls on a point-to-point link ("once per second" is documented).
    poll_interval: float = 1.0


ISO1745_PROFILE: Final = Iso1745Profile()
"""Unverified: the control-character table, the poll and select address characters and
the timeouts are not in any readable source. Assumed, as in ESPA 4.4.4 (which the
exchange also runs over ISO 1745): ``1`` is polled, ``2`` is selected, the master selects
``1``; the BCC is the XOR of every byte after the first SOH or STX up to and including
ETX; 2 s reply timeout, 3 tries. Documented: polls once per second point to point."""


# -- the byte stream as tokens -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enquiry:
    """``<address> ENQ``: a poll or a selection."""

    address: bytes


@dataclass(frozen=True, slots=True)
class TextBlock:
    """``[SOH header] STX text ETX BCC``; ``intact`` when the block check matched."""

    text: bytes
    intact: bool


class Control(Enum):
    """A one-byte control answer."""

    EOT = auto()
    ACK = auto()
    NAK = auto()


type Token = Enquiry | TextBlock | Control

_CONTROLS: Final = {EOT: Control.EOT, ACK: Control.ACK, NAK: Control.NAK}
#: What ends a text block, and what ends an address (any control character).
_BLOCK_END: Final = re.compile(rb"[\x03\x04]")
_CONTROL: Final = re.compile(rb"[\x00-\x1f]")


def block_check(block: bytes) -> int:
    """ISO 1155 longitudinal parity of a block (everything after SOH/STX through ETX)."""
    return xor_checksum(block)


def text_block(message: bytes) -> bytes:
    """A network message as ``STX <hex> ETX BCC``."""
    block = message.hex().upper().encode() + bytes([ETX])
    return bytes([STX]) + block + bytes([block_check(block)])


def enquiry(address: bytes, *, reset: bool = False) -> bytes:
    """``[EOT] <address> ENQ``."""
    return (bytes([EOT]) if reset else b"") + address + bytes([ENQ])


def message_from_text(text: bytes) -> bytes | None:
    """A text block's hex payload as the network message; None if it is not hex."""
    try:
        message = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return message or None


class Scanner:
    """Splits received bytes into tokens, whatever arrives between them."""

    def __init__(self) -> None:
        self._address = bytearray()
        self._block: bytearray | None = None
        self._awaiting_check = False
        #: Blocks longer than MAX_BLOCK, dropped.
        self.overflows = 0

    def feed(self, data: bytes) -> list[Token]:
        """Tokens completed by ``data``."""
        tokens: list[Token] = []
        index, length = 0, len(data)
        while index < length:
            if self._awaiting_check:
                assert self._block is not None
                block, self._block, self._awaiting_check = bytes(self._block), None, False
                text = block[block.rfind(STX) + 1 : -1]  # after the header, without ETX
                tokens.append(TextBlock(text, block_check(block) == data[index]))
                index += 1
            elif self._block is not None:
                index = self._in_block(data, index, tokens)
            else:
                index = self._neutral(data, index, tokens)
        return tokens

    def _in_block(self, data: bytes, index: int, tokens: list[Token]) -> int:
        """Take block bytes up to ETX (then the check) or EOT (the sender gave up)."""
        assert self._block is not None
        found = _BLOCK_END.search(data, index)
        end = found.start() if found is not None else len(data)
        self._block += data[index:end]
        if len(self._block) > MAX_BLOCK:
            self._block = None
            self.overflows += 1
            return end  # what follows is read as noise until a control character
        if found is None:
            return end
        if data[end] == ETX:
            self._block.append(ETX)
            self._awaiting_check = True
        else:
            self._block = None
            tokens.append(Control.EOT)
        return end + 1

    def _neutral(self, data: bytes, index: int, tokens: list[Token]) -> int:
        """Address characters up to the next control character, then that character."""
        found = _CONTROL.search(data, index)
        end = found.start() if found is not None else len(data)
        if end > index:  # printable: an address (its last characters count)
            self._address += data[max(index, end - MAX_ADDRESS) : end]
            del self._address[:-MAX_ADDRESS]
        if found is None:
            return end
        byte = data[end]
        if byte in (SOH, STX):
            self._block = bytearray()
        elif byte == ENQ:
            tokens.append(Enquiry(bytes(self._address)))
        elif byte in _CONTROLS:
            tokens.append(_CONTROLS[byte])
        self._address.clear()  # any control character ends an address
        return end + 1


# -- the slave -----------------------------------------------------------------------------


class _State(Enum):
    NEUTRAL = auto()
    #: We acknowledged a selection: text blocks come to us.
    SELECTED = auto()
    #: Polled with a message waiting, we selected the exchange and wait for its ACK.
    SELECTING = auto()
    #: We sent a text block and wait for its ACK or NAK.
    SENDING = auto()


class Iso1745Party(LinkLayer):
    """What both ends of an ISO 1745 link have.

    The profile, the scanner, the queue of messages to send, a reply deadline and the
    tries of the current transfer; each end acts on the tokens in its own way.
    """

    kind = LinkLayerKind.ISO1745

    def __init__(self, profile: Iso1745Profile = ISO1745_PROFILE) -> None:
        super().__init__()
        self.profile = profile
        self._scanner = Scanner()
        self._queue: deque[bytes] = deque()
        self._deadline: float | None = None
        self._tries = 0

    def receive(self, data: bytes, now: float) -> list[bytes]:
        """Follow the other end's tokens; return the messages it sent."""
        messages: list[bytes] = []
        overflows = self._scanner.overflows
        for token in self._scanner.feed(data):
            message = self._token(token, now)
            if message is not None:
                messages.append(message)
        if self._scanner.overflows != overflows:
            self.counters.drop(f"a text block longer than {MAX_BLOCK} characters")
        return messages

    @abstractmethod
    def _token(self, token: Token, now: float) -> bytes | None:
        """Act on one token; the message it completed, if any."""


class Iso1745Link(Iso1745Party):
    """The slave side: answers selections and polls; one message per poll.

    Messages are never dropped: a transfer the exchange does not acknowledge after
    ``profile.attempts`` tries is given up with EOT and the message waits for the next
    poll. A text block that fails its check is answered NAK and counted.
    """

    def __init__(self, profile: Iso1745Profile = ISO1745_PROFILE) -> None:
        super().__init__(profile)
        self._state = _State.NEUTRAL

    @property
    def send_delay(self) -> float:
        """A message waits for the next poll."""
        return self.profile.poll_interval + self.profile.reply_timeout

    @property
    def pending(self) -> int:
        """Messages waiting for a poll."""
        return len(self._queue)

    def send(self, message: bytes, now: float) -> None:
        """Queue a message for the next poll."""
        self._queue.append(message)

    def next_deadline(self) -> float | None:
        """When an unanswered transfer (or a selection without text) times out."""
        return self._deadline

    def on_deadline(self, now: float) -> None:
        """Try again, or give up the transfer (the message stays queued)."""
        if self._deadline is None or now < self._deadline:
            return
        if self._state in (_State.SELECTING, _State.SENDING):
            self._retry(now)
        else:
            self._neutral()

    def _token(self, token: Token, now: float) -> bytes | None:
        profile = self.profile
        if isinstance(token, Enquiry):
            if token.address == profile.select_address:
                self._output.append(ACK)
                self._enter(_State.SELECTED, now)
            elif token.address == profile.poll_address:
                self._polled(now)
            # other addresses are other stations on a multidrop bus
            return None
        if isinstance(token, TextBlock):
            return self._text(token, now)
        if token is Control.EOT:
            self._neutral()
        elif self._state is _State.SELECTING and token is Control.ACK:
            self._tries = 0
            self._output += text_block(self._queue[0])
            self._enter(_State.SENDING, now)
        elif self._state is _State.SENDING and token is Control.ACK:
            self._queue.popleft()
            self._output.append(EOT)
            self._neutral()
        elif self._state in (_State.SELECTING, _State.SENDING) and token is Control.NAK:
            self._retry(now)
        return None

    def _polled(self, now: float) -> None:
        if not self._queue:
            self._output.append(EOT)
            self._neutral()
            return
        self._tries = 0
        self._output += enquiry(self.profile.exchange_address)
        self._enter(_State.SELECTING, now)

    def _text(self, block: TextBlock, now: float) -> bytes | None:
        if self._state is not _State.SELECTED:
            self.counters.drop("a text block without a selection")
            return None
        message = message_from_text(block.text) if block.intact else None
        if message is None:
            reason = "a bad block check" if not block.intact else "a payload that is not hex"
            self.counters.drop(f"a text block with {reason}", checksum=not block.intact)
            self._output.append(NAK)
        else:
            self._output.append(ACK)
        self._enter(_State.SELECTED, now)
        return message

    def _retry(self, now: float) -> None:
        self._tries += 1
        if self._tries >= self.profile.attempts:
            self._output.append(EOT)  # given up; the message waits for the next poll
            self.counters.drop("the exchange did not acknowledge a message")
            self._neutral()
            return
        self.counters.retransmitted += 1
        if self._state is _State.SELECTING:
            self._output += enquiry(self.profile.exchange_address)
        else:
            self._output += text_block(self._queue[0])
        self._deadline = now + self.profile.reply_timeout

    def _enter(self, state: _State, now: float) -> None:
        self._state = state
        self._deadline = now + self.profile.reply_timeout

    def _neutral(self) -> None:
        self._state = _State.NEUTRAL
        self._deadline = None
        self._tries = 0
