"""Zenitel AlphaCom: the AlphaCom Data Protocol over TCP (61112/61113) or a serial port.

The names below load on first use, so that ``settings`` (defaults, station lists) does not
pay for the link layers and the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from .client import AlphaComClient, AlphaComConfig
    from .settings import LinkLayerKind

#: Public name -> the module that defines it.
_WHERE = {
    "AlphaComClient": "client",
    "AlphaComConfig": "client",
    "LinkLayerKind": "settings",
}

__all__ = ["AlphaComClient", "AlphaComConfig", "LinkLayerKind"]

__getattr__ = lazy_exports(__name__, _WHERE)
