"""The table of PBX stacks: what the CLI (and anything else generic) can drive."""

from __future__ import annotations

import argparse
import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    from .cli_options import Options
    from .core.client import PbxClient


class Stack(ABC):
    """What the generic tooling needs from one PBX stack."""

    #: Name used on the command line, e.g. ``panasonic``.
    name: str
    #: One line for --help.
    title: str
    #: Whether ``capture`` records this PBX's traffic (a stack on the wire, like NBX).
    supports_capture: bool = False

    @abstractmethod
    def add_decode_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options of ``decode`` for this stack."""

    @abstractmethod
    def decode(self, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
        """Yield one JSON-friendly dict per PDU in the input; raise ProtocolError if bad."""

    @abstractmethod
    def add_connection_arguments(self, parser: Options) -> None:
        """Add the options that say how to reach the PBX (monitor, call, bridge)."""

    @abstractmethod
    def create_client(self, args: argparse.Namespace) -> PbxClient:
        """Build a client from the connection options."""

    @abstractmethod
    def add_simulator_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the options of ``simulate`` for this stack."""

    @abstractmethod
    async def run_simulator(self, args: argparse.Namespace) -> None:
        """Run the simulator until cancelled."""

    def offline_events(self, args: argparse.Namespace) -> Iterator[dict[str, Any]] | None:
        """``monitor`` from a recording instead of a PBX, where the options name one."""
        return None

    def add_capture_arguments(self, parser: argparse.ArgumentParser) -> None:  # noqa: B027
        """Add the options of ``capture`` (stacks that support it)."""

    async def run_capture(self, args: argparse.Namespace) -> dict[str, Any]:
        """Record the PBX's traffic to a file; return a summary (stacks that support it)."""
        raise NotImplementedError


class StackEntry(NamedTuple):
    """A stack as the command line lists it, before anything of it is imported."""

    name: str
    title: str
    #: ``module:class`` of its Stack, imported only when the stack is used.
    target: str

    def load(self) -> Stack:
        """Import the stack (and its protocol dependencies, asn1tools say)."""
        module_name, _, class_name = self.target.partition(":")
        stack_class = getattr(importlib.import_module(module_name), class_name)
        stack: Stack = stack_class()
        return stack


#: Every stack this installation knows; loading one is deferred until it is used, so that
#: ``pbx-protocols --version`` and ``import pbx_protocols`` stay fast.
STACKS: Final = {
    entry.name: entry
    for entry in (
        StackEntry(
            "panasonic",
            "Panasonic KX-TDA/TDE/NS (CSTA over LAN or USB)",
            "pbx_protocols.panasonic.stack:PanasonicStack",
        ),
        StackEntry(
            "alphacom",
            "Zenitel AlphaCom (AlphaCom Data Protocol over TCP or serial)",
            "pbx_protocols.alphacom.stack:AlphaComStack",
        ),
        StackEntry(
            "nbx",
            "3Com NBX (its own Ethernet protocol, ethertype 0x8868; passive monitor)",
            "pbx_protocols.nbx.stack:NbxStack",
        ),
        StackEntry(
            "remote",
            "A PBX behind `pbx-protocols bridge`, through an MQTT broker",
            "pbx_protocols.remote.stack:RemoteStack",
        ),
    )
}


def all_stacks() -> dict[str, Stack]:
    """Return every stack this installation knows, by name (imports them all)."""
    return {name: entry.load() for name, entry in STACKS.items()}
