"""Browser faults through the real stack (nginx -> uWSGI on its socket -> real Chromium): a
stopped chromium, a worker killed with its browsers, a shutdown during a browser start, and the
first request after a start; no browser file left after a stop or a killed worker. Loopback only;
bounded in count and time; every process stopped.
"""
import os
import signal
import subprocess
import threading
import time
from urllib.parse import quote

import psutil
import pytest

from scraper.owner import Owner, browser_dirs
from tests.support.processes import CHROMIUM_NAMES, browser_files, tagged_processes as tagged, wait_until
from tests.support.stack import REPO, Stack, Stacks, browsers_of, request
from tests.support.servers import nginx_command, write_nginx_conf

pytestmark = pytest.mark.integration

PAGE_TIMEOUT = 5
SLACK = 1.5         # beyond the feature's bound, for a loaded 2-core machine


class PlainStack(Stack):
    """The reliability Stack with a minimal nginx in front: these tests are about the app's own
    answers, not the deploy config's (tests/test_edge_faults.py covers that)."""

    def start_nginx(self):
        conf = write_nginx_conf(self.tmp, f"""
    access_log off;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            include /etc/nginx/uwsgi_params;
            uwsgi_pass unix:{self.socket};
            uwsgi_read_timeout 60s;
        }}
    }}""", user="root root" if os.geteuid() == 0 else "")
        self.nginx = subprocess.Popen(nginx_command(conf), env=self.env(), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def dirs_of(directory, pid=None):
    """Browser directories under `directory`: those of the worker `pid`, or of any owner."""
    return sorted(path for path, marker in browser_dirs(directory)
                  if pid is None or getattr(Owner.parse(marker), "pid", None) == pid)


def search(stack, page=1, timeout=30):
    return request(stack.port, "GET", f"/searchaddr1?q={quote('세종대로')}&page={page}", timeout=timeout)


def until_both_workers_search(stack, starts=2, limit=180):
    """Both workers' browsers have started (`starts` starts logged in all: they are slow on a
    loaded machine) and a search is answered."""
    assert wait_until(lambda: stack.uwsgi_log.read_text(errors="replace").count("browser started in") >= starts,
                      limit), "the browsers did not start"
    deadline = time.monotonic() + limit
    page = 1
    while time.monotonic() < deadline:
        if search(stack, page).status == 200:
            return
        page += 1
        time.sleep(0.5)
    raise AssertionError("searches did not succeed")


def chromium(stack):
    return [p for p in browsers_of(stack.tag) if p.info["name"] in CHROMIUM_NAMES]


def signal_all(processes, sig):
    for process in processes:
        try:
            process.send_signal(sig)
        except psutil.Error:
            pass


@pytest.fixture
def stack_factory(tmp_path):
    stacks = Stacks(tmp_path, lambda directory, scraper: PlainStack(
        directory, scraper={"page_timeout": str(PAGE_TIMEOUT), "browsers": "1", **scraper}, cache={"size": "0"}))
    yield stacks.make
    # A stopped Chromium would hold its stop: woken first.
    stacks.stop_all(before_stop=lambda stack: signal_all(tagged(stack.tag), signal.SIGCONT))


def renderers(stack):
    """Renderers overwrite their environment with their title: found below the chromedrivers."""
    found = []
    for driver in browsers_of(stack.tag):
        try:
            if driver.info["name"] == "chromedriver":
                found.extend(p for p in driver.children(recursive=True) if "--type=renderer" in p.cmdline())
        except psutil.Error:
            pass
    return found


def test_a_stopped_chromium_gets_json_504_within_page_timeout_and_sigterm_is_bounded(stack_factory):
    stack = stack_factory().start()
    until_both_workers_search(stack)
    # Stopped renderers: the browsers look alive when checked out, then answer nothing.
    stopped = renderers(stack)
    assert stopped
    signal_all(stopped, signal.SIGSTOP)
    outcomes = []
    threads = [threading.Thread(target=lambda p=p: outcomes.append(search(stack, 90 + p, timeout=30)))
               for p in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    labels = [o.label for o in outcomes]
    assert set(labels) <= {"504 upstream_timeout", "503 busy"} and "504 upstream_timeout" in labels, labels
    assert all(o.seconds <= PAGE_TIMEOUT + 1 + SLACK for o in outcomes), [o.seconds for o in outcomes]

    # Stopped while idle: no browser can serve, and the health check says so.
    signal_all(stopped, signal.SIGCONT)
    until_both_workers_search(stack, starts=0)
    signal_all(chromium(stack), signal.SIGSTOP)
    health = request(stack.port, "GET", "/healthz", timeout=5)
    assert health.status == 503 and health.json()["status"] == "degraded", health.body

    # SIGTERM with stopped browsers: bounded, and nothing left behind.
    stack.nginx.send_signal(signal.SIGQUIT)
    stack.nginx.wait(15)
    started = time.monotonic()
    stack.uwsgi.send_signal(signal.SIGTERM)
    stack.uwsgi.wait(60)
    assert time.monotonic() - started <= PAGE_TIMEOUT + 5, time.monotonic() - started
    assert wait_until(lambda: not tagged(stack.tag), 5), [p.info["name"] for p in tagged(stack.tag)]


def test_a_killed_workers_browsers_and_files_are_removed_and_a_stop_leaves_none(stack_factory, temp_dir):
    stack = stack_factory(page_timeout="30").start()
    until_both_workers_search(stack)
    victim = stack.workers()[0]
    mine = dirs_of(temp_dir, victim.pid)
    assert mine, browser_files(temp_dir)
    # Everything a browser writes (chromedriver's profile, Chromium's org.chromium.Chromium.*)
    # is inside its directory: nothing else of it under TMPDIR.
    assert [name for name in browser_files(temp_dir) if not name.startswith("searchaddr-chromium-")] == []
    victim.send_signal(signal.SIGKILL)
    # uWSGI starts a new worker; it reaps what the dead one left.
    assert wait_until(lambda: not set(mine) & set(dirs_of(temp_dir)), 120), browser_files(temp_dir)
    assert search(stack).status == 200
    assert [name for name in browser_files(temp_dir) if not name.startswith("searchaddr-chromium-")] == []
    assert stack.stop() == [] and stack.browser_dirs_left == []
    assert browser_files(temp_dir) == []


def test_no_file_is_left_when_shutdown_comes_during_a_browser_start(stack_factory, temp_dir):
    stack = stack_factory(page_timeout="30")
    stack.start_uwsgi()
    assert wait_until(lambda: [p for p in browsers_of(stack.tag) if p.info["name"] == "chromedriver"], 60)
    stack.uwsgi.send_signal(signal.SIGTERM)
    stack.uwsgi.wait(60)
    assert wait_until(lambda: not tagged(stack.tag), 10), [p.info["name"] for p in tagged(stack.tag)]
    assert browser_files(temp_dir) == []


def shipped_eval():
    """The eval line of uwsgi.ini: how a worker loads the app."""
    lines = [line for line in (REPO / "uwsgi.ini").read_text().splitlines() if line.startswith("eval = ")]
    assert len(lines) == 1, lines
    return lines[0].removeprefix("eval = ")


def test_a_stop_that_comes_while_a_worker_loads_the_app_is_not_lost(stack_factory):
    """uWSGI installs a worker's stop handler only once the app has loaded, and its master waits
    for the workers on shutdown without a time limit: a SIGTERM while a worker loads must still
    stop everything. The app's load is made slow here (a sleep before the app's modules are imported) so
    that the stop surely comes during it."""
    load = 6
    stack = stack_factory(page_timeout="30")
    slow = shipped_eval().replace("import worker;", f"print('loading', flush=True); import time; "
                                                    f"time.sleep({load}); import worker;", 1)
    assert slow != shipped_eval()
    stack.uwsgi_command = lambda: Stack.uwsgi_command(stack) + ["--processes", "1", "--eval", slow]
    stack.start_uwsgi()
    assert wait_until(lambda: "loading" in stack.uwsgi_log.read_text(errors="replace"), 60)
    stack.uwsgi.send_signal(signal.SIGTERM)
    stack.uwsgi.wait(load + 30)
    assert wait_until(lambda: not tagged(stack.tag), 10), [p.info["name"] for p in tagged(stack.tag)]


def test_the_first_search_after_a_start_waits_for_the_starting_browser(stack_factory):
    """browsers = 1 per worker, starting when the service comes up: the first search waits for
    that start (within page_timeout) instead of getting 503 after the checkout timeout."""
    stack = stack_factory(page_timeout="60", checkout_timeout="2")
    stack.start_uwsgi()
    stack.start_nginx()
    assert wait_until(lambda: request(stack.port, "GET", "/healthz", timeout=5).status == 200, 60)
    first = search(stack, timeout=90)
    assert first.label == "200", first.body[:300]
