"""Admission: which lookups a worker takes on, and in what order they get a browser."""
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass

from scraper.errors import PoolTimeout

# A scrape's answer may come this long after its page timeout: the pool's watchdog grace, then
# the kill and the answer (scraper/watchdog.py). A lookup waiting for another's answer allows it.
LATE_ANSWER = 0.7


class Overloaded(Exception):
    """No thread of this worker is left for another lookup (HTTP 503)."""


@dataclass(frozen=True)
class Ticket:
    """One admitted lookup's clock: it gets a browser by `checkout_by` or 503, and its answer
    (its own scrape's, or an identical lookup's) by `answer_by`."""
    checkout_by: float
    answer_by: float

    def checkout_left(self):
        return max(0.0, self.checkout_by - time.monotonic())

    def answer_left(self):
        return max(0.0, self.answer_by - time.monotonic())


class Admission:
    """One per worker: at most `lookups` lookups at once, each holding a thread, and of them at
    most `turns` (the worker's browsers) using a browser; the others wait their turn, first come
    first served, until checkout_timeout after they arrived.

    Under uWSGI `lookups` is threads - 1: the last thread never waits for a browser or for an
    identical lookup's answer, so /livez, /readyz, /metrics, /healthz, cache hits and quick
    errors always find one, and a lookup beyond the others is refused (503) in a millisecond
    instead of waiting in the listen queue. None: no limit (outside uWSGI).
    """

    def __init__(self, lookups, turns, checkout_timeout, page_timeout):
        self.lookups = lookups
        self.turns = turns
        self.checkout_timeout = checkout_timeout
        self.page_timeout = page_timeout
        self._taken = 0
        self._free_turns = turns
        self._waiting = deque()         # one Event per lookup waiting for a turn, oldest first
        self._lock = threading.Lock()

    @contextmanager
    def lookup(self, queued=0.0):
        """A Ticket for a lookup that waited `queued` seconds before the app saw it (that wait
        counts against its checkout_timeout); Overloaded when no thread is left for it."""
        with self._lock:
            if self.lookups is not None and self._taken >= self.lookups:
                raise Overloaded(f"{self._taken} lookups are under way; no thread is left for another")
            self._taken += 1
        checkout_by = time.monotonic() - queued + self.checkout_timeout
        try:
            yield Ticket(checkout_by, checkout_by + self.page_timeout + LATE_ANSWER)
        finally:
            with self._lock:
                self._taken -= 1

    @contextmanager
    def turn(self, ticket):
        """This lookup's turn to use a browser: at once when one is free and nobody waits, else
        after those that came before it; PoolTimeout when it has not come by the checkout time."""
        with self._lock:
            if self._free_turns:            # a free turn means nobody waits
                self._free_turns -= 1
                granted = None
            else:
                granted = threading.Event()
                self._waiting.append(granted)
        if granted is not None and not granted.wait(ticket.checkout_left()):
            with self._lock:
                handed_over = granted.is_set()      # just as the wait ran out
                if not handed_over:
                    self._waiting.remove(granted)
            if not handed_over:
                raise PoolTimeout(f"no browser was free within {self.checkout_timeout:g} s")
        try:
            yield
        finally:
            with self._lock:
                if self._waiting:
                    self._waiting.popleft().set()   # straight to the next in line
                else:
                    self._free_turns += 1

    def status(self):
        with self._lock:
            return {"lookups": self.lookups, "under_way": self._taken, "browsers": self.turns,
                    "waiting": len(self._waiting)}
