"""Voice intents: "call 104 from sales", "answer the phone at reception", "who called last?".

A refusal is an answer, not an error: "Sales is busy" is spoken back (and not logged as a
failure), because the conversation agent turns a raised error into "An unexpected error
occurred" and a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final, override

import probatio
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import intent
from homeassistant.util import dt as dt_util

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.model import Capability, LineState

from .const import CONF_VOICE_EXTENSION, DOMAIN
from .hub import PbxHub

INTENT_MAKE_CALL: Final = "PbxMakeCall"
INTENT_ANSWER_CALL: Final = "PbxAnswerCall"
INTENT_HANG_UP: Final = "PbxHangUp"
INTENT_LINE_STATES: Final = "PbxLineStates"
INTENT_LAST_CALLER: Final = "PbxLastCaller"

#: Words people put before a name ("call the warehouse", "answer extension 101").
_FILLER: Final = re.compile(r"^(?:(?:the|a|an|extension|phone|line)\s+)+", re.IGNORECASE)
#: "104 from sales": a sentence whose wildcard took the calling extension too.
_FROM: Final = re.compile(r"^(?P<number>.+?)\s+from\s+(?P<extension>.+)$", re.IGNORECASE)
#: How a line's state is said, with the other party.
_BUSY: Final = {
    LineState.DIALING: "{extension} is calling {peer}",
    LineState.RINGING: "{extension} is ringing, {peer} is calling",
    LineState.TALKING: "{extension} is talking with {peer}",
    LineState.HELD: "{extension} has {peer} on hold",
    LineState.OFFLINE: "{extension} is offline",
}


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the intents."""
    for handler in (
        MakeCallIntent(),
        AnswerCallIntent(),
        HangUpIntent(),
        LineStatesIntent(),
        LastCallerIntent(),
    ):
        intent.async_register(hass, handler)


class _Refused(Exception):
    """What to say instead of doing it."""


def _hubs(hass: HomeAssistant) -> list[PbxHub]:
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def find_extension(hass: HomeAssistant, spoken: str | None) -> tuple[PbxHub, str]:
    """Find an extension by number or name; without one, the voice extension."""
    hubs = _hubs(hass)
    if not hubs:
        raise _Refused("No phone system is connected")
    if not spoken:
        for hub in hubs:
            if number := hub.entry.options.get(CONF_VOICE_EXTENSION):
                return hub, number
        raise _Refused("Which extension? No voice extension is set up")
    wanted = _FILLER.sub("", spoken.strip()).strip().casefold()
    for hub in hubs:
        for number in hub.shown_extensions:
            if wanted in (number, (hub.extension_name(number) or "").casefold()):
                return hub, number
    raise _Refused(f"I don't know the extension {spoken}")


async def _run(
    hub: PbxHub,
    action: Capability,
    extension: str,
    run: Callable[[PbxClient], Awaitable[None]],
    number: str | None = None,
) -> None:
    try:
        await hub.async_call(action, extension, run, number=number)
    except HomeAssistantError as err:
        raise _Refused(str(err)) from err


def _refused(intent_obj: intent.Intent, message: str) -> intent.IntentResponse:
    response = intent_obj.create_response()
    response.async_set_error(intent.IntentResponseErrorCode.FAILED_TO_HANDLE, message)
    return response


def _spoken(intent_obj: intent.Intent, speech: str) -> intent.IntentResponse:
    response = intent_obj.create_response()
    response.async_set_speech(speech)
    return response


