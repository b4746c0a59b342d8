"""A uWSGI worker's life around the app: built after the fork, browsers of dead workers reaped,
its own quit at its exit or as soon as it stops, the warm-up browsers waited for.

uwsgi.ini's eval calls serve() in each worker; importing this module does nothing else.
"""
import atexit
import dataclasses
import logging
import os
import time

import uwsgi_host
from metrics import forget_dead_workers
from scraper.owner import reap_orphans
from scraper.pool import CLOSE_WAIT
from wsgi_app import create_app

log = logging.getLogger("searchaddr")
# At a stop, seconds the requests in flight get to finish before their browsers are killed (a
# search takes well under 0.2 s): the whole stop stays within 2 s even with a stuck browser.
STOP_GRACE = 0.5


def serve(stops=None):
    """The app uWSGI serves, built in each worker after the fork (uwsgi.ini): logging, the
    config from $SEARCHADDR_CONFIG, browsers quit at the worker's exit or as soon as `stops`
    (uwsgi_host.watch_stops()) says it stops, the warm-up browsers."""
    # The access line's shape and date (access_log.py, uwsgi.ini log-format), for one log to read.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S")
    host = uwsgi_host.detect()
    app = create_app(host=host)
    reap_orphans(app.pool.instance)
    register_exit(app, host)
    if stops is not None:
        stops.on_stop(lambda: end_browsers(app.pool))
    if app.metrics.multiproc_dir:
        forget_dead_workers(app.metrics.multiproc_dir)      # workers killed without an exit
    elif host.uwsgi is not None:
        log.warning("PROMETHEUS_MULTIPROC_DIR is not a directory (uwsgi.ini sets it): "
                    "/metrics shows only the worker that answers")
    if host.worker_id > 0:          # a worker, after the fork (lazy-apps); never the master
        app.pool.warm()
        # uWSGI gives a worker requests once serve() returns: one that replaces another (a chain
        # reload, a data update) takes them when its browsers can serve, not while they start.
        wait_for_warm_browsers(app.pool, 2 * app.pool.page_timeout)
        app.deps = dataclasses.replace(app.deps, serving_since=time.time())
    return app


def register_exit(app, host):
    """The browsers quit when the process exits; under uWSGI also at the worker's exit (its
    uwsgi.atexit, before any hook that was there), which then forgets this worker's metrics."""
    atexit.register(app.pool.close)
    if host.uwsgi is None:
        return
    previous = getattr(host.uwsgi, "atexit", None)

    def on_exit():
        app.pool.close()
        if app.metrics.multiproc_dir:
            forget_dead_workers(app.metrics.multiproc_dir, os.getpid())
        if previous:
            previous()

    host.uwsgi.atexit = on_exit


def wait_for_warm_browsers(pool, timeout):
    """Until the pool's warm-up browsers run, a start fails or the pool closes (a stop), at most
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = pool.status()
        if pool.usable() >= pool.warm_count or status["failed_starts"] or status["closed"]:
            return
        time.sleep(0.05)


def end_browsers(pool, grace=STOP_GRACE):
    """At a worker's stop: requests in flight get `grace` seconds to give their browsers back,
    then every browser goes. One still in use is stuck (a stopped or hung browser): it is killed
    at once, and its request answers 503."""
    deadline = time.monotonic() + grace
    while pool.status()["in_use"] and time.monotonic() < deadline:
        time.sleep(0.02)
    pool.close(wait=0 if pool.status()["in_use"] else CLOSE_WAIT)
