"""Endpoint handlers: plain functions (request, deps) -> response; errors are raised, never built."""
from dataclasses import dataclass

from errors import AddressNotFound, json_response
from handlers.params import (detail_params, params_from_body, params_from_pairs,
                             parse_query_string, read_body, search_params)


@dataclass(frozen=True)
class Deps:
    lookup: object        # scraper.lookup.AddressLookup
    pool: object          # scraper.pool.BrowserPool
    cache: object
    source_name: str
    cache_ttl: int


def request_params(request):
    """GET reads the query string; POST reads only its body (JSON object or form)."""
    if request.method == "POST":
        body = read_body(request.environ)
        return params_from_body(request.environ.get("CONTENT_TYPE"), body)
    return params_from_pairs(parse_query_string(request.environ.get("QUERY_STRING", "")))


def _answer(request, deps, body, outcome):
    request.environ["searchaddr.outcome"] = outcome
    timing = f"cache;desc={outcome.cache}"
    if outcome.cache != "hit":
        timing += f", wait;dur={outcome.wait_ms:.1f}, scrape;dur={outcome.scrape_ms:.1f}"
    return json_response(body, headers={
        "X-Cache": "HIT" if outcome.cache == "hit" else "MISS",
        "Server-Timing": timing,
        "Cache-Control": f"public, max-age={deps.cache_ttl}" if request.method == "GET" else "no-store",
    })


def search_addresses(request, deps):
    q, page, per_page = search_params(request_params(request))
    found, outcome = deps.lookup.search(q, page, per_page)
    body = {"query": q, "page": page, "per_page": per_page, "total": found["total"],
            "results": found["results"], "source": deps.source_name}
    return _answer(request, deps, body, outcome)


def address_detail(request, deps):
    address_id = detail_params(request_params(request))
    found, outcome = deps.lookup.detail(address_id)
    if found is None:
        request.environ["searchaddr.outcome"] = outcome
        raise AddressNotFound(f"no address with id {address_id}", field="id")
    return _answer(request, deps, {"result": found, "source": deps.source_name}, outcome)


def health(request, deps):
    """Cheap: reports state, starts no browser."""
    return json_response({"status": "ok", "source": deps.source_name,
                          "pool": deps.pool.status(), "cache": deps.cache.status()},
                         headers={"Cache-Control": "no-store"})
