"""A bounded pool of warm browsers, one per worker process, created lazily after fork."""
import itertools
import logging
import queue
import threading
import time
from concurrent.futures import Future, TimeoutError as FutureTimeout
from contextlib import contextmanager

from selenium.common.exceptions import WebDriverException
from urllib3.exceptions import HTTPError as ConnectionFailure, TimeoutError as ClientTimeout

from scraper.browser import CHROMEDRIVER, CHROMIUM, LINES, Browser, start_browser
from scraper.errors import PoolTimeout, ScraperError, UpstreamError, UpstreamTimeout
from scraper.owner import Owner, kill_marked, reap_orphans, remove_browser_dirs

__all__ = ["BrowserPool", "reap_orphans"]

log = logging.getLogger("searchaddr.pool")

# What a dead or unreachable browser raises: WebDriver errors, and from the HTTP connection to
# chromedriver or the Grid, urllib3's errors and plain socket errors.
BROWSER_FAILURES = (WebDriverException, ConnectionFailure, OSError)
DEFAULT_INSTANCE = "searchaddr"
# A working browser's own timeouts end a query this long before its deadline, and the watchdog
# kills a browser that has not answered WATCHDOG_GRACE after it: a busy machine's late answer
# (up to ANSWER_MARGIN + WATCHDOG_GRACE) still keeps its browser, and a hung browser's caller
# has its JSON 504 well within page_timeout + 1 s (the kill and the answer take ~0.1-0.4 s).
ANSWER_MARGIN = 0.5
WATCHDOG_GRACE = 0.3
# A query keeps its usual script timeout when this close to it (one round trip saved per query).
TIMEOUT_SLACK = 0.2
# Selenium's client-side limit per command, beyond page_timeout; a new session gets more.
COMMAND_SLACK = 1.0
START_TIMEOUT = 20.0
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
        if self._closed:
            raise PoolTimeout("the browser pool is closed")
        item = self._slots.take(timeout)
        deadline = time.monotonic() + self.page_timeout
        with self._lock:
            self._in_use += 1
        self.on_event("checkout")
        slot = item             # what the slot holds when this use ends
        try:
            member = item if isinstance(item, Browser) else None
            if member is not None:
                member = slot = self._take_successor(member)
                if not member.alive():
                    self._discard(member, "replaced", "found dead or stopped before use")
                    slot = member.successor
                    member = None
                    item = slot
            fresh = False
            if member is None:
                if not isinstance(item, Future) or (item.done() and item.exception() is not None):
                    item = self._start()
                fresh = not item.done()
                slot = item     # a start this use gives up on stays in the slot for the next
                try:
                    member = item.result(timeout=max(0.0, deadline - time.monotonic()))
                except FutureTimeout:
                    raise UpstreamTimeout("no browser started within the page timeout") from None
                except BaseException:
                    slot = None
                    raise
                slot = member
                if fresh and member.page_error is not None:
                    # It started, but the source page failed just now: report that, keep the browser.
                    raise member.page_error
            slot = yield from self._use(member, deadline)
        finally:
            with self._lock:
                self._in_use -= 1
            self.on_event("checkin")
            if isinstance(slot, Browser) and slot.retired:
                # Its replacement starts now (rate-limited), so the next request need not wait
                # for a whole start.
                slot = slot.successor or (None if self._closed else self._start())
            self._slots.give(slot)

    def _use(self, member, deadline):
        """Yields the driver for one query under the watchdog; returns what the slot keeps."""
        in_query = False
        self._watchdog.watch(member, deadline + WATCHDOG_GRACE)
        # The watchdog can kill only a local browser; a remote one is bounded by its client.
        member.limit_commands(max(0.1, deadline + WATCHDOG_GRACE - time.monotonic()))
        try:
            if member.page_error is not None:
                # The source page failed or timed out earlier: load it again (not a new browser).
                self._open_page(member, deadline)
            self._fit_timeouts(member, deadline)
            in_query = True
            yield member.driver
        except BaseException as error:
            self._watchdog.done(member)
            member.limit_commands()
            if self._closed:    # close() ended it: the service stops, the browser did not fail
                raise PoolTimeout("the browser pool is closed") from None
            if isinstance(error, ClientTimeout):
                member.hung = True      # no answer by the deadline, as the watchdog would judge
            if member.hung:
                self._discard(member, "hung", "killed: no answer within the page timeout")
                raise UpstreamTimeout("the browser did not answer within the page timeout") from None
            if isinstance(error, ScraperError) and not in_query:
                raise       # no time left, or the reload failed: the browser itself is fine
            if isinstance(error, UpstreamTimeout) and member.responsive():
                # The browser answered: the site is slow. Keep the browser; the page is loaded
                # again before its next query (the pending one may still fire).
                member.page_error = error
                self._count("page_timeouts")
                raise
            if _page_fault(error):
                # The browser works but its page cannot be read: reload the page before the
                # next query rather than start a new browser.
                member.page_error = error
                raise
            # A browser that saw any other failure may hold a half-rendered or dead page; one
            # that timed out with a stopped process in it is hung.
            self._discard(member, "hung" if isinstance(error, UpstreamTimeout) else "replaced",
                          f"{type(error).__name__}: {error}".strip())
            converted = _upstream_error(error, "the browser failed")
            if converted:
                raise converted from error
            raise
        finally:
            self._watchdog.done(member)
            member.limit_commands()
        if member.hung:         # it answered just as the watchdog gave up on it
            self._discard(member, "hung", "killed: answered after the page timeout")
            return member
        member.uses += 1
        if member.uses >= member.recycle_at and member.successor is None and not self._closed:
            # The replacement starts now; this browser serves until it is ready, and quits as
            # soon as it is ready and no request uses this one (an idle one then, at once).
            member.successor = self._start()
            member.successor.add_done_callback(lambda _: self._slots.settle(member))
        return self._take_successor(member)

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

    def _fit_timeouts(self, member, deadline, timeout="script"):
        """The browser's own `timeout` ("script", or "page load") ends the next command by the
        deadline; a query keeps its usual script timeout when that fits (no round trip)."""
        left = deadline - time.monotonic() - ANSWER_MARGIN
        if left <= 0.05:
            raise UpstreamTimeout("the page timeout ran out before the query")
        usual = self.page_timeout - ANSWER_MARGIN
        wanted = usual if left >= usual - TIMEOUT_SLACK else left
        if timeout == "page load":
            if member.page_load_timeout != wanted:
                member.driver.set_page_load_timeout(wanted)
                member.page_load_timeout = wanted
        elif member.script_timeout != wanted:
            member.driver.set_script_timeout(wanted)
            member.script_timeout = wanted

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
        owner = Owner.current(self.instance, self.pool_id)
        with self._lock:
            self._marker = owner.marker()
        try:
            member = start_browser(self.chromium, self.chromedriver, self.remote_url or None,
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
        with self._lock:
            closed = self._closed
            if not closed:
                self._open.add(member)
                self._serial += 1
                member.recycle_at = self._recycle_point(self._serial)
        if closed:            # close() ran while this browser was starting
            _quit(member)
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
            converted = _upstream_error(error, "the source page could not be opened")
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

    def _recycle_point(self, serial):
        """Browsers started together are not recycled together: each slot's point is set apart
        by recycle_after / (2 * size) uses, so replacements come one at a time."""
        return max(1, self.recycle_after - (serial % self.size) * self.recycle_after // (2 * self.size))

    def _open_page(self, member, deadline=None):
        """Load the source page into `member`; a ScraperError leaves it marked for a reload.

        With a `deadline` (a reload on a request's path), the page load may take all the time
        left and waiting for its data what remains after it, so a site that loads within one
        request's time is back at the next reload, however long it took to load before.
        """
        try:
            if deadline is None:
                self.source.open(member.driver)
            else:
                self._fit_timeouts(member, deadline, "page load")
                self.source.load(member.driver)
                self._fit_timeouts(member, deadline)
                self.source.wait_until_ready(member.driver)
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
                self._launcher.submit(_quit, member)
            else:
                self._launcher.submit(member.remove_files)
        else:
            _quit(member)
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
        quitters = [threading.Thread(target=_quit, args=(member,), daemon=True)
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


class Slots:
    """`size` slots, each empty (None), starting (a Future of a Browser) or holding a Browser.

    take() waits (up to its timeout) only while every slot is in use; it hands out the most
    recently returned browser (the warmest), else a start under way, else an empty slot.
    A free slot holds `settled(item)` for what it is given, and again when settle() says so.
    """

    def __init__(self, size, settled=lambda item: item):
        self._items = [None] * size
        self._settled = settled
        self._changed = threading.Condition()

    def take(self, timeout):
        with self._changed:
            if not self._changed.wait_for(lambda: self._items, timeout):
                raise PoolTimeout(f"no browser free within {timeout:.1f} s")
            ranks = [_rank(item) for item in self._items]
            best = len(ranks) - 1 - ranks[::-1].index(max(ranks))
            return self._items.pop(best)

    def give(self, item):
        with self._changed:
            self._items.append(self._settled(item))
            self._changed.notify()

    def settle(self, item):
        """`item` changed (a successor is ready): if it is in a free slot, settle it there. Under
        the same lock as give(), so a change just before an item comes back is never missed."""
        with self._changed:
            for index, held in enumerate(self._items):
                if held is item:
                    self._items[index] = self._settled(item)

    def take_dead(self):
        """The free slots' browsers that died while idle; their slots become empty."""
        with self._changed:
            dead = [item for item in self._items if isinstance(item, Browser) and not item.alive()]
            self._items = [None if item in dead else item for item in self._items]
        return dead

    def start_empty(self, count, start):
        """Turn empty slots into starts until `count` free slots hold or start a browser."""
        with self._changed:
            have = sum(item is not None for item in self._items)
            for index, item in enumerate(self._items):
                if have >= count:
                    break
                if item is None:
                    self._items[index] = start()
                    have += 1


def _rank(item):
    if isinstance(item, Browser):
        return 2
    return 1 if isinstance(item, Future) else 0


class StartRate:
    """A token bucket for browser starts: `burst` at once, then one per `interval` seconds.
    Used by the one launcher thread only."""

    def __init__(self, burst, interval):
        self.burst = burst
        self.interval = interval
        self._tokens = float(burst)
        self._at = time.monotonic()

    def wait(self, cancelled):
        while True:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._at) / self.interval)
            self._at = now
            if self._tokens >= 1 or cancelled():
                self._tokens = max(0.0, self._tokens - 1)
                return
            time.sleep(min(0.2, (1 - self._tokens) * self.interval))


class Watchdog:
    """Kills the process tree of a browser still busy past its deadline. A stopped or wedged
    browser answers nothing, so only this bounds its query; the caller then sees the
    connection fail at once. Watches at most one command per slot (plus one start)."""

    def __init__(self):
        self._due = {}
        self._changed = threading.Condition()
        self._started = False

    def watch(self, member, when):
        with self._changed:
            if not self._started:        # after any fork: threads do not survive one
                threading.Thread(target=self._run, name="browser-watchdog", daemon=True).start()
                self._started = True
            self._due[member] = when
            self._changed.notify()

    def done(self, member):
        with self._changed:
            self._due.pop(member, None)

    def _run(self):
        while True:
            with self._changed:
                now = time.monotonic()
                overdue = [member for member, when in self._due.items() if when <= now]
                if not overdue:
                    self._changed.wait(min(self._due.values(), default=now + 60) - now)
                    continue
                for member in overdue:
                    del self._due[member]
                    member.hung = True
            for member in overdue:
                log.warning("watchdog: a browser did not answer %.1f s past its deadline; killing it",
                            WATCHDOG_GRACE)
                member.kill()


class Launcher:
    """Daemon threads that start (and retire) browsers and live as long as the process. Jobs
    are bounded: at most one start per slot, one replacement and one retirement per browser.

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
    """Politely when the browser can answer, and always for a remote one (only its end can close
    it; the command timeout bounds the wait); a local hung or stopped one is killed at once (a
    polite quit would wait for it). Either way nothing of it is left here."""
    if member.remote or (not member.hung and member.alive()):
        try:
            member.quit()
        except Exception as error:      # a dead browser cannot quit politely
            log.info("browser quit failed: %s", error)
    member.kill()
    member.remove_files()
