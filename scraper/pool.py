"""A bounded pool of warm browsers, one per worker process, created lazily after fork."""
import itertools
import logging
import threading
import time
from concurrent.futures import Future, TimeoutError as FutureTimeout
from contextlib import contextmanager

from scraper.browser import CHROMEDRIVER, CHROMIUM, LINES, Browser, start_browser
from scraper.errors import PoolTimeout, ScraperError, UpstreamError, UpstreamTimeout
from scraper.failures import (BROWSER_FAILURES, DISCARD, HUNG, KEEP, RELOAD, SERVED, after_answer,
                              after_failure, upstream_error)
from scraper.launcher import Launcher
from scraper.owner import Owner, kill_marked, remove_browser_dirs
from scraper.page import fit_timeouts, load_page
from scraper.slots import Slots
from scraper.start_rate import StartRate
from scraper.watchdog import WATCHDOG_GRACE, Watchdog

__all__ = ["BrowserPool"]

log = logging.getLogger("searchaddr.pool")

DEFAULT_INSTANCE = "searchaddr"
# Selenium's client-side limit per command, beyond page_timeout; a new session gets more.
COMMAND_SLACK = 1.0
START_TIMEOUT = 20.0
# At close, how long the launcher's jobs under way (a start, a retirement) may take to finish.
DRAIN_WAIT = 2.0
# Starts per worker: a burst of one per slot (and a replacement), then one per START_INTERVAL s:
# a crashing browser nor a failing site can start a storm.
START_INTERVAL = 1.0
CLOSE_WAIT = 3.0        # seconds close() gives remote browsers to end their sessions politely
_POOL_IDS = itertools.count(1)


