"""Command-line options every stack shares: secrets kept out of ``ps``, timeouts, addresses."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .core.errors import InvalidInput

#: Where options go: a parser, or one of its titled groups (a section of ``--help``).
type Options = argparse._ActionsContainer  # noqa: SLF001  # argparse has no public name for it


def positive_seconds(text: str) -> float:
    """Argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from err
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def listen_address(text: str) -> tuple[str, int]:
    """Argparse type: ``HOST:PORT``."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def add_password_arguments(
    parser: Options, what: str = "password", *, flag: str = "password"
) -> None:
    """``--password``, ``--password-env NAME`` and ``--password-file PATH`` (one of them).

    A password on the command line is visible to every user of the machine (``ps``); the
    other two keep it out of the process list. ``flag`` names them for a second secret
    (``mqtt-password``).
    """
    group = parser.add_mutually_exclusive_group()
    group.add_argument(f"--{flag}", help=f"the {what} (visible in ps: prefer the next two)")
    group.add_argument(
        f"--{flag}-env", metavar="NAME", help=f"read the {what} from this environment variable"
    )
    group.add_argument(
        f"--{flag}-file", metavar="PATH", type=Path, help=f"read the {what} from this file"
    )


def password_from(args: argparse.Namespace, *, flag: str = "password") -> str | None:
    """The password the options name, or None; InvalidInput if it cannot be read."""
    name = flag.replace("-", "_")
    variable: str | None = getattr(args, f"{name}_env", None)
    path: Path | None = getattr(args, f"{name}_file", None)
    if variable:
        value = os.environ.get(variable)
        if value is None:
            raise InvalidInput(f"the environment variable {variable} is not set")
        return value
    if path:
        try:
            # One trailing newline is what editors and `echo` add; it is not the password's.
            return str(path.read_text(encoding="utf-8")).removesuffix("\n")
        except OSError as err:
            raise InvalidInput(f"cannot read {path}: {err.strerror}") from err
    password: str | None = getattr(args, name, None)
    return password


def add_link_timeout_argument(parser: Options) -> None:
    """``--link-timeout S``: how long a silent PBX counts as alive."""
    from .core.watchdog import DEAD_LINK_TIMEOUT  # with asyncio: not for decode's start

    parser.add_argument(
        "--link-timeout",
        type=positive_seconds,
        default=DEAD_LINK_TIMEOUT,
        metavar="S",
        help=f"declare the link dead after S silent seconds (probed first; {DEAD_LINK_TIMEOUT:g})",
    )
