"""asn1tools' codecs other than BER load only if something uses them.

``import asn1tools`` executes every codec it ships. PER and UPER each build a table of all
65,536 BMP characters when imported: 13 MB of a Home Assistant's memory and a good part of
the first decode's time, for codecs CSTA never uses. Registering those modules, not yet
executed, before asn1tools is first imported keeps them out of memory until something
asks one for a name it does not have yet (asn1tools only when compiling for that codec);
then the module executes as it always would. Nothing changes if asn1tools was imported
before this ran. (:class:`importlib.util.LazyLoader` would not do: the import system
itself reads the module's ``__spec__``, which makes that loader execute the module.)
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Final

#: The codecs CSTA does not use (BER, and the type and constraint checkers, it does).
UNUSED_CODECS: Final = ("per", "uper", "oer", "xer", "jer", "gser")


def defer_unused_codecs() -> None:
    """Make asn1tools' unused codecs lazy, unless asn1tools is already loaded."""
    if "asn1tools" in sys.modules:
        return
    # Only the top-level package is looked up: finding a submodule would import asn1tools.
    package = importlib.util.find_spec("asn1tools")
    if package is None or not package.submodule_search_locations:
        return  # not installed; the import that needs it says so
    codecs = Path(next(iter(package.submodule_search_locations))) / "codecs"
    for codec in UNUSED_CODECS:
        name, source = f"asn1tools.codecs.{codec}", codecs / f"{codec}.py"
        if name in sys.modules or not source.is_file():  # another asn1tools release
            continue
        spec = importlib.util.spec_from_file_location(name, source)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        module.__class__ = _DeferredModule
        sys.modules[name] = module


class _DeferredModule(types.ModuleType):
    """A module whose code runs when a name it lacks is first asked for."""

    def __getattr__(self, name: str) -> object:
        spec = self.__spec__
        if spec is None or spec.loader is None:
            raise AttributeError(name)
        module: types.ModuleType = self
        module.__class__ = types.ModuleType  # an ordinary module from now on
        spec.loader.exec_module(module)
        return getattr(module, name)
