"""What GET /metrics costs: the exposition of every worker's metric files, as uWSGI serves it.

Each of WORKERS processes writes a realistic set of series (every metric family, the paths,
methods and statuses a day of traffic gives) into one PROMETHEUS_MULTIPROC_DIR, as uWSGI's
workers do; then this process times the WSGI call of GET /metrics (access check, reading and
adding up all files, the text format) and the recording of one request. No browser, no socket.
Prints one JSON object.

    python3 bench/metrics_cost.py [--workers 2] [--rounds 300] [--series full|100]
"""
import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO as ROOT  # noqa: E402  (it puts the repo root on the path)

# One worker's traffic: (path, method, status, outcome cache or None).
FULL_MIX = ([("/searchaddr1", "GET", s, c) for s, c in ((200, "miss"), (200, "hit"), (200, "shared"),
                                                        (400, None), (403, None), (502, None),
                                                        (503, None), (504, None))]
            + [("/searchaddr1", "POST", 200, "miss"), ("/searchaddr1", "OPTIONS", 204, None),
               ("/searchaddr2", "GET", 200, "miss"), ("/searchaddr2", "GET", 200, "hit"),
               ("/searchaddr2", "POST", 404, "miss"), ("/healthz", "GET", 200, None),
               ("/livez", "GET", 200, None), ("/readyz", "GET", 200, None), ("/metrics", "GET", 200, None),
               ("/nope", "GET", 404, None), ("/searchaddr1", "PUT", 405, None)])
# About 100 series: searches only, the way a worker that served nothing else shows them.
SMALL_MIX = [("/searchaddr1", "GET", 200, "miss"), ("/searchaddr1", "GET", 200, "hit"),
             ("/searchaddr1", "GET", 400, None)]

WORKER = """
import sys
sys.path.insert(0, {root!r})
from answers import Outcome
from metrics import ServiceMetrics
import wsgi_app

class Pool:
    size = 2
    def status(self):
        return {{"open": 2, "in_use": 1}}

metrics = ServiceMetrics(wsgi_app.ROUTES, int(sys.argv[1]), {directory!r})
pool = Pool()
metrics.watch_pool(pool)
metrics.set_build_info(wsgi_app.VERSION, "demo", "156.0.8078.114")
for event in ({events}):
    pool.on_event(event, 1.5 if event == "started" else None)
for path, method, status, cache in {mix!r}:
    for seconds in (0.0004, 0.004, 0.04, 0.09, 0.4, 3.0):
        outcome = Outcome(cache=cache, wait_ms=1, scrape_ms=60, page_ms=20) if cache else None
        metrics.request(path, method, status, seconds, outcome)
{extra}
"""


def environ():
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": "", "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http", "wsgi.version": (1, 0), "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False}


def per_worker(directory):
    """{pid: values that process wrote}: its series before they are added up."""
    from collections import Counter
    from prometheus_client.mmap_dict import MmapedDict
    counts = Counter()
    for name in Path(directory).glob("*.db"):
        pid = name.stem.rsplit("_", 1)[1]
        counts[pid] += sum(1 for _ in MmapedDict.read_all_values_from_file(str(name)))
    return dict(counts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--series", choices=("full", "100"), default="full")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="searchaddr-metrics-bench-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory      # before prometheus_client is imported
    full = args.series == "full"
    script = WORKER.format(
        root=str(ROOT), directory=directory, mix=FULL_MIX if full else SMALL_MIX,
        events='"started", "recycled", "replaced", "failed_starts", "failed_opens"' if full else '"started",',
        extra="\n".join(["for reason in ('no_thread', 'no_browser'):", "    metrics.shed_request(reason)",
                         "for kind in ('error', 'timeout'):", "    metrics.upstream_failure(kind)"]) if full else "")
    for worker in range(1, args.workers + 1):
        subprocess.run([sys.executable, "-c", script, str(worker)], check=True)

    import uwsgi_host
    from answers.caches import MemoryCache
    from config import load_config
    from metrics import ServiceMetrics
    from tests.support.fakes import FakePool, FakeSource
    from wsgi_app import ROUTES, build_app

    # The app as a uWSGI worker builds it (worker 9: a third process reading the others' files).
    host = uwsgi_host.Host(uwsgi=object(), threads=8, worker_id=9)
    app = build_app(load_config(), FakePool(FakeSource()), MemoryCache(10, 10), host)
    assert app.metrics.multiproc_dir == directory

    def call():
        status = []
        body = b"".join(app(environ(), lambda s, h: status.append(s)))
        assert status == ["200 OK"], status
        return body

    body = call()
    series = [line for line in body.decode().splitlines() if line and not line.startswith("#")]
    # Wall time, and CPU time (what the worker itself spends: on a shared, busy machine the wall
    # time also counts other processes' turns on the cores).
    times, cpu = [], []
    for _ in range(args.rounds):
        started, started_cpu = time.perf_counter(), time.thread_time()
        call()
        cpu.append(1000 * (time.thread_time() - started_cpu))
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    cpu.sort()

    # Recording one request (what every request pays), into this process's own files.
    from answers import Outcome
    recorder = ServiceMetrics(ROUTES, 1, directory)
    outcome = Outcome(cache="miss", wait_ms=1, scrape_ms=60, page_ms=20)
    started = time.thread_time()
    for _ in range(2000):
        recorder.request("/searchaddr1", "GET", 200, 0.07, outcome)
    record_us = 1e6 * (time.thread_time() - started) / 2000
    hit = Outcome(cache="hit")
    started = time.thread_time()
    for _ in range(2000):
        recorder.request("/searchaddr1", "GET", 200, 0.0004, hit)
    record_hit_us = 1e6 * (time.thread_time() - started) / 2000

    print(json.dumps({
        "workers": args.workers, "series_exposed": len(series),
        "series_per_worker": per_worker(directory),
        "files": len(list(Path(directory).glob("*.db"))), "bytes": len(body), "rounds": args.rounds,
        "metrics_ms": {"median": round(statistics.median(times), 3),
                       "p95": round(times[int(0.95 * len(times)) - 1], 3), "max": round(times[-1], 3)},
        "metrics_cpu_ms": {"median": round(statistics.median(cpu), 3),
                           "p95": round(cpu[int(0.95 * len(cpu)) - 1], 3)},
        "load_average": os.getloadavg()[0],
        "record_cpu_us": {"miss": round(record_us, 1), "hit": round(record_hit_us, 1)},
    }))
    import shutil
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
