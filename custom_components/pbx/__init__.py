"""The PBX integration: legacy phone systems in Home Assistant."""

from __future__ import annotations

DOMAIN = "pbx"
