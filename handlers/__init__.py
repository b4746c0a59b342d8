"""Endpoint handlers: plain functions (request, deps) -> response; errors are raised, never built."""
import time
from dataclasses import dataclass

from errors import AddressNotFound, encoded_json_response, json_response
from handlers.params import (detail_params, params_from_body, params_from_pairs,
                             parse_query_string, read_body, search_params)
from replay import OUTCOME, REPLAY
from scraper.lookup import encode


@dataclass(frozen=True)
class Deps:
    lookup: object        # scraper.lookup.AddressLookup
    pool: object          # scraper.pool.BrowserPool
    cache: object
    source_name: str
    cache_ttl: int
    source_json: bytes = b'""'    # source_name as a JSON string, encoded once


def request_params(request):
    """GET reads the query string; POST reads only its body (JSON object or form)."""
    if request.method == "POST":
        body = read_body(request.environ)
        return params_from_body(request.environ.get("CONTENT_TYPE"), body)
    return params_from_pairs(parse_query_string(request.environ.get("QUERY_STRING", "")))


def queued_seconds(environ):
    """How long the request waited before reaching the app, from nginx's `X-Request-Start:
    t=<$msec>` (deploy/nginx); 0 without it, or when the clocks disagree."""
    value = environ.get("HTTP_X_REQUEST_START", "")
    if not value.startswith("t="):
        return 0.0
    try:
        queued = time.time() - float(value[2:])
    except ValueError:
        return 0.0
    return queued if 0.0 < queued < 60.0 else 0.0


def _answer(request, deps, body, outcome, found):
    """A 200 with `body` (JSON bytes, made from the answer `found`) and the cache, timing and
    caching headers."""
    request.environ[OUTCOME] = outcome
    if outcome.cache == "hit":
        # The same request gets this response again while the cache holds `found`.
        request.environ[REPLAY] = (outcome.key, found)
        timing = "cache;desc=hit"
    else:
        timing = (f"cache;desc={outcome.cache}, wait;dur={outcome.wait_ms:.1f}, "
                  f"scrape;dur={outcome.scrape_ms:.1f}, page;dur={outcome.page_ms:.1f}")
    return encoded_json_response(body, headers={
        "X-Cache": "HIT" if outcome.cache == "hit" else "MISS",
        "Server-Timing": timing,
        "Cache-Control": f"public, max-age={deps.cache_ttl}" if request.method == "GET" else "no-store",
    })


def search_addresses(request, deps):
    q, page, per_page = search_params(request_params(request))
    found, outcome = deps.lookup.search(q, page, per_page, queued_seconds(request.environ))
    # found is b'{"total":..,"results":[..]}': spliced in, not decoded and encoded again.
    body = b'{"query":%s,"page":%d,"per_page":%d,%s,"source":%s}' % (
        encode(q), page, per_page, found[1:-1], deps.source_json)
    return _answer(request, deps, body, outcome, found)


def address_detail(request, deps):
    address_id = detail_params(request_params(request))
    found, outcome = deps.lookup.detail(address_id, queued_seconds(request.environ))
    if found is None:
        request.environ[OUTCOME] = outcome
        raise AddressNotFound(f"no address with id {address_id}", field="id")
    return _answer(request, deps, b'{"result":%s,"source":%s}' % (found, deps.source_json), outcome,
                   found)


def health(request, deps):
    """Cheap: reports state, starts no browser."""
    return json_response({"status": "ok", "source": deps.source_name,
                          "pool": deps.pool.status(), "cache": deps.cache.status()},
                         headers={"Cache-Control": "no-store"})
