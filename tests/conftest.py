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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
# Tests start `uwsgi` by name: use the one installed beside this Python (the virtualenv's).
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

from scraper.browser import LINES, start_browser  # noqa: E402
from scraper.pool import BrowserPool  # noqa: E402
from scraper.sources.demo import DemoSource  # noqa: E402
from tests.processes import CHROMIUM_NAMES, TAG_ENV, tagged_processes, wait_for_no_processes  # noqa: E402

# Every temporary file of the run, ours and those of what it starts (Chromium's scoped
# directories, the Grid's, pytest's own tmp_path), goes into one directory, removed at the end:
# the run leaves nothing in /tmp. Short, for the unix sockets made under it. Traversable, for
# nginx's workers (another user).
RUN_TEMP = tempfile.mkdtemp(prefix="sa-t")
os.chmod(RUN_TEMP, 0o755)
os.environ["TMPDIR"] = tempfile.tempdir = RUN_TEMP

# Everything this test run starts (uWSGI, chromedriver, chromium, nginx, java) inherits this
# tag, so a leak check finds exactly our processes even when other work runs on the machine.
SESSION_TAG = os.environ.setdefault(TAG_ENV, uuid.uuid4().hex)
BROWSER_NAMES = CHROMIUM_NAMES + ("chromedriver",)
# The bundled demo site without its simulated latency.
FAST_SITE = DemoSource.default_url + "?latency=0"
# The line queries take to a local browser's page in the pools and services the tests start:
# SEARCHADDR_TEST_LINE=webdriver runs them all through chromedriver instead.
LINE = os.environ.get("SEARCHADDR_TEST_LINE", LINES[0])
if LINE not in LINES:
    raise SystemExit(f"SEARCHADDR_TEST_LINE={LINE!r}: choose one of {' '.join(LINES)}")


def browser_processes(tag=SESSION_TAG):
    return tagged_processes(tag, names=BROWSER_NAMES)


def wait_for_no_browsers(tag=SESSION_TAG, timeout=10.0):
    """[] once every chromium/chromedriver with this tag has exited, else what is left."""
    return wait_for_no_processes(tag, BROWSER_NAMES, timeout)


@contextlib.contextmanager
def real_browser(page_timeout, line=LINE):
    """One real browser (as the pool starts it) whose processes carry a tag of their own; yields
    its WebDriver, `page_timeout` for pages and scripts, its queries on `line`. Quit at the end,
    when no chromium or chromedriver of that tag may be left."""
    tag = uuid.uuid4().hex
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TAG_ENV, tag)
        browser = start_browser(line=line)
    try:
        browser.driver.set_page_load_timeout(page_timeout)
        browser.driver.set_script_timeout(page_timeout)
        yield browser.driver
    finally:
        browser.quit()
        assert wait_for_no_browsers(tag) == [], "chromium or chromedriver outlived the test browser"


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


def write_config(path, cors=None, scraper=None, cache=None):
    """Write an INI config: the repo defaults, with the given keys replaced."""
    sections = {
        "cors": {"origins": "https://blog.example.com http://localhost:4000",
                 "paths": "/searchaddr1 /searchaddr2", "max_age": "600",
                 "allow_headers": "Content-Type"},
        "scraper": {"source": "demo", "browsers": "2", "checkout_timeout": "2",
                    "page_timeout": "8", "recycle_after": "200", "line": LINE},
        "cache": {"ttl": "300", "size": "2000"},
    }
    for name, values in (("cors", cors), ("scraper", scraper), ("cache", cache)):
        sections[name].update(values or {})
    with open(path, "w", encoding="utf-8") as file:
        for name, values in sections.items():
            file.write(f"[{name}]\n")
            file.writelines(f"{key} = {value}\n" for key, value in values.items() if value is not None)
    return str(path)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
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
