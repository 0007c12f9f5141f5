"""``script/benchmark startup``: how long the command line and the first decode take.

Each measurement starts a fresh interpreter, as a person typing the command does; the
median and the fastest of several runs are printed, next to a bare interpreter's start,
with the process's peak resident memory (``peak_rss_mb``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

#: A systemStatus invoke: the first PDU a client decodes after associating.
FIRST_PDU: Final = "a10c020101020200d330030a0102"

COMMANDS: Final = {
    "python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
    "pbx-protocols --version": [str(Path(sys.executable).with_name("pbx-protocols")), "--version"],
    "import pbx_protocols": [sys.executable, "-c", "import pbx_protocols"],
    "first decode (import, specification, decode)": [
        sys.executable,
        "-c",
        "from pbx_protocols.panasonic.codec import decode_pdu; "
        f"decode_pdu(bytes.fromhex('{FIRST_PDU}'))",
    ],
    "pbx-protocols decode panasonic": [
        str(Path(sys.executable).with_name("pbx-protocols")),
        "decode",
        "panasonic",
        FIRST_PDU,
    ],
}


#: Runs the command in a grandchild and prints its peak RSS (kB) on stderr. A direct child
#: would report at least this benchmark's own size: Linux carries the peak across fork and
#: exec. The grandchild inherits only this small interpreter's (``-S``: no site imports).
PEAK_RSS_PROBE: Final = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss_mb(command: list[str]) -> float:
    """The command's peak resident memory in MB."""
    probe = subprocess.run(
        [sys.executable, "-S", "-c", PEAK_RSS_PROBE, *command],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(probe.stderr.split()[-1]) / 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--runs", type=int, default=20, help="runs per command")


def main(args: argparse.Namespace) -> None:
    """Print one JSON line per command."""
    for name, command in COMMANDS.items():
        subprocess.run(command, check=True, capture_output=True)  # warm the file cache
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        print(
            json.dumps(
                {
                    "benchmark": "startup",
                    "command": name,
                    "median_ms": round(statistics.median(times) * 1000, 1),
                    "fastest_ms": round(min(times) * 1000, 1),
                    "peak_rss_mb": round(peak_rss_mb(command), 1),
                    "runs": args.runs,
                }
            ),
            flush=True,
        )
