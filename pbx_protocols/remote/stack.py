"""Remote sites on the command line: ``bridge``, ``monitor remote``, ``simulate remote``.

``bridge TYPE <the stack's options> --mqtt URL`` publishes any stack's PBX; ``remote`` is
itself a stack: ``monitor remote --mqtt URL --site NAME`` prints what ``monitor`` prints
next to the PBX, and ``simulate remote`` runs a simulated Panasonic PBX behind a bridge
(a whole remote site, for trying things out).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from ..cli_options import Options, add_password_arguments, password_from
from ..core.client import PbxClient
from ..core.errors import InvalidInput
from ..stacks import Stack
from .bridge import Bridge
from .client import RemoteClient
from .discovery import DISCOVERY_PREFIX
from .mqtt import MqttPubSub, MqttSettings
from .scheme import (
    DEFAULT_PREFIX,
    SITE_NAME,
    Topics,
    check_site,
    decode,
    event_from,
    record_from,
    snapshot_from,
)

_LOGGER = logging.getLogger(__name__)
#: How long a stopping bridge waits for its last messages (the offline status) to go out.
STOP_FLUSH: Final = 3.0


def _site(text: str) -> str:
    if not SITE_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError("letters, digits, _ and - (up to 64)")
    return text


def add_mqtt_arguments(group: Options) -> None:
    """The broker, the site and how to log in (secrets kept out of ``ps``)."""
    group.add_argument(
        "--mqtt",
        required=True,
        metavar="URL",
        help="mqtt://[user[:password]@]host[:1883] or mqtts://... (TLS)",
    )
    group.add_argument(
        "--site",
        type=_site,
        default=socket.gethostname().split(".")[0] or "site",
        help="the site's name in the topics (default: this host's name)",
    )
    group.add_argument("--ca-file", type=Path, help="CA certificate(s) for mqtts://")
    group.add_argument("--prefix", default=DEFAULT_PREFIX, help="first topic level (pbx)")
    add_password_arguments(group, "MQTT password", flag="mqtt-password")


def mqtt_settings(args: argparse.Namespace, client_id: str | None = None) -> MqttSettings:
    """The broker settings the options name."""
    settings = MqttSettings.from_url(
        args.mqtt,
        password=password_from(args, flag="mqtt-password"),
        ca_file=str(args.ca_file) if args.ca_file else None,
    )
    if client_id is None:
        return settings
    return MqttSettings(
        host=settings.host,
        port=settings.port,
        username=settings.username,
        password=settings.password,
        tls=settings.tls,
        ca_file=settings.ca_file,
        client_id=client_id,
    )


def add_bridge_arguments(parser: argparse.ArgumentParser) -> None:
    """The broker options, and Home Assistant discovery, each a section of ``--help``."""
    add_mqtt_arguments(parser.add_argument_group("MQTT broker"))
    group = parser.add_argument_group("Home Assistant discovery")
    group.add_argument(
        "--discovery",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="publish Home Assistant MQTT discovery (default: on)",
    )
    group.add_argument(
        "--discovery-prefix", default=DISCOVERY_PREFIX, help="discovery topic prefix"
    )


async def run_bridge(client: PbxClient, args: argparse.Namespace) -> None:
    """Publish ``client``'s PBX on the broker until interrupted."""
    topics = Topics(check_site(args.site), args.prefix)
    settings = mqtt_settings(args, client_id=f"pbx-bridge-{args.site}")
    pubsub = MqttPubSub(settings)
    bridge = Bridge(
        client,
        pubsub,
        topics,
        discovery=args.discovery,
        discovery_prefix=args.discovery_prefix,
    )
    pubsub.will = bridge.will
    await pubsub.start()
    await bridge.start()
    _LOGGER.info("Bridging %s to %s as site %s", client.name, settings.where, topics.site)
    try:
        await asyncio.Event().wait()
    finally:
        await bridge.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_FLUSH):
                await pubsub.flushed()
        await pubsub.stop()


class RemoteStack(Stack):
    """A PBX published by a bridge on an MQTT broker."""

    name = "remote"
    title = "A PBX behind `pbx-protocols bridge`, through an MQTT broker"

    def add_decode_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Which payload, and the JSON."""
        parser.add_argument("--kind", choices=("extension", "event", "record"), default="event")
        parser.add_argument("json", nargs="+", metavar="JSON", help="payloads as published")

    def decode(self, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
        """Each payload checked and read as the library reads it."""
        readers = {"extension": snapshot_from, "event": event_from, "record": record_from}
        for text in args.json:
            value: Any = readers[args.kind](decode(text.encode()))
            yield {"kind": args.kind, "read": repr(value)}

    def add_connection_arguments(self, parser: Options) -> None:
        """The broker and the site."""
        add_mqtt_arguments(parser)

    def create_client(self, args: argparse.Namespace) -> PbxClient:
        """A client of the site, over its own broker connection."""
        pubsub = MqttPubSub(mqtt_settings(args))
        return RemoteClient(pubsub, args.site, prefix=args.prefix, close_pubsub=pubsub.stop)

    def add_simulator_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The broker, and the simulated PBX behind the bridge."""
        add_bridge_arguments(parser)
        parser.add_argument("--extensions", default="101-110", help="e.g. 101-110")
        parser.add_argument("--scenario", help="scripted traffic (basic-call, busy-office)")

    async def run_simulator(self, args: argparse.Namespace) -> None:
        """A simulated Panasonic PBX, bridged, until interrupted."""
        from ..panasonic import PanasonicClient, PanasonicConfig
        from ..panasonic.simulator import (
            PanasonicSimulator,
            SimulatorConfig,
            parse_extensions,
        )

        try:
            extensions = parse_extensions(args.extensions)
        except ValueError as err:
            raise InvalidInput(str(err)) from err
        config = SimulatorConfig(port=None, extensions=extensions, scenario=args.scenario)
        async with PanasonicSimulator(config) as simulator:
            client = PanasonicClient(PanasonicConfig(open_link=simulator.open_memory_link))
            where = mqtt_settings(args).where
            announcement = {"simulator": self.name, "site": args.site, "mqtt": where}
            print(json.dumps(announcement), flush=True)  # noqa: T201  # the CLI's output
            await run_bridge(client, args)
