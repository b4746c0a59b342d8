"""A fake source and pool for fast handler tests of the WSGI layer (never what the service runs)."""
import threading
from contextlib import contextmanager

from scraper.errors import PoolTimeout

CITY_HALL = {
    "id": "A1114010300110", "road_address": "서울특별시 중구 세종대로 110",
    "jibun_address": "서울특별시 중구 태평로1가 31", "english_address": "110 Sejong-daero, Jung-gu, Seoul",
    "zip": "04524", "building": "서울특별시청", "sido": "서울특별시", "sigungu": "중구",
    "eupmyeondong": "태평로1가",
}


class FakeSource:
    name = "fake"

    def __init__(self, delay=0.0, error=None):
        self.delay = delay
        self.error = error
        self.calls = 0
        self._lock = threading.Lock()
        self._released = threading.Event()

    def _work(self):
        with self._lock:
            self.calls += 1
        if self.delay:
            self._released.wait(self.delay)
        if self.error is not None:
            raise self.error

    def release(self):
        """Ends every wait for `delay`, now and later: a test that has seen what a slow source
        causes need not wait for it to finish."""
        self._released.set()

    @staticmethod
    def query_key(q):
        return q

    def search(self, driver, q, page, per_page):
        self._work()
        hits = [CITY_HALL] if "세종대로" in q or "시청" in q else []
        return {"total": len(hits), "results": hits[(page - 1) * per_page:page * per_page],
                "page_ms": 1.0}

    def detail(self, driver, address_id):
        self._work()
        if address_id == CITY_HALL["id"]:
            return dict(CITY_HALL, lat=37.5663, lng=126.9779, admin_code="1114010300")
        return None


class FakePool:
    """At most `size` concurrent users, like BrowserPool, without browsers."""

    page_timeout = 8.0
    warm_count = 1

    def __init__(self, source, size=2, usable=1):
        self.source = source
        self._free = threading.Semaphore(size)
        self.size = size
        self.running = usable       # what usable() reports: browsers that could serve now
        self.warmed = 0             # times warm() was asked for
        self.on_event = lambda event, seconds=None: None

    @contextmanager
    def browser(self, timeout):
        if not self._free.acquire(timeout=timeout):
            raise PoolTimeout(f"no browser free within {timeout} s")
        self.on_event("checkout")
        try:
            yield None
        finally:
            self._free.release()
            self.on_event("checkin")

    def status(self):
        return {"size": self.size, "fake": True, "open": self.running, "in_use": 0}

    def usable(self):
        return self.running

    def warm(self, count=None):
        self.warmed += 1

    def close(self):
        pass
