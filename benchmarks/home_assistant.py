"""``script/benchmark ha``: a real Home Assistant with the integration, at office scale.

For each number of extensions, a fresh ``hass`` process is configured the demo's way
(:mod:`demo`) and the simulated PBX runs in a process of its own
(:mod:`benchmarks.far_end`). The PBX is added through the config flow, then measured:

- ``config_flow_s``: the config flow's last step (connection test, entry created, set up);
- then Home Assistant restarts with the PBX configured, as a user's does, and:
- ``entry_load_s``: the time Home Assistant itself reports for setting up the integration
  at start (``integration/setup_info``);
- ``reload_s``: reloading the entry (unload and set up again), ``all_available_s``: from
  the reload until every extension's line is available (both after the rates below);
- ``rss_kb_per_extension``: resident memory of Home Assistant with the PBX, against the
  same Home Assistant without it (both after start-up and the recorder settled), divided
  by the extensions; after all sizes, that growth split into a fixed part and a part per
  added extension (``memory_fixed_mb``, ``memory_kb_per_added_extension``);
- per rate: ``p50_ms``/``p99_ms``/``max_ms`` from a report leaving the PBX to the
  ``state_changed`` of the extension's line sensor (its ``time_fired``; both clocks are
  this machine's; the call event entities start disabled above 100 extensions),
  ``lag_growth_ms``, ``gc_full_collections`` and ``gc_longest_ms``: Home Assistant's full
  garbage collections meanwhile, which hold its event loop for tenths of
  a second (:mod:`benchmarks.gc_passes`), and ``cpu_ms_per_report``: Home Assistant's CPU
  time per report beyond what it spends idle, counted until its recorder has committed what
  the reports queued; the calls still ringing are given up only after that (their reports
  are not the rate's); ``cpu_ms_per_report_in_full_collections``: how much of it went to
  full collections that started meanwhile (from the first report to the CPU's reading).
  One WebSocket client follows every state change,
  as an open dashboard does (:mod:`benchmarks.ha_followers`; ``--follow``);
- then the same runs with Home Assistant's floor in place of the PBX: an integration with
  the same entity model and writes, no PBX (:mod:`benchmarks.ha_reference`; skipped with
  ``--no-reference``), and at the end, per run and rate, what the PBX's integration costs
  beyond it (``over_floor``: CPU per report and memory per extension).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp

from demo.hass_api import HomeAssistantApi
from demo.hass_process import HomeAssistantProcess, prepare_config
from demo.provision import ensure_pbx_entry, sign_in

from .far_end_process import FarEnd
from .gc_passes import full_collection_seconds, full_collections, probe_environment
from .ha_followers import FOLLOWERS, Follower
from .ha_reference import (
    REFERENCE_DOMAIN,
    REFERENCE_EVENT_TYPE,
    add_reference_entry,
    end_reference_calls,
    make_reference_calls,
    reference_path,
)
from .panasonic_decode import calibration
from .process_usage import CpuReading, cpu_between, read_cpu, rss_bytes
from .stats import lag_growth, match, summary

DOMAIN: Final = "pbx"
SIZES: Final = (100, 300, 1_000)
RATES: Final = (20, 200)
STARTUP_TIMEOUT: Final = 300.0
#: Home Assistant's CPU is measured idle for this long before each rate.
IDLE_SECONDS: Final = 3.0
#: Home Assistant with a thousand extensions may take a while to stop cleanly.
STOP_GRACE: Final = 120.0
#: Quiet time after start-up before memory and CPU are read.
SETTLE: Final = 2.0
DRAIN: Final = 5.0
#: CPU is counted this long past the last report: the recorder writes what it queued at its
#: next commit (every 5 s by default), and that work belongs to the reports too.
CPU_TAIL: Final = 6.0
#: What the README advises a large site to add: the recorder leaves out the lines' and call
#: entities' states and the call events (the logbook and history then lack them).
RECORDER_WITHOUT_PBX: Final = """\
recorder:
  exclude:
    entity_globs:
      - sensor.*_line
      - event.*_call
    event_types:
      - {event_type}
