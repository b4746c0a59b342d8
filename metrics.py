"""Prometheus metrics: what the edge and the browser pool report, and the /metrics exposition.

Under uWSGI every worker writes its values to files in $PROMETHEUS_MULTIPROC_DIR (a directory
per uWSGI instance that uwsgi.ini makes at start and removes at exit), and /metrics, served by
any worker, adds up the files of all of them (prometheus-client's multiprocess mode). Without
that variable (tests, the command line) the values live in this process only.
"""
import glob
import os
import re

import psutil
from prometheus_client import (CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics,
                               multiprocess)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4     # the text format every Prometheus 2.x reads
METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS"})

# Buckets in seconds, for what each histogram measures on this service.
REQUEST_BUCKETS = (.0005, .001, .0025, .005, .01, .025, .05, .075, .1, .15, .25, .5, 1, 2.5, 5, 10, 20)
SCRAPE_BUCKETS = (.005, .01, .02, .03, .04, .05, .075, .1, .15, .2, .3, .5, 1, 2.5, 5, 10)
WAIT_BUCKETS = (.0001, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5, 10)
START_BUCKETS = (.25, .5, .75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30)


class ServiceMetrics:
    """The service's metrics, in a registry of their own; `worker` labels the per-worker ones."""

    content_type = CONTENT_TYPE

    def __init__(self, paths, worker=0, multiproc_dir=None, untimed=()):
        self.paths = frozenset(paths)
        # Paths whose duration nobody needs (probes, /metrics: Prometheus times its own scrapes),
        # and paths no route knows: counted, not timed, so they add no histogram series.
        self.timed = self.paths - frozenset(untimed)
        self.worker = str(worker)
        self.multiproc_dir = multiproc_dir
        # No *_created series: multiprocess mode has none, and they would double the series.
        disable_created_metrics()
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self._add_request_metrics(registry)
        self._add_browser_metrics(registry)
        self._add_about_metrics(registry)
        self._failure_kinds = {"failed_starts": "start", "failed_opens": "page_open"}
        # Children looked up once: labels() costs a lock and a dict lookup per call.
        self._event_children = {event: counter.labels(self.worker)
                                for event, counter in self.browser_events.items()}
        self._failure_children = {event: self.browser_failures.labels(self.worker, kind)
                                  for event, kind in self._failure_kinds.items()}
        self._open = self.browsers_open.labels(self.worker)
        self._in_use = self.browsers_in_use.labels(self.worker)
        # Per request, the same: children by their label values, made on first use. Few ever
        # exist: paths are the routes and "other", methods METHODS and "other", statuses a handful.
        self._children = {}
        if multiproc_dir:
            self._exposed = CollectorRegistry()
            multiprocess.MultiProcessCollector(self._exposed, multiproc_dir)
        else:
            self._exposed = registry

    def _add_request_metrics(self, registry):
        """Requests, answers and their times."""
        self.requests = Counter("searchaddr_http_requests", "HTTP requests answered, by path, method and status",
                                ("path", "method", "status"), registry=registry)
        self.request_seconds = Histogram("searchaddr_http_request_duration_seconds",
                                         "Time from the request reaching the app to its response "
                                         "(the API paths and /healthz)",
                                         ("path",), registry=registry, buckets=REQUEST_BUCKETS)
        self.answers = Counter("searchaddr_answers", "Lookups answered, by where the answer came from: "
                               "cache hit, a scrape of its own (miss), or another request's scrape (shared)",
                               ("path", "cache"), registry=registry)
        self.scrape_seconds = Histogram("searchaddr_scrape_duration_seconds",
                                        "Time the source took on a browser for one lookup",
                                        ("path",), registry=registry, buckets=SCRAPE_BUCKETS)
        self.page_seconds = Histogram("searchaddr_page_duration_seconds",
                                      "The source page's own time for one lookup, as it reports it",
                                      ("path",), registry=registry, buckets=SCRAPE_BUCKETS)
        self.wait_seconds = Histogram("searchaddr_browser_wait_seconds",
                                      "Time a lookup waited for a browser (its turn and a start included)",
                                      registry=registry, buckets=WAIT_BUCKETS)
        self.shed = Counter("searchaddr_shed_requests", "Requests refused with 503 busy: no thread left "
                            "for a lookup (no_thread) or no browser free in time (no_browser)",
                            ("reason",), registry=registry)
        self.upstream = Counter("searchaddr_upstream_failures", "Lookups the address site failed: "
                                "502 (error) or 504 (timeout)", ("kind",), registry=registry)

    def _add_browser_metrics(self, registry):
        """The worker's browsers: how many, their use, starts, ends and failures."""
        self.browsers_open = Gauge("searchaddr_browsers_open", "Browsers running, per worker",
                                   ("worker",), registry=registry, multiprocess_mode="livesum")
        self.browsers_in_use = Gauge("searchaddr_browsers_in_use", "Browsers checked out by a request, "
                                     "per worker", ("worker",), registry=registry, multiprocess_mode="livesum")
        self.browsers_limit = Gauge("searchaddr_browsers_limit", "Most browsers a worker may run",
                                    ("worker",), registry=registry, multiprocess_mode="livesum")
        self.browser_events = {
            "started": Counter("searchaddr_browsers_started", "Browsers started, per worker",
                               ("worker",), registry=registry),
            "recycled": Counter("searchaddr_browsers_recycled", "Browsers replaced after recycle_after "
                                "uses, per worker", ("worker",), registry=registry),
            "replaced": Counter("searchaddr_browsers_replaced", "Browsers replaced because they failed "
                                "or died, per worker", ("worker",), registry=registry),
        }
        self.browser_failures = Counter("searchaddr_browser_failures", "Browser starts that failed "
                                        "(start) and source pages that did not open (page_open), per worker",
                                        ("worker", "kind"), registry=registry)
        self.start_seconds = Histogram("searchaddr_browser_start_duration_seconds",
                                       "Time to start a browser with the source page open",
                                       registry=registry, buckets=START_BUCKETS)

    def _add_about_metrics(self, registry):
        """What the service and its index are."""
        self.build_info = Gauge("searchaddr_build_info", "Always 1: the service's version, source and "
                                "Chromium version", ("version", "source", "chromium"), registry=registry,
                                multiprocess_mode="livemax")
        # What each worker read at its start; during a data update's chain reload old and new
        # workers differ: the info shows both, the count the most recently started worker's.
        self.index_info = Gauge("searchaddr_index_info", "Always 1: where the page's index comes from "
                                "(kozip, official or unknown) and its data's base date",
                                ("source", "base_date"), registry=registry,
                                multiprocess_mode="livemostrecent")
        self.index_addresses = Gauge("searchaddr_index_addresses", "Addresses in the page's index",
                                     ("source",), registry=registry, multiprocess_mode="livemostrecent")

    # -- the edge ------------------------------------------------------------------------------

    def _child(self, metric, *values):
        key = (metric, *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def request(self, path, method, status, seconds, outcome=None):
        """One answered request, and the lookup behind it (an answers.Outcome, or None)."""
        path = path if path in self.paths else "other"       # a client's path is not a label
        self._child(self.requests, path, method if method in METHODS else "other", str(status)).inc()
        if path in self.timed:
            self._child(self.request_seconds, path).observe(seconds)
        if outcome is None:
            return
        self._child(self.answers, path, outcome.cache).inc()
        if outcome.cache == "miss":
            self.wait_seconds.observe(outcome.wait_ms / 1000)
            self._child(self.scrape_seconds, path).observe(outcome.scrape_ms / 1000)
            self._child(self.page_seconds, path).observe(outcome.page_ms / 1000)

    def shed_request(self, reason):
        self.shed.labels(reason).inc()

    def upstream_failure(self, kind):
        self.upstream.labels(kind).inc()

    # -- the browser pool ----------------------------------------------------------------------

    def watch_pool(self, pool):
        """Follow `pool`'s events (BrowserPool's on_event) and show its size."""
        self.browsers_limit.labels(self.worker).set(pool.size)

        def on_event(event, seconds=None):
            if event == "started" and seconds is not None:
                self.start_seconds.observe(seconds)
            child = self._event_children.get(event) or self._failure_children.get(event)
            if child is not None:
                child.inc()
            status = pool.status()
            self._open.set(status["open"])
            self._in_use.set(status["in_use"])
        pool.on_event = on_event

    def set_build_info(self, version, source, chromium):
        self.build_info.labels(version, source, chromium).set(1)

    def set_index(self, about):
        """What the index holds (scraper.sources.demo_index's keys); no address count while unknown."""
        source = about.get("source") or "unknown"
        self.index_info.labels(source, about.get("base_date") or "unknown").set(1)
        if about.get("addresses") is not None:
            self.index_addresses.labels(source).set(about["addresses"])

    # -- /metrics ------------------------------------------------------------------------------

    def exposition(self):
        """The text format of every worker's values (this process's outside uWSGI)."""
        return generate_latest(self._exposed)


def multiproc_dir():
    """The directory of this uWSGI instance's metric files, or None outside one."""
    path = os.environ.get(MULTIPROC_ENV)
    return path if path and os.path.isdir(path) else None


def forget_dead_workers(path, pid=None):
    """Drop the per-worker gauges of `pid` (at its exit), or of every process that no longer
    runs (at a worker's start: a worker killed by SIGKILL or harakiri had no exit of its own)."""
    if pid is not None:
        multiprocess.mark_process_dead(pid, path)
        return
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        match = re.search(r"_(\d+)\.db$", name)
        if match and not psutil.pid_exists(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), path)

