"""Package attributes that import their module on first use (PEP 562).

A stack's package names its client, config and helpers, but importing the package (or a
light module in it, such as its ``settings``) must not load the whole stack: Home
Assistant loads only the stacks its entries use, and ``decode`` only the codec.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: public name -> the submodule defining it."""

    def __getattr__(name: str) -> Any:  # noqa: ANN401  # whatever the named object is
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f".{module}", package), name)

    return __getattr__
