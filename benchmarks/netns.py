"""A veth pair in a network namespace of its own, for the NBX stack's tests and benchmark.

Creating one needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); ``why_not()`` says why it
cannot be made otherwise. ``inside()`` moves the calling thread into the namespace for a
moment: sockets opened then stay in it, so an event loop outside can read and write them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

_COUNTER = itertools.count()


@dataclass(frozen=True)
class Namespace:
    """A network namespace with ``veth0`` and ``veth1`` up, linked to each other."""

    name: str

    def command(self, *argv: str) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]


def why_not() -> str | None:
    """None if this process can, else why not."""
    if os.geteuid() != 0:
        return "a veth pair in a network namespace needs root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing"
    return None


@contextlib.contextmanager
def veth_namespace() -> Iterator[Namespace]:
    """A fresh namespace with a veth pair, deleted afterwards (RuntimeError if impossible)."""
    reason = why_not()
    if reason is not None:
        raise RuntimeError(reason)
    namespace = Namespace(f"pbx{os.getpid()}n{next(_COUNTER)}")
    subprocess.run(["ip", "netns", "add", namespace.name], check=True)
    try:
        ip = ["ip", "-n", namespace.name, "link"]
        subprocess.run([*ip, "add", "veth0", "type", "veth", "peer", "name", "veth1"], check=True)
        for interface in ("lo", "veth0", "veth1"):
            subprocess.run([*ip, "set", interface, "up"], check=True)
        yield namespace
    finally:
        subprocess.run(["ip", "netns", "del", namespace.name], check=False)


@contextlib.contextmanager
def inside(namespace: Namespace) -> Iterator[None]:
    """Run the calling thread in the namespace until the block ends."""
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{namespace.name}", os.O_RDONLY)
    try:
        os.setns(target, os.CLONE_NEWNET)
        yield
    finally:
        os.setns(original, os.CLONE_NEWNET)
        os.close(original)
        os.close(target)
