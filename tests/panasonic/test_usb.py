"""The USB path through pyusb's own API; a pyusb backend object stands in for libusb."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
import usb.core
import usb.util

from pbx_protocols.core.errors import ConnectionFailed
from pbx_protocols.core.model import ConnectionState, LineState
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig, UsbSettings, find_usb_devices
from pbx_protocols.panasonic.framing import NextLayer, usb_packets
from pbx_protocols.panasonic.simulator.usb import SIMULATED_PRODUCT_ID
from tests.panasonic.conftest import EXTENSIONS, fast_policy, wait_until

#: A LAN client connects (to a server that hangs up at once) and says whether pyusb loaded.
LAN_CLIENT_PROBE = """
import asyncio, sys
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig, UsbSettings

async def main():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    PanasonicConfig(usb=UsbSettings())  # configuring USB loads nothing either
    try:
        await PanasonicClient(PanasonicConfig(host="127.0.0.1", port=port)).connect()
    except Exception as err:
        print(type(err).__name__)
    server.close()
    print("usb" in sys.modules)

asyncio.run(main())
"""


def test_a_lan_client_does_not_load_pyusb():
    """pyusb stays out of Home Assistant's memory when the PBX is on the LAN."""
    completed = subprocess.run(
        [sys.executable, "-c", LAN_CLIENT_PROBE], capture_output=True, text=True, check=True
    )
    failure, loaded = completed.stdout.split()
    assert failure in {"ConnectionClosed", "ConnectionFailed"}
    assert loaded == "False"


def usb_client(simulator, **options) -> PanasonicClient:
    settings = UsbSettings(backend=simulator.usb_backend(), **options)
    return PanasonicClient(PanasonicConfig(usb=settings), reconnect_policy=fast_policy())


async def test_pyusb_finds_the_device_and_its_bulk_endpoints(simulator):
    backend = simulator.usb_backend()
    (device,) = usb.core.find(find_all=True, idVendor=0x04DA, backend=backend)
    assert (device.idVendor, device.idProduct) == (0x04DA, SIMULATED_PRODUCT_ID)
    assert device.serial_number == "SIMULATED-0001"
    interface = device.get_active_configuration()[(0, 0)]
    addresses = sorted(endpoint.bEndpointAddress for endpoint in interface)
    assert addresses == [0x02, 0x81]
    usb.util.dispose_resources(device)
    (info,) = find_usb_devices(UsbSettings(backend=backend))
    assert info.identifier == f"04da:{SIMULATED_PRODUCT_ID:04x}:SIMULATED-0001"
    assert info.product == "KX-TDA (simulated)"
    assert find_usb_devices(UsbSettings(backend=backend, product_id=0x1234)) == []
    assert find_usb_devices(UsbSettings(backend=backend, serial_number="OTHER")) == []
    assert find_usb_devices(UsbSettings(backend=backend, serial_number="SIMULATED-0001"))
    assert find_usb_devices(UsbSettings(backend=backend, bus=2)) == []


async def test_client_over_usb(simulator, recorder):
    client = usb_client(simulator)
    client.subscribe_events(recorder)
    async with client:
        assert list(client.extensions) == list(EXTENSIONS)
        assert client.info.unique_id == f"usb:04da:{SIMULATED_PRODUCT_ID:04x}:SIMULATED-0001"
        await client.make_call("101", "102")
        assert (await recorder.wait_for("102", "ringing")).peer == "101"
        await client.answer_call("102")
        await recorder.wait_for("101", "answered")
        (session,) = simulator.sessions
        assert session.monitored == list(EXTENSIONS)
        await client.hang_up("102")
        assert (await recorder.wait_for("101", "ended")).line_state is LineState.IDLE


async def test_usb_unplug_and_replug_reconnects(simulator, recorder):
    client = usb_client(simulator)
    client.subscribe_events(recorder)
    async with client:
        await simulator.drop_clients()  # the cable goes dead: transfers fail with ENODEV
        await wait_until(lambda: client.connection_state is ConnectionState.RECONNECTING)
        await wait_until(lambda: client.connected, timeout=5)
        simulator.pbx.incoming_call("0301", "103")
        await recorder.wait_for("103", "ringing")


async def test_noise_and_maintenance_traffic_do_not_disturb_csta(simulator, recorder, caplog):
    backend = simulator.usb_backend()
    client = PanasonicClient(
        PanasonicConfig(usb=UsbSettings(backend=backend)), reconnect_policy=fast_policy()
    )
    client.subscribe_events(recorder)
    async with client:
        cable = backend.handles[-1].cable
        cable.send_packet(bytes([0x07, 0x03, 1, 2, 3]))  # no such packet type
        for packet in usb_packets(b"\x10\x20", NextLayer.MAINTENANCE_CONSOLE):
            cable.send_packet(packet)
        cable.send_packet(bytes([0x00, 0x01, 0x00]))  # too short for the next-layer header
        cable.send_packet(bytes([0x00, 0x03, 0x00, 0x05, 0xAA]))  # header announces 5 bytes
        simulator.pbx.incoming_call("0301", "103")
        assert (await recorder.wait_for("103", "ringing")).peer == "0301"
        assert client.connected
    # the first bad packet is a warning; the other two are counted when the link closes
    assert caplog.text.count("Ignoring USB data from usb") == 1
    assert "and 2 more like it" in caplog.text
    assert "Ignoring a PDU" not in caplog.text  # maintenance traffic never reached CSTA


async def test_a_flood_of_bad_packets_logs_once(simulator, recorder, caplog):
    backend = simulator.usb_backend()
    client = PanasonicClient(
        PanasonicConfig(usb=UsbSettings(backend=backend)), reconnect_policy=fast_policy()
    )
    client.subscribe_events(recorder)
    async with client:
        cable = backend.handles[-1].cable
        for _ in range(5000):
            cable.send_packet(bytes([0x07, 0x03, 1, 2, 3]))
        simulator.pbx.incoming_call("0301", "103")
        await recorder.wait_for("103", "ringing", timeout=30)
        ours = [r for r in caplog.records if r.name.startswith("pbx_protocols")]
        assert len([r for r in ours if r.levelno >= logging.WARNING]) == 1


async def test_no_device_is_a_connection_failure(simulator):
    client = usb_client(simulator, product_id=0x1234)
    with pytest.raises(ConnectionFailed, match="no USB device with vendor 04da and product 1234"):
        await client.connect()


def test_fragments_of_long_pdus_stay_in_order():
    packets = usb_packets(bytes(range(200)))
    assert [packet[0] for packet in packets] == [1, 2, 2, 3]
