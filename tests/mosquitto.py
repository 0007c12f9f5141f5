"""A real mosquitto for tests: on a free loopback port, killed and restarted at will."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.mosquitto import MOSQUITTO, Mosquitto
from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.simulator import PanasonicSimulator
from pbx_protocols.remote.bridge import Bridge
from pbx_protocols.remote.mqtt import MqttPubSub, MqttSettings
from pbx_protocols.remote.scheme import Topics
from tests.common import wait_until

needs_mosquitto = pytest.mark.skipif(
    MOSQUITTO is None,
    reason="mosquitto is not installed (apt-get install mosquitto mosquitto-clients; "
    "script/setup does this when it runs as root)",
)


@pytest.fixture
def mosquitto(socket_enabled, tmp_path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()


class Bridged:
    """The simulated PBX over TCP, its client, and a bridge on the real broker."""

    def __init__(
        self,
        broker: Mosquitto,
        simulator: PanasonicSimulator,
        site: str = "branch",
        *,
        discovery: bool = True,
        url: str | None = None,
        **pubsub,
    ) -> None:
        self.simulator = simulator
        self.client = PanasonicClient(PanasonicConfig(host="127.0.0.1", port=simulator.port))
        self.topics = Topics(site)
        self.pubsub = MqttPubSub(MqttSettings.from_url(url or broker.url), **pubsub)
        self.bridge = Bridge(self.client, self.pubsub, self.topics, discovery=discovery)
        self.pubsub.will = self.bridge.will

    async def __aenter__(self) -> Bridged:
        await self.bridge.start()
        await wait_until(lambda: self.client.connected and self.pubsub.connected, timeout=10)
        await self.pubsub.flushed()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.bridge.stop()
        await self.pubsub.stop()
