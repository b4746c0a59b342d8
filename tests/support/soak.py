"""Soak: mixed load on the real stack (nginx -> uWSGI -> Chromium) for a set time, then a summary.

    python3 -m tests.support.soak --seconds 1800          # by hand: 30 minutes
    python3 -m tests.support.soak --seconds 60 --clients 12

Prints requests, answers by status and code, the RSS and open-file trend of the uWSGI workers and
of the browsers, and browser starts/recycles/replacements (from the service's log). Exits 1 on any
5xx other than 503/504 (deliberate overload sheds with those), on an answer that is not the
contract's JSON, on a request without an answer, or on growth. Loopback only; bounded in time;
every process it starts is stopped (by PID) at the end.
"""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from tests.support.stack import (QUERIES, Load, Stack, _quote, browsers_of, request,  # noqa: E402
                                 search_path, tally)

ALLOWED_ORIGIN = "https://blog.example.com"
SAMPLE_EVERY = 2.0
# Growth limits, compared between the second and the last quarter of the run (after warm-up).
WORKER_RSS_GROWTH_MB = 40
WORKER_FD_GROWTH = 20


def mixed_request(ids):
    """A request generator: cached and uncached searches, details, refusals, preflights, health."""
    def next_request(rng):
        roll = rng.random()
        if roll < 0.40:
            return "GET", search_path(rng, cacheable=True), None, {"Origin": ALLOWED_ORIGIN}
        if roll < 0.60:
            return "GET", search_path(rng), None, None
        if roll < 0.70:
            body = json.dumps({"q": rng.choice(QUERIES), "page": rng.randint(1, 5)})
            return "POST", "/searchaddr1", body, {"Content-Type": "application/json"}
        if roll < 0.80 and ids:
            return "GET", f"/searchaddr2?id={rng.choice(ids)}", None, None
        if roll < 0.85:
            return "GET", "/searchaddr1?q=" + rng.choice(["a", "%ff", "x" * 90]), None, None
        if roll < 0.90:
            return "OPTIONS", "/searchaddr1", None, {"Origin": ALLOWED_ORIGIN,
                                                      "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "content-type"}
        if roll < 0.95:
            return "GET", "/searchaddr1?q=ab", None, {"Origin": "https://evil.test"}
        return "GET", "/healthz", None, None
    return next_request


def collect_ids(port, limit=40):
    ids = []
    for q in QUERIES[:8]:
        outcome = request(port, "GET", f"/searchaddr1?q={_quote(q)}&per_page=10", timeout=60)
        if outcome.status == 200:
            ids.extend(item["id"] for item in outcome.json()["results"])
    return ids[:limit] + ["nonexistent-id-0000"]


def sample(stack):
    """RSS (MB) and open files of the uWSGI workers, and RSS and count of the browsers."""
    workers_rss = workers_fds = 0
    for worker in stack.workers():
        try:
            workers_rss += worker.memory_info().rss
            workers_fds += worker.num_fds()
        except psutil.Error:
            pass
    browsers = browsers_of(stack.tag)
    browsers_rss = 0
    for process in browsers:
        try:
            browsers_rss += process.memory_info().rss
        except psutil.Error:
            pass
    drivers = sum(p.info["name"] == "chromedriver" for p in browsers)
    return {"t": time.monotonic(), "workers_rss_mb": workers_rss / 2**20, "workers_fds": workers_fds,
            "browsers_rss_mb": browsers_rss / 2**20, "chromedrivers": drivers,
            "worker_pids": sorted(w.pid for w in stack.workers())}


def window_mean(samples, key, start, end):
    values = [s[key] for s in samples[int(len(samples) * start):max(int(len(samples) * end), 1)]]
    return statistics.mean(values) if values else 0.0


def browser_events(log_path):
    text = Path(log_path).read_text(errors="replace") if Path(log_path).exists() else ""
    return {
        "started": len(re.findall(r"browser started in", text)),
        "recycled": len(re.findall(r"browser recycled:", text)),
        "replaced": len(re.findall(r"browser replaced:", text)),
        "failed_starts": len(re.findall(r"browser failed_starts:|browser start failed", text)),
        "internal_errors": len(re.findall(r"internal error on", text)),
    }


def check_answer(outcome):
    """Problems with one answer: a server error other than shedding, a non-JSON error, no answer."""
    if not outcome.status:
        return f"no answer ({outcome.failure})"
    if outcome.status >= 500 and outcome.status not in (503, 504):
        return f"{outcome.status} {outcome.code}"
    if outcome.status >= 400 and outcome.code in ("html", "bad-json"):
        return f"{outcome.status} not the contract's JSON"
    return None


def run(seconds, clients, workdir, recycle_after=200, browsers=2, progress=print):
    """Run the soak; returns (summary dict, list of failures). progress(line) is told each phase."""
    stack = Stack(workdir, scraper={"recycle_after": str(recycle_after), "browsers": str(browsers)},
                  cache={"ttl": "20"})
    load = None
    samples = []
    stop_sampling = threading.Event()
    summary = {}
    outcomes = []
    left = []
    try:
        progress("soak: starting nginx, uWSGI and the browsers")
        stack.start()
        ids = collect_ids(stack.port)

        def sampler():
            while not stop_sampling.wait(SAMPLE_EVERY):
                samples.append(sample(stack))

        sampling = threading.Thread(target=sampler, daemon=True)
        samples.append(sample(stack))
        sampling.start()
        progress(f"soak: {seconds:.0f} s of mixed load from {clients} clients")
        started = time.monotonic()
        load = Load(stack.port, clients, mixed_request(ids), max_requests=10_000_000,
                    max_seconds=seconds, timeout=30, seed=int(time.time())).start()
        while time.monotonic() - started < seconds:
            time.sleep(min(10, seconds - (time.monotonic() - started)))
            done = load.snapshot()
            progress(f"soak: [{time.monotonic() - started:4.0f} s] {len(done)} requests {tally(done)}")
        outcomes = load.stop()
        stop_sampling.set()
        sampling.join(5)
        elapsed = time.monotonic() - started
        samples.append(sample(stack))
        summary = {
            "seconds": round(elapsed, 1), "clients": clients, "requests": len(outcomes),
            "requests_per_s": round(len(outcomes) / elapsed, 1),
            "answers": tally(outcomes),
            "latency_ms_p50_p99_max": _percentiles([o.seconds * 1000 for o in outcomes]),
            "workers_rss_mb": _trend(samples, "workers_rss_mb"),
            "workers_fds": _trend(samples, "workers_fds"),
            "browsers_rss_mb": _trend(samples, "browsers_rss_mb"),
            "chromedrivers_max": max(s["chromedrivers"] for s in samples),
            "worker_restarts": len({pid for s in samples for pid in s["worker_pids"]}) - len(samples[0]["worker_pids"]),
            "browser_events": browser_events(stack.uwsgi_log),
            "load_average": [round(x, 1) for x in os.getloadavg()],
        }
    finally:
        stop_sampling.set()
        if load:
            load.stop()
        progress("soak: stopping the stack")
        left = stack.stop()
    if not summary:
        raise AssertionError(f"the soak did not run; processes left: {left}")
    failures = []
    problems = {}
    for outcome in outcomes:
        problem = check_answer(outcome)
        if problem:
            problems[problem] = problems.get(problem, 0) + 1
    if problems:
        failures.append(f"bad answers: {problems}")
    if summary["browser_events"]["internal_errors"]:
        failures.append(f"{summary['browser_events']['internal_errors']} internal errors logged")
    rss, fds = summary["workers_rss_mb"], summary["workers_fds"]
    if summary["worker_restarts"] == 0 and rss["growth"] > WORKER_RSS_GROWTH_MB:
        failures.append(f"uWSGI workers' RSS grew by {rss['growth']:.0f} MB")
    if summary["worker_restarts"] == 0 and fds["growth"] > WORKER_FD_GROWTH:
        failures.append(f"uWSGI workers' open files grew by {fds['growth']:.0f}")
    # A recycled browser's replacement starts before it leaves: two per slot for that moment.
    limit = 2 * len(samples[0]["worker_pids"]) * browsers
    if summary["chromedrivers_max"] > limit:
        failures.append(f"{summary['chromedrivers_max']} chromedrivers at once (pool bound {limit})")
    if left:
        failures.append(f"processes outlived the stack: {left}")
    summary["failures"] = failures
    return summary, failures


def _trend(samples, key):
    first = window_mean(samples, key, 0.25, 0.5)
    last = window_mean(samples, key, 0.75, 1.0)
    return {"start": round(samples[0][key], 1), "second_quarter": round(first, 1),
            "last_quarter": round(last, 1), "end": round(samples[-1][key], 1),
            "max": round(max(s[key] for s in samples), 1), "growth": round(last - first, 1)}


def _percentiles(values):
    if not values:
        return [0, 0, 0]
    values = sorted(values)
    return [round(values[len(values) // 2]), round(values[int(len(values) * 0.99) - 1]), round(values[-1])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1800, help="how long to run (default 1800)")
    parser.add_argument("--clients", type=int, default=12, help="concurrent clients (default 12)")
    parser.add_argument("--recycle-after", type=int, default=200, help="[scraper] recycle_after")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="searchaddr-soak-") as workdir:
        summary, failures = run(args.seconds, args.clients, workdir, recycle_after=args.recycle_after)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    print("FAIL: " + "; ".join(failures) if failures else "OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
