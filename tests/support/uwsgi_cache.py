"""uWSGI's cache2 API as the service uses it, in memory, for tests of the shared cache without uWSGI."""
import threading
import time


class CacheApi:
    """The subset of uWSGI's cache2 API the service uses, with its semantics (set-if-absent)."""

    def __init__(self):
        self.items = {}
        self.lock = threading.Lock()

    def _live(self, key):
        item = self.items.get(key)
        if item and item[1] < time.monotonic():
            del self.items[key]
            return None
        return item

    def cache_get(self, key, name):
        with self.lock:
            item = self._live(key)
            return item[0] if item else None

    def cache_exists(self, key, name):
        with self.lock:
            return True if self._live(key) else None

    def cache_set(self, key, value, expires, name):
        with self.lock:
            if self._live(key):
                return None
            self.items[key] = (value, time.monotonic() + expires)
            return True

    def cache_update(self, key, value, expires, name):
        with self.lock:
            self.items[key] = (value, time.monotonic() + expires)
            return True

    def cache_del(self, key, name):
        with self.lock:
            return True if self.items.pop(key, None) else None