class _PbxIntent(intent.IntentHandler):
    """An intent whose refusals are spoken answers."""

    platforms = {DOMAIN}  # noqa: RUF012  # HA's attribute

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Handle the intent; a refusal is what is said."""
        slots = self.async_validate_slots(intent_obj.slots)
        values = {name: slot.get("value") for name, slot in slots.items()}
        try:
            return _spoken(intent_obj, await self._handle(intent_obj.hass, values))
        except _Refused as refusal:
            return _refused(intent_obj, str(refusal))

    async def _handle(self, hass: HomeAssistant, slots: dict[str, str | None]) -> str:
        raise NotImplementedError


class MakeCallIntent(_PbxIntent):
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

    async def _handle(self, hass: HomeAssistant, slots: dict[str, str | None]) -> str:
        spoken, calling = str(slots["number"]), slots.get("extension")
        if calling is None and (split := _FROM.match(spoken)):
            spoken, calling = split["number"], split["extension"]
        hub, caller = find_extension(hass, calling)
        try:  # "call reception" calls the extension named Reception
            target = find_extension(hass, spoken)[1]
        except _Refused:
            target = _FILLER.sub("", spoken).strip()

        async def call(client: PbxClient) -> None:
            await client.make_call(caller, target)

        await _run(hub, Capability.MAKE_CALL, caller, call, target)
        return f"Calling {hub.party_name(target)} from {hub.extension_label(caller)}"


class _ExtensionActionIntent(_PbxIntent):
    """One call-control action on an extension (default: the voice extension)."""

    slot_schema = {probatio.Optional("extension"): cv.string}  # noqa: RUF012  # HA's attribute
    action: Capability
    #: What is said afterwards; {extension} is how the extension is called.
    speech: str

    async def _act(self, client: PbxClient, number: str) -> None:
        raise NotImplementedError

    async def _handle(self, hass: HomeAssistant, slots: dict[str, str | None]) -> str:
        hub, number = find_extension(hass, slots.get("extension"))
        await _run(hub, self.action, number, lambda client: self._act(client, number))
        return self.speech.format(extension=hub.extension_label(number))


class AnswerCallIntent(_ExtensionActionIntent):
    """Answer the ringing call at an extension."""

    intent_type = INTENT_ANSWER_CALL
    description = "Answers the ringing call at an extension (default: the voice extension)."
    action = Capability.ANSWER_CALL
    speech = "Answered the call at {extension}"

    async def _act(self, client: PbxClient, number: str) -> None:
        await client.answer_call(number)


class HangUpIntent(_ExtensionActionIntent):
    """Hang up an extension's current call."""

    intent_type = INTENT_HANG_UP
    description = "Hangs up the current call of an extension (default: the voice extension)."
    action = Capability.HANG_UP
    speech = "Hung up {extension}"

    async def _act(self, client: PbxClient, number: str) -> None:
        await client.hang_up(number)


class LineStatesIntent(_PbxIntent):
    """Tell who is on the phone right now."""

    intent_type = INTENT_LINE_STATES
    description = "Tells which phone extensions are ringing, calling, talking or on hold."

    async def _handle(self, hass: HomeAssistant, slots: dict[str, str | None]) -> str:
        busy = []
        for hub in _hubs(hass):
            for number in hub.shown_extensions:
                snapshot = hub.extension(number)
                if snapshot is None or snapshot.line_state not in _BUSY:
                    continue
                call = snapshot.current_call
                peer = (hub.party_name(call.peer) if call else None) or "someone"
                template = _BUSY[snapshot.line_state]
                busy.append(template.format(extension=hub.extension_label(number), peer=peer))
        return "; ".join(busy) if busy else "Nobody is on the phone"


class LastCallerIntent(_PbxIntent):
    """Tell who called from outside last, when, and who took the call."""

    intent_type = INTENT_LAST_CALLER
    description = "Tells who called last from outside, when, and who answered."

    async def _handle(self, hass: HomeAssistant, slots: dict[str, str | None]) -> str:
        calls = [(hub.last_call, hub) for hub in _hubs(hass) if hub.last_call is not None]
        if not calls:
            return "Nobody has called from outside yet"
        last, hub = max(calls, key=lambda item: item[0].timestamp)
        taken = (
            f"{hub.extension_label(last.answered_by)} answered"
            if last.answered_by
            else "nobody answered"
        )
        return f"{last.caller or 'An unknown number'} called {_ago(last.timestamp)}; {taken}"


def _ago(moment: datetime) -> str:
    minutes = int((dt_util.utcnow() - moment).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes > 1 else ''} ago"
    return f"at {dt_util.as_local(moment).strftime('%H:%M')}"
