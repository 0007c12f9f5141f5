"""The command line's view of the 3Com NBX stack: decode, monitor, capture, simulate."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..cli_options import Options, positive_seconds
from ..core.client import PbxClient
from ..core.errors import InvalidInput, ProtocolError
from ..stacks import Stack
from .bpf import DEFAULT_VOICE_SAMPLE_RATE
from .capture import LiveCapture, PcapWriter, open_raw_socket, read_pcap
from .client import NbxClient, NbxConfig
from .frames import DATA_OFFSET, ETHERTYPE, frame_as_json, parse_frame
from .monitor import CALLER_PATTERNS, PhoneEntry, parse_phones, replay_monitor


def frames_from_hex(parts: list[str]) -> list[bytes]:
    """Each argument one frame, from the destination MAC or from the ethertype.

    From the ethertype (8868...) is how the seed's dumps print frames; the MACs are zeros.
    """
    frames = []
    for part in parts:
        text = part.replace(" ", "").replace(":", "")
        try:
            data = bytes.fromhex(text)
        except ValueError as err:
            raise InvalidInput(f"not hexadecimal: {text[:40]!r}") from err
        if data[:2] == ETHERTYPE.to_bytes(2, "big") and len(data) >= DATA_OFFSET - 12:
            data = bytes(12) + data
        frames.append(data)
    return frames


def _phones(path: Path | None) -> tuple[PhoneEntry, ...]:
    if path is None:
        return ()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"cannot read the phones file: {err}") from err
    return tuple(parse_phones(text))


def _pcap_frames(path: Path) -> Iterator[tuple[float, bytes]]:
    for captured in read_pcap(path):
        yield captured.timestamp, captured.data


class NbxStack(Stack):
    """3Com NBX: a passive monitor of the NBX Ethernet protocol (ethertype 0x8868)."""

    name = "nbx"
    title = "3Com NBX (its own Ethernet protocol, ethertype 0x8868; passive monitor)"
    supports_capture = True

    # -- decode -------------------------------------------------------------------------

    def add_decode_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Frames as hex, or a pcap."""
        parser.add_argument("--pcap", type=Path, help="decode every NBX frame of a capture")
        parser.add_argument("input", nargs="*", metavar="HEX", help="one frame per argument")

    def decode(self, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
        """One JSON object per frame (frames of other protocols in a pcap are skipped)."""
        if args.pcap is not None:
            for captured in read_pcap(args.pcap):
                with contextlib.suppress(ProtocolError):
                    yield frame_as_json(parse_frame(captured.data))
            return
        if not args.input:
            raise InvalidInput("give frames as hex, or --pcap FILE")
        for data in frames_from_hex(args.input):
            yield frame_as_json(parse_frame(data))

    # -- monitor ------------------------------------------------------------------------

    def add_connection_arguments(self, parser: Options) -> None:
        """An interface (or a pcap), the phones, voice sampling."""
        parser.add_argument("--interface", metavar="IF", help="network interface to watch")
        parser.add_argument("--pcap", type=Path, help="follow a capture instead (monitor)")
        parser.add_argument(
            "--phones-file",
            type=Path,
            help="lines of NUMBER; SLOT; MAC; NAME mapping phones to extensions",
        )
        parser.add_argument(
            "--sample-voice",
            action="store_true",
            help=f"let 1 in {DEFAULT_VOICE_SAMPLE_RATE} voice frames through the kernel filter "
            "(talking without the call timer)",
        )
        parser.add_argument(
            "--caller-pattern",
            action="append",
            metavar="REGEX",
            help="how the display shows the caller: a regex with (?P<number>...); repeatable",
        )
        parser.add_argument(
            "--allow-display-text",
            action="store_true",
            help="allow sending forged HR frames that put text on phones' displays",
        )

    def create_client(self, args: argparse.Namespace) -> PbxClient:
        """A monitor of the interface named on the command line."""
        if args.interface is None:
            raise InvalidInput("give --interface (or, to monitor a capture, --pcap)")
        return NbxClient(
            NbxConfig(
                args.interface,
                phones=_phones(args.phones_file),
                voice_sample_rate=DEFAULT_VOICE_SAMPLE_RATE if args.sample_voice else None,
                caller_patterns=tuple(args.caller_pattern or CALLER_PATTERNS),
                allow_display_text=args.allow_display_text,
            )
        )

    def offline_events(self, args: argparse.Namespace) -> Iterator[dict[str, Any]] | None:
        """``monitor nbx --pcap FILE``: the events a live monitor would have printed."""
        if getattr(args, "pcap", None) is None:
            return None
        monitor = replay_monitor(
            _phones(args.phones_file), caller_patterns=args.caller_pattern or CALLER_PATTERNS
        )
        return (event.as_dict() for event in monitor.replay(_pcap_frames(args.pcap)))

    # -- capture ------------------------------------------------------------------------

    def add_capture_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Interface, output file, duration."""
        parser.add_argument("--interface", metavar="IF", required=True)
        parser.add_argument("--out", type=Path, required=True, metavar="FILE.pcap")
        parser.add_argument("--duration", type=positive_seconds, help="stop after S seconds")
        parser.add_argument(
            "--with-voice", action="store_true", help="keep voice frames too (large)"
        )

    async def run_capture(self, args: argparse.Namespace) -> dict[str, Any]:
        """Record NBX frames (voice dropped in the kernel unless asked) to a pcap."""
        sock = open_raw_socket(args.interface, voice_sample_rate=1 if args.with_voice else None)
        capture = LiveCapture(sock, f"interface {args.interface}")
        writer = PcapWriter(args.out)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(args.duration):
                    while True:
                        await writer.write(await capture.receive())
        finally:
            statistics = capture.update_statistics()
            capture.close()
            await writer.close()
        return {
            "capture": str(args.out),
            "frames": writer.written,
            "kernel_dropped": statistics.kernel_dropped,
            "queue_dropped": statistics.queue_dropped,
        }

    # -- simulate -----------------------------------------------------------------------

    def add_simulator_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Where the frames go, phones, scenario, voice."""
        from .simulator import SCENARIOS  # scapy, only for the simulator

        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--interface", metavar="IF", help="send frames on this interface")
        where.add_argument("--pcap", type=Path, metavar="FILE", help="write them to a pcap")
        parser.add_argument("--phones", type=int, default=8, help="phones 101... (default 8)")
        parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="basic-call")
        parser.add_argument("--seed", type=int, help="make the scenario repeatable")
        parser.add_argument(
            "--voice", action="store_true", help="voice frames while phones talk (real rate)"
        )
        parser.add_argument("--vlan", type=int, help="tag the NCP's frames with this VLAN")
        parser.add_argument(
            "--duration", type=positive_seconds, help="stop after S seconds (pcap: 30)"
        )

    async def run_simulator(self, args: argparse.Namespace) -> None:
        """Send (or write) the simulated NCP's frames; print the phones file first."""
        from .simulator import Ncp, SimulatorConfig, run_on_interface, write_pcap

        if not 1 <= args.phones <= 24:
            raise InvalidInput("the NBX update holds 1 to 24 phones")
        ncp = Ncp.with_phones(args.phones, vlan=args.vlan)
        config = SimulatorConfig(
            args.phones, args.scenario, args.seed, args.voice, args.vlan, args.duration
        )
        where = {"pcap": str(args.pcap)} if args.pcap else {"interface": args.interface}
        announcement = {"simulator": self.name, **where, "phones": ncp.phones_text()}
        print(json.dumps(announcement), flush=True)  # noqa: T201  # the CLI's output
        if args.pcap is not None:
            frames = await write_pcap(ncp, config, args.pcap)
        else:
            frames = await run_on_interface(ncp, config, args.interface)
        print(json.dumps({"frames": frames}), flush=True)  # noqa: T201
