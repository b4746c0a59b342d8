"""Integration: scripts/update-data.sh against a real uWSGI with real Chromium, while a closed loop
of searches runs. A day's change file (with the real abolition line of the ministry's daily file)
switches the running service to the new index through a chain reload with no failed request; a
file that is not the layout is refused with its file and line, and nothing reloads."""
import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from urllib.parse import urlencode

import pytest

from tests.support.browsers import wait_for_no_browsers
from tests.support.config import write_config
from tests.support.processes import free_port, stop_process, tagged_processes, tail, wait_until
from tests.support.servers import http_request, nginx_server, uwsgi_server
from tests.support.official import ABOLISHED, SEJONG, text, with_fields, write_zip
from tests.support.official_sample import write_sample

pytestmark = pytest.mark.integration

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPDATE = os.path.join(ROOT, "scripts", "update-data.sh")
BUILDER = os.path.join(ROOT, "demo_site", "build_index.py")
DAY = "20260401"
# Test value: an address the change file adds (31), on the real Sejong line's road.
ADDED = with_fields(SEJONG, f0="36110101200000200900100000", f12="9001", f20="31", f21="",
                    f22="갱신시험동")
ADDED_ROAD = "세종특별자치시 한누리대로 9001"
ABOLISHED_ROAD = "강원특별자치도 원주시 장작터길 77"
# Searches of the loop: road, lot and building-name kinds; each asks for a page and page size no
# earlier one asked for, so every search is a cache miss that reaches a browser.
LOOP_QUERIES = ("한누리대로 1811", "반곡동 47-1", "수루배마을", "세종 수루배", "대덕구 계족로", "오정동",
                "신탄진로", "대덕대로", "송촌동", "대전 비래동")
CLIENTS = 3
SWITCH_LIMIT = 30.0


@pytest.fixture(scope="module")
def official_files(tmp_path_factory):
    """A full file (the real lines, and kozip's 대전 대덕구 in the layout) and a day's change zip
    that abolishes the real Wonju address and adds ADDED."""
    folder = tmp_path_factory.mktemp("official")
    full = write_sample(str(folder / "202603_full.zip"), areas=(("대전광역시", "대덕구"),))
    changes = write_zip(str(folder / f"{DAY}_dailyjusukrdata.zip"), {
        f"AlterD.JUSUKR.{DAY}.TH_SGCO_RNADR_MST.TXT": text([ABOLISHED, ADDED]),
        f"AlterD.JUSUKR.{DAY}.TH_SGCO_RNADR_LNBR.TXT": b"No Data"})
    return full, changes


@pytest.fixture
def site(tmp_path, official_files):
    """A copy of the demo page with an index of its own, built from the full file."""
    page = tmp_path / "site"
    page.mkdir()
    for name in ("index.html", "app.js", "style.css"):
        shutil.copy(os.path.join(ROOT, "demo_site", name), page / name)
    subprocess.run(["python3", BUILDER, "--data", official_files[0], "--out", str(page / "data")],
                   check=True, capture_output=True, timeout=120)
    return page


class Service:
    """The service on a free port, serving `site`, reloaded by a touch file of its own."""

    def __init__(self, tmp_path, site):
        self.port = free_port()
        self.log = tmp_path / "uwsgi.log"
        self.touch = tmp_path / "run" / "chain-reload"
        self.data = site / "data"
        # One browser per worker, as searchaddr.ini ships (the 1 GB profile).
        self.config = write_config(tmp_path / "searchaddr.ini", scraper={
            "url": (site / "index.html").as_uri() + "?latency=0", "browsers": "1",
            "page_timeout": "30"})

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

    def update(self, *files):
        return subprocess.run(["bash", UPDATE, "--index", str(self.data),
                               "--touch", str(self.touch), *map(str, files)],
                              capture_output=True, text=True, timeout=180)

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
    """CLIENTS threads, each sending the next search as soon as the last one answered, until
    stopped or `limit` seconds have passed; every answer is kept with its start and end."""

    def __init__(self, service, limit=240.0):
        self.service = service
        self.limit = limit
        self.answers = []           # (started, ended, status, JSON body or raw bytes)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(CLIENTS)]

    def run(self, client):
        deadline = time.monotonic() + self.limit
        step = client
        while not self.stop.is_set() and time.monotonic() < deadline:
            kinds = len(LOOP_QUERIES)
            params = {"q": LOOP_QUERIES[step % kinds], "per_page": 1 + step // kinds % 50,
                      "page": 1 + step // (kinds * 50) % 100}
            started = time.monotonic()
            try:
                status, _, body = self.service.get("/searchaddr1", **params)
            except OSError as error:
                status, body = None, repr(error)
            self.answers.append((started, time.monotonic(), status, body))
            step += CLIENTS

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
                if started >= since and not (status == 200 and isinstance(body, dict) and "total" in body)]

    def during(self, start, end):
        return [answer for answer in self.answers if answer[1] >= start and answer[0] <= end]


