"""The simulator sends what a real PBX sends: for CTI software that was written against one."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import pytest

from pbx_protocols.core.model import Direction
from pbx_protocols.core.transport import open_tcp_link
from pbx_protocols.panasonic.codec import Aarq, Invoke, ReturnResult, decode_pdu
from pbx_protocols.panasonic.devices import device_id
from pbx_protocols.panasonic.framing import TcpFramer
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.simulator import OutsideParties, SimulatedPbx, SimulatorConfig
from tests.panasonic.conftest import EXTENSIONS, wait_until
from tests.panasonic.test_cli import cli

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures/vectors/panasonic-csta.json").read_text()
)["vectors"]
REAL_AARE = bytes.fromhex(next(v["hex"] for v in VECTORS if v["name"] == "aare_pbx_accepted"))


@pytest.mark.parametrize(
    "aarq",
    [Aarq(), Aarq(protocol_version=False, user_information_reference=None)],
    ids=["full", "bare"],
)
async def test_the_aare_is_the_real_one_whatever_the_aarq_held(simulator, aarq):
    link = await open_tcp_link("127.0.0.1", simulator.port, TcpFramer())
    try:
        await link.send(aarq.encode())
        assert await link.receive() == REAL_AARE
    finally:
        await link.close()


def test_transferred_events_carry_new_connections_only():
    pbx = SimulatedPbx(EXTENSIONS)
    seen: list[dict[str, object]] = []
    pbx.subscribe(
        lambda device, family, name, value: seen.append(value) if name == "transferred" else None
    )
    call = pbx.make_call("101", "102")
    pbx.answer("102", call)
    pbx.single_step_transfer("101", call, "103")
    assert seen
    for entry in seen[0]["transferredConnections"]:  # type: ignore[union-attr]
        assert set(entry) == {"newConnection"}
        kind, value = entry["newConnection"]
        assert kind == "both" and "deviceID" in value  # the party's device is in it


async def raw_client(simulator):
    link = await open_tcp_link("127.0.0.1", simulator.port, TcpFramer())
    await link.send(Aarq().encode())
    assert decode_pdu(await link.receive()).kind == "aare"
    argument = {"monitorObject": ("deviceObject", device_id("101"))}
    await link.send(Invoke(500, Opcode.MONITOR_START, argument).encode())
    return link


async def test_events_resume_when_the_client_answers_again(simulator):
    link = await raw_client(simulator)
    try:
        (session,) = simulator.sessions
        keepalives = []
        async with asyncio.timeout(5):
            while not session.events_suspended:  # keepalives 1 and 2 go unanswered
                pdu = decode_pdu(await link.receive())
                if isinstance(pdu, Invoke) and pdu.opcode == Opcode.SYSTEM_STATUS:
                    keepalives.append(pdu)
            while True:  # answer the next one
                pdu = decode_pdu(await link.receive())
                if isinstance(pdu, Invoke) and pdu.opcode == Opcode.SYSTEM_STATUS:
                    reply = ReturnResult(pdu.invoke_id, Opcode.SYSTEM_STATUS, ("noData", None))
                    await link.send(reply.encode())
                    break
        await wait_until(lambda: not session.events_suspended)
        simulator.pbx.make_call("101", "102")
        async with asyncio.timeout(2):
            while True:
                pdu = decode_pdu(await link.receive())
                if isinstance(pdu, Invoke) and pdu.opcode == Opcode.CSTA_EVENT_REPORT:
                    break
    finally:
        await link.close()


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(port=0, extensions=EXTENSIONS, keepalive_interval=0.2)]
)
async def test_keepalives_come_at_random_intervals_around_the_setting(simulator):
    link = await raw_client(simulator)
    loop = asyncio.get_running_loop()
    arrivals = []
    try:
        async with asyncio.timeout(5):
            while len(arrivals) < 8:
                pdu = decode_pdu(await link.receive())
                if isinstance(pdu, Invoke) and pdu.opcode == Opcode.SYSTEM_STATUS:
                    arrivals.append(loop.time())
    finally:
        await link.close()
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert all(0.14 <= gap <= 0.27 for gap in gaps), gaps
    assert len({round(gap, 3) for gap in gaps}) > 3  # not a fixed period


async def test_call_records_arrive_once_asked_for(simulator, make_client):
    async with make_client() as client:
        records = []
        client.subscribe_records(records.append)
        await wait_until(lambda: simulator.sessions[0]._services.cdr_cross_ref is not None)
        external = simulator.pbx.incoming_call("0301234567", "102")
        simulator.pbx.answer("102", external)
        await asyncio.sleep(0.3)
        simulator.pbx.clear_connection("0301234567", external)
        missed = simulator.pbx.incoming_call("0891234567", "103")
        simulator.pbx.clear_connection("0891234567", missed)
        await wait_until(lambda: len(records) == 2)
    answered, unanswered = records
    assert (answered.extension, answered.calling, answered.direction) == (
        "102",
        "0301234567",
        Direction.INCOMING,
    )
    assert answered.trunk == "CO1"
    assert answered.duration == pytest.approx(0.3, abs=0.2)
    assert answered.condition is None
    assert (unanswered.extension, unanswered.condition) == ("103", "not_answered")


def test_first_call_id_is_a_knob():
    pbx = SimulatedPbx(EXTENSIONS, first_call_id=0x1234)
    assert pbx.make_call("101", "102") == b"\x12\x34"
    assert SimulatedPbx(EXTENSIONS).make_call("101", "102") == b"\x00\xe0"


@pytest.mark.parametrize(
    "simulator_config",
    [
        SimulatorConfig(
            port=0,
            extensions=EXTENSIONS,
            outside=OutsideParties(
                answer_after=(0.1, 0.2), talk_for=(0.3, 0.4), busy=0, no_answer=0
            ),
        )
    ],
)
async def test_outside_numbers_answer_and_hang_up_like_people(simulator, make_client, recorder):
    async with make_client() as client:
        client.subscribe_events(recorder)
        await client.make_call("101", "0301234567")
        await recorder.wait_for("101", "answered")
        ended = await recorder.wait_for("101", "ended")
        assert ended.peer == "0301234567"


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(port=0, extensions=EXTENSIONS, outside=OutsideParties(busy=1, no_answer=0))],
)
async def test_outside_numbers_can_be_busy(simulator, make_client, recorder):
    async with make_client() as client:
        client.subscribe_events(recorder)
        await client.make_call("101", "0301234567")
        failed = await recorder.wait_for("101", "failed", timeout=5)
        assert failed.vendor["cause"] == "busy"


async def test_simulate_command_knobs(socket_enabled):
    process = await cli(
        "simulate",
        "panasonic",
        "--listen",
        "127.0.0.1:0",
        "--first-call-id",
        "0a00",
        "--outside-busy",
        "0.5",
        "--outside-no-answer",
        "0.6",
    )
    _, err = await process.communicate()
    assert process.returncode == 2
    assert "add up to more than 1" in err.decode()
