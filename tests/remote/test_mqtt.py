"""The bridge and the remote client through a real mosquitto, and the command line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import pytest

from pbx_protocols.core.reconnect import ReconnectPolicy
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig
from pbx_protocols.remote.client import RemoteClient
from pbx_protocols.remote.mqtt import MqttPubSub, MqttSettings
from pbx_protocols.remote.scheme import encode
from tests.common import wait_until
from tests.mosquitto import Bridged, Mosquitto, make_certificates, needs_mosquitto
from tests.remote.conftest import EXTENSIONS, validate

pytestmark = needs_mosquitto


@pytest.fixture
async def simulator(socket_enabled):
    config = SimulatorConfig(port=0, extensions=EXTENSIONS, keepalive_interval=60)
    async with PanasonicSimulator(config) as simulator:
        yield simulator


def subscribe_once(broker: Mosquitto, topic: str, count: int) -> list[tuple[str, dict]]:
    """What a plain ``mosquitto_sub`` shows (retained messages first)."""
    out = subprocess.run(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic,
         "-v", "-C", str(count), "-W", "10"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [(line.split(" ", 1)[0], json.loads(line.split(" ", 1)[1])) for line in out.splitlines()]


async def test_mosquitto_sub_shows_the_retained_site(mosquitto, simulator):
    async with Bridged(mosquitto, simulator) as site:
        shown = await asyncio.to_thread(subscribe_once, mosquitto, "pbx/branch/#", 6)
        topics = dict(shown)
        assert topics["pbx/branch/status"] == {"v": 1, "state": "online", "link": "connected"}
        assert topics["pbx/branch/info"]["extensions"] == list(EXTENSIONS)
        assert topics["pbx/branch/extension/101"]["state"] == "idle"
        for topic, payload in shown:
            validate(site.topics, topic, json.dumps(payload).encode())


async def test_commands_through_the_broker(mosquitto, simulator):
    async with Bridged(mosquitto, simulator) as site:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as listener:
            await listener.subscribe("pbx/branch/response/+")
            bad = encode({"id": "bad1", "extension": "101", "number": "55x5"})
            await listener.publish("pbx/branch/command/make_call", bad, qos=1)
            good = encode({"id": "good1", "extension": "101", "number": "102"})
            await listener.publish("pbx/branch/command/make_call", good, qos=1)
            answers = {}
            async with asyncio.timeout(10):
                async for message in listener.messages:
                    payload = json.loads(message.payload)
                    answers[payload["id"]] = payload
                    if len(answers) == 2:
                        break
        assert answers["bad1"]["error"]["type"] == "InvalidInput"
        assert "contains 'x'" in answers["bad1"]["error"]["message"]
        assert answers["good1"]["ok"] is True
        (call,) = site.simulator.pbx.calls.values()  # only the good one reached the PBX
        assert call.called == "102"


async def test_a_broker_restart_loses_no_event(mosquitto, simulator, caplog):
    slow = ReconnectPolicy(initial=2.0, fast_maximum=2.0, jitter=0.0)
    async with Bridged(mosquitto, simulator, policy=slow) as site:
        mosquitto.kill()
        await wait_until(lambda: not site.pubsub.connected)
        call = simulator.pbx.make_call("101", "102")  # while the broker is away
        simulator.pbx.answer("102", call)
        simulator.pbx.clear_connection("101", call)
        await wait_until(lambda: site.client.extension("102").line_state.value == "idle")
        assert site.client.connected  # the PBX link never noticed
        mosquitto.start()
        received = []
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as listener:
            await listener.subscribe("pbx/branch/event", qos=1)
            async with asyncio.timeout(15):
                async for message in listener.messages:
                    received.append(json.loads(message.payload)["event"])
                    if received.count("ended") == 2:
                        break
        assert received.count("ringing") == 1 and received.count("answered") == 2
        # the state was published again: the restarted broker holds it
        shown = dict(await asyncio.to_thread(subscribe_once, mosquitto, "pbx/branch/status", 1))
        assert shown["pbx/branch/status"]["state"] == "online"
        assert site.pubsub.dropped == 0
    assert caplog.text.count("Lost the MQTT broker") == 1  # once, not per attempt
    assert caplog.text.count("is back") == 1


@pytest.mark.timeout(60)
def test_a_killed_bridge_is_offline_by_its_last_will(mosquitto):
    bridge = cli("simulate", "remote", "--mqtt", mosquitto.url, "--site", "kiosk")
    try:
        assert json.loads(bridge.stdout.readline())["site"] == "kiosk"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = dict(subscribe_once(mosquitto, "pbx/kiosk/status", 1))["pbx/kiosk/status"]
            if status["link"] == "connected":
                break
            time.sleep(0.2)
        assert status == {"v": 1, "state": "online", "link": "connected"}
    finally:
        bridge.send_signal(signal.SIGKILL)  # no goodbye: the broker says it
        bridge.wait()
    shown = dict(subscribe_once(mosquitto, "pbx/kiosk/status", 1))
    assert shown["pbx/kiosk/status"]["state"] == "offline"


async def test_a_remote_client_follows_the_site(mosquitto, simulator):
    async with Bridged(mosquitto, simulator):
        pubsub = MqttPubSub(MqttSettings.from_url(mosquitto.url))
        remote = RemoteClient(pubsub, "branch", close_pubsub=pubsub.stop)
        async with remote:
            assert remote.extension_numbers == list(EXTENSIONS)
            await remote.make_call("103", "104")
            await wait_until(lambda: remote.extension("104").line_state.value == "ringing")
            await simulator.stop()  # the PBX goes away: the site's lines are unknown
            await wait_until(lambda: not remote.connected, timeout=10)


def cli(*args: str, **kwargs) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pbx_protocols", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )  # fmt: skip


@pytest.mark.timeout(120)
def test_monitor_remote_prints_what_monitor_prints(mosquitto, tmp_path):
    """The acceptance run: simulate, bridge, and two monitors side by side."""
    from demo.mosquitto import free_port

    port = free_port()
    env = {**os.environ, "MQTT_SECRET": "not-needed"}
    processes = [
        cli("simulate", "panasonic", "--listen", f"127.0.0.1:{port}", "--extensions", "101-104"),
    ]
    try:
        time.sleep(1.5)
        processes.append(
            cli("bridge", "panasonic", "--host", "127.0.0.1", "--port", str(port),
                "--mqtt", mosquitto.url, "--site", "shop", "--mqtt-password-env", "MQTT_SECRET",
                env=env)
        )  # fmt: skip
        time.sleep(2.0)
        local = cli("monitor", "panasonic", "--host", "127.0.0.1", "--port", str(port),
                    "--duration", "8")  # fmt: skip
        remote = cli("monitor", "remote", "--mqtt", mosquitto.url, "--site", "shop",
                     "--duration", "8")  # fmt: skip
        time.sleep(3.0)
        subprocess.run(
            [sys.executable, "-m", "pbx_protocols", "call", "panasonic", "--host", "127.0.0.1",
             "--port", str(port), "--from", "101", "--to", "102"],
            check=True, capture_output=True,
        )  # fmt: skip
        local_out, _ = local.communicate(timeout=30)
        remote_out, remote_err = remote.communicate(timeout=30)
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        bridge_err = ""
        for process in processes:
            _, err = process.communicate(timeout=15)
            bridge_err += err

    def events(text: str) -> list[tuple]:
        lines = [json.loads(line) for line in text.splitlines()]
        return [(e["extension"], e["event"], e["call_id"]) for e in lines if "event" in e]

    assert events(local_out), local_out
    assert events(remote_out) == events(local_out), remote_err
    assert "not-needed" not in bridge_err + remote_err


@pytest.mark.timeout(60)
async def test_a_broker_login_works_and_never_shows_in_the_log(socket_enabled, tmp_path, caplog):
    broker = Mosquitto(tmp_path, users={"bridge": "s3cret-pw"})
    broker.start()
    policy = ReconnectPolicy(initial=0.05, maximum=0.2, jitter=0.0)
    try:
        wrong = MqttPubSub(
            MqttSettings.from_url(f"mqtt://bridge:wrong-pw@127.0.0.1:{broker.port}"), policy=policy
        )
        await wrong.start()
        await asyncio.sleep(1.0)  # several refused attempts
        assert not wrong.connected
        await wrong.stop()
        url = f"mqtt://bridge@127.0.0.1:{broker.port}"
        right = MqttPubSub(MqttSettings.from_url(url, password="s3cret-pw"), policy=policy)
        await right.start()
        await asyncio.wait_for(right.wait_connected(), 10)
        assert "s3cret-pw" not in repr(right.settings)
        await right.stop()
    finally:
        broker.kill()
    assert "wrong-pw" not in caplog.text and "s3cret-pw" not in caplog.text
    assert caplog.text.count("Lost the MQTT broker") <= 1  # said once, not per attempt


def readme_acl() -> str:
    """The mosquitto ACL the README gives, exactly."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("# /etc/mosquitto/acl", 1)[1].split("```", 1)[0]
    return block.split("\n", 1)[1]


