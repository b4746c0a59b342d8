"""Answer caches (uWSGI cache2 shared by workers, or in-process LRU) and single-flight."""
import threading
import time
from collections import OrderedDict

UWSGI_CACHE_NAME = "searchaddr"
FLIGHT = "flight\x1f"      # prefix of the key that marks a scrape in progress in another worker


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

    def set(self, key, value):
        if self.size == 0 or self.ttl == 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def status(self):
        with self._lock:
            return {"kind": self.kind, "entries": len(self._items), "size": self.size,
                    "ttl": self.ttl}

    # One process: SingleFlight alone already makes concurrent misses share one scrape.
    def claim(self, key, seconds):
        return True

    def release(self, key):
        pass

    def wait_for(self, key, seconds):
        return None


class UwsgiCache:
    """uWSGI's cache2, shared by every worker of one uWSGI instance.

    Each value carries its own expiry time: cache2's expiry is not reliable when the cache
    purges by LRU (purge_lru keeps expired items), and the TTL is part of the contract.
    """

    kind = "uwsgi-cache2"

    def __init__(self, uwsgi, ttl, name=UWSGI_CACHE_NAME):
        self.uwsgi = uwsgi
        self.ttl = ttl
        self.name = name

    def get(self, key):
        raw = self.uwsgi.cache_get(key, self.name)
        if raw is None:
            return None
        expires, _, value = raw.partition(b"\n")
        return value if float(expires) > time.time() else None

    def set(self, key, value):
        """Store bytes for `ttl` seconds."""
        if self.ttl == 0:
            return
        raw = b"%.3f\n" % (time.time() + self.ttl) + value
        # cache_set does nothing when the key exists; cache_update replaces it.
        self.uwsgi.cache_update(key, raw, self.ttl, self.name)

    def status(self):
        return {"kind": self.kind, "name": self.name, "ttl": self.ttl}

    # Across workers: the first to claim a key scrapes it; the others wait for its answer.
    def claim(self, key, seconds):
        """True when this worker may scrape `key`; cache_set is an atomic set-if-absent."""
        return bool(self.uwsgi.cache_set(FLIGHT + key, b"1", max(1, round(seconds)), self.name))

    def release(self, key):
        self.uwsgi.cache_del(FLIGHT + key, self.name)

    def wait_for(self, key, seconds):
        """The value another worker is scraping, or None when it gave up without one."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.get(key)
            if value is not None:
                return value
            if not self.uwsgi.cache_exists(FLIGHT + key, self.name):
                return self.get(key)
            time.sleep(0.01)
        return None


def make_cache(size, ttl):
    """uWSGI's shared cache when this runs under uWSGI with a cache named `searchaddr`."""
    try:
        import uwsgi
    except ImportError:
        return MemoryCache(size, ttl)
    caches = uwsgi.opt.get("cache2") or []
    if not isinstance(caches, list):
        caches = [caches]
    named = any(f"name={UWSGI_CACHE_NAME}".encode() in cache.split(b",") for cache in caches)
    return UwsgiCache(uwsgi, ttl) if named and size > 0 else MemoryCache(size, ttl)


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
