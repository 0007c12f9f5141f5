"""A simulated NBX call processor (NCP) and its phones, built from the library's frames.

The NCP broadcasts an HU update about once a second (one nibble 3 per phone online), sends
each phone HR requests when its line changes (ring with the caller's number on the
display, the call timer once answered, the idle display after), and the phones
acknowledge each with HH; with voice on, talking phones exchange HA frames at the real
rate (192 bytes every 24 ms, each direction). Scenarios are timed actions, so the same
run can go out on an interface in real time or into a pcap at once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from ..frames import HU_SLOT_BYTES, TYPE_ACK, TYPE_REQUEST, TYPE_UPDATE, TYPE_VOICE
from ..layers import NBXAck, NBXRequest, NBXUpdate, NBXVoice, build

NCP_MAC: Final = "00:e0:bb:0b:d8:be"
BROADCAST: Final = "ff:ff:ff:ff:ff:ff"
#: Ring byte of a ringing phone: tone 5, continuous (see frames.HR_RING).
RING: Final = 0x50
#: Phone slots an update holds (12 bytes of nibbles).
MAX_PHONES: Final = HU_SLOT_BYTES * 2

type LineState = Literal["idle", "ringing", "talking", "calling"]


@dataclass(slots=True)
class SimPhone:
    """One phone: where it is and what its display shows."""

    number: str
    slot: int
    mac: str
    state: LineState = "idle"
    peer: str | None = None

    @property
    def name(self) -> str:
        """What the phones file calls it."""
        return f"Phone {self.number}"


@dataclass(slots=True)
class Ncp:
    """The call processor's view: phones, calls, and the frames that follow from them."""

    phones: list[SimPhone]
    vlan: int | None = None
    _sequence: int = 0
    talking_pairs: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def with_phones(cls, count: int, *, first: int = 101, vlan: int | None = None) -> Ncp:
        """Phones ``first``, ``first`` + 1, ... in slots 0, 1, ..."""
        if not 1 <= count <= MAX_PHONES:
            raise ValueError(f"an update holds 1 to {MAX_PHONES} phones")
        phones = [
            SimPhone(str(first + index), index, f"00:e0:bb:00:01:{index + 1:02x}")
            for index in range(count)
        ]
        return cls(phones, vlan)

    def phone(self, number: str) -> SimPhone:
        """A phone by extension number."""
        for phone in self.phones:
            if phone.number == number:
                return phone
        raise KeyError(number)

    def phones_text(self) -> str:
        """The phones as a phones file (``NUMBER; SLOT; MAC; NAME`` per line)."""
        return "".join(f"{p.number}; {p.slot}; {p.mac}; {p.name}\n" for p in self.phones)

    def _next(self) -> int:
        self._sequence = (self._sequence + 1) & 0xFFFF
        return self._sequence

    # -- frames -------------------------------------------------------------------------

    def update(self, now: datetime) -> bytes:
        """The HU broadcast: the clock and every phone's slot."""
        nibbles = bytearray(HU_SLOT_BYTES)
        for phone in self.phones:
            nibbles[phone.slot // 2] |= 3 << (0 if phone.slot % 2 else 4)
        body = NBXUpdate(
            year=now.year,
            month=now.month,
            day=now.day,
            hour=now.hour,
            minute=now.minute,
            millis=now.second * 1000 + now.microsecond // 1000,
            table_size=(len(self.phones) + 3) // 4,
            slots=bytes(nibbles),
        )
        return build(BROADCAST, NCP_MAC, TYPE_UPDATE, NCP_MAC, self._next(), body, vlan=self.vlan)

    def request(self, phone: SimPhone) -> list[bytes]:
        """The HR frame that shows the phone's state, and the phone's HH for it."""
        lines = {
            "idle": (phone.name, ""),
            "ringing": (f"Call from {phone.peer}", ""),
            "calling": (f"Calling {phone.peer}", ""),
            "talking": (f"Connected {phone.peer}", ""),
        }[phone.state]
        display = "".join(line.ljust(32)[:32] for line in lines).encode("ascii")
        sequence = self._next()
        body = NBXRequest(
            ring=RING if phone.state == "ringing" else 0,
            display=display,
            clock=1 if phone.state == "idle" else 0,
            timer=1 if phone.state == "talking" else 0,
        )
        request = build(phone.mac, NCP_MAC, TYPE_REQUEST, NCP_MAC, sequence, body, vlan=self.vlan)
        ack = build(NCP_MAC, phone.mac, TYPE_ACK, phone.mac, sequence, NBXAck(device=phone.slot))
        return [request, ack]

    def voice(self) -> list[bytes]:
        """One 24 ms voice frame in each direction of every conversation."""
        frames = []
        for first, second in sorted(self.talking_pairs):
            a, b = self.phone(first), self.phone(second)
            for source, destination in ((a, b), (b, a)):
                sequence = self._next()
                frame = build(
                    destination.mac, source.mac, TYPE_VOICE, source.mac, sequence, NBXVoice(),
                    vlan=self.vlan,
                )  # fmt: skip
                frames.append(frame)
        return frames

    # -- calls --------------------------------------------------------------------------

    def ring(self, caller: str, callee: str) -> list[bytes]:
        """``caller`` dials ``callee``, which rings showing the caller's number."""
        a, b = self.phone(caller), self.phone(callee)
        if a.state != "idle" or b.state != "idle":
            return []
        a.state, a.peer = "calling", callee
        b.state, b.peer = "ringing", caller
        return self.request(a) + self.request(b)

    def answer(self, callee: str) -> list[bytes]:
        """The ringing phone answers: both show the call timer."""
        b = self.phone(callee)
        if b.state != "ringing" or b.peer is None:
            return []
        a = self.phone(b.peer)
        a.state = b.state = "talking"
        self.talking_pairs.add((min(a.number, b.number), max(a.number, b.number)))
        return self.request(a) + self.request(b)

    def hang_up(self, number: str) -> list[bytes]:
        """Either side hangs up: both go idle."""
        a = self.phone(number)
        if a.state == "idle" or a.peer is None:
            return []
        b = self.phone(a.peer)
        self.talking_pairs.discard((min(a.number, b.number), max(a.number, b.number)))
        for phone in (a, b):
            phone.state, phone.peer = "idle", None
        return self.request(a) + self.request(b)


# -- scenarios: (seconds from the start, action) -------------------------------------------

type Action = tuple[str, tuple[str, ...]]


def basic_call(ncp: Ncp, rng: random.Random) -> Iterator[tuple[float, Action]]:
    """The first phone calls the second every 10 s.

    The second rings at 1 s, answers at 3 s, and the first hangs up at 6 s.
    """
    caller, callee = ncp.phones[0].number, ncp.phones[min(1, len(ncp.phones) - 1)].number
    start = 0.0
    while True:
        yield start + 1, ("ring", (caller, callee))
        yield start + 3, ("answer", (callee,))
        yield start + 6, ("hang_up", (caller,))
        start += 10


def busy_office(ncp: Ncp, rng: random.Random) -> Iterator[tuple[float, Action]]:
    """Random calls between the phones, a new one every 0.5-3 s, 2-10 s long."""
    now = 0.5
    pending: list[tuple[float, Action]] = []
    while True:
        numbers = [p.number for p in ncp.phones]
        caller, callee = rng.sample(numbers, 2) if len(numbers) > 1 else (numbers[0],) * 2
        pending += [
            (now, ("ring", (caller, callee))),
            (now + rng.uniform(1, 3), ("answer", (callee,))),
            (now + rng.uniform(4, 12), ("hang_up", (caller,))),
        ]
        pending.sort()
        now += rng.uniform(0.5, 3)
        while pending and pending[0][0] <= now:
            yield pending.pop(0)


SCENARIOS: Final = {"basic-call": basic_call, "busy-office": busy_office}


def apply(ncp: Ncp, action: Action) -> list[bytes]:
    """Carry out one scenario action; the frames it causes."""
    verb, arguments = action
    if verb == "ring":
        return ncp.ring(*arguments)
    if verb == "answer":
        return ncp.answer(*arguments)
    return ncp.hang_up(*arguments)
