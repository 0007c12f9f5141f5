"""The compiled specification's cache on disk: an optimisation only, never a failure."""

from __future__ import annotations

import logging
import pickle

import pytest

from pbx_protocols.panasonic import spec

#: A type every session encodes (its AARQ) and one every event report decodes.
USED_TYPES = ("AARQ-apdu", "CSTAEventReportArgument")


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
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
