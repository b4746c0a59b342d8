"""Browser faults against the real service (uWSGI with uwsgi.ini's options, real Chromium),
one table row each:

  stopped   SIGSTOP of every chromium under load: every answer JSON, within page_timeout + 1 s
            after its browser checkout
  slow      the address site slower than page_timeout for 60 s: browser starts per slot
  recycle   2,000 scrapes at concurrency = browsers, recycle_after = 100: 503s
  reap      two instances, one in another pid namespace: what reaping from the other kills
  cold      a search 1 s after a cold start, 10 starts in a row: answers

    .venv/bin/python bench/faults.py [--rows stopped,slow,recycle,reap,cold] [--scrapes 2000]

Loopback only; every load bounded in count and time; every process stopped by pid.
"""
import argparse
import json
import os
import signal
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psutil

from harness import (DEMO_URL, UwsgiServer, service_settings,  # noqa: E402
                           uwsgi_settings_of_service)
from load import send, start_closed_loop  # noqa: E402
from tests.support.processes import (free_pid_range, kill_processes, leave_orphan_browser,  # noqa: E402
                                     namespaced_pool, owned_by)

QUERIES = ("세종대로", "테헤란로", "강남구", "해운대구", "수원시", "종로구", "마포구", "서초구")


def write_config(directory, **scraper):
    values = {"source": "demo", "browsers": 2, "checkout_timeout": 2, "page_timeout": 8,
              "recycle_after": 200, "warm_browsers": 1, **scraper}
    path = Path(directory) / "searchaddr.ini"
    path.write_text("[cors]\norigins = https://blog.example.com\npaths = /searchaddr1 /searchaddr2\n"
                    "max_age = 600\nallow_headers = Content-Type\n\n[scraper]\n"
                    + "".join(f"{key} = {value}\n" for key, value in values.items())
                    + "\n[cache]\nttl = 300\nsize = 0\n", encoding="utf-8")
    return str(path)


def service(processes=2, **scraper):
    pairs = [(k, v) for k, v in service_settings(uwsgi_settings_of_service("uwsgi"))
             if k != "processes"] + [("processes", str(processes))]
    return UwsgiServer.service(pairs, write_config(tempfile.mkdtemp(prefix="bench-faults-"), **scraper))


def search_request(index):
    q = QUERIES[index % len(QUERIES)]
    return "GET", f"/searchaddr1?q={quote(q)}&page={1 + index // len(QUERIES) % 100}&per_page=5", {}, None


def starts(server):
    return server.log_text().count("browser started in")


def wait_for_starts(server, count, limit=180):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and starts(server) < count:
        time.sleep(0.2)
    return starts(server) >= count


def tally(samples):
    counts = {}
    for sample in samples:
        label = str(sample.status or sample.error.split(":")[0])
        if sample.status >= 400:
            try:
                label += " " + json.loads(sample.body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                label += " NON-JSON"
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))


def search_clients(port, concurrency, total, max_seconds):
    """closed_loop's clients on varied searches, started and left running; they keep bodies (to
    check error bodies are JSON) and wait 1 s after a 503. Returns (threads, samples)."""
    return start_closed_loop(port, search_request, concurrency, total, max_seconds, timeout=60,
                             keep_body=True, pause_after_503=1)


def chromium_of(server):
    found = []
    for process in server.processes():
        try:
            if process.name().startswith("chromium"):
                found.append(process)
        except psutil.Error:
            pass
    return found


def row_stopped(page_timeout=5):
    """SIGSTOP every chromium (all processes) while 4 clients search."""
    with service(browsers=2, page_timeout=page_timeout) as server:
        wait_for_starts(server, 2)
        threads, samples = search_clients(server.port, 4, 2000, 25)
        time.sleep(5)
        stopped = chromium_of(server)
        for process in stopped:
            try:
                process.send_signal(signal.SIGSTOP)
            except psutil.Error:
                pass
        for thread in threads:
            thread.join(90)
        health = send(server.port, "GET", "/healthz", keep_body=True)
        log = server.log_text()
    worst = max((s.seconds for s in samples), default=0)
    return {"row": "SIGSTOP of every chromium under load (4 clients, 25 s)",
            "page_timeout": page_timeout, "chromium_stopped": len(stopped),
            "requests": len(samples), "outcomes": tally(samples),
            "slowest_s": round(worst, 2),
            "over_checkout_plus_page_timeout_plus_1": sum(s.seconds > 2 + page_timeout + 1 for s in samples),
            "hung_browsers_killed": log.count("browser hung:"),
            "healthz_after": health.status}


