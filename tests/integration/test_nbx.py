"""3Com NBX in Home Assistant: the config flow on a real veth pair in a network namespace
(traffic from the simulated NCP, or none), phones as extension devices with line sensors
and call events, display text only when allowed, and the repair issue without raw sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.pbx.const import (
    CONF_ALLOW_DISPLAY_TEXT,
    CONF_HARDWARE,
    CONF_INTERFACE,
    CONF_PHONES,
    CONF_SAMPLE_VOICE,
    DOMAIN,
    EVENT_CALL,
    HARDWARE_NBX,
)
from custom_components.pbx.diagnostics import async_get_config_entry_diagnostics
from pbx_protocols.nbx.capture import LiveCapture, open_raw_socket, open_send_socket
from pbx_protocols.nbx.frames import TYPE_REQUEST, parse_frame, parse_request
from pbx_protocols.nbx.simulator import Ncp, SimulatorConfig, run_on_interface
from tests.common import wait_until
from tests.netns import Namespace, inside, veth_namespace

PHONES = "101; 0; 00:e0:bb:00:01:01\n102; 1; 00:e0:bb:00:01:02\n"
NCP_ID = "nbx:00:e0:bb:0b:d8:be"


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    # The test's thread (Home Assistant's event loop) works inside the namespace, so the
    # raw sockets Home Assistant opens are on its veth pair.
    with veth_namespace() as namespace, inside(namespace):
        yield namespace


@pytest.fixture
async def ncp(socket_enabled, namespace) -> AsyncIterator[asyncio.Task[int]]:
    """The simulated NCP sending on veth0 (basic call every 10 s) during the test."""
    config = SimulatorConfig(phones=4, duration=60)
    task = asyncio.create_task(
        run_on_interface(Ncp.with_phones(4), config, "veth0", sock=open_send_socket("veth0"))
    )
    yield task
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def start(hass: HomeAssistant) -> dict:
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "nbx" in menu["menu_options"]
    form = await hass.config_entries.flow.async_configure(menu["flow_id"], {"next_step_id": "nbx"})
    assert form["step_id"] == "nbx"
    return form


def user_input(interface: str = "veth1", phones: str = PHONES, **flags: bool) -> dict:
    return {
        CONF_INTERFACE: interface,
        CONF_PHONES: phones,
        CONF_SAMPLE_VOICE: flags.get("sample_voice", False),
        CONF_ALLOW_DISPLAY_TEXT: flags.get("allow_display_text", False),
    }


def line(hass: HomeAssistant, number: str) -> str | None:
    state = hass.states.get(f"sensor.extension_{number}_line")
    return state.state if state else None


async def test_flow_entities_events_and_display_text(hass: HomeAssistant, ncp):
    calls = async_capture_events(hass, EVENT_CALL)
    form = await start(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], user_input(allow_display_text=True)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "NBX (veth1)"
    assert result["result"].unique_id == NCP_ID
    await hass.async_block_till_done()
    await wait_until(lambda: line(hass, "101") == "idle", timeout=5)
    # The simulated 101 calls 102 (rings, answered, hung up), every 10 s.
    await wait_until(lambda: line(hass, "102") == "ringing", timeout=12)
    ringing = [c for c in calls if c.data["extension"] == "102"][-1]
    assert ringing.data["event"] == "incoming_call"
    assert ringing.data["caller"] == "101"
    await wait_until(lambda: line(hass, "102") == "talking", timeout=5)
    await wait_until(lambda: line(hass, "102") == "idle", timeout=6)
    # Diagnostics: what the capture received and dropped; the phones list is redacted.
    report = await async_get_config_entry_diagnostics(hass, result["result"])
    assert report["link"]["received"] > 0
    assert report["link"]["kernel_dropped"] == report["link"]["queue_dropped"] == 0
    assert report["entry"]["data"][CONF_PHONES] == "**REDACTED**"
    # Unmapped phones appear under their slot.
    assert line(hass, "slot_2") == "idle"
    # The one active feature, enabled in this entry: the text reaches the phone's MAC.
    watch = LiveCapture(open_raw_socket("veth0"), "veth0")
    try:
        await hass.services.async_call(
            DOMAIN,
            "display_text",
            {"entity_id": "sensor.extension_102_line", "text": "Meeting at 3"},
            blocking=True,
        )
        shown = []
        async with asyncio.timeout(3):
            while not shown:
                shown = [
                    parse_request(frame)
                    for frame in map(parse_frame, [c.data for c in await watch.receive()])
                    if frame.type == TYPE_REQUEST and frame.dst.hex(":") == "00:e0:bb:00:01:02"
                ]
        assert shown[-1].display_lines[0] == "Meeting at 3"
    finally:
        watch.close()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_flow_errors(hass: HomeAssistant, socket_enabled, namespace):
    form = await start(hass)
    bad = await hass.config_entries.flow.async_configure(
        form["flow_id"], user_input(phones="101; 99")
    )
    assert bad["errors"] == {CONF_PHONES: "invalid_phones"}
    missing = await hass.config_entries.flow.async_configure(
        form["flow_id"], user_input(interface="nosuch0")
    )
    assert missing["errors"] == {"base": "no_interface"}
    silent = await hass.config_entries.flow.async_configure(form["flow_id"], user_input())
    assert silent["errors"] == {"base": "no_nbx_traffic"}


async def test_display_text_is_refused_unless_allowed(hass: HomeAssistant, ncp):
    form = await start(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], user_input())
    await hass.async_block_till_done()
    await wait_until(lambda: line(hass, "102") is not None, timeout=5)
    from homeassistant.exceptions import HomeAssistantError

    with pytest.raises(HomeAssistantError) as refused:
        await hass.services.async_call(
            DOMAIN,
            "display_text",
            {"entity_id": "sensor.extension_102_line", "text": "Hello"},
            blocking=True,
        )
    assert refused.value.translation_key == "unsupported_display_text"
    # Reconfigure: the same NBX, now with display text allowed.
    flow = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": result["result"].entry_id}
    )
    assert flow["step_id"] == "reconfigure_nbx"
    reconfigured = user_input(allow_display_text=True)
    del reconfigured[CONF_PHONES]  # the phones list is an option now
    done = await hass.config_entries.flow.async_configure(flow["flow_id"], reconfigured)
    assert done["reason"] == "reconfigure_successful"
    assert result["result"].data[CONF_ALLOW_DISPLAY_TEXT] is True
    assert result["result"].data[CONF_PHONES] == PHONES.strip()  # kept
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_without_raw_sockets_a_repair_issue_says_how_to_grant_them(
    hass: HomeAssistant, socket_enabled, monkeypatch
):
    # The operating system's answer to a process without CAP_NET_RAW.
    real_socket = socket.socket

    def no_raw_sockets(family: int = -1, *args: object, **kwargs: object) -> socket.socket:
        if family == socket.AF_PACKET:
            raise PermissionError(1, "Operation not permitted")
        return real_socket(family, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "socket", no_raw_sockets)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NBX (eth0)",
        unique_id=NCP_ID,
        data={CONF_HARDWARE: HARDWARE_NBX, **user_input("eth0", "")},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"{entry.entry_id}_repair")
    assert issue is not None
    assert issue.translation_key == "raw_socket_not_permitted"
    assert "CAP_NET_RAW" in issue.translation_placeholders["error"]
    # Permission granted (and a namespace with the interface): the issue goes away.
    monkeypatch.setattr(socket, "socket", real_socket)
    with veth_namespace() as namespace, inside(namespace):
        hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_INTERFACE: "veth1"})
        await hass.config_entries.async_reload(entry.entry_id)
        assert ir.async_get(hass).async_get_issue(DOMAIN, f"{entry.entry_id}_repair") is None
        await hass.config_entries.async_unload(entry.entry_id)


async def test_phones_list_in_the_options(hass: HomeAssistant, ncp):
    form = await start(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], user_input(phones=""))
    entry = result["result"]
    await hass.async_block_till_done()
    await wait_until(lambda: line(hass, "slot_1") is not None, timeout=5)
    assert line(hass, "102") is None  # not mapped: the phone is "slot 1" and its MAC
    options = await hass.config_entries.options.async_init(entry.entry_id)
    bad = await hass.config_entries.options.async_configure(
        options["flow_id"], {CONF_PHONES: "102; 77"}
    )
    assert bad["errors"] == {CONF_PHONES: "invalid_phones"}
    names = await hass.config_entries.options.async_configure(
        options["flow_id"], {CONF_PHONES: "102; 1; 00:e0:bb:00:01:02"}
    )
    assert names["step_id"] == "names"
    await hass.config_entries.options.async_configure(names["flow_id"], {})
    await hass.async_block_till_done()
    assert entry.options[CONF_PHONES] == "102; 1; 00:e0:bb:00:01:02"
    await wait_until(lambda: line(hass, "102") == "idle", timeout=5)
    await hass.config_entries.async_unload(entry.entry_id)
