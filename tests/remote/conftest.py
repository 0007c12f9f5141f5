"""A bridged site in memory: the simulated Panasonic PBX, its client, a bridge, a broker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig
from pbx_protocols.remote.bridge import Bridge
from pbx_protocols.remote.client import RemoteClient
from pbx_protocols.remote.pubsub import MemoryBroker
from pbx_protocols.remote.scheme import Topics
from tests.common import wait_until
from tests.mosquitto import Mosquitto, mosquitto, needs_mosquitto

__all__ = ["Mosquitto", "mosquitto", "needs_mosquitto"]

SCHEMAS = Path(__file__).parents[2] / "pbx_protocols" / "remote" / "schemas"
EXTENSIONS = ("101", "102", "103", "104")


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def kind_of(topics: Topics, topic: str) -> str | None:
    """Which payload a topic carries (None: not one of the scheme's)."""
    rest = topic.removeprefix(topics.base + "/")
    if rest in ("status", "info", "event", "record", "discovery"):
        return rest
    parts = rest.split("/")
    if parts[0] == "extension":
        return "extension" if len(parts) == 2 else "event"
    if parts[0] in ("command", "response"):
        return parts[0]
    return None


def validate(topics: Topics, topic: str, payload: bytes) -> None:
    kind = kind_of(topics, topic)
    if kind is not None and payload:
        jsonschema.validate(json.loads(payload), schema(kind))


@dataclass
class Site:
    simulator: PanasonicSimulator
    broker: MemoryBroker
    bridge: Bridge
    topics: Topics

    def payloads(self, topic: str) -> list[dict]:
        return [json.loads(p) for t, p, _ in self.broker.log if t == topic and p]


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    config = SimulatorConfig(port=None, extensions=EXTENSIONS, keepalive_interval=60)
    async with PanasonicSimulator(config) as simulator:
        client = PanasonicClient(
            PanasonicConfig(open_link=simulator.open_memory_link, call_records=True)
        )
        broker = MemoryBroker()
        topics = Topics("hq")
        bridge = Bridge(client, broker, topics)
        await bridge.start()
        await wait_until(lambda: client.connected)
        try:
            yield Site(simulator, broker, bridge, topics)
        finally:
            await bridge.stop()


@pytest.fixture
async def remote(site: Site) -> AsyncIterator[RemoteClient]:
    client = RemoteClient(site.broker, "hq")
    async with client:
        yield client
