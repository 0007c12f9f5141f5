"""The compiled specification's cache on disk: an optimisation only, never a failure."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from pbx_protocols.core import disk_cache
from pbx_protocols.panasonic import spec

#: A type every session encodes (its AARQ) and one every event report decodes.
USED_TYPES = ("AARQ-apdu", "CSTAEventReportArgument")


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(disk_cache, "_directory", None)  # whatever a test before set
    return tmp_path


def cached_types(path):
    with path.open("rb") as cached:
        return pickle.load(cached)


@pytest.mark.parametrize(
    "content",
    [b"not a pickle", pickle.dumps(["something", "else"]), b""],
    ids=["garbage", "another-object", "empty"],
)
def test_an_unusable_cache_is_compiled_anew_and_replaced(cache_home, content):
    path = spec._cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    types = spec._load_or_compile()
    assert set(USED_TYPES) <= set(types)
    assert set(cached_types(path)) == set(types)  # the cache is usable again


def test_the_cache_is_read_instead_of_compiling(cache_home):
    compiled = spec._load_or_compile()
    path = spec._cache_path()
    assert path.is_file()
    path.write_bytes(pickle.dumps({"marker": "from the cache"}))
    assert spec._load_or_compile() == {"marker": "from the cache"}
    assert set(USED_TYPES) <= set(compiled)


def test_an_unwritable_cache_directory_is_skipped(cache_home, caplog):
    (cache_home / "pbx-protocols").write_text("a file where the directory would be")
    with caplog.at_level(logging.DEBUG, logger=spec.__name__):
        types = spec._load_or_compile()
    assert set(USED_TYPES) <= set(types)
    assert "Cannot cache the compiled ASN.1 specification" in caplog.text


def test_a_cold_start_compiles_in_a_child_process(cache_home):
    """asn1tools' compiler and pyparsing (about 10 MB) stay out of a long-running process."""
    program = (
        "import sys\n"
        "from pbx_protocols.panasonic import spec\n"
        "types = spec.specification().types\n"
        "print(len(types), 'pyparsing' in sys.modules, spec._cache_path().is_file())\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home)},
    )
    count, parser_loaded, cached = completed.stdout.split()
    assert int(count) >= len(USED_TYPES)
    assert (parser_loaded, cached) == ("False", "True")


def test_without_a_child_process_it_compiles_here(cache_home, monkeypatch, caplog):
    monkeypatch.setattr(sys, "executable", str(cache_home / "no-such-interpreter"))
    with caplog.at_level(logging.DEBUG, logger=spec.__name__):
        types = spec._load_or_compile()
    assert set(USED_TYPES) <= set(types)
    assert "no child process" in caplog.text
    assert set(cached_types(spec._cache_path())) == set(types)


def test_a_failing_child_is_replaced_by_compiling_here(cache_home, monkeypatch, caplog):
    monkeypatch.setattr(spec, "_CHILD_PROGRAM", "raise SystemExit('no compiler here')")
    with caplog.at_level(logging.DEBUG, logger=spec.__name__):
        types = spec._load_or_compile()
    assert set(USED_TYPES) <= set(types)
    assert "the child failed (1: ['no compiler here'])" in caplog.text


def test_a_child_that_writes_nonsense_is_not_believed(cache_home, monkeypatch):
    monkeypatch.setattr(spec, "_CHILD_PROGRAM", "import sys; sys.stdout.write('nonsense')")
    types = spec._load_or_compile()
    assert set(USED_TYPES) <= set(types)
    assert set(cached_types(spec._cache_path())) == set(types)


def test_an_application_chooses_the_cache_directory(cache_home, tmp_path):
    chosen = tmp_path / "application cache"
    disk_cache.set_cache_directory(chosen)
    try:
        spec._load_or_compile()
        assert spec._cache_path().parent == chosen
        assert list(chosen.glob("panasonic-asn1-*.pickle"))
        assert not (cache_home / disk_cache.LIBRARY_DIRECTORY).exists()
    finally:
        disk_cache.set_cache_directory(None)
    assert spec._cache_path().parent == cache_home / disk_cache.LIBRARY_DIRECTORY


def test_without_a_home_directory_nothing_is_cached(monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(disk_cache, "_directory", None)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", no_home)
    assert spec._cache_path() is None
    assert set(USED_TYPES) <= set(spec._load_or_compile())


def test_the_compiled_types_carry_no_constraint_checkers(cache_home):
    """Nothing checks constraints; their checkers were a quarter of the compiled objects."""
    types = spec._load_or_compile()
    assert all(compiled.constraints_checker is None for compiled in types.values())
    assert all(compiled.type_checker is not None for compiled in types.values())  # encoding


def test_only_the_types_the_library_names_are_kept(cache_home):
    """The other types are compiled into these; kept on their own they took 0.7 MB."""
    types = spec._load_or_compile()
    assert set(types) == spec.named_types()
    assert {"ROSE-apdu", "AARQ-apdu", "MonitorStartResult", "UniversalFailure"} <= set(types)
    assert "SystemStatus" not in types  # part of SystemStatusArg only
