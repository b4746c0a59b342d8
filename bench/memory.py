"""Memory report: what searchaddr holds, per process kind and per browser, warm and after load.

    python3 bench/memory.py                    # every instance below, side by side in one run
    python3 bench/memory.py --searches 500     # shorter
    python3 bench/memory.py --only chromium default
    python3 bench/memory.py soak --minutes 30  # one instance, varied searches at a bounded rate,
                                               # memory of each browser sampled every minute
    python3 bench/memory.py soak --minutes 30 --warm-searches 2000   # the same from a steady state

Instances (each a real uWSGI with the repo's uwsgi.ini [uwsgi] section and searchaddr.ini, started
with SEARCHADDR_BENCH_TAG=<uuid>, listening on 127.0.0.1:<free port>; only what the name says is
changed):
  chromium    the files as they are, with the full browser: [scraper] chromium = /usr/bin/chromium
  default     the files as they are (the headless shell): the 1 GB profile of docs/memory.md
  webdriver   the files as they are, queries on the WebDriver line: [scraper] line = webdriver
  2gb         the 2 GB profile: 2 workers, 2 browsers each
  per-request one Chrome per request (bench/peers/flask_seed.py, peer (b)), sampled while it works

`default` is judged against `chromium` (same sizing, same run, only the binary differs), and
against `webdriver` (only the line differs): memory, scrape latency and throughput, and how long a
browser takes to start (the pool's log line).

Every instance is up at the same time; searches go to one instance at a time in chunks, round
robin, so each sees the same machine. Searches are varied (no two alike: the cache never answers)
and bounded: a closed loop with one client per browser. Total and per-browser figures are given
twice (bench/memmeasure.py): `pss`, the sum of smaps_rollup Pss (lower here than on a box
of its own, because other Chromiums on this machine share the library pages), and `alone`, the
same sum as if the instance ran alone on the box. Nothing here depends on the address site's
data: the queries are common place and road names, so the report runs unchanged on another site.
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path


from harness import (ORIGIN, PEERS, REPO, UwsgiServer, cpu_load, search_path,  # noqa: E402
                     server_timing, service_settings, uwsgi_settings_of_service)
from load import burst, closed_loop, percentile  # noqa: E402
from memmeasure import KINDS, snapshot  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

FULL_CHROMIUM = "/usr/bin/chromium"
# name -> (uWSGI options, searchaddr.ini values)
INSTANCES = {
    "chromium": ({}, {"chromium": FULL_CHROMIUM}),
    "default": ({}, {}),          # the 1 GB profile
    "webdriver": ({}, {"line": "webdriver"}),
    "2gb": ({"processes": "2"}, {"browsers": "2"}),
}

SIGUNGU = ["종로구", "중구", "강남구", "서초구", "마포구", "해운대구", "수영구", "유성구", "북구", "남구",
           "수원시 팔달구", "성남시 분당구", "청주시", "전주시", "제주시", "서귀포시", "포항시", "창원시",
           "강서구", "동래구", "연제구", "춘천시", "원주시", "천안시", "김해시", "광산구", "달서구"]
ROADS = ["세종대로", "테헤란로", "종로", "을지로", "강남대로", "중앙로", "해운대로", "올림픽로",
         "도산대로", "월드컵로", "번영로", "시청로", "대학로", "역삼로", "봉은사로", "충장로"]
ENGLISH = ["Sejong-daero", "Teheran-ro", "Jong-ro", "Jungang-ro", "Gangnam-daero", "Gangnam-gu"]


def varied_query(i):
    """The i-th of many distinct (q, page, per_page): place names, road names, road + number."""
    kind = i % 4
    if kind == 0:
        return SIGUNGU[i // 4 % len(SIGUNGU)], 1 + i // (4 * len(SIGUNGU)) % 5, (5, 10, 20)[i % 3]
    if kind == 1:
        return f"{ROADS[i // 4 % len(ROADS)]} {1 + i // 4 % 200}", 1, 10
    if kind == 2:
        return ROADS[i // 4 % len(ROADS)], 1 + i // (4 * len(ROADS)) % 10, (10, 20, 50)[i % 3]
    return ENGLISH[i // 4 % len(ENGLISH)], 1 + i // (4 * len(ENGLISH)) % 20, 10


def varied_request(offset):
    def make(i):
        q, page, per_page = varied_query(offset + i)
        return "GET", search_path(q, page, per_page), {"Origin": ORIGIN}, None
    return make


def service_ini(directory, values):
    """The repo's searchaddr.ini with `values` ({key: value}, any section) replaced."""
    text = (REPO / "searchaddr.ini").read_text(encoding="utf-8")
    for key, value in values.items():
        text, count = re.subn(rf"(?m)^{re.escape(key)}\s*=[^;\n]*", f"{key} = {value} ", text)
        if count != 1:
            raise KeyError(f"searchaddr.ini has {count} lines for {key}")
    path = Path(directory) / "searchaddr.ini"
    path.write_text(text, encoding="utf-8")
    return str(path)


