"""One reconnect policy for every stack: exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

INITIAL_DELAY: Final = 1.0
MAXIMUM_DELAY: Final = 60.0
#: A link that stayed up this long counts as stable: the next loss starts over at 1 s.
STABLE_LINK_SECONDS: Final = 60.0


@dataclass(slots=True)
class ReconnectPolicy:
    """Delays between reconnect attempts: 1 s doubling up to 60 s, each up to 20 % shorter.

    Jitter keeps several clients (or several PBXs behind one switch that rebooted) from
    retrying in lockstep. It only ever shortens a delay, so the spread survives at both
    ends of the range and no delay exceeds the maximum. The policy is pure: the caller sleeps.
    """

    initial: float = INITIAL_DELAY
    maximum: float = MAXIMUM_DELAY
    multiplier: float = 2.0
    jitter: float = 0.2
    stable_after: float = STABLE_LINK_SECONDS
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        """Return the delay before the next attempt and count the attempt."""
        base = min(self.maximum, self.initial * self.multiplier**self.attempts)
        self.attempts += 1
        return base * self.rng.uniform(1.0 - self.jitter, 1.0)

    def link_lost(self, link_lifetime: float) -> None:
        """Start a new series of attempts after a link that lived ``link_lifetime`` seconds.

        A stable link resets the backoff; a link that dropped right after coming up keeps
        the current backoff, so a PBX that accepts and drops connections is not hammered.
        """
        if link_lifetime >= self.stable_after:
            self.attempts = 0

    def authentication_failed(self) -> None:
        """Jump to the maximum delay: the credentials will not fix themselves quickly."""
        while self.initial * self.multiplier**self.attempts < self.maximum:
            self.attempts += 1
