"""asn1tools loads only the parts that decode and encode BER, until something needs more.

``import asn1tools`` executes far more than CSTA uses once the specification is compiled
(and its compiled types are cached on disk, see :mod:`.spec`):

- the package's ``__init__`` imports its ASN.1 compiler, its parser and, through that,
  pyparsing (6 MB and about 110 ms), and its C and Rust source generators;
- every codec: PER and UPER each build a table of all 65,536 BMP characters on import
  (13 MB).

BER needs only ``asn1tools.codecs`` and ``asn1tools.errors``, and one constant of the
parser (:data:`EXTENSION_MARKER_SOURCE`). Registering those other modules, not yet
executed, before asn1tools is first imported keeps them out of memory until something
asks one for a name it does not have yet (asn1tools itself only when compiling); then the
module executes as it always would. Nothing changes if asn1tools was imported before this
ran, and someone else's code in the same process that uses asn1tools does not notice.
(:class:`importlib.util.LazyLoader` would not do: the import system itself reads the
module's ``__spec__``, which makes that loader execute the module.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import importlib.abc
    import importlib.machinery

#: The codecs CSTA does not use (BER, and the type and constraint checkers, it does).
UNUSED_CODECS: Final = ("per", "uper", "oer", "xer", "jer", "gser")

#: The one line of ``asn1tools/parser.py`` that BER's codec reads (``from ..parser import
#: EXTENSION_MARKER``). The parser is deferred only if its source still says exactly this,
#: so that another asn1tools release cannot get a different marker from us.
EXTENSION_MARKER_SOURCE: Final = "\nEXTENSION_MARKER = None\n"


def defer_unused_parts() -> None:
    """Make asn1tools' package init, parser and unused codecs lazy, unless it is loaded."""
    if "asn1tools" in sys.modules:
        return
    # Only the top-level package is looked up: finding a submodule would import asn1tools.
    package = importlib.util.find_spec("asn1tools")
    if package is None or not package.submodule_search_locations:
        return  # not installed; the import that needs it says so
    root = Path(next(iter(package.submodule_search_locations)))
    parser = root / "parser.py"
    if not parser.is_file() or EXTENSION_MARKER_SOURCE not in parser.read_text("utf-8"):
        return  # another asn1tools release: import it as it is
    _defer(package, _DeferredPackage)
    # Set, it is there without the parser's code running; asked for anything else, it runs.
    _defer_file("asn1tools.parser", parser).__dict__["EXTENSION_MARKER"] = None
    for codec in UNUSED_CODECS:
        source = root / "codecs" / f"{codec}.py"
        if source.is_file():
            _defer_file(f"asn1tools.codecs.{codec}", source)


def _defer_file(name: str, source: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:  # pragma: no cover  # a .py file always has one
        raise ImportError(name)
    return _defer(spec, _DeferredModule)


def _defer(spec: importlib.machinery.ModuleSpec, kind: type[types.ModuleType]) -> types.ModuleType:
    module = importlib.util.module_from_spec(spec)
    module.__class__ = kind
    _EXECUTION_LOCKS[spec.name] = threading.RLock()
    sys.modules[spec.name] = module
    return module


#: Deferred module -> the lock its execution holds: a thread that asks it for a name while
#: another thread runs its code waits for the code to finish (the import system's own
#: module locks do the same for an ordinary import).
_EXECUTION_LOCKS: Final[dict[str, threading.RLock]] = {}


class _DeferredModule(types.ModuleType):
    """A module whose code runs when a name it lacks is first asked for."""

    def __getattr__(self, name: str) -> object:
        spec = self.__spec__
        # The import system asks every module it imports from whether it is a package;
        # the module's code would not change the answer (no).
        if name == "__path__" or spec is None or spec.loader is None:
            raise AttributeError(name)
        with _EXECUTION_LOCKS[self.__name__]:
            if isinstance(self, _DeferredModule):  # not run by another thread meanwhile
                _run(self, spec.loader)
        return getattr(self, name)


def _run(module: types.ModuleType, loader: importlib.abc.Loader) -> None:
    module.__class__ = _ExecutingModule
    try:
        loader.exec_module(module)
    finally:
        module.__class__ = types.ModuleType  # an ordinary module from now on


class _ExecutingModule(types.ModuleType):
    """A deferred module whose code is running now."""

    def __getattr__(self, name: str) -> object:
        if name != "__path__":
            with _EXECUTION_LOCKS[self.__name__]:  # another thread: wait until it has run
                pass
        if type(self) is _ExecutingModule:  # its own code, running: not defined yet
            raise AttributeError(name)
        return getattr(self, name)


class _DeferredPackage(_DeferredModule):
    """A package whose ``__init__`` runs when a name it lacks is asked for.

    Its submodules import without it. A name that is a submodule (``from .. import
    compat`` asks the package for ``compat`` first) imports that submodule instead.
    """

    def __getattr__(self, name: str) -> object:
        folder = Path(next(iter(self.__path__)))
        if name.isidentifier() and (
            (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file()
        ):
            return importlib.import_module(f"{self.__name__}.{name}")
        return super().__getattr__(name)
