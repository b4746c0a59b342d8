"""The browsers a test run starts: the run's tag, the demo site without latency, the line queries
take, finding what is left of a tag's chromium and chromedriver, one real browser, and one search
on a pool's browser."""
import contextlib
import os
import uuid

import pytest

from scraper.browser import LINES, start_browser
from scraper.sources.demo import DemoSource
from tests.support.processes import CHROMIUM_NAMES, TAG_ENV, tagged_processes, wait_for_no_processes

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


def search(pool, q="세종대로 110", timeout=10):
    with pool.browser(timeout) as driver:
        return pool.source.search(driver, q, 1, 10)
