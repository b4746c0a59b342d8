import os
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
# Tests start `uwsgi` by name: use the one installed beside this Python (the virtualenv's).
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

from tests.processes import TAG_ENV, tagged_processes, wait_for_no_processes  # noqa: E402

# Everything this test run starts (uWSGI, chromedriver, chromium, nginx, java) inherits this
# tag, so a leak check finds exactly our processes even when other work runs on the machine.
SESSION_TAG = os.environ.setdefault(TAG_ENV, uuid.uuid4().hex)
BROWSER_NAMES = ("chromium", "chromedriver")


def browser_processes(tag=SESSION_TAG):
    return tagged_processes(tag, names=BROWSER_NAMES)


def wait_for_no_browsers(tag=SESSION_TAG, timeout=10.0):
    """[] once every chromium/chromedriver with this tag has exited, else what is left."""
    return wait_for_no_processes(tag, BROWSER_NAMES, timeout)


@pytest.fixture
def process_tag(monkeypatch):
    """A fresh tag for processes one test starts, so it can check exactly those."""
    tag = uuid.uuid4().hex
    monkeypatch.setenv(TAG_ENV, tag)
    return tag


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
                    "page_timeout": "8", "recycle_after": "200"},
        "cache": {"ttl": "300", "size": "2000"},
    }
    for name, values in (("cors", cors), ("scraper", scraper), ("cache", cache)):
        sections[name].update(values or {})
    with open(path, "w", encoding="utf-8") as file:
        for name, values in sections.items():
            file.write(f"[{name}]\n")
            file.writelines(f"{key} = {value}\n" for key, value in values.items() if value is not None)
    return str(path)


def pytest_sessionfinish(session, exitstatus):
    left = wait_for_no_browsers()
    if left:
        names = ", ".join(f"{p.info['name']}:{p.pid}" for p in left)
        for process in left:
            process.kill()
        print(f"\nLEAK: browser processes left at the end of the test run: {names}")
        session.exitstatus = 1
