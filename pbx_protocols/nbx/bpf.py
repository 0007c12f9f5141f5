"""Classic BPF programs that keep voice frames out of user space, and attaching them.

A call carries about 83 voice (HA) frames a second; signalling is a few frames a second per
phone. The program drops voice in the kernel, so a monitor's CPU does not grow with the
number of calls. Optionally it lets about one voice frame in ``rate`` through (the
kernel's random number), enough to see that a call is talking.

The program is the six instructions of the notes (``ldh [12]; jeq #0x8868; ldb [15];
jeq #'A'; ret accept; ret drop``), extended by the same test behind an inline 802.1Q tag:
Linux hands a packet socket the frame without its tag, but a tag the kernel did not
strip (stacked tags, some drivers) must not let voice through.
"""

from __future__ import annotations

import ctypes
import socket
import struct
from dataclasses import dataclass
from typing import Final

from .frames import ETHERTYPE, ETHERTYPE_VLAN

SO_ATTACH_FILTER: Final = 26
#: ``ld rand``: SKF_AD_OFF (-4096) + SKF_AD_RANDOM (56).
RANDOM: Final = (-0x1000 + 56) & 0xFFFFFFFF
#: Bytes of a frame handed to user space (more than any frame).
ACCEPT_BYTES: Final = 0x40000
VOICE_LETTER: Final = ord("A")
#: Voice frames let through when sampling: about one in this many.
DEFAULT_VOICE_SAMPLE_RATE: Final = 64

# Opcodes (linux/filter.h, bpf_common.h).
LD_H_ABS: Final = 0x28
LD_B_ABS: Final = 0x30
LD_W_ABS: Final = 0x20
JEQ_K: Final = 0x15
AND_K: Final = 0x54
RET_K: Final = 0x06


@dataclass(frozen=True, slots=True)
class Instruction:
    """``struct sock_filter``."""

    code: int
    jt: int
    jf: int
    k: int

    def pack(self) -> bytes:
        """The eight bytes of the kernel's struct."""
        return struct.pack("=HBBI", self.code, self.jt, self.jf, self.k)


type _Line = str | tuple[int, int | str, int | str, int]
"""A label, or (opcode, jump if true, jump if false, operand) with jumps to labels."""


def nbx_program(*, voice_sample_rate: int | None = None) -> list[Instruction]:
    """Accept NBX frames except voice (or a random 1 in ``voice_sample_rate`` of voice)."""
    if voice_sample_rate is not None and (
        voice_sample_rate < 2 or voice_sample_rate & (voice_sample_rate - 1)
    ):
        raise ValueError("the voice sample rate is a power of two, 2 or more")
    program: list[_Line] = [
        (LD_H_ABS, 0, 0, 12),  # ethertype
        (JEQ_K, 0, "tagged", ETHERTYPE),
        (LD_B_ABS, 0, 0, 15),  # type letter
        (JEQ_K, "voice", "accept", VOICE_LETTER),
        "tagged",
        (JEQ_K, 0, "drop", ETHERTYPE_VLAN),
        (LD_H_ABS, 0, 0, 16),  # the ethertype behind the tag
        (JEQ_K, 0, "drop", ETHERTYPE),
        (LD_B_ABS, 0, 0, 19),
        (JEQ_K, "voice", "accept", VOICE_LETTER),
    ]
    if voice_sample_rate is not None:
        program += [
            "voice",
            (LD_W_ABS, 0, 0, RANDOM),
            (AND_K, 0, 0, voice_sample_rate - 1),
            (JEQ_K, "accept", "drop", 0),
        ]
    program += ["accept", (RET_K, 0, 0, ACCEPT_BYTES), "drop"]
    if voice_sample_rate is None:
        program.append("voice")
    program.append((RET_K, 0, 0, 0))
    return _assemble(program)


def _assemble(lines: list[_Line]) -> list[Instruction]:
    labels: dict[str, int] = {}
    instructions: list[tuple[int, int | str, int | str, int]] = []
    for line in lines:
        if isinstance(line, str):
            labels[line] = len(instructions)
        else:
            instructions.append(line)

    def target(jump: int | str, index: int) -> int:
        return jump if isinstance(jump, int) else labels[jump] - index - 1

    return [
        Instruction(code, target(jt, i), target(jf, i), k)
        for i, (code, jt, jf, k) in enumerate(instructions)
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def attach(sock: socket.socket, program: list[Instruction]) -> None:
    """Attach a classic BPF program to a socket (SO_ATTACH_FILTER)."""
    code = b"".join(instruction.pack() for instruction in program)
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(program), ctypes.cast(buffer, ctypes.c_void_p))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(fprog))