class BrowserPool:
    """`with pool.browser(timeout) as driver:` hands out a checked, warm browser.

    Each of `size` slots is empty, starting (a Future) or holds a browser, so at most `size`
    browsers serve (plus, briefly, the replacement of one being recycled). The most recently
    used browser is handed out first, then a start already under way, then an empty slot.
    """

    def __init__(self, source, size=2, page_timeout=8.0, recycle_after=200,
                 chromium=CHROMIUM, chromedriver=CHROMEDRIVER,
                 remote_url="", warm=0, instance=DEFAULT_INSTANCE, start_interval=START_INTERVAL,
                 on_event=None, line=LINES[0]):
        self.source = source
        self.size = size
        self.page_timeout = page_timeout
        self.recycle_after = recycle_after
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.remote_url = remote_url
        self.line = line                # how queries reach a local browser's page (browser.LINES)
        self.warm_count = warm          # browsers warm() starts by default
        self.instance = instance        # the service instance, for the reaper (scraper.owner)
        self.pool_id = next(_POOL_IDS)
        self._slots = Slots(size, self._settled)
        self._lock = threading.Lock()
        self._closing = threading.Lock()
        self._open = set()
        self._in_use = 0
        self._closed = False
        self._serial = 0                # browsers started: staggers their recycling
        self._marker = None             # the owner marker of this pool's browsers, once one started
        self._start_failed = False      # the last start failed
        self.counts = {"started": 0, "recycled": 0, "replaced": 0, "hung": 0, "page_timeouts": 0,
                       "failed_starts": 0, "failed_opens": 0}
        # One launcher thread: starts are serialized (and rate-limited), so a burst of demand
        # cannot start a storm of browsers that all miss their deadlines on a busy machine.
        self._launcher = Launcher(threads=1)
        # Told of every change, outside the pool's lock, as on_event(event, seconds): "checkout",
        # "checkin", "started" (seconds: how long the start took), "recycled", "replaced",
        # "hung", "page_timeouts", "failed_starts", "failed_opens", "closed". It must be quick
        # and must not raise.
        self.on_event = on_event or _ignore_event
        self._rate = StartRate(size + 1, start_interval)
        self._watchdog = Watchdog()

    @contextmanager
    def browser(self, timeout):
        """A browser with the source page loaded; raises PoolTimeout when no slot is free in time.

        Everything after the checkout is bounded by `page_timeout`: starting a browser (or
        waiting for a start under way), reloading the page, and the query. A browser that does
        not answer by then is killed by the watchdog, and the caller gets UpstreamTimeout.
        """
        member, deadline = self._checkout(timeout)
        verdict = KEEP
        in_query = False
        try:
            with self._watched(member, deadline):
                if member.page_error is not None:
                    # The source page failed or timed out earlier: load it again (not a new browser).
                    self._open_page(member, deadline)
                fit_timeouts(member, deadline, self.page_timeout)
                in_query = True
                yield member.driver
            verdict = after_answer(member)
        except BaseException as error:
            verdict = after_failure(error, member, in_query, self._closed)
            if verdict.raises is None:
                raise
            raise verdict.raises from verdict.cause
        finally:
            self._checkin(member, verdict)

    def _checkout(self, timeout):
        """(browser, deadline): a free slot's browser, checked, or the one it starts, within
        page_timeout. When no browser comes, the slot goes back holding what the next checkout
        should find."""
        if self._closed:
            raise PoolTimeout("the browser pool is closed")
        item = self._slots.take(timeout)
        deadline = time.monotonic() + self.page_timeout
        with self._lock:
            self._in_use += 1
        self.on_event("checkout")
        if isinstance(item, Browser):
            item = self._take_successor(item)
            if item.alive():
                return item, deadline
            self._discard(item, "replaced", "found dead or stopped before use")
            item = item.successor
        return self._started(item, deadline), deadline

    def _started(self, start, deadline):
        """The browser of the slot's `start` (a new one when there is none, or it failed), by the
        deadline. A start this checkout gives up on stays in the slot for the next one."""
        if not isinstance(start, Future) or (start.done() and start.exception() is not None):
            start = self._start()
        fresh = not start.done()
        try:
            member = start.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            self._give_back(start)
            raise UpstreamTimeout("no browser started within the page timeout") from None
        except BaseException:
            self._give_back(None)
            raise
        if fresh and member.page_error is not None:
            # It started, but the source page failed just now: report that, keep the browser.
            self._give_back(member)
            raise member.page_error
        return member

    def _checkin(self, member, verdict):
        """The one place that decides what becomes of a browser after its use, by the verdict
        on it (scraper.failures): it serves on (and its replacement starts when it is due), its
        page is loaded again before its next query, or it goes and a new one takes its place."""
        fate = verdict.fate
        if fate == HUNG:
            member.hung = True
        if fate in (HUNG, DISCARD):
            self._discard(member, verdict.count, verdict.why)
        elif fate == RELOAD:
            member.page_error = verdict.page_error
            if verdict.count:
                self._count(verdict.count)
        elif fate == SERVED:
            member.uses += 1
            if member.uses >= member.recycle_at and member.successor is None and not self._closed:
                # The replacement starts now; this browser serves until it is ready, and quits as
                # soon as it is ready and no request uses this one (an idle one then, at once).
                member.successor = self._start()
                member.successor.add_done_callback(lambda _: self._slots.settle(member))
        self._give_back(member)

    def _give_back(self, item):
        """Return a slot, holding `item`: a browser (or its successor, once that is ready), a
        start under way, or nothing."""
        with self._lock:
            self._in_use -= 1
        self.on_event("checkin")
        if isinstance(item, Browser) and item.retired:
            # Its replacement starts now (rate-limited), so the next request need not wait for
            # a whole start.
            item = item.successor or (None if self._closed else self._start())
        self._slots.give(item)

    @contextmanager
    def _watched(self, member, deadline):
        """The watchdog kills a local browser that has not answered WATCHDOG_GRACE after the
        deadline; a remote one is bounded by its client's limit per command."""
        self._watchdog.watch(member, deadline + WATCHDOG_GRACE)
        member.limit_commands(max(0.1, deadline + WATCHDOG_GRACE - time.monotonic()))
        try:
            yield
        finally:
            self._watchdog.done(member)
            member.limit_commands()

    def _settled(self, item):
        """What a free slot holds instead of `item`: a browser's successor, once that is ready."""
        return self._take_successor(item) if isinstance(item, Browser) else item

    def _take_successor(self, member):
        """The browser the slot should hold: `member`, or its replacement once that is ready."""
        successor = member.successor
        if successor is None or not successor.done():
            return member
        member.successor = None
        if successor.exception() is not None:
            return member       # tried again at its next use (the start rate bounds how often)
        self._launcher.submit(self._discard, member, "recycled", f"after {member.uses} uses")
        return successor.result()

    def _start(self):
        return self._launcher.submit(self._launch)

    def warm(self, count=None):
        """Start browsers in the background until `count` (default: the pool's `warm`) slots
        hold or start one; a request that takes a starting slot waits for that start."""
        for member in self._slots.take_dead():
            self._discard(member, "replaced", "found dead while idle")
        self._slots.start_empty(self.warm_count if count is None else count, self._start)

    def _launch(self):
        """In a launcher thread: a new browser with the source page open (full page_timeout)."""
        self._rate.wait(lambda: self._closed)
        if self._closed:
            raise PoolTimeout("the browser pool is closed")
        started = time.monotonic()
        member = self._new_session()
        with self._lock:
            closed = self._closed
            if not closed:
                self._open.add(member)
                self._serial += 1
                member.recycle_at = self._recycle_point(self._serial)
        if closed:            # close() ran while this browser was starting
            member.end()
            raise PoolTimeout("the browser pool is closed")
        # Not watched: a stopped browser is ended here by Selenium's command timeout, and the
        # request waiting for this start gives up at its own deadline.
        try:
            member.driver.set_page_load_timeout(self.page_timeout)
            member.driver.set_script_timeout(self.page_timeout)
            member.script_timeout = member.page_load_timeout = self.page_timeout
            self._open_page(member)
        except ScraperError:
            # The browser works; the site did not. It keeps its slot and reloads the page on its
            # next use, so the service is back as soon as the site is (no new browser needed).
            pass
        except BaseException as error:
            self._start_failed = True
            self._discard(member, "failed_starts", f"source page did not open: {error}")
            converted = upstream_error(error, "the source page could not be opened")
            if converted:
                raise converted from error
            raise
        self._start_failed = False
        member.launched = True
        self._count("started", time.monotonic() - started)
        log.info("browser started in %.0f ms (%s, %s line)%s", 1000 * (time.monotonic() - started),
                 self.remote_url or "local chromium", member.line,
                 "" if member.page_error is None else ", without the source page")
        return member

    def _new_session(self):
        """A new browser of this pool's own, without its page; UpstreamError when it fails."""
        owner = Owner.current(self.instance, self.pool_id)
        with self._lock:
            self._marker = owner.marker()
        try:
            return start_browser(self.chromium, self.chromedriver, self.remote_url or None,
                                 command_timeout=self.page_timeout + COMMAND_SLACK,
                                 start_timeout=max(START_TIMEOUT, self.page_timeout), owner=owner,
                                 line=self.line)
        except BROWSER_FAILURES as error:
            if self._closed:        # close() killed it: not a failure of the browser
                log.info("browser start stopped: the pool is closing")
                raise PoolTimeout("the browser pool is closed") from error
            self._start_failed = True
            self._count("failed_starts")
            log.error("browser start failed: %s", getattr(error, "msg", None) or error)
            raise UpstreamError("could not start a browser") from error

    def _recycle_point(self, serial):
        """Browsers started together are not recycled together: each slot's point is set apart
        by recycle_after / (2 * size) uses, so replacements come one at a time."""
        return max(1, self.recycle_after - (serial % self.size) * self.recycle_after // (2 * self.size))

    def _open_page(self, member, deadline=None):
        """Load the source page into `member` (scraper.page), counting and logging a failure."""
        try:
            load_page(self.source, member, self.page_timeout, deadline)
        except ScraperError as error:
            self._count("failed_opens")
            log.warning("source page did not open: %s", error)
            raise

    def _count(self, name, seconds=None):
        with self._lock:
            self.counts[name] += 1
        self.on_event(name, seconds)

    def _discard(self, member, count, why):
        member.retired = True
        with self._lock:
            self._open.discard(member)
            self.counts[count] += 1
        log.info("browser %s: %s", count, why)
        if member.hung or not member.alive():
            # It cannot answer a polite quit: killed at once, its files removed off the
            # request's path (a profile is hundreds of files). A remote one cannot be killed
            # from here: its end is asked to close it, off the request's path too.
            member.kill()
            if member.remote:
                self._launcher.submit(member.end)
            else:
                self._launcher.submit(member.remove_files)
        else:
            member.end()
        self.on_event(count)

    def serving(self):
        """False while no browser can serve: every open one is hung, stopped or dead, or starts fail."""
        with self._lock:
            members = list(self._open)
        usable = sum(1 for member in members if not member.hung and member.alive())
        return not self._closed and (usable > 0 or (usable == len(members) and not self._start_failed))

    def status(self):
        with self._lock:
            members = list(self._open)
            status = {
                "size": self.size,
                "open": len(members),
                "in_use": self._in_use,
                "remote": bool(self.remote_url),
                "closed": self._closed,
                **self.counts,
            }
        status["unusable"] = sum(1 for member in members if member.hung or not member.alive())
        status["serving"] = self.serving()
        return status

    def close(self, wait=CLOSE_WAIT):
        """Quit every browser, idle, in use or starting; later checkouts raise PoolTimeout.

        A local browser is killed at once, its files removed: a polite quit only costs time
        (chromedriver's own shutdown waits a second). A remote one gets `wait` seconds to end
        its session politely (none with 0); only its end can close it.
        """
        with self._closing:     # a second close (the worker's exit) waits for the first
            if not self._closed:     # after which no browser of this pool is left to quit
                self._close(wait)

    def _close(self, wait):
        with self._lock:
            self._closed = True
            members = list(self._open)
            self._open.clear()
            marker = self._marker
        quitters = [threading.Thread(target=member.end, daemon=True)
                    for member in members if member.remote and wait > 0]
        for thread in quitters:
            thread.start()
        until = time.monotonic() + wait
        for thread in quitters:
            thread.join(max(0.0, until - time.monotonic()))
        for member in members:
            member.kill()
            member.remove_files()
        if marker is not None:      # a start under way: its processes and files go too
            kill_marked(marker)
            # A start that was making its directory, or a retirement still queued, finishes
            # first (the start fails fast, its processes killed): the worker may exit right after.
            self._launcher.drain(DRAIN_WAIT)
            remove_browser_dirs(marker)
        self.on_event("closed")

    def usable(self):
        """Started browsers that can serve now (no round trip): 0 when none could serve a
        lookup without a start. A remote browser counts as long as it is open."""
        with self._lock:
            members = list(self._open)
        return sum(1 for member in members if member.launched and not member.hung and member.alive())


def _ignore_event(event, seconds=None):
    pass

