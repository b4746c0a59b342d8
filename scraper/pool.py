"""A bounded pool of warm browsers, one per worker process, created lazily after fork."""
import logging
import queue
import threading
import time
from concurrent.futures import Future, TimeoutError as FutureTimeout
from contextlib import contextmanager

import psutil
from selenium.common.exceptions import WebDriverException
from urllib3.exceptions import HTTPError as ConnectionFailure

from scraper.browser import OWNER_ENV, start_browser
from scraper.errors import PoolTimeout, ScraperError, UpstreamError, UpstreamTimeout

log = logging.getLogger("searchaddr.pool")

# What a dead or unreachable browser raises: WebDriver errors, and from the HTTP connection to
# chromedriver or the Grid, urllib3's errors and plain socket errors.
BROWSER_FAILURES = (WebDriverException, ConnectionFailure, OSError)


class BrowserPool:
    """`with pool.browser(timeout) as driver:` hands out a checked, warm browser.

    Slots live in a LifoQueue prefilled with None (a slot without a browser yet), so at most
    `size` browsers exist and the most recently used, warmest one is handed out first.
    """

    def __init__(self, source, size=2, page_timeout=8.0, recycle_after=200,
                 chromium="/usr/bin/chromium", chromedriver="/usr/bin/chromedriver",
                 remote_url="", warm=0, on_event=None):
        self.source = source
        self.size = size
        self.page_timeout = page_timeout
        self.recycle_after = recycle_after
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.remote_url = remote_url
        self.warm_count = warm          # browsers warm() starts by default
        self._slots = queue.LifoQueue(maxsize=size)
        for _ in range(size):
            self._slots.put(None)
        self._lock = threading.Lock()
        self._open = set()
        self._in_use = 0
        self._closed = False
        self.counts = {"started": 0, "recycled": 0, "replaced": 0, "failed_starts": 0, "failed_opens": 0}
        # One launcher thread: starts are serialized, so a burst of demand cannot start a storm
        # of browsers that all miss their deadlines on a busy machine.
        self._launcher = Launcher(threads=1)
        # Told of every change, outside the pool's lock, as on_event(event, seconds): "checkout",
        # "checkin", "started" (seconds: how long the start took), "recycled", "replaced",
        # "failed_starts", "failed_opens", "closed". It must be quick and must not raise.
        self.on_event = on_event or _ignore_event

    @contextmanager
    def browser(self, timeout):
        """A browser with the source page loaded; raises PoolTimeout when none is free in time.

        Starting a browser counts against the page timeout of the query it serves, so a request
        never takes longer than `timeout` + `page_timeout` (plus the round trips' own latency).
        A start that outlasts its request is not wasted: it fills the slot when it is done.
        """
        member = self._checkout(timeout)
        with self._lock:
            self._in_use += 1
        self.on_event("checkout")
        slot_handed_over = False
        try:
            deadline = time.monotonic() + self.page_timeout
            if member is not None and not member.alive():
                self._discard(member, "replaced", "found dead before use")
                member = None
            if member is None:
                launch = self._launcher.submit(self._launch)
                try:
                    member = launch.result(timeout=max(0.0, deadline - time.monotonic()))
                except FutureTimeout:
                    launch.add_done_callback(self._fill_slot)
                    slot_handed_over = True
                    raise UpstreamTimeout("no browser started within the page timeout") from None
                if member.page_error is not None:
                    # It started, but the source page failed just now: report that, keep the browser.
                    raise member.page_error
            in_query = False
            try:
                if member.page_error is not None:
                    # The source page failed earlier: load it again (a navigation, not a new browser).
                    self._open_page(member)
                script_timeout = self._script_timeout_for(deadline)
                if member.script_timeout != script_timeout:
                    member.driver.set_script_timeout(script_timeout)
                    member.script_timeout = script_timeout
                in_query = True
                yield member.driver
            except BaseException as error:
                if isinstance(error, ScraperError) and not in_query:
                    raise       # no time left, or the reload failed: the browser itself is fine
                if _page_fault(error):
                    # The browser works but its page cannot be read: reload the page before the
                    # next query rather than start a new browser.
                    member.page_error = error
                    raise
                # A browser that saw any other failure may hold a half-rendered or dead page.
                self._discard(member, "replaced", f"{type(error).__name__}: {error}".strip())
                member = None
                converted = _upstream_error(error, "the browser failed")
                if converted:
                    raise converted from error
                raise
            member.uses += 1
            if member.uses >= self.recycle_after:
                # The replacement starts in the background: no request waits for it.
                self._discard(member, "recycled", f"after {member.uses} uses")
                member = None
                self._launcher.submit(self._launch).add_done_callback(self._fill_slot)
                slot_handed_over = True
        finally:
            with self._lock:
                self._in_use -= 1
            self.on_event("checkin")
            if not slot_handed_over:
                self._slots.put(member)

    def _script_timeout_for(self, deadline):
        """The full page_timeout per query, but a first query after a start gets what is left."""
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise UpstreamTimeout("the page timeout ran out while a browser started")
        return self.page_timeout if left >= self.page_timeout - 0.5 else left

    def _checkout(self, timeout):
        with self._lock:
            if self._closed:
                raise PoolTimeout("the browser pool is closed")
        try:
            return self._slots.get(timeout=timeout)
        except queue.Empty:
            raise PoolTimeout(f"no browser free within {timeout:g} s") from None

    def warm(self, count=None):
        """Start browsers in the background until `count` (default: the pool's `warm`) exist or
        are starting, so the first requests find them warm."""
        if count is None:
            count = self.warm_count
        idle = []
        for _ in range(self.size):
            try:
                member = self._slots.get_nowait()
            except queue.Empty:
                break
            if member is not None and not member.alive():
                self._discard(member, "replaced", "found dead while idle")
                member = None
            if member is not None:
                idle.append(member)
                count -= 1
            elif count > 0:
                self._launcher.submit(self._launch).add_done_callback(self._fill_slot)
                count -= 1
            else:
                idle.insert(0, None)        # empty slots go back below the warm ones
        for member in idle:
            self._slots.put(member)

    def _fill_slot(self, launch):
        """A start finished after its request gave up (or in the background): keep what it made."""
        member = None if launch.exception() is not None else launch.result()
        if member is not None and self._closed:
            self._discard(member, "replaced", "the pool closed while it started")
            member = None
        self._slots.put(member)

    def _launch(self):
        """In a launcher thread: a new browser with the source page open (full page_timeout)."""
        started = time.monotonic()
        try:
            member = start_browser(self.chromium, self.chromedriver, self.remote_url or None,
                                   command_timeout=self.page_timeout + 5)
        except BROWSER_FAILURES as error:
            self._count("failed_starts")
            log.error("browser start failed: %s", getattr(error, "msg", None) or error)
            raise UpstreamError("could not start a browser") from error
        with self._lock:
            closed = self._closed
            if not closed:
                self._open.add(member)
        if closed:            # close() ran while this browser was starting
            _quit(member)
            raise PoolTimeout("the browser pool is closed")
        try:
            member.driver.set_page_load_timeout(self.page_timeout)
            member.driver.set_script_timeout(self.page_timeout)
            member.script_timeout = self.page_timeout
            self._open_page(member)
        except ScraperError:
            # The browser works; the site did not. It keeps its slot and reloads the page on its
            # next use, so the service is back as soon as the site is (no new browser needed).
            pass
        except BaseException as error:
            self._discard(member, "failed_starts", f"source page did not open: {error}")
            converted = _upstream_error(error, "the source page could not be opened")
            if converted:
                raise converted from error
            raise
        member.launched = True
        self._count("started", time.monotonic() - started)
        log.info("browser started in %.0f ms (%s)%s", 1000 * (time.monotonic() - started),
                 self.remote_url or "local chromium",
                 "" if member.page_error is None else ", without the source page")
        return member

    def _open_page(self, member):
        """Load the source page into `member`; a ScraperError leaves it marked for a reload."""
        try:
            self.source.open(member.driver)
        except ScraperError as error:
            member.page_error = error
            self._count("failed_opens")
            log.warning("source page did not open: %s", error)
            raise
        member.page_error = None

    def _count(self, name, seconds=None):
        with self._lock:
            self.counts[name] += 1
        self.on_event(name, seconds)

    def _discard(self, member, count, why):
        with self._lock:
            self._open.discard(member)
            self.counts[count] += 1
        log.info("browser %s: %s", count, why)
        _quit(member)
        self.on_event(count)

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
        self.on_event("closed")

    def usable(self):
        """Started browsers whose processes all still run (no round trip): 0 when none could
        serve a lookup without a start. A remote browser counts as long as it is open."""
        with self._lock:
            members = list(self._open)
        return sum(1 for member in members if member.launched and member.alive())


