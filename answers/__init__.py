"""Answers to address lookups: the cache, then single-flight, then a pooled browser on the source.

Between the handlers and the scraper. Answers are kept as JSON bytes, encoded once when scraped,
so a cache hit costs no decoding or re-encoding: the handler splices the bytes into its response.
"""
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from responses import encode


@dataclass
class Outcome:
    """What one lookup cost: the edge turns it into X-Cache, Server-Timing and the access line."""
    cache: str = "miss"          # "hit", "miss", or "shared" (answered by a concurrent scrape)
    wait_ms: float = 0.0         # time to get a browser (includes starting one)
    scrape_ms: float = 0.0       # time the source took on that browser
    page_ms: float = 0.0         # the source page's own work, where it reports it


class Overloaded(Exception):
    """This worker takes on no more lookups now (HTTP 503)."""


class Budget:
    """What one worker admits: at most `lookups` at once (scraping, waiting for a browser, or
    waiting for an identical scrape), and `checkout_timeout` seconds of waiting for a browser.

    Under uWSGI `lookups` is threads - 1, so one thread per worker is always left for /healthz,
    cache hits and quick errors, and a request beyond it is refused in a millisecond instead of
    waiting in the listen queue. A lookup whose answer is already on its way (an identical scrape
    that holds its browser, here or in another worker) is admitted beyond it: it only waits for
    that answer. None: no limit (outside uWSGI).
    """

    def __init__(self, lookups, checkout_timeout):
        self.lookups = lookups
        self.checkout_timeout = checkout_timeout
        self._taken = 0
        self._coming = {}           # key -> lookups that hold or wait for its answer right now
        self._lock = threading.Lock()

    @contextmanager
    def lookup(self, key):
        with self._lock:
            if self.lookups is not None and self._taken >= self.lookups and key not in self._coming:
                raise Overloaded(f"{self._taken} lookups are under way; no thread is left for another")
            self._taken += 1
        try:
            yield
        finally:
            with self._lock:
                self._taken -= 1

    @contextmanager
    def on_its_way(self, key):
        """While the answer to `key` is being scraped or awaited from another worker."""
        with self._lock:
            self._coming[key] = self._coming.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                if self._coming[key] == 1:
                    del self._coming[key]
                else:
                    self._coming[key] -= 1

    def browser_wait(self, queued):
        """Seconds a lookup may wait for a browser, after `queued` seconds spent before the app."""
        return max(0.0, self.checkout_timeout - queued)

    def status(self):
        with self._lock:
            return {"lookups": self.lookups, "under_way": self._taken}


class SingleFlight:
    """Concurrent calls for the same key share one execution and its result or error."""

    def __init__(self):
        self._lock = threading.Lock()
        self._flights = {}

    def do(self, key, work):
        """(result, shared): shared is True when another caller's execution answered this one."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.result, True
        try:
            flight.result = work()
            return flight.result, False
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()


class _Flight:
    __slots__ = ("done", "result", "error")

    def __init__(self):
        self.done = threading.Event()
        self.result = None
        self.error = None


class AddressAnswers:
    """search() and detail() -> (JSON bytes, Outcome), each answer scraped once however many ask."""

    def __init__(self, pool, cache, budget, index_stamp=""):
        self.pool = pool
        self.source = pool.source
        self.cache = cache
        self.budget = budget
        # Keys name the index they were answered from: after a data update, the new workers of
        # a chain reload never reuse an answer of the old index that the shared cache still holds.
        self.prefix = f"{index_stamp}\x1e" if index_stamp else ""
        self.flights = SingleFlight()
        # Longest a scrape can take: a checkout, a browser start and a query.
        self.lease = budget.checkout_timeout + 2 * pool.page_timeout + 1

    def search(self, q, page, per_page, queued=0.0):
        """(b'{"total":..,"results":[..]}', Outcome). `queued`: seconds the request already
        waited before the app saw it (in nginx's and uWSGI's queues); it counts as browser wait."""
        key = f"{self.prefix}s\x1f{self.source.query_key(q)}\x1f{page}\x1f{per_page}"
        return self._answer(key, lambda driver: self.source.search(driver, q, page, per_page), queued)

    def detail(self, address_id, queued=0.0):
        """(the address as JSON bytes, or None when the source has no such id; Outcome)."""
        return self._answer(f"{self.prefix}d\x1f{address_id}",
                            lambda driver: self.source.detail(driver, address_id), queued)

    def _answer(self, key, scrape, queued):
        value = self.cache.get(key)
        if value is not None:
            return value, Outcome(cache="hit")
        outcome = Outcome()
        with self.budget.lookup(key):
            value, shared = self.flights.do(key, lambda: self._fetch(key, scrape, queued, outcome))
        if shared:
            outcome = Outcome(cache="shared")
        return value, outcome

    def _fetch(self, key, scrape, queued, outcome):
        """The answer, from one scrape across all workers: the worker that claims the key
        scrapes it, the others wait for its answer in the shared cache."""
        claimed = self.cache.claim(key, self.lease)
        if not claimed:
            with self.budget.on_its_way(key):
                value = self.cache.wait_for(key, self.lease)
            if value is not None:
                outcome.cache = "shared"
                return value
        try:
            # The answer may have landed between this lookup's miss and its claim.
            value = self.cache.get(key)
            if value is not None:
                outcome.cache = "shared"
                return value
            started = time.monotonic()
            with self.pool.browser(self.budget.browser_wait(queued)) as driver:
                checked_out = time.monotonic()
                with self.budget.on_its_way(key):
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
