"""Every action: success, bad input (nothing sent), unsupported, refused, not connected."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr

from custom_components.pbx.const import DOMAIN
from tests.common import wait_until

LINE = "sensor.extension_{}_line"


def line(hass: HomeAssistant, number: str) -> str:
    return hass.states.get(LINE.format(number)).state


async def act(hass: HomeAssistant, action: str, extension: str, **data) -> None:
    await hass.services.async_call(
        DOMAIN, action, {"entity_id": LINE.format(extension), **data}, blocking=True
    )


async def test_call_control_from_home_assistant(hass: HomeAssistant, loaded_entry, simulator):
    await act(hass, "make_call", "101", number="102")
    await wait_until(lambda: line(hass, "102") == "ringing")
    assert line(hass, "101") == "dialing"
    await act(hass, "answer_call", "102")
    await wait_until(lambda: line(hass, "101") == "talking")
    await act(hass, "hold_call", "101")
    await wait_until(lambda: line(hass, "101") == "held")
    await act(hass, "retrieve_call", "101")
    await wait_until(lambda: line(hass, "101") == "talking")
    await act(hass, "transfer_call", "102", number="103")
    await wait_until(lambda: line(hass, "103") == "ringing")
    assert line(hass, "102") == "idle"
    call_id = hass.states.get(LINE.format("103")).attributes["call_id"]
    await act(hass, "answer_call", "103", call_id=call_id)
    await wait_until(lambda: line(hass, "103") == "talking")
    await act(hass, "hang_up", "103")
    await wait_until(lambda: line(hass, "101") == "idle" and line(hass, "103") == "idle")
    assert not simulator.pbx.calls


async def test_device_target(hass: HomeAssistant, loaded_entry, simulator):
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{loaded_entry.entry_id}_104"), loaded_entry.entry_id
    )
    await hass.services.async_call(
        DOMAIN, "make_call", {"device_id": device.id, "number": "0301234"}, blocking=True
    )
    await wait_until(lambda: line(hass, "104") == "dialing")
    (call,) = simulator.pbx.calls.values()
    assert call.called == "0301234"


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("make_call", {"number": "12ab"}, "contains 'ab'"),
        ("make_call", {"number": ""}, "is empty"),
        ("make_call", {"number": "1" * 40}, "longer than 32"),
        ("transfer_call", {"number": "+1+2"}, "+ only at the start"),
    ],
)
async def test_bad_numbers_are_refused_before_anything_is_sent(
    hass: HomeAssistant, loaded_entry, simulator, action, data, message
):
    with pytest.raises(ServiceValidationError, match="Invalid input") as info:
        await act(hass, action, "101", **data)
    assert info.value.translation_key == "invalid_input"
    assert message in info.value.translation_placeholders["error"]
    assert not simulator.pbx.calls


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("dial_digits", {"digits": "123#"}),
        ("display_text", {"text": "Door open"}),
        ("send_message", {"text": "Please call reception"}),
    ],
)
async def test_what_the_pbx_cannot_do(hass: HomeAssistant, loaded_entry, action, data):
    with pytest.raises(ServiceValidationError, match="cannot do this") as info:
        await act(hass, action, "101", **data)
    assert info.value.translation_key == "unsupported"


async def test_nothing_to_answer(hass: HomeAssistant, loaded_entry):
    with pytest.raises(ServiceValidationError) as info:
        await act(hass, "answer_call", "101")
    assert info.value.translation_key == "no_matching_call"
    assert "no ringing call" in info.value.translation_placeholders["error"]


async def test_pbx_refusal(hass: HomeAssistant, loaded_entry, simulator):
    await act(hass, "make_call", "101", number="102")
    await wait_until(lambda: line(hass, "101") == "dialing")
    with pytest.raises(HomeAssistantError, match="The PBX refused") as info:
        await act(hass, "make_call", "101", number="103")
    assert info.value.translation_key == "command_rejected"
    assert "invalidCallingDeviceState" in info.value.translation_placeholders["reason"]


async def test_not_connected(hass: HomeAssistant, loaded_entry, simulator, caplog):
    await simulator.stop()  # gone for good
    await wait_until(lambda: line(hass, "101") == "unavailable")
    # Home Assistant skips unavailable targets, and says so in the log
    await act(hass, "make_call", "101", number="102")
    assert "not currently available" in caplog.text
    # the link may also drop between that check and the request reaching the client
    hub = loaded_entry.runtime_data
    with pytest.raises(HomeAssistantError, match="is not connected") as info:
        await hub.async_call(lambda client: client.make_call("101", "102"))
    assert info.value.translation_key == "not_connected"


async def test_schema_rejects_missing_fields(hass: HomeAssistant, loaded_entry):
    with pytest.raises(Exception, match="required key not provided"):
        await act(hass, "make_call", "101")
