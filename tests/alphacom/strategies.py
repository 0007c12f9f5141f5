"""Hypothesis strategies for AlphaCom messages and packets."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from pbx_protocols.alphacom.codec import Address, Packet
from pbx_protocols.alphacom.datatypes import Clock, NetObjRef
from pbx_protocols.alphacom.messages import Message, registered_classes

digits = st.text("0123456789", min_size=1, max_size=6)
net_obj_refs = st.one_of(
    st.builds(NetObjRef.local_dirno, digits, st.integers(1, 254)),
    st.builds(NetObjRef.digit_string, digits),
    st.builds(
        NetObjRef.local_entity, st.integers(1, 254), st.integers(0, 255), st.integers(0, 0xFFFF)
    ),
    st.builds(NetObjRef, st.integers(4, 15), st.binary(max_size=4)),
)
clocks = st.builds(
    Clock,
    st.integers(0, 0xFFFF),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
)
text16 = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=16)
_VALUES = {
    "u1": st.integers(0, 0xFF),
    "s1": st.integers(-128, 127),
    "u2": st.integers(0, 0xFFFF),
    "u4": st.integers(0, 0xFFFFFFFF),
    "text16": text16,
    "clock": clocks,
    "nor": net_obj_refs,
    "counted": st.binary(max_size=20),
}


@st.composite
def messages_of(draw, message_class: type[Message]) -> Message:
    """A message of the class with its required fields and some optional ones."""
    specs = dataclasses.fields(message_class)  # type: ignore[arg-type]
    present = draw(st.integers(message_class.REQUIRED, len(specs)))
    values = [draw(_VALUES[kind]) for kind in message_class.LAYOUT[:present]]
    return message_class(*values)  # type: ignore[call-arg]


addresses = st.builds(Address, st.integers(0, 255), st.integers(0, 255))


@st.composite
def packets(draw, message_class: type[Message]) -> Packet:
    return Packet(
        draw(addresses),
        draw(addresses),
        draw(st.integers(0, 0xFFFF)),
        draw(messages_of(message_class)),
        hop_count=draw(st.integers(0, 31)),
        options=draw(st.binary(max_size=7)),
    )


MESSAGE_CLASSES = registered_classes()
