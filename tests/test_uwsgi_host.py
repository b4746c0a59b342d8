"""The worker's stop as the app sees it, without uWSGI: Stops tells each callback once, also one
registered after the stop; outside a uWSGI worker nothing is watched; end_browsers gives requests
in flight their grace and then closes the pool, at once for browsers still in use. The real
signals, uWSGI and Chromium are in tests/test_uwsgi_stops.py."""
import signal
import time

import uwsgi_host
from scraper.pool import CLOSE_WAIT
from worker import end_browsers


def test_each_callback_runs_once_and_one_registered_after_the_stop_runs_at_once():
    stops = uwsgi_host.Stops()
    calls = []
    stops.on_stop(lambda: calls.append("early"))
    assert calls == []
    stops.stop()
    stops.stop()
    assert calls == ["early"]
    stops.on_stop(lambda: calls.append("late"))
    assert calls == ["early", "late"]


def test_outside_a_uwsgi_worker_nothing_is_watched():
    before = {signum: signal.getsignal(signum) for signum in uwsgi_host.STOP_SIGNALS}
    stops = uwsgi_host.watch_stops()
    assert {signum: signal.getsignal(signum) for signum in uwsgi_host.STOP_SIGNALS} == before
    calls = []
    stops.on_stop(lambda: calls.append(1))
    assert calls == []


class InUse:
    """A pool whose browsers stay in use for `seconds` (None: for ever)."""

    def __init__(self, seconds):
        self.until = None if seconds is None else time.monotonic() + seconds
        self.closed_with = None

    def status(self):
        busy = self.until is None or time.monotonic() < self.until
        return {"in_use": 1 if busy else 0}

    def close(self, wait):
        self.closed_with = wait


def test_requests_in_flight_get_the_grace_then_their_browsers_go():
    quick = InUse(0.1)
    started = time.monotonic()
    end_browsers(quick, grace=2.0)
    assert time.monotonic() - started < 1.0
    assert quick.closed_with == CLOSE_WAIT          # nothing in use: remote sessions end politely

    stuck = InUse(None)
    started = time.monotonic()
    end_browsers(stuck, grace=0.3)
    assert 0.3 <= time.monotonic() - started < 1.0
    assert stuck.closed_with == 0                   # still in use: killed at once

