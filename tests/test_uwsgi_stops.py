"""Every way the service stops, on real uWSGI and real Chromium: SIGTERM at any moment of a start,
SIGTERM with a browser stuck in a request, SIGTERM during a rolling restart, and Ctrl-C (SIGINT to
the whole process group, as a terminal sends it). Each stop ends in bounded time and leaves no
process and no file under TMPDIR. `uwsgi --ini uwsgi.ini:dev` in a process group of its own, as
the README's first command runs it; the socket section behind nginx where an answer must reach
the client after the stop began.
"""
import os
import signal
import subprocess
import threading
import time
import uuid
from urllib.parse import quote

import psutil
import pytest

from tests.support.processes import (CHROMIUM_NAMES, browser_files, catches, kill_tagged,
                                     kill_tree, tagged_processes, wait_until)
from tests.support.edge import DevServer
from tests.support.stack import Stack, request

pytestmark = pytest.mark.integration

# uwsgi.ini's promise once a worker serves: a stop within 2 s, a stuck browser or not.
STOP_LIMIT = 2.0
SLACK = 1.5         # a loaded 2-core machine
# A stop that comes while the app loads waits at most for the load (a browser start included);
# the master's worker-reload-mercy (20 s) bounds it in any case.
LOAD_LIMIT = 20.0
# Seconds after the master takes SIGTERM (it ignores it before its loop runs, its first tens of
# ms): 0 is while the worker it has just forked starts Python, where uWSGI itself ignores a
# stop and the master used to wait for ever; then while the app and its browser load.
START_MOMENTS = (0.0,) * 6 + (0.05, 0.2, 0.5, 1.0)


@pytest.fixture
def dev_servers(tmp_path, temp_dir):
    """dev_servers() launches `uwsgi --ini uwsgi.ini:dev` with the shipped searchaddr.ini, its
    browsers' files in temp_dir. Whatever a test leaves running is killed at the end, by PID."""
    servers = []

    def launch():
        directory = tmp_path / f"server{len(servers)}"
        directory.mkdir()
        server = DevServer(directory, uuid.uuid4().hex).launch()
        servers.append(server)
        return server

    yield launch
    for server in servers:
        for process in tagged_processes(server.tag, descendants=True):
            try:
                process.send_signal(signal.SIGCONT)
            except psutil.Error:
                pass
        if server.process.poll() is None:
            kill_tree(server.process.pid)
            server.process.wait(10)
        kill_tagged(server.tag, grace=0)


def stopped_within(process, send, limit):
    """Seconds from send() until `process` (a Popen) exits; None if it is still there after `limit`."""
    started = time.monotonic()
    send()
    try:
        process.wait(limit)
    except subprocess.TimeoutExpired:
        return None
    return time.monotonic() - started


def leftovers(tag, temp_dir):
    """What a stop left: processes of the tag or holding a file under temp_dir (Chromium's
    renderers overwrite their environment, not their command line), and files under temp_dir."""
    mine = str(temp_dir)
    processes = {p.pid: p.info["name"] for p in tagged_processes(tag)}
    for process in psutil.process_iter(["name", "cmdline"]):
        if any(mine in part for part in process.info["cmdline"] or ()):
            processes[process.pid] = process.info["name"]
    return sorted(processes.values()), sorted(os.listdir(temp_dir))


def nothing_left(tag, temp_dir):
    """([], []) once the stop's last process is gone (a killed one may take a moment), else
    what is left."""
    wait_until(lambda: leftovers(tag, temp_dir) == ([], []), 5)
    return leftovers(tag, temp_dir)


def healthy(server, timeout=60):
    return wait_until(lambda: server.process.poll() is None and
                      request(server.port, "GET", "/healthz", timeout=5).status == 200, timeout)


def search(port, page=1, timeout=30):
    return request(port, "GET", f"/searchaddr1?q={quote('세종대로')}&page={page}", timeout=timeout)


def test_a_sigterm_at_any_moment_of_a_start_stops_everything(dev_servers, temp_dir):
    """Repeated, because the moments that matter are short: a SIGTERM while the master's first
    worker starts Python used to be ignored by that worker, and the master then waited for it
    for ever (about one try in two at moment 0)."""
    outcomes = []
    for moment in START_MOMENTS + ("serving",) * 3:
        server = dev_servers()
        if moment == "serving":
            assert healthy(server), server.log.read_text(errors="replace")[-3000:]
        else:
            assert wait_until(lambda: catches(server.process.pid, signal.SIGTERM), 30, interval=0.001)
            time.sleep(moment)
        seconds = stopped_within(server.process, lambda: server.process.send_signal(signal.SIGTERM),
                                 LOAD_LIMIT)
        outcomes.append((moment, seconds, nothing_left(server.tag, temp_dir)))
    hangs = [moment for moment, seconds, _ in outcomes if seconds is None]
    assert not hangs, f"no exit within {LOAD_LIMIT} s after SIGTERM at {hangs}: {outcomes}"
    assert [outcome for outcome in outcomes if outcome[2] != ([], [])] == []
    serving = [seconds for moment, seconds, _ in outcomes if moment == "serving"]
    assert max(serving) <= STOP_LIMIT + SLACK, outcomes


