"""Command line: ``pbx-protocols {decode,monitor,simulate,call,bridge,capture} TYPE ...``.

Only the stack named on the command line is imported (with its protocol libraries), and
asyncio only by the commands that talk to a PBX: ``--version`` and ``--help`` stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .core.errors import ConnectionFailed, PbxError
from .stacks import STACKS, Stack

if TYPE_CHECKING:
    from .cli_options import Options
    from .core.model import CallEvent, CallRecord

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

COMMANDS = {
    "decode": "decode PDUs given as hex, one JSON object per PDU",
    "monitor": "print one JSON line per call event (and call record)",
    "simulate": "run a simulated PBX that speaks the real protocol",
    "call": "let an extension call a number",
    "bridge": "publish a PBX on an MQTT broker (state, events, commands; HA discovery)",
    "capture": "record the PBX's frames to a pcap file, to report a problem (nbx)",
}


class UsageError(Exception):
    """Bad command line or bad input: exit 2 with one line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, not usage plus a message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _parse_duration(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _chosen(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """The command and stack named on the command line, if any (before parsing)."""
    words = [word for word in argv if not word.startswith("-")]
    command = words[0] if words and words[0] in COMMANDS else None
    stack = words[1] if command and len(words) > 1 and words[1] in STACKS else None
    return command, stack


def build_parser(
    loaded: dict[str, Stack], chosen: tuple[str | None, str | None] = (None, None)
) -> argparse.ArgumentParser:
    """The parser; stacks in ``loaded`` get their options under the chosen command."""
    parser = _Parser(
        prog="pbx-protocols",
        description="Talk to legacy PBXs: decode PDUs, monitor extensions, place calls, "
        "or run a simulator that speaks the real wire protocol.",
    )
    parser.add_argument("--version", action="version", version=f"pbx-protocols {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command, text in COMMANDS.items():
        sub = commands.add_parser(command, help=text, description=text)
        types = sub.add_subparsers(dest="type", metavar="TYPE", required=True)
        for name, entry in STACKS.items():
            typed = types.add_parser(name, help=entry.title, description=entry.title)
            stack = loaded.get(name)
            if stack is not None and chosen[0] in (None, command):
                _add_command_arguments(command, stack, typed)
    return parser


def _add_command_arguments(command: str, stack: Stack, parser: argparse.ArgumentParser) -> None:
    if command == "decode":
        stack.add_decode_arguments(parser)
    elif command == "monitor":
        stack.add_connection_arguments(_connection_group(stack, parser))
        parser.add_argument("--duration", type=_parse_duration, help="stop after this many seconds")
    elif command == "simulate":
        stack.add_simulator_arguments(parser)
    elif command == "capture":
        if not stack.supports_capture:
            raise UsageError(f"capture records wire traffic; {stack.name} has none to record")
        stack.add_capture_arguments(parser)
    elif command == "bridge":
        from .remote.stack import add_bridge_arguments  # aiomqtt, when used

        if stack.name == "remote":
            raise UsageError("a remote site is on a broker already; bridge the PBX itself")
        stack.add_connection_arguments(_connection_group(stack, parser))
        add_bridge_arguments(parser)
    else:
        stack.add_connection_arguments(_connection_group(stack, parser))
        parser.add_argument("--from", dest="from_extension", required=True, metavar="EXT")
        parser.add_argument("--to", dest="to_number", required=True, metavar="NUMBER")


def _connection_group(stack: Stack, parser: argparse.ArgumentParser) -> Options:
    """The stack's connection options, as their own section of ``--help``."""
    return parser.add_argument_group(f"the PBX: {stack.title}")


async def _monitor(stack: Stack, args: argparse.Namespace) -> None:
    import asyncio  # only the commands that talk to a PBX need it
    import contextlib

    client = stack.create_client(args)
    done = asyncio.get_running_loop().create_future()

    def on_event(event: CallEvent) -> None:
        _emit(event.as_dict())

    def on_record(record: CallRecord) -> None:
        _emit(record.as_dict())

    client.subscribe_events(on_event)
    client.subscribe_records(on_record)
    async with client:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.duration):
                await done


async def _bridge(stack: Stack, args: argparse.Namespace) -> None:
    from .remote.stack import run_bridge  # aiomqtt, when used

    await run_bridge(stack.create_client(args), args)


async def _call(stack: Stack, args: argparse.Namespace) -> None:
    async with stack.create_client(args) as client:
        await client.make_call(args.from_extension, args.to_number)
        _emit({"result": "ok", "from": args.from_extension, "to": args.to_number})


async def _capture(stack: Stack, args: argparse.Namespace) -> None:
    _emit(await stack.run_capture(args))


def _run(coroutine_factory: Callable[[], Any]) -> None:
    import asyncio
    import contextlib
    import logging

    # The link's story (lost, restored, refusals) goes to stderr; stdout stays JSON.
    logging.basicConfig(level=logging.WARNING, format="pbx-protocols: %(message)s")
    logging.getLogger("pbx_protocols").setLevel(logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(coroutine_factory())


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments == ["--version"]:  # answered before anything else is even imported
        print(f"pbx-protocols {__version__}")
        return EXIT_OK
    chosen = _chosen(arguments)
    try:
        loaded = {chosen[1]: STACKS[chosen[1]].load()} if chosen[1] else {}
        args = build_parser(loaded, chosen).parse_args(arguments)
        stack = loaded[args.type]
        if args.command == "decode":
            for obj in stack.decode(args):
                _emit(obj)
        elif args.command == "monitor" and (offline := stack.offline_events(args)) is not None:
            for obj in offline:
                _emit(obj)
        elif args.command == "monitor":
            _run(lambda: _monitor(stack, args))
        elif args.command == "capture":
            _run(lambda: _capture(stack, args))
        elif args.command == "simulate":
            _run(lambda: stack.run_simulator(args))
        elif args.command == "bridge":
            _run(lambda: _bridge(stack, args))
        else:
            _run(lambda: _call(stack, args))
    except UsageError as err:
        print(f"pbx-protocols: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ConnectionFailed as err:
        print(f"pbx-protocols: {err}", file=sys.stderr)
        return EXIT_FAILED
    except PbxError as err:
        # Bad input (undecodable hex, invalid number): the user can fix it.
        print(f"pbx-protocols: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def main() -> NoReturn:
    """Entry point of the ``pbx-protocols`` console script."""
    sys.exit(run())
