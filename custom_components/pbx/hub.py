"""PbxHub: the one place where the library client meets Home Assistant.

It owns the client's subscriptions, fires the bus event, fans library callbacks out to
entities, adds entities for extensions discovered later, and turns library errors into
translated Home Assistant errors. Entities never talk to the client directly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.errors import CommandRejected, PbxError
from pbx_protocols.core.model import (
    CallEvent,
    CallRecord,
    Capability,
    ConnectionState,
    ExtensionSnapshot,
)
from pbx_protocols.core.numbers import normalize_number

from .const import (
    CONF_EXTENSIONS,
    CONF_NAMES,
    CONF_PREFIXES,
    DOMAIN,
    EVENT_CALL,
    EVENT_RECORD,
    EVENT_TYPES,
)
from .errors import translated_error
from .wording import DATA_WORDING

_LOGGER = logging.getLogger(__name__)

type ExtensionListener = Callable[[ExtensionSnapshot], None]

type CallListener = Callable[[CallEvent, str], None]


@dataclass(slots=True)
class _EntityAdder:
    add: Callable[[list[str]], None]
    added: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class LastCall:
    """The most recent call from outside, for the PBX's last-outside-caller sensor."""

    caller: str | None
    #: The extension it rang first.
    extension: str
    timestamp: datetime
    call_id: str | None = None
    #: The extension that took it (None while nobody has).
    answered_by: str | None = None


