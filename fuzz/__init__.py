"""Fuzzing of every decoder and the layers above them (``script/fuzz``; not part of the tests)."""
