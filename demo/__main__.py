"""``script/demo``: a simulated Panasonic PBX and a real Home Assistant with the integration.

Everything is provisioned through Home Assistant's public HTTP and WebSocket APIs, as a
person in the browser would do it: the owner ``demo``/``demo``, the PBX added through the
config flow, extension names through the options flow, and a dashboard of the extensions.
Ctrl-C (or SIGTERM) stops everything within 5 s at any moment; if Home Assistant stops by
itself, the demo says so with the end of its log and exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Final

import aiohttp

from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig

from .hass_api import HomeAssistantApi
from .hass_process import ROOT, HomeAssistantExited, HomeAssistantProcess, prepare_config
from .provision import (
    DASHBOARD,
    PASSWORD,
    USERNAME,
    ensure_dashboard,
    ensure_pbx_entry,
    remove_unneeded_entries,
    sign_in,
)

#: A first start on a slow machine compiles and loads a lot; later ones take seconds.
STARTUP_TIMEOUT: Final = 300.0
EXIT_INTERRUPTED: Final = 130


def say(message: str) -> None:
    """Progress for the person who started the demo."""
    print(f"==> {message}", file=sys.stderr, flush=True)


async def provision(api: HomeAssistantApi, hass: HomeAssistantProcess, pbx_port: int) -> None:
    """Wait for Home Assistant, then set up the owner, the PBX and the dashboard."""
    async with asyncio.timeout(STARTUP_TIMEOUT):
        await api.wait_until_up(hass)
        await sign_in(api)
        await api.wait_running()
    await remove_unneeded_entries(api)
    say("Adding the simulated PBX through the config flow")
    await ensure_pbx_entry(api, pbx_port)
    await ensure_dashboard(api)


async def run(args: argparse.Namespace, config_dir: Path) -> int:
    """Start everything, provision it, then run until interrupted or Home Assistant exits."""
    simulator = PanasonicSimulator(
        SimulatorConfig(port=args.pbx_port, scenario=args.scenario, keepalive_interval=30.0)
    )
    hass = HomeAssistantProcess(config_dir)
    try:
        await simulator.start()
        say(f"Simulated Panasonic PBX with scenario {args.scenario} on 127.0.0.1:{simulator.port}")
        say(f"Starting Home Assistant (config in {config_dir}, log in {hass.log})")
        await hass.start()
        base = f"http://127.0.0.1:{args.port}"
        async with aiohttp.ClientSession() as session:
            api = HomeAssistantApi(session, base)
            try:
                await provision(api, hass, simulator.port)
            finally:
                await api.close()
        print(
            f"Home Assistant is ready: {base}/{DASHBOARD}  (user {USERNAME}, password {PASSWORD})",
            flush=True,
        )
        say("Press Ctrl-C to stop")
        await hass.wait()
        raise hass.exited_error()
    finally:
        if hass.returncode is None:
            say("Stopping Home Assistant and the simulated PBX")
        await hass.stop()
        await simulator.stop()


async def main_async(args: argparse.Namespace, config_dir: Path) -> int:
    """Run the demo; Ctrl-C or SIGTERM cancels it wherever it is."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        if not interrupted:  # a second Ctrl-C does not cut the clean-up short
            interrupted = True
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    try:
        return await run(args, config_dir)
    except asyncio.CancelledError:
        if not interrupted:
            raise
        task.uncancel()
        return EXIT_INTERRUPTED
    except HomeAssistantExited as err:
        say(str(err))
        return 1
    except (OSError, RuntimeError, TimeoutError) as err:
        say(f"The demo could not start: {err!r}")
        return 1


def main() -> None:
    """Parse the command line and run the demo."""
    parser = argparse.ArgumentParser(prog="script/demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's HTTP port (8123)")
    parser.add_argument(
        "--pbx-port", type=int, default=33333, help="the simulated PBX's port (33333)"
    )
    parser.add_argument("--scenario", default="busy-office", choices=["busy-office", "basic-call"])
    parser.add_argument(
        "--config-dir",
        default=str(ROOT / ".ha-demo"),
        help="Home Assistant's configuration directory (.ha-demo)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config_dir = Path(args.config_dir).resolve()
    prepare_config(config_dir, args.port)
    sys.exit(asyncio.run(main_async(args, config_dir)))


if __name__ == "__main__":
    main()
