"""The edge under faults, with real uWSGI (uwsgi.ini) and real nginx (deploy/nginx):

  overload    200 and 400 connections through nginx, each sending searches one after another for
              --seconds; outcomes by status and content type (0 answers that are not JSON).
  chain       a SIGHUP (chain reload) while 8 clients send requests; outcomes by status, and
              lost = no answer, or nginx answering because no worker could (0 lost).
  slow        8 and 64 slowloris / slow-body clients on `uwsgi --ini uwsgi.ini:dev`; the slowest
              of 5 /healthz answers (< 1 s).

Loopback only; each load bounded in time and count; every process stopped (by PID) at the end.

    .venv/bin/python bench/edge_faults.py [--seconds 10] [--only overload,chain,slow]
"""
import argparse
import contextlib
import os
import random
import signal
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from harness import REPO  # noqa: E402  (first: it puts the repo root on the path)
os.environ["PATH"] = str(REPO / ".venv" / "bin") + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("SEARCHADDR_TEST_TAG", uuid.uuid4().hex)

from tests.support.config import write_config   # noqa: E402
from tests.support.edge import (ORIGIN, DevServer, burst, raw_request, slow_clients,  # noqa: E402
                                timed_health, waves)
from tests.support.processes import tail, wait_until   # noqa: E402
from tests.support.stack import QUERIES, Stack, tally   # noqa: E402


def row(*cells):
    print(" | ".join(str(cell) for cell in cells), flush=True)


@contextlib.contextmanager
def serving(name, server):
    """`server` (a Stack or DevServer) started; stopped at the end, with a row naming any
    process that had to be killed."""
    try:
        server.start()
        yield server
    finally:
        left = server.stop()
        if left:
            row(f"{name}: processes left (killed)", left)


def searches(seed):
    rng = random.Random(seed)

    def make(number, sent):
        # Mostly misses (new page/per_page: a browser each), some repeats (cache hits).
        query = quote(rng.choice(QUERIES))
        path = (f"/searchaddr1?q={query}" if rng.random() < 0.3 else
                f"/searchaddr1?q={query}&page={rng.randint(1, 20)}&per_page={rng.randint(1, 50)}")
        return raw_request("GET", path, {"Origin": ORIGIN})
    return make


def overload(tmp, seconds):
    (tmp / "overload").mkdir()
    stack = Stack(tmp / "overload", scraper={"browsers": "1", "warm_browsers": "1"})
    with serving("overload", stack) as running:
        for connections in (200, 400):
            started = time.monotonic()
            answers = waves(running.port, connections, searches(connections), seconds, timeout=30)
            elapsed = time.monotonic() - started
            counts = tally(answers)
            not_json = sum(count for label, count in counts.items() if "json" not in label or "NOT" in label)
            cors_missing = sum(1 for a in answers if a.status and a.header("Access-Control-Allow-Origin") != [ORIGIN])
            by_nginx = sum(1 for a in answers if a.made_by_nginx)
            row(f"overload {connections} conns", f"{len(answers)} requests in {elapsed:.1f} s",
                f"non-JSON {not_json}", f"without the origin's CORS {cors_missing}",
                f"answered by nginx {by_nginx}", counts)


def chain(tmp, seconds):
    (tmp / "chain").mkdir()
    stack = Stack(tmp / "chain", scraper={"browsers": "1", "warm_browsers": "1"})
    with serving("chain", stack) as running:
        wait_until(lambda: tail(running.uwsgi_log, 100000).count("WSGI app 0 (mountpoint='') ready") == 2, 60)
        # One search in the shared cache, so the load needs no browser: a lost request is the
        # edge's doing, not a browser's.
        cached = f"/searchaddr1?q={quote('세종대로 110')}"
        wait_until(lambda: burst(running.port, [raw_request("GET", cached)], 60)[0].status == 200, 90)
        mix = [raw_request("GET", cached, {"Origin": ORIGIN}), raw_request("GET", "/searchaddr1?q=a"),
               raw_request("GET", "/healthz")]
        answers, stop = [], threading.Event()

        def client(number):
            sent = 0
            while not stop.is_set() and sent < 5000:
                answers.extend(burst(running.port, [mix[(number + sent) % len(mix)]], 20))
                sent += 1
        clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in clients:
            thread.start()
        time.sleep(1.0)
        started = time.monotonic()
        before = len(answers)
        running.uwsgi.send_signal(signal.SIGHUP)
        done = wait_until(lambda: "chain reloading complete" in tail(running.uwsgi_log, 100000), 90)
        reload_seconds = time.monotonic() - started
        time.sleep(1.0)
        stop.set()
        for thread in clients:
            thread.join(30)
        during = answers[before:]
        lost = [a for a in during if not a.status or a.made_by_nginx or not a.is_json]
        row("chain reload under 8 clients", f"complete={bool(done)} in {reload_seconds:.1f} s",
            f"{len(during)} requests sent from the SIGHUP on", f"lost {len(lost)}", tally(during))


def slow(tmp, seconds):
    (tmp / "slow").mkdir()
    config = write_config(tmp / "slow" / "searchaddr.ini", scraper={"warm_browsers": "0"})
    with serving("slow", DevServer(tmp / "slow", os.environ["SEARCHADDR_TEST_TAG"], config)) as server:
        for count in (8, 64):
            for kind in ("headers", "body"):
                with slow_clients(server.port, count, kind):
                    time.sleep(1.0)
                    probes = [timed_health(server.port, timeout=5) for _ in range(5)]
                worst = max(seconds for _, seconds in probes)
                statuses = sorted({status for status, _ in probes})
                row(f"dev section, {count} slow-{kind} clients", f"/healthz statuses {statuses}",
                    f"slowest of 5: {worst:.3f} s", "OK" if worst < 1 and statuses == [200] else "FAIL")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each overload run")
    parser.add_argument("--only", default="overload,chain,slow")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"somaxconn {Path('/proc/sys/net/core/somaxconn').read_text().strip()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as tmp:
        for name in args.only.split(","):
            {"overload": overload, "chain": chain, "slow": slow}[name](Path(tmp), args.seconds)


if __name__ == "__main__":
    main()
