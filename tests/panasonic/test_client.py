"""PanasonicClient against the simulated PBX over a real TCP socket."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from pbx_protocols.core.errors import (
    AuthenticationFailed,
    CommandRejected,
    DiscoveryFailed,
    NoMatchingCall,
    UnsupportedOperation,
)
from pbx_protocols.core.model import (
    ConnectionState,
    Direction,
    LineState,
)
from pbx_protocols.core.transport import open_tcp_link
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.codec import Aarq, Credentials, Invoke, ReturnResult, decode_pdu
from pbx_protocols.panasonic.devices import device_id
from pbx_protocols.panasonic.framing import TcpFramer
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.rose import decoded_type_names
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig
from pbx_protocols.panasonic.values import fast_decoder
from tests.panasonic.conftest import EXTENSIONS, fast_policy, wait_until


def lines(client: PanasonicClient) -> dict[str, str]:
    return {number: ext.line_state.value for number, ext in client.extensions.items()}


async def test_associates_discovers_and_monitors(simulator, make_client):
    async with make_client() as client:
        assert client.connection_state is ConnectionState.CONNECTED
        assert list(client.extensions) == list(EXTENSIONS)
        assert set(lines(client).values()) == {"idle"}
        assert client.info.unique_id == f"127.0.0.1:{simulator.port}"
        assert client.info.vendor == "Panasonic"
        (session,) = simulator.sessions
        assert session.monitored == list(EXTENSIONS)
    await wait_until(lambda: not simulator.sessions)


async def test_the_first_event_report_finds_its_decoder_built(simulator, make_client):
    """Built at its first PDU, an event report's decoder (about 40 ms) held up the reports
    behind it; the session builds every decoder in a worker thread before it associates."""
    fast_decoder.cache_clear()  # as in a process that has decoded nothing yet
    try:
        async with make_client() as client:
            assert client.connection_state is ConnectionState.CONNECTED
            prepared = fast_decoder()
            assert all(prepared.is_prepared(name) for name in decoded_type_names())
            assert "CSTAEventReportArgument" in decoded_type_names()
    finally:
        fast_decoder.cache_clear()


async def test_keepalives_are_answered_except_the_first(simulator, make_client):
    async with make_client():
        (session,) = simulator.sessions
        await wait_until(lambda: session._keepalives_sent >= 4)
        assert not session.ignoring_requests  # the first was not answered
        assert not session.events_suspended  # every later one was


async def test_every_call_control_action(simulator, make_client, recorder):
    async with make_client() as client:
        client.subscribe_events(recorder)
        await client.make_call("101", "102")
        originated = await recorder.wait_for("101", "originated")
        assert (originated.called, originated.direction) == ("102", Direction.OUTGOING)
        ringing = await recorder.wait_for("102", "ringing")
        assert (ringing.peer, ringing.calling, ringing.direction) == (
            "101",
            "101",
            Direction.INCOMING,
        )

        await client.answer_call("102")
        assert (await recorder.wait_for("101", "answered")).line_state is LineState.TALKING
        assert (await recorder.wait_for("102", "answered")).line_state is LineState.TALKING

        await client.hold_call("101")
        assert (await recorder.wait_for("101", "held")).line_state is LineState.HELD
        await client.retrieve_call("101")
        assert (await recorder.wait_for("101", "retrieved")).line_state is LineState.TALKING

        await client.transfer_call("102", "103")
        assert (await recorder.wait_for("102", "transferred")).line_state is LineState.IDLE
        moved = await recorder.wait_for("101", "transferred")
        assert moved.peer == "103"
        assert (await recorder.wait_for("103", "ringing")).peer == "101"
        await client.answer_call("103")
        await recorder.wait_for("103", "answered")

        await client.hang_up("101")
        assert (await recorder.wait_for("101", "ended")).line_state is LineState.IDLE
        assert (await recorder.wait_for("103", "ended")).line_state is LineState.IDLE
        assert set(lines(client).values()) == {"idle"}
        assert not simulator.pbx.calls


async def test_refusals_are_typed_errors(simulator, make_client):
    async with make_client() as client:
        with pytest.raises(NoMatchingCall, match="no ringing call"):
            await client.answer_call("101")
        with pytest.raises(UnsupportedOperation):
            await client.display_text("101", "hello")
        await client.make_call("101", "102")
        await wait_until(lambda: client.extensions["102"].line_state is LineState.RINGING)
        with pytest.raises(CommandRejected, match="invalidCallingDeviceState"):
            await client.make_call("101", "103")  # 101 is already dialling
        call = client.extensions["101"].calls[0]
        with pytest.raises(CommandRejected, match="noCallToAnswer"):
            await client.answer_call("101", call.call_id)  # 101 is the caller: nothing rings


async def test_missed_and_external_calls(simulator, make_client, recorder):
    async with make_client() as client:
        client.subscribe_events(recorder)
        call = simulator.pbx.incoming_call("0301234567", "104")
        ringing = await recorder.wait_for("104", "ringing")
        assert (ringing.calling, ringing.peer) == ("0301234567", "0301234567")
        simulator.pbx.clear_connection("0301234567", call)
        assert (await recorder.wait_for("104", "missed")).line_state is LineState.IDLE

        await client.make_call("103", "0800123")
        dialing = await recorder.wait_for("103", "originated")
        assert dialing.called == "0800123"
        (outgoing,) = simulator.pbx.calls
        simulator.pbx.answer("0800123", outgoing)
        assert (await recorder.wait_for("103", "answered")).peer == "0800123"
        simulator.pbx.clear_connection("0800123", outgoing)
        await recorder.wait_for("103", "ended")


async def test_busy_and_diverted(simulator, make_client, recorder):
    async with make_client() as client:
        client.subscribe_events(recorder)
        first = simulator.pbx.incoming_call("0301", "102")
        await recorder.wait_for("102", "ringing")
        simulator.pbx.make_call("101", "102")  # 102 is busy ringing
        assert (await recorder.wait_for("101", "failed")).line_state is LineState.IDLE
        simulator.pbx.divert("102", first, "103")
        assert (await recorder.wait_for("102", "diverted")).line_state is LineState.IDLE
        assert (await recorder.wait_for("103", "ringing")).calling == "0301"


async def test_out_of_service_and_back(simulator, make_client, recorder):
    async with make_client() as client:
        client.subscribe_events(recorder)
        simulator.pbx.set_in_service("103", False)
        assert (await recorder.wait_for("103", "offline")).line_state is LineState.OFFLINE
        simulator.pbx.set_in_service("103", True)
        assert (await recorder.wait_for("103", "online")).line_state is LineState.IDLE


async def test_resynchronises_after_the_pbx_drops_the_link(
    simulator, make_client, recorder, caplog
):
    caplog.set_level(logging.INFO, logger="pbx_protocols")
    async with make_client() as client:
        client.subscribe_events(recorder)
        call = simulator.pbx.make_call("101", "102")
        await recorder.wait_for("102", "ringing")
        await simulator.drop_clients()
        simulator.pbx.answer("102", call)  # happens while nobody is connected
        await wait_until(lambda: client.connection_state is not ConnectionState.CONNECTED)
        answered = await recorder.wait_for("102", "answered")
        assert answered.vendor == {"resynchronised": True}
        assert answered.line_state is LineState.TALKING
        await wait_until(lambda: client.connected)
        assert lines(client)["101"] == "talking"
    lost = [r for r in caplog.records if "Lost connection" in r.getMessage()]
    restored = [r for r in caplog.records if "restored" in r.getMessage()]
    assert (len(lost), len(restored)) == (1, 1)


async def test_reconnects_with_backoff_when_the_pbx_is_gone(socket_enabled):
    config = SimulatorConfig(port=0, extensions=("101",), keepalive_interval=0.2)
    first = PanasonicSimulator(config)
    await first.start()
    port = first.port
    client = PanasonicClient(
        PanasonicConfig(host="127.0.0.1", port=port), reconnect_policy=fast_policy()
    )
    states: list[ConnectionState] = []
    client.subscribe_connection_state(states.append)
    await client.connect()
    await first.stop()
    await wait_until(lambda: client.connection_state is ConnectionState.RECONNECTING)
    # attempts after 0.05, 0.15 and 0.35 s are refused: the backoff keeps counting
    await wait_until(lambda: client._policy.attempts >= 3)
    second = PanasonicSimulator(SimulatorConfig(port=port, extensions=("101",)))
    await second.start()
    try:
        await wait_until(lambda: client.connected, timeout=5)
        assert states == ["connecting", "connected", "reconnecting", "connected"]
    finally:
        await client.close()
        await second.stop()


async def test_a_stalled_pbx_is_declared_dead_and_comes_back(simulator, make_client, caplog):
    """A stopped PBX process: TCP stays up, nothing answers; the probe finds out."""
    client = make_client(link_timeout=0.6)
    await client.connect()
    try:
        simulator.freeze()
        await wait_until(lambda: client.connection_state is ConnectionState.RECONNECTING)
        assert "no answer from the PBX for 0.6 s" in caplog.text
        simulator.freeze(False)
        await wait_until(lambda: client.connected)
    finally:
        await client.close()


async def test_falls_back_to_configured_extensions(simulator, make_client):
    simulator.set_device_list(False)
    async with make_client(extensions=("102", "104", "999")) as client:
        # 999 does not exist: the PBX refuses its monitor and the client carries on
        assert list(client.extensions) == ["102", "104"]
    simulator.set_device_list(False)
    with pytest.raises(DiscoveryFailed, match="none are configured"):
        await make_client().connect()


async def test_configured_extensions_add_to_discovered_ones(simulator, make_client):
    async with make_client(extensions=("101", "999")) as client:
        assert list(client.extensions) == list(EXTENSIONS)


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(port=0, extensions=EXTENSIONS, credentials=Credentials("cti", "s3cret"))],
)
async def test_login(simulator, make_client):
    with pytest.raises(AuthenticationFailed, match="authentication-required"):
        await make_client().connect()
    with pytest.raises(AuthenticationFailed, match="authentication-failure"):
        await make_client(username="cti", password="wrong").connect()
    async with make_client(username="cti", password="s3cret") as client:
        assert client.connected


async def raw_association(port: int):
    """A hand-driven client: associates and monitors 101, never answers anything."""
    link = await open_tcp_link("127.0.0.1", port, TcpFramer())
    await link.send(Aarq().encode())
    assert decode_pdu(await link.receive()).kind == "aare"
    argument = {"monitorObject": ("deviceObject", device_id("101"))}
    await link.send(Invoke(500, Opcode.MONITOR_START, argument).encode())
    return link


async def next_pdus(link, seconds: float):
    pdus = []
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                pdus.append(decode_pdu(await link.receive()))
    return pdus


async def test_a_client_that_stops_answering_keepalives_gets_no_more_events(simulator):
    link = await raw_association(simulator.port)
    try:
        (session,) = simulator.sessions
        await wait_until(lambda: session.events_suspended, timeout=2)
        simulator.pbx.make_call("101", "102")
        pdus = await next_pdus(link, 0.5)
        assert {p.operation for p in pdus if isinstance(p, Invoke)} == {"systemStatus"}
    finally:
        await link.close()


async def test_answering_the_first_keepalive_makes_the_pbx_ignore_requests(simulator):
    link = await open_tcp_link("127.0.0.1", simulator.port, TcpFramer())
    try:
        await link.send(Aarq().encode())
        assert decode_pdu(await link.receive()).kind == "aare"
        keepalive = decode_pdu(await link.receive())
        assert isinstance(keepalive, Invoke)
        assert keepalive.invoke_id == 1
        await link.send(ReturnResult(1, Opcode.SYSTEM_STATUS, ("noData", None)).encode())
        argument = {"monitorObject": ("deviceObject", device_id("101"))}
        await link.send(Invoke(7, Opcode.MONITOR_START, argument).encode())
        pdus = await next_pdus(link, 0.5)
        assert not [p for p in pdus if getattr(p, "invoke_id", None) == 7 and p.kind != "invoke"]
        assert simulator.sessions[0].ignoring_requests
    finally:
        await link.close()


async def test_a_quiet_pbx_that_answers_probes_stays_connected(simulator, make_client):
    simulator.set_keepalives(False)
    client = make_client(link_timeout=0.4)
    await client.connect()
    try:
        for _ in range(8):  # 0.8 s of events, twice the link timeout
            call = simulator.pbx.make_call("101", "102")
            await asyncio.sleep(0.05)
            simulator.pbx.clear_connection("101", call)
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # then silence: only the probes' answers arrive
        assert client.connected
        simulator.freeze()
        await wait_until(lambda: client.connection_state is ConnectionState.RECONNECTING)
    finally:
        simulator.freeze(False)
        await client.close()


async def test_close_in_a_task_being_cancelled_still_closes(simulator, make_client):
    """Clean-up code often runs while its task is being cancelled (a Ctrl-C)."""
    client = make_client()
    await client.connect()
    task = asyncio.current_task()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(1)  # the cancellation arrives here and is caught
    try:
        with pytest.raises(asyncio.CancelledError):  # and still goes through close
            await client.close()
    finally:
        task.uncancel()
    assert client.connection_state is ConnectionState.CLOSED
    assert client._session is None
    await wait_until(lambda: not simulator.sessions)  # the PBX saw the link close