"""
#: The integration's bus event per call (``custom_components.pbx.const.EVENT_CALL``; a test
#: pins the two): the benchmark's process need not import the integration for it.
PBX_EVENT_TYPE: Final = "pbx_call_event"


def emit(line: dict[str, Any]) -> None:
    """One JSON line per measurement."""
    print(json.dumps(line), flush=True)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def slow_update_warnings(hass: HomeAssistantProcess) -> int:
    """How often Home Assistant logged that updating a state took too long."""
    try:
        text = hass.log.read_text(errors="replace")
    except OSError:
        return 0
    return text.count("Updating state for")


async def all_lines_available(api: HomeAssistantApi, extensions: int) -> None:
    """Wait until every extension's line sensor exists and is available."""
    while True:
        states = await api.ws({"type": "get_states"})
        lines = [
            s
            for s in states
            if s["entity_id"].startswith("sensor.")
            and "ringing" in s["attributes"].get("options", [])
        ]
        if len(lines) >= extensions and all(s["state"] != "unavailable" for s in lines):
            return
        await asyncio.sleep(0.1)


async def recorder_idle(api: HomeAssistantApi) -> None:
    """Wait until the recorder has written everything queued (setting up queues a lot)."""
    while (await api.ws({"type": "recorder/info"}))["backlog"]:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


async def started(api: HomeAssistantApi, hass: HomeAssistantProcess) -> None:
    """Start Home Assistant and wait until it runs and its recorder has caught up."""
    await hass.start()
    step = "answer HTTP"
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT):
            await api.wait_until_up(hass)
            step = "let the owner sign in"
            await sign_in(api)
            step = "finish starting"
            await api.wait_running()
            step = "let its recorder catch up"
            await recorder_idle(api)
    except TimeoutError as err:
        tail = hass.log_tail(20)
        raise RuntimeError(f"Home Assistant did not {step} in time; its log ends:\n{tail}") from err
    await asyncio.sleep(SETTLE)


def configure(config_dir: Path, port: int, recorder: str, event_type: str) -> None:
    """The demo's configuration; with the recorder advice (``without-pbx``) if asked.

    ``event_type``: the integration's call event, which the advice leaves out too.
    """
    prepare_config(config_dir, port)
    if recorder == "without-pbx":
        with (config_dir / "configuration.yaml").open("a") as configuration:
            configuration.write(RECORDER_WITHOUT_PBX.format(event_type=event_type))


@dataclass(frozen=True, slots=True)
class Measured:
    """One run's memory growth (bytes) and CPU per report (ms) at each rate."""

    rss_growth: int
    cpu_ms_per_report: dict[int, float]


@dataclass(slots=True)
class Restarted:
    """Home Assistant restarted with an integration configured, and what that took."""

    api: HomeAssistantApi
    hass: HomeAssistantProcess
    entry_id: str
    config_flow_s: float
    rss_growth: int


@asynccontextmanager
async def restarted_with(
    config_dir: Path,
    port: int,
    session: aiohttp.ClientSession,
    extensions: int,
    add_entry: Callable[[HomeAssistantApi], Awaitable[str]],
    env: dict[str, str] | None = None,
) -> AsyncIterator[Restarted]:
    """Add an integration's entry, restart, and measure the memory it added.

    ``add_entry`` adds the entry and returns its id. Memory is read after a restart with
    the entry configured, as a user's Home Assistant runs: the recorder sizes its caches
    for the entities it finds at start (added later, 2,000 entities overflow them and every
    state write queries the database).
    """
    hass = HomeAssistantProcess(config_dir, env=env)
    api = HomeAssistantApi(session, f"http://127.0.0.1:{port}")
    try:
        await started(api, hass)
        rss_without = rss_bytes(hass.pid)
        begin = time.monotonic()
        entry_id = await add_entry(api)
        config_flow_s = time.monotonic() - begin
        await all_lines_available(api, extensions)
        await recorder_idle(api)
    finally:
        await api.close()
        # A clean stop: a killed recorder makes the next start check the database.
        await hass.stop(grace=STOP_GRACE)
    hass = HomeAssistantProcess(config_dir, env=env)
    api = HomeAssistantApi(session, f"http://127.0.0.1:{port}")
    try:
        await started(api, hass)
        await all_lines_available(api, extensions)
        await recorder_idle(api)
        yield Restarted(api, hass, entry_id, config_flow_s, rss_bytes(hass.pid) - rss_without)
    finally:
        await api.close()
        await hass.stop(grace=10.0)


