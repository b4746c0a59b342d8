"""Metrics, /metrics, /livez and /readyz through the WSGI callable, with a fake source and pool
(no browser), plus prometheus-client's multiprocess mode across real processes."""
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from answers import Overloaded
from config import ConfigError, load_config
from metrics import ServiceMetrics
from metrics_access import ReadAccess
from scraper.errors import PoolTimeout, UpstreamError, UpstreamTimeout
from tests.support.binaries import need
from tests.support.servers import ROOT
from tests.support.config import write_config
from tests.support.fakes import FakeSource
from tests.support.app import call, make_app

CITY_HALL_Q = "/searchaddr1?q=%EC%84%B8%EC%A2%85%EB%8C%80%EB%A1%9C%20110"


def samples(app):
    """{(name, sorted label items): value} of what /metrics shows."""
    response = call(app, "/metrics", environ={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200, response.body
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name, **labels):
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def total(found, name, **labels):
    """Sum over every series of `name` whose labels include `labels`."""
    return sum(v for (n, items), v in found.items()
               if n == name and set(labels.items()) <= set(items))


def test_requests_are_counted_by_path_method_and_status(tmp_path):
    app, _ = make_app(tmp_path)
    call(app, CITY_HALL_Q)
    call(app, CITY_HALL_Q)
    call(app, "/searchaddr1?q=x")
    call(app, "/searchaddr1", method="DELETE")
    call(app, "/no/such/path/1")
    call(app, "/no/such/path/2", method="BREW")
    found = samples(app)
    requests = "searchaddr_http_requests_total"
    assert value(found, requests, path="/searchaddr1", method="GET", status="200") == 2
    assert value(found, requests, path="/searchaddr1", method="GET", status="400") == 1
    assert value(found, requests, path="/searchaddr1", method="other", status="405") == 1
    # A client's path or method never becomes a label of its own.
    assert value(found, requests, path="other", method="GET", status="404") == 1
    assert value(found, requests, path="other", method="other", status="404") == 1
    assert not [key for key in found if "/no/such" in str(key) or "BREW" in str(key)]
    assert value(found, "searchaddr_http_request_duration_seconds_count", path="/searchaddr1") == 4
    # Probes, /metrics and unknown paths are counted but not timed: no histogram series of their own.
    assert value(found, "searchaddr_http_request_duration_seconds_count", path="other") == 0
    assert value(found, "searchaddr_http_request_duration_seconds_count", path="/metrics") == 0


def test_cache_hits_misses_and_what_a_scrape_took(tmp_path):
    app, source = make_app(tmp_path)
    for _ in range(3):
        call(app, CITY_HALL_Q)
    call(app, "/searchaddr2?id=nosuchid")
    found = samples(app)
    assert value(found, "searchaddr_answers_total", path="/searchaddr1", cache="miss") == 1
    assert value(found, "searchaddr_answers_total", path="/searchaddr1", cache="hit") == 2
    assert value(found, "searchaddr_answers_total", path="/searchaddr2", cache="miss") == 1
    assert source.calls == 2
    assert total(found, "searchaddr_scrape_duration_seconds_count") == 2
    assert value(found, "searchaddr_page_duration_seconds_sum", path="/searchaddr1") == pytest.approx(0.001)
    assert value(found, "searchaddr_browser_wait_seconds_count") == 2
    # Buckets in seconds, up to where a miss lands (~30-100 ms scrapes).
    assert value(found, "searchaddr_scrape_duration_seconds_bucket", path="/searchaddr1", le="0.1") == 1


@pytest.mark.parametrize("error, status, name, labels", [
    (Overloaded("no thread"), 503, "searchaddr_shed_requests_total", {"reason": "no_thread"}),
    (PoolTimeout("no browser"), 503, "searchaddr_shed_requests_total", {"reason": "no_browser"}),
    (UpstreamError("site failed"), 502, "searchaddr_upstream_failures_total", {"kind": "error"}),
    (UpstreamTimeout("site slow"), 504, "searchaddr_upstream_failures_total", {"kind": "timeout"}),
])
def test_shed_requests_and_upstream_failures_by_kind(tmp_path, error, status, name, labels):
    app, _ = make_app(tmp_path, source=FakeSource(error=error))
    assert call(app, CITY_HALL_Q).status_code == status
    found = samples(app)
    assert value(found, name, **labels) == 1
    assert value(found, "searchaddr_http_requests_total", path="/searchaddr1", method="GET",
                 status=str(status)) == 1
    assert total(found, "searchaddr_answers_total") == 0


def test_pool_events_become_per_worker_browser_metrics():
    class Pool:
        size = 2
        on_event = None
        state = {"open": 0, "in_use": 0}

        def status(self):
            return dict(self.state)

    pool = Pool()
    metrics = ServiceMetrics(["/searchaddr1"], worker=3)
    metrics.watch_pool(pool)
    pool.state = {"open": 1, "in_use": 0}
    pool.on_event("started", 1.4)
    pool.state = {"open": 2, "in_use": 1}
    pool.on_event("started", 2.2)
    pool.on_event("checkout")
    pool.on_event("recycled")
    pool.on_event("replaced")
    pool.on_event("failed_starts")
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    assert value(found, "searchaddr_browsers_open", worker="3") == 2
    assert value(found, "searchaddr_browsers_in_use", worker="3") == 1
    assert value(found, "searchaddr_browsers_limit", worker="3") == 2
    assert value(found, "searchaddr_browsers_started_total", worker="3") == 2
    assert value(found, "searchaddr_browsers_recycled_total", worker="3") == 1
    assert value(found, "searchaddr_browsers_replaced_total", worker="3") == 1
    assert value(found, "searchaddr_browser_failures_total", worker="3", kind="start") == 1
    assert value(found, "searchaddr_browser_start_duration_seconds_count") == 2
    assert value(found, "searchaddr_browser_start_duration_seconds_sum") == pytest.approx(3.6)
    assert value(found, "searchaddr_browser_start_duration_seconds_bucket", le="1.5") == 1


def test_build_info(tmp_path):
    app, _ = make_app(tmp_path)
    found = samples(app)
    info = [dict(items) for name, items in found if name == "searchaddr_build_info"]
    assert len(info) == 1 and info[0]["source"] == "demo" and info[0]["version"]


def test_metrics_is_for_loopback_and_the_unix_socket_by_default(tmp_path):
    app, _ = make_app(tmp_path)
    # "": a client of the uWSGI unix socket that sends no address (deploy/healthcheck.py).
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1", ""):
        response = call(app, "/metrics", environ={"REMOTE_ADDR": address})
        assert response.status_code == 200, address
        assert response.content_type == "text/plain"
        assert "version=0.0.4" in response.headers["Content-Type"]
        assert response.headers["Cache-Control"] == "no-store"
    for address in ("10.0.0.7", "192.168.1.20", "2001:db8::1", "not-an-address"):
        response = call(app, "/metrics", environ={"REMOTE_ADDR": address},
                        headers={"Origin": "https://blog.example.com"})
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden"
        # Not a CORS path: no CORS headers, even for an allowed origin.
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Vary" not in response.headers


def test_metrics_allow_list_from_the_config(tmp_path):
    path = write_config(tmp_path / "searchaddr.ini")
    with open(path, "a", encoding="utf-8") as file:
        file.write("[metrics]\nallow = 10.0.0.0/8, 192.168.1.20 ; the Prometheus servers\n")
    config = load_config(path)
    assert config.metrics.allow == ("10.0.0.0/8", "192.168.1.20")
    access = ReadAccess(config.metrics.allow)
    assert access.allows("10.1.2.3") and access.allows("192.168.1.20")
    assert not access.allows("127.0.0.1") and not access.allows("") and not access.allows("192.168.1.21")
    assert load_config(write_config(tmp_path / "default.ini")).metrics.allow == ("127.0.0.1", "::1", "unix")


@pytest.mark.parametrize("allow, why", [("10.0.0.300", "is not an IP address"),
                                        ("localhost", "is not an IP address")])
def test_metrics_allow_errors_name_the_section_and_key(tmp_path, allow, why):
    path = write_config(tmp_path / "searchaddr.ini")
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"[metrics]\nallow = {allow}\n")
    with pytest.raises(ConfigError, match=rf"\[metrics\] allow: .*{why}"):
        load_config(path)


