"""What the server around the app offers, read once: uWSGI's threads, shared cache and request
log; and the worker's stop.

Nothing else reads uwsgi.opt; outside uWSGI (tests, the command line) every fact is its default.
"""
import os
import signal
import threading
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


# The signals that stop a worker: SIGINT from the master (its stop, on SIGTERM or Ctrl-C) or from
# a terminal, and SIGTERM sent to the whole process group. uwsgi.ini routes them to Python.
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


class Stops:
    """Tells the app when its worker is told to stop: on_stop(callback) calls callback() once,
    in the thread that saw the stop (at once, in the caller's thread, if it came already)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._callbacks = []
        self._stopping = False

    def on_stop(self, callback):
        with self._lock:
            if not self._stopping:
                self._callbacks.append(callback)
                return
        callback()

    def stop(self):
        with self._lock:
            self._stopping, callbacks, self._callbacks = True, self._callbacks, []
        for callback in callbacks:
            callback()


def watch_stops():
    """Call first thing when a worker loads the app (uwsgi.ini's eval), from the main thread.

    A stop signal starts uWSGI's own graceful stop of the worker (SIGHUP to itself: no new
    request, those in flight finish, then uwsgi.atexit), then tells the returned Stops. uWSGI's
    SIGHUP handler is in place from the fork on (uwsgi.ini), so a stop that comes while the app
    loads is kept, and the app can cut its loading short. Python's C handler only notes a signal
    and writes its number to a pipe, which a thread of its own reads: nothing waits for the main
    thread to run Python code. Outside a uWSGI worker the Stops never stop.
    """
    stops = Stops()
    try:
        import uwsgi
    except ImportError:
        return stops
    if uwsgi.worker_id() <= 0:
        return stops
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    for signum in STOP_SIGNALS:
        signal.signal(signum, _noted)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def watch():
        while os.read(read_end, 1)[0] not in STOP_SIGNALS:
            pass
        os.kill(os.getpid(), signal.SIGHUP)
        stops.stop()

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()
    return stops


def _noted(signum, frame):
    """Python's handler of STOP_SIGNALS: the thread of watch_stops() acts on them."""