class Instance:
    def __init__(self, name, section, uwsgi_options, values, workdir):
        self.name = name
        pairs = service_settings(uwsgi_settings_of_service(section))
        pairs = [(k, v) for k, v in pairs if k not in uwsgi_options and k not in ("py-autoreload",)]
        pairs += list(uwsgi_options.items())
        self.pairs = pairs
        self.processes = int(dict(pairs).get("processes", "1"))
        config = service_ini(tempfile.mkdtemp(dir=workdir), values)
        from config import load_config
        self.browsers = self.processes * load_config(config).scraper.browsers
        self.server = UwsgiServer.service(pairs, config, name=name)
        self.offset = 0
        self.samples = []
        self.memory = {}

    def start_seconds(self):
        """How long each browser start took (a new session and its page), from the pool's log."""
        return [float(ms) / 1000 for ms in re.findall(r"browser started in (\d+) ms", self.server.log_text())]

    def master_pid(self):
        return self.server.process.pid

    def snapshot(self):
        return snapshot(self.server.processes(), self.master_pid())

    def warm(self, max_seconds=180):
        """Every browser started, with its page, and answering (the pool logs each start)."""
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            started = self.server.log_text().count("searchaddr.pool INFO browser started in")
            samples = self.search(self.browsers * 2, record=False)
            if started >= self.browsers and all(s.status == 200 for s in samples):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name}: browsers not warm after {max_seconds} s")

    def search(self, count, record=True, max_seconds=600):
        samples, wall = closed_loop(self.server.port, varied_request(self.offset),
                                    concurrency=self.browsers, total=count, max_seconds=max_seconds)
        self.offset += count
        if record:
            self.samples.append((samples, wall))
        return samples


def concurrent_before_503(instance, rounds=2):
    """The largest burst of distinct searches released at once that got no 503, `rounds` times
    at each size (bounded: up to twice the instance's threads)."""
    threads = int(dict(instance.pairs).get("threads", "1"))
    best = 0
    for size in range(1, 2 * instance.processes * threads + 1):
        for _ in range(rounds):
            samples = burst(instance.server.port, varied_request(instance.offset), size)
            instance.offset += size
            if any(s.status == 503 for s in samples):
                return best
        best = size
    return best


def summary(instance):
    every = [s for samples, _ in instance.samples for s in samples]
    ok = [s for s in every if s.status == 200]
    wall = sum(w for _, w in instance.samples)
    scrape = [server_timing(s.headers.get("server-timing")).get("scrape") for s in ok]
    scrape = [v for v in scrape if v is not None]
    statuses = {}
    for s in every:
        statuses[s.status] = statuses.get(s.status, 0) + 1
    return {"searches": len(every), "statuses": statuses,
            "p50_ms": 1000 * percentile([s.seconds for s in ok], .5) if ok else None,
            "p99_ms": 1000 * percentile([s.seconds for s in ok], .99) if ok else None,
            "scrape_p50_ms": percentile(scrape, .5),
            "scrapes_per_s_per_browser": len(ok) / wall / instance.browsers if wall else None}


