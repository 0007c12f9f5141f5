"""The Panasonic stack as the command line sees it.

Decoding needs only the codec and the framing: the client, the simulator, USB and asyncio
are imported by the commands that use them, so that ``decode`` starts as fast as a bare
decode does.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..cli_options import (
    Options,
    add_link_timeout_argument,
    add_password_arguments,
    listen_address,
    password_from,
    positive_seconds,
)
from ..core.errors import IncompleteFrame, InvalidInput, ProtocolError
from ..stacks import Stack
from .codec import Credentials, decode_pdu
from .framing import UsbReassembler, split_tcp_frames, split_usb_stream, unwrap_next_layer
from .settings import DEFAULT_PORT, PANASONIC_VENDOR_ID

if TYPE_CHECKING:
    from ..core.client import PbxClient

_HEX_SEPARATORS = re.compile(r"[\s:,_-]|0x", re.IGNORECASE)


def parse_hex(parts: list[str]) -> bytes:
    """Join hex arguments ("a1 0c", "a10c", "a1:0c") into bytes."""
    text = _HEX_SEPARATORS.sub("", "".join(parts))
    if not re.fullmatch(r"[0-9a-fA-F]*", text):
        bad = next(c for c in text if c not in "0123456789abcdefABCDEF")
        raise InvalidInput(f"not hexadecimal: {bad!r}")
    if len(text) % 2:
        raise IncompleteFrame(f"odd number of hex digits ({len(text)})", offset=len(text) // 2)
    return bytes.fromhex(text)


def _extensions(text: str) -> tuple[str, ...]:
    from .simulator import parse_extensions

    try:
        return parse_extensions(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _hex_id(text: str) -> int:
    try:
        value = int(text, 16)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a hex id like 04da, got {text!r}") from err
    if not 0 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"USB ids are 16 bits, got {text!r}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from err
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


class PanasonicStack(Stack):
    """Panasonic KX-TDA/TDE/NS: CSTA Phase III over LAN (TCP 33333) or USB."""

    name = "panasonic"
    title = "Panasonic KX-TDA/TDE/NS (CSTA over LAN or USB)"

    # -- decode -------------------------------------------------------------------------

    def add_decode_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Framing choice and the hex input."""
        parser.add_argument(
            "--framing",
            choices=("none", "tcp", "usb"),
            default="none",
            help="none: one bare BER PDU; tcp: 2-byte length prefixes; usb: 64-byte packets",
        )
        parser.add_argument("hex", nargs="+", metavar="HEX", help="bytes as hex digits")

    def decode(self, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
        """One JSON object per PDU."""
        data = parse_hex(args.hex)
        for start, pdu in self._pdus(data, args.framing):
            try:
                decoded = decode_pdu(pdu)
            except ProtocolError as err:
                inner = err.offset or 0
                raise ProtocolError(err.message, data=err.data, offset=start + inner) from err
            yield {**decoded.as_json(), "hex": pdu.hex()}

    def _pdus(self, data: bytes, framing: str) -> Iterator[tuple[int, bytes]]:
        """(offset of the PDU in the input, PDU bytes) for each PDU in the input."""
        if framing == "none":
            yield 0, data
        elif framing == "tcp":
            offset = 0
            for frame in split_tcp_frames(data):
                yield offset + 2, frame
                offset += 2 + len(frame)
        else:
            reassembler = UsbReassembler()
            offset = 0
            for packet in split_usb_stream(data):
                message = reassembler.feed_packet(packet)
                offset += len(packet)
                if message is not None:
                    layer = unwrap_next_layer(message)
                    yield offset - len(layer.pdu), layer.pdu
            if offset and message is None:
                raise IncompleteFrame("the USB packets end inside a fragmented PDU", offset=offset)

    # -- monitor and call ---------------------------------------------------------------

    def add_connection_arguments(self, parser: Options) -> None:
        """LAN or USB, login, fallback extensions."""
        parser.add_argument("--host", help="PBX address on the LAN")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="CTI port (33333)")
        parser.add_argument("--usb", action="store_true", help="use the USB CTI port instead")
        parser.add_argument(
            "--usb-vendor",
            type=_hex_id,
            default=PANASONIC_VENDOR_ID,
            metavar="HEX",
            help="USB vendor id (04da)",
        )
        parser.add_argument("--usb-product", type=_hex_id, metavar="HEX", help="USB product id")
        parser.add_argument("--username")
        add_password_arguments(parser)
        parser.add_argument(
            "--extensions",
            type=_extensions,
            default=(),
            help="monitor these too (e.g. 101-110), e.g. if the PBX cannot list them",
        )
        add_link_timeout_argument(parser)

    def create_client(self, args: argparse.Namespace) -> PbxClient:
        """A client for the PBX named on the command line."""
        from .client import PanasonicClient, PanasonicConfig
        from .usb_settings import UsbSettings

        if args.usb == bool(args.host):
            raise InvalidInput("give either --host or --usb")
        usb = UsbSettings(args.usb_vendor, args.usb_product) if args.usb else None
        config = PanasonicConfig(
            host=args.host,
            port=args.port,
            usb=usb,
            username=args.username,
            password=password_from(args),
            extensions=args.extensions,
            link_timeout=args.link_timeout,
        )
        return PanasonicClient(config)

    # -- simulate -----------------------------------------------------------------------

    def add_simulator_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Where to listen and what to simulate."""
        from .simulator import MAX_CLIENTS, SCENARIOS
        from .simulator.outside import DEFAULT_BUSY, DEFAULT_NO_ANSWER
        from .simulator.pbx import FIRST_CALL_ID

        parser.add_argument(
            "--listen",
            type=listen_address,
            default=("127.0.0.1", DEFAULT_PORT),
            metavar="HOST:PORT",
            help="address to listen on (default 127.0.0.1:33333)",
        )
        parser.add_argument(
            "--extensions",
            type=_extensions,
            default=tuple(str(n) for n in range(101, 111)),
            help="extension numbers, e.g. 101-110 (default)",
        )
        parser.add_argument("--scenario", choices=sorted(SCENARIOS), help="scripted traffic")
        parser.add_argument(
            "--pace", type=positive_seconds, default=1.0, help="scale scenario delays"
        )
        parser.add_argument("--seed", type=int, help="make the scenario repeatable")
        parser.add_argument(
            "--keepalive-interval",
            type=positive_seconds,
            default=60.0,
            help="seconds between keepalives",
        )
        parser.add_argument("--username", help="require this login")
        add_password_arguments(parser, "password of the login")
        parser.add_argument(
            "--first-call-id",
            type=_hex_id,
            default=FIRST_CALL_ID,
            metavar="HEX",
            help=f"call id of the first call (default {FIRST_CALL_ID:04x})",
        )
        parser.add_argument(
            "--outside-busy",
            type=_probability,
            default=DEFAULT_BUSY,
            metavar="P",
            help="how often an outside number called is busy (0..1)",
        )
        parser.add_argument(
            "--outside-no-answer",
            type=_probability,
            default=DEFAULT_NO_ANSWER,
            metavar="P",
            help="how often an outside number called does not answer (0..1)",
        )
        parser.add_argument(
            "--answer-delay",
            type=float,
            default=0.0,
            metavar="S",
            help="delay every answer by S seconds (a slow PBX)",
        )
        parser.add_argument(
            "--max-clients", type=int, default=MAX_CLIENTS, help="clients served at once"
        )

    async def run_simulator(self, args: argparse.Namespace) -> None:
        """Serve until interrupted."""
        import asyncio

        from .simulator import OutsideParties, PanasonicSimulator, SimulatorConfig

        host, port = args.listen
        password = password_from(args) or ""
        try:
            outside = OutsideParties(busy=args.outside_busy, no_answer=args.outside_no_answer)
        except ValueError as err:
            raise InvalidInput(str(err)) from err
        credentials = Credentials(args.username, password) if args.username else None
        config = SimulatorConfig(
            host=host,
            port=port,
            extensions=args.extensions,
            scenario=args.scenario,
            pace=args.pace,
            seed=args.seed,
            keepalive_interval=args.keepalive_interval,
            credentials=credentials,
            first_call_id=args.first_call_id,
            outside=outside,
            answer_delay=args.answer_delay,
            max_clients=args.max_clients,
        )
        async with PanasonicSimulator(config) as simulator:
            announcement = {
                "simulator": self.name,
                "listening": f"{host}:{simulator.port}",
                "extensions": list(config.extensions),
                "scenario": config.scenario,
            }
            print(json.dumps(announcement), flush=True)  # noqa: T201  # the CLI's output
            await asyncio.Event().wait()
