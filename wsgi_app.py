"""searchaddr: the WSGI application. One screen shows the whole service.

config -> CORS policy -> browser pool -> answers -> handlers, behind one edge that applies CORS,
turns every error into JSON and writes the access line. Importing this module does nothing else:
uWSGI builds the app in each worker through worker.serve() (uwsgi.ini), tests and tools call
create_app().
"""
import hashlib
import logging
import os
import time

from webob import Request, Response

import handlers
import uwsgi_host
from access_log import AccessLog
from answers import AddressAnswers, Admission, Overloaded
from answers.caches import MemoryCache, UwsgiCache
from config import ConfigError, load_config
from cors import CorsPolicy
from errors import (ApiError, Busy, CorsRejected, Internal, MethodNotAllowed, NotFound,
                    UpstreamFailed, UpstreamTimedOut)
from metrics import ServiceMetrics, multiproc_dir
from metrics_access import ReadAccess
from responses import encode, error_response, json_response
from scraper.browser import read_chromium_version
from scraper.errors import PoolTimeout, UpstreamError, UpstreamTimeout
from scraper.pool import BrowserPool
from scraper.sources import SOURCES
from scraper.sources.demo_index import UNKNOWN, stamp

log = logging.getLogger("searchaddr")
VERSION = "1.1.0"

# path -> (handler, allowed methods). The router below owns 404 and 405 + Allow.
ROUTES = {
    "/searchaddr1": (handlers.search_addresses, ("GET", "POST")),
    "/searchaddr2": (handlers.address_detail, ("GET", "POST")),
    "/healthz": (handlers.health, ("GET", "HEAD")),
    "/livez": (handlers.alive, ("GET", "HEAD")),
    "/readyz": (handlers.ready, ("GET", "HEAD")),
    "/metrics": (handlers.metrics, ("GET",)),
}
# For operators and their tools, never for web pages: no CORS, whatever the config says.
OPERATOR_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


class Service:
    """The WSGI edge: environ -> Request -> one handler -> Response, with CORS; every error
    becomes JSON here, and every request one access line."""

    def __init__(self, routes, deps, cors, access_log, checkout_timeout, cache_ttl, metrics):
        self.routes = {path: (handler, methods, ", ".join(methods + ("OPTIONS",)))
                       for path, (handler, methods) in routes.items()}
        self.deps = deps
        self.cors = cors
        self.access_log = access_log
        self.retry_after = {"Retry-After": str(max(1, round(checkout_timeout)))}
        self.cache_control = f"public, max-age={cache_ttl}"
        self.metrics = metrics

    @property
    def pool(self):
        return self.deps.pool

    def __call__(self, environ, start_response):
        started = time.monotonic()
        # PATH_INFO as the server gave it (bytes as latin-1): webob's path_info would decode it as
        # UTF-8 and raise on a path that is not; such a path simply matches no route.
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        cors_headers, refusal = self.cors.decide(path, environ)
        outcome = None
        try:
            if refusal is not None:
                raise CorsRejected(refusal)
            response, outcome = self.dispatch(Request(environ), path, method)
        except ApiError as error:
            response, outcome = error_response(error), error.outcome
        except Exception as error:
            response = error_response(self.api_error_for(error, method, path))
        if cors_headers is not None:
            response.headerlist.append(("Vary", "Origin"))
            response.headerlist.extend(cors_headers)
        self.access_log.write(method, path, response.status_code, started, outcome)
        self.metrics.request(path, method, response.status_code, time.monotonic() - started, outcome)
        # What webob's Response.__call__ does, less the parts this service never needs (a relative
        # Location to absolutize, conditional responses).
        start_response(response.status, response.headerlist)
        return [] if method == "HEAD" else response.app_iter

    def dispatch(self, request, path, method):
        """(Response, Outcome or None) for a request CORS let through."""
        route = self.routes.get(path)
        if route is None:
            raise NotFound("no such path")
        handler, methods, allow = route
        if method == "OPTIONS":
            return Response(status=204, headerlist=[("Allow", allow)]), None
        if method not in methods:
            raise MethodNotAllowed(f"{method} is not allowed here; use {' or '.join(methods)}",
                                   headers={"Allow": allow})
        reply = handler(request, self.deps)
        outcome = reply.outcome
        if outcome is None:
            headers = [("Cache-Control", "no-store")]
        elif outcome.cache == "hit":
            headers = [("X-Cache", "HIT"), ("Server-Timing", "cache;desc=hit")]
        else:
            headers = [("X-Cache", "MISS"), ("Server-Timing",
                       f"cache;desc={outcome.cache}, wait;dur={outcome.wait_ms:.1f}, "
                       f"scrape;dur={outcome.scrape_ms:.1f}, page;dur={outcome.page_ms:.1f}")]
        if outcome is not None:
            headers.append(("Cache-Control", self.cache_control if method == "GET" else "no-store"))
        return json_response(reply.body, reply.status, headers, reply.content_type), outcome

    def api_error_for(self, error, method, path):
        """The contract's error for what the answers or the scraper raised; anything else is a
        500, logged with its traceback and never sent."""
        if isinstance(error, (PoolTimeout, Overloaded)):
            self.metrics.shed_request("no_thread" if isinstance(error, Overloaded) else "no_browser")
            return Busy(str(error), headers=self.retry_after)
        if isinstance(error, UpstreamTimeout):
            self.metrics.upstream_failure("timeout")
            return UpstreamTimedOut()
        if isinstance(error, UpstreamError):
            self.metrics.upstream_failure("error")
            return UpstreamFailed(str(error) or None)
        log.error("internal error on %s %r", method, path, exc_info=error)
        return Internal()