def test_operator_paths_cannot_be_cors_paths(tmp_path):
    for path in ("/metrics", "/readyz", "/livez"):
        with pytest.raises(ConfigError, match=rf"\[cors\] paths: {path} is for operators"):
            make_app(tmp_path, cors={"paths": f"/searchaddr1 {path}"})


def test_metrics_never_touches_a_browser(tmp_path):
    app, source = make_app(tmp_path)
    pool = app.deps.pool

    def no_browser(timeout):
        raise AssertionError("/metrics asked for a browser")

    pool.browser = no_browser
    pool.warm = no_browser
    assert call(app, "/metrics").status_code == 200
    assert source.calls == 0


def test_liveness_readiness_and_healthz(tmp_path):
    app, _ = make_app(tmp_path)
    pool = app.deps.pool
    assert call(app, "/livez").json == {"status": "ok"}
    assert call(app, "/readyz").json == {"status": "ready", "browsers": 1}
    health = call(app, "/healthz").json
    assert health["status"] == "ok" and health["ready"] is True and "pool" in health
    pool.running = 0                   # every browser died
    response = call(app, "/readyz")
    assert response.status_code == 503 and response.json["error"]["code"] == "not_ready"
    assert pool.warmed == 1            # a replacement is on its way, in the background
    assert call(app, "/livez").status_code == 200
    health = call(app, "/healthz")
    assert health.status_code == 200 and health.json["ready"] is False
    assert call(app, "/readyz", method="HEAD").status_code == 503
    found = samples(app)
    # The probe's 503 is no shed request.
    assert value(found, "searchaddr_http_requests_total", path="/readyz", method="GET", status="503") == 1
    assert total(found, "searchaddr_shed_requests_total") == 0


