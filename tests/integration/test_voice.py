"""Voice: the intents, and the same intents as LLM tools."""

from __future__ import annotations

import pytest
from homeassistant.components.llm import async_get_tools
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component

from custom_components.pbx.const import DOMAIN
from tests.common import wait_until


@pytest.fixture
async def intents(hass: HomeAssistant, loaded_entry) -> None:
    assert await async_setup_component(hass, "intent", {})
    await hass.async_block_till_done()


async def handle(hass: HomeAssistant, intent_type: str, **slots: str) -> intent.IntentResponse:
    return await intent.async_handle(
        hass, "test", intent_type, {name: {"value": value} for name, value in slots.items()}
    )


async def test_call_hang_up_and_line_states(hass: HomeAssistant, intents, loaded_entry, simulator):
    hass.config_entries.async_update_entry(
        loaded_entry, options={"voice_extension": "101", "names": {"102": "Sales"}}
    )
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()

    response = await handle(hass, "PbxMakeCall", number="sales")
    assert response.speech["plain"]["speech"] == "Calling 102 from extension 101"
    await wait_until(lambda: hass.states.get("sensor.sales_line").state == "ringing")

    response = await handle(hass, "PbxLineStates")
    speech = response.speech["plain"]["speech"]
    assert "extension 101 is dialing with 102" in speech
    assert "Sales (102) is ringing with 101" in speech

    response = await handle(hass, "PbxAnswerCall", extension="Sales")
    assert response.speech["plain"]["speech"] == "Answered the call at Sales (102)"
    await wait_until(lambda: hass.states.get("sensor.extension_101_line").state == "talking")

    response = await handle(hass, "PbxHangUp")
    assert response.speech["plain"]["speech"] == "Hung up extension 101"
    await wait_until(lambda: hass.states.get("sensor.sales_line").state == "idle")
    response = await handle(hass, "PbxLineStates")
    assert response.speech["plain"]["speech"] == "All phones are idle"


async def test_intent_errors_are_spoken(hass: HomeAssistant, intents, loaded_entry):
    with pytest.raises(intent.IntentHandleError, match="No voice extension"):
        await handle(hass, "PbxMakeCall", number="102")
    with pytest.raises(intent.IntentHandleError, match="don't know the extension 555"):
        await handle(hass, "PbxHangUp", extension="555")
    with pytest.raises(intent.IntentHandleError, match="no ringing call"):
        await handle(hass, "PbxAnswerCall", extension="extension 103")
    with pytest.raises(intent.IntentHandleError, match="contains 'x'"):
        await handle(hass, "PbxMakeCall", number="12x", extension="101")


async def test_no_pbx_connected(hass: HomeAssistant, intents, loaded_entry):
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(intent.IntentHandleError, match="No phone system is connected"):
        await handle(hass, "PbxHangUp", extension="101")


def llm_context(hass: HomeAssistant) -> llm.LLMContext:
    return llm.LLMContext(
        platform="test",
        context=Context(),
        language="en",
        assistant="conversation",
        device_id=None,
    )


async def test_llm_tools(hass: HomeAssistant, intents, loaded_entry, simulator):
    assert await async_setup_component(hass, "llm", {})
    tools = (await async_get_tools(hass, llm_context(hass), llm.LLM_API_ASSIST)).tools
    ours = {tool.name: tool for tool in tools if tool.integration == DOMAIN}
    assert set(ours) == {
        "pbx__PbxMakeCall",
        "pbx__PbxAnswerCall",
        "pbx__PbxHangUp",
        "pbx__PbxLineStates",
    }
    assert ours["pbx__PbxLineStates"].annotations.read_only
    assert ours["pbx__PbxHangUp"].annotations.destructive
    assert ours["pbx__PbxMakeCall"].annotations.open_world
    assert not ours["pbx__PbxMakeCall"].annotations.destructive
    result = await ours["pbx__PbxMakeCall"].async_call(
        hass,
        llm.ToolInput("pbx__PbxMakeCall", {"number": "103", "extension": "104"}),
        llm_context(hass),
    )
    assert result.data["speech"]["plain"]["speech"] == "Calling 103 from extension 104"
    await wait_until(lambda: hass.states.get("sensor.extension_103_line").state == "ringing")
    other_api = await async_get_tools(hass, llm_context(hass), "some_other_api")
    assert not [tool for tool in other_api.tools if tool.integration == DOMAIN]
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    tools = (await async_get_tools(hass, llm_context(hass), llm.LLM_API_ASSIST)).tools
    assert not [tool for tool in tools if tool.integration == DOMAIN]