class PbxHub:
    """Connects one PBX client to Home Assistant."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any], client: PbxClient) -> None:
        self.hass = hass
        self.entry = entry
        self.client = client
        self.last_call: LastCall | None = None
        #: Extensions the user chose to show (empty: all); options changes reload the entry.
        self._chosen = frozenset(entry.options.get(CONF_EXTENSIONS) or [])
        #: Prefixes stripped from callers' numbers (read once: up to six numbers an event).
        self._prefixes = tuple(entry.options.get(CONF_PREFIXES) or [])
        self._extension_listeners: dict[str, list[ExtensionListener]] = {}
        self._call_listeners: dict[str, list[CallListener]] = {}
        self._hub_listeners: list[Callable[[], None]] = []
        #: What the PBX's own entities show, as last told to them.
        self._hub_shown: tuple[object, ...] | None = None
        self._adders: list[_EntityAdder] = []
        self._unsubscribe: list[Callable[[], None]] = []
        #: Extension -> its device id and line entity id, for every call event's payload;
        #: forgotten whenever a registry changes (a rename, a new device: both rare).
        self._registry_ids: dict[str, tuple[str | None, str | None]] = {}

    # -- lifecycle ----------------------------------------------------------------------

    @callback
    def start(self) -> None:
        """Subscribe to the client."""
        self._unsubscribe = [
            self.client.subscribe_events(self._on_event),
            self.client.subscribe_extension_updates(self._on_extension_update),
            self.client.subscribe_connection_state(self._on_connection_state),
            self.client.subscribe_records(self._on_record),
            self.hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._forget_ids),
            self.hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, self._forget_ids),
        ]

    async def async_stop(self) -> None:
        """Unsubscribe and close the link."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        await self.client.close()

    # -- what the entities see ----------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the link to the PBX is up."""
        return self.client.connection_state is ConnectionState.CONNECTED

    @property
    def shown_extensions(self) -> list[str]:
        """Extensions the user wants in Home Assistant (all if none were chosen)."""
        numbers = self.client.extension_numbers
        return [n for n in numbers if n in self._chosen] if self._chosen else numbers

    @property
    def shown_extension_count(self) -> int:
        """How many extensions are shown (or chosen to be), in constant time."""
        return len(self._chosen) if self._chosen else len(self.client.tracker)

    def is_shown(self, number: str) -> bool:
        """Whether an extension is shown (a constant-time check, for every event)."""
        if self._chosen:
            return number in self._chosen and number in self.client.tracker
        return number in self.client.tracker

    def extension(self, number: str) -> ExtensionSnapshot | None:
        """The current view of one extension."""
        return self.client.extension(number)

    def extension_name(self, number: str) -> str | None:
        """The name the user gave an extension, if any."""
        names: dict[str, str] = self.entry.options.get(CONF_NAMES) or {}
        return names.get(number) or None

    def extension_label(self, number: str) -> str:
        """How a person calls an extension: its name, or "Extension 101"."""
        if name := self.extension_name(number):
            return name
        wording = self.hass.data.get(DATA_WORDING)
        return (wording.extension_name if wording else "Extension {number}").replace(
            "{number}", number
        )

    def party_name(self, number: str | None) -> str | None:
        """Who a number is, as a person would say it: an extension's name, else the number."""
        if number is None:
            return None
        return self.extension_name(number) or self.normalize(number)

    def is_extension(self, number: str | None) -> bool:
        """Whether a number is one of the PBX's extensions."""
        return number is not None and number in self.client.tracker

    def normalize(self, number: str | None) -> str | None:
        """Apply the user's prefix stripping to a caller or called number."""
        if not self._prefixes:
            return number
        return normalize_number(number, self._prefixes)

    def supports(self, capability: Capability) -> bool:
        """Whether the PBX can do ``capability``."""
        return self.client.supports(capability)

    @property
    def active_calls(self) -> int:
        """Calls going on right now, counted once however many extensions share them."""
        return self.client.tracker.active_call_count

    # -- devices ------------------------------------------------------------------------

    @property
    def pbx_identifier(self) -> tuple[str, str]:
        """Device registry identifier of the PBX."""
        return (DOMAIN, self.entry.entry_id)

    def extension_identifier(self, number: str) -> tuple[str, str]:
        """Device registry identifier of an extension."""
        return (DOMAIN, f"{self.entry.entry_id}_{number}")

    @property
    def pbx_device_info(self) -> DeviceInfo:
        """The PBX as a device, named by its model (the address is its serial number).

        A short name keeps its entities' names readable: "KX-TDA/TDE/NS Connectivity"; a
        remote site's adds the site: "KX-TDA/TDE/NS (branch) Connectivity".
        """
        info = self.client.info
        return DeviceInfo(
            identifiers={self.pbx_identifier},
            manufacturer=info.vendor,
            model=info.model,
            name=f"{info.model} ({info.location})" if info.location else info.model,
            serial_number=info.unique_id,
            sw_version=info.firmware,
        )

    @callback
    def register_pbx_device(self) -> None:
        """Put the PBX into the device registry (extensions refer to it by id)."""
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id, **self.pbx_device_info
        )

    def extension_device_info(self, number: str) -> DeviceInfo:
        """An extension as a device, reached through the PBX."""
        name = self.extension_name(number)
        info = DeviceInfo(
            identifiers={self.extension_identifier(number)},
            manufacturer=self.client.info.vendor,
            model="Extension",
            via_device_id=dr.async_get_device_id_by_identifier(
                self.hass, self.pbx_identifier, config_entry_id=self.entry.entry_id
            ),
        )
        if name:
            info["name"] = name
        else:
            info["translation_key"] = "extension"
            info["translation_placeholders"] = {"number": number}
        return info

    def line_entity_id(self, number: str) -> str | None:
        """Entity id of an extension's line sensor (it follows renames)."""
        return self._ids(number)[1]

    def extension_device_id(self, number: str) -> str | None:
        """Device registry id of an extension's device."""
        return self._ids(number)[0]

    def _ids(self, number: str) -> tuple[str | None, str | None]:
        ids = self._registry_ids.get(number)
        if ids is None:
            device = dr.async_get(self.hass).async_get_device_by_identifier(
                self.extension_identifier(number), self.entry.entry_id
            )
            line = er.async_get(self.hass).async_get_entity_id(
                "sensor", DOMAIN, f"{self.entry.entry_id}_{number}_line"
            )
            ids = self._registry_ids[number] = (device.id if device else None, line)
        return ids

    @callback
    def _forget_ids(self, event: Event[Any]) -> None:
        self._registry_ids.clear()

    # -- subscriptions for entities -----------------------------------------------------

    @callback
    def add_extension_entities(self, add: Callable[[list[str]], None]) -> None:
        """Call ``add`` with the shown extensions now, and with new ones as they appear."""
        adder = _EntityAdder(add)
        self._adders.append(adder)
        self._add_new_extensions(adder)

    @callback
    def subscribe_extension(self, number: str, listener: ExtensionListener) -> Callable[[], None]:
        """Call ``listener`` with every new snapshot of an extension."""
        return _subscribe(self._extension_listeners.setdefault(number, []), listener)

    @callback
    def subscribe_calls(self, number: str, listener: CallListener) -> Callable[[], None]:
        """Call ``listener`` with every call event of an extension and its event type."""
        return _subscribe(self._call_listeners.setdefault(number, []), listener)

    @callback
    def subscribe_hub(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` whenever anything changed (availability, calls)."""
        return _subscribe(self._hub_listeners, listener)

    # -- call control -------------------------------------------------------------------

    async def async_call(
        self,
        action: Capability,
        extension: str,
        run: Callable[[PbxClient], Awaitable[None]],
        *,
        number: str | None = None,
    ) -> None:
        """Run a call-control action; library errors become translated, plain sentences.

        ``number`` is the number the action dials or transfers to, as the user typed it.
        """
        try:
            await run(self.client)
        except PbxError as err:
            if isinstance(err, CommandRejected):  # expected, and its code only helps here
                _LOGGER.info(
                    "%s refused to %s at extension %s: %s",
                    self.entry.title,
                    action.value.replace("_", " "),
                    extension,
                    err.reason,
                )
            raise translated_error(
                err,
                action=action,
                extension=self.extension_label(extension),
                number=self.party_name(number),
                pbx=self.entry.title,
            ) from err

    # -- library callbacks --------------------------------------------------------------

    @callback
    def _on_event(self, event: CallEvent) -> None:
        event_type = EVENT_TYPES.get(event.kind)
        if event_type is None or not self.is_shown(event.extension):
            return  # online/offline show in the line state; hidden extensions stay quiet
        self._follow_outside_call(event, event_type)
        self.hass.bus.async_fire(
            EVENT_CALL,
            {
                "config_entry_id": self.entry.entry_id,
                "device_id": self.extension_device_id(event.extension),
                # The line: a target for actions, and what the logbook lists it under.
                "entity_id": self.line_entity_id(event.extension),
                "extension": event.extension,
                "event": event_type,
                "call_id": event.call_id,
                "caller": self.normalize(event.calling),
                "called": self.normalize(event.called),
                "peer": self.normalize(event.peer),
                "direction": event.direction.value if event.direction else None,
                "state": event.line_state.value,
            },
        )
        for listener in list(self._call_listeners.get(event.extension, [])):
            listener(event, event_type)
        self._notify_hub()

    def _follow_outside_call(self, event: CallEvent, event_type: str) -> None:
        """Keep the last call from outside (not from an extension) and who took it."""
        last = self.last_call
        if event_type == "incoming_call" and not self.is_extension(event.calling):
            if last is None or last.call_id != event.call_id:
                self.last_call = LastCall(
                    self.normalize(event.calling), event.extension, event.timestamp, event.call_id
                )
        elif (
            event_type == "answered"
            and last is not None
            and last.call_id == event.call_id
            and last.answered_by is None
        ):
            self.last_call = replace(last, answered_by=event.extension)

    @callback
    def _on_record(self, record: CallRecord) -> None:
        if record.extension is not None and not self.is_shown(record.extension):
            return  # hidden extensions stay quiet

        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        self.hass.bus.async_fire(
            EVENT_RECORD,
            {
                "config_entry_id": self.entry.entry_id,
                "device_id": self.extension_device_id(record.extension)
                if record.extension
                else None,
                "extension": record.extension,
                "caller": self.normalize(record.calling),
                "called": self.normalize(record.called),
                "direction": record.direction.value if record.direction else None,
                "trunk": record.trunk,
                "started": when(record.started),
                "answered": when(record.answered),
                "ended": when(record.ended),
                "duration": record.duration,
                "condition": record.condition,
            },
        )

    @callback
    def _on_extension_update(self, snapshot: ExtensionSnapshot) -> None:
        if self._adders and snapshot.number not in self._adders[0].added:
            # A station the PBX named for the first time (an AlphaCom broadcast).
            for adder in self._adders:
                self._add_new_extensions(adder)
        for listener in list(self._extension_listeners.get(snapshot.number, [])):
            listener(snapshot)
        self._notify_hub()

    @callback
    def _on_connection_state(self, state: ConnectionState) -> None:
        if state is ConnectionState.CONNECTED:
            for adder in self._adders:
                self._add_new_extensions(adder)
        elif state is ConnectionState.AUTHENTICATION_FAILED:
            self.entry.async_start_reauth(self.hass)
        self._notify_hub()
        for number, listeners in self._extension_listeners.items():
            snapshot = self.client.extension(number)
            if snapshot is not None:
                for listener in list(listeners):
                    listener(snapshot)

    def _add_new_extensions(self, adder: _EntityAdder) -> None:
        new = [number for number in self.shown_extensions if number not in adder.added]
        if new:
            adder.added.update(new)
            adder.add(new)

    def _notify_hub(self) -> None:
        # Most reports change nothing the PBX's own entities show: tell them only then.
        shown = (self.client.connection_state, self.last_call, self.active_calls)
        if shown == self._hub_shown:
            return
        self._hub_shown = shown
        for listener in list(self._hub_listeners):
            listener()


def _subscribe[T](listeners: list[T], listener: T) -> Callable[[], None]:
    listeners.append(listener)
    return _Unsubscribe(listeners, listener)


class _Unsubscribe[T]:
    """Removes one listener: an object of two slots (a closure would take four objects)."""

    __slots__ = ("_listener", "_listeners")

    def __init__(self, listeners: list[T], listener: T) -> None:
        self._listeners = listeners
        self._listener = listener

    def __call__(self) -> None:
        if self._listener in self._listeners:
            self._listeners.remove(self._listener)
