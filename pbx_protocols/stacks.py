"""The table of PBX stacks: what the CLI (and anything else generic) can drive."""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

from .core.client import PbxClient


class Stack(ABC):
    """What the generic tooling needs from one PBX stack."""

    #: Name used on the command line, e.g. ``panasonic``.
    name: str
    #: One line for --help.
    title: str

    @abstractmethod
    def add_decode_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options of ``decode`` for this stack."""

    @abstractmethod
    def decode(self, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
        """Yield one JSON-friendly dict per PDU in the input; raise ProtocolError if bad."""

    @abstractmethod
    def add_connection_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options that say how to reach the PBX (for monitor and call)."""

    @abstractmethod
    def create_client(self, args: argparse.Namespace) -> PbxClient:
        """Build a client from the connection options."""

    @abstractmethod
    def add_simulator_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options of ``simulate`` for this stack."""

    @abstractmethod
    async def run_simulator(self, args: argparse.Namespace) -> None:
        """Run the simulator until cancelled."""


def all_stacks() -> dict[str, Stack]:
    """Return every stack this installation knows, by name."""
    from .panasonic.stack import PanasonicStack  # stacks load on demand

    stacks: list[Stack] = [PanasonicStack()]
    return {stack.name: stack for stack in stacks}
