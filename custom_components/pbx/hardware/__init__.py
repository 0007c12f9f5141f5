"""The hardware types the integration knows: the one table a new PBX family extends.

Each family module declares its :class:`~.base.HardwareType` entries (menu key, client
factory, reconfigure step, login) and a mixin with its config-flow steps; the flow, the
entities, events and actions stay the same for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant

from pbx_protocols.core.client import PbxClient
from pbx_protocols.core.watchdog import DEAD_LINK_TIMEOUT

from ..const import CONF_HARDWARE, CONF_LINK_TIMEOUT
from .alphacom import ALPHACOM_SERIAL, ALPHACOM_TCP, AlphaComSteps
from .base import HardwareSteps, HardwareType, async_load_stack
from .nbx import NBX, NbxSteps
from .panasonic import PANASONIC_LAN, PANASONIC_USB, PanasonicSteps
from .remote import REMOTE, RemoteSteps

#: Every hardware type, in the order of the config flow's menu.
HARDWARE_TYPES: Final[dict[str, HardwareType]] = {
    hardware.key: hardware
    for hardware in (PANASONIC_LAN, PANASONIC_USB, ALPHACOM_TCP, ALPHACOM_SERIAL, NBX, REMOTE)
}

__all__ = [
    "HARDWARE_TYPES",
    "AlphaComSteps",
    "HardwareSteps",
    "NbxSteps",
    "PanasonicSteps",
    "RemoteSteps",
    "async_create_client",
    "async_load_stack",
]


async def async_create_client(
    hass: HomeAssistant, data: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> PbxClient:
    """Load the entry's stack, then build its library client from its data and options."""
    hardware = HARDWARE_TYPES[data[CONF_HARDWARE]]
    await async_load_stack(hass, hardware.stack)
    options = options or {}
    link_timeout = float(options.get(CONF_LINK_TIMEOUT) or DEAD_LINK_TIMEOUT)
    settings = {**data, **{key: options[key] for key in hardware.option_fields if key in options}}
    return hardware.create_client(hass, settings, link_timeout)