@contextlib.contextmanager
def running_service(tmp_path, site, process_tag, front):
    """The service on `site`: `front` "dev" is `uwsgi --ini uwsgi.ini:dev` (HTTP, one worker);
    "nginx" is `uwsgi --ini uwsgi.ini` (the shipped one worker) on a unix socket behind nginx,
    which tells the app how long a request queued (X-Request-Start)."""
    running = Service(tmp_path, site)
    running.front = front
    env = running.env()
    socket = tmp_path / "searchaddr.sock"
    if front == "nginx":
        env.pop("SEARCHADDR_HTTP")
        env["SEARCHADDR_SOCKET"] = str(socket)
    with uwsgi_server("dev" if front == "dev" else "", env=env, log_path=running.log) as server:
        with contextlib.ExitStack() as stack:
            if front == "nginx":
                wait_until(lambda: server.poll() is not None or socket.exists(), 60)
                stack.enter_context(nginx_server(str(socket), running.port))
            wait_until(lambda: server.poll() is not None or running.ready(), 60)
            assert server.poll() is None and running.ready(), tail(running.log)
            yield running
        stop_process(server)
    assert wait_for_no_browsers(process_tag) == []
    assert tagged_processes(process_tag, names=("uwsgi", "nginx")) == []


@pytest.fixture(params=["dev", "nginx"])
def service(request, tmp_path, site, process_tag):
    with running_service(tmp_path, site, process_tag, request.param) as running:
        yield running


@pytest.fixture
def dev_service(tmp_path, site, process_tag):
    with running_service(tmp_path, site, process_tag, "dev") as running:
        yield running


def test_a_days_changes_switch_the_running_service_with_no_failed_request(service, official_files, progress):
    before = service.index()
    assert before["source"] == "official" and before["base_date"] != "2026-04-01"
    assert service.total(ADDED_ROAD, 7) == 0
    assert service.total(ABOLISHED_ROAD, 7) == 1
    reloads = service.reloads()
    with ClosedLoop(service) as loop:
        time.sleep(3.0)
        started = time.monotonic()
        update = service.update(official_files[1])
        touched = time.monotonic()
        assert update.returncode == 0, update.stderr + update.stdout
        switched = service.wait_for_switch("2026-04-01", reloads)
        assert switched, tail(service.log)
        time.sleep(2.0)
    during = loop.during(touched, switched)
    progress(f"data update ({service.front}): build {touched - started:.1f} s, switch "
             f"{switched - touched:.1f} s after the touch; {len(loop.answers)} searches in all, "
             f"{len(during)} during the switch, {len(loop.failed())} failed")
    assert loop.failed() == []
    assert len(during) > 0 and len(loop.answers) > 50
    assert switched - touched <= SWITCH_LIMIT
    after = service.index()
    assert after["source"] == "official" and after["addresses"] == before["addresses"]
    # The same searches as before the switch: the shared cache holds their old answers, which the
    # new index's workers never use.
    assert service.total(ADDED_ROAD, 7) == 1
    assert service.total(ABOLISHED_ROAD, 7) == 0


def test_a_file_that_is_not_the_layout_is_refused_and_nothing_reloads(dev_service, tmp_path):
    service = dev_service
    before = service.index()
    bad = tmp_path / f"AlterD.JUSUKR.{DAY}.TH_SGCO_RNADR_MST.TXT"
    bad.write_bytes(text([ABOLISHED], encoding="utf-8"))      # UTF-8 where CP949 belongs
    data = service.data
    files = sorted(os.listdir(data))
    reloads = service.reloads()
    touched = service.touch.stat().st_mtime_ns      # uWSGI makes the file when it starts
    with ClosedLoop(service, limit=60.0) as loop:
        update = service.update(bad)
        time.sleep(3.0)
    assert update.returncode != 0
    assert f"{bad.name}:1:" in update.stderr, update.stderr
    assert "previous index" in update.stderr and "touched" not in update.stdout
    assert service.touch.stat().st_mtime_ns == touched and service.reloads() == reloads
    assert sorted(os.listdir(data)) == files and service.index() == before
    assert loop.failed() == [] and len(loop.answers) > 10
    assert service.total(ABOLISHED_ROAD, 9) == 1
    assert json.loads(open(os.path.join(data, "about.json"), encoding="utf-8").read())["addresses"] == \
        before["addresses"]
