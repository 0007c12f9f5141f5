"""AlphaComClient against the simulator over real sockets and a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pbx_protocols.alphacom import AlphaComClient, AlphaComConfig, LinkLayerKind
from pbx_protocols.alphacom.simulator import AlphaComSimulator, Faults, SimulatorConfig
from pbx_protocols.core.errors import CommandRejected, ConnectionFailed, InvalidInput, Refusal
from pbx_protocols.core.model import CallEventKind, LineState
from tests.alphacom.conftest import STATIONS, client_for, recorder, wait_until


def story(events, extension):
    return [(e.kind.value, e.line_state.value, e.peer) for e in events if e.extension == extension]


def line(client, number):
    return client.extension(number).line_state


@pytest.mark.parametrize("link", ["sll", "sdll"])
async def test_a_call_as_the_broadcasts_tell_it(socket_enabled, link):
    config = SimulatorConfig(port=0, stations=STATIONS, link=LinkLayerKind(link))
    async with AlphaComSimulator(config) as exchange, client_for(exchange) as client:
        events = recorder(client)
        exchange.exchange.call("101", "102")
        await wait_until(lambda: line(client, "102") is LineState.RINGING)
        assert line(client, "101") is LineState.DIALING
        exchange.exchange.answer("102")
        await wait_until(lambda: line(client, "101") is LineState.TALKING)
        exchange.exchange.hang_up("101")
        await wait_until(lambda: line(client, "102") is LineState.IDLE)
    assert story(events, "102") == [
        ("ringing", "ringing", "101"),
        ("answered", "talking", "101"),
        ("ended", "idle", "101"),
    ]
    assert story(events, "101") == [
        ("originated", "dialing", "102"),
        ("answered", "talking", "102"),
        ("ended", "idle", "102"),
    ]
    assert len({e.call_id for e in events}) == 1


async def test_call_control_reaches_the_exchange(alphacom, exchange):
    events = recorder(alphacom)
    await alphacom.make_call("103", "104")
    await wait_until(lambda: line(alphacom, "104") is LineState.RINGING)
    await alphacom.answer_call("104")
    await wait_until(lambda: line(alphacom, "103") is LineState.TALKING)
    await alphacom.dial_digits("103", "55")
    await wait_until(lambda: exchange.station("103")["dialled"] == "55")
    await alphacom.hang_up("104")
    await wait_until(lambda: line(alphacom, "103") is LineState.IDLE)
    assert [e.kind for e in events if e.extension == "104"] == [
        CallEventKind.RINGING,
        CallEventKind.ANSWERED,
        CallEventKind.ENDED,
    ]


async def test_display_text_and_message_show_in_the_station_state(alphacom, exchange):
    await alphacom.display_text("105", "Tür offen")
    await wait_until(lambda: exchange.station("105")["display"] == "Tür offen")
    await alphacom.send_message("106", "Call reception")
    await wait_until(lambda: exchange.station("106")["mail"])
    assert exchange.station("106")["mail"] == [{"from": None, "text": "Call reception"}]


async def test_bad_input_is_refused_before_anything_is_sent(alphacom, exchange):
    before = exchange.bad_input
    with pytest.raises(InvalidInput, match="'€'"):
        await alphacom.display_text("105", "5 €")
    with pytest.raises(InvalidInput, match="longer than 40"):
        await alphacom.display_text("105", "x" * 41)
    with pytest.raises(InvalidInput, match="at most 16"):
        await alphacom.send_message("105", "a message of more than sixteen")
    with pytest.raises(InvalidInput, match="ab"):
        await alphacom.make_call("101", "12ab")
    with pytest.raises(InvalidInput, match="digit string"):
        await alphacom.make_call("101", "*12")
    await asyncio.sleep(0.1)
    assert exchange.station("105")["display"] == ""
    assert exchange.bad_input == before


async def test_refusals_are_typed(alphacom, exchange):
    await alphacom.make_call("101", "102")
    await wait_until(lambda: line(alphacom, "102") is LineState.RINGING)
    with pytest.raises(CommandRejected) as busy:
        await alphacom.make_call("103", "102")
    assert busy.value.refusal is Refusal.NUMBER_BUSY
    with pytest.raises(CommandRejected) as unknown:
        await alphacom.make_call("103", "999")
    assert unknown.value.refusal is Refusal.NUMBER_UNKNOWN
    exchange.exchange.set_down("104", True)
    with pytest.raises(CommandRejected) as down:
        await alphacom.make_call("103", "104")
    assert down.value.refusal is Refusal.NUMBER_OUT_OF_SERVICE


async def test_transfer(alphacom, exchange):
    await alphacom.make_call("101", "102")
    await wait_until(lambda: line(alphacom, "102") is LineState.RINGING)
    await alphacom.answer_call("102")
    await wait_until(lambda: line(alphacom, "101") is LineState.TALKING)
    await alphacom.transfer_call("102", "107")
    await wait_until(lambda: line(alphacom, "107") is LineState.RINGING)
    assert alphacom.extension("107").current_call.peer == "101"
    assert line(alphacom, "102") is LineState.IDLE


async def test_call_request_from_a_door_station(alphacom, exchange):
    events = recorder(alphacom)
    exchange.exchange.call_request("110", "101")
    await wait_until(lambda: events)
    (event,) = events
    assert (event.extension, event.kind, event.peer) == ("110", CallEventKind.CALL_REQUEST, "101")


async def test_stations_named_by_broadcasts_are_learned(exchange):
    client = AlphaComClient(AlphaComConfig(host="127.0.0.1", port=exchange.port))
    async with client:
        assert client.extension_numbers == []
        exchange.exchange.call("108", "109")
        await wait_until(lambda: set(client.extension_numbers) == {"108", "109"})


@pytest.mark.parametrize("alphacom_config", [SimulatorConfig(port=0, answers=False)])
async def test_an_exchange_that_answers_nothing_is_still_monitored(exchange, caplog):
    caplog.set_level(logging.INFO)
    async with client_for(exchange, link_timeout=3.0) as client:
        assert client.device_info is None
        exchange.exchange.call("101", "102")
        await wait_until(lambda: line(client, "102") is LineState.RINGING)
        await client.make_call("103", "104")  # no answer is no error here
        await wait_until(lambda: line(client, "104") is LineState.RINGING)
        await asyncio.sleep(3.5)  # a probe goes unanswered: logged, not fatal
        assert client.connected
    said = [r.getMessage() for r in caplog.records if "answers no requests" in r.getMessage()]
    assert len(said) == 1


async def test_a_second_client_gets_a_clear_error(alphacom, exchange):
    second = client_for(exchange)
    with pytest.raises(ConnectionFailed, match="one connection at a time"):
        await second.connect()
    assert exchange.refused_clients == 1


async def test_reconnects_and_forgets_calls_it_could_not_follow(exchange, caplog):
    from pbx_protocols.core.reconnect import ReconnectPolicy

    policy = ReconnectPolicy(initial=0.05, fast_maximum=0.1, jitter=0)
    client = AlphaComClient(
        AlphaComConfig(host="127.0.0.1", port=exchange.port, stations=STATIONS),
        reconnect_policy=policy,
    )
    async with client:
        exchange.exchange.call("101", "102")
        await wait_until(lambda: line(client, "102") is LineState.RINGING)
        await exchange.drop_links()
        exchange.exchange.hang_up("101")  # happens while nobody listens
        await wait_until(lambda: not client.connected)
        await wait_until(lambda: client.connected)
        assert line(client, "102") is LineState.IDLE
        exchange.exchange.call("103", "104")
        await wait_until(lambda: line(client, "104") is LineState.RINGING)
    lost = [r for r in caplog.records if "Lost connection" in r.getMessage()]
    assert len(lost) == 1


@pytest.mark.parametrize("link", [LinkLayerKind.DATA_LINK, LinkLayerKind.ISO1745])
async def test_over_a_real_pty_through_serialx(socket_enabled, link):
    # The client's link layer is auto: it recognises frames or polls.
    config = SimulatorConfig(pty=True, stations=STATIONS, link=link)
    async with AlphaComSimulator(config) as exchange:
        assert exchange.pty_path
        client = AlphaComClient(AlphaComConfig(serial=exchange.pty_path, stations=STATIONS))
        async with client:
            assert client.device_info is not None  # answered through the pty
            exchange.exchange.call("101", "102")
            await wait_until(lambda: line(client, "102") is LineState.RINGING)
            await client.display_text("102", "via serial")
            await wait_until(lambda: exchange.station("102")["display"] == "via serial")


LOSSY = SimulatorConfig(
    port=0,
    stations=STATIONS,
    link=LinkLayerKind.DATA_LINK,
    seed=7,
    faults=Faults(drop=0.1, corrupt=0.1),
)


@pytest.mark.parametrize("alphacom_config", [LOSSY])
async def test_data_link_over_a_lossy_socket(exchange):
    async with client_for(exchange, link=LinkLayerKind.DATA_LINK) as client:
        for _ in range(5):
            exchange.exchange.call("101", "102")
            exchange.exchange.answer("102")
            exchange.exchange.hang_up("101")
        await wait_until(lambda: client.extension("102").line_state is LineState.IDLE, 20)
        events = recorder(client)
        exchange.exchange.call("103", "104")
        await wait_until(lambda: line(client, "104") is LineState.RINGING, 20)
        assert [e.kind for e in events if e.extension == "104"] == [CallEventKind.RINGING]
