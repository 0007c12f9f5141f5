"""The demo's 3Com NBX: a simulated call processor and phones on a veth pair of this host.

The simulator sends its frames on one end (``pbxnbx0``); Home Assistant's NBX monitor
listens on the other (``pbxnbx1``), as it would on a mirror port. Making a veth pair
needs root (CAP_NET_ADMIN); without it the NBX is left out and the demo says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from types import TracebackType
from typing import Final, Self

from pbx_protocols.nbx.simulator import Ncp, SimulatorConfig, run_on_interface

SIMULATOR_SIDE: Final = "pbxnbx0"
MONITOR_SIDE: Final = "pbxnbx1"
FIRST_PHONE: Final = 401
PHONES: Final = 6
NAMES: Final = {"401": "Shipping", "402": "Loading dock", "406": "Print room"}


def why_not() -> str | None:
    """None if this process can make the veth pair, else why it cannot."""
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "making a veth pair needs root (run the demo as root to include it)"
    return None


async def _ip(*argv: str, check: bool = True) -> None:
    process = await asyncio.create_subprocess_exec(
        "ip", *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if check and process.returncode:
        raise RuntimeError(f"ip {' '.join(argv)}: {err.decode().strip()}")


class NbxSite:
    """The veth pair and the simulated NCP sending on it (``async with``)."""

    def __init__(self) -> None:
        self.ncp = Ncp.with_phones(PHONES, first=FIRST_PHONE)
        self._task: asyncio.Task[int] | None = None

    @property
    def phones_text(self) -> str:
        """The phones list for the config flow (names are set as for every PBX)."""
        return "".join(f"{p.number}; {p.slot}; {p.mac}\n" for p in self.ncp.phones)

    async def __aenter__(self) -> Self:
        await _ip("link", "del", SIMULATOR_SIDE, check=False)  # left by an earlier run
        await _ip("link", "add", SIMULATOR_SIDE, "type", "veth", "peer", "name", MONITOR_SIDE)
        for interface in (SIMULATOR_SIDE, MONITOR_SIDE):
            await _ip("link", "set", interface, "up")
        config = SimulatorConfig(phones=PHONES, scenario="busy-office")
        self._task = asyncio.create_task(run_on_interface(self.ncp, config, SIMULATOR_SIDE))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await self._task
        await _ip("link", "del", SIMULATOR_SIDE, check=False)  # takes its peer with it