def row_slow(seconds=60, page_timeout=3):
    """The site answers every query after 4 s, page_timeout 3 s, 4 clients for `seconds`."""
    slots = 2 * 2
    with service(browsers=2, page_timeout=page_timeout, url=DEMO_URL + "?latency=4000") as server:
        wait_for_starts(server, 2)
        before = starts(server)
        threads, samples = search_clients(server.port, 4, 100_000, seconds)
        for thread in threads:
            thread.join(seconds + 60)
        time.sleep(2)
        after = starts(server)
        log = server.log_text()
    return {"row": f"site slower than page_timeout for {seconds} s (4 clients)",
            "requests": len(samples), "outcomes": tally(samples),
            "browser_starts_during": after - before, "slots": slots,
            "starts_per_slot": round((after - before) / slots, 2),
            "browsers_replaced": log.count("browser replaced:"), "browsers_killed_hung": log.count("browser hung:")}


def row_recycle(scrapes=2000, recycle_after=100):
    """One worker with 2 browsers, 2 clients (concurrency = browsers), no cache."""
    with service(processes=1, browsers=2, page_timeout=15, recycle_after=recycle_after) as server:
        wait_for_starts(server, 1)
        started = time.monotonic()
        threads, samples = search_clients(server.port, 2, scrapes, 1500)
        for thread in threads:
            thread.join(1600)
        wall = time.monotonic() - started
        log = server.log_text()
    return {"row": f"{scrapes} scrapes at concurrency = browsers (2), recycle_after = {recycle_after}",
            "requests": len(samples), "outcomes": tally(samples), "wall_s": round(wall, 1),
            "recycled": log.count("browser recycled"), "503": sum(s.status == 503 for s in samples)}


def row_reap():
    from scraper.owner import reap_orphans
    instance = "bench" + uuid.uuid4().hex[:12]
    first_pid = free_pid_range()
    if first_pid is None:
        raise RuntimeError("no free range of pids for the namespaced instance")
    orphan_tree = []
    try:
        with namespaced_pool(instance, first_pid, size=2, page_timeout=60, warm=2) as inner:
            ready = inner.stdout.readline().split()
            ours = owned_by(instance, psutil.process_iter())
            orphan_pid, orphan_profile = leave_orphan_browser(instance, tempfile.gettempdir())
            time.sleep(1)
            root = psutil.Process(orphan_pid)
            orphan_tree = [root] + root.children(recursive=True)
            killed = reap_orphans(instance)
            psutil.wait_procs(orphan_tree, timeout=5)
            inner_alive = sum(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in ours)
            inner.stdin.write("\n")
            inner.stdin.flush()
            again = inner.stdout.readline().split()
            inner.wait(60)
        return {"row": "two instances, one in another pid namespace (unshare -pf --mount-proc)",
                "inner_owner_pid_exists_outside": psutil.pid_exists(int(ready[1])),
                "inner_browser_processes": len(ours), "inner_killed_by_outer_reap": len(ours) - inner_alive,
                "inner_search_after_reap": again,
                "real_orphan_processes": len(orphan_tree), "reaped_in_all": killed,
                "orphan_left": sum(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in orphan_tree),
                "orphan_profile_left": os.path.exists(orphan_profile)}
    finally:
        kill_processes(orphan_tree)


def row_cold(starts_wanted=10, page_timeout=30):
    """uWSGI started cold (1 worker, 1 browser, starting at once); a search 1 s after the socket
    answers. page_timeout is roomy: browser starts take 10+ s on this loaded machine."""
    answers = []
    waits = []
    for _ in range(starts_wanted):
        server = service(processes=1, browsers=1, page_timeout=page_timeout)
        server.ready_path = "/healthz"
        try:
            server.start()
            time.sleep(1)
            sample = send(server.port, *search_request(0)[:2], timeout=page_timeout + 10, keep_body=True)
            answers.append(sample.status)
            waits.append(round(sample.seconds, 2))
        finally:
            server.stop()
    return {"row": f"a search 1 s after a cold start, {starts_wanted} starts in a row",
            "page_timeout": page_timeout, "answers": {str(s): answers.count(s) for s in set(answers)},
            "seconds_each": waits}


ROWS = {"stopped": row_stopped, "slow": row_slow, "recycle": row_recycle, "reap": row_reap, "cold": row_cold}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--scrapes", type=int, default=2000)
    parser.add_argument("--slow-seconds", type=int, default=60)
    args = parser.parse_args()
    print(f"# bench/faults.py  {time.strftime('%Y-%m-%d %H:%M:%S')}  load average {os.getloadavg()[0]:.1f}",
          flush=True)
    for name in args.rows.split(","):
        if name == "recycle":
            result = row_recycle(args.scrapes)
        elif name == "slow":
            result = row_slow(args.slow_seconds)
        else:
            result = ROWS[name]()
        result["load_average_after"] = round(os.getloadavg()[0], 1)
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