def _ignore_event(event, seconds=None):
    pass


class Launcher:
    """Daemon threads that start browsers and live as long as the process (at most one job
    waits per pool slot, so the job queue is bounded by the pool size).

    A local browser dies with the thread that started it (scraper/browser.py), so request
    threads must not start browsers, and neither may an executor whose threads are joined at
    interpreter exit before the pool's own exit hook has quit its browsers.
    """

    def __init__(self, threads):
        self._jobs = queue.Queue()
        self._threads = threads
        self._started = False
        self._lock = threading.Lock()

    def submit(self, function, *args):
        with self._lock:
            if not self._started:        # after any fork: threads do not survive one
                for n in range(self._threads):
                    threading.Thread(target=self._run, name=f"browser-launcher-{n}", daemon=True).start()
                self._started = True
        future = Future()
        self._jobs.put((future, function, args))
        return future

    def _run(self):
        while True:
            future, function, args = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(function(*args))
            except BaseException as error:
                future.set_exception(error)


def _page_fault(error):
    """The source page answered something unreadable, though the browser itself worked."""
    return (isinstance(error, UpstreamError)
            and not isinstance(error.__cause__ or error.__context__, BROWSER_FAILURES))


def _upstream_error(error, what):
    """UpstreamError for a failure of the browser or its connection, else None."""
    if isinstance(error, BROWSER_FAILURES) and not isinstance(error, ScraperError):
        return UpstreamError(f"{what}: {getattr(error, 'msg', None) or type(error).__name__}")
    return None


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