def build_app(config, pool, cache, host=uwsgi_host.Host(), chromium_version="unknown", index=None):
    """The WSGI app for a loaded config, a browser pool (with its source) and a cache; `index`:
    what the source's index holds (demo_index.UNKNOWN's keys), unknown when not given."""
    for path in config.cors.paths:
        if path not in ROUTES:
            raise ConfigError(f"{config.path}: [cors] paths: {path} is not an endpoint "
                              f"(endpoints: {' '.join(ROUTES)})")
        if path in OPERATOR_PATHS:
            raise ConfigError(f"{config.path}: [cors] paths: {path} is for operators, "
                              f"not for pages on other origins")
    cors = CorsPolicy(config.cors)
    # Under uWSGI one thread per worker stays free for requests that need no browser.
    admission = Admission(max(1, host.threads - 1) if host.threads else None, pool.size,
                          config.scraper.checkout_timeout, config.scraper.page_timeout)
    metrics = ServiceMetrics(ROUTES, host.worker_id, multiproc_dir() if host.uwsgi else None,
                             untimed=OPERATOR_PATHS)
    metrics.watch_pool(pool)
    metrics.set_build_info(VERSION, config.scraper.source, chromium_version)
    index = index or dict(UNKNOWN)
    metrics.set_index(index)
    deps = handlers.Deps(answers=AddressAnswers(pool, cache, admission, stamp(index)),
                         pool=pool, cache=cache,
                         source_name=config.scraper.source, source_json=encode(config.scraper.source),
                         metrics=metrics, metrics_access=ReadAccess(config.metrics.allow),
                         index=index)
    return Service(ROUTES, deps, cors, AccessLog(host.uwsgi if host.writes_access_log else None),
                   config.scraper.checkout_timeout, config.cache.ttl, metrics)


def create_app(config_path=None, host=None):
    """Read the config once and wire the pieces. Starts no browser: they start lazily, or from
    worker.serve() after uWSGI's fork. `host`: what uWSGI offers (uwsgi_host.detect() by default)."""
    config = load_config(config_path)
    host = host or uwsgi_host.detect()
    settings = config.scraper
    if settings.source not in SOURCES:
        raise ConfigError(f"{config.path}: [scraper] source: unknown source {settings.source!r} "
                          f"(known: {' '.join(SOURCES)})")
    source = SOURCES[settings.source](settings.url or None)
    pool = BrowserPool(source, size=settings.browsers,
                       page_timeout=settings.page_timeout, recycle_after=settings.recycle_after,
                       chromium=settings.chromium, chromedriver=settings.chromedriver,
                       remote_url=settings.remote_url, warm=settings.warm_browsers,
                       instance=instance_id(config.path), line=settings.line)
    if host.shared_cache and config.cache.size > 0:
        cache = UwsgiCache(host.uwsgi, config.cache.ttl, uwsgi_host.CACHE_NAME)
    else:
        cache = MemoryCache(config.cache.size, config.cache.ttl)
    chromium = "remote" if settings.remote_url else read_chromium_version(settings.chromium)
    return build_app(config, pool, cache, host, chromium, read_index(source))


def read_index(source):
    """What the source's index holds, read once per worker: an update switches to a new index
    by replacing the workers (a chain reload)."""
    try:
        return source.index()
    except ValueError as error:
        log.warning("what the index holds is unknown: %s", error)
        return dict(UNKNOWN)


def instance_id(config_path):
    """Names this service instance to the browser reaper: one config file, one instance."""
    return hashlib.sha1(os.path.realpath(config_path).encode()).hexdigest()[:16]

