"""Every action: success, bad input (nothing sent), unsupported, refused, not connected."""

from __future__ import annotations

import logging

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr

from custom_components.pbx.const import DOMAIN
from pbx_protocols.core.model import Capability
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
        ("make_call", {"number": "12ba"}, "contains 'ba'"),  # as typed, not sorted
        ("make_call", {"number": "1-800-FLOWERS"}, "contains 'FLOWERS'"),
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
    ("action", "data", "message"),
    [
        ("dial_digits", {"digits": "123#"}, "cannot send digits (DTMF) on a call"),
        ("display_text", {"text": "Door open"}, "cannot show text on a phone's display"),
        ("send_message", {"text": "Please call reception"}, "cannot send messages to phones"),
    ],
)
async def test_what_the_pbx_cannot_do(hass: HomeAssistant, loaded_entry, action, data, message):
    """Which action the hardware lacks, said as such."""
    with pytest.raises(ServiceValidationError) as info:
        await act(hass, action, "101", **data)
    assert str(info.value) == f"Panasonic PBX (127.0.0.1) {message}"
    assert info.value.translation_key == f"unsupported_{action}"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("answer_call", "Extension 101 has no ringing call to answer"),
        ("hang_up", "Extension 101 has no call to hang up"),
        ("hold_call", "Extension 101 has no call to put on hold"),
        ("retrieve_call", "Extension 101 has no call on hold"),
    ],
)
async def test_nothing_to_act_on(hass: HomeAssistant, loaded_entry, action, message):
    with pytest.raises(ServiceValidationError) as info:
        await act(hass, action, "101")
    assert str(info.value) == message
    assert info.value.translation_key == f"no_call_{action}"


async def test_pbx_refusal_in_plain_words(hass: HomeAssistant, loaded_entry, simulator, caplog):
    caplog.set_level(logging.INFO)
    await act(hass, "make_call", "101", number="102")
    await wait_until(lambda: line(hass, "101") == "dialing")
    with pytest.raises(HomeAssistantError) as info:
        await act(hass, "make_call", "101", number="103")
    assert str(info.value) == "Extension 101 is busy"
    assert info.value.translation_key == "refusal_extension_busy"
    # The PBX's own code stays in the log and in the error's details.
    assert "invalidCallingDeviceState" in info.value.translation_placeholders["reason"]
    assert "stateIncompatibility.invalidCallingDeviceState" in caplog.text


async def test_a_number_that_does_not_exist(hass: HomeAssistant, loaded_entry, simulator):
    call = simulator.pbx.make_call("101", "102")
    simulator.pbx.answer("102", call)
    await wait_until(lambda: line(hass, "101") == "talking")
    with pytest.raises(HomeAssistantError) as info:
        await act(hass, "transfer_call", "101", number="999")
    assert str(info.value) == "Number 999 does not exist"


async def test_a_blind_transfer_to_a_busy_extension_fails_and_says_so(
    hass: HomeAssistant, loaded_entry, simulator
):
    """The PBX accepts the transfer and then cannot ring the target."""
    hass.config_entries.async_update_entry(loaded_entry, options={"names": {"103": "Support"}})
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    first = simulator.pbx.make_call("101", "102")
    simulator.pbx.answer("102", first)
    busy = simulator.pbx.make_call("103", "104")
    simulator.pbx.answer("104", busy)
    await wait_until(lambda: line(hass, "101") == "talking")
    with pytest.raises(HomeAssistantError) as info:
        await act(hass, "transfer_call", "102", number="103")
    assert str(info.value) == "Support is busy"
    assert info.value.translation_key == "refusal_number_busy"


@pytest.mark.parametrize(
    ("target", "key", "message"),
    [
        (
            {"entity_id": "sensor.reception_line"},
            "target_not_found",
            "sensor.reception_line does not exist",
        ),
        (
            {"entity_id": "binary_sensor.kx_tda_tde_ns_connectivity"},
            "target_not_a_line",
            "KX-TDA/TDE/NS Connectivity (binary_sensor.kx_tda_tde_ns_connectivity) is not",
        ),
        ({"device_id": "nonexistent"}, "target_not_found", "nonexistent does not exist"),
    ],
)
async def test_a_target_that_is_no_line_is_named(
    hass: HomeAssistant, loaded_entry, simulator, target, key, message
):
    """It used to report success and do nothing."""
    with pytest.raises(ServiceValidationError) as info:
        await hass.services.async_call(
            DOMAIN, "make_call", {**target, "number": "102"}, blocking=True
        )
    assert info.value.translation_key == key
    assert str(info.value).startswith(message)
    assert not simulator.pbx.calls


async def test_the_pbx_device_is_no_line(hass: HomeAssistant, loaded_entry, simulator):
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, loaded_entry.entry_id), loaded_entry.entry_id
    )
    with pytest.raises(ServiceValidationError, match="KX-TDA/TDE/NS is not an extension's line"):
        await hass.services.async_call(
            DOMAIN, "make_call", {"device_id": device.id, "number": "102"}, blocking=True
        )


async def test_not_connected(hass: HomeAssistant, loaded_entry, simulator):
    await simulator.stop()  # gone for good
    await wait_until(lambda: line(hass, "101") == "unavailable")
    with pytest.raises(HomeAssistantError, match="is not available right now") as info:
        await act(hass, "make_call", "101", number="102")
    assert info.value.translation_key == "line_unavailable"
    # the link may also drop between that check and the request reaching the client
    hub = loaded_entry.runtime_data
    with pytest.raises(HomeAssistantError, match="is not connected") as info:
        await hub.async_call(
            Capability.MAKE_CALL, "101", lambda client: client.make_call("101", "102")
        )
    assert info.value.translation_key == "not_connected"


async def test_schema_rejects_missing_fields(hass: HomeAssistant, loaded_entry):
    with pytest.raises(Exception, match="required key not provided"):
        await act(hass, "make_call", "101")
