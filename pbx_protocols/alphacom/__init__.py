"""Zenitel AlphaCom: the AlphaCom Data Protocol over TCP (61112/61113) or a serial port."""

from .client import AlphaComClient, AlphaComConfig
from .link_layer import LinkLayerKind

__all__ = ["AlphaComClient", "AlphaComConfig", "LinkLayerKind"]
