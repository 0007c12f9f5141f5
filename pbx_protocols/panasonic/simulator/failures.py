"""The simulator's refusals: a request the PBX turns down with a CSTA universalFailure."""

from __future__ import annotations


class SimulatorFailure(Exception):
    """A request the PBX refuses: becomes a CSTA universalFailure (category, value)."""

    def __init__(self, category: str, value: str) -> None:
        super().__init__(f"{category}.{value}")
        self.category = category
        self.value = value
