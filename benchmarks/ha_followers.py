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

Either way an arrival is (call id, kind, when the state was written): the event entity's
``state_changed`` time, which is its state's last-updated time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Final

from demo.hass_api import HomeAssistantApi, Json

#: Event entity event types for the two kinds of report the far end sends.
KINDS: Final = {"incoming_call": "ringing", "missed": "missed"}
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
        """The event entities' events that arrived since the last call."""
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
            added = diff.get("+", {})
            attributes.update(added.get("a", {}))
            for key in diff.get("-", {}).get("a", []):
                attributes.pop(key, None)
            # A new state carries "lc"; an update of the same state only "lu".
            written = added.get("lc", added.get("lu"))
            arrival = _arrival(entity_id, attributes, written)
            if arrival is not None:
                found.append(arrival)
        return found


def _from_state_changed(event: Json) -> list[Arrival]:
    new = event["data"].get("new_state") or {}
    written = datetime.fromisoformat(event["time_fired"]).timestamp()
    arrival = _arrival(new.get("entity_id", ""), new.get("attributes", {}), written)
    return [arrival] if arrival is not None else []


def _arrival(entity_id: str, attributes: dict[str, Any], written: float | None) -> Arrival | None:
    kind = KINDS.get(attributes.get("event_type", ""))
    call_id = attributes.get("call_id")
    if not entity_id.startswith("event.") or kind is None or not call_id or written is None:
        return None
    return (call_id, kind, written)
