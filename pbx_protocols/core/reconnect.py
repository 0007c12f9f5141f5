"""One reconnect policy for every stack: quick retries while an outage is young, then slow.

Most outages are short (a PBX restarting, a switch rebooting): the link should be back
within seconds of the PBX answering again. A PBX that stays away for minutes is probably
switched off or replaced, and a retry a minute is plenty.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

INITIAL_DELAY: Final = 1.0
#: Longest wait between attempts while the outage is younger than FAST_PHASE.
FAST_MAXIMUM_DELAY: Final = 5.0
FAST_PHASE: Final = 300.0
#: The wait between attempts once the outage is older: at least this long.
MAXIMUM_DELAY: Final = 60.0
#: A link that lived shorter than this did not end the outage (a PBX that accepts and then
#: drops connections is not hammered with fresh quick series).
STABLE_LINK_SECONDS: Final = 10.0


@dataclass(slots=True)
class ReconnectPolicy:
    """Delays between reconnect attempts, from the time the outage began.

    While the outage is younger than ``fast_phase``: 1 s, 2 s, 4 s, then ``fast_maximum``,
    each up to ``jitter`` shorter. After that: ``maximum``, each up to ``jitter`` longer.
    Jitter keeps several clients from retrying in lockstep; its direction keeps the fast
    phase fast and the slow phase at most one attempt per ``maximum``. The policy is pure:
    the caller passes the time and sleeps.
    """

    initial: float = INITIAL_DELAY
    fast_maximum: float = FAST_MAXIMUM_DELAY
    fast_phase: float = FAST_PHASE
    maximum: float = MAXIMUM_DELAY
    multiplier: float = 2.0
    jitter: float = 0.2
    stable_after: float = STABLE_LINK_SECONDS
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0
    outage_started: float | None = None
    slow: bool = False

    def link_lost(self, now: float, link_lifetime: float) -> None:
        """Note that the link was lost at ``now`` after living ``link_lifetime`` seconds."""
        if self.outage_started is None or link_lifetime >= self.stable_after:
            self.outage_started = now
            self.attempts = 0
            self.slow = False

    def next_delay(self, now: float) -> float:
        """Return the delay before the next attempt and count the attempt."""
        started = now if self.outage_started is None else self.outage_started
        self.attempts += 1
        if self.slow or now - started >= self.fast_phase:
            return self.maximum * self.rng.uniform(1.0, 1.0 + self.jitter)
        base = min(self.fast_maximum, self.initial * self.multiplier ** (self.attempts - 1))
        return base * self.rng.uniform(1.0 - self.jitter, 1.0)

    def authentication_failed(self) -> None:
        """Go slow at once: the credentials will not fix themselves quickly."""
        self.slow = True
