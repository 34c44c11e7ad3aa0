"""Offline eval harness: suites, metrics, reports and benchmarks."""
