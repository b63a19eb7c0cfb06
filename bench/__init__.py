"""Benchmarks for circlebook, run against a real server process: `make bench`."""
