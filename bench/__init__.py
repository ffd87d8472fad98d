"""Benchmarks: scripts that print measured figures next to their targets (never timed tests)."""
