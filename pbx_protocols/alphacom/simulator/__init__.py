"""A simulated AlphaCom exchange that speaks the real wire protocol (TCP or a pty)."""

from .exchange import Exchange, Station
from .scenarios import SCENARIOS
from .server import MAX_CLIENTS, AlphaComSimulator, Faults, SimulatorConfig

__all__ = [
    "MAX_CLIENTS",
    "SCENARIOS",
    "AlphaComSimulator",
    "Exchange",
    "Faults",
    "SimulatorConfig",
    "Station",
]
