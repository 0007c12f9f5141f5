"""The far end of the latency benchmarks: the simulated PBX in its own process, with load.

``python -m benchmarks.far_end --extensions N [--answer-delay S]`` prints ``{"port": P}``
and then obeys one JSON command per line on stdin:

- ``{"rate": R, "seconds": S}``: it sends event reports to its (one) client at R per second
  for S seconds and answers with what it sent and when (``{"sent": [...]}``), nothing more;
- ``{"end_calls": true}``: it gives up every call still ringing, one report each, and
  answers how many (``{"ended": N}``). Measurements ask for it once they have read their
  figures: sent with the load, these reports' work would count as the load's.

The simulator associates the client and answers its monitors and snapshots. The load is
made beforehand by the simulator's call model and encoded with the client's own cross
references, so that the sending is not slowed by encoding: outside calls that ring an
extension and are given up. ``incoming_call`` yields exactly one report (``delivered``,
the client's ``ringing``) and ``clear_call`` exactly one (``callCleared``, ``missed``):
every report has exactly one event at the client, found by its call id. Each extension
rings at most once at a time. A report's time is taken as it goes onto the socket, and
reports are paced on a millisecond grid: bursts would measure their own queue.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections import deque
from typing import Any, Final

from pbx_protocols.panasonic.codec import Asn1Value, Invoke
from pbx_protocols.panasonic.operations import Opcode
from pbx_protocols.panasonic.simulator import PanasonicSimulator, SimulatedPbx, SimulatorConfig
from pbx_protocols.panasonic.simulator.service import SimulatorSession

#: Reports are due on this grid (seconds).
TICK: Final = 0.001
CALLER: Final = "0301234567"
MAX_INVOKE_ID: Final = 32767
#: Seconds between the last report and the answer listing what was sent.
ANSWER_PAUSE: Final = 0.5
#: Reports prepared between two turns of the event loop: preparing a minute of load takes
#: longer than the client waits for a sign of life, so the simulator must keep answering.
PREPARE_BATCH: Final = 1000

#: (call id in hex, event kind at the client, monotonic time, wall-clock time) per report.
type Sent = tuple[str, str, float, float]
#: One prepared report: its bytes, call id and the kind of event it makes at the client.
type Prepared = tuple[bytes, str, str]


class LoadScript:
    """Rings extensions round-robin and gives the calls up again, as encoded reports."""

    def __init__(self, extensions: list[str]) -> None:
        self.pbx = SimulatedPbx(extensions)
        self.extensions = extensions
        self._next = 0
        self._ringing: deque[bytes] = deque()
        #: Half of the extensions ring at any time: none is ever offered a second call.
        self._most_ringing = max(1, len(extensions) // 2)
        self._captured: list[tuple[str, str, str, Asn1Value]] = []
        self.pbx.subscribe(lambda *report: self._captured.append(report))
        self._invoke_id = 0

    async def prepare(self, session: SimulatorSession, count: int) -> list[Prepared]:
        """``count`` reports to measure."""
        measured: list[Prepared] = []
        while len(measured) < count:
            batch = min(PREPARE_BATCH, count - len(measured))
            measured.extend(self._step(session) for _ in range(batch))
            await asyncio.sleep(0)
        return measured

    def end_calls(self, session: SimulatorSession) -> list[bytes]:
        """The reports that give up every call still ringing."""
        ends = []
        while self._ringing:
            ends.append(self._encode(session, *self._clear())[0])
        return ends

    def _step(self, session: SimulatorSession) -> Prepared:
        if len(self._ringing) >= self._most_ringing:
            return self._encode(session, *self._clear())
        number = self.extensions[self._next % len(self.extensions)]
        self._next += 1
        call_id = self.pbx.incoming_call(CALLER, number)
        self._ringing.append(call_id)
        return self._encode(session, call_id, "ringing")

    def _clear(self) -> tuple[bytes, str]:
        call_id = self._ringing.popleft()
        self.pbx.clear_call(call_id)
        return call_id, "missed"

    def _encode(self, session: SimulatorSession, call_id: bytes, kind: str) -> Prepared:
        ((device, family, name, value),) = self._captured
        self._captured.clear()
        cross_ref = session.cross_reference(device)
        assert cross_ref is not None, f"the client does not monitor {device}"
        self._invoke_id = self._invoke_id % MAX_INVOKE_ID + 1
        report = {"crossRefIdentifier": cross_ref, "eventSpecificInfo": (family, (name, value))}
        encoded = Invoke(self._invoke_id, Opcode.CSTA_EVENT_REPORT, report).encode()
        return encoded, call_id.hex(), kind


async def send_paced(session: SimulatorSession, reports: list[Prepared], rate: float) -> list[Sent]:
    """Send the reports ``rate`` a second; note when each went onto the socket."""
    sent: list[Sent] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    # This process is the instrument: its collector's pauses (tens of milliseconds with the
    # prepared reports in memory) would fall between a report's time and its sending, and
    # count as the client's latency.
    gc.disable()
    try:
        while len(sent) < len(reports):
            due = min(len(reports), int((loop.time() - start) * rate) + 1)
            while len(sent) < due:
                payload, call_id, kind = reports[len(sent)]
                sent.append((call_id, kind, time.monotonic(), time.time()))
                await session.send_raw(payload)
            await asyncio.sleep(TICK)
    finally:
        gc.enable()
    return sent


async def serve(args: argparse.Namespace) -> None:
    """Run the simulator and obey commands from stdin until it closes."""
    extensions = tuple(str(n) for n in range(10000, 10000 + args.extensions))
    config = SimulatorConfig(
        port=0,
        extensions=extensions,
        keepalive_interval=3600.0,
        outside=None,
        answer_delay=args.answer_delay,
    )
    script = LoadScript(list(extensions))
    async with PanasonicSimulator(config) as simulator:
        print(json.dumps({"port": simulator.port}), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command: dict[str, Any] = json.loads(line)
            session = simulator.sessions[-1]
            if command.get("end_calls"):
                ends = script.end_calls(session)
                for payload in ends:
                    await session.send_raw(payload)
                print(json.dumps({"ended": len(ends)}), flush=True)
                continue
            count = round(command["rate"] * command["seconds"])
            measured = await script.prepare(session, count)
            sent = await send_paced(session, measured, command["rate"])
            # Parsing this answer holds the measuring process's event loop for tens of
            # milliseconds: the reports still on their way would wait for it.
            await asyncio.sleep(ANSWER_PAUSE)
            print(json.dumps({"sent": sent}), flush=True)


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extensions", type=int, default=100)
    parser.add_argument("--answer-delay", type=float, default=0.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
