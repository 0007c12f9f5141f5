"""``script/demo``: simulated phone systems and a real Home Assistant with the integration.

A Panasonic PBX and a Zenitel AlphaCom intercom exchange are simulated on loopback; a
3Com NBX sends its frames on a veth pair where the demo may make one (as root).

Where mosquitto is installed, a branch office joins: a second simulated PBX behind
``pbx-protocols``' MQTT bridge, which Home Assistant reaches as a remote site.
Everything is provisioned through Home Assistant's public HTTP and WebSocket APIs, as a
person in the browser would do it: the owner ``demo``/``demo``, the PBX added through the
config flow, extension names through the options flow, and a dashboard of the extensions.
Ctrl-C (or SIGTERM) stops everything within 5 s at any moment; if Home Assistant stops by
itself, the demo says so with the end of its log and exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Final, NoReturn

import aiohttp

from pbx_protocols.alphacom.settings import station_range
from pbx_protocols.alphacom.simulator import AlphaComSimulator
from pbx_protocols.alphacom.simulator import SimulatorConfig as AlphaComConfig
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatorConfig

from .hass_api import HomeAssistantApi
from .hass_process import ROOT, HomeAssistantExited, HomeAssistantProcess, prepare_config
from .mosquitto import MOSQUITTO
from .nbx_site import MONITOR_SIDE, SIMULATOR_SIDE, NbxSite, why_not
from .nbx_site import NAMES as NBX_NAMES
from .provision import (
    ALPHACOM_STATIONS,
    BRANCH_NAMES,
    DASHBOARD,
    PASSWORD,
    USERNAME,
    ensure_alphacom_entry,
    ensure_dashboard,
    ensure_nbx_entry,
    ensure_pbx_entry,
    ensure_remote_site,
    remove_unneeded_entries,
    signed_in_when_running,
)
from .remote_site import SITE, BranchSite, broker_port

#: A first start on a slow machine compiles and loads a lot; later ones take seconds.
STARTUP_TIMEOUT: Final = 300.0
EXIT_INTERRUPTED: Final = 130
#: The simulated intercom's station changes, in the configuration directory.
STATIONS_LOG: Final = "alphacom-stations.jsonl"


def say(message: str) -> None:
    """Progress for the person who started the demo."""
    print(f"==> {message}", file=sys.stderr, flush=True)


async def provision(
    api: HomeAssistantApi,
    hass: HomeAssistantProcess,
    pbx_port: int,
    alphacom_port: int,
    branch: tuple[int, bool] | None,
    nbx: NbxSite | None,
) -> None:
    """Wait for Home Assistant, then set up the owner, the PBXs and the dashboard.

    ``branch``: the broker's port and whether it changed, if there is a branch office.
    """
    async with asyncio.timeout(STARTUP_TIMEOUT):
        await signed_in_when_running(api, hass)
    await remove_unneeded_entries(api)
    say("Adding the simulated PBX through the config flow")
    await ensure_pbx_entry(api, pbx_port)
    say("Adding the simulated AlphaCom intercom exchange through the config flow")
    await ensure_alphacom_entry(api, alphacom_port)
    if nbx is not None:
        say("Adding the simulated 3Com NBX's network monitor through the config flow")
        await ensure_nbx_entry(api, MONITOR_SIDE, nbx.phones_text, NBX_NAMES)
    if branch is not None:
        say("Adding MQTT and the branch office as a remote PBX through the config flow")
        await ensure_remote_site(api, *branch, BRANCH_NAMES)
    await ensure_dashboard(api)


async def start_branch(
    stack: contextlib.AsyncExitStack, directory: Path, wanted_port: int | None
) -> tuple[int, bool] | None:
    """The branch office, if its broker starts; the port and whether it changed."""
    port, changed = broker_port(directory, wanted_port)
    try:
        await stack.enter_async_context(BranchSite(directory, port))
    except RuntimeError as err:
        say(f"The branch office is left out: {err} on port {port} (see {directory})")
        return None
    say(f"Branch office: a simulated PBX bridged to mosquitto on 127.0.0.1:{port} as site")
    say(f"{SITE!r} (mosquitto_sub -p {port} -t 'pbx/#' -v shows what it publishes)")
    return port, changed


async def start_nbx(stack: contextlib.AsyncExitStack) -> NbxSite | None:
    """The simulated NBX on a veth pair, if this process may make one."""
    reason = why_not()
    if reason is None:
        try:
            site = await stack.enter_async_context(NbxSite())
        except (OSError, RuntimeError) as err:
            reason = str(err)
        else:
            say(f"Simulated 3Com NBX sending on {SIMULATOR_SIDE}; Home Assistant listens on")
            say(f"{MONITOR_SIDE} (pbx-protocols monitor nbx --interface {MONITOR_SIDE} shows it)")
            return site
    say(f"The 3Com NBX is left out: {reason}")
    return None


async def run(args: argparse.Namespace, config_dir: Path) -> int:
    """Start everything, provision it, then run until interrupted or Home Assistant exits."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            return await serve(stack, args, config_dir)
        except asyncio.CancelledError:
            # Interrupted: the clean-up runs unhurried (the library's close() would pass a
            # pending cancellation on halfway), then the interruption is reported.
            if (task := asyncio.current_task()) is not None:
                task.uncancel()
            raise


