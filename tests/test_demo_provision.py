"""The demo's provisioning against a real ``hass`` process: a PBX that moved keeps its entry."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from demo.hass_api import HomeAssistantApi
from demo.hass_process import HomeAssistantProcess, prepare_config
from demo.provision import ensure_pbx_entry, signed_in_when_running
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def entity_ids(api: HomeAssistantApi, entry_id: str) -> list[str]:
    registry = await api.ws({"type": "config/entity_registry/list"})
    return sorted(e["entity_id"] for e in registry if e["config_entry_id"] == entry_id)


async def serials(api: HomeAssistantApi, entry_id: str) -> set[str]:
    devices = await api.ws({"type": "config/device_registry/list"})
    return {
        d["serial_number"]
        for d in devices
        if entry_id in d["config_entries"] and d.get("serial_number")
    }


async def loaded(api: HomeAssistantApi, entry_id: str) -> None:
    while True:
        entries = await api.ws({"type": "config_entries/get", "domain": "pbx"})
        if any(e["entry_id"] == entry_id and e["state"] == "loaded" for e in entries):
            return
        await asyncio.sleep(0.1)


@pytest.mark.timeout(600)
async def test_a_pbx_that_moved_is_reconfigured_not_added_again(socket_enabled, tmp_path):
    """Run again with another PBX port, the demo removed the entry and added it anew: new
    entity ids, and Home Assistant's warnings that their history cannot be migrated."""
    port = free_port()
    config_dir = tmp_path / "config"
    prepare_config(config_dir, port)
    extensions = ("101", "102")
    async with (
        PanasonicSimulator(SimulatorConfig(port=0, extensions=extensions)) as before,
        PanasonicSimulator(SimulatorConfig(port=0, extensions=extensions)) as after,
    ):
        hass = HomeAssistantProcess(config_dir)
        await hass.start()
        try:
            async with aiohttp.ClientSession() as session:
                api = HomeAssistantApi(session, f"http://127.0.0.1:{port}")
                try:
                    async with asyncio.timeout(300):
                        await signed_in_when_running(api, hass)
                    first = await ensure_pbx_entry(api, before.port, names={}, voice_extension=None)
                    ids = await entity_ids(api, first)
                    assert "sensor.extension_101_line" in ids
                    moved = await ensure_pbx_entry(api, after.port, names={}, voice_extension=None)
                    assert moved == first
                    async with asyncio.timeout(60):
                        await loaded(api, moved)
                    assert await entity_ids(api, moved) == ids
                    assert await serials(api, moved) == {f"127.0.0.1:{after.port}"}
                    assert after.sessions  # Home Assistant follows the PBX where it is now
                    # Run again on the same port, the entry is kept as it is.
                    assert await ensure_pbx_entry(api, after.port, {}, None) == first
                finally:
                    await api.close()
        finally:
            await hass.stop()
    assert "Cannot migrate history" not in hass.log.read_text()
