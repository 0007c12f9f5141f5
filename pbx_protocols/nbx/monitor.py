"""What the NBX's frames say about its phones, as vendor-neutral line states and events.

- **Online/offline** from the NCP's HU updates: a slot with a non-zero nibble is online
  (an ``online`` event the first time, too); a phone missing from updates for
  ``offline_after`` seconds goes offline. A phone known by slot is offline until an update
  names it.
- **Ringing** from an HR frame that tells a phone to ring; the caller's number is read
  from the display text where the display shows it.
- **Talking** from the call-timer display mode, or from sampled voice frames.
- **Idle** when the ring stops and the timer (and voice) ends.

Phones are known by slot (HU) and by MAC (HR and voice frames go to and from the phone's
own MAC); which slot, MAC, extension number and name belong together is configuration
(:class:`PhoneDirectory`). A phone nobody mapped still appears, as ``slot-N`` or as its
MAC. Nothing here does I/O: frames and the time come in, events go out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from ..core.calls import CallTracker
from ..core.errors import InvalidInput, ProtocolError
from ..core.model import CallEvent, CallState, Direction, EndReason
from .frames import (
    TYPE_REQUEST,
    TYPE_UPDATE,
    TYPE_VOICE,
    NbxFrame,
    mac_text,
    parse_frame,
    parse_mac,
    parse_request,
    parse_update,
)

#: A phone missing from the NCP's updates (about one a second) this long is offline.
OFFLINE_AFTER: Final = 10.0
#: Without the call timer, a call counts as talking while sampled voice arrives; this long
#: after the last sampled frame (one in 64 of ~42/s: one every ~1.5 s) it no longer does.
VOICE_IDLE_AFTER: Final = 6.0
#: Phones learned from frames (not configured), at most: a flood of forged MACs must not
#: grow the model without end.
MAX_LEARNED_PHONES: Final = 1024
#: Slots an update can name (12 bytes of nibbles, as the seed's code reads them).
MAX_SLOT: Final = 23

CALLER_PATTERNS: Final = (
    r"(?:call(?:ing)?\s+from|from|caller|cid)\s*:?\s*(?P<number>\+?[0-9*#]{2,24})",
    r"(?:connected(?:\s+to)?|calling|to)\s*:?\s*(?P<number>\+?[0-9*#]{2,24})",
    r"^\s*(?P<number>\+?[0-9]{2,24})\b",
)
"""Unverified: what a stock NBX display shows during a call is not documented. These
defaults take, while a phone rings, the caller after "Call from", "From", "Caller" or
"CID", and in a call the other party after "Connected (to)", "Calling" or "To"; else a
number at the start of a line. A site's own patterns (regexes with a group named
``number``) replace them."""


@dataclass(frozen=True, slots=True)
class PhoneEntry:
    """One configured phone: its extension number and where it is seen."""

    number: str
    slot: int | None = None
    mac: bytes | None = None
    name: str | None = None


def parse_phones(text: str) -> list[PhoneEntry]:
    """Phones from lines of ``NUMBER; SLOT; MAC; NAME`` (empty fields allowed, # comments).

    InvalidInput names the line that is wrong.
    """
    entries: list[PhoneEntry] = []
    numbers: set[str] = set()
    for index, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [part.strip() for part in line.split(";", 3)] + ["", "", ""]
        number, slot, mac, name = fields[:4]
        if not re.fullmatch(r"[0-9*#]{1,16}", number):
            raise InvalidInput(f"line {index}: {number!r} is not an extension number")
        if number in numbers:
            raise InvalidInput(f"line {index}: extension {number} is listed twice")
        if slot and not (slot.isdigit() and int(slot) <= MAX_SLOT):
            raise InvalidInput(f"line {index}: the slot must be 0 to {MAX_SLOT}")
        try:
            mac_bytes = parse_mac(mac) if mac else None
        except ValueError as err:
            raise InvalidInput(f"line {index}: {err}") from err
        if not slot and mac_bytes is None:
            raise InvalidInput(f"line {index}: give the phone's slot, its MAC address, or both")
        numbers.add(number)
        entries.append(PhoneEntry(number, int(slot) if slot else None, mac_bytes, name or None))
    return entries


def compile_caller_patterns(patterns: Iterable[str] = CALLER_PATTERNS) -> list[re.Pattern[str]]:
    """Regexes with a ``number`` group; InvalidInput for one that is not."""
    compiled = []
    for pattern in patterns:
        try:
            regex = re.compile(pattern, re.IGNORECASE | re.MULTILINE)
        except re.error as err:
            raise InvalidInput(f"the caller pattern {pattern!r} is not a regex: {err}") from err
        if "number" not in regex.groupindex:
            raise InvalidInput(f"the caller pattern {pattern!r} has no (?P<number>...) group")
        compiled.append(regex)
    return compiled


@dataclass(slots=True)
class _Phone:
    number: str
    call_id: str | None = None
    ringing: bool = False
    timer: bool = False
    voice_at: float | None = None
    seen_at: float | None = None
    calls: int = 0
    mac: bytes | None = None
    last_request: NbxFrame | None = None
    #: Whether the current call showed the call timer (then the timer says when it ends).
    timer_seen: bool = False


@dataclass(slots=True)
class PhoneDirectory:
    """Which extension a slot or a MAC is (configured, else learned)."""

    entries: list[PhoneEntry] = field(default_factory=list)
    by_slot: dict[int, str] = field(init=False)
    by_mac: dict[bytes, str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_slot = {e.slot: e.number for e in self.entries if e.slot is not None}
        self.by_mac = {e.mac: e.number for e in self.entries if e.mac is not None}


class NbxMonitor:
    """Turns frames into tracker updates; returns the events."""

    def __init__(
        self,
        tracker: CallTracker,
        phones: Iterable[PhoneEntry] = (),
        *,
        offline_after: float = OFFLINE_AFTER,
        caller_patterns: Iterable[str] = CALLER_PATTERNS,
        learn: bool = True,
    ) -> None:
        self.tracker = tracker
        self.directory = PhoneDirectory(list(phones))
        self.offline_after = offline_after
        self.learn = learn
        self._patterns = compile_caller_patterns(caller_patterns)
        self._phones: dict[str, _Phone] = {}
        self.unparsable = 0
        #: The time of the frame being followed (a replay's tracker clock reads it).
        self.now = 0.0
        #: The NCP's MAC, from the updates it sends.
        self.ncp: bytes | None = None
        for entry in self.directory.entries:
            tracker.add_extension(entry.number, entry.name)
            self._phones[entry.number] = _Phone(entry.number, mac=entry.mac)
            if entry.slot is not None:
                tracker.set_online(entry.number, False)  # until an update names its slot

    def mac_of(self, number: str) -> bytes | None:
        """A phone's MAC, configured or seen."""
        phone = self._phones.get(number)
        return phone.mac if phone else None

    def last_request(self, number: str) -> NbxFrame | None:
        """The last HR frame the NCP sent the phone."""
        phone = self._phones.get(number)
        return phone.last_request if phone else None

    # -- which phone ----------------------------------------------------------------------

    def _phone(self, number: str | None, *, by_slot: bool = False) -> _Phone | None:
        if number is None:
            return None
        phone = self._phones.get(number)
        if phone is None:
            if not self.learn or len(self._phones) >= MAX_LEARNED_PHONES:
                return None
            phone = self._phones[number] = _Phone(number)
            self.tracker.add_extension(number)
            if by_slot:  # the update that named it says it is online (an event)
                self.tracker.set_online(number, False)
        return phone

    def _by_slot(self, slot: int) -> _Phone | None:
        return self._phone(self.directory.by_slot.get(slot) or f"slot-{slot}", by_slot=True)

    def _by_mac(self, mac: bytes) -> _Phone | None:
        if mac[0] & 0x01:  # broadcast or multicast: no one phone
            return None
        return self._phone(self.directory.by_mac.get(mac) or mac_text(mac))

    # -- frames ---------------------------------------------------------------------------

    def frame(self, frame: NbxFrame, now: float) -> list[CallEvent]:
        """Follow one frame; ``now`` is the monotonic (or capture) time."""
        try:
            if frame.type == TYPE_UPDATE:
                return self._update(frame, now)
            if frame.type == TYPE_REQUEST:
                return self._request(frame, now)
        except ProtocolError:
            self.unparsable += 1
            return []
        if frame.type == TYPE_VOICE:
            return self._voice(frame, now)
        return []

    def _update(self, frame: NbxFrame, now: float) -> list[CallEvent]:
        events: list[CallEvent] = []
        update = parse_update(frame)
        self.ncp = frame.orig
        for slot in update.slots:
            phone = self._by_slot(slot)
            if phone is not None:
                phone.seen_at = now
                events += self.tracker.set_online(phone.number, True)
        return events

    def _request(self, frame: NbxFrame, now: float) -> list[CallEvent]:
        phone = self._by_mac(frame.dst)
        if phone is None:
            return []
        request = parse_request(frame)
        # The NCP talks to the phone: it is on the network.
        events = self.tracker.set_online(phone.number, True)
        phone.mac = frame.dst
        phone.last_request = frame
        # Ringing, the display names the caller; in a call, the other party.
        shown = self._caller(request.display_lines) if request.ringing or request.timer else None
        caller = shown if request.ringing else None
        phone.ringing = request.ringing
        phone.timer = bool(request.timer)
        phone.timer_seen = phone.timer_seen or phone.timer
        if phone.timer_seen and not phone.ringing and not phone.timer:
            # The display showed this call's timer, and now the idle screen: the call is
            # over, whatever voice is still on its way.
            phone.voice_at = None
        return events + self._settle(phone, now, caller=caller, peer=shown)

    def _voice(self, frame: NbxFrame, now: float) -> list[CallEvent]:
        events: list[CallEvent] = []
        for mac in (frame.src, frame.dst):
            phone = self._by_mac(mac)
            if phone is not None:
                phone.voice_at = now
                events += self.tracker.set_online(phone.number, True)
                events += self._settle(phone, now)
        return events

    def tick(self, now: float) -> list[CallEvent]:
        """Time passed: phones gone from the updates go offline; silent calls end."""
        events: list[CallEvent] = []
        for phone in self._phones.values():
            if phone.seen_at is not None and now - phone.seen_at > self.offline_after:
                phone.seen_at = None
                phone.ringing = phone.timer = False
                phone.voice_at = None
                events += self._settle(phone, now)
                events += self.tracker.set_online(phone.number, False)
            elif phone.voice_at is not None and now - phone.voice_at > VOICE_IDLE_AFTER:
                phone.voice_at = None
                events += self._settle(phone, now)
        return events

    def _talking(self, phone: _Phone, now: float) -> bool:
        return phone.timer or (
            phone.voice_at is not None and now - phone.voice_at <= VOICE_IDLE_AFTER
        )

    def _settle(
        self, phone: _Phone, now: float, *, caller: str | None = None, peer: str | None = None
    ) -> list[CallEvent]:
        """Bring the phone's one call in line with its ring, timer and voice."""
        talking = self._talking(phone, now)
        if not phone.ringing and not talking:
            call_id, phone.call_id = phone.call_id, None
            phone.timer_seen = False
            return self.tracker.end(phone.number, call_id, EndReason.NORMAL) if call_id else []
        if phone.call_id is None:
            phone.calls += 1
            phone.call_id = f"{phone.number}-{phone.calls}"
        state = CallState.TALKING if talking else CallState.RINGING
        direction = Direction.INCOMING if state is CallState.RINGING else None
        return self.tracker.update(
            phone.number,
            phone.call_id,
            state,
            direction=direction,
            calling=caller,
            peer=peer or caller,
        )

    def replay(self, frames: Iterable[tuple[float, bytes]]) -> Iterator[CallEvent]:
        """Follow recorded (time, frame) pairs: the events a live monitor would have seen.

        The tracker's clock should return the recorded time (see :func:`replay_tracker`).
        """
        next_tick: float | None = None
        for when, data in frames:
            self.now = when
            if next_tick is None:
                next_tick = when + 1.0
            while when >= next_tick:  # time passes as it would have live
                self.now = next_tick
                yield from self.tick(next_tick)
                next_tick += 1.0
            self.now = when
            try:
                frame = parse_frame(data)
            except ProtocolError:
                self.unparsable += 1
                continue
            yield from self.frame(frame, when)

    def _caller(self, lines: list[str]) -> str | None:
        text = "\n".join(lines)
        for pattern in self._patterns:
            match = pattern.search(text)
            if match:
                return match.group("number")
        return None


def replay_monitor(
    phones: Iterable[PhoneEntry] = (),
    *,
    offline_after: float = OFFLINE_AFTER,
    caller_patterns: Iterable[str] = CALLER_PATTERNS,
) -> NbxMonitor:
    """A monitor whose events carry the recorded time of the frame that caused them."""
    holder: list[NbxMonitor] = []
    tracker = CallTracker(
        clock=lambda: datetime.fromtimestamp(holder[0].now if holder else 0.0, UTC)
    )
    monitor = NbxMonitor(
        tracker, phones, offline_after=offline_after, caller_patterns=caller_patterns
    )
    holder.append(monitor)
    tracker.set_link_up(True)
    return monitor