async def serve(
    stack: contextlib.AsyncExitStack, args: argparse.Namespace, config_dir: Path
) -> NoReturn:
    """The simulated PBXs and Home Assistant, stopped by ``stack`` in reverse order."""
    simulator = PanasonicSimulator(
        SimulatorConfig(port=args.pbx_port, scenario=args.scenario, keepalive_interval=30.0)
    )
    await simulator.start()
    stack.push_async_callback(simulator.stop)
    say(f"Simulated Panasonic PBX with scenario {args.scenario} on 127.0.0.1:{simulator.port}")
    # What the intercom's stations show (display texts, mail), one JSON line per change.
    stations_log = stack.enter_context((config_dir / STATIONS_LOG).open("a", buffering=1))
    intercom = AlphaComSimulator(
        AlphaComConfig(
            port=args.alphacom_port,
            stations=station_range(ALPHACOM_STATIONS),
            scenario="busy-office",
            pace=3.0,
        ),
        on_station=lambda station: print(json.dumps(station.as_json()), file=stations_log),
    )
    await intercom.start()
    stack.push_async_callback(intercom.close)
    say(
        f"Simulated AlphaCom intercom exchange on 127.0.0.1:{intercom.port} "
        f"(its stations' displays in {config_dir / STATIONS_LOG})"
    )
    nbx = await start_nbx(stack)
    branch = None
    if MOSQUITTO is None:
        say(
            "mosquitto is not installed, so the branch office (a remote PBX through MQTT) "
            "is left out; script/setup installs it when run as root"
        )
    else:
        branch = await start_branch(stack, config_dir / "mosquitto", args.mqtt_port)
    hass = HomeAssistantProcess(config_dir)

    async def stop_hass() -> None:
        if hass.returncode is None:
            say("Stopping Home Assistant and the simulated PBXs")
        await hass.stop()

    stack.push_async_callback(stop_hass)
    say(f"Starting Home Assistant (config in {config_dir}, log in {hass.log})")
    await hass.start()
    base = f"http://127.0.0.1:{args.port}"
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantApi(session, base)
        try:
            await provision(api, hass, simulator.port, intercom.port, branch, nbx)
        finally:
            await api.close()
    print(
        f"Home Assistant is ready: {base}/{DASHBOARD}  (user {USERNAME}, password {PASSWORD})",
        flush=True,
    )
    say("Press Ctrl-C to stop")
    await hass.wait()
    raise hass.exited_error()


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
    parser.add_argument(
        "--alphacom-port",
        type=int,
        default=61112,
        help="the simulated AlphaCom exchange's port (61112)",
    )
    parser.add_argument("--scenario", default="busy-office", choices=["busy-office", "basic-call"])
    parser.add_argument(
        "--mqtt-port", type=int, help="the branch office's mosquitto port (default: as last time)"
    )
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
