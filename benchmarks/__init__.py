"""Benchmarks (run by script/benchmark; not tests)."""
