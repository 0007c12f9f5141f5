"""The simulator: refusals on the wire, its call model, and its scenarios."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest

from pbx_protocols.core.model import LineState
from pbx_protocols.core.transport import open_tcp_link
from pbx_protocols.panasonic.codec import (
    Aarq,
    Invoke,
    Reject,
    ReleaseRequest,
    ReturnError,
    ReturnResult,
    decode_pdu,
)
from pbx_protocols.panasonic.devices import connection_id, device_id
from pbx_protocols.panasonic.framing import TcpFramer
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.simulator import (
    PanasonicSimulator,
    SimulatedPbx,
    SimulatorConfig,
    SimulatorFailure,
    parse_extensions,
)
from tests.panasonic.conftest import wait_until


class _Raw:
    """Bytes that are not a PDU at all."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encode(self) -> bytes:
        return self.data


async def request(link, pdu) -> object:
    """Send one request and return the answer to it (skipping keepalives and events)."""
    await link.send(pdu.encode())
    async with asyncio.timeout(2):
        while True:
            answer = decode_pdu(await link.receive())
            if isinstance(answer, Invoke):
                if answer.opcode == Opcode.SYSTEM_STATUS and answer.invoke_id > 1:
                    reply = ReturnResult(answer.invoke_id, Opcode.SYSTEM_STATUS, ("noData", None))
                    await link.send(reply.encode())
                continue
            return answer


@pytest.fixture
async def link(simulator):
    link = await open_tcp_link("127.0.0.1", simulator.port, TcpFramer())
    assert (await request(link, Aarq())).accepted
    yield link
    await link.close()


@pytest.mark.parametrize(
    ("pdu", "reason"),
    [
        (Invoke(1, 4242, raw_argument=b"\x05\x00"), "invoke.unrecognizedOperation"),
        (Invoke(1, Opcode.MAKE_CALL, raw_argument=b"\x05\x00"), "invoke.mistypedArgument"),
        (
            Invoke(
                1,
                Opcode.TRANSFER_CALL,
                {"heldCall": ("callID", b"\x01"), "activeCall": ("callID", b"\x02")},
            ),
            "operation.serviceNotSupported",
        ),
        (
            Invoke(1, Opcode.MONITOR_START, {"monitorObject": ("deviceObject", device_id("999"))}),
            "operation.invalidMonitorObject",
        ),
        (
            Invoke(
                1,
                Opcode.MAKE_CALL,
                {"callingDevice": device_id("101"), "calledDirectoryNumber": device_id("1x")},
            ),
            "operation.invalidCalledDeviceID",
        ),
        (
            Invoke(1, Opcode.ANSWER_CALL, {"callToBeAnswered": connection_id("0099", "101")}),
            "stateIncompatibility.noCallToAnswer",
        ),
        (
            Invoke(1, Opcode.CLEAR_CONNECTION, {"connectionToBeCleared": ("callID", b"\x00")}),
            "operation.invalidConnectionID",
        ),
        (
            Invoke(1, Opcode.RETRIEVE_CALL, {"callToBeRetrieved": connection_id("0099", "101")}),
            "stateIncompatibility.noHeldCall",
        ),
        (
            Invoke(1, Opcode.SNAPSHOT_DEVICE, {"snapshotObject": device_id("555")}),
            "operation.invalidDeviceID",
        ),
        (
            Invoke(1, Opcode.MONITOR_STOP, {"crossRefIdentifier": b"\x09"}),
            "operation.invalidMonitorCrossRefID",
        ),
        (
            Invoke(1, Opcode.CLEAR_CALL, {"callToBeCleared": ("callID", b"\x09\x09")}),
            "operation.invalidCallID",
        ),
        (
            Invoke(1, Opcode.ESCAPE, {"privateData": ("string", b"hello")}),
            "privateData.cSTAPrivateDataInfoError",
        ),
    ],
)
async def test_bad_requests_are_refused(link, pdu, reason):
    answer = await request(link, pdu)
    assert isinstance(answer, (Reject, ReturnError))
    assert answer.reason == reason


async def test_monitor_by_device_number_and_stop(simulator, link):
    device = {"deviceIdentifier": ("deviceNumber", simulator.pbx.devices["102"].device_number)}
    result = await request(
        link, Invoke(2, Opcode.MONITOR_START, {"monitorObject": ("deviceObject", device)})
    )
    assert isinstance(result, ReturnResult)
    assert simulator.sessions[0].monitored == ["102"]
    xref = result.result["crossRefIdentifier"]
    stopped = await request(link, Invoke(3, Opcode.MONITOR_STOP, {"crossRefIdentifier": xref}))
    assert stopped.result == ("noData", None)
    assert simulator.sessions[0].monitored == []


