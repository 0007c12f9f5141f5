"""The veth namespace of the benchmarks, for tests: skipped, with the reason, where impossible."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from benchmarks.netns import Namespace, inside, why_not
from benchmarks.netns import veth_namespace as _veth_namespace

__all__ = ["Namespace", "inside", "veth_namespace"]


@contextlib.contextmanager
def veth_namespace() -> Iterator[Namespace]:
    """A namespace with veth0 and veth1, or the test is skipped saying why."""
    reason = why_not()
    if reason is not None:
        pytest.skip(reason)
    with _veth_namespace() as namespace:
        yield namespace