@pytest.mark.timeout(60)
async def test_the_readme_acl_confines_each_bridge_to_its_site(socket_enabled, tmp_path, simulator):
    users = {"hq": "hq-pw", "homeassistant": "ha-pw", "intruder": "in-pw"}
    broker = Mosquitto(tmp_path, users=users, acl=readme_acl())
    broker.start()

    def url(user: str) -> str:
        return f"mqtt://{user}:{users[user]}@127.0.0.1:{broker.port}"

    home = MqttPubSub(MqttSettings.from_url(url("homeassistant")))
    seen: list[str] = []
    try:
        await home.subscribe("pbx/#", lambda topic, _: seen.append(topic))
        await home.subscribe("homeassistant/#", lambda topic, _: seen.append(topic))
        async with (
            Bridged(broker, simulator, "hq", url=url("hq")),
            Bridged(broker, simulator, "other", url=url("hq")),  # hq's login, another site
        ):
            await wait_until(lambda: "pbx/hq/extension/104" in seen, timeout=10)
            assert "homeassistant/device/pbx_hq/pbx_hq/config" in seen
            intruder = MqttPubSub(MqttSettings.from_url(url("intruder")))
            command = encode({"id": "x1", "extension": "101", "number": "102"})
            await intruder.publish("pbx/hq/command/make_call", command, qos=1)
            await intruder.flushed()
            await intruder.stop()
            await home.publish("pbx/hq/command/make_call", command.replace(b"x1", b"h1"), qos=1)
            await wait_until(lambda: "pbx/hq/response/h1" in seen, timeout=10)
            assert "pbx/hq/response/x1" not in seen  # the broker dropped the intruder's
            assert not [topic for topic in seen if "other" in topic]
    finally:
        await home.stop()
        broker.kill()


