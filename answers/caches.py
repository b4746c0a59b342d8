"""Answer caches: uWSGI's cache2, shared by the workers of one instance, or an in-process LRU."""
import threading
import time
from collections import OrderedDict

FLIGHT = "flight\x1f"      # prefix of the key that marks a scrape in progress in some worker


class MemoryCache:
    """A bounded LRU with a TTL, for one process."""

    kind = "memory"

    def __init__(self, size, ttl):
        self.size = size
        self.ttl = ttl
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def set(self, key, value, ttl=None):
        """Keep `value` for `ttl` seconds (default: the cache's)."""
        ttl = self.ttl if ttl is None else ttl
        if self.size == 0 or ttl <= 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def status(self):
        with self._lock:
            return {"kind": self.kind, "entries": len(self._items), "size": self.size,
                    "ttl": self.ttl}

    # One process: single-flight alone makes concurrent misses share one scrape.
    def claim(self, key, seconds):
        return True

    def release(self, key):
        pass

    def claimed(self, key):
        return False

    def wait_for(self, key, seconds):
        return None


class UwsgiCache:
    """uWSGI's cache2, shared by every worker of one uWSGI instance.

    Each value carries its own expiry time: cache2's expiry is not reliable when the cache
    purges by LRU (purge_lru keeps expired items), and the TTL is part of the contract.

    A worker also keeps the last `recent` answers it read or wrote, each until the same expiry:
    uwsgi.cache_get gives up the GIL around its lookup, and with busy threads getting it back
    cost a cache hit more than the rest of the request (bench/README.md). An answer never changes
    while it is cached, so a copy read from here is the one cache2 holds.
    """

    kind = "uwsgi-cache2"

    def __init__(self, uwsgi, ttl, name, recent=100):
        self.uwsgi = uwsgi
        self.ttl = ttl
        self.name = name
        self._recent = MemoryCache(recent, ttl)

    def get(self, key):
        value = self._recent.get(key)
        if value is not None:
            return value
        raw = self.uwsgi.cache_get(key, self.name)
        if raw is None:
            return None
        expires, _, value = raw.partition(b"\n")
        left = float(expires) - time.time()
        if left <= 0:
            return None
        self._recent.set(key, value, left)
        return value

    def set(self, key, value):
        """Store bytes for `ttl` seconds."""
        if self.ttl == 0:
            return
        raw = b"%.3f\n" % (time.time() + self.ttl) + value
        # cache_set does nothing when the key exists; cache_update replaces it.
        self.uwsgi.cache_update(key, raw, self.ttl, self.name)
        self._recent.set(key, value)

    def status(self):
        return {"kind": self.kind, "name": self.name, "ttl": self.ttl}

    # Across workers: the first to claim a key scrapes it; the others wait for its answer.
    def claim(self, key, seconds):
        """True when this worker may scrape `key`; cache_set is an atomic set-if-absent."""
        return bool(self.uwsgi.cache_set(FLIGHT + key, b"1", max(1, round(seconds)), self.name))

    def release(self, key):
        self.uwsgi.cache_del(FLIGHT + key, self.name)

    def claimed(self, key):
        """True while some worker holds the claim on `key`."""
        return bool(self.uwsgi.cache_exists(FLIGHT + key, self.name))

    def wait_for(self, key, seconds):
        """The value another worker is scraping, or None when it gave up without one."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.get(key)
            if value is not None:
                return value
            if not self.claimed(key):
                return self.get(key)
            time.sleep(0.01)
        return None
