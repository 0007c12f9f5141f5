"""3Com NBX: a passive monitor of the NBX's own Ethernet protocol (ethertype 0x8868)."""

from .client import NbxClient, NbxConfig
from .monitor import PhoneEntry, parse_phones

__all__ = ["NbxClient", "NbxConfig", "PhoneEntry", "parse_phones"]