async def measure(
    extensions: int,
    rates: tuple[int, ...],
    seconds: float,
    work: Path,
    recorder: str,
    follow: str,
) -> Measured:
    """Everything for one office size, in a fresh Home Assistant."""
    config_dir = work / f"ha-{extensions}-{recorder}"
    port = free_port()
    configure(config_dir, port, recorder, PBX_EVENT_TYPE)
    async with FarEnd(extensions) as far, aiohttp.ClientSession() as session:

        def add_pbx(api: HomeAssistantApi) -> Awaitable[str]:
            return ensure_pbx_entry(api, far.port, names={}, voice_extension=None)

        async with restarted_with(
            config_dir, port, session, extensions, add_pbx, probe_environment(config_dir)
        ) as restarted:
            api, hass = restarted.api, restarted.hass
            setup_info = await api.ws({"type": "integration/setup_info"})
            entry_load_s = sum(i["seconds"] for i in setup_info if i.get("domain") == DOMAIN)
            follower = Follower(follow)
            await follower.start(api)
            # The rates before the reload, as the floor has them (it has no reload): what a
            # reload leaves behind (a thousand extensions' old entities, in cycles) waits
            # for Home Assistant's next full collection, which then freed it while the
            # reports waited: 0.54-0.74 s instead of 0.29-0.35 s (the floor's: 0.30-0.44).
            rate_lines = [
                await measure_rate(api, hass, far, follower, extensions, rate, seconds, recorder)
                for rate in rates
            ]
            await settled(api)  # the ends of the calls the last rate left ringing
            begin = time.monotonic()
            await api.request(
                "POST",
                f"/api/config/config_entries/entry/{restarted.entry_id}/reload",
                headers=api.headers,
            )
            reload_s = time.monotonic() - begin
            await all_lines_available(api, extensions)
            all_available_s = time.monotonic() - begin
            emit(
                {
                    "benchmark": "ha",
                    "recorder": recorder,
                    "extensions": extensions,
                    "config_flow_s": round(restarted.config_flow_s, 2),
                    "entry_load_s": round(entry_load_s, 2),
                    "reload_s": round(reload_s, 2),
                    "all_available_s": round(all_available_s, 2),
                    **memory(restarted.rss_growth, extensions),
                }
            )
            for line in rate_lines:
                emit(line)
    cpu = {line["rate"]: line["cpu_ms_per_report"] for line in rate_lines}
    return Measured(restarted.rss_growth, cpu)


async def measure_reference(
    extensions: int, rates: tuple[int, ...], seconds: float, work: Path, recorder: str, follow: str
) -> Measured:
    """Home Assistant's own floor: the entity model's memory and writes, with no PBX."""
    config_dir = work / f"ha-{extensions}-reference-{recorder}"
    port = free_port()
    configure(config_dir, port, recorder, REFERENCE_EVENT_TYPE)
    env = probe_environment(config_dir, reference_path(work))

    def add_reference(api: HomeAssistantApi) -> Awaitable[str]:
        return add_reference_entry(api, extensions)

    async with (
        aiohttp.ClientSession() as session,
        restarted_with(config_dir, port, session, extensions, add_reference, env) as restarted,
    ):
        emit(
            {
                "benchmark": "ha",
                "integration": REFERENCE_DOMAIN,
                "recorder": recorder,
                "extensions": extensions,
                **memory(restarted.rss_growth, extensions),
            }
        )
        follower = Follower(follow)  # the same dashboard client: its frames cost CPU too
        await follower.start(restarted.api)
        cpu = {
            rate: await measure_reference_rate(
                restarted.api, restarted.hass, extensions, rate, seconds, recorder
            )
            for rate in rates
        }
    return Measured(restarted.rss_growth, cpu)


def memory(rss_growth: int, extensions: int) -> dict[str, float]:
    """The memory an entry added, in all and per extension."""
    return {
        "rss_growth_mb": round(rss_growth / 1e6, 1),
        "rss_kb_per_extension": round(rss_growth / 1024 / extensions, 1),
    }


