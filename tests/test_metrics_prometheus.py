"""Integration: a real Prometheus scrapes /metrics of a real uWSGI instance (2 workers, real
Chromium) behind a real nginx, and finds exactly the requests the test made, summed over both
workers. Readiness follows the browsers: unready once they are all killed, ready when back."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.browsers import browser_processes, wait_for_no_browsers
from tests.support.config import write_config
from tests.support.processes import free_port, stop_process, tagged_processes, wait_until
from tests.support.servers import ROOT, http_request, nginx_server, prometheus_query, prometheus_server, uwsgi_server

pytestmark = pytest.mark.integration

SEARCHES = ["세종대로 110", "테헤란로 152", "강남구 테헤란로", "04524", "Sejong-daero 110"]   # N
HITS = 4                                                                                  # M
BAD = ["/searchaddr1?q=x", "/searchaddr1?q=" + quote("세종대로") + "&page=0", "/searchaddr2?id=a!b"]  # K
BURST = 30


def scalar(url, query):
    result = prometheus_query(url, query)
    return result[0][1] if result else 0.0


def metric_value(text, name, **labels):
    """A sample's value in the text format, or None."""
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if match and match.group(1) == name:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            if labels.items() <= found.items():
                return float(match.group(3))
    return None


def test_prometheus_counts_exactly_what_was_served_and_readiness_follows_browsers(process_tag, tmp_path):
    config = write_config(tmp_path / "searchaddr.ini",
                          # A short checkout timeout: a burst of distinct searches is shed (503).
                          scraper={"page_timeout": "30", "checkout_timeout": "0.05"})
    sock = str(tmp_path / "searchaddr.sock")
    # Where uWSGI makes its metrics directory (mktemp -t); short, as Chromium's socket paths must be.
    temp = Path(tempfile.mkdtemp(prefix="sa-"))
    port = free_port()
    served = Counter()               # (path, status) -> responses the clients got

    def get(path):
        status, _, body = http_request(port, "GET", path)
        served[path.split("?")[0], status] += 1
        return status, body

    try:
        # Few threads per worker, so the traffic reaches both workers: the workers' threads take
        # turns at accepting, and one worker's many threads could take every request of the test.
        with uwsgi_server(env={"SEARCHADDR_SOCKET": sock, "SEARCHADDR_CONFIG": config, "TMPDIR": str(temp)},
                          log_path=tmp_path / "uwsgi.log", processes=2, threads=4) as server:
            wait_until(lambda: os.path.exists(sock) or server.poll() is not None, 60, "uwsgi socket")
            with nginx_server(sock, port):
                try:
                    serve_and_check(server, port, get, served, tmp_path, temp, process_tag)
                finally:
                    stop_process(server)
        assert wait_for_no_browsers(process_tag) == []
        left = [p for p in tagged_processes(process_tag) if p.info["name"] in ("uwsgi", "nginx", "prometheus")]
        assert left == [], f"left running: {left}"
        assert list(temp.glob("searchaddr-metrics.*")) == []        # the master removed it at exit
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def serve_and_check(server, port, get, served, tmp_path, temp, process_tag):
    assert server.poll() is None, (tmp_path / "uwsgi.log").read_text()
    metrics_dirs = list(temp.glob("searchaddr-metrics.*"))
    assert len(metrics_dirs) == 1

    def ready_in_a_row(times=8):
        """Every probe of several (both workers answer some) says ready. A worker without a
        running browser starts one when probed, so a failed warm-up start heals here."""
        time.sleep(0.3)
        return all(http_request(port, "GET", "/readyz")[0] == 200 for _ in range(times))

    def browser_in_each_worker():
        _, _, text = http_request(port, "GET", "/metrics")
        return all((metric_value(text.decode(), "searchaddr_browsers_open", worker=w) or 0) >= 1
                   for w in ("1", "2"))

    wait_until(lambda: ready_in_a_row() and browser_in_each_worker(), 120, "a running browser in each worker")

    with prometheus_server([f"127.0.0.1:{port}"], tmp_path / "prometheus") as prometheus:
        for q in SEARCHES:                                  # N misses
            status, body = get("/searchaddr1?q=" + quote(q))
            assert status == 200, body
        for _ in range(HITS):                               # M hits
            assert get("/searchaddr1?q=" + quote(SEARCHES[0]))[0] == 200
        for path in BAD:                                    # K 400s
            assert get(path)[0] == 400
        with ThreadPoolExecutor(BURST) as clients:          # one burst of distinct searches
            burst = list(clients.map(lambda n: get("/searchaddr1?q=" + quote(f"세종대로 {n + 1}")),
                                     range(BURST)))
        burst_ok = sum(1 for status, _ in burst if status == 200)
        burst_shed = sum(1 for status, body in burst if status == 503 and body["error"]["code"] == "busy")
        assert burst_ok + burst_shed == BURST and burst_shed >= 1, Counter(s for s, _ in burst)
        traffic_ended = time.time()

        def scraped_after_traffic():
            return scalar(prometheus, 'max(timestamp(searchaddr_http_requests_total))') > traffic_ended + 0.2

        wait_until(scraped_after_traffic, 30, "a scrape after the traffic")
        print(f"\nserved: {dict(served)}; burst: {burst_ok} ok, {burst_shed} shed")
        assert scalar(prometheus, 'up{job="searchaddr"}') == 1
        for (path, status), count in served.items():
            assert scalar(prometheus, f'sum(searchaddr_http_requests_total{{path="{path}",'
                                      f'status="{status}"}})') == count, (path, status)
        assert scalar(prometheus, 'sum(searchaddr_http_requests_total{path="/searchaddr1",status="200"})') \
            == len(SEARCHES) + HITS + burst_ok
        assert scalar(prometheus, 'sum(searchaddr_http_requests_total{status="400"})') == len(BAD)
        assert scalar(prometheus, 'sum(searchaddr_answers_total{cache="hit"})') == HITS
        assert scalar(prometheus, 'sum(searchaddr_answers_total{cache="miss"})') == len(SEARCHES) + burst_ok
        assert scalar(prometheus, 'sum(searchaddr_answers_total{cache="shared"})') == 0
        assert scalar(prometheus, 'sum(searchaddr_shed_requests_total)') == burst_shed
        assert scalar(prometheus, 'sum(searchaddr_scrape_duration_seconds_count)') == len(SEARCHES) + burst_ok
        assert scalar(prometheus, 'sum(searchaddr_browser_wait_seconds_count)') == len(SEARCHES) + burst_ok
        assert scalar(prometheus, 'sum(searchaddr_upstream_failures_total)') == 0
        # Per worker: both workers' browsers, each series once.
        workers = prometheus_query(prometheus, "searchaddr_browsers_open")
        assert sorted(labels["worker"] for labels, _ in workers) == ["1", "2"]
        assert all(value >= 1 for _, value in workers)
        assert scalar(prometheus, "sum(searchaddr_browsers_started_total)") >= 2
        assert scalar(prometheus, "sum(searchaddr_browser_start_duration_seconds_count)") >= 2
        info = prometheus_query(prometheus, "searchaddr_build_info")
        assert len(info) == 1 and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", info[0][0]["chromium"])
        # Every query of the dashboard is PromQL that this Prometheus runs, over these series.
        with open(os.path.join(ROOT, "deploy", "grafana", "searchaddr.json"), encoding="utf-8") as file:
            dashboard = json.load(file)
        exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
        assert len(exprs) > 15
        wait_until(lambda: scalar(prometheus, "min(count_over_time(searchaddr_http_requests_total[1m]))") >= 3,
                   30, "a few scrapes of every series (rate() needs two)")
        answered = 0
        for expr in exprs:
            answered += bool(prometheus_query(prometheus, expr.replace("$__rate_interval", "1m")
                                              .replace("$instance", ".*")))
        assert answered >= len(exprs) - 3        # a few need traffic this test did not make
    # Both workers served searches: Prometheus's sums are over both.
    pids = set(re.findall(r" GET /searchaddr[12] \d{3} \d+us cache=\S+ \S+ pid=(\d+)",
                          (tmp_path / "uwsgi.log").read_text(errors="replace")))
    assert len(pids) == 2
    # What /metrics takes in the app (uWSGI's access line), for the record (pytest -s shows it):
    # while Prometheus scraped during the traffic, and 30 times in a row with no other traffic.
    def metrics_micros():
        return [int(m) for m in re.findall(r" GET /metrics 200 (\d+)us ",
                                           (tmp_path / "uwsgi.log").read_text(errors="replace"))]

    during = sorted(metrics_micros())
    for _ in range(30):
        _, _, text = http_request(port, "GET", "/metrics")
    quiet = sorted(metrics_micros()[len(during):])
    series = len([line for line in text.decode().splitlines() if line and not line.startswith("#")])
    print(f"/metrics in the app ({series} series): median {during[len(during) // 2] / 1000:.2f} ms "
          f"during the traffic ({len(during)} scrapes); median {quiet[len(quiet) // 2] / 1000:.2f} ms, "
          f"p90 {quiet[int(len(quiet) * 0.9)] / 1000:.2f} ms when quiet (load average {os.getloadavg()[0]:.0f})")

    # The text format passes Prometheus's own linter.
    _, _, text = http_request(port, "GET", "/metrics")
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    # Readiness: every browser killed -> 503 not_ready; back (started in the background) -> 200.
    assert http_request(port, "GET", "/readyz")[0] == 200
    killed = browser_processes(process_tag)
    assert killed
    for process in killed:
        process.kill()
    unready = []

    def answers_unready():
        status, _, body = http_request(port, "GET", "/readyz")
        if status == 503:
            unready.append(body["error"]["code"])
        return status == 503

    wait_until(answers_unready, 10, "unready")
    assert unready == ["not_ready"]
    assert http_request(port, "GET", "/livez")[0] == 200      # alive all along

    wait_until(ready_in_a_row, 120, "ready again")
    status, body = get("/searchaddr1?q=" + quote("세종대로 109"))
    assert status == 200, body
