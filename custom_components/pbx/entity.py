"""Base classes of the integration's entities."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from pbx_protocols.core.model import ExtensionSnapshot

from .hub import PbxHub


@callback
def add_extension_entities(
    hub: PbxHub,
    async_add_entities: Callable[[Iterable[Entity]], None],
    entity: Callable[[PbxHub, str], Entity],
) -> None:
    """Add ``entity(hub, number)`` for every shown extension, now and when one appears."""
    hub.add_extension_entities(
        lambda numbers: async_add_entities(entity(hub, number) for number in numbers)
    )


class _WritesOnChange(Entity):
    """Writes its state only when what Home Assistant would show changed.

    A busy PBX sends hundreds of reports a second; most change nothing an entity shows,
    and every write costs Home Assistant a state comparison, events and the recorder.
    """

    _written: tuple[object, ...] | None = None
    #: Seconds at least between two writes of a change (0: every change at once). A change
    #: in a quiet moment is written at once; changes during the interval are written as one,
    #: the latest, when it ends.
    _min_write_interval: float = 0.0
    _last_write: float = float("-inf")
    _pending_write: asyncio.TimerHandle | None = None

    def _shown(self) -> tuple[object, ...]:
        # Equal dicts compare equal in any order; every entity here builds a new attribute
        # dict when something changed, so the one kept below is never mutated afterwards.
        return (self.available, self.state, self.extra_state_attributes)

    def _write_if_changed(self) -> None:
        if self._min_write_interval:
            # Within the interval, what it would show is worked out once, when it ends: a
            # busy PBX's reports would each build it only to find the write must wait.
            if self._pending_write is not None:
                return
            wait = self._last_write + self._min_write_interval - self.hass.loop.time()
            if wait > 0:
                self._pending_write = self.hass.loop.call_later(wait, self._write_pending)
                return
        shown = self._shown()
        if shown != self._written:
            self._write(shown)

    def _write_pending(self) -> None:
        self._pending_write = None
        self._write_if_changed()

    def _cancel_pending_write(self) -> None:
        if self._pending_write is not None:
            self._pending_write.cancel()
            self._pending_write = None

    def _write_now(self) -> None:
        self._write(self._shown())

    def _write(self, shown: tuple[object, ...]) -> None:
        self._written = shown
        if self._min_write_interval:
            self._last_write = self.hass.loop.time()
        self.async_write_ha_state()


class PbxEntity(_WritesOnChange):
    """An entity of the PBX itself."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: PbxHub, key: str) -> None:
        self.hub = hub
        self._attr_unique_id = f"{hub.entry.entry_id}_{key}"
        self._attr_device_info = hub.pbx_device_info

    @property
    def available(self) -> bool:
        """Unavailable while the link to the PBX is down."""
        return self.hub.available

    async def async_added_to_hass(self) -> None:
        """Follow the hub's changes (Home Assistant writes the first state next)."""
        self._written = self._shown()
        self.async_on_remove(self.hub.subscribe_hub(self._on_hub_update))
        self.async_on_remove(self._cancel_pending_write)

    def _on_hub_update(self) -> None:
        self._write_if_changed()


class PbxExtensionEntity(_WritesOnChange):
    """An entity of one extension."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: PbxHub, number: str, key: str) -> None:
        self.hub = hub
        self.extension = number
        self._attr_unique_id = f"{hub.entry.entry_id}_{number}_{key}"

    @property
    def device_info(self) -> DeviceInfo:
        """The extension's device (built when asked: Home Assistant needs it once, to add)."""
        return self.hub.extension_device_info(self.extension)

    @property
    def snapshot(self) -> ExtensionSnapshot | None:
        """The extension as the library sees it now."""
        return self.hub.extension(self.extension)

    @property
    def available(self) -> bool:
        """Unavailable while the link is down, or the PBX does not report this extension."""
        snapshot = self.snapshot
        return self.hub.available and snapshot is not None and snapshot.monitored

    async def async_added_to_hass(self) -> None:
        """Follow the extension's changes (Home Assistant writes the first state next)."""
        self._written = self._shown()
        self.async_on_remove(self.hub.subscribe_extension(self.extension, self._on_update))

    def _on_update(self, snapshot: ExtensionSnapshot) -> None:
        self._write_if_changed()


class PbxExtensionEventsEntity(PbxExtensionEntity):
    """An entity of one extension that shows its events, written as they come.

    Its state moves with the events only, each written at once: a snapshot update matters
    to it when it changes its availability, and working out its state (a timestamp, the
    call) to compare would be wasted.
    """

    def _shown(self) -> tuple[object, ...]:
        return (self.available,)
