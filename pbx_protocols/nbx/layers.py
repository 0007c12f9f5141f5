"""scapy layers for 3Com NBX frames: building frames (the simulator), pcaps, decoding on demand.

Bound to Ether and to Dot1Q (ethertype 0x8868), so tagged frames decode too. Field offsets
are those of :mod:`.frames` (the unverified HR ones included); a test pins that the two
agree. The hot path of a monitor is :mod:`.frames`, not this: scapy dissects about 15,000
frames a second, the ``struct`` parser far more.
"""

from __future__ import annotations

from typing import Final

from scapy.fields import (
    ByteField,
    IntField,
    MACField,
    ShortField,
    StrField,
    StrFixedLenField,
)
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Packet, bind_layers

from .frames import (
    ETHERTYPE,
    HR_CLOCK,
    HR_DISPLAY,
    HR_DISPLAY_BYTES,
    HR_LAMP_BYTES,
    HR_LAMPS,
    HR_RING,
    HR_TIMER,
    HU_SLOT_BYTES,
    TYPE_ACK,
    TYPE_ERROR,
    TYPE_REQUEST,
    TYPE_UPDATE,
    TYPE_VOICE,
    VOICE_BYTES,
)

#: The printed HR dump's bytes before the ring byte, as defaults of a built HR frame.
_HR_HEAD: Final = bytes.fromhex(
    "0001010100000005020280b30027000000070007ffff110700ff000700170017ffff120700ff0007"
)
_HR_LAMP_TAG: Final = bytes.fromhex("0000")  # between the ring byte and the lamp tag
_HR_MODE: Final = bytes.fromhex("00000101")


class NBX(Packet):
    """The NBX header: type ('H' and a letter), originator MAC, sequence number."""

    name = "3Com NBX"
    fields_desc = [  # noqa: RUF012  # scapy's API
        StrFixedLenField("ptype", TYPE_ACK, 2),
        MACField("orig", "00:e0:bb:00:00:00"),
        ShortField("seq", 0),
    ]

    def guess_payload_class(self, payload: bytes) -> type[Packet]:
        """The body by type letter."""
        return _BODIES.get(self.ptype, super().guess_payload_class(payload))


class NBXAck(Packet):
    """HH: three words (channel, state, device: the order is uncertain)."""

    name = "NBX ack"
    fields_desc = [  # noqa: RUF012
        ShortField("word1", 0),
        ShortField("word2", 1),
        ShortField("device", 0),
    ]


class NBXError(Packet):
    """HE: flag, channel, device, error code (labels as in the dump, uncertain)."""

    name = "NBX error"
    fields_desc = [  # noqa: RUF012
        ShortField("flag", 0x0101),
        ShortField("channel", 1),
        ShortField("device", 0),
        IntField("error", 0),
    ]


class NBXUpdate(Packet):
    """HU: the NCP's clock and one nibble per phone slot (offsets of the seed's code)."""

    name = "NBX update"
    fields_desc = [  # noqa: RUF012
        StrFixedLenField("head", bytes.fromhex("0001010100000000000180b300000000c0a869be"), 20),
        ShortField("year", 2002),
        ByteField("month", 1),
        ByteField("day", 1),
        ByteField("hour", 0),
        ByteField("minute", 0),
        ShortField("millis", 0),
        StrFixedLenField("middle", bytes.fromhex("03000000"), 4),
        ShortField("table_type", 0x0200),
        ShortField("table_size", 0),
        StrFixedLenField("slots", bytes(HU_SLOT_BYTES), HU_SLOT_BYTES),
        StrField("tail", b""),
    ]


class NBXRequest(Packet):
    """HR: ring, lamps, display text and mode (offsets unverified, see :mod:`.frames`)."""

    name = "NBX request"
    fields_desc = [  # noqa: RUF012
        StrFixedLenField("head", _HR_HEAD, HR_RING),
        ByteField("ring", 0),
        StrFixedLenField("gap1", _HR_LAMP_TAG + b"\x03", HR_LAMPS - HR_RING - 1),
        StrFixedLenField("lamps", bytes(HR_LAMP_BYTES), HR_LAMP_BYTES),
        StrFixedLenField("gap2", b"\x02\x20", HR_DISPLAY - HR_LAMPS - HR_LAMP_BYTES),
        StrFixedLenField("display", b" " * HR_DISPLAY_BYTES, HR_DISPLAY_BYTES),
        StrFixedLenField("gap3", _HR_MODE, HR_CLOCK - HR_DISPLAY - HR_DISPLAY_BYTES),
        ByteField("clock", 0),
        StrFixedLenField("gap4", _HR_MODE, HR_TIMER - HR_CLOCK - 1),
        ByteField("timer", 0),
        StrField("tail", bytes.fromhex("0101000000")),
    ]


class NBXVoice(Packet):
    """HA: 192 bytes of mu-law audio (24 ms)."""

    name = "NBX voice"
    fields_desc = [StrFixedLenField("audio", b"\xff" * VOICE_BYTES, VOICE_BYTES)]  # noqa: RUF012


_BODIES: Final[dict[bytes, type[Packet]]] = {
    TYPE_ACK: NBXAck,
    TYPE_ERROR: NBXError,
    TYPE_UPDATE: NBXUpdate,
    TYPE_REQUEST: NBXRequest,
    TYPE_VOICE: NBXVoice,
}

bind_layers(Ether, NBX, type=ETHERTYPE)
bind_layers(Dot1Q, NBX, type=ETHERTYPE)


def build(
    dst: str,
    src: str,
    ptype: bytes,
    orig: str,
    seq: int,
    body: Packet,
    *,
    vlan: int | None = None,
) -> bytes:
    """A frame's bytes; ``vlan`` puts an 802.1Q tag in front of the NBX header."""
    ether = Ether(dst=dst, src=src)
    if vlan is not None:
        frame = ether / Dot1Q(vlan=vlan) / NBX(ptype=ptype, orig=orig, seq=seq) / body
    else:
        frame = ether / NBX(ptype=ptype, orig=orig, seq=seq) / body
    return bytes(frame)
