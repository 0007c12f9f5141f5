"""A real mosquitto for tests: on a free loopback port, killed and restarted at will."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.mosquitto import MOSQUITTO, Mosquitto
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


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA and a certificate for 127.0.0.1 signed by it: (CA, certificate, key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return paths
