"""searchaddr: the WSGI application. One screen shows the whole service.

config -> CORS policy -> browser pool -> lookups -> handlers, behind one error-handling edge.
"""
import atexit
import logging
import time

from webob import Request, Response

import access_log
import handlers
from config import ConfigError, load_config
from cors import REJECTED, CorsMiddleware, CorsPolicy
from errors import (ApiError, Busy, CorsRejected, Internal, MethodNotAllowed, NotFound,
                    UpstreamFailed, UpstreamTimedOut, error_response)
from replay import OUTCOME, REPLAY, REQUEST_DECIDES, ResponseReplay
from scraper.cache import make_cache
from scraper.errors import PoolTimeout, UpstreamError, UpstreamTimeout
from scraper.lookup import AddressLookup, encode
from scraper.pool import BrowserPool, reap_orphans
from scraper.sources import SOURCES

log = logging.getLogger("searchaddr")

# path -> (handler, allowed methods). The router below owns 404 and 405 + Allow.
ROUTES = {
    "/searchaddr1": (handlers.search_addresses, ("GET", "POST")),
    "/searchaddr2": (handlers.address_detail, ("GET", "POST")),
    "/healthz": (handlers.health, ("GET", "HEAD")),
}


def api_error_for(error, checkout_timeout):
    """The contract's error for what the scraper raised."""
    if isinstance(error, PoolTimeout):
        return Busy(headers={"Retry-After": str(max(1, round(checkout_timeout)))})
    if isinstance(error, UpstreamTimeout):
        return UpstreamTimedOut()
    return UpstreamFailed(str(error) or None)


class Service:
    """The WSGI edge: environ -> Request -> one handler -> Response; every error becomes JSON here."""

    def __init__(self, routes, deps, checkout_timeout):
        self.routes = {path: (handler, methods, ", ".join(methods + ("OPTIONS",)))
                       for path, (handler, methods) in routes.items()}
        self.deps = deps
        self.checkout_timeout = checkout_timeout

    def __call__(self, environ, start_response):
        started = time.monotonic()
        request = Request(environ)
        # PATH_INFO as the server gave it (bytes as latin-1): webob's path_info would decode it as
        # UTF-8 and raise on a path that is not; such a path simply matches no route.
        path = environ.get("PATH_INFO", "")
        try:
            response = self.dispatch(request, path)
        except ApiError as error:
            response = error_response(error)
            # A client's mistake is decided by the request alone: replay.py may send it again.
            environ[REPLAY] = REQUEST_DECIDES if error.request_decides else None
        except (UpstreamError, UpstreamTimeout, PoolTimeout) as error:
            response = error_response(api_error_for(error, self.checkout_timeout))
        except Exception:
            log.exception("internal error on %s %r", request.method, path)
            response = error_response(Internal())
        self.log_request(request, path, response.status_code, started)
        # What webob's Response.__call__ does, less the parts this service never needs (a relative
        # Location to absolutize, conditional responses): a few microseconds on every request.
        start_response(response.status, response.headerlist)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else response.app_iter

    def dispatch(self, request, path):
        route = self.routes.get(path)
        if route is None:
            raise NotFound("no such path")
        environ = request.environ
        if REJECTED in environ:
            raise CorsRejected(environ[REJECTED])
        handler, methods, allow = route
        method = environ.get("REQUEST_METHOD")
        if method == "OPTIONS":
            environ[REPLAY] = REQUEST_DECIDES
            return Response(status=204, headerlist=[("Allow", allow)])
        if method not in methods:
            raise MethodNotAllowed(f"{method} is not allowed here; use {' or '.join(methods)}",
                                   headers={"Allow": allow})
        return handler(request, self.deps)

    @staticmethod
    def log_request(request, path, status, started):
        access_log.write(request.environ.get("REQUEST_METHOD"), path, status, started,
                         *access_log.outcome_fields(request.environ.get(OUTCOME)))


def _under_uwsgi():
    try:
        import uwsgi  # noqa: F401
    except ImportError:
        return False
    return True


def _uwsgi_threads():
    """Threads per uWSGI worker, or None outside uWSGI (no limit then)."""
    if not _under_uwsgi():
        return None
    import uwsgi
    return int(uwsgi.opt.get("threads", 1) or 1)


# Under uWSGI one thread per worker stays free for /healthz, cache hits and quick errors:
# lookups beyond the others get 503 at once instead of a thread, so uWSGI's listen queue keeps
# moving and a shed request is answered in milliseconds, not after a wait in the kernel.
def _max_pending():
    """Lookups (scraping, waiting for a browser, or waiting for an identical scrape) at once."""
    threads = _uwsgi_threads()
    return None if threads is None else max(1, threads - 1)


def _max_waiting(browsers):
    """Requests that may queue for a browser: what the pending lookups leave over the browsers."""
    threads = _uwsgi_threads()
    return None if threads is None else max(0, threads - browsers - 1)


def _on_exit(callback):
    """Run `callback` when this process exits: uWSGI worker exit, or interpreter exit."""
    atexit.register(callback)
    if not _under_uwsgi():
        return
    import uwsgi
    previous = getattr(uwsgi, "atexit", None)

    def both():
        callback()
        if previous:
            previous()

    uwsgi.atexit = both


def build_app(config, pool, cache):
    """The WSGI app for a loaded config, a browser pool (with its source) and a cache."""
    policy = CorsPolicy(config.cors)
    for path in config.cors.paths:
        if path not in ROUTES:
            raise ConfigError(f"{config.path}: [cors] paths: {path} is not an endpoint "
                              f"(endpoints: {' '.join(ROUTES)})")
    lookup = AddressLookup(pool, cache, config.scraper.checkout_timeout, max_pending=_max_pending())
    deps = handlers.Deps(lookup=lookup, pool=pool, cache=cache, source_name=config.scraper.source,
                         cache_ttl=config.cache.ttl, source_json=encode(config.scraper.source))
    app = CorsMiddleware(Service(ROUTES, deps, config.scraper.checkout_timeout), policy)
    # Outermost: a kept response carries the CORS headers it was sent with.
    app = ResponseReplay(app, cache)
    app.pool = pool
    return app


def create_app(config_path=None):
    """Read the config once and wire the pieces. Browsers start lazily, after any fork."""
    config = load_config(config_path)
    settings = config.scraper
    if settings.source not in SOURCES:
        raise ConfigError(f"{config.path}: [scraper] source: unknown source {settings.source!r} "
                          f"(known: {' '.join(SOURCES)})")
    source = SOURCES[settings.source](settings.url or None)
    pool = BrowserPool(source, size=settings.browsers, page_timeout=settings.page_timeout,
                       recycle_after=settings.recycle_after, chromium=settings.chromium,
                       chromedriver=settings.chromedriver, remote_url=settings.remote_url,
                       max_waiting=_max_waiting(settings.browsers))
    app = build_app(config, pool, make_cache(config.cache.size, config.cache.ttl))
    reap_orphans()
    _on_exit(pool.close)
    if _under_uwsgi():
        import uwsgi
        if uwsgi.worker_id() > 0:     # a worker, after the fork (lazy-apps); never the master
            pool.warm(settings.warm_browsers)
    return app


logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
application = create_app()
