"""A classic BPF interpreter for the few instructions the NBX program uses, so that the
program's verdicts can be checked on any input without a kernel (the kernel checks them in
test_live.py)."""

from __future__ import annotations

from collections.abc import Callable

from pbx_protocols.nbx.bpf import (
    AND_K,
    JEQ_K,
    LD_B_ABS,
    LD_H_ABS,
    LD_W_ABS,
    RANDOM,
    RET_K,
    Instruction,
)


def run(program: list[Instruction], frame: bytes, random: Callable[[], int] = lambda: 0) -> int:
    """The program's return value for ``frame`` (0: dropped); out-of-range loads drop."""
    accumulator = 0
    pc = 0
    for _ in range(len(program) + 1):
        op = program[pc]
        if op.code in (LD_H_ABS, LD_B_ABS, LD_W_ABS):
            if op.code == LD_W_ABS and op.k == RANDOM:
                accumulator = random() & 0xFFFFFFFF
            else:
                size = {LD_H_ABS: 2, LD_B_ABS: 1, LD_W_ABS: 4}[op.code]
                if op.k + size > len(frame):
                    return 0
                accumulator = int.from_bytes(frame[op.k : op.k + size], "big")
            pc += 1
        elif op.code == AND_K:
            accumulator &= op.k
            pc += 1
        elif op.code == JEQ_K:
            pc += 1 + (op.jt if accumulator == op.k else op.jf)
        elif op.code == RET_K:
            return op.k
        else:
            raise AssertionError(f"unknown opcode {op.code:#x}")
    raise AssertionError("the program did not return")