def test_a_sigterm_with_a_browser_stuck_in_a_request_ends_within_two_seconds(tmp_path, temp_dir):
    """Through nginx to the socket section, one worker with one browser as shipped. The browser
    is stopped (its renderer first, so that a search takes it and waits; then all of it): the
    stop gives the search half a second, kills the browser, and the search answers 503."""
    stack = Stack(tmp_path, scraper={"browsers": "1", "page_timeout": "8"}, cache={"size": "0"},
                  processes=1)
    stuck = []
    try:
        stack.start()
        assert search(stack.port).status == 200
        chromium = [p for p in tagged_processes(stack.tag, descendants=True) if p.info["name"] in CHROMIUM_NAMES]
        renderers = [p for p in chromium if "--type=renderer" in " ".join(p.cmdline())]
        assert renderers, [p.cmdline()[:2] for p in chromium]
        for process in renderers:
            process.send_signal(signal.SIGSTOP)
        client = threading.Thread(target=lambda: stuck.append(search(stack.port, page=2)))
        client.start()
        time.sleep(1.0)         # the search has its browser and waits for the stopped renderer
        assert not stuck, stuck
        for process in chromium:
            process.send_signal(signal.SIGSTOP)
        seconds = stopped_within(stack.uwsgi, lambda: stack.uwsgi.send_signal(signal.SIGTERM), 30)
        client.join(30)
        assert seconds is not None and seconds <= STOP_LIMIT + SLACK, seconds
        assert stuck and stuck[0].status == 503 and stuck[0].code == "busy", stuck
        assert stuck[0].headers.get("retry-after"), stuck[0].headers
        assert nothing_left(stack.tag, temp_dir) == ([], []), browser_files(temp_dir)
    finally:
        for process in tagged_processes(stack.tag, descendants=True):
            try:
                process.send_signal(signal.SIGCONT)
            except psutil.Error:
                pass
        assert stack.stop() == []


def test_a_sigterm_during_a_rolling_restart_stops_everything(dev_servers, temp_dir):
    """A chain reload replaces the worker (the old one stops, its successor loads the app): a
    SIGTERM at any moment of it stops both, bounded and clean."""
    outcomes = []
    for delay in (0.0, 0.3, 0.6, 1.0, 1.5):
        server = dev_servers()
        assert healthy(server), server.log.read_text(errors="replace")[-3000:]
        server.chain_reload.touch()
        assert wait_until(lambda: "chain reload !!!" in server.log.read_text(errors="replace"), 10)
        time.sleep(delay)
        seconds = stopped_within(server.process, lambda: server.process.send_signal(signal.SIGTERM),
                                 LOAD_LIMIT)
        outcomes.append((delay, seconds, nothing_left(server.tag, temp_dir)))
    assert all(seconds is not None for _, seconds, _ in outcomes), outcomes
    assert [outcome for outcome in outcomes if outcome[2] != ([], [])] == []


@pytest.mark.parametrize("browser", ["serving", "killed"])
def test_ctrl_c_to_the_process_group_stops_as_cleanly_as_sigterm(dev_servers, temp_dir, browser):
    """SIGINT reaches every process of the terminal's foreground group at once: the master, its
    routers and the worker (Chromium runs in a session of its own). Nothing may be left: no
    process, no browser directory, none of Chromium's org.chromium.Chromium.* directories, even
    for a browser that was killed before."""
    server = dev_servers()
    assert healthy(server), server.log.read_text(errors="replace")[-3000:]
    assert search(server.port).status == 200
    assert browser_files(temp_dir)
    if browser == "killed":
        for process in tagged_processes(server.tag, names=CHROMIUM_NAMES):
            process.kill()
    seconds = stopped_within(server.process, lambda: os.killpg(server.process.pid, signal.SIGINT),
                             LOAD_LIMIT)
    assert seconds is not None and seconds <= STOP_LIMIT + SLACK, seconds
    assert nothing_left(server.tag, temp_dir) == ([], [])
    assert "Traceback" not in server.log.read_text(errors="replace")