async def measure_rate(
    api: HomeAssistantApi,
    hass: HomeAssistantProcess,
    far: FarEnd,
    follower: Follower,
    extensions: int,
    rate: int,
    seconds: float,
    recorder: str,
) -> dict[str, Any]:
    """Latency and CPU per report at one rate: the line to print."""
    idle_per_second = await idle_cpu(api, hass)
    follower.arrivals()  # forget what came before
    cpu, started, began = read_cpu(hass.pid), time.monotonic(), time.time()
    sent = await far.load(rate, seconds)
    last = time.monotonic()
    wall = [(call_id, kind, moment) for call_id, kind, _, moment in sent]
    received: list[tuple[str, str, float]] = []
    deadline = time.monotonic() + DRAIN
    while time.monotonic() < deadline:  # with no client, nothing arrives: the CPU tail waits
        received += follower.arrivals()
        if len(match(wall, received)) == len(sent):
            break
        await asyncio.sleep(0.05)
    collections = full_collections(hass.config_dir, began, time.time())
    busy = await busy_cpu(api, hass, cpu, started, last, idle_per_second)
    collecting = full_collection_seconds(hass.config_dir, began, time.time())
    await far.end_calls()  # after the CPU is read: these reports are not the load's
    delays = match(wall, received)
    return {
        "benchmark": "ha",
        "recorder": recorder,
        "follow": follower.way,
        "extensions": extensions,
        "rate": rate,
        "sent": len(sent),
        "received": len(delays),
        **summary(delays),
        "lag_growth_ms": lag_growth(delays),
        **collections,
        "cpu_ms_per_report": round(busy / len(sent) * 1000, 3),
        "cpu_ms_per_report_in_full_collections": round(collecting / len(sent) * 1000, 3),
        "idle_cpu_percent": round(idle_per_second * 100, 1),
        "slow_update_warnings": slow_update_warnings(hass),
    }


async def settled(api: HomeAssistantApi) -> None:
    """Wait until what came before (a rate, the calls it left ringing) is done and written."""
    await asyncio.sleep(DRAIN)
    await recorder_idle(api)


async def idle_cpu(api: HomeAssistantApi, hass: HomeAssistantProcess) -> float:
    """Home Assistant's CPU seconds per second when idle, after earlier work is done."""
    await settled(api)
    idle = read_cpu(hass.pid)
    await asyncio.sleep(IDLE_SECONDS)
    return cpu_between(idle, read_cpu(hass.pid)) / IDLE_SECONDS


async def busy_cpu(
    api: HomeAssistantApi,
    hass: HomeAssistantProcess,
    cpu: CpuReading,
    started: float,
    last: float,
    idle_per_second: float,
) -> float:
    """CPU seconds spent on a load beyond idle, once the recorder committed what it queued.

    ``cpu`` and ``started`` were read as the load began; ``last`` is when it ended.
    """
    await asyncio.sleep(max(0.0, last + CPU_TAIL - time.monotonic()))
    await recorder_idle(api)
    busy = cpu_between(cpu, read_cpu(hass.pid)) - idle_per_second * (time.monotonic() - started)
    return max(busy, 0.0)


async def measure_reference_rate(
    api: HomeAssistantApi,
    hass: HomeAssistantProcess,
    extensions: int,
    rate: int,
    seconds: float,
    recorder: str,
) -> float:
    """Home Assistant's CPU for the writes of ``rate`` call events a second, with no PBX.

    Return the CPU (ms per event).
    """
    idle_per_second = await idle_cpu(api, hass)
    cpu, started, began = read_cpu(hass.pid), time.monotonic(), time.time()
    late = await make_reference_calls(api, rate, seconds)
    collections = full_collections(hass.config_dir, began, time.time())
    busy = await busy_cpu(api, hass, cpu, started, time.monotonic(), idle_per_second)
    collecting = full_collection_seconds(hass.config_dir, began, time.time())
    await end_reference_calls(api)  # as the PBX's runs end theirs
    late_ms = summary(late)
    cpu_ms_per_report = round(busy / len(late) * 1000, 3)
    emit(
        {
            "benchmark": "ha",
            "integration": REFERENCE_DOMAIN,
            "recorder": recorder,
            "extensions": extensions,
            "rate": rate,
            "sent": len(late),
            # how late the event loop let it make its events: the PBX's reports wait as long
            "late_p50_ms": late_ms["p50_ms"],
            "late_p99_ms": late_ms["p99_ms"],
            "late_max_ms": late_ms["max_ms"],
            **collections,
            "cpu_ms_per_report": cpu_ms_per_report,
            "cpu_ms_per_report_in_full_collections": round(collecting / len(late) * 1000, 3),
            "idle_cpu_percent": round(idle_per_second * 100, 1),
        }
    )
    return cpu_ms_per_report