def per_request_peer(workdir, seconds, concurrency=2):
    """Peer (b): one Chrome per request; memory sampled every 0.5 s while it answers searches."""
    from harness import shared_settings
    shared = [(k, v) for k, v in shared_settings(uwsgi_settings_of_service("uwsgi"))
              if k not in ("py-autoreload",)]
    shared = [(k, v) for k, v in shared if k not in ("processes", "threads")] + [
        ("processes", "1"), ("threads", str(concurrency + 1))]
    server = UwsgiServer.peer(shared, PEERS / "flask_seed.py", "per-request",
                              env={"PEER_MODE": "chrome_per_request"})
    peaks, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            with contextlib.suppress(Exception):
                peaks.append(snapshot(server.processes(), server.process.pid))
            time.sleep(0.5)

    with server:
        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        samples, wall = closed_loop(server.port, varied_request(0), concurrency=concurrency,
                                    total=10 ** 6, max_seconds=seconds, timeout=60)
        stop.set()
        watcher.join(10)
    ok = [s for s in samples if s.status == 200]
    busiest = max(peaks, key=lambda s: s["total_alone"]) if peaks else None
    return {"searches": len(samples), "ok": len(ok), "wall": wall, "concurrency": concurrency,
            "p50_ms": 1000 * percentile([s.seconds for s in ok], .5) if ok else None,
            "scrapes_per_s": len(ok) / wall,
            "mean_pss": sum(s["total_pss"] for s in peaks) / len(peaks) if peaks else None,
            "mean_alone": sum(s["total_alone"] for s in peaks) / len(peaks) if peaks else None,
            "max_pss": max((s["total_pss"] for s in peaks), default=None),
            "max_alone": busiest["total_alone"] if busiest else None}


def describe(name, when, snap):
    kinds = "  ".join(f"{k} {v['count']}x {v['pss']:.0f}/{v['alone']:.0f}/{v['alone'] - v['alone_file']:.0f}"
                      for k, v in sorted(snap["kinds"].items(), key=lambda kv: KINDS.index(kv[0])))
    browsers = ", ".join(f"{b['pss']:.0f}/{b['alone']:.0f}" for b in snap["browsers"])
    print(f"  {name:12} {when:6} total pss {snap['total_pss']:6.0f} MB, alone {snap['total_alone']:6.0f} MB"
          f" | per browser pss/alone: {browsers}\n      per kind, pss/alone/alone anon: {kinds}", flush=True)


