"""Fixtures: a simulated PBX on a real loopback socket, and clients for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pbx_protocols.core.model import CallEvent, CallEventKind
from pbx_protocols.core.reconnect import ReconnectPolicy
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.simulator import SimulatorConfig
from tests.common import wait_until  # noqa: F401  # re-exported for the tests here
from tests.panasonic.scripted import ScriptedPbx

EXTENSIONS = ("101", "102", "103", "104")


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    return SimulatorConfig(port=0, extensions=EXTENSIONS, keepalive_interval=0.2)


def fast_policy() -> ReconnectPolicy:
    return ReconnectPolicy(initial=0.05, maximum=0.4, jitter=0.0)


@pytest.fixture
def make_client(simulator) -> Callable[..., PanasonicClient]:
    def make(**options: Any) -> PanasonicClient:
        config = PanasonicConfig(
            host="127.0.0.1", port=simulator.port, **{"link_timeout": 2.0, **options}
        )
        return PanasonicClient(config, reconnect_policy=fast_policy())

    return make


class EventRecorder:
    """Collects a client's events and waits for the ones a test expects."""

    def __init__(self) -> None:
        self.history: list[CallEvent] = []
        self._pending: list[CallEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: CallEvent) -> None:
        self.history.append(event)
        self._pending.append(event)
        self._changed.set()

    def of(self, extension: str) -> list[tuple[str, str]]:
        return [
            (e.kind.value, e.line_state.value) for e in self.history if e.extension == extension
        ]

    async def wait_for(
        self, extension: str, kind: CallEventKind | str, *, timeout: float = 3.0
    ) -> CallEvent:
        """Wait for the next matching event not yet returned by an earlier wait."""
        async with asyncio.timeout(timeout):
            while True:
                for index, event in enumerate(self._pending):
                    if event.extension == extension and event.kind == kind:
                        del self._pending[index]
                        return event
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
async def pbx(socket_enabled) -> AsyncIterator[ScriptedPbx]:
    scripted = ScriptedPbx()
    await scripted.start()
    yield scripted
    await scripted.stop()
