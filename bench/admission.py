"""Admission under bursts, through the real service (uWSGI with uwsgi.ini's [uwsgi] options and the
shipped searchaddr.ini, real Chromium), one row per scenario:

  burst       30 different searches released at once, `--rounds` times: 503s and the slowest
  person      7 clients searching back to back, and a person searching every 0.25 s for 15 s:
              the person's answers within 0.5 s
  identical   30 identical searches at once on a page slower than page_timeout, while /livez,
              /readyz, /metrics and /healthz are asked every 0.1 s: the slowest of each, against
              checkout_timeout + page_timeout + 1 s
  recycle     recycle_after searches, the last of which starts the successor browser, then 10 s
              idle: browsers (chromedriver sessions) left running
  threads     per --threads (default 8, 32, 64): the worker's memory once every thread has
              served, and bursts of threads - 1 and 2 x threads different searches

    .venv/bin/python bench/admission.py [--only burst,person,identical,recycle,threads]

Searches are all different (the cache never answers) unless the row says identical. Loopback
only; every load bounded in count and time; every process stopped by PID.
"""
import argparse
import contextlib
import itertools
import shutil
import tempfile
import threading
import time
from urllib.parse import quote


from harness import (DEMO_URL, UwsgiServer, cpu_load, pss_mb, rss_mb,  # noqa: E402
                     service_settings, uwsgi_settings_of_service)
from load import burst, percentile, send, start_closed_loop  # noqa: E402
from memory import service_ini  # noqa: E402

QUERIES = ("세종대로", "테헤란로", "강남구", "해운대구", "수원시", "종로구", "마포구", "서초구", "Sejong-daero",
           "중구 세종대로", "제주", "부산", "대전", "광주", "전주", "Teheran-ro")
PROBES = ("/livez", "/readyz", "/metrics", "/healthz")
ROWS = ("burst", "person", "identical", "recycle", "threads")


_searches = itertools.count()


def distinct_request(_index=None):
    """A search no earlier one of this run asked (the cache never answers it): 80,000 of them."""
    n = next(_searches)
    q = QUERIES[n % len(QUERIES)]
    page, per_page = 1 + n // len(QUERIES) % 100, 1 + n // (100 * len(QUERIES)) % 50
    return "GET", f"/searchaddr1?q={quote(q)}&page={page}&per_page={per_page}", {}, None


UWSGI_OPTIONS = {}      # --uwsgi KEY=VALUE: changed for every row


@contextlib.contextmanager
def shipped(values=None, uwsgi_options=None):
    """The service as shipped, running, with only `values` (searchaddr.ini keys) and
    `uwsgi_options` changed; stopped and its files removed at the end."""
    uwsgi_options = {**UWSGI_OPTIONS, **(uwsgi_options or {})}
    pairs = [(k, v) for k, v in service_settings(uwsgi_settings_of_service("uwsgi"))
             if k not in (uwsgi_options or {})] + list((uwsgi_options or {}).items())
    config_dir = tempfile.mkdtemp(prefix="bench-admission-")
    server = UwsgiServer.service(pairs, service_ini(config_dir, values or {}), name="admission")
    try:
        with server:
            yield server
    finally:
        shutil.rmtree(server.workdir, ignore_errors=True)
        shutil.rmtree(config_dir, ignore_errors=True)


def limits(server):
    """(checkout_timeout, page_timeout) of the config the server runs."""
    from config import load_config
    settings = load_config(server.env["SEARCHADDR_CONFIG"]).scraper
    return settings.checkout_timeout, settings.page_timeout


