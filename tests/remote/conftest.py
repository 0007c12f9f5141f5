"""A bridged site in memory: the simulated Panasonic PBX, its client, a bridge, a broker."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
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

SCHEMAS = Path(__file__).parents[2] / "pbx_protocols" / "remote" / "schemas"
EXTENSIONS = ("101", "102", "103", "104")


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def kind_of(topics: Topics, topic: str) -> str | None:
    """Which payload a topic carries (None: not one of the scheme's)."""
    rest = topic.removeprefix(topics.base + "/")
    if rest in ("status", "info", "event", "record"):
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


MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mosquitto:
    """A real mosquitto on a free loopback port, which tests may kill and restart."""

    def __init__(self, directory: Path, *, password: str | None = None) -> None:
        self.port = free_port()
        self.directory = directory
        self.config = directory / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "log_dest stderr"]
        if password is None:
            lines.append("allow_anonymous true")
        else:
            passwords = directory / "passwords"
            passwords.write_text(f"bridge:{password}\n")
            passwords.chmod(0o600)
            subprocess.run(["mosquitto_passwd", "-U", str(passwords)], check=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert MOSQUITTO is not None
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "mosquitto.log").open("ab"),
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


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
