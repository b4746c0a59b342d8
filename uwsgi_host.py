"""What the server around the app offers, read once: uWSGI's threads, shared cache and request log.

Nothing else reads uwsgi.opt; outside uWSGI (tests, the command line) every fact is its default.
"""
from dataclasses import dataclass

CACHE_NAME = "searchaddr"       # the cache2 uwsgi.ini declares for answers


@dataclass(frozen=True)
class Host:
    uwsgi: object = None            # the uwsgi module, or None outside uWSGI
    threads: int = 0                # threads per worker; 0 outside uWSGI
    worker_id: int = 0              # > 0 in a worker, after the fork
    shared_cache: bool = False      # a cache2 named CACHE_NAME exists
    writes_access_log: bool = False # uWSGI's log-format writes the access line from our logvars


def _values(opt, name):
    value = opt.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def detect():
    """The Host this process runs in."""
    try:
        import uwsgi
    except ImportError:
        return Host()
    opt = uwsgi.opt
    log_formats = _values(opt, "log-format") + _values(opt, "logformat")
    disabled = _values(opt, "disable-logging")
    return Host(
        uwsgi=uwsgi,
        threads=int(opt.get("threads", 1) or 1),
        worker_id=uwsgi.worker_id(),
        shared_cache=any(f"name={CACHE_NAME}".encode() in cache.split(b",")
                         for cache in _values(opt, "cache2")),
        writes_access_log=any(b"%(path)" in value for value in log_formats if isinstance(value, bytes))
        and all(value in (b"false", b"0", b"no", b"off") for value in disabled),
    )
