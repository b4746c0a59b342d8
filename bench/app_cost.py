"""Microseconds of Python per request on the non-scrape paths, calling each WSGI app directly.

No sockets and no uWSGI: this is the part of a request the application itself decides, and it is
far less noisy than requests/s on a shared machine. The service's cache is filled by one real
scrape first (a real Chromium, stopped at the end). Prints one JSON object.

    SEARCHADDR_CONFIG=... python3 bench/app_cost.py [cache file for peer (a)]
"""
import importlib.util
import io
import json
import logging
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

from harness import ORIGIN, PEERS, search_path  # noqa: E402

HIT_QUERY = "세종대로 110"
CASES = {
    "preflight": ("OPTIONS", "/searchaddr1", {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type"}),
    "400 validation": ("GET", search_path("x"), {"Origin": ORIGIN}),
    "cache hit": ("GET", search_path(HIT_QUERY), {"Origin": ORIGIN}),
}


def environ(method, target, headers):
    path, _, query = target.partition("?")
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
           "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
           "wsgi.url_scheme": "http", "wsgi.version": (1, 0), "wsgi.multithread": True,
           "wsgi.multiprocess": True, "wsgi.run_once": False}
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def call(app, method, target, headers):
    status = []
    body = b"".join(app(environ(method, target, headers), lambda s, h, e=None: status.append(s)))
    return status[0], body


def cost_us(app, method, target, headers, count=500, repeats=20):
    """CPU time of this thread (not wall time: other work on the machine does not count)."""
    for _ in range(200):
        call(app, method, target, headers)
    best = float("inf")
    for _ in range(repeats):
        started = time.thread_time()
        for _ in range(count):
            call(app, method, target, headers)
        best = min(best, (time.thread_time() - started) / count)
    return 1e6 * best


def load_peer(name, path, env):
    os.environ.update(env)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.application


def main():
    import wsgi_app
    # Request logging goes where uWSGI would send it (stderr): keep its cost, drop the noise.
    for handler in logging.getLogger().handlers:
        handler.stream = open(os.devnull, "w")
    service = wsgi_app.create_app()
    try:
        status, body = call(service, *CASES["cache hit"])
        if not status.startswith("200"):
            raise SystemExit(f"the service could not scrape {HIT_QUERY!r}: {status} {body[:200]!r}")
        cache_file = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH / "results" / "app-cost-cache.json"
        cache_file.parent.mkdir(exist_ok=True)
        cache_file.write_text(json.dumps({f"{HIT_QUERY.casefold()}|1|10": body.decode()}), encoding="utf-8")
        apps = {
            "service": service,
            "peer-a": load_peer("flask_seed", PEERS / "flask_seed.py",
                                {"PEER_MODE": "cached", "PEER_CACHE_FILE": str(cache_file)}),
            "peer-c": load_peer("hello_wsgi", PEERS / "hello_wsgi.py", {}),
        }
        results = {case: {name: cost_us(app, *request) for name, app in apps.items()}
                   for case, request in CASES.items()}
    finally:
        service.pool.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
