"""Answers to address lookups: the cache, then admission and single-flight, then a pooled browser
on the source.

Between the handlers and the scraper. Answers are kept as JSON bytes, encoded once when scraped,
so a cache hit costs no decoding or re-encoding: the handler splices the bytes into its response.
"""
import threading
import time
from dataclasses import dataclass

from answers.admission import Admission, Overloaded
from responses import encode
from scraper.errors import PoolTimeout, UpstreamTimeout

__all__ = ["AddressAnswers", "Admission", "Outcome", "Overloaded", "SingleFlight"]


@dataclass
class Outcome:
    """What one lookup cost: the edge turns it into X-Cache, Server-Timing and the access line."""
    cache: str = "miss"          # "hit", "miss", or "shared" (answered by a concurrent scrape)
    wait_ms: float = 0.0         # time to get a browser (includes starting one)
    scrape_ms: float = 0.0       # time the source took on that browser
    page_ms: float = 0.0         # the source page's own work, where it reports it


class SingleFlight:
    """Concurrent calls for the same key share one execution and its result or error."""

    def __init__(self):
        self._lock = threading.Lock()
        self._flights = {}

    def do(self, key, work, timeout=None):
        """(result, shared): shared is True when another caller's execution answered this one.
        A caller that waits for another's execution gives up after `timeout` s (UpstreamTimeout)."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        if not leader:
            if not flight.done.wait(timeout):
                raise UpstreamTimeout("the identical lookup under way did not answer in time")
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

    def __init__(self, pool, cache, admission, index_stamp=""):
        self.pool = pool
        self.source = pool.source
        self.cache = cache
        self.admission = admission
        # Keys name the index they were answered from: after a data update, the new workers of
        # a chain reload never reuse an answer of the old index that the shared cache still holds.
        self.prefix = f"{index_stamp}\x1e" if index_stamp else ""
        self.flights = SingleFlight()

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
        with self.admission.lookup(queued) as ticket:
            value, shared = self.flights.do(key, lambda: self._fetch(key, scrape, ticket, outcome),
                                            ticket.answer_left())
        if shared:
            outcome = Outcome(cache="shared")
        return value, outcome

    def _fetch(self, key, scrape, ticket, outcome):
        """The answer, from one scrape across all workers: the worker that claims the key
        scrapes it, the others wait for its answer in the shared cache. That wait counts against
        the lookup's own checkout time: one that gave up without an answer leaves it the rest."""
        claimed = self.cache.claim(key, ticket.answer_left())
        if not claimed:
            value = self.cache.wait_for(key, ticket.answer_left())
            if value is not None:
                outcome.cache = "shared"
                return value
            if not ticket.checkout_left():
                raise PoolTimeout("an identical search in another worker gave no answer, "
                                  "and no time was left to try again")
        try:
            # The answer may have landed between this lookup's miss and its claim.
            value = self.cache.get(key)
            if value is not None:
                outcome.cache = "shared"
                return value
            started = time.monotonic()
            with self.admission.turn(ticket), self.pool.browser(ticket.checkout_left()) as driver:
                checked_out = time.monotonic()
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
