"""Bounded load generators: Python threads for latency percentiles, wrk for requests per second."""
import http.client
import os
import re
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "request.lua"
KEPT_HEADERS = ("x-cache", "server-timing", "retry-after", "access-control-allow-origin")


@dataclass
class Sample:
    status: int
    seconds: float
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    error: str = ""


def send(port, method, path, headers=None, body=None, timeout=30, keep_body=False):
    """One request on a fresh connection (as a browser's first request would be)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        seconds = time.perf_counter() - started
        kept = {name: response.getheader(name) for name in KEPT_HEADERS if response.getheader(name)}
        return Sample(response.status, seconds, kept, data if keep_body else b"")
    except (OSError, http.client.HTTPException) as error:
        return Sample(0, time.perf_counter() - started, error=f"{type(error).__name__}: {error}")
    finally:
        connection.close()


def closed_loop(port, make_request, concurrency, total, max_seconds, timeout=30):
    """`concurrency` clients each send the next of `total` requests as soon as their last returns.

    make_request(i) -> (method, path, headers, body). Stops at `total` or after `max_seconds`.
    Returns (samples in completion order, wall seconds).
    """
    started = time.perf_counter()
    threads, samples = start_closed_loop(port, make_request, concurrency, total, max_seconds, timeout)
    for thread in threads:
        thread.join(max_seconds + timeout + 5)
    return samples, time.perf_counter() - started


def start_closed_loop(port, make_request, concurrency, total, max_seconds, timeout=30,
                      keep_body=False, pause_after_503=0):
    """closed_loop's clients, started and left running (for faults made while they run).

    keep_body: samples keep the bodies; pause_after_503: seconds a client waits after a 503.
    Returns (their threads, the list their samples go to in completion order).
    """
    lock = threading.Lock()
    counter = iter(range(total))
    samples = []
    deadline = time.monotonic() + max_seconds

    def client():
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            method, path, headers, body = make_request(index)
            sample = send(port, method, path, headers, body, timeout=timeout, keep_body=keep_body)
            with lock:
                samples.append(sample)
            if pause_after_503 and sample.status == 503:
                time.sleep(pause_after_503)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    return threads, samples


def burst(port, make_request, count, timeout=30):
    """`count` requests, make_request(i) each, released at the same instant (a barrier), one
    thread each. Returns their samples; a client not done within timeout + 5 s counts as status 0."""
    barrier = threading.Barrier(count)
    samples = [None] * count

    def client(index):
        method, path, headers, body = make_request(index)
        barrier.wait()
        samples[index] = send(port, method, path, headers, body, timeout=timeout)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 5)
    return [sample or Sample(0, timeout + 5, error="no answer") for sample in samples]


def percentile(values, fraction):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values):
    return statistics.median(values) if values else None


def wrk(url, method="GET", headers=None, body="", seconds=5, connections=16, threads=1, vary=False):
    """Requests/s measured by wrk; also returns its error and non-2xx/3xx counts.
    vary: each request gets its own query string (n=<counter> added to it)."""
    env = dict(os.environ, WRK_METHOD=method, WRK_BODY=body or "", WRK_VARY="1" if vary else "0",
               WRK_HEADERS="\n".join(f"{k}: {v}" for k, v in (headers or {}).items()))
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
         "-s", str(WRK_SCRIPT), url],
        env=env, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if not rate:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = re.search(r"(\d+) requests in", output)
    return {"rps": float(rate.group(1)),
            "requests": int(total.group(1)) if total else 0,
            # uWSGI closes each connection after its response: wrk counts that close as a read error.
            "socket_errors": (int(errors.group(1)) + int(errors.group(3)) + int(errors.group(4))
                              if errors else 0),
            "non_2xx_3xx": int(non_ok.group(1)) if non_ok else 0,
            "output": output}


def open_loop(port, make_request, rate, seconds, max_in_flight=400, timeout=30):
    """Requests arrive at `rate` per second for `seconds`, whether or not earlier ones have answered.

    Latency is counted from each request's scheduled arrival, so a late client never hides a slow
    server. Arrivals beyond `max_in_flight` outstanding requests are dropped and counted.
    Returns (samples, dropped arrivals, wall seconds).
    """
    slots = threading.BoundedSemaphore(max_in_flight)
    lock = threading.Lock()
    samples, threads = [], []
    dropped = 0
    started = time.perf_counter()

    def client(index, scheduled):
        try:
            method, path, headers, body = make_request(index)
            sample = send(port, method, path, headers, body, timeout=timeout)
            sample.seconds = time.perf_counter() - scheduled
            with lock:
                samples.append(sample)
        finally:
            slots.release()

    for index in range(int(rate * seconds)):
        scheduled = started + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if not slots.acquire(blocking=False):
            dropped += 1
            continue
        thread = threading.Thread(target=client, args=(index, scheduled), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout + 5)
    return samples, dropped, time.perf_counter() - started
