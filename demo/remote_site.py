"""The demo's branch office: a second simulated PBX, bridged to a local mosquitto.

Home Assistant reaches it the way it reaches any remote site: through its own MQTT
integration and the ``pbx`` integration's "Remote PBX through an MQTT bridge". Without
mosquitto on the machine the branch is left out, and the demo says how to add it.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig
from pbx_protocols.remote.bridge import Bridge
from pbx_protocols.remote.mqtt import MqttPubSub, MqttSettings
from pbx_protocols.remote.scheme import Topics

from .mosquitto import Mosquitto, free_port

SITE: Final = "branch"
EXTENSIONS: Final = ("201", "202", "203", "204")
#: The broker keeps its port from one demo to the next (Home Assistant's MQTT entry has it).
PORT_FILE: Final = "mosquitto.port"


def broker_port(directory: Path, wanted: int | None) -> tuple[int, bool]:
    """The port asked for, else the one used last time, else a free one (remembered).

    Also whether it differs from last time's.
    """
    directory.mkdir(parents=True, exist_ok=True)
    remembered = directory / PORT_FILE
    previous = int(remembered.read_text()) if remembered.exists() else None
    port = wanted or previous or free_port()
    remembered.write_text(str(port))
    return port, port != previous


class BranchSite:
    """mosquitto, the branch's simulated PBX and its bridge (``async with``)."""

    def __init__(self, directory: Path, port: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.broker = Mosquitto(directory, port=port)
        self.simulator = PanasonicSimulator(
            SimulatorConfig(port=None, extensions=EXTENSIONS, scenario="basic-call")
        )
        client = PanasonicClient(PanasonicConfig(open_link=self.simulator.open_memory_link))
        self.pubsub = MqttPubSub(MqttSettings.from_url(self.broker.url))
        # The demo's Home Assistant reaches the branch through the pbx integration, so the
        # bridge's own MQTT discovery would only show every extension twice.
        self.bridge = Bridge(client, self.pubsub, Topics(SITE), discovery=False)
        self.pubsub.will = self.bridge.will

    @property
    def port(self) -> int:
        """The broker's port."""
        return self.broker.port

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.broker.start)
        try:
            await self.simulator.start()
            await self.bridge.start()
        except BaseException:
            await asyncio.to_thread(self.broker.kill)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            with contextlib.suppress(Exception):
                await self.bridge.stop()
        finally:
            try:
                await self.pubsub.stop()
                await self.simulator.stop()
            finally:
                self.broker.kill()  # a kill and a wait for a process already dying
