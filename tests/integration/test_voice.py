"""Voice: sentences through Home Assistant's conversation agent, and the intents as LLM tools."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from homeassistant.components import conversation
from homeassistant.components.llm import async_get_tools
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component

from custom_components.pbx.const import DOMAIN
from tests.common import wait_until

SENTENCES = Path(__file__).parents[2] / "custom_components/pbx/custom_sentences/en/pbx.yaml"
NAMES = {"101": "Reception", "102": "Sales", "104": "Warehouse"}


@pytest.fixture
async def assist(hass: HomeAssistant, loaded_entry, tmp_path) -> None:
    """Home Assistant's own agent, with the sentences the integration ships installed."""
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "custom_sentences" / "en").mkdir(parents=True)
    shutil.copy(SENTENCES, tmp_path / "custom_sentences" / "en" / "pbx.yaml")
    hass.config_entries.async_update_entry(
        loaded_entry, options={"voice_extension": "101", "names": NAMES}
    )
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})
    await hass.async_block_till_done()


async def say(hass: HomeAssistant, text: str) -> intent.IntentResponse:
    result = await conversation.async_converse(hass, text, None, Context(), language="en")
    return result.response


def spoken(response: intent.IntentResponse) -> str:
    return str(response.speech["plain"]["speech"])


def line(hass: HomeAssistant, entity_id: str) -> str:
    return hass.states.get(entity_id).state


@pytest.mark.parametrize(
    ("sentence", "caller", "called"),
    [
        ("call 104 from sales", "sensor.sales_line", "sensor.warehouse_line"),
        ("call reception from sales", "sensor.sales_line", "sensor.reception_line"),
        ("call the warehouse", "sensor.reception_line", "sensor.warehouse_line"),
        ("call extension 103", "sensor.reception_line", "sensor.extension_103_line"),
    ],
)
async def test_calls_by_voice(hass: HomeAssistant, assist, simulator, sentence, caller, called):
    response = await say(hass, sentence)
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, spoken(response)
    await wait_until(lambda: line(hass, called) == "ringing")
    assert line(hass, caller) == "dialing"


async def test_answer_hang_up_and_who_is_on_the_phone(hass: HomeAssistant, assist, simulator):
    simulator.pbx.make_call("104", "101")
    await wait_until(lambda: line(hass, "sensor.reception_line") == "ringing")
    response = await say(hass, "is anyone on the phone?")
    assert "Warehouse is calling Reception" in spoken(response)
    assert "Reception is ringing, Warehouse is calling" in spoken(response)
    response = await say(hass, "answer the phone at reception")
    assert spoken(response) == "Answered the call at Reception"
    await wait_until(lambda: line(hass, "sensor.reception_line") == "talking")
    response = await say(hass, "who is on the phone")
    assert "Reception is talking with Warehouse" in spoken(response)

    simulator.pbx.incoming_call("0301234567", "103")
    await wait_until(lambda: line(hass, "sensor.extension_103_line") == "ringing")
    response = await say(hass, "answer extension 103")
    assert spoken(response) == "Answered the call at Extension 103"
    response = await say(hass, "who called last?")
    assert spoken(response) == "0301234567 called just now; Extension 103 answered"

    response = await say(hass, "hang up reception")
    assert spoken(response) == "Hung up Reception"
    await wait_until(lambda: line(hass, "sensor.reception_line") == "idle")


@pytest.mark.parametrize(
    ("sentence", "answer"),
    [
        ("hang up", "Reception has no call to hang up"),
        ("answer the phone at sales", "Sales has no ringing call to answer"),
        ("call 12x", "Invalid input: the number contains 'x'; use digits, *, # and +"),
        ("hang up the front door", "I don't know the extension front door"),
    ],
)
async def test_refusals_are_spoken_not_logged_as_errors(
    hass: HomeAssistant, assist, simulator, caplog, sentence, answer
):
    """The agent used to say "An unexpected error occurred" and log a traceback."""
    response = await say(hass, sentence)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert spoken(response) == answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_busy_extension_is_said_so(hass: HomeAssistant, assist, simulator):
    simulator.pbx.make_call("102", "103")
    await wait_until(lambda: line(hass, "sensor.sales_line") == "dialing")
    response = await say(hass, "call 104 from sales")
    assert spoken(response) == "Sales is busy"


async def test_no_pbx_connected(hass: HomeAssistant, assist, loaded_entry):
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    response = await say(hass, "hang up reception")
    assert spoken(response) == "No phone system is connected"


def llm_context(hass: HomeAssistant) -> llm.LLMContext:
    return llm.LLMContext(
        platform="test",
        context=Context(),
        language="en",
        assistant="conversation",
        device_id=None,
    )


async def test_llm_tools(hass: HomeAssistant, assist, loaded_entry, simulator):
    assert await async_setup_component(hass, "llm", {})
    tools = (await async_get_tools(hass, llm_context(hass), llm.LLM_API_ASSIST)).tools
    ours = {tool.name: tool for tool in tools if tool.integration == DOMAIN}
    assert set(ours) == {
        "pbx__PbxMakeCall",
        "pbx__PbxAnswerCall",
        "pbx__PbxHangUp",
        "pbx__PbxLineStates",
        "pbx__PbxLastCaller",
    }
    assert ours["pbx__PbxLineStates"].annotations.read_only
    assert ours["pbx__PbxLastCaller"].annotations.read_only
    assert ours["pbx__PbxHangUp"].annotations.destructive
    assert ours["pbx__PbxMakeCall"].annotations.open_world
    assert not ours["pbx__PbxMakeCall"].annotations.destructive
    result = await ours["pbx__PbxMakeCall"].async_call(
        hass,
        llm.ToolInput("pbx__PbxMakeCall", {"number": "103", "extension": "warehouse"}),
        llm_context(hass),
    )
    assert result.data["speech"]["plain"]["speech"] == "Calling 103 from Warehouse"
    await wait_until(lambda: line(hass, "sensor.extension_103_line") == "ringing")
    other_api = await async_get_tools(hass, llm_context(hass), "some_other_api")
    assert not [tool for tool in other_api.tools if tool.integration == DOMAIN]
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    tools = (await async_get_tools(hass, llm_context(hass), llm.LLM_API_ASSIST)).tools
    assert not [tool for tool in tools if tool.integration == DOMAIN]