async def test_clear_call_and_release(simulator, link):
    call = simulator.pbx.make_call("101", "102")
    cleared = await request(
        link, Invoke(4, Opcode.CLEAR_CALL, {"callToBeCleared": ("callID", call)})
    )
    assert cleared.result == ("noData", None)
    assert not simulator.pbx.calls
    await link.send(ReleaseRequest().encode())
    async with asyncio.timeout(2):
        while (answer := decode_pdu(await link.receive())).kind == "invoke":
            pass
    assert answer.kind == "rlre"


async def test_garbage_is_rejected_without_dropping_the_client(simulator, link):
    rejected = await request(link, _Raw(b"\x30\x00"))
    assert rejected.reason == "general.mistypedPDU"
    answer = await request(
        link, Invoke(5, Opcode.SNAPSHOT_DEVICE, {"snapshotObject": device_id("101")})
    )
    assert isinstance(answer, ReturnResult)  # still served after the bad PDU


def test_call_model_refusals():
    pbx = SimulatedPbx(["101", "102", "103"])
    for action, error in [
        (lambda: pbx.make_call("999", "101"), "invalidCallingDeviceID"),
        (lambda: pbx.make_call("101", "101"), "invalidCalledDeviceID"),
        (lambda: pbx.incoming_call("0301", "999"), "invalidCalledDeviceID"),
        (lambda: pbx.hold("101", b"\x00"), "invalidConnectionID"),
        (lambda: pbx.set_in_service("999", False), "invalidDeviceID"),
    ]:
        with pytest.raises(SimulatorFailure, match=error):
            action()
    call = pbx.make_call("101", "102")
    with pytest.raises(SimulatorFailure, match="invalidConnectionState"):
        pbx.hold("101", call)  # nobody answered yet
    with pytest.raises(SimulatorFailure, match="invalidDestination"):
        pbx.divert("102", call, "101")
    with pytest.raises(SimulatorFailure, match="invalidDestination"):
        pbx.single_step_transfer("101", call, "999")
    pbx.answer("102", call)
    pbx.set_in_service("103", False)
    pbx.set_in_service("103", False)  # no change, no event
    with pytest.raises(SimulatorFailure, match="callingDeviceOutOfService"):
        pbx.make_call("103", "101")
    assert pbx.external_party(call) is None
    assert pbx.external_party(b"\xff") is None
    assert pbx.idle_extensions() == []


def test_parse_extensions():
    assert parse_extensions("101-103, 200") == ("101", "102", "103", "200")
    for bad in ["", "a-b", "110-101", "1-5000", "12a"]:
        with pytest.raises(ValueError):
            parse_extensions(bad)


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(port=0, extensions=("101", "102"), scenario="basic-call", pace=0.05)],
)
async def test_basic_call_scenario(simulator, make_client, recorder):
    client = make_client()
    client.subscribe_events(recorder)
    async with client:
        for extension, kinds in [
            ("102", ["ringing", "answered", "ended"]),
            ("101", ["originated", "answered", "ended"]),
        ]:
            for kind in kinds:
                await recorder.wait_for(extension, kind)
    with pytest.raises(ValueError, match="unknown scenario"):
        PanasonicSimulator(SimulatorConfig(scenario="nonsense"))


@pytest.mark.parametrize(
    "simulator_config",
    [
        SimulatorConfig(
            port=0,
            extensions=tuple(str(n) for n in range(101, 113)),
            scenario="busy-office",
            pace=0.02,
            seed=4,
        )
    ],
)
async def test_busy_office_scenario(simulator, make_client, recorder, caplog):
    caplog.set_level(logging.WARNING)
    client = make_client()
    client.subscribe_events(recorder)
    async with client:
        wanted = {
            "ringing",
            "answered",
            "missed",
            "ended",
            "held",
            "retrieved",
            "transferred",
            "originated",
        }
        await wait_until(lambda: wanted <= {e.kind.value for e in recorder.history}, timeout=20)
        calls = Counter(e.call_id for e in recorder.history)
        assert len(calls) > 5
        assert any(e.calling and len(e.calling) > 6 for e in recorder.history)  # external callers
        await simulator.stop_scenario()
        await wait_until(lambda: not simulator.pbx.calls)
        await wait_until(
            lambda: {x.line_state for x in client.extensions.values()} == {LineState.IDLE}
        )
    assert not [
        r for r in caplog.records if r.levelno >= logging.WARNING and "pbx_protocols" in r.name
    ]
