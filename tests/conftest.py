import contextlib
import os
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path

import psutil
import pytest

# Tests start `uwsgi` by name: use the one installed beside this Python (the virtualenv's).
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

from scraper.pool import BrowserPool  # noqa: E402
from scraper.sources.demo import DemoSource  # noqa: E402
from tests.support.browsers import FAST_SITE, LINE, browser_processes, wait_for_no_browsers  # noqa: E402
from tests.support.processes import TAG_ENV  # noqa: E402

# Every temporary file of the run, ours and those of what it starts (Chromium's scoped
# directories, the Grid's, pytest's own tmp_path), goes into one directory, made before the test
# modules load and removed at the end: the run leaves nothing in /tmp. Short, for the unix
# sockets made under it. Traversable, for nginx's workers (another user).
RUN_TEMP = None


@pytest.fixture
def process_tag(monkeypatch):
    """A fresh tag for processes one test starts, so it can check exactly those."""
    tag = uuid.uuid4().hex
    monkeypatch.setenv(TAG_ENV, tag)
    return tag


@pytest.fixture
def make_pool(process_tag):
    """make_pool(url=FAST_SITE, page_timeout=30, **other BrowserPool arguments): a pool of real
    Chromium on the demo source, its browsers tagged for this test. At the end every pool is
    closed, a stopped browser continued, and no browser of the test may be left."""
    pools = []

    def make(url=FAST_SITE, page_timeout=30, **kwargs):
        kwargs.setdefault("line", LINE)
        pool = BrowserPool(DemoSource(url), page_timeout=page_timeout, **kwargs)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
    for process in browser_processes(process_tag):      # never leave a stopped browser behind
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGCONT)
    assert wait_for_no_browsers(process_tag) == []


@pytest.fixture
def temp_dir(monkeypatch):
    """TMPDIR for the processes a test starts: where their browsers' files go. Short: the full
    Chromium's SingletonSocket under it must fit a unix socket path (107 bytes), which pytest's
    tmp_path does not."""
    directory = Path(tempfile.mkdtemp(prefix="sa-", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(directory))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def progress(pytestconfig):
    """progress("container: building the image") shows one line on the terminal at once, while
    a long test runs: pytest captures the test's own stdout and stderr."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    terminal = pytestconfig.pluginmanager.getplugin("terminalreporter")

    def show(line):
        if capture is None or terminal is None:
            print(line, flush=True)
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(line)
    return show


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global RUN_TEMP
    RUN_TEMP = tempfile.mkdtemp(prefix="sa-t")
    os.chmod(RUN_TEMP, 0o755)
    os.environ["TMPDIR"] = tempfile.tempdir = RUN_TEMP
    if config.option.basetemp is None:
        config.option.basetemp = os.path.join(RUN_TEMP, "p")


def pytest_unconfigure(config):
    shutil.rmtree(RUN_TEMP, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    left = wait_for_no_browsers()
    if left:
        names = ", ".join(f"{p.info['name']}:{p.pid}" for p in left)
        for process in left:
            process.kill()
        print(f"\nLEAK: browser processes left at the end of the test run: {names}")
        session.exitstatus = 1
