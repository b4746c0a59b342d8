"""Endpoint handlers: plain functions (request, deps) -> Reply; errors are raised, never built."""
import os
import time
from dataclasses import dataclass

from answers import Outcome
from errors import AddressNotFound, Forbidden, NotReady
from handlers.body import media_type, read_body
from handlers.params import (detail_params, params_from_body, params_from_pairs,
                             parse_query_string, search_params)
from responses import JSON_TYPE, encode


@dataclass(frozen=True)
class Deps:
    answers: object       # answers.AddressAnswers
    pool: object          # scraper.pool.BrowserPool
    cache: object
    source_name: str
    source_json: bytes = b'""'    # source_name as a JSON string, encoded once
    metrics: object = None        # metrics.ServiceMetrics
    metrics_access: object = None # metrics_access.ReadAccess: who may read /metrics
    index: dict = None            # what the source's index holds (scraper.sources.demo_index)
    serving_since: float = 0.0    # wall-clock time this worker began to take requests


@dataclass(frozen=True)
class Reply:
    """A handler's answer: the JSON body, and the lookup behind it (None for one that made none)."""
    body: bytes
    outcome: Outcome = None
    content_type: str = JSON_TYPE
    status: int = 200


def request_params(request):
    """GET reads the query string; POST reads only its body (JSON object or form)."""
    if request.method == "POST":
        body = read_body(request.environ)
        return params_from_body(media_type(request), body)
    return params_from_pairs(parse_query_string(request.query_string))


def queued_seconds(environ, serving_since=0.0):
    """How long the request waited before reaching the app, from nginx's `X-Request-Start:
    t=<$msec>` (deploy/nginx); 0 without it, or when the clocks disagree. Time queued before this
    worker began to serve (a restart's gap) was a wait for the worker, not for a browser."""
    value = environ.get("HTTP_X_REQUEST_START", "")
    if not value.startswith("t="):
        return 0.0
    try:
        now = time.time()
        queued = min(now - float(value[2:]), now - serving_since)
    except ValueError:
        return 0.0
    return queued if 0.0 < queued < 60.0 else 0.0


def search_addresses(request, deps):
    q, page, per_page = search_params(request_params(request))
    queued = queued_seconds(request.environ, deps.serving_since)
    found, outcome = deps.answers.search(q, page, per_page, queued)
    # found is b'{"total":..,"results":[..]}': spliced in, not decoded and encoded again.
    return Reply(b'{"query":%s,"page":%d,"per_page":%d,%s,"source":%s}' % (
        encode(q), page, per_page, found[1:-1], deps.source_json), outcome)


def address_detail(request, deps):
    address_id = detail_params(request_params(request))
    queued = queued_seconds(request.environ, deps.serving_since)
    found, outcome = deps.answers.detail(address_id, queued)
    if found is None:
        raise AddressNotFound(f"no address with id {address_id}", field="id", outcome=outcome)
    return Reply(b'{"result":%s,"source":%s}' % (found, deps.source_json), outcome)


def health(request, deps):
    """Cheap: reports state, starts no browser. "degraded" (503, for health checks) while no
    browser of this worker can serve; `ready` is what /readyz decides. Each worker has its own
    pool and read the index's description at its start: the answer says which worker."""
    pool = deps.pool.status()
    serving = pool.get("serving", True)
    return Reply(encode({"status": "ok" if serving else "degraded", "ready": deps.pool.usable() > 0,
                         "source": deps.source_name, "scope": "worker", "worker_pid": os.getpid(),
                         "index": deps.index, "pool": pool, "cache": deps.cache.status()}),
                 status=200 if serving else 503)


def alive(request, deps):
    """Liveness: this worker answers. Touches neither browsers nor the cache."""
    return Reply(b'{"status":"ok"}')


def ready(request, deps):
    """Readiness: at least one of this worker's browsers runs, so a lookup gets one within
    checkout_timeout instead of waiting for a start. A worker with none asks its pool to start
    one in the background (the request does not wait for it) and answers 503 until it runs."""
    usable = deps.pool.usable()
    if usable == 0:
        deps.pool.warm(max(1, deps.pool.warm_count))
        raise NotReady("no browser runs in this worker; one is starting")
    return Reply(encode({"status": "ready", "browsers": usable}))


def metrics(request, deps):
    """The Prometheus text format of every worker's metrics; never touches a browser."""
    if not deps.metrics_access.allows(request.environ.get("REMOTE_ADDR")):
        raise Forbidden("/metrics is not readable from this address ([metrics] allow)")
    return Reply(deps.metrics.exposition(), content_type=deps.metrics.content_type)
