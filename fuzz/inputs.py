"""Hostile inputs: random bytes, mutations of real PDUs, and adversarial BER shapes.

Everything is drawn from one seeded random generator, so a run (and a finding) repeats.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from typing import Final

#: What a generator yields: the kind of input and its bytes.
type Input = tuple[str, bytes]

MAX_RANDOM_LENGTH: Final = 300


def tlv(tag: int, content: bytes) -> bytes:
    """One BER element with a definite length."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8)
    return bytes((tag, 0x80 | len(length))) + length + content


def random_bytes(rng: random.Random) -> bytes:
    """Noise: any byte, any length (short ones more often)."""
    length = min(int(rng.expovariate(1 / 40)), MAX_RANDOM_LENGTH)
    return rng.randbytes(length)


def mutate(rng: random.Random, seed: bytes, seeds: Sequence[bytes]) -> bytes:
    """A real PDU with one to four changes of the kinds that break parsers."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        if not data:
            data += rng.randbytes(rng.randint(1, 8))
        position = rng.randrange(len(data))
        match rng.randrange(9):
            case 0:  # flip a bit
                data[position] ^= 1 << rng.randrange(8)
            case 1:  # an interesting byte
                data[position] = rng.choice((0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF))
            case 2:  # cut off
                del data[position:]
            case 3:  # drop a few bytes
                del data[position : position + rng.randint(1, 8)]
            case 4:  # insert a few
                data[position:position] = rng.randbytes(rng.randint(1, 8))
            case 5:  # a long-form length claiming far too much
                data[position : position + 1] = bytes((0x84, 0xFF, 0xFF, 0xFF, 0xFF))
            case 6:  # repeat a slice
                piece = data[position : position + rng.randint(1, 32)]
                data[position:position] = piece * rng.randint(1, 20)
            case 7:  # splice with another PDU
                other = rng.choice(seeds)
                data = data[:position] + other[rng.randrange(len(other) or 1) :]
            case _:  # a small integer somewhere
                data[position : position + 1] = tlv(0x02, rng.randbytes(rng.randint(0, 9)))
    return bytes(data)


def adversarial(rng: random.Random, wrap: Callable[[bytes], bytes]) -> bytes:
    """Well-formed BER whose content is what no PBX should send; ``wrap`` places it."""
    match rng.randrange(10):
        case 0:  # nesting far deeper than any CSTA type
            inner = b"\x05\x00"
            for _ in range(rng.randint(50, 2000)):
                inner = tlv(rng.choice((0x30, 0xA0, 0xA1, 0x61)), inner)
            return wrap(inner)
        case 1:  # an object identifier of thousands of arcs
            return wrap(tlv(0x06, b"\x2b" + b"\x81\x01" * rng.randint(100, 4000)))
        case 2:  # an INTEGER with thousands of digits
            return wrap(tlv(0x02, b"\x01" + rng.randbytes(rng.randint(100, 4000))))
        case 3:  # an ENUMERATED out of every range
            return wrap(tlv(0x0A, rng.randbytes(rng.randint(1, 2000))))
        case 4:  # very many siblings
            return wrap(tlv(0x30, b"\x05\x00" * rng.randint(100, 6000)))
        case 5:  # a string of non-ASCII characters where digits belong
            return wrap(tlv(0x80, rng.randbytes(rng.randint(0, 200))))
        case 6:  # empty everything
            return wrap(b"")
        case 7:  # a length field longer than the data
            return wrap(bytes((0x30, 0x83, 0x01, 0x00, 0x00)) + b"\x00" * rng.randint(0, 10))
        case 8:  # high tag numbers
            return wrap(bytes((0x9F, 0x81, 0x80, 0x80, 0x01, 0x00)))
        case _:  # a GeneralizedTime that is not a time
            return wrap(tlv(0x18, rng.randbytes(rng.randint(0, 40))))


def inputs(
    rng: random.Random,
    count: int,
    seeds: Sequence[bytes],
    wrap: Callable[[bytes], bytes],
) -> Iterator[Input]:
    """``count`` inputs: a third each random, mutated from ``seeds``, adversarial."""
    for index in range(count):
        kind = index % 3
        if kind == 0:
            yield "random", random_bytes(rng)
        elif kind == 1:
            yield "mutated", mutate(rng, rng.choice(seeds), seeds)
        else:
            yield "adversarial", adversarial(rng, wrap)
