"""Address lookups: cache, then single-flight, then a pooled browser on the source site."""
import time
from dataclasses import dataclass

from scraper.cache import SingleFlight


@dataclass
class Outcome:
    """What one lookup cost, for logs and response headers."""
    cache: str = "miss"          # "hit", "miss", or "shared" (answered by a concurrent scrape)
    wait_ms: float = 0.0         # time to get a browser (includes starting one)
    scrape_ms: float = 0.0       # time the source took on that browser


class AddressLookup:
    def __init__(self, pool, cache, checkout_timeout):
        self.pool = pool
        # Longest a scrape can take: a checkout, a browser start and a query.
        self.lease = checkout_timeout + 2 * pool.page_timeout + 1
        self.source = pool.source
        self.cache = cache
        self.checkout_timeout = checkout_timeout
        self.flights = SingleFlight()

    def search(self, q, page, per_page):
        key = f"s\x1f{q.casefold()}\x1f{page}\x1f{per_page}"
        return self._answer(key, lambda driver: self.source.search(driver, q, page, per_page))

    def detail(self, address_id):
        return self._answer(f"d\x1f{address_id}", lambda driver: self.source.detail(driver, address_id))

    def _answer(self, key, scrape):
        """(value, Outcome); value None means the source has no such address (not cached)."""
        value = self.cache.get(key)
        if value is not None:
            return value, Outcome(cache="hit")
        outcome = Outcome()

        def work():
            claimed = self.cache.claim(key, self.lease)
            if not claimed:
                value = self.cache.wait_for(key, self.lease)
                if value is not None:
                    outcome.cache = "shared"
                    return value
            try:
                started = time.monotonic()
                with self.pool.browser(self.checkout_timeout) as driver:
                    checked_out = time.monotonic()
                    result = scrape(driver)
                outcome.wait_ms = 1000 * (checked_out - started)
                outcome.scrape_ms = 1000 * (time.monotonic() - checked_out)
                if result is not None:
                    self.cache.set(key, result)
                return result
            finally:
                if claimed:
                    self.cache.release(key)

        value, shared = self.flights.do(key, work)
        if shared:
            outcome.cache = "shared"
        return value, outcome