async def run(args: argparse.Namespace) -> None:
    """Every office size, one after the other, each in a fresh Home Assistant."""
    runs = [(n, "all") for n in args.extensions] if args.recorder != "without-pbx" else []
    if args.recorder != "all":  # the advice for a large site, at the largest size
        runs.append((max(args.extensions), "without-pbx"))
    pbx: dict[tuple[int, str], Measured] = {}
    floor: dict[tuple[int, str], Measured] = {}
    emit(calibration("ha", "before"))
    with tempfile.TemporaryDirectory(prefix="pbx-benchmark-ha-") as work:
        for extensions, recorder in runs:
            pbx[extensions, recorder] = await measure(
                extensions, tuple(args.rates), args.seconds, Path(work), recorder, args.follow
            )
        if args.reference:  # the same runs, with the reference in place of the PBX
            for extensions, recorder in runs:
                floor[extensions, recorder] = await measure_reference(
                    extensions, tuple(args.rates), args.seconds, Path(work), recorder, args.follow
                )
    emit(calibration("ha", "after"))
    for label, measured_runs in (
        ({"recorder": "all"}, pbx),
        ({"integration": REFERENCE_DOMAIN}, floor),
    ):
        growth = {
            n: m.rss_growth for (n, recorder), m in measured_runs.items() if recorder == "all"
        }
        if len(growth) >= 2:  # the sizes recorded everything: a fixed part and one per extension
            emit({"benchmark": "ha", **label, **memory_fit(growth)})
    for line in over_floor(pbx, floor):
        emit(line)


def over_floor(
    pbx: dict[tuple[int, str], Measured], floor: dict[tuple[int, str], Measured]
) -> list[dict[str, Any]]:
    """What the integration costs beyond Home Assistant's floor, run by run (same minutes)."""
    lines: list[dict[str, Any]] = []
    for (extensions, recorder), measured in pbx.items():
        reference = floor.get((extensions, recorder))
        if reference is None:
            continue
        lines.extend(
            {
                "benchmark": "ha",
                "over_floor": True,
                "recorder": recorder,
                "extensions": extensions,
                "rate": rate,
                "cpu_ms_per_report": round(cpu - reference.cpu_ms_per_report[rate], 3),
                "rss_kb_per_extension": round(
                    (measured.rss_growth - reference.rss_growth) / 1024 / extensions, 1
                ),
            }
            for rate, cpu in measured.cpu_ms_per_report.items()
            if rate in reference.cpu_ms_per_report
        )
    return lines


def memory_fit(growth: dict[int, int]) -> dict[str, Any]:
    """Memory as a fixed part plus a part per extension (least squares over the sizes)."""
    sizes = list(growth)
    mean_n = sum(sizes) / len(sizes)
    mean_rss = sum(growth.values()) / len(sizes)
    slope = sum((n - mean_n) * (growth[n] - mean_rss) for n in sizes) / sum(
        (n - mean_n) ** 2 for n in sizes
    )
    return {
        "memory_fixed_mb": round((mean_rss - slope * mean_n) / 1e6, 1),
        "memory_kb_per_added_extension": round(slope / 1024, 1),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per rate")
    parser.add_argument("--rates", type=int, nargs="+", default=list(RATES))
    parser.add_argument("--extensions", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--recorder",
        choices=["all", "without-pbx", "both"],
        default="both",
        help="record everything (Home Assistant's default), leave the PBX's states and call "
        "events out (the advice for a large site), or both: every size recording "
        "everything, then the largest without the PBX (default)",
    )
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip Home Assistant's own floor: the memory and CPU of the same entity model "
        "from an integration with no PBX behind it, in the same runs as the PBX "
        "(benchmarks/reference_integration)",
    )
    parser.add_argument(
        "--follow",
        choices=FOLLOWERS,
        default="entities",
        help="how the WebSocket client follows the states: as the frontend does "
        "(subscribe_entities, the default), every state_changed event in full, or no "
        "client (CPU only)",
    )


def main(args: argparse.Namespace) -> None:
    """Run the benchmark."""
    asyncio.run(run(args))
