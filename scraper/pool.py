"""A bounded pool of warm browsers, one per worker process, created lazily after fork."""
import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psutil
from selenium.common.exceptions import WebDriverException

from scraper.browser import OWNER_ENV, start_browser
from scraper.errors import PoolTimeout, ScraperError, UpstreamError

log = logging.getLogger("searchaddr.pool")


class BrowserPool:
    """`with pool.browser(timeout) as driver:` hands out a checked, warm browser.

    Slots live in a LifoQueue prefilled with None (a slot without a browser yet), so at most
    `size` browsers exist and the most recently used, warmest one is handed out first.
    """

    def __init__(self, source, size=2, page_timeout=8.0, recycle_after=200,
                 chromium="/usr/bin/chromium", chromedriver="/usr/bin/chromedriver",
                 remote_url=""):
        self.source = source
        self.size = size
        self.page_timeout = page_timeout
        self.recycle_after = recycle_after
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.remote_url = remote_url
        self._slots = queue.LifoQueue(maxsize=size)
        for _ in range(size):
            self._slots.put(None)
        self._lock = threading.Lock()
        self._open = set()
        self._in_use = 0
        self._closed = False
        self.counts = {"started": 0, "recycled": 0, "replaced": 0, "failed_starts": 0}
        # Local browsers die with the thread that started them (see scraper/browser.py), so they
        # are started by long-lived threads of this pool, not by short-lived request threads.
        self._launcher = ThreadPoolExecutor(max_workers=size, thread_name_prefix="browser-launcher")

    @contextmanager
    def browser(self, timeout):
        """A browser with the source page loaded; raises PoolTimeout when none is free in time."""
        if self._closed:
            raise PoolTimeout("the browser pool is closed")
        try:
            member = self._slots.get(timeout=timeout)
        except queue.Empty:
            raise PoolTimeout(f"no browser free within {timeout:g} s") from None
        with self._lock:
            self._in_use += 1
        try:
            if member is not None and not member.alive():
                self._discard(member, "replaced", "found dead before use")
                member = None
            if member is None:
                member = self._start()
            try:
                yield member.driver
            except BaseException as error:
                # A browser that saw any failure may hold a half-rendered or dead page.
                self._discard(member, "replaced", f"{type(error).__name__}: {error}".strip())
                member = None
                if isinstance(error, WebDriverException) and not isinstance(error, ScraperError):
                    raise UpstreamError(f"the browser failed: {error.msg or type(error).__name__}") from error
                raise
            member.uses += 1
            if member.uses >= self.recycle_after:
                self._discard(member, "recycled", f"after {member.uses} uses")
                member = None
        finally:
            with self._lock:
                self._in_use -= 1
            self._slots.put(member)

    def warm(self, count):
        """Start up to `count` browsers in the background, so the first requests find them warm."""
        def start_one():
            try:
                with self.browser(timeout=0):
                    pass
            except ScraperError as error:
                log.warning("warm-up browser did not start: %s", error)

        for _ in range(min(count, self.size)):
            threading.Thread(target=start_one, name="browser-warm-up", daemon=True).start()

    def _start(self):
        started = time.monotonic()
        try:
            member = self._launcher.submit(start_browser, self.chromium, self.chromedriver,
                                           self.remote_url or None).result()
        except WebDriverException as error:
            self.counts["failed_starts"] += 1
            log.error("browser start failed: %s", error.msg or error)
            raise UpstreamError("could not start a browser") from error
        except OSError as error:
            self.counts["failed_starts"] += 1
            log.error("browser start failed: %s", error)
            raise UpstreamError("could not start a browser") from error
        with self._lock:
            self._open.add(member)
        try:
            member.driver.set_page_load_timeout(self.page_timeout)
            member.driver.set_script_timeout(self.page_timeout)
            self.source.open(member.driver)
        except BaseException as error:
            self._discard(member, "failed_starts", f"source page did not open: {error}")
            if isinstance(error, WebDriverException) and not isinstance(error, ScraperError):
                raise UpstreamError("the source page could not be opened") from error
            raise
        with self._lock:
            self.counts["started"] += 1
            if self._closed:       # close() ran while this browser was starting
                self._open.discard(member)
                member.quit()
                raise PoolTimeout("the browser pool is closed")
        log.info("browser started in %.0f ms (%s)", 1000 * (time.monotonic() - started),
                 self.remote_url or "local chromium")
        return member

    def _discard(self, member, count, why):
        with self._lock:
            self._open.discard(member)
            self.counts[count] += 1
        log.info("browser %s: %s", count, why)
        _quit(member)

    def status(self):
        with self._lock:
            return {
                "size": self.size,
                "open": len(self._open),
                "in_use": self._in_use,
                "remote": bool(self.remote_url),
                "closed": self._closed,
                **self.counts,
            }

    def close(self):
        """Quit every browser, idle or not; later checkouts raise PoolTimeout."""
        with self._lock:
            self._closed = True
            members = list(self._open)
            self._open.clear()
        for member in members:
            _quit(member)
        self._launcher.shutdown(wait=False)


def _quit(member):
    try:
        member.quit()
    except Exception as error:      # a dead browser cannot quit politely
        log.info("browser quit failed: %s", error)
    member.kill()


def reap_orphans():
    """Kill browsers left by a worker that died without quitting them (e.g. SIGKILL, harakiri)."""
    reaped = 0
    for process in psutil.process_iter(["pid"]):
        try:
            owner = process.environ().get(OWNER_ENV)
        except psutil.Error:
            continue
        if owner and owner.isdigit() and not psutil.pid_exists(int(owner)):
            try:
                process.kill()
                reaped += 1
            except psutil.Error:
                pass
    if reaped:
        log.warning("killed %d browser processes left by dead workers", reaped)
    return reaped
