"""The WebSocket client of ``script/benchmark ha``: it follows every state change.

Two ways, as Home Assistant's clients do (both ask, as the frontend does, for messages
queued together to come as one):

- ``entities`` (the default): ``subscribe_entities``, what the frontend uses for an open
  dashboard. All states first, then per change a compressed diff (only what changed); the
  follower keeps each entity's attributes, as the frontend does, to know a diff's event.
- ``state-changed``: ``subscribe_events`` for ``state_changed``, what tools such as Node-RED
  use: every change with the whole old and new state, which Home Assistant serialises
  in full.
- ``none``: no client; only Home Assistant's CPU is measured (nothing to time arrivals by).

Either way an arrival is (call id, kind, when the state was written): the extension's line
sensor turning to ``ringing`` (the call's id in its attributes) or back to ``idle`` (the id
it had), at its ``state_changed`` time, which is its state's last-changed time. The line
sensor, not the call event entity: at office scale those start disabled.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Final

from demo.hass_api import HomeAssistantApi, Json

#: Line states for the two kinds of report the far end sends (ringing, the call given up).
KINDS: Final = {"ringing": "ringing", "idle": "missed"}
FOLLOWERS: Final = ("entities", "state-changed", "none")

#: (call id, kind, time the state was written).
type Arrival = tuple[str, str, float]


class Follower:
    """Follows every state change; ``arrivals()`` returns the event entities' new events."""

    def __init__(self, way: str) -> None:
        if way not in FOLLOWERS:
            raise ValueError(f"follow {way!r}? one of {FOLLOWERS}")
        self.way = way
        self._queue: asyncio.Queue[Json] | None = None
        #: Attributes per entity, kept up to date from the diffs (``entities`` only).
        self._attributes: dict[str, dict[str, Any]] = {}

    async def start(self, api: HomeAssistantApi) -> None:
        """Subscribe."""
        if self.way == "entities":
            self._queue = await api.subscribe_entities()
        elif self.way == "state-changed":
            self._queue = await api.subscribe_events("state_changed")
        else:
            self._queue = asyncio.Queue()  # nothing arrives

    def arrivals(self) -> list[Arrival]:
        """The line sensors' changes that arrived since the last call."""
        assert self._queue is not None, "start() first"
        found: list[Arrival] = []
        while not self._queue.empty():
            found += self.parse(self._queue.get_nowait())
        return found

    def parse(self, message: Json) -> list[Arrival]:
        """The arrivals in one message of the subscription."""
        if self.way == "entities":
            return self._from_diffs(message)
        return _from_state_changed(message)

    def _from_diffs(self, message: Json) -> list[Arrival]:
        for entity_id, state in message.get("a", {}).items():
            self._attributes[entity_id] = dict(state.get("a", {}))
        for entity_id in message.get("r", []):
            self._attributes.pop(entity_id, None)
        found = []
        for entity_id, diff in message.get("c", {}).items():
            attributes = self._attributes.setdefault(entity_id, {})
            call_before = attributes.get("call_id")
            added = diff.get("+", {})
            attributes.update(added.get("a", {}))
            for key in diff.get("-", {}).get("a", []):
                attributes.pop(key, None)
            # A new state carries "s" and "lc"; an update of the same state neither.
            if "s" not in added:
                continue
            arrival = _arrival(
                entity_id, added["s"], attributes.get("call_id"), call_before, added.get("lc")
            )
            if arrival is not None:
                found.append(arrival)
        return found


def _from_state_changed(event: Json) -> list[Arrival]:
    new = event["data"].get("new_state") or {}
    old = event["data"].get("old_state") or {}
    if new.get("state") == old.get("state"):
        return []
    written = datetime.fromisoformat(event["time_fired"]).timestamp()
    call_now = new.get("attributes", {}).get("call_id")
    call_before = old.get("attributes", {}).get("call_id")
    arrival = _arrival(new.get("entity_id", ""), new.get("state"), call_now, call_before, written)
    return [arrival] if arrival is not None else []


def _arrival(
    entity_id: str,
    state: str | None,
    call_now: str | None,
    call_before: str | None,
    written: float | None,
) -> Arrival | None:
    """A line sensor's new state as an arrival: ringing with a call, idle after one."""
    if not entity_id.startswith("sensor.") or not entity_id.endswith("_line") or written is None:
        return None
    kind = KINDS.get(state or "")
    call_id = call_now if kind == "ringing" else call_before
    if kind is None or not call_id:
        return None
    return (call_id, kind, written)
