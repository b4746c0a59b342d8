"""What the server around the app offers, read once: uWSGI's threads, shared cache and request log.

Nothing else reads uwsgi.opt; outside uWSGI (tests, the command line) every fact is its default.
"""
import os
import signal
import threading
import time
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


def keep_early_stop_requests(interval=1.0):
    """Call first thing when a worker loads the app (uwsgi.ini's eval), from the main thread.

    uWSGI stops a worker gracefully with SIGHUP (shutdown, chain reload), but with lazy-apps it
    installs the worker's SIGHUP handler only after the app has loaded: a SIGHUP that comes while
    the app loads is lost, and the master, which waits for its workers on shutdown without a time
    limit, never exits. Here a SIGHUP that comes meanwhile is kept and sent again every `interval`
    seconds, until uWSGI's own handler is in place and stops the worker. Outside a uWSGI worker,
    nothing happens.
    """
    try:
        import uwsgi
    except ImportError:
        return
    if uwsgi.worker_id() <= 0:
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    # Python's C handler writes the signal's number to the wakeup fd at once, where a Python
    # handler would only run when the main thread next runs Python code.
    signal.signal(signal.SIGHUP, lambda signum, frame: None)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def pass_on():
        while os.read(read_end, 1) != bytes([signal.SIGHUP]):
            pass
        while True:
            time.sleep(interval)
            os.kill(os.getpid(), signal.SIGHUP)

    threading.Thread(target=pass_on, name="early-stop-request", daemon=True).start()
