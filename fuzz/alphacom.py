"""Fuzz targets of the Zenitel AlphaCom stack: link layers, codec, broadcast mapping.

Each raises only PbxError, or nothing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

from pbx_protocols.alphacom.codec import decode_packet
from pbx_protocols.alphacom.data_link import DataLinkLayer, build_frame
from pbx_protocols.alphacom.events import BroadcastMapper
from pbx_protocols.alphacom.iso1745 import ISO1745_PROFILE, Iso1745Link, enquiry, text_block
from pbx_protocols.alphacom.link_layer import (
    LinkLayer,
    SimpleLinkLayer,
    format_simple_line,
    parse_simple_line,
)
from pbx_protocols.core.calls import CallTracker
from pbx_protocols.core.errors import PbxError

FIXTURES = Path(__file__).parents[1] / "tests/fixtures/vectors"
#: An AlphaCom message header: from the exchange (node 1, 0x41) to all, hop byte, class
#: 'A', reference 0x0015; a message id and parameters follow.
_HEADER = bytes.fromhex("014101FF2118410015")


def seeds() -> list[bytes]:
    """Every vector's network message."""
    corpus = []
    for name in ("zenitel-alphacom.json", "zenitel-alphacom-broadcasts.json"):
        for vector in json.loads((FIXTURES / name).read_text())["vectors"]:
            try:
                corpus.append(parse_simple_line(vector["line"].encode()))
            except PbxError:
                continue  # the corrupted-checksum vector
    return corpus


def wraps() -> list[Callable[[bytes], bytes]]:
    """Adversarial content as a message's parameters, under known and unknown ids."""

    def message(message_id: int) -> Callable[[bytes], bytes]:
        return lambda content: _HEADER + message_id.to_bytes(2, "big") + content

    return [message(i) for i in (0x0032, 0x0036, 0x0040, 0x0041, 0x0050, 0x0060, 0x7777)]


def _link_target(
    layer_factory: Callable[[], LinkLayer], frame: Callable[[bytes], bytes]
) -> Callable[[bytes], None]:
    """Raw bytes into a fresh link layer (and as a well-formed frame); decode each message."""

    def target(data: bytes) -> None:
        for chunk in (data, frame(data)):
            layer = layer_factory()
            for message in layer.receive(chunk, 0.0):
                with contextlib.suppress(PbxError):
                    decode_packet(message)
            layer.on_deadline(100.0)

    return target


def _selected_iso1745() -> Iso1745Link:
    layer = Iso1745Link()
    layer.receive(enquiry(ISO1745_PROFILE.select_address, reset=True), 0.0)
    return layer


def _synced_data_link() -> DataLinkLayer:
    layer = DataLinkLayer()
    layer.start(0.0)
    return layer


class Mapping:
    """Messages through the codec into one long-lived broadcast mapper (state builds up)."""

    def __init__(self) -> None:
        self.tracker = CallTracker()
        self.tracker.set_link_up(True)
        self.mapper = BroadcastMapper(self.tracker, 1)

    def __call__(self, data: bytes) -> None:
        """Decode one message and map it."""
        packet = decode_packet(data)
        self.mapper.apply(packet)
        self.tracker.pop_changed()


def _decode(data: bytes) -> None:
    decode_packet(data)


def targets() -> dict[str, Callable[[bytes], None]]:
    """The AlphaCom targets, by name."""
    return {
        "alphacom-codec": _decode,
        "alphacom-mapping": Mapping(),
        "alphacom-sll": _link_target(SimpleLinkLayer, lambda d: format_simple_line(d or b"\x00")),
        "alphacom-sdll": _link_target(_synced_data_link, lambda d: build_frame(1, 0, d)),
        "alphacom-iso1745": _link_target(_selected_iso1745, lambda d: text_block(d or b"\x00")),
    }
