"""script/fuzz itself: every target runs, and a short run finds nothing (the full run is long)."""

from __future__ import annotations

import pytest

from fuzz.runner import run_target, targets


@pytest.mark.parametrize("name", [*targets(), "session-dispatch"])
def test_a_short_fuzz_run_finds_nothing(name):
    result = run_target(name, 600, seed=7)
    assert result["findings"] == []
    assert (result["untyped_errors"], result["slow_inputs"]) == (0, 0)
    assert sum(result["kinds"].values()) == 600
