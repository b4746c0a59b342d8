"""CORS: the policy is compiled once from the config; each request makes a few lookups.

Only this module writes CORS headers (nginx adds none: two places would produce duplicate
Access-Control-Allow-Origin headers, which browsers reject).
"""
from urllib.parse import urlsplit

from config import ConfigError

SAFE_METHODS = frozenset({"GET", "POST"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Lets a page read when to retry after 503, and whether its answer came from the cache.
EXPOSE_HEADERS = ("Access-Control-Expose-Headers", "Retry-After, X-Cache, Server-Timing")


def serialize_origin(origin, where):
    """Validate a configured origin; return it as browsers serialize it (no default port)."""
    if origin in ("*", "null"):
        return origin
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: {origin!r} is not an origin (bad port)") from None
    if (parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username
            or parts.password or parts.path or parts.query or parts.fragment
            or origin.endswith(("?", "#"))):
        raise ConfigError(
            f"{where}: {origin!r} is not an origin; write scheme://host[:port], e.g. https://blog.example.com")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


class PathRule:
    """The allowed origins of one path, and the preflight headers precomputed for it."""

    def __init__(self, origins, allow_headers, max_age, credentials, where):
        self.origins = frozenset(serialize_origin(origin, where) for origin in origins)
        self.any_origin = "*" in self.origins
        if self.any_origin and credentials:
            raise ConfigError(f"{where}: '*' cannot be combined with allow_credentials = true")
        self.allow_headers = frozenset(header.lower() for header in allow_headers)
        self.preflight_headers = [
            ("Access-Control-Allow-Methods", ", ".join(sorted(SAFE_METHODS))),
            ("Access-Control-Max-Age", str(max_age)),
        ]
        if allow_headers:
            self.preflight_headers.append(("Access-Control-Allow-Headers", ", ".join(allow_headers)))
        self.credentials = credentials
        # Every allowed origin's headers are built here, once: a request only looks them up.
        named = [origin for origin in self.origins if origin != "*"]
        self._simple = {origin: self._build(origin) for origin in named}
        self._preflight = {origin: self._simple[origin] + tuple(self.preflight_headers) for origin in named}
        if self.any_origin:
            self._any = self._build("*")
            self._any_preflight = self._any + tuple(self.preflight_headers)

    def _build(self, allow_origin):
        headers = (("Access-Control-Allow-Origin", allow_origin), EXPOSE_HEADERS)
        return headers + ((("Access-Control-Allow-Credentials", "true"),) if self.credentials else ())

    def origin_allowed(self, origin):
        return self.any_origin or origin in self.origins

    def headers_for(self, origin):
        """The CORS headers of a response to an allowed `origin` (a tuple: shared, never changed)."""
        return self._any if self.any_origin else self._simple[origin]

    def preflight_headers_for(self, origin):
        return self._any_preflight if self.any_origin else self._preflight[origin]

    def preflight_allowed(self, method, requested_headers):
        requested = {h.strip().lower() for h in requested_headers.split(",") if h.strip()}
        return method in SAFE_METHODS and requested <= self.allow_headers


class CorsPolicy:
    """The config's CORS rules, compiled once; `decide` answers each request with a lookup or two."""

    def __init__(self, settings):
        self.rules = {}
        for path in settings.paths:
            origins = settings.path_origins.get(path, settings.origins)
            where = f"[cors] {path if path in settings.path_origins else 'origins'}"
            self.rules[path] = PathRule(origins, settings.allow_headers, settings.max_age,
                                        settings.allow_credentials, where)

    def decide(self, path, environ):
        """(headers, refusal) for one request. headers: None off the CORS paths, else what the
        response gets besides `Vary: Origin`. refusal: why the request is refused (a 403 before
        any browser work), or None."""
        rule = self.rules.get(path)
        if rule is None:
            return None, None
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            return (), None
        if not rule.origin_allowed(origin):
            return (), f"origin {origin} is not allowed"
        if environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
            requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
            if rule.preflight_allowed(method, requested):
                return rule.preflight_headers_for(origin), None
            return (), f"a preflight for {method} with headers [{requested}] is not allowed"
        return rule.headers_for(origin), None
