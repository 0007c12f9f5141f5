"""Fuzz targets of the 3Com NBX stack: the frame parser and the monitor model.

Each raises only PbxError, or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pbx_protocols.core.calls import CallTracker
from pbx_protocols.nbx.frames import ETHERTYPE, frame_as_json, parse_frame
from pbx_protocols.nbx.monitor import NbxMonitor, parse_phones
from pbx_protocols.nbx.simulator import Ncp, SimulatorConfig, timeline

FIXTURES = Path(__file__).parents[1] / "tests/fixtures/vectors"


def seeds() -> list[bytes]:
    """Every vector frame and a simulated NCP's frames (voice included)."""
    corpus = []
    for vector in json.loads((FIXTURES / "3com-nbx.json").read_text())["vectors"]:
        corpus.append(bytes(12) + bytes.fromhex(vector["frame_from_ethertype"]))
    for vector in json.loads((FIXTURES / "3com-nbx-more.json").read_text())["vectors"]:
        corpus.append(bytes.fromhex(vector["frame"]))
    config = SimulatorConfig(phones=4, duration=8, voice=True, vlan=None)
    frames = [frame for _, batch in timeline(Ncp.with_phones(4), config) for frame in batch]
    corpus += frames[::25]
    return corpus


def wraps() -> list[Callable[[bytes], bytes]]:
    """Adversarial content as the data of each frame type, tagged or not."""

    def frame(letter: bytes, *, tagged: bool) -> Callable[[bytes], bytes]:
        tag = b"\x81\x00\x00\x05" if tagged else b""
        header = bytes.fromhex("00e0bb000102") + bytes.fromhex("00e0bb0bd8be")
        return lambda content: (
            header + tag + ETHERTYPE.to_bytes(2, "big") + b"H" + letter + bytes(8) + content
        )

    return [
        frame(letter, tagged=t) for letter in (b"H", b"E", b"R", b"U", b"A") for t in (False, True)
    ]


def _frames(data: bytes) -> None:
    frame_as_json(parse_frame(data))


class Monitor:
    """Frames into one long-lived monitor (phones learned, calls followed, time passing)."""

    def __init__(self) -> None:
        tracker = CallTracker()
        tracker.set_link_up(True)
        phones = parse_phones("101; 0; 00:e0:bb:00:01:01\n102; 1; 00:e0:bb:00:01:02\n")
        self.monitor = NbxMonitor(tracker, phones)
        self.now = 0.0

    def __call__(self, data: bytes) -> None:
        """Follow one frame, 10 ms after the last."""
        self.now += 0.01
        self.monitor.frame(parse_frame(data), self.now)
        if int(self.now * 100) % 100 == 0:
            self.monitor.tick(self.now)
        self.monitor.tracker.pop_changed()


def targets() -> dict[str, Callable[[bytes], None]]:
    """The NBX targets, by name."""
    return {"nbx-frames": _frames, "nbx-monitor": Monitor()}
