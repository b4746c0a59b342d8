"""Admission: lookups wait their turn first come first served, within checkout_timeout; the last
thread is never taken; waiting for an identical lookup is bounded too. Fakes only: no browser."""
import contextlib
import json
import threading
import time

import pytest

from answers import AddressAnswers, Admission, Overloaded
from answers.caches import MemoryCache, UwsgiCache
from scraper.errors import PoolTimeout, UpstreamError, UpstreamTimeout
from tests.support.fakes import FakePool, FakeSource
from tests.support.uwsgi_cache import CacheApi


def answers_for(source, cache=None, lookups=None, browsers=1, checkout_timeout=2.0, page_timeout=8.0):
    pool = FakePool(source, size=browsers)
    admission = Admission(lookups, browsers, checkout_timeout, page_timeout)
    return AddressAnswers(pool, cache or MemoryCache(100, 60), admission)


def wait_for(check, timeout=5):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within 5 s"
        time.sleep(0.005)


@contextlib.contextmanager
def the_browser_taken(answers):
    """A search that holds the only browser (a slow source) through the block, then is let go."""
    holder = threading.Thread(target=answers.search, args=("세종대로 110", 1, 10))
    holder.start()
    try:
        wait_for(lambda: answers.admission.status()["under_way"] == 1)
        yield
    finally:
        answers.pool.source.release()
        holder.join()


def test_turns_go_first_come_first_served_and_a_newcomer_never_jumps_the_queue():
    admission = Admission(None, 1, checkout_timeout=5, page_timeout=8)
    order = []

    def lookup(name):
        with admission.lookup() as ticket, admission.turn(ticket):
            order.append(name)

    with admission.lookup() as ticket:
        holder = admission.turn(ticket)
        holder.__enter__()
        waiters = []
        for number in range(3):
            waiters.append(threading.Thread(target=lookup, args=(f"waiter {number}",)))
            waiters[-1].start()
            wait_for(lambda: admission.status()["waiting"] == number + 1)
        holder.__exit__(None, None, None)
        lookup("newcomer")          # the turn just given back is already the first waiter's
    for thread in waiters:
        thread.join()
    assert order == ["waiter 0", "waiter 1", "waiter 2", "newcomer"]
    assert admission.status() == {"lookups": None, "under_way": 0, "browsers": 1, "waiting": 0}


def test_a_burst_beyond_the_browsers_waits_its_turn_instead_of_503():
    source = FakeSource(delay=0.01)
    answers = answers_for(source, lookups=30)
    outcomes = []

    def search(number):
        try:
            outcomes.append(answers.search(f"세종대로 {number}", 1, 10)[1].cache)
        except (Overloaded, PoolTimeout) as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=search, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["miss"] * 30 and source.calls == 30


def test_a_turn_that_does_not_come_within_checkout_timeout_is_503():
    answers = answers_for(FakeSource(delay=1.0), checkout_timeout=0.3)
    with the_browser_taken(answers):
        started = time.monotonic()
        with pytest.raises(PoolTimeout, match=r"no browser was free within 0\.3 s$"):
            answers.search("종로", 1, 10)
        assert 0.25 < time.monotonic() - started < 0.9
    assert answers.admission.status()["waiting"] == 0


def test_time_queued_before_the_app_counts_against_the_turn():
    answers = answers_for(FakeSource(delay=1.0), checkout_timeout=2)
    with the_browser_taken(answers):
        started = time.monotonic()
        with pytest.raises(PoolTimeout):
            answers.search("종로", 1, 10, queued=1.8)
        assert time.monotonic() - started < 0.6


def test_lookups_beyond_the_threads_are_refused_at_once_identical_ones_too():
    """The last thread is never taken: not by a lookup of its own, nor by one that would only
    wait for an identical lookup's answer. Cache hits need no lookup."""
    source = FakeSource(delay=0.5)
    answers = answers_for(source, lookups=2, browsers=2)
    answers.cache.set("s\x1f시청\x1f1\x1f10", b'{"total":0,"results":[]}')
    threads = [threading.Thread(target=answers.search, args=(q, 1, 10)) for q in ("세종대로 110", "종로")]
    for thread in threads:
        thread.start()
    wait_for(lambda: source.calls == 2)
    started = time.monotonic()
    for q in ("강남구", "세종대로 110"):
        with pytest.raises(Overloaded):
            answers.search(q, 1, 10)
    assert time.monotonic() - started < 0.25          # at once: far below the 0.5 s scrapes
    assert answers.search("시청", 1, 10)[1].cache == "hit"
    source.release()
    for thread in threads:
        thread.join()
    assert source.calls == 2 and answers.admission.status()["under_way"] == 0
    assert answers.search("강남구", 1, 10)[1].cache == "miss"


def test_waiting_for_an_identical_lookup_ends_by_checkout_plus_page_timeout():
    """A scrape that outlasts its page timeout (the pool's watchdog ends real ones) does not
    hold the lookups that wait for its answer past their own bound."""
    source = FakeSource(delay=3.0)
    answers = answers_for(source, checkout_timeout=0.2, page_timeout=0.5)
    leader = threading.Thread(target=answers.search, args=("세종대로 110", 1, 10))
    leader.start()
    wait_for(lambda: source.calls == 1)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        answers.search("세종대로 110", 1, 10)
    waited = time.monotonic() - started
    assert 0.6 < waited < 0.2 + 0.5 + 1 + 0.3, waited
    assert source.calls == 1
    source.release()
    leader.join()


def test_an_identical_lookup_in_another_worker_that_fails_leaves_no_time_for_a_second_scrape():
    """Across workers the wait for the other worker's answer counts against checkout_timeout: a
    lookup that waited past it does not start a scrape of its own (which could take
    page_timeout more), it is answered 503."""
    api = CacheApi()
    failing = answers_for(FakeSource(delay=0.6, error=UpstreamError("down")), UwsgiCache(api, 60, "searchaddr"))
    late_source = FakeSource()
    late = answers_for(late_source, UwsgiCache(api, 60, "searchaddr"), checkout_timeout=0.3)
    thread = threading.Thread(target=lambda: pytest.raises(UpstreamError, failing.search, "시청", 1, 10))
    thread.start()
    wait_for(lambda: failing.source.calls == 1)
    with pytest.raises(PoolTimeout):
        late.search("시청", 1, 10)
    failing.source.release()
    thread.join()
    assert late_source.calls == 0
