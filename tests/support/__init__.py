"""What tests and benchmarks share: helpers, fakes, oracles and the real processes they start.

Test modules and bench/ import from here, never from a test module or from tests/conftest.py
(which keeps only fixtures and hooks)."""