@pytest.mark.timeout(60)
async def test_while_the_broker_is_away_the_oldest_go_first_and_are_counted(
    socket_enabled, tmp_path, caplog
):
    broker = Mosquitto(tmp_path)  # not started yet: the broker is away
    policy = ReconnectPolicy(initial=0.05, maximum=0.2, jitter=0.0)
    pubsub = MqttPubSub(MqttSettings.from_url(broker.url), policy=policy, max_buffered=3)
    got: list[bytes] = []
    try:
        await pubsub.subscribe("t/#", lambda _, data: got.append(data))
        for n in range(5):
            await pubsub.publish("t/event", str(n).encode(), qos=1)
        await pubsub.publish("t/state", b"old", qos=1, retain=True)
        await pubsub.publish("t/state", b"latest", qos=1, retain=True)  # state is never dropped
        assert pubsub.dropped == 2
        broker.start()
        await wait_until(lambda: len(got) >= 4, timeout=10)
        await pubsub.flushed()
        assert got == [b"latest", b"2", b"3", b"4"]
    finally:
        await pubsub.stop()
        broker.kill()
    assert caplog.text.count("MQTT outbox full") == 1  # then counted, not repeated


@pytest.mark.timeout(60)
async def test_mqtts_with_a_private_ca(socket_enabled, tmp_path, caplog, simulator):
    broker = Mosquitto(tmp_path, tls=make_certificates(tmp_path))
    broker.start()
    policy = ReconnectPolicy(initial=0.05, maximum=0.2, jitter=0.0)
    try:
        untrusted = MqttPubSub(MqttSettings.from_url(broker.url), policy=policy)
        await untrusted.start()
        await asyncio.sleep(1.0)  # the system's CAs do not know the broker's
        assert not untrusted.connected
        await untrusted.stop()
        assert caplog.text.count("Lost the MQTT broker") == 1
        trusted = MqttSettings.from_url(broker.url, ca_file=str(tmp_path / "ca.pem"))
        site = Bridged(broker, simulator, url=broker.url)
        site.pubsub.settings = trusted
        async with site:
            assert site.pubsub.connected
            await site.pubsub.flushed()
            shown = await asyncio.to_thread(
                subprocess.run,
                ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "--cafile",
                 str(tmp_path / "ca.pem"), "-t", "pbx/branch/status", "-C", "1", "-W", "10"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
        assert json.loads(shown.stdout)["link"] == "connected"
    finally:
        broker.kill()
