import os
import sys
import uuid

import psutil
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
# Tests start `uwsgi` by name: use the one installed beside this Python (the virtualenv's).
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

# Everything this test run starts (uWSGI, chromedriver, chromium, nginx, java) inherits this
# tag, so a leak check finds exactly our processes even when other work runs on the machine.
TAG_ENV = "SEARCHADDR_TEST_TAG"
SESSION_TAG = os.environ.setdefault(TAG_ENV, uuid.uuid4().hex)


def tagged_processes(tag=SESSION_TAG, exclude_self=True):
    """Live processes whose environment carries TAG_ENV=tag (zombies excluded)."""
    found = []
    me = os.getpid()
    for process in psutil.process_iter(["pid", "name"]):
        if exclude_self and process.pid == me:
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(TAG_ENV) == tag:
                found.append(process)
        except psutil.Error:
            continue
    return found


def browser_processes(tag=SESSION_TAG):
    return [p for p in tagged_processes(tag) if p.info["name"] in ("chromium", "chromedriver")]


def wait_for_no_browsers(tag=SESSION_TAG, timeout=10.0):
    """[] once every chromium/chromedriver with this tag has exited, else what is left."""
    left = browser_processes(tag)
    if left:
        psutil.wait_procs(left, timeout=timeout)
        left = browser_processes(tag)
    return left


@pytest.fixture
def process_tag(monkeypatch):
    """A fresh tag for processes one test starts, so it can check exactly those."""
    tag = uuid.uuid4().hex
    monkeypatch.setenv(TAG_ENV, tag)
    return tag


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