# Each worker and the reader run with `-c` from the repo root, which puts its modules on the path.
WORKER = textwrap.dedent("""
    import os, sys
    from answers import Outcome
    from metrics import ServiceMetrics
    worker = int(sys.argv[1])
    metrics = ServiceMetrics(["/searchaddr1"], worker, os.environ["PROMETHEUS_MULTIPROC_DIR"])

    class Pool:
        size = 2
        def status(self):
            return {"open": worker, "in_use": 0}
    metrics.watch_pool(Pool())
    metrics.set_build_info("1", "demo", "156.0.1.2")
    for _ in range(worker):
        metrics.request("/searchaddr1", "GET", 200, 0.05, Outcome(cache="miss", scrape_ms=40))
    metrics.request("/searchaddr1", "GET", 200, 0.001, Outcome(cache="hit"))
    metrics.shed_request("no_browser")
    print(os.getpid())
""")


def test_multiprocess_mode_adds_up_every_worker(tmp_path):
    """Two worker processes write to one directory; a third shows their sum, and a worker's
    per-worker gauges go when it is marked dead (the counters stay)."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(directory))
    pids = [subprocess.run([sys.executable, "-c", WORKER, str(worker)], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.strip() for worker in (1, 2)]
    reader = textwrap.dedent("""
        import json, os
        from metrics import ServiceMetrics, forget_dead_workers
        from prometheus_client.parser import text_string_to_metric_families
        def read():
            metrics = ServiceMetrics(["/searchaddr1"], 9, os.environ["PROMETHEUS_MULTIPROC_DIR"])
            return [[s.name, s.labels, s.value] for f in text_string_to_metric_families(
                metrics.exposition().decode()) for s in f.samples]
        before = read()
        forget_dead_workers(os.environ["PROMETHEUS_MULTIPROC_DIR"])   # both writers have exited
        print(json.dumps([before, read()]))
    """)
    before, after = json.loads(subprocess.run([sys.executable, "-c", reader], env=env, cwd=ROOT, check=True,
                                              capture_output=True, text=True).stdout)

    def pick(found, name, **labels):
        return sum(v for n, l, v in found if n == name and labels.items() <= l.items())

    assert pick(before, "searchaddr_http_requests_total", status="200") == 1 + 2 + 2
    assert pick(before, "searchaddr_answers_total", cache="miss") == 3
    assert pick(before, "searchaddr_answers_total", cache="hit") == 2
    assert pick(before, "searchaddr_scrape_duration_seconds_count") == 3
    assert pick(before, "searchaddr_shed_requests_total") == 2
    assert pick(before, "searchaddr_browsers_limit", worker="1") == 2
    assert pick(before, "searchaddr_browsers_limit", worker="2") == 2
    assert len([1 for n, _, _ in before if n == "searchaddr_build_info"]) == 1
    assert pick(after, "searchaddr_http_requests_total", status="200") == 5
    assert pick(after, "searchaddr_browsers_limit") == 0
    assert len(pids) == 2


def every_metric():
    """The text format with a sample of every metric the service has."""
    from answers import Outcome

    class Pool:
        size = 2
        on_event = None

        def status(self):
            return {"open": 1, "in_use": 1}

    metrics = ServiceMetrics(["/searchaddr1", "/searchaddr2", "/healthz"], worker=1)
    pool = Pool()
    metrics.watch_pool(pool)
    for event in ("started", "recycled", "replaced", "failed_starts", "failed_opens", "checkout"):
        pool.on_event(event, 1.5 if event == "started" else None)
    metrics.set_build_info("1.1.0", "demo", "156.0.8078.114")
    metrics.set_index({"source": "official", "base_date": "2026-03-31", "addresses": 6416637})
    metrics.request("/searchaddr1", "GET", 200, 0.07, Outcome(cache="miss", wait_ms=0.2, scrape_ms=60, page_ms=20))
    metrics.request("/searchaddr1", "GET", 200, 0.0004, Outcome(cache="hit"))
    metrics.request("/searchaddr2", "POST", 200, 0.07, Outcome(cache="shared"))
    metrics.request("/nope", "GET", 404, 0.0002)
    for reason in ("no_thread", "no_browser"):
        metrics.shed_request(reason)
    for kind in ("error", "timeout"):
        metrics.upstream_failure(kind)
    return metrics.exposition().decode()


@pytest.mark.integration      # runs Prometheus's promtool (scripts/setup.sh installs it)
def test_promtool_check_metrics_passes():
    need("promtool", "apt-get install -y prometheus")
    lint = subprocess.run(["promtool", "check", "metrics"], input=every_metric().encode(),
                          capture_output=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout + lint.stderr == b""        # no lint remark either


def test_dashboard_panels_query_existing_metrics():
    with open(os.path.join(ROOT, "deploy", "grafana", "searchaddr.json"), encoding="utf-8") as file:
        dashboard = json.load(file)
    exposed = {sample.name for family in text_string_to_metric_families(every_metric())
               for sample in family.samples}
    families = {family.name for family in text_string_to_metric_families(every_metric())}
    panels = [panel for top in dashboard["panels"] for panel in [top] + top.get("panels", [])]
    used = set()
    for panel in panels:
        if panel["type"] == "row":
            continue
        exprs = [target["expr"] for target in panel["targets"]]
        assert exprs, panel["title"]
        for expr in exprs:
            names = set(re.findall(r"\bsearchaddr_\w+", expr))
            assert names, (panel["title"], expr)
            assert names <= exposed, (panel["title"], names - exposed)
            used |= names
    # Every metric the service has is on the dashboard somewhere.
    unused = {family for family in families
              if not any(name == family or name.startswith(family + "_") for name in used)}
    assert unused == set()
    assert len({panel["id"] for panel in panels}) == len(panels)
