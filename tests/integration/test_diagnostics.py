"""Diagnostics: useful, and without logins, addresses or people's numbers."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.pbx.const import DOMAIN
from tests.common import wait_until
from tests.integration.conftest import lan_data


async def test_diagnostics_are_redacted(hass: HomeAssistant, hass_client, entry, simulator):
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(  # the simulator accepts any login
        entry,
        data=lan_data(simulator.port, username="operator7", password="secret"),
        options={"names": {"101": "Anna Smith"}, "prefixes": ["0"]},
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    line = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_101_line")
    assert line == "sensor.anna_smith_line"  # the name from the options
    simulator.pbx.incoming_call("0301234567", "101")
    await wait_until(lambda: hass.states.get(line).state == "ringing")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    for secret in ("secret", "operator7", "127.0.0.1", "0301234567", "Anna Smith"):
        assert secret not in text
    assert diagnostics["entry"]["data"]["password"] == "**REDACTED**"
    assert diagnostics["entry"]["options"]["prefixes"] == ["0"]
    assert diagnostics["pbx"]["connection_state"] == "connected"
    assert diagnostics["pbx"]["vendor"] == "Panasonic"
    assert diagnostics["capabilities"] == [
        "answer_call",
        "hang_up",
        "hold_call",
        "make_call",
        "retrieve_call",
        "transfer_call",
    ]
    ringing = diagnostics["extensions"]["101"]
    assert ringing["line_state"] == "ringing"
    (call,) = ringing["calls"]
    assert call["calling"] == "**REDACTED**"
    assert call["direction"] == "incoming"
    assert call["state"] == "ringing"
    await hass.config_entries.async_unload(entry.entry_id)
