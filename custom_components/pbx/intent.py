"""Voice intents: "call extension 102", "answer extension 101", "who is on the phone?"."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Final, override

import probatio
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import intent

from pbx_protocols.core.client import PbxClient

from .const import CONF_VOICE_EXTENSION, DOMAIN
from .hub import PbxHub

INTENT_MAKE_CALL: Final = "PbxMakeCall"
INTENT_ANSWER_CALL: Final = "PbxAnswerCall"
INTENT_HANG_UP: Final = "PbxHangUp"
INTENT_LINE_STATES: Final = "PbxLineStates"


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the intents."""
    intent.async_register(hass, MakeCallIntent())
    intent.async_register(hass, AnswerCallIntent())
    intent.async_register(hass, HangUpIntent())
    intent.async_register(hass, LineStatesIntent())


def _hubs(hass: HomeAssistant) -> list[PbxHub]:
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _label(hub: PbxHub, number: str) -> str:
    name = hub.extension_name(number)
    return f"{name} ({number})" if name else f"extension {number}"


def find_extension(hass: HomeAssistant, spoken: str | None) -> tuple[PbxHub, str]:
    """Find an extension by number or name; without one, the voice extension."""
    hubs = _hubs(hass)
    if not hubs:
        raise intent.IntentHandleError("No phone system is connected")
    if not spoken:
        for hub in hubs:
            number = hub.entry.options.get(CONF_VOICE_EXTENSION)
            if number:
                return hub, number
        raise intent.IntentHandleError("Which extension? No voice extension is set up")
    wanted = spoken.strip().casefold().removeprefix("extension ").strip()
    for hub in hubs:
        for number in hub.shown_extensions:
            name = (hub.extension_name(number) or "").casefold()
            if wanted in (number, name):
                return hub, number
    raise intent.IntentHandleError(f"I don't know the extension {spoken}")


async def _run(hub: PbxHub, action: Callable[[PbxClient], Awaitable[None]]) -> None:
    try:
        await hub.async_call(action)
    except HomeAssistantError as err:
        raise intent.IntentHandleError(str(err)) from err


class MakeCallIntent(intent.IntentHandler):
    """Call a number (or an extension by name) from an extension."""

    intent_type = INTENT_MAKE_CALL
    description = (
        "Places a phone call. 'number' is the number or the extension to call; 'extension' is "
        "the phone that calls (optional: the voice extension set in the options)."
    )
    slot_schema = {  # noqa: RUF012  # HA's attribute
        probatio.Required("number"): cv.string,
        probatio.Optional("extension"): cv.string,
    }
    platforms = {DOMAIN}  # noqa: RUF012  # HA's attribute

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Place the call."""
        slots = self.async_validate_slots(intent_obj.slots)
        hub, caller = find_extension(intent_obj.hass, slots.get("extension", {}).get("value"))
        target = slots["number"]["value"]
        with contextlib.suppress(intent.IntentHandleError):
            # "call reception" means the extension named Reception
            _, target = find_extension(intent_obj.hass, target)

        async def call(client: PbxClient) -> None:
            await client.make_call(caller, target)

        await _run(hub, call)
        response = intent_obj.create_response()
        response.async_set_speech(f"Calling {target} from {_label(hub, caller)}")
        return response


class _ExtensionActionIntent(intent.IntentHandler):
    """One call-control action on an extension (default: the voice extension)."""

    slot_schema = {probatio.Optional("extension"): cv.string}  # noqa: RUF012  # HA's attribute
    platforms = {DOMAIN}  # noqa: RUF012  # HA's attribute
    #: What is said afterwards; {extension} is the extension's name and number.
    speech: str

    async def _act(self, client: PbxClient, number: str) -> None:
        raise NotImplementedError

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Act on the extension and say so."""
        slots = self.async_validate_slots(intent_obj.slots)
        hub, number = find_extension(intent_obj.hass, slots.get("extension", {}).get("value"))
        await _run(hub, lambda client: self._act(client, number))
        response = intent_obj.create_response()
        response.async_set_speech(self.speech.format(extension=_label(hub, number)))
        return response


class AnswerCallIntent(_ExtensionActionIntent):
    """Answer the ringing call at an extension."""

    intent_type = INTENT_ANSWER_CALL
    description = "Answers the ringing call at an extension (default: the voice extension)."
    speech = "Answered the call at {extension}"

    async def _act(self, client: PbxClient, number: str) -> None:
        await client.answer_call(number)


class HangUpIntent(_ExtensionActionIntent):
    """Hang up an extension's current call."""

    intent_type = INTENT_HANG_UP
    description = "Hangs up the current call of an extension (default: the voice extension)."
    speech = "Hung up {extension}"

    async def _act(self, client: PbxClient, number: str) -> None:
        await client.hang_up(number)


class LineStatesIntent(intent.IntentHandler):
    """Tell which extensions are busy right now."""

    intent_type = INTENT_LINE_STATES
    description = "Tells which phone extensions are ringing, dialling, talking or on hold."
    platforms = {DOMAIN}  # noqa: RUF012  # HA's attribute

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Describe every extension that is not idle."""
        busy = []
        for hub in _hubs(intent_obj.hass):
            for number in hub.shown_extensions:
                snapshot = hub.extension(number)
                if snapshot is None or snapshot.line_state.value == "idle":
                    continue
                call = snapshot.current_call
                peer = f" with {hub.normalize(call.peer)}" if call and call.peer else ""
                busy.append(f"{_label(hub, number)} is {snapshot.line_state.value}{peer}")
        response = intent_obj.create_response()
        response.async_set_speech("; ".join(busy) if busy else "All phones are idle")
        return response
