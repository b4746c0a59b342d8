"""A running service whose index scripts/update-data.sh replaces, and a closed loop of searches
against it: what tests/test_data_update_uwsgi.py and bench/update.py share. Every process started
here (uWSGI, nginx, the browsers of its workers) is stopped by PID when `running_service` ends."""
import contextlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from tests.support.browsers import wait_for_no_browsers
from tests.support.config import write_config
from tests.support.processes import free_port, stop_process, tagged_processes, tail, wait_until
from tests.support.servers import http_request, nginx_server, uwsgi_server

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = ("index.html", "app.js", "style.css")
UPDATE = ROOT / "scripts" / "update-data.sh"
# Searches of the loop: road, lot and building-name kinds; each asks for a page and page size no
# earlier one asked for, so every search is a cache miss that reaches a browser.
LOOP_QUERIES = ("한누리대로 1811", "반곡동 47-1", "수루배마을", "세종 수루배", "대덕구 계족로", "오정동",
                "신탄진로", "대덕대로", "송촌동", "대전 비래동")
# One browser per worker, as searchaddr.ini ships (the 1 GB profile).
SCRAPER = {"browsers": "1", "page_timeout": "30"}


def page_copy(site):
    """`site` (a new directory) holding a copy of the demo page, without its index (site/data)."""
    site = Path(site)
    site.mkdir()
    for name in PAGE_FILES:
        shutil.copy(ROOT / "demo_site" / name, site / name)
    return site


class Service:
    """The service on a free port, serving `site`, reloaded by a touch file of its own under
    `directory`; `scraper` replaces keys of SCRAPER in its config."""

    def __init__(self, directory, site, scraper=None):
        directory, site = Path(directory), Path(site)
        self.port = free_port()
        self.log = directory / "uwsgi.log"
        self.touch = directory / "run" / "chain-reload"
        self.data = site / "data"
        self.config = write_config(directory / "searchaddr.ini", scraper={
            "url": (site / "index.html").as_uri() + "?latency=0", **SCRAPER, **(scraper or {})})

    def env(self):
        return {"SEARCHADDR_HTTP": f"127.0.0.1:{self.port}", "SEARCHADDR_CONFIG": self.config,
                "SEARCHADDR_CHAIN_RELOAD": str(self.touch)}

    def get(self, path, **params):
        return http_request(self.port, "GET", path + ("?" + urlencode(params) if params else ""), timeout=60)

    def total(self, q, per_page):
        """Matches of `q` (a page size the loop also asks for is fine: other queries)."""
        status, _, body = self.get("/searchaddr1", q=q, per_page=per_page)
        assert status == 200, body
        return body["total"]

    def index(self):
        status, _, body = self.get("/healthz")
        return body["index"] if status == 200 and isinstance(body, dict) else None

    def update(self, *files, timeout=180):
        return subprocess.run(["bash", str(UPDATE), "--index", str(self.data),
                               "--touch", str(self.touch), *map(str, files)],
                              capture_output=True, text=True, timeout=timeout)

    def ready(self):
        try:
            return self.get("/readyz")[0] == 200
        except OSError:
            return False

    def reloads(self):
        return tail(self.log, 100000).count("chain reloading complete")

    def wait_for_switch(self, base_date, reloads, limit=60.0):
        """When the answering worker (started by a chain reload) reads an index of `base_date`;
        None after `limit` seconds. uWSGI ignores a touch while a chain reload is already under
        way (the dev section starts one when a Python file changes): touch again after it."""
        deadline = time.monotonic() + limit
        ignored = 0
        while time.monotonic() < deadline:
            if (self.index() or {}).get("base_date") == base_date and self.reloads() > reloads:
                return time.monotonic()
            log = tail(self.log, 100000)
            if log.count("chain reload is already running") > ignored and "chain reloading complete" \
                    in log[log.rindex("chain reload is already running"):]:
                ignored += 1
                later = max(time.time(), os.stat(self.touch).st_mtime + 1)
                os.utime(self.touch, (later, later))
            time.sleep(0.1)
        return None


class ClosedLoop:
    """`clients` threads, each sending the next search (of `queries`) as soon as the last one
    answered, until stopped or `limit` seconds have passed; every answer is kept with its start
    and end."""

    def __init__(self, service, limit=240.0, clients=3, queries=LOOP_QUERIES):
        self.service = service
        self.limit = limit
        self.clients = clients
        self.queries = queries
        self.answers = []           # (started, ended, status, JSON body or raw bytes)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(clients)]

    def run(self, client):
        deadline = time.monotonic() + self.limit
        step = client
        kinds = len(self.queries)
        while not self.stop.is_set() and time.monotonic() < deadline:
            params = {"q": self.queries[step % kinds], "per_page": 1 + step // kinds % 50,
                      "page": 1 + step // (kinds * 50) % 100}
            started = time.monotonic()
            try:
                status, _, body = self.service.get("/searchaddr1", **params)
            except OSError as error:
                status, body = None, repr(error)
            self.answers.append((started, time.monotonic(), status, body))
            step += self.clients

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(70)

    def failed(self, since=0.0):
        return [(status, body) for started, _, status, body in self.answers
                if started >= since and not answered(status, body)]

    def during(self, start, end):
        return [answer for answer in self.answers if answer[1] >= start and answer[0] <= end]


def answered(status, body):
    """Whether a search of the loop got its answer."""
    return status == 200 and isinstance(body, dict) and "total" in body


@contextlib.contextmanager
def running_service(directory, site, process_tag, front, scraper=None, start_limit=60.0):
    """The service on `site`: `front` "dev" is `uwsgi --ini uwsgi.ini:dev` (HTTP, one worker);
    "nginx" is `uwsgi --ini uwsgi.ini` (the shipped one worker) on a unix socket behind nginx,
    which tells the app how long a request queued (X-Request-Start). Ready within `start_limit`
    seconds; afterwards no process of `process_tag` may be left."""
    directory = Path(directory)
    running = Service(directory, site, scraper)
    running.front = front
    env = running.env()
    socket = directory / "searchaddr.sock"
    if front == "nginx":
        env.pop("SEARCHADDR_HTTP")
        env["SEARCHADDR_SOCKET"] = str(socket)
    with uwsgi_server("dev" if front == "dev" else "", env=env, log_path=running.log) as server:
        with contextlib.ExitStack() as stack:
            if front == "nginx":
                wait_until(lambda: server.poll() is not None or socket.exists(), start_limit)
                stack.enter_context(nginx_server(str(socket), running.port))
            wait_until(lambda: server.poll() is not None or running.ready(), start_limit)
            assert server.poll() is None and running.ready(), tail(running.log)
            yield running
        stop_process(server)
    assert wait_for_no_browsers(process_tag) == []
    assert tagged_processes(process_tag, names=("uwsgi", "nginx")) == []
