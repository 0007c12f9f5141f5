"""A simulated 3Com NBX call processor and phones that send the real frames."""

from .ncp import SCENARIOS, Ncp
from .runner import SimulatorConfig, run_on_interface, timeline, write_pcap

__all__ = ["SCENARIOS", "Ncp", "SimulatorConfig", "run_on_interface", "timeline", "write_pcap"]
