"""The reference's load: the writes ``pbx`` makes per call event, with no PBX behind them.

Per event, as ``pbx`` does it: the line sensor's state, the call event entity's event and
the ``pbx_reference_call_event`` bus event. Outside calls ring the extensions round-robin
and are given up (as ``benchmarks.far_end`` rings them), on a millisecond grid.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from homeassistant.core import HomeAssistant

CALLER: Final = "0301234567"
EVENT_CALL: Final = "pbx_reference_call_event"
#: Events are due on this grid (seconds).
TICK: Final = 0.001

#: Writes one extension's line state and call (state, call id, caller).
type LineWriter = Callable[[str, str | None, str | None], None]
#: Fires one extension's call event entity (event type, call id, caller).
type EventFirer = Callable[[str, str, str], None]


@dataclass(slots=True)
class ReferenceExtension:
    """What the platforms registered for one extension."""

    line_entity_id: str | None = None
    write_line: LineWriter | None = None
    fire_event: EventFirer | None = None


@dataclass(slots=True)
class CallLoad:
    """Rings the extensions round-robin and gives the calls up again."""

    hass: HomeAssistant
    entry_id: str
    extensions: dict[str, ReferenceExtension]
    _numbers: list[str] = field(init=False)
    _next: int = 0
    _call: int = 0
    _ringing: deque[tuple[str, str]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._numbers = list(self.extensions)

    async def run(self, rate: float, seconds: float) -> list[float]:
        """Make ``rate`` call events a second for ``seconds``.

        Returns how late each event was made (seconds after it was due): what stalls the
        event loop for the PBX's reports stalls these too.
        """
        loop = asyncio.get_running_loop()
        start = loop.time()
        late = []
        for index in range(round(rate * seconds)):
            due = start + index / rate
            if due - loop.time() > TICK:
                await asyncio.sleep(due - loop.time())
            late.append(max(0.0, loop.time() - due))
            self._step()
        return late

    def end_calls(self) -> int:
        """Give up every call still ringing (as ``benchmarks.far_end`` does); how many."""
        ended = len(self._ringing)
        while self._ringing:
            number, call_id = self._ringing.popleft()
            self._event(number, call_id, "missed", None)
        return ended

    def _step(self) -> None:
        numbers = self._numbers
        if len(self._ringing) >= max(1, len(numbers) // 2):
            number, call_id = self._ringing.popleft()
            self._event(number, call_id, "missed", None)
            return
        number = numbers[self._next % len(numbers)]
        self._next += 1
        self._call += 1
        call_id = f"{self._call:x}"
        self._ringing.append((number, call_id))
        self._event(number, call_id, "incoming_call", "ringing")

    def _event(self, number: str, call_id: str, event_type: str, line: str | None) -> None:
        extension = self.extensions[number]
        if extension.write_line:
            extension.write_line(line or "idle", call_id if line else None, CALLER)
        self.hass.bus.async_fire(
            EVENT_CALL,
            {
                "config_entry_id": self.entry_id,
                "device_id": None,
                "entity_id": extension.line_entity_id,
                "extension": number,
                "event": event_type,
                "call_id": call_id,
                "caller": CALLER,
                "called": number,
                "peer": CALLER,
                "direction": "incoming",
                "state": line or "idle",
            },
        )
        if extension.fire_event:
            extension.fire_event(event_type, call_id, CALLER)
