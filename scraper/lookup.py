"""Address lookups: cache, then single-flight, then a pooled browser on the source site.

Answers are kept as JSON bytes, encoded once when scraped, so a cache hit costs no decoding or
re-encoding: the handler splices the bytes into its response.
"""
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from scraper.cache import SingleFlight
from scraper.errors import PoolTimeout


@dataclass
class Outcome:
    """What one lookup cost, for logs and response headers."""
    cache: str = "miss"          # "hit", "miss", or "shared" (answered by a concurrent scrape)
    wait_ms: float = 0.0         # time to get a browser (includes starting one)
    scrape_ms: float = 0.0       # time the source took on that browser
    page_ms: float = 0.0         # the source page's own work, where it reports it
    key: str = ""                # the cache key of the answer


# One encoder for every answer: json.dumps with these options would build a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(value):
    """Compact UTF-8 JSON; "replace": a lone surrogate echoed from a JSON escape must not break it."""
    return _ENCODER.encode(value).encode("utf-8", "replace")


class AddressLookup:
    def __init__(self, pool, cache, checkout_timeout, max_pending=None):
        self.pool = pool
        # Lookups that may be under way at once (scraping, waiting for a browser, or waiting for an
        # identical scrape); one more gets PoolTimeout at once. None: no limit.
        self.max_pending = max_pending
        self._pending = 0
        self._coming = set()        # keys whose answer is on its way: scraping here or elsewhere
        self._lock = threading.Lock()
        # Longest a scrape can take: a checkout, a browser start and a query.
        self.lease = checkout_timeout + 2 * pool.page_timeout + 1
        self.source = pool.source
        self.cache = cache
        self.checkout_timeout = checkout_timeout
        self.flights = SingleFlight()

    def search(self, q, page, per_page, queued=0.0):
        """(b'{"total":..,"results":[..]}', Outcome). `queued`: seconds the request already
        waited before the app saw it (in nginx's and uWSGI's queues); it counts as checkout wait."""
        key = f"s\x1f{q.casefold()}\x1f{page}\x1f{per_page}"
        return self._answer(key, lambda driver: self.source.search(driver, q, page, per_page), queued)

    def detail(self, address_id, queued=0.0):
        """(the address as JSON bytes, or None when the source has no such id; Outcome)."""
        return self._answer(f"d\x1f{address_id}", lambda driver: self.source.detail(driver, address_id),
                            queued)

    def _answer(self, key, scrape, queued=0.0):
        """(JSON bytes, Outcome); None means the source has no such address (not cached)."""
        value = self.cache.get(key)
        if value is not None:
            return value, Outcome(cache="hit", key=key)
        with self._lock:
            if (self.max_pending is not None and self._pending >= self.max_pending
                    and key not in self._coming):
                # The last thread sheds load in a millisecond: it waits only for an answer already
                # on its way (an identical scrape that has its browser, here or in another
                # worker), never for a browser.
                raise PoolTimeout(f"{self._pending} lookups are under way; no thread is left for another")
            self._pending += 1
        try:
            return self._lookup(key, scrape, queued)
        finally:
            with self._lock:
                self._pending -= 1

    def _lookup(self, key, scrape, queued):
        outcome = Outcome()

        def work():
            claimed = self.cache.claim(key, self.lease)
            if not claimed:
                with self._on_its_way(key):         # another worker scrapes it
                    value = self.cache.wait_for(key, self.lease)
                if value is not None:
                    outcome.cache = "shared"
                    return value
            try:
                started = time.monotonic()
                with self.pool.browser(max(0.0, self.checkout_timeout - queued)) as driver:
                    checked_out = time.monotonic()
                    with self._on_its_way(key):
                        found = scrape(driver)
                outcome.wait_ms = 1000 * (checked_out - started)
                outcome.scrape_ms = 1000 * (time.monotonic() - checked_out)
                if found is None:
                    return None
                outcome.page_ms = found.pop("page_ms", 0.0)
                data = encode(found)
                self.cache.set(key, data)
                return data
            finally:
                if claimed:
                    self.cache.release(key)

        value, shared = self.flights.do(key, work)
        if shared:
            outcome.cache = "shared"
        return value, outcome

    @contextmanager
    def _on_its_way(self, key):
        with self._lock:
            self._coming.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._coming.discard(key)
