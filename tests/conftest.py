"""Fixtures shared by every test."""

from __future__ import annotations

# Import the project's custom_components before the test harness puts its own package of
# that name on the path; otherwise Home Assistant finds no custom integration
# (a known quirk of the test harness).
import custom_components.pbx  # noqa: F401  # isort: skip

import asyncio
from collections.abc import AsyncIterator

import pytest

from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig
from tests.clock import EventLoopClockAdvancer


@pytest.fixture
async def time_travel() -> EventLoopClockAdvancer:
    """Advance the running loop's clock: ``await time_travel(60)`` fires due timers."""
    loop = asyncio.get_running_loop()
    advancer = EventLoopClockAdvancer(loop)
    yield advancer
    advancer.restore()


@pytest.fixture
async def simulator(
    socket_enabled: None, simulator_config: SimulatorConfig
) -> AsyncIterator[PanasonicSimulator]:
    """The simulated Panasonic PBX on a real loopback socket; each folder configures it."""
    async with PanasonicSimulator(simulator_config) as simulator:
        yield simulator
