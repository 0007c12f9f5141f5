"""Asyncio protocol library for legacy PBXs; knows nothing of Home Assistant."""

__version__ = "0.1.0"
