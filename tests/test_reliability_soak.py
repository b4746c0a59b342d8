"""A 60-second soak of the real stack with mixed load (tests/support/soak.py; 30 minutes by hand).

Fails on any 5xx other than 503/504 (the overload answers), on a non-JSON error, on a request
without an answer, on growth of the uWSGI workers' memory or open files, or on more browsers than
the pool allows. The summary lands in tests/artifacts/reliability-soak.json.
"""
import pytest

from tests.support.report import record_counts
from tests.support.soak import run

pytestmark = pytest.mark.integration

SOAK_SECONDS = 60
# More clients than the 2 workers x 2 browsers: deliberate overload, so 503 busy is expected.
SOAK_CLIENTS = 12


def test_soak_60_seconds_of_mixed_load(tmp_path, progress):
    # recycle_after is low so browsers are recycled several times within the minute.
    summary, failures = run(SOAK_SECONDS, SOAK_CLIENTS, tmp_path, recycle_after=40, progress=progress)
    record_counts("soak", summary)
    assert summary["requests"] > 0
    assert summary["browser_events"]["recycled"] > 0, summary["browser_events"]
    assert not failures, failures
