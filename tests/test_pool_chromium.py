"""BrowserPool with real Chromium on the bundled demo site."""
import logging
import os
import signal
import subprocess
import threading
import time

import psutil
import pytest

from scraper.browser import LINES
from scraper.errors import PoolTimeout, UpstreamError, UpstreamTimeout
from tests.support.browsers import FAST_SITE, browser_processes, search, wait_for_no_browsers
from tests.support.processes import CHROMIUM_NAMES, wait_until

pytestmark = pytest.mark.integration


def open_browsers(tag):
    return [p for p in browser_processes(tag) if p.info["name"] in CHROMIUM_NAMES
            and p.ppid() in {d.pid for d in browser_processes(tag) if d.info["name"] == "chromedriver"}]


@pytest.mark.parametrize("line", LINES)
def test_the_log_says_which_line_each_browser_uses(make_pool, caplog, line):
    pool = make_pool(size=1, line=line)
    with caplog.at_level(logging.INFO, logger="searchaddr.pool"):
        assert search(pool, timeout=30)["total"] == 1
    assert f"(local chromium, {line} line)" in caplog.text
    assert [member.line for member in pool._open] == [line]


def test_eight_threads_share_two_browsers(make_pool, process_tag):
    pool = make_pool(size=2)
    most = []
    errors = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            most.append(len(open_browsers(process_tag)))
            time.sleep(0.05)

    def client(n):
        try:
            for q in ("세종대로 110", "시청", "강남구 테헤란로", "Sejong-daero")[n % 4:]:
                assert search(pool, q, timeout=30)["total"] >= 1
        except Exception as error:       # collected; asserted below
            errors.append(error)

    watcher = threading.Thread(target=watch)
    watcher.start()
    clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    stop.set()
    watcher.join()
    assert errors == []
    assert max(most) <= 2
    assert pool.status()["open"] == 2 and pool.status()["started"] == 2
    directories = [member.temp_dir for member in pool._open]
    pool.close()
    assert wait_for_no_browsers(process_tag) == []
    assert not any(os.path.exists(path) for path in directories)
    with pytest.raises(PoolTimeout):
        search(pool)


