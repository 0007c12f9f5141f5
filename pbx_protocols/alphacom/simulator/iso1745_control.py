"""The exchange's side of an ISO 1745 link: the control device that polls and selects.

Built from the library's own ISO 1745 pieces (scanner, text blocks, enquiries, profile),
so the simulator speaks exactly what the client's slave expects, and tests can run the
two against each other over a real pseudo-terminal or in memory.
"""

from __future__ import annotations

from enum import Enum, auto

from ..iso1745 import (
    ACK,
    EOT,
    ISO1745_PROFILE,
    NAK,
    Control,
    Enquiry,
    Iso1745Party,
    Iso1745Profile,
    TextBlock,
    Token,
    enquiry,
    message_from_text,
    text_block,
)


class _State(Enum):
    NEUTRAL = auto()
    #: We selected the slave and wait for its ACK.
    SELECTING = auto()
    #: We sent a text block and wait for its ACK or NAK.
    SENDING = auto()
    #: We polled and wait for EOT (nothing) or the slave's selection of us.
    POLLING = auto()
    #: The slave selected us; its text blocks come until its EOT.
    RECEIVING = auto()


class Iso1745Control(Iso1745Party):
    """Selects the slave whenever it has messages for it; polls it every poll interval."""

    def __init__(self, profile: Iso1745Profile = ISO1745_PROFILE) -> None:
        super().__init__(profile)
        self._state = _State.NEUTRAL
        self._next_poll = 0.0
        self.polls = 0
        #: Messages dropped after the last try (the exchange reports a device error).
        self.given_up = 0

    def start(self, now: float) -> None:
        """Poll at once."""
        self._next_poll = now

    def send(self, message: bytes, now: float) -> None:
        """Queue a message; select the slave now if the line is free."""
        self._queue.append(message)
        if self._state is _State.NEUTRAL:
            self._select(now)

    def next_deadline(self) -> float | None:
        """The reply timeout during a transfer, else the next poll."""
        return self._deadline if self._state is not _State.NEUTRAL else self._next_poll

    def on_deadline(self, now: float) -> None:
        """Poll, or repeat (then give up) an unanswered transfer."""
        if self._state is _State.NEUTRAL:
            if now >= self._next_poll:
                self._poll(now)
        elif self._deadline is not None and now >= self._deadline:
            if self._state in (_State.SELECTING, _State.SENDING):
                self._failed_try(now)
            else:
                self._end(now)

    def _token(self, token: Token, now: float) -> bytes | None:
        state = self._state
        if isinstance(token, TextBlock):
            if state is not _State.RECEIVING:
                self.counters.drop("a text block nobody selected us for")
                return None
            message = message_from_text(token.text) if token.intact else None
            self._output.append(ACK if message is not None else NAK)
            if message is None:
                self.counters.drop("a bad text block", checksum=not token.intact)
            self._deadline = now + self.profile.reply_timeout
            return message
        if isinstance(token, Enquiry):
            if state is _State.POLLING and token.address == self.profile.exchange_address:
                self._output.append(ACK)
                self._enter(_State.RECEIVING, now)
            return None
        if token is Control.EOT:
            if state in (_State.POLLING, _State.RECEIVING):
                self._end(now)
        elif token is Control.ACK and state is _State.SELECTING:
            self._tries = 0
            self._output += text_block(self._queue[0])
            self._enter(_State.SENDING, now)
        elif token is Control.ACK and state is _State.SENDING:
            self._tries = 0
            self._queue.popleft()
            if self._queue:  # the next block in the same selection
                self._output += text_block(self._queue[0])
                self._enter(_State.SENDING, now)
            else:
                self._end(now)
        elif token is Control.NAK and state in (_State.SELECTING, _State.SENDING):
            self._failed_try(now)
        return None

    def _failed_try(self, now: float) -> None:
        """Repeat; after the last try, drop the message.

        The exchange reports a device error then, rather than hold its queue for a device
        that is gone.
        """
        self._tries += 1
        if self._tries < self.profile.attempts:
            self.counters.retransmitted += 1
            self._repeat(now)
            return
        self._queue.popleft()
        self.given_up += 1
        self.counters.drop("the slave did not acknowledge a message")
        self._end(now)

    def _select(self, now: float) -> None:
        self._tries = 0
        self._output += enquiry(self.profile.select_address, reset=True)
        self._enter(_State.SELECTING, now)

    def _poll(self, now: float) -> None:
        self.polls += 1
        self._output += enquiry(self.profile.poll_address, reset=True)
        self._enter(_State.POLLING, now)

    def _repeat(self, now: float) -> None:
        if self._state is _State.SELECTING:
            self._output += enquiry(self.profile.select_address, reset=True)
        else:
            self._output += text_block(self._queue[0])
        self._deadline = now + self.profile.reply_timeout

    def _enter(self, state: _State, now: float) -> None:
        self._state = state
        self._deadline = now + self.profile.reply_timeout

    def _end(self, now: float) -> None:
        """Back to neutral, then poll if it is time, else select if messages wait.

        Polls come first so that a busy exchange still hears from its devices.
        """
        if self._state in (_State.SELECTING, _State.SENDING):
            self._output.append(EOT)
        if self._state in (_State.POLLING, _State.RECEIVING):
            self._next_poll = now + self.profile.poll_interval
        self._state = _State.NEUTRAL
        self._deadline = None
        self._tries = 0
        if now >= self._next_poll:
            self._poll(now)
        elif self._queue:
            self._select(now)
