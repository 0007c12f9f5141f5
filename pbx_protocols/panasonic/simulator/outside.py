"""People outside the PBX: numbers an extension calls answer, talk a while and hang up.

Without them, an outside number called from an extension would ring for ever. How often
the other end is busy or does not answer is a knob of the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .failures import SimulatorFailure

if TYPE_CHECKING:
    from .pbx import SimulatedPbx


#: How often an outside number called is busy, or rings without an answer (defaults).
DEFAULT_BUSY: Final = 0.1
DEFAULT_NO_ANSWER: Final = 0.1


@dataclass(frozen=True, slots=True)
class OutsideParties:
    """How outside parties behave when an extension calls them (seconds, probabilities)."""

    answer_after: tuple[float, float] = (2.0, 6.0)
    talk_for: tuple[float, float] = (20.0, 90.0)
    busy: float = DEFAULT_BUSY
    no_answer: float = DEFAULT_NO_ANSWER
    #: A call nobody answers fails after ringing this long.
    ring_timeout: float = 30.0
    #: Multiplies every delay (the scenario's pace).
    pace: float = 1.0

    def __post_init__(self) -> None:
        if not (0 <= self.busy <= 1 and 0 <= self.no_answer <= 1):
            raise ValueError("busy and no-answer are probabilities between 0 and 1")
        if self.busy + self.no_answer > 1:
            raise ValueError("busy and no-answer add up to more than 1")


class OutsideLines:
    """Plays the outside party of every external call an extension makes."""

    def __init__(self, pbx: SimulatedPbx, behaviour: OutsideParties, rng: random.Random) -> None:
        self._pbx = pbx
        self.behaviour = behaviour
        self._rng = rng
        self._timers: dict[bytes, asyncio.TimerHandle] = {}

    def dialled(self, call_id: bytes, number: str) -> None:
        """An extension dialled ``number``: decide what the person there does."""
        behaviour = self.behaviour
        draw = self._rng.random()
        if draw < behaviour.busy:
            self._later(call_id, 1.0, self._pbx.fail_external, call_id, "busy")
        elif draw < behaviour.busy + behaviour.no_answer:
            cause = "callNotAnswered"
            self._later(call_id, behaviour.ring_timeout, self._pbx.fail_external, call_id, cause)
        else:
            delay = self._rng.uniform(*behaviour.answer_after)
            self._later(call_id, delay, self._answer, call_id, number)

    def moved(self, old_call_id: bytes, new_call_id: bytes) -> None:
        """A call got a new id (transfer): its outside party talks on, then hangs up."""
        had_party = old_call_id in self._timers
        self.forget(old_call_id)
        number = self._pbx.external_party(new_call_id) if had_party else None
        if number is not None:
            self._hang_up_later(new_call_id, number)

    def forget(self, call_id: bytes) -> None:
        """The call ended: nothing left to do for its outside party."""
        timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()

    def cancel_all(self) -> None:
        """Stop every pending action (the simulator stops)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _answer(self, call_id: bytes, number: str) -> None:
        self._pbx.answer(number, call_id)
        self._hang_up_later(call_id, number)

    def _hang_up_later(self, call_id: bytes, number: str) -> None:
        talk = self._rng.uniform(*self.behaviour.talk_for)
        self._later(call_id, talk, self._pbx.clear_connection, number, call_id)

    def _later(
        self, call_id: bytes, delay: float, action: Callable[..., None], *args: object
    ) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # driven by hand, outside an event loop: nobody acts by themselves
        self.forget(call_id)
        when = delay * self.behaviour.pace
        self._timers[call_id] = loop.call_later(when, self._run, call_id, action, args)

    def _run(self, call_id: bytes, action: Callable[..., None], args: tuple[object, ...]) -> None:
        self._timers.pop(call_id, None)
        with contextlib.suppress(SimulatorFailure):  # the call changed meanwhile
            action(*args)
