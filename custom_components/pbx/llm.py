"""The intents as tools for LLM-based assistants (Home Assistant 2026.8+ llm platform)."""

from __future__ import annotations

from typing import Final

from homeassistant.components.llm import LLMTools
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import (
    LLM_API_ASSIST,
    IntentTool,
    LLMContext,
    Tool,
    ToolAnnotations,
)

from .const import DOMAIN
from .intent import (
    INTENT_ANSWER_CALL,
    INTENT_HANG_UP,
    INTENT_LAST_CALLER,
    INTENT_LINE_STATES,
    INTENT_MAKE_CALL,
)

#: Title and safety annotations of each exposed intent. Calls reach outside Home Assistant
#: (phones ring); hanging up ends a conversation, which cannot be undone.
LLM_INTENTS: Final = {
    INTENT_MAKE_CALL: (
        "Make a phone call",
        ToolAnnotations(destructive=False, open_world=True),
    ),
    INTENT_ANSWER_CALL: (
        "Answer a ringing phone",
        ToolAnnotations(destructive=False, open_world=True),
    ),
    INTENT_HANG_UP: ("Hang up a phone call", ToolAnnotations(destructive=True, open_world=True)),
    INTENT_LINE_STATES: (
        "Which phones are busy",
        ToolAnnotations(read_only=True, destructive=False, idempotent=True, open_world=False),
    ),
    INTENT_LAST_CALLER: (
        "Who called last",
        ToolAnnotations(read_only=True, destructive=False, idempotent=True, open_world=False),
    ),
}


@callback
def async_get_tools(hass: HomeAssistant, llm_context: LLMContext, api_id: str) -> LLMTools | None:
    """Offer the phone intents to the Assist API while a PBX is connected."""
    if api_id != LLM_API_ASSIST:
        return None
    if not any(
        entry.state is ConfigEntryState.LOADED
        for entry in hass.config_entries.async_entries(DOMAIN)
    ):
        return None
    tools: list[Tool] = [
        IntentTool(
            f"{DOMAIN}__{handler.intent_type}",
            handler,
            title=LLM_INTENTS[handler.intent_type][0],
            integration=DOMAIN,
            annotations=LLM_INTENTS[handler.intent_type][1],
        )
        for handler in intent.async_get(hass)
        if handler.intent_type in LLM_INTENTS
    ]
    return LLMTools(tools=tools) if tools else None
