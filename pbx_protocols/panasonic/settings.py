"""What configuring a Panasonic connection takes, without loading the stack.

Forms and command-line options show these defaults; importing this module loads neither
asn1tools nor pyusb.
"""

from __future__ import annotations

from typing import Final

#: LAN CTI port of KX-TDA/TDE/NS PBXs (LinTcMon ``ATS_PORT``).
DEFAULT_PORT: Final = 33333

PANASONIC_VENDOR_ID: Final = 0x04DA
"""USB vendor id of Panasonic. Unverified: common knowledge, not read off a KX-TDA here."""
