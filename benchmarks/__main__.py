"""``script/benchmark [decode|startup|latency|ha|bridge|alphacom|nbx]``: measurements.

Each prints one JSON line per measurement:

- ``decode`` (the default): CSTA event reports per second, decoded and mapped;
- ``startup``: the command line's start and the first decode, in fresh interpreters;
- ``latency``: wire to client callback at 100 to 15,000 reports/s, and connecting a large,
  slow PBX;
- ``ha``: a real Home Assistant at 100, 300 and 1,000 extensions, and Home Assistant's
  own floor for the same entity model (half an hour);
- ``bridge``: 10 sites of 100 extensions through one mosquitto at 500 events/s, simulator
  to remote client callback, and what each bridge process costs;
- ``alphacom``: AlphaCom simple-link-layer lines decoded per second, and data-link goodput
  and exactly-once delivery at 0 % and 10 % loss;
- ``nbx``: the NBX monitor's CPU while 100 calls' voice crosses a veth pair, against a
  naive scapy sniffer of the same traffic (needs root).
"""

from __future__ import annotations

import argparse
import sys

from . import alphacom, bridge, home_assistant, latency, nbx, panasonic_decode, startup

BENCHMARKS = {
    "decode": panasonic_decode,
    "startup": startup,
    "latency": latency,
    "ha": home_assistant,
    "bridge": bridge,
    "alphacom": alphacom,
    "nbx": nbx,
}


def main() -> None:
    """Run the benchmark named on the command line."""
    parser = argparse.ArgumentParser(prog="script/benchmark", description=__doc__)
    commands = parser.add_subparsers(dest="benchmark")
    for name, module in BENCHMARKS.items():
        module.add_arguments(commands.add_parser(name, help=(module.__doc__ or "").split("\n")[0]))
    arguments = sys.argv[1:] or ["decode"]
    args = parser.parse_args(arguments)
    BENCHMARKS[args.benchmark].main(args)


main()