def warm(server, limit=120):
    """Until a varied search is answered (the warm-up browser has started)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if send(server.port, *distinct_request()).status == 200:
            return
        time.sleep(0.2)
    raise TimeoutError(f"no search answered within {limit} s:\n{server.log_text()[-2000:]}")


def statuses(samples):
    counts = {}
    for sample in samples:
        counts[sample.status] = counts.get(sample.status, 0) + 1
    return dict(sorted(counts.items()))


def row_burst(rounds):
    with shipped() as server:
        warm(server)
        results = []
        for number in range(rounds):
            samples = burst(server.port, distinct_request, 30)
            results.append({"503": sum(s.status == 503 for s in samples), "statuses": statuses(samples),
                            "slowest_s": round(max(s.seconds for s in samples), 3),
                            "p50_s": round(percentile([s.seconds for s in samples], .5), 3)})
            time.sleep(1)
        return {"rounds": results}


def row_person(seconds=15.0, interval=0.25, clients=7):
    with shipped() as server:
        warm(server)
        threads, background = start_closed_loop(server.port, distinct_request, clients,
                                                total=100_000, max_seconds=seconds + 1)
        time.sleep(0.5)
        person = []
        next_at = time.monotonic()
        for _ in range(int(seconds / interval)):
            person.append(send(server.port, *distinct_request()))
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        for thread in threads:
            thread.join(seconds + 40)
        quick = sum(1 for s in person if s.status == 200 and s.seconds <= 0.5)
        return {"tries": len(person), "answered_within_0.5s": quick,
                "share": round(quick / len(person), 3), "person_statuses": statuses(person),
                "person_p50_s": round(percentile([s.seconds for s in person], .5), 3),
                "person_max_s": round(max(s.seconds for s in person), 3),
                "clients_searches": len(background), "clients_statuses": statuses(background)}


def row_identical(count=30):
    """`count` identical searches on a page that takes page_timeout + 1 s to answer."""
    with shipped({"url": DEMO_URL + "?latency=9000"}) as server:
        checkout, page = limits(server)
        warm_until = time.monotonic() + 120
        while time.monotonic() < warm_until and send(server.port, "GET", "/readyz").status != 200:
            time.sleep(0.2)
        probes = {path: [] for path in PROBES}
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                for path in PROBES:
                    probes[path].append(send(server.port, "GET", path, timeout=30).seconds)
                stop.wait(0.1)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        path = "/searchaddr1?q=" + quote("세종대로 110")
        samples = burst(server.port, lambda i: ("GET", path, {}, None), count, timeout=60)
        stop.set()
        prober.join(40)
        return {"bound_s": checkout + page + 1, "statuses": statuses(samples),
                "slowest_search_s": round(max(s.seconds for s in samples), 3),
                "over_bound": sum(s.seconds > checkout + page + 1 for s in samples),
                **{f"slowest{p.replace('/', '_')}_s": round(max(v), 3) for p, v in probes.items() if v}}


def row_recycle(recycle_after=30, idle=10.0):
    with shipped({"recycle_after": recycle_after, "size": 0}) as server:
        warm(server)
        time.sleep(1)
        # The warm-up used some of the browser's uses; the search that reaches recycle_after
        # starts its successor, and no search comes after it.
        used = server.log_text().count("cache=miss")
        for _ in range(max(0, recycle_after - used)):
            send(server.port, *distinct_request())
        time.sleep(idle)
        drivers = [p for p in server.processes() if p.name() == "chromedriver"]
        return {"searches": recycle_after, "idle_s": idle, "browsers_while_idle": len(drivers),
                "recycled_logged": server.log_text().count("browser recycled")}


def row_threads(counts, searches=300):
    """Per thread count: the worker's memory after `searches` varied searches at 8 clients and
    bursts that fill every thread; and bursts of threads - 1 and 2 x threads distinct searches."""
    results = {}
    for threads in counts:
        with shipped(uwsgi_options={"threads": str(threads)}) as server:
            warm(server)
            closed = start_closed_loop(server.port, distinct_request, 8, searches, 120)
            for thread in closed[0]:
                thread.join(150)
            bursts = {}
            for size in (threads - 1, 2 * threads):
                samples = burst(server.port, distinct_request, size)
                bursts[size] = {"statuses": statuses(samples),
                                "slowest_s": round(max(s.seconds for s in samples), 3)}
                time.sleep(1)
            workers = server.workers()
            results[threads] = {"worker_pss_mb": round(pss_mb(workers), 1),
                                "worker_rss_mb": round(rss_mb(workers), 1),
                                "closed_loop": statuses(closed[1]), "bursts": bursts}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(ROWS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="8,32,64")
    parser.add_argument("--uwsgi", action="append", default=[], metavar="KEY=VALUE",
                        help="a uwsgi.ini option changed for every row (e.g. threads=32)")
    args = parser.parse_args()
    UWSGI_OPTIONS.update(option.split("=", 1) for option in args.uwsgi)
    rows = args.only.split(",")
    print(f"# bench/admission.py, {time.strftime('%Y-%m-%d %H:%M')}, {cpu_load()}", flush=True)
    for row in rows:
        if row == "burst":
            result = row_burst(args.rounds)
        elif row == "person":
            result = row_person()
        elif row == "identical":
            result = row_identical()
        elif row == "recycle":
            result = row_recycle()
        elif row == "threads":
            result = row_threads([int(n) for n in args.threads.split(",")])
        else:
            raise SystemExit(f"unknown row {row!r} (rows: {', '.join(ROWS)})")
        print(f"{row}: {result}  [{cpu_load()}]", flush=True)


if __name__ == "__main__":
    main()
