"""Caches and single-flight, one process and across workers (uWSGI's cache API, in memory)."""
import json
import threading
import time

import pytest

from answers import AddressAnswers, Admission, SingleFlight, caches
from answers.caches import MemoryCache, UwsgiCache
from tests.support.fakes import FakePool, FakeSource
from tests.support.uwsgi_cache import CacheApi


def test_memory_cache_is_an_lru_with_a_ttl():
    cache = MemoryCache(size=2, ttl=0.2)
    cache.set("a", {"n": 1})
    cache.set("b", {"n": 2})
    assert cache.get("a") == {"n": 1}
    cache.set("c", {"n": 3})              # evicts b, the least recently used
    assert cache.get("b") is None and cache.get("a") == {"n": 1} and cache.get("c") == {"n": 3}
    time.sleep(0.25)
    assert cache.get("a") is None
    assert cache.status()["entries"] <= 2


def test_a_zero_size_or_ttl_cache_keeps_nothing():
    for cache in (MemoryCache(size=0, ttl=60), MemoryCache(size=10, ttl=0)):
        cache.set("a", 1)
        assert cache.get("a") is None


def test_single_flight_shares_results_and_errors():
    flights = SingleFlight()
    calls = []
    gate = threading.Event()

    def work():
        calls.append(1)
        gate.wait(2)
        return {"ok": True}

    results = []
    threads = [threading.Thread(target=lambda: results.append(flights.do("k", work))) for _ in range(20)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert sorted(shared for _, shared in results) == [False] + [True] * 19

    def fail():
        raise ValueError("boom")
    with pytest.raises(ValueError):
        flights.do("k", fail)
    assert flights.do("k", lambda: 5) == (5, False)     # a failure is not remembered


class SkippingClock:
    """The time answers.caches reads: the real one plus the seconds skipped (sleep skips too)."""

    def __init__(self):
        self.skipped = 0.0

    def time(self):
        return time.time() + self.skipped

    def monotonic(self):
        return time.monotonic() + self.skipped

    def sleep(self, seconds):
        self.skipped += seconds


@pytest.fixture
def clock(monkeypatch):
    """Whole seconds of TTL pass without waiting for them."""
    skipping = SkippingClock()
    monkeypatch.setattr(caches, "time", skipping)
    return skipping


def test_uwsgi_cache_keeps_bytes_for_ttl_and_claims_atomically(clock):
    api = CacheApi()
    cache = UwsgiCache(api, 60, "searchaddr")
    cache.set("k", '{"total":1,"results":["서울"]}'.encode())
    cache.set("k", b'{"total":2,"results":[]}')          # replaces (cache_update, not cache_set)
    assert cache.get("k") == b'{"total":2,"results":[]}'
    short = UwsgiCache(api, 1, "searchaddr")
    short.set("t", b"{}")
    assert short.get("t") == b"{}"
    api.items["t"] = (api.items["t"][0], time.monotonic() + 60)   # cache2 kept it past its TTL
    clock.sleep(1.1)
    assert short.get("t") is None
    assert cache.claim("q", 5) is True
    assert cache.claim("q", 5) is False
    cache.release("q")
    assert cache.claim("q", 5) is True


def test_uwsgi_cache_answers_a_worker_s_recent_reads_without_cache2_until_their_expiry(clock):
    api = CacheApi()
    calls = []
    cache_get = api.cache_get
    api.cache_get = lambda key, name: calls.append(key) or cache_get(key, name)
    writer = UwsgiCache(api, 1, "searchaddr")
    reader = UwsgiCache(api, 1, "searchaddr", recent=2)       # another worker
    writer.set("a", b"A")
    assert writer.get("a") == b"A" and calls == []            # its own write
    assert [reader.get("a"), reader.get("a"), reader.get("a")] == [b"A"] * 3
    assert calls == ["a"]                                     # read from cache2 once
    writer.set("b", b"B")
    writer.set("c", b"C")
    reader.get("b"), reader.get("c")                          # only 2 kept: "a" goes
    assert reader.get("a") == b"A" and calls == ["a", "b", "c", "a"]
    api.items["a"] = (api.items["a"][0], time.monotonic() + 60)   # cache2 kept it past its TTL
    clock.sleep(1.1)
    assert reader.get("a") is None and writer.get("a") is None    # the copies expire with it


def answers_for(source, cache, lookups=None):
    pool = FakePool(source)
    return AddressAnswers(pool, cache, Admission(lookups, pool.size, checkout_timeout=2,
                                                 page_timeout=pool.page_timeout))


def test_concurrent_identical_misses_in_two_workers_cost_one_scrape():
    """Two AddressAnswers on one shared cache stand for two uWSGI workers."""
    api = CacheApi()
    sources = [FakeSource(delay=0.3), FakeSource(delay=0.3)]
    workers = [answers_for(source, UwsgiCache(api, 60, "searchaddr")) for source in sources]
    answers = []

    def client(n):
        answers.append(workers[n % 2].search("세종대로 110", 1, 10))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(source.calls for source in sources) == 1
    assert len(answers) == 50 and all(json.loads(value)["total"] == 1 for value, _ in answers)
    assert sum(outcome.cache == "miss" for _, outcome in answers) == 1


class LateMissCache(UwsgiCache):
    """A worker whose cache miss comes just before the other worker's answer lands and its claim
    is released: the moment when a lookup that does not look again after its claim scrapes twice."""

    def __init__(self, api, landed):
        super().__init__(api, 60, "searchaddr")
        self.landed = landed

    def get(self, key):
        value = super().get(key)
        if value is None and not self.landed.is_set():
            self.landed.wait(2)         # the other worker answers and releases its claim now
            return None                 # ... but this miss was read before that
        return value


@pytest.mark.parametrize("run", range(20))
def test_a_miss_just_before_another_workers_answer_lands_costs_no_second_scrape(run):
    api = CacheApi()
    landed = threading.Event()
    first_source, second_source = FakeSource(delay=0.01 * (run % 4)), FakeSource()
    first = answers_for(first_source, UwsgiCache(api, 60, "searchaddr"))
    late = answers_for(second_source, LateMissCache(api, landed))
    results = []
    thread = threading.Thread(target=lambda: results.append(late.search("세종대로 110", 1, 10)))
    thread.start()
    value, outcome = first.search("세종대로 110", 1, 10)
    landed.set()
    thread.join()
    assert outcome.cache == "miss" and first_source.calls == 1
    assert second_source.calls == 0 and results[0][0] == value and results[0][1].cache == "shared"


def test_a_failed_scrape_in_one_worker_lets_the_other_try():
    api = CacheApi()
    from scraper.errors import UpstreamError
    failing = answers_for(FakeSource(delay=0.2, error=UpstreamError("down")), UwsgiCache(api, 60, "searchaddr"))
    healthy_source = FakeSource()
    healthy = answers_for(healthy_source, UwsgiCache(api, 60, "searchaddr"))
    errors = []

    def fail():
        try:
            failing.search("시청", 1, 10)
        except UpstreamError as error:
            errors.append(error)

    thread = threading.Thread(target=fail)
    thread.start()
    time.sleep(0.05)
    value, outcome = healthy.search("시청", 1, 10)
    thread.join()
    assert len(errors) == 1
    assert json.loads(value)["total"] == 1 and healthy_source.calls == 1 and outcome.cache == "miss"
