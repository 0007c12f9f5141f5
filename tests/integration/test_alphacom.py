"""Zenitel AlphaCom in Home Assistant: both config flows against the simulator (TCP and a
real pty), stations as extension devices, actions that reach the exchange, call requests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_get_device_automations,
)

from custom_components.pbx.const import (
    CONF_BAUD_RATE,
    CONF_DEVICE_NUMBER,
    CONF_LINK_LAYER,
    CONF_SERIAL_PORT,
    CONF_STATIONS,
    DOMAIN,
    EVENT_CALL,
)
from custom_components.pbx.diagnostics import async_get_config_entry_diagnostics
from pbx_protocols.alphacom import LinkLayerKind
from pbx_protocols.alphacom.simulator import AlphaComSimulator, SimulatorConfig
from tests.common import wait_until

STATIONS = ("101", "102", "103", "110")


@pytest.fixture
async def exchange(socket_enabled) -> AsyncIterator[AlphaComSimulator]:
    async with AlphaComSimulator(SimulatorConfig(port=0, stations=STATIONS)) as simulator:
        yield simulator


async def start(hass: HomeAssistant, step: str) -> dict:
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(menu["flow_id"], {"next_step_id": step})
    assert form["type"] is FlowResultType.FORM
    assert form["step_id"] == step
    return form


def line(hass: HomeAssistant, number: str) -> str | None:
    state = hass.states.get(f"sensor.extension_{number}_line")
    return state.state if state else None


async def add_tcp(hass: HomeAssistant, exchange: AlphaComSimulator, stations: str) -> dict:
    form = await start(hass, "alphacom_tcp")
    return await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {
            CONF_HOST: "127.0.0.1",
            CONF_PORT: exchange.port,
            CONF_DEVICE_NUMBER: 1,
            CONF_STATIONS: stations,
            CONF_LINK_LAYER: "auto",
        },
    )


async def test_tcp_flow_entities_actions_and_events(hass: HomeAssistant, exchange):
    result = await add_tcp(hass, exchange, "101-103")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "AlphaCom (127.0.0.1)"
    assert result["result"].unique_id == f"alphacom:127.0.0.1:{exchange.port}"
    await hass.async_block_till_done()
    assert [line(hass, n) for n in ("101", "102", "103")] == ["idle"] * 3

    calls = async_capture_events(hass, EVENT_CALL)
    exchange.exchange.call("101", "102")
    await wait_until(lambda: line(hass, "102") == "ringing")
    assert calls[-1].data["event"] == "incoming_call"
    assert calls[-1].data["caller"] == "101" or calls[-1].data.get("peer") == "101"

    entity = {"entity_id": "sensor.extension_103_line"}
    await hass.services.async_call(
        DOMAIN, "display_text", {**entity, "text": "Besøk i resepsjonen"}, blocking=True
    )
    await wait_until(lambda: exchange.station("103")["display"] == "Besøk i resepsjonen")
    await hass.services.async_call(
        DOMAIN, "send_message", {**entity, "text": "Ring 101"}, blocking=True
    )
    await wait_until(lambda: exchange.station("103")["mail"])
    # A station never configured, named by the exchange, becomes a device of its own; a
    # door station asking to be called back fires its event entity and the bus event.
    await hass.services.async_call(DOMAIN, "make_call", {**entity, "number": "110"}, blocking=True)
    await wait_until(lambda: line(hass, "110") == "ringing")
    exchange.exchange.call_request("110", "101")
    await wait_until(lambda: any(c.data["event"] == "call_request" for c in calls))
    (request,) = [c for c in calls if c.data["event"] == "call_request"]
    assert request.data["extension"] == "110"
    entry_id = result["result"].entry_id
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry_id}_110"), entry_id
    )
    assert device is not None
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    assert "call_request" in {t["type"] for t in triggers if t["domain"] == DOMAIN}
    event_state = hass.states.get("event.extension_110_call")
    assert event_state is not None
    await wait_until(
        lambda: (
            hass.states.get("event.extension_110_call").attributes.get("event_type")
            == "call_request"
        )
    )
    # ... and its doorbell rings (the entity HomeKit and doorbell cards understand).
    doorbell = hass.states.get("event.extension_110_call_request")
    assert doorbell is not None
    assert doorbell.attributes["device_class"] == "doorbell"
    assert doorbell.attributes["event_types"] == ["ring"]
    assert doorbell.attributes["event_type"] == "ring"
    assert doorbell.attributes["caller"] == "110"
    assert hass.states.get("event.extension_101_call_request").state == "unknown"
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_tcp_flow_errors(hass: HomeAssistant, exchange):
    form = await start(hass, "alphacom_tcp")
    bad = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: exchange.port, CONF_DEVICE_NUMBER: 1,
         CONF_STATIONS: "101-ab", CONF_LINK_LAYER: "auto"},
    )  # fmt: skip
    assert bad["errors"] == {CONF_STATIONS: "invalid_stations"}
    unreachable = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: 1, CONF_DEVICE_NUMBER: 1, CONF_LINK_LAYER: "sll"},
    )
    assert unreachable["errors"] == {"base": "cannot_connect"}
    created = await add_tcp(hass, exchange, "")
    assert created["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    again = await add_tcp(hass, exchange, "101")
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    await hass.config_entries.async_unload(created["result"].entry_id)


@pytest.mark.parametrize("link", [LinkLayerKind.DATA_LINK, LinkLayerKind.ISO1745])
async def test_serial_flow_over_a_real_pty(hass: HomeAssistant, socket_enabled, link):
    config = SimulatorConfig(pty=True, stations=STATIONS, link=link)
    async with AlphaComSimulator(config) as exchange:
        form = await start(hass, "alphacom_serial")
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"],
            {
                CONF_SERIAL_PORT: exchange.pty_path,
                CONF_BAUD_RATE: "9600",
                CONF_DEVICE_NUMBER: 2,
                CONF_STATIONS: "101,102",
                CONF_LINK_LAYER: link.value,
            },
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"][CONF_SERIAL_PORT] == exchange.pty_path
        await hass.async_block_till_done()
        exchange.exchange.call("101", "102")
        await wait_until(lambda: line(hass, "102") == "ringing")
        await hass.services.async_call(
            DOMAIN,
            "display_text",
            {"entity_id": "sensor.extension_101_line", "text": "Serial OK"},
            blocking=True,
        )
        await wait_until(lambda: exchange.station("101")["display"] == "Serial OK")
        # Diagnostics name the link layer in use and what it dropped or repeated.
        report = await async_get_config_entry_diagnostics(hass, result["result"])
        assert report["link"]["link_layer"] == link.value
        assert report["link"]["bytes_received"] > 0
        assert {"dropped", "bad_checksum", "retransmitted"} <= set(report["link"])
        await hass.config_entries.async_unload(result["result"].entry_id)


async def test_reconfigure_to_another_port(hass: HomeAssistant, exchange, socket_enabled):
    created = await add_tcp(hass, exchange, "101")
    entry = created["result"]
    await hass.async_block_till_done()
    async with AlphaComSimulator(SimulatorConfig(port=0, stations=STATIONS)) as moved:
        flow = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        )
        assert flow["step_id"] == "reconfigure_alphacom_tcp"
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: moved.port, CONF_DEVICE_NUMBER: 1,
             CONF_STATIONS: "101", CONF_LINK_LAYER: "auto"},
        )  # fmt: skip
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data[CONF_PORT] == moved.port
        await hass.async_block_till_done()
        await hass.config_entries.async_unload(entry.entry_id)
