"""A real mosquitto for tests: on a free loopback port, killed and restarted at will."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pbx_protocols.panasonic import PanasonicClient, PanasonicConfig
from pbx_protocols.panasonic.simulator import PanasonicSimulator
from pbx_protocols.remote.bridge import Bridge
from pbx_protocols.remote.mqtt import MqttPubSub, MqttSettings
from pbx_protocols.remote.scheme import Topics
from tests.common import wait_until

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


class Bridged:
    """The simulated PBX over TCP, its client, and a bridge on the real broker."""

    def __init__(
        self,
        broker: Mosquitto,
        simulator: PanasonicSimulator,
        site: str = "branch",
        *,
        discovery: bool = True,
        **pubsub,
    ) -> None:
        self.simulator = simulator
        self.client = PanasonicClient(PanasonicConfig(host="127.0.0.1", port=simulator.port))
        self.topics = Topics(site)
        self.pubsub = MqttPubSub(MqttSettings.from_url(broker.url), **pubsub)
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
