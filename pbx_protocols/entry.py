"""The ``pbx-protocols`` console script: ``--version`` is answered before anything loads."""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the console script."""
    if sys.argv[1:] == ["--version"]:
        from . import __version__  # the one thing --version needs

        sys.stdout.write(f"pbx-protocols {__version__}\n")
        return
    from .cli import main as run_command_line  # argparse and the stacks

    run_command_line()
