"""The AlphaCom simulator on a real loopback socket, and a client connected to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from pbx_protocols.alphacom import AlphaComClient, AlphaComConfig, LinkLayerKind
from pbx_protocols.alphacom.simulator import AlphaComSimulator, SimulatorConfig
from pbx_protocols.core.model import CallEvent

STATIONS = tuple(str(n) for n in range(101, 111))


@pytest.fixture
def alphacom_config() -> SimulatorConfig:
    return SimulatorConfig(port=0, stations=STATIONS)


@pytest.fixture
async def exchange(socket_enabled, alphacom_config) -> AsyncIterator[AlphaComSimulator]:
    async with AlphaComSimulator(alphacom_config) as simulator:
        yield simulator


def client_for(simulator: AlphaComSimulator, **options) -> AlphaComClient:
    config = AlphaComConfig(
        host="127.0.0.1",
        port=simulator.port,
        stations=STATIONS,
        link=options.pop("link", LinkLayerKind.AUTO),
        **options,
    )
    return AlphaComClient(config)


@pytest.fixture
async def alphacom(exchange) -> AsyncIterator[AlphaComClient]:
    client = client_for(exchange)
    await client.connect()
    yield client
    await client.close()


async def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def recorder(client: AlphaComClient) -> list[CallEvent]:
    events: list[CallEvent] = []
    client.subscribe_events(events.append)
    return events