def report(args):
    workdir = tempfile.mkdtemp(prefix="bench-memory-")
    try:
        measure(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(args, workdir):
    names = args.only or list(INSTANCES)
    print(f"memory report: {', '.join(names)}; {args.searches} searches each in chunks of {args.chunk};"
          f" {cpu_load()}")
    results = {}
    with contextlib.ExitStack() as stack:
        instances = []
        for name in names:
            if name == "per-request":
                continue
            options, values = INSTANCES[name]
            instance = Instance(name, args.section, options, values, workdir)
            stack.enter_context(instance.server)
            instances.append(instance)
        for instance in instances:
            instance.warm()
        time.sleep(3)
        for instance in instances:
            instance.memory["warm"] = instance.snapshot()
            describe(instance.name, "warm", instance.memory["warm"])
        done = 0
        while done < args.searches:
            chunk = min(args.chunk, args.searches - done)
            for instance in instances:
                instance.search(chunk)
            done += chunk
            print(f"    {done}/{args.searches} searches each; {cpu_load()}", flush=True)
        time.sleep(3)
        for instance in instances:
            instance.memory["after"] = instance.snapshot()
            instance.burst = concurrent_before_503(instance) if args.bursts else None
            describe(instance.name, "after", instance.memory["after"])
            results[instance.name] = {"memory": instance.memory, "load": summary(instance),
                                      "concurrent_before_503": instance.burst,
                                      "browsers": instance.browsers, "processes": instance.processes,
                                      "start_s": instance.start_seconds(),
                                      "settings": {k: v for k, v in instance.pairs
                                                   if k in ("processes", "threads", "cache2", "reload-on-rss")}}
    if "per-request" in names:
        results["per-request"] = per_request_peer(workdir, args.per_request_seconds)
    print_table(results, args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(
        {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "load": cpu_load(), "argv": sys.argv[1:],
         "results": results}, indent=1, default=str), encoding="utf-8")


def print_table(results, args):
    print(f"\n{args.searches} varied searches per instance; MB = MiB; pss = sum of smaps_rollup Pss on this"
          f" machine; alone = as if the instance were alone on its box; {cpu_load()}\n")
    print("| instance | browsers | warm pss / alone | after pss / alone (anon + file) | per browser pss / alone"
          " (anon) (after) | uWSGI pss / alone | browser start s | p50 ms | scrape p50 ms | scrapes/s per browser |"
          " non-200 | concurrent before 503 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, result in results.items():
        if name == "per-request":
            continue
        warm, after, load = result["memory"]["warm"], result["memory"]["after"], result["load"]
        per = [b for b in after["browsers"]]
        uwsgi = [after["kinds"].get(k, {"pss": 0, "alone": 0}) for k in ("uwsgi master", "uwsgi worker")]
        bad = {k: v for k, v in load["statuses"].items() if k != 200}
        print(f"| {name} | {result['browsers']} | {warm['total_pss']:.0f} / {warm['total_alone']:.0f} |"
              f" {after['total_pss']:.0f} / {after['total_alone']:.0f}"
              f" ({after['total_alone'] - after['total_alone_file']:.0f} + {after['total_alone_file']:.0f}) |"
              f" {max(b['pss'] for b in per):.0f} / {max(b['alone'] for b in per):.0f}"
              f" ({max(b['alone'] - b['alone_file'] for b in per):.0f}) |"
              f" {sum(u['pss'] for u in uwsgi):.0f} / {sum(u['alone'] for u in uwsgi):.0f} |"
              f" {_median(result['start_s']):.2f} | {load['p50_ms']:.1f} | {load['scrape_p50_ms']:.1f} | {load['scrapes_per_s_per_browser']:.1f} |"
              f" {bad or 0} | {result['concurrent_before_503'] if result['concurrent_before_503'] is not None else '-'} |")
    if "per-request" in results:
        peer = results["per-request"]
        print(f"| per-request (peer b, {peer['concurrency']} at once) | 1 per request |"
              f" mean {peer['mean_pss']:.0f} / {peer['mean_alone']:.0f} | max {peer['max_pss']:.0f} /"
              f" {peer['max_alone']:.0f} | - | - | - | {peer['p50_ms']:.0f} | - |"
              f" {peer['scrapes_per_s'] / peer['concurrency']:.2f} | {peer['searches'] - peer['ok']} | - |")
    for base_name, what in (("chromium", "headless shell vs chromium"),
                            ("webdriver", "DevTools line vs WebDriver line")):
        base, default = results.get(base_name), results.get("default")
        if base and default:
            print(f"\ndefault vs {base_name} ({what}, same sizing, same run):  "
                  + ", ".join(f"{k} {v:.2f}x" for k, v in ratios(default, base).items()))


def ratios(instance, base):
    """instance's figures over base's."""
    def ratio(figure):
        return figure(instance) / figure(base)
    after = lambda r: r["memory"]["after"]      # noqa: E731
    return {
        "total alone": ratio(lambda r: after(r)["total_alone"]),
        "total pss": ratio(lambda r: after(r)["total_pss"]),
        "per browser alone": ratio(lambda r: max(b["alone"] for b in after(r)["browsers"])),
        "per browser pss": ratio(lambda r: max(b["pss"] for b in after(r)["browsers"])),
        "per browser anon": ratio(lambda r: max(b["alone"] - b["alone_file"] for b in after(r)["browsers"])),
        "p50": ratio(lambda r: r["load"]["p50_ms"]),
        "scrape p50": ratio(lambda r: r["load"]["scrape_p50_ms"]),
        "scrapes/s per browser": ratio(lambda r: r["load"]["scrapes_per_s_per_browser"]),
        "browser start": ratio(lambda r: _median(r["start_s"]))}


def _median(values):
    return sorted(values)[len(values) // 2] if values else float("nan")


def soak(args):
    """Varied searches at `--rate` per second for `--minutes`; each browser's memory every minute."""
    workdir = tempfile.mkdtemp(prefix="bench-soak-")
    try:
        soak_in(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def soak_in(args, workdir):
    options, values = INSTANCES[args.instance]
    values = dict(values)
    if args.recycle_after:
        values["recycle_after"] = str(args.recycle_after)
    instance = Instance(args.instance, args.section, options, values, workdir)
    print(f"soak: {args.instance}, {args.minutes} min at {args.rate}/s, values {values}; {cpu_load()}",
          flush=True)
    log = []
    with instance.server:
        instance.warm()
        if args.warm_searches:
            # Steady state: the answer cache and each browser's page past their warm-up.
            instance.search(args.warm_searches, record=False)
            print(f"  warmed with {args.warm_searches} varied searches; {cpu_load()}", flush=True)
        started = time.monotonic()
        next_sample = started
        sent = errors = 0
        while time.monotonic() - started < args.minutes * 60:
            if time.monotonic() >= next_sample:
                snap = instance.snapshot()
                # Each browser by its chromedriver pid, so a recycled browser shows as a new one.
                entry = {"t": round(time.monotonic() - started), "searches": sent, "errors": errors,
                         "total_pss": snap["total_pss"], "total_alone": snap["total_alone"],
                         "kinds": snap["kinds"], "browsers": snap["browsers"],
                         "processes": snap["processes"]}
                log.append(entry)
                print(f"  t={entry['t']:5}s searches {sent} non-200 {errors} total pss "
                      f"{snap['total_pss']:.0f} alone {snap['total_alone']:.0f}; browsers "
                      + ", ".join(f"{b['driver']}:{b['pss']:.0f}/{b['alone']:.0f}" for b in snap["browsers"])
                      + f"; workers {snap['kinds'].get('uwsgi worker', {}).get('pss', 0):.0f}; {cpu_load()}",
                      flush=True)
                next_sample += 60
            tick = time.monotonic()
            samples = instance.search(max(1, int(args.rate)), record=False)
            sent += len(samples)
            errors += sum(s.status != 200 for s in samples)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        log.append({"t": round(time.monotonic() - started), "searches": sent, "errors": errors,
                    **instance.snapshot()})
    growth = {}
    for entry in log:
        for browser in entry["browsers"]:
            first = growth.setdefault(browser["driver"], {"first": browser, "last": browser, "t0": entry["t"]})
            first["last"] = browser
            first["t1"] = entry["t"]
    print("\nper browser (by chromedriver pid): first sample -> last sample, pss / alone MB")
    for driver, g in growth.items():
        ratio = g["last"]["alone"] / g["first"]["alone"]
        print(f"  {driver}: t={g['t0']}..{g.get('t1', g['t0'])}s  {g['first']['pss']:.0f}/{g['first']['alone']:.0f}"
              f" -> {g['last']['pss']:.0f}/{g['last']['alone']:.0f}  alone x{ratio:.2f}")
    print("\nper process seen in two samples or more: first -> last alone MB (the largest growth of each kind)")
    for kind, (pid, first, last) in sorted(process_growth(log).items()):
        print(f"  {kind:13} pid {pid}: {first:.0f} -> {last:.0f}  x{last / first:.2f}")
    print(f"{sent} searches, {errors} non-200; {cpu_load()}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"soak-{args.instance}.json").write_text(json.dumps(
        {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "argv": sys.argv[1:], "log": log}, indent=1, default=str))


def process_growth(log):
    """{kind: (pid, first alone, last alone)} of the process of each kind that grew the most."""
    seen = {}
    for entry in log:
        for row in entry["processes"]:
            first = seen.setdefault(row["pid"], [row["kind"], row["alone"], row["alone"], 0])
            first[2] = row["alone"]
            first[3] += 1
    worst = {}
    for pid, (kind, first, last, samples) in seen.items():
        if samples < 2 or first <= 0:
            continue
        if kind not in worst or last / first > worst[kind][2] / worst[kind][1]:
            worst[kind] = (pid, first, last)
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="report", choices=["report", "soak"])
    parser.add_argument("--section", default="uwsgi", help="uwsgi.ini section (default: production's)")
    parser.add_argument("--only", nargs="*", choices=list(INSTANCES) + ["per-request"])
    parser.add_argument("--searches", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--per-request-seconds", type=int, default=60)
    parser.add_argument("--no-bursts", dest="bursts", action="store_false",
                        help="skip the concurrent-searches-before-503 bursts")
    parser.add_argument("--instance", default="default", choices=list(INSTANCES), help="soak: which")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=float, default=10, help="soak: searches per second")
    parser.add_argument("--recycle-after", type=int, default=0, help="soak: override recycle_after")
    parser.add_argument("--warm-searches", type=int, default=0,
                        help="soak: varied searches before the first sample (2000 fills the answer cache)")
    args = parser.parse_args()
    if args.only is None:
        args.only = list(INSTANCES) + ["per-request"]
    report(args) if args.mode == "report" else soak(args)


if __name__ == "__main__":
    main()
