"""The AlphaCom stack as the command line sees it."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator
from typing import Any

from ..cli_options import Options, add_link_timeout_argument, listen_address
from ..core.client import PbxClient
from ..core.errors import InvalidInput, ProtocolError
from ..stacks import Stack
from .client import AlphaComClient, AlphaComConfig
from .codec import decode_packet, xor_checksum
from .data_link import MAX_FRAME, STOP_FLAG, unstuff
from .iso1745 import Scanner, TextBlock, message_from_text
from .link_layer import parse_simple_line
from .session import FIRST_CLIENT_DEVICE, LAST_CLIENT_DEVICE
from .settings import DEFAULT_BAUD_RATE, DEFAULT_PORT, LinkLayerKind, station_range
from .simulator import SCENARIOS, AlphaComSimulator, Faults, SimulatorConfig
from .simulator.exchange import Station


def _stations(text: str) -> tuple[str, ...]:
    try:
        return station_range(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _device(text: str) -> int:
    if not text.isdigit() or not FIRST_CLIENT_DEVICE <= int(text) <= LAST_CLIENT_DEVICE:
        raise argparse.ArgumentTypeError(
            f"a device number is {FIRST_CLIENT_DEVICE} to {LAST_CLIENT_DEVICE}, got {text!r}"
        )
    return int(text)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def _iso1745_messages(data: bytes) -> Iterator[bytes]:
    blocks = [token for token in Scanner().feed(data) if isinstance(token, TextBlock)]
    if not blocks:
        raise ProtocolError("no complete text block (STX ... ETX BCC)", data=data)
    for block in blocks:
        if not block.intact:
            raise ProtocolError("the text block's block check does not match", data=block.text)
        message = message_from_text(block.text)
        if message is None:
            raise ProtocolError("the text block is not hexadecimal", data=block.text)
        yield message


def decode_input(parts: list[str], link: str) -> Iterator[bytes]:
    """The network messages in the command line's input, by link layer.

    ``sll``: each argument one line (a checksum is checked if present); ``sdll``: hex of
    stuffed frames ending in F1, header and BCC included; ``iso1745``: hex of the bytes on
    the line (text blocks are taken, polls and answers skipped); ``none``: hex of one
    message.
    """
    if link == "sll":
        for part in parts:
            yield parse_simple_line(part.encode("latin-1").strip())
        return
    text = "".join(parts).replace(" ", "").replace(":", "")
    try:
        data = bytes.fromhex(text)
    except ValueError as err:
        raise InvalidInput(f"not hexadecimal: {text[:40]!r}") from err
    if link == "none":
        yield data
        return
    if link == "iso1745":
        yield from _iso1745_messages(data)
        return
    frames = data.split(bytes([STOP_FLAG]))
    if frames[-1]:
        raise ProtocolError("the input does not end with a stop flag (F1)", data=frames[-1])
    for raw in frames[:-1]:
        body = unstuff(raw)
        if body is None or len(body) < 2 or len(raw) + 1 > MAX_FRAME:
            raise ProtocolError("not a data link frame", data=raw)
        if xor_checksum(body[:-1]) != body[-1]:
            raise ProtocolError("the frame's block check does not match", data=raw)
        if len(body) > 6:  # ACK, NAK and idle frames carry no message
            yield body[1:-1]


class AlphaComStack(Stack):
    """Zenitel AlphaCom: the AlphaCom Data Protocol over TCP or serial."""

    name = "alphacom"
    title = "Zenitel AlphaCom (AlphaCom Data Protocol over TCP or serial)"

    # -- decode -------------------------------------------------------------------------

    def add_decode_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Link layer and the input."""
        parser.add_argument(
            "--link",
            choices=("sll", "sdll", "iso1745", "none"),
            default="sll",
            help="sll: simple-link-layer lines (default); sdll: hex of data link frames; "
            "iso1745: hex of ISO 1745 line bytes; none: hex of one network message",
        )
        parser.add_argument("input", nargs="+", metavar="LINE_OR_HEX")

    def decode(self, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
        """One JSON object per message."""
        for message in decode_input(args.input, args.link):
            yield {**decode_packet(message).as_json(), "hex": message.hex()}

    # -- monitor and call ---------------------------------------------------------------

    def add_connection_arguments(self, parser: Options) -> None:
        """TCP or serial, link layer, our device number, the stations."""
        parser.add_argument("--host", help="the exchange's address (TCP)")
        parser.add_argument(
            "--port", type=int, default=DEFAULT_PORT, help=f"API port ({DEFAULT_PORT} or 61113)"
        )
        parser.add_argument(
            "--serial",
            metavar="URL",
            help="serial port: a device path, or rfc2217://host:port or socket://host:port",
        )
        parser.add_argument(
            "--baud", type=int, default=DEFAULT_BAUD_RATE, help="baud rate (serial)"
        )
        parser.add_argument(
            "--link",
            choices=[kind.value for kind in LinkLayerKind],
            default=LinkLayerKind.AUTO.value,
            help="link layer: auto (from the first bytes), sll, sdll or iso1745 (serial)",
        )
        parser.add_argument(
            "--device", type=_device, default=1, help="our device number (1-64, as in AlphaPro)"
        )
        parser.add_argument("--node", type=int, default=1, help="the exchange's node number")
        parser.add_argument(
            "--stations",
            type=_stations,
            default=(),
            help="stations to follow from the start (e.g. 101-110); others appear when "
            "the exchange names them",
        )
        add_link_timeout_argument(parser)

    def create_client(self, args: argparse.Namespace) -> PbxClient:
        """A client for the exchange named on the command line."""
        if bool(args.host) == bool(args.serial):
            raise InvalidInput("give either --host or --serial")
        config = AlphaComConfig(
            host=args.host,
            port=args.port,
            serial=args.serial,
            baud_rate=args.baud,
            link=LinkLayerKind(args.link),
            node=args.node,
            device=args.device,
            stations=args.stations,
            link_timeout=args.link_timeout,
        )
        return AlphaComClient(config)

    # -- simulate -----------------------------------------------------------------------

    def add_simulator_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Where to serve, what to simulate, which faults to inject."""
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--listen",
            type=listen_address,
            default=("127.0.0.1", DEFAULT_PORT),
            metavar="HOST:PORT",
            help=f"TCP address to serve (default 127.0.0.1:{DEFAULT_PORT})",
        )
        where.add_argument(
            "--pty", action="store_true", help="serve a pseudo-terminal (a serial port)"
        )
        parser.add_argument("--link", choices=("sll", "sdll", "iso1745"), default="sll")
        parser.add_argument(
            "--stations", type=_stations, default=_stations("101-110"), help="default 101-110"
        )
        parser.add_argument("--node", type=int, default=1)
        parser.add_argument("--scenario", choices=sorted(SCENARIOS), help="scripted traffic")
        parser.add_argument("--pace", type=float, default=1.0, help="scale scenario delays")
        parser.add_argument("--seed", type=int, help="make the scenario repeatable")
        parser.add_argument(
            "--silent",
            action="store_true",
            help="answer nothing, broadcast only (an exchange without the API licence)",
        )
        parser.add_argument("--max-clients", type=int, default=1, help="clients at once (1)")
        faults = parser.add_argument_group("fault injection (per line or frame sent)")
        for name in ("drop", "corrupt", "duplicate"):
            faults.add_argument(f"--{name}", type=_probability, default=0.0, metavar="P")
        faults.add_argument("--delay", type=float, default=0.0, metavar="S")
        faults.add_argument(
            "--drop-link-every", type=float, metavar="S", help="cut every client off each S s"
        )

    async def run_simulator(self, args: argparse.Namespace) -> None:
        """Serve until interrupted; print the stations' state as it changes."""
        host, port = args.listen
        config = SimulatorConfig(
            host=host,
            port=port,
            pty=args.pty,
            link=LinkLayerKind(args.link),
            stations=args.stations,
            node=args.node,
            scenario=args.scenario,
            pace=args.pace,
            seed=args.seed,
            answers=not args.silent,
            max_clients=args.max_clients,
            faults=Faults(args.drop, args.corrupt, args.duplicate, args.delay),
        )
        async with AlphaComSimulator(config, on_station=_print_station) as simulator:
            where = simulator.pty_path if args.pty else f"{host}:{simulator.port}"
            announcement = {
                "simulator": self.name,
                "pty" if args.pty else "listening": where,
                "link": config.link.value,
                "stations": list(config.stations),
                "scenario": config.scenario,
            }
            print(json.dumps(announcement), flush=True)  # noqa: T201  # the CLI's output
            while True:
                await asyncio.sleep(args.drop_link_every or 3600)
                if args.drop_link_every:
                    await simulator.drop_links()


def _print_station(station: Station) -> None:
    print(json.dumps(station.as_json()), flush=True)  # noqa: T201  # the CLI's output
