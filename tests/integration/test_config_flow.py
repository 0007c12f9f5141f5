"""Every config flow step and error: LAN, USB, reauthentication, reconfiguration, options."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.importlib import DATA_IMPORT_CACHE
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx.const import (
    CONF_EXTENSIONS,
    CONF_LINK_TIMEOUT,
    CONF_NAMES,
    CONF_PREFIXES,
    CONF_VOICE_EXTENSION,
    DOMAIN,
)
from pbx_protocols.panasonic.codec import Credentials
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig
from pbx_protocols.panasonic.simulator.usb import SIMULATED_PRODUCT_ID
from tests.integration.conftest import EXTENSIONS, lan_data

USB_ID = f"04da:{SIMULATED_PRODUCT_ID:04x}:SIMULATED-0001"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def start(hass: HomeAssistant, step: str) -> dict:
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert menu["type"] is FlowResultType.MENU
    assert menu["menu_options"] == [
        "panasonic_lan",
        "panasonic_usb",
        "alphacom_tcp",
        "alphacom_serial",
        "nbx",
        "remote",
    ]
    form = await hass.config_entries.flow.async_configure(menu["flow_id"], {"next_step_id": step})
    assert form["type"] is FlowResultType.FORM
    assert form["step_id"] == step
    return form


def suggested(form: dict) -> dict:
    return {
        key.schema: (key.description or {}).get("suggested_value")
        for key in form["data_schema"].schema
    }


@pytest.fixture
async def libusb(simulator) -> AsyncIterator[None]:
    """The simulated PBX as the USB bus: pyusb finds it where it would load libusb."""
    with patch("usb.backend.libusb1.get_backend", return_value=simulator.usb_backend()):
        yield


async def test_lan(hass: HomeAssistant, simulator):
    form = await start(hass, "panasonic_lan")
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_HOST: " 127.0.0.1 ", CONF_PORT: simulator.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Panasonic PBX (127.0.0.1)"
    assert result["data"] == lan_data(simulator.port)
    assert result["result"].unique_id == f"127.0.0.1:{simulator.port}"
    await hass.async_block_till_done()
    assert hass.states.get("sensor.extension_101_line").state == "idle"
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_lan_errors_then_success(hass: HomeAssistant, simulator):
    form = await start(hass, "panasonic_lan")
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: free_port()}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    simulator.set_device_list(False)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    )
    assert result["errors"] == {"base": "no_extensions"}
    simulator.set_device_list(True)
    with patch("asyncio.open_connection", side_effect=RuntimeError("a bug")):
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
        )
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(port=0, extensions=EXTENSIONS, credentials=Credentials("cti", "pw"))],
)
async def test_lan_login(hass: HomeAssistant, simulator):
    form = await start(hass, "panasonic_lan")
    data = {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port, CONF_USERNAME: "cti"}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {**data, CONF_PASSWORD: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {**data, CONF_PASSWORD: "pw"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_USERNAME] == "cti"
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_same_pbx_twice_is_refused(hass: HomeAssistant, loaded_entry, simulator):
    form = await start(hass, "panasonic_lan")
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: simulator.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_usb(hass: HomeAssistant, simulator, libusb):
    form = await start(hass, "panasonic_usb")
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {"usb_vendor_id": "zz"}
    )
    assert result["errors"] == {"base": "invalid_usb_id"}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {"usb_vendor_id": "04da", "usb_product_id": "1234"}
    )
    assert result["errors"] == {"base": "no_usb_devices"}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {"usb_vendor_id": "0x04DA"}
    )
    assert result["step_id"] == "panasonic_usb_device"
    schema = result["data_schema"].schema
    assert [o["value"] for o in schema["usb_device"].config["options"]] == [USB_ID]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"usb_device": USB_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Panasonic PBX (USB KX-TDA (simulated))"
    assert result["data"] == {
        "hardware": "panasonic_usb",
        "usb_vendor_id": 0x04DA,
        "usb_product_id": SIMULATED_PRODUCT_ID,
        "usb_serial_number": "SIMULATED-0001",
    }
    assert result["result"].unique_id == f"usb:{USB_ID}"
    await hass.async_block_till_done()
    assert hass.states.get("sensor.extension_104_line").state == "idle"
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_the_usb_step_loads_pyusb_in_the_import_executor(
    hass: HomeAssistant, simulator, libusb
):
    """Not on the event loop: a LAN client no longer imports the USB link beforehand."""
    form = await start(hass, "panasonic_usb")
    await hass.config_entries.flow.async_configure(form["flow_id"], {"usb_vendor_id": "04da"})
    assert "pbx_protocols.panasonic.transport_usb" in hass.data[DATA_IMPORT_CACHE]


async def test_usb_without_libusb(hass: HomeAssistant, simulator):
    with (
        patch("usb.backend.libusb1.get_backend", return_value=None),
        patch("usb.backend.openusb.get_backend", return_value=None),
        patch("usb.backend.libusb0.get_backend", return_value=None),
    ):
        form = await start(hass, "panasonic_usb")
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], {"usb_vendor_id": "04da"}
        )
    assert result["errors"] == {"base": "usb_unavailable"}


async def test_usb_device_that_does_not_answer(hass: HomeAssistant, simulator, libusb):
    form = await start(hass, "panasonic_usb")
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {"usb_vendor_id": "04da"}
    )
    simulator.set_device_list(False)  # associates, but names no extension
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"usb_device": USB_ID}
    )
    assert result["errors"] == {"base": "no_extensions"}


async def test_reauth(hass: HomeAssistant, socket_enabled):
    config = SimulatorConfig(port=0, extensions=EXTENSIONS, credentials=Credentials("cti", "new"))
    async with PanasonicSimulator(config) as simulator:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="PBX",
            data=lan_data(simulator.port, username="cti", password="old"),
            unique_id=f"127.0.0.1:{simulator.port}",
        )
        entry.add_to_hass(hass)
        result = await entry.start_reauth_flow(hass)
        assert result["step_id"] == "reauth_confirm"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_USERNAME: "cti", CONF_PASSWORD: "still wrong"}
        )
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_USERNAME: "cti", CONF_PASSWORD: "new"}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reauth_successful"
        assert entry.data[CONF_PASSWORD] == "new"
        await hass.async_block_till_done()
        await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure_lan(hass: HomeAssistant, loaded_entry, simulator, socket_enabled):
    other = MockConfigEntry(domain=DOMAIN, data=lan_data(1), unique_id="127.0.0.1:1")
    other.add_to_hass(hass)
    result = await loaded_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_lan"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: free_port()}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: 1}
    )
    assert result["reason"] == "already_configured"
    async with PanasonicSimulator(SimulatorConfig(port=0, extensions=EXTENSIONS)) as moved:
        result = await loaded_entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: moved.port}
        )
        assert result["reason"] == "reconfigure_successful"
        assert loaded_entry.unique_id == f"127.0.0.1:{moved.port}"
        assert loaded_entry.data[CONF_PORT] == moved.port
        await hass.async_block_till_done()
        await hass.config_entries.async_unload(loaded_entry.entry_id)


async def test_reconfigure_usb(hass: HomeAssistant, simulator, libusb):
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            "hardware": "panasonic_usb",
            "usb_vendor_id": 0x04DA,
            "usb_product_id": 0x0001,
            "usb_serial_number": "SIMULATED-0001",
        },
        unique_id=f"usb:{USB_ID}",
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_usb"
    assert suggested(result) == {"usb_vendor_id": "04da", "usb_product_id": "0001"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"usb_vendor_id": "04da", "usb_product_id": "9999"}
    )
    assert result["errors"] == {"base": "no_usb_devices"}
    simulator.set_device_list(False)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"usb_vendor_id": "04da"}
    )
    assert result["errors"] == {"base": "no_extensions"}
    simulator.set_device_list(True)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"usb_vendor_id": "04da"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["usb_product_id"] == SIMULATED_PRODUCT_ID
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_options(hass: HomeAssistant, loaded_entry):
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_EXTENSIONS: ["101", "102"], CONF_PREFIXES: "0, x"}
    )
    assert result["errors"] == {CONF_PREFIXES: "malformed_prefixes"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_EXTENSIONS: ["101", "102"],
            CONF_PREFIXES: "0, 00",
            CONF_VOICE_EXTENSION: "101",
            CONF_LINK_TIMEOUT: 20,
        },
    )
    assert result["step_id"] == "names"
    assert set(result["data_schema"].schema) == {"101", "102"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"101": " Reception ", "102": ""}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_entry.options == {
        CONF_EXTENSIONS: ["101", "102"],
        CONF_PREFIXES: ["0", "00"],
        CONF_VOICE_EXTENSION: "101",
        CONF_LINK_TIMEOUT: 20.0,
        CONF_NAMES: {"101": "Reception"},
    }
    await hass.async_block_till_done()  # the entry reloads with the new options
    assert loaded_entry.runtime_data.client.config.link_timeout == 20.0
    assert hass.states.get("sensor.extension_103_line") is None or (
        hass.states.get("sensor.extension_103_line").state == "unavailable"
    )
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert suggested(result) == {
        CONF_EXTENSIONS: ["101", "102"],
        CONF_PREFIXES: "0, 00",
        CONF_VOICE_EXTENSION: "101",
        CONF_LINK_TIMEOUT: 20.0,
    }
    # The dropdowns name the extensions that have names.
    selector = result["data_schema"].schema[
        next(k for k in result["data_schema"].schema if k == CONF_VOICE_EXTENSION)
    ]
    labels = {option["value"]: option["label"] for option in selector.config["options"]}
    assert labels["101"] == "Reception (101)"
    assert labels["102"] == "102"


async def test_options_need_a_connected_pbx(hass: HomeAssistant, entry):
    entry.add_to_hass(hass)  # never set up
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_connected"
