"""What configuring an AlphaCom connection takes, without loading the stack.

Forms and command-line options show these defaults and check station lists; importing
this module loads neither the link layers nor the client.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

#: TCP ports of the AlphaCom API ("these ports only accept a single connection each").
DEFAULT_PORT: Final = 61112
SECOND_PORT: Final = 61113
DEFAULT_BAUD_RATE: Final = 9600
"""Unverified: the data ports' default serial settings are not documented; 9600 8N1 is
what the exchange's ICC link uses, and what AlphaPro's port settings commonly show."""


class LinkLayerKind(StrEnum):
    """Which link layer to speak; ``auto`` decides from the first bytes received."""

    AUTO = "auto"
    SIMPLE = "sll"
    DATA_LINK = "sdll"
    ISO1745 = "iso1745"


def station_range(text: str) -> tuple[str, ...]:
    """``101-110`` or ``101,102,200`` as station numbers (ValueError says what is wrong)."""
    numbers: list[str] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"{part!r} is not a number or a range like 101-110")
        if last:
            if int(last) < int(first) or int(last) - int(first) >= 10_000:
                raise ValueError(f"{part!r} is not a range of up to 10,000 numbers")
            numbers += [str(n) for n in range(int(first), int(last) + 1)]
        else:
            numbers.append(first)
    return tuple(dict.fromkeys(numbers))
