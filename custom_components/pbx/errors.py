"""Library errors as translated Home Assistant errors, in words a person understands.

"Extension 101 is busy", not "stateIncompatibility.invalidCallingDeviceState": every
refusal a stack can report is one of the library's vendor-neutral reasons, and each has
a sentence in strings.json. The vendor's own code goes to the log (and stays in the
error's placeholders and cause).
"""

from __future__ import annotations

from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from pbx_protocols.core.errors import (
    CommandRejected,
    ConnectionFailed,
    InvalidInput,
    NoMatchingCall,
    PbxError,
    Refusal,
    UnsupportedOperation,
)
from pbx_protocols.core.model import Capability

from .const import DOMAIN

#: Actions that act on a call, and so can find none ("no_call_<action>").
CALL_ACTIONS: Final = (
    Capability.ANSWER_CALL,
    Capability.HANG_UP,
    Capability.HOLD_CALL,
    Capability.RETRIEVE_CALL,
    Capability.TRANSFER_CALL,
    Capability.DIAL_DIGITS,
)
#: Every translation key this module can raise (strings.json must have them all).
TRANSLATION_KEYS: Final = frozenset(
    {"invalid_input", "not_connected", "pbx_error"}
    | {f"no_call_{action.value}" for action in CALL_ACTIONS}
    | {f"unsupported_{capability.value}" for capability in Capability}
    | {
        f"refusal_{refusal.value}"
        for refusal in Refusal
        if refusal not in (Refusal.NO_CALL, Refusal.NOT_SUPPORTED)
    }
)


def translated_error(
    err: PbxError, *, action: Capability, extension: str, number: str | None, pbx: str
) -> HomeAssistantError:
    """The Home Assistant error to raise for ``err``, raised by ``action`` at ``extension``.

    ``extension`` is how a person calls the extension ("Reception", "Extension 101").
    Mistakes the user can fix are validation errors; the PBX's refusals are not.
    """
    placeholders = {
        "pbx": pbx,
        "extension": extension,
        "number": number or "",
        "error": str(err),
        "reason": getattr(err, "reason", str(err)),
    }
    key, kind = _key(err, action)
    return kind(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _key(err: PbxError, action: Capability) -> tuple[str, type[HomeAssistantError]]:
    if isinstance(err, InvalidInput):
        return "invalid_input", ServiceValidationError
    if isinstance(err, NoMatchingCall):
        return f"no_call_{err.action}", ServiceValidationError
    if isinstance(err, UnsupportedOperation):
        return f"unsupported_{err.action or action.value}", ServiceValidationError
    if isinstance(err, CommandRejected):
        if err.refusal is Refusal.NO_CALL and action in CALL_ACTIONS:
            return f"no_call_{action.value}", HomeAssistantError
        if err.refusal is Refusal.NO_CALL:
            return f"refusal_{Refusal.OTHER.value}", HomeAssistantError
        if err.refusal is Refusal.NOT_SUPPORTED:
            return f"unsupported_{action.value}", HomeAssistantError
        return f"refusal_{err.refusal.value}", HomeAssistantError
    if isinstance(err, ConnectionFailed):
        return "not_connected", HomeAssistantError
    return "pbx_error", HomeAssistantError