def wait_for_status(pool, key, value, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pool.status()[key] < value:
        time.sleep(0.05)
    return pool.status()


def test_browsers_are_recycled_after_recycle_after_uses(make_pool):
    """The replacement starts at the third use; the old browser serves until it is ready."""
    pool = make_pool(size=1, recycle_after=3)
    first_pids = None
    for n in range(3):
        search(pool)
        if n == 0:
            first_pids = [p.pid for p in next(iter(pool._open)).processes]
    wait_for_status(pool, "started", 2)
    search(pool)
    status = wait_for_status(pool, "recycled", 1)
    assert status["recycled"] == 1 and status["started"] == 2 and status["open"] == 1
    first = [psutil.Process(pid) for pid in first_pids if psutil.pid_exists(pid)]
    psutil.wait_procs(first, timeout=10)        # the old browser quits in the background
    assert all(not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
               for pid in first_pids)


def test_a_recycled_browser_quits_as_soon_as_its_successor_runs_while_idle(make_pool, process_tag):
    """A burst that ends while the replacement starts: the old browser quits when the
    replacement is ready, not at the next search (two browsers would stay open while idle)."""
    pool = make_pool(size=1, recycle_after=3)
    for _ in range(3):
        search(pool)
    status = wait_for_status(pool, "recycled", 1)
    assert status["recycled"] == 1 and status["started"] == 2 and status["open"] == 1
    assert wait_until(lambda: len(open_browsers(process_tag)) == 1, 10), open_browsers(process_tag)
    assert search(pool)["total"] == 1 and pool.status()["started"] == 2


@pytest.mark.parametrize("victim", CHROMIUM_NAMES[:1] + ("chromedriver",))
def test_a_killed_browser_is_replaced_and_the_next_query_succeeds(make_pool, victim):
    pool = make_pool(size=1)
    search(pool)
    member = next(iter(pool._open))
    process = next(p for p in member.processes if p.name() == victim)
    os.kill(process.pid, signal.SIGKILL)
    psutil.wait_procs([process], timeout=5)
    assert search(pool)["total"] == 1
    assert pool.status()["replaced"] == 1 and pool.status()["started"] == 2


def test_checkout_timeout_raises_pool_timeout(make_pool):
    pool = make_pool(size=1)
    with pool.browser(10):
        started = time.monotonic()
        with pytest.raises(PoolTimeout):
            with pool.browser(0.3):
                pass
        assert 0.25 < time.monotonic() - started < 1.5


def chromium_pids(pool):
    """The pids of the pool's open browsers' Chromium; never empty, so comparing them means something."""
    pids = sorted(p.pid for member in pool._open for p in member.processes if p.name() in CHROMIUM_NAMES)
    assert pids, "the pool has no Chromium open"
    return pids


def failed_use(pool, script, then_search=False):
    """A use of the pool's warm browser that runs `script` in its page (then a search) and fails
    with UpstreamError. Returns the pool's Chromium pids from before it."""
    search(pool)
    pids = chromium_pids(pool)
    with pytest.raises(UpstreamError):
        with pool.browser(5) as driver:
            driver.execute_script(script)
            if then_search:
                pool.source.search(driver, "세종대로 110", 1, 10)
    return pids


def test_an_unreadable_page_is_reloaded_in_the_same_browser(make_pool):
    pool = make_pool(size=1)
    pids = failed_use(pool, "document.documentElement.dataset.searchaddr = 'broken'", then_search=True)
    assert search(pool)["total"] == 1
    status = pool.status()
    assert status["replaced"] == 0 and status["started"] == 1 and status["failed_opens"] == 0
    assert chromium_pids(pool) == pids


def test_a_webdriver_error_during_use_replaces_the_browser(make_pool):
    pool = make_pool(size=1)
    pids = failed_use(pool, "throw new Error('boom')")
    assert pool.status()["replaced"] == 1
    assert search(pool)["total"] == 1
    assert pool.status()["started"] == 2 and chromium_pids(pool) != pids


def test_a_source_page_that_fails_keeps_the_browser_and_reloads_once_repaired(make_pool, tmp_path):
    pool = make_pool(size=1, url=(tmp_path / "missing.html").as_uri())
    for _ in range(2):          # the start, then a reload: both fail, one browser throughout
        with pytest.raises(UpstreamError):
            search(pool)
    status = pool.status()
    assert status["open"] == 1 and status["started"] == 1 and status["failed_opens"] == 2
    pids = chromium_pids(pool)
    pool.source.url = FAST_SITE         # the site is back
    assert search(pool)["total"] == 1
    assert pool.status()["started"] == 1 and chromium_pids(pool) == pids


def test_close_quits_browsers_that_are_in_use(make_pool, process_tag):
    pool = make_pool(size=1)
    with pool.browser(5):
        assert len(open_browsers(process_tag)) == 1
        pool.close()
    assert wait_for_no_browsers(process_tag) == []


def test_remote_url_against_a_chromedriver_server(make_pool, process_tag):
    """remote_url goes through the same pool code: a chromedriver started with --port."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["/usr/bin/chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        pool = make_pool(size=1, remote_url=f"http://127.0.0.1:{port}")
        assert search(pool)["results"][0]["zip"] == "04524"
        assert search(pool, "시청")["total"] >= 1
        assert pool.status()["remote"] is True and pool.status()["started"] == 1
        pool.close()
    finally:
        server.terminate()
        server.wait(10)
    assert wait_for_no_browsers(process_tag) == []


def test_a_browser_start_counts_against_the_page_timeout(make_pool, process_tag):
    pool = make_pool(size=1, page_timeout=5)
    real_open = pool.source.open

    def slow_open(driver):
        time.sleep(6)           # a start slower than the page timeout
        real_open(driver)

    pool.source.open = slow_open
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        search(pool)
    assert 4.9 < time.monotonic() - started < 6
    # The start that outlasted its request still fills the slot, for the next request.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and pool.status()["started"] + pool.status()["failed_starts"] == 0:
        time.sleep(0.05)
    assert pool.status()["started"] == 1 and pool.status()["open"] == 1
    assert len(open_browsers(process_tag)) == 1
    assert search(pool)["total"] == 1
    assert pool.status()["started"] == 1


def test_warm_starts_browsers_in_the_background(make_pool, process_tag):
    pool = make_pool(size=2)
    pool.warm(2)
    status = wait_for_status(pool, "started", 2)
    assert status["started"] == 2 and status["in_use"] == 0
    assert search(pool)["total"] == 1 and pool.status()["started"] == 2


def test_warm_adds_to_browsers_already_open(make_pool):
    pool = make_pool(size=2)
    search(pool)
    pool.warm(2)
    status = wait_for_status(pool, "started", 2)
    assert status["started"] == 2 and status["open"] == 2
    assert search(pool)["total"] == 1 and pool.status()["started"] == 2


def test_events_tell_an_observer_and_warm_replaces_a_dead_idle_browser(make_pool):
    """What the service's metrics follow (on_event), and what readiness asks (usable, warm)."""
    events = []
    pool = make_pool(size=1, on_event=lambda event, seconds=None: events.append((event, seconds)))
    assert pool.usable() == 0
    search(pool, timeout=30)
    assert [event for event, _ in events] == ["checkout", "started", "checkin"]
    assert 0.1 < events[1][1] < 30                  # the start's own seconds
    assert pool.usable() == 1
    member = next(iter(pool._open))
    for process in member.processes:
        process.kill()
    psutil.wait_procs(member.processes, timeout=5)
    assert pool.usable() == 0                       # no round trip: the processes are gone
    events.clear()
    pool.warm(1)                                    # what /readyz asks when none is usable
    deadline = time.monotonic() + 60
    while (pool.usable() == 0 or len(events) < 2) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pool.usable() == 1
    assert [event for event, _ in events] == ["replaced", "started"]
    assert pool.status()["replaced"] == 1 and pool.status()["started"] == 2
    assert search(pool)["total"] == 1
