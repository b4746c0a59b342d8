"""What an operator's daily update costs users who are searching, at national size.

    .venv/bin/python bench/update.py --site-data /tmp/nat/data --changes /tmp/nat/20260401_dailyjusukrdata.zip

--site-data is an official index built with `build_index.py --data` (left as it is: the bench
works on a copy, `cp -a`, in a temp dir of its own, put back to its base first: no change file
applied). The copy is served as the shipped section runs: `uwsgi --ini uwsgi.ini` (one worker) on
a unix socket behind nginx, [scraper] as searchaddr.ini ships it, the demo page without its
simulated latency. A closed loop of --clients clients sends searches, every one a cache miss, for
a warm-up, then --baseline seconds with no update (the baseline), then `scripts/update-data.sh
--index COPY --touch FILE ZIP` runs beside it; the loop goes on until the switch is seen (healthz's
index has the new base date and a chain reload completed), then --after seconds more.

It prints the update script's wall time, the time from its touch to the switch, and for each
window (baseline, building: the script running, switching: touch to switch, after) the searches
answered, those that failed (the first few named) and p50/p95 latency. Loopback only; the loop
and every wait are bounded; uWSGI, nginx and the workers' browsers are stopped by PID at the end,
and whatever still carries the run's tag is killed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from repo import REPO  # first: it puts the repo and the demo site on the path
# update-data.sh runs python3, uWSGI is the virtualenv's; every process this run starts carries
# a tag of its own (never one inherited), by which whatever is left at the end is killed.
os.environ["PATH"] = str(REPO / ".venv" / "bin") + os.pathsep + os.environ.get("PATH", "")
os.environ["SEARCHADDR_TEST_TAG"] = uuid.uuid4().hex

from config import load_config  # noqa: E402
from index_files import read_rows_version  # noqa: E402
from index_switch import CHANGES_SCRIPT, NO_CHANGES  # noqa: E402
from load import percentile  # noqa: E402
from official_changes import BASE_ABOUT, CHANGES, CHANGES_META  # noqa: E402
from tests.support.data_update import ClosedLoop, answered, page_copy, running_service  # noqa: E402
from tests.support.processes import TAG_ENV, kill_tagged  # noqa: E402

# Searches all over the country, of every kind (road, road and number, lot, 읍면동, area words,
# building name); the loop gives each a page and page size no earlier one had.
QUERIES = ("세종대로 110", "한누리대로 1811", "반곡동 47-1", "테헤란로 152", "해운대구 우동", "수원 팔달구",
           "제주 연동", "부산 중앙대로", "대전 비래동", "광주 서구 치평동", "강릉 교동", "수루배마을")
SHIPPED_SCRAPER = ("browsers", "warm_browsers", "checkout_timeout", "page_timeout", "recycle_after")
FAILED_SHOWN = 5


def base_copy(source, data):
    """`source` copied to `data` as its base was built: the change files applied since removed."""
    subprocess.run(["cp", "-a", str(source), str(data)], check=True)
    kept = data / "official"
    if not (kept / BASE_ABOUT).is_file():
        raise SystemExit(f"{source}: not an official index (no official/{BASE_ABOUT}); build it "
                         f"with demo_site/build_index.py --data FILE --out DIR")
    if (kept / CHANGES_META).exists():
        shutil.rmtree(kept / CHANGES, ignore_errors=True)
        (kept / CHANGES_META).unlink()
    (data / CHANGES_SCRIPT).write_text(NO_CHANGES, encoding="ascii")
    shutil.copy(kept / BASE_ABOUT, data / "about.json")
    base_rows = read_rows_version(data)
    for path in data.iterdir():  # the rows of the changes just removed
        if path.is_dir() and path.name.startswith("rows-") and path.name != base_rows:
            shutil.rmtree(path)


def shipped_scraper():
    """searchaddr.ini's [scraper] sizes and timeouts, as config values."""
    settings = load_config(REPO / "searchaddr.ini").scraper
    return {key: str(getattr(settings, key)) for key in SHIPPED_SCRAPER}


def window(answers, start, end):
    """The answers of searches sent in [start, end)."""
    return [answer for answer in answers if start <= answer[0] < end]


def window_row(name, answers, seconds):
    times = [ended - started for started, ended, status, body in answers if answered(status, body)]
    failed = [(status, body) for _, _, status, body in answers if not answered(status, body)]

    def ms(fraction):
        value = percentile(times, fraction)
        return "-" if value is None else f"{value * 1000:.0f}"
    rate = f"{len(times) / seconds:.2f}/s" if seconds > 0 else "-"
    print(f"{name:<10} {seconds:7.1f} s  answered {len(times):5d} ({rate:>7})  failed {len(failed):4d}  "
          f"p50 {ms(0.5):>6} ms  p95 {ms(0.95):>6} ms", flush=True)
    return failed


def short(body):
    text = json.dumps(body, ensure_ascii=False) if isinstance(body, dict) else repr(body)
    return text[:160]


def run(args, work):
    site = page_copy(work / "site")
    started = time.monotonic()
    base_copy(Path(args.site_data), site / "data")
    print(f"copied {args.site_data} to the temp dir, put back to its base ({time.monotonic() - started:.1f} s)",
          flush=True)
    tag = os.environ[TAG_ENV]
    limit = args.warmup + args.baseline + args.update_limit + args.switch_limit + args.after + 30
    with running_service(work, site, tag, "nginx", scraper=shipped_scraper(),
                         start_limit=args.start_limit) as service:
        before = service.index()
        print(f"serving: {before}", flush=True)
        reloads = service.reloads()
        with ClosedLoop(service, limit=limit, clients=args.clients, queries=QUERIES) as loop:
            time.sleep(args.warmup)
            baseline = time.monotonic()
            time.sleep(args.baseline)
            update_started = time.monotonic()
            update = service.update(args.changes, timeout=args.update_limit)
            touched = time.monotonic()
            switched = None
            if update.returncode == 0:
                base_date = json.loads((service.data / "about.json").read_text(encoding="utf-8"))["base_date"]
                switched = service.wait_for_switch(base_date, reloads, args.switch_limit)
                time.sleep(args.after)
            ended = time.monotonic()
        after = service.index()
        log = service.log.read_text(errors="replace")
    print(f"update-data.sh: exit {update.returncode}, {touched - update_started:.1f} s wall", flush=True)
    for line in (update.stdout + update.stderr).strip().splitlines()[-3:]:
        print(f"  {line}")
    if update.returncode == 0:
        print("switch: " + (f"{switched - touched:.1f} s after the touch" if switched else
                            f"not seen within {args.switch_limit:.0f} s"), flush=True)
        print(f"serving: {after}", flush=True)
    windows = [("baseline", baseline, update_started), ("building", update_started, touched)]
    if update.returncode == 0:
        windows += [("switching", touched, switched or ended)] + ([("after", switched, ended)] if switched else [])
    searches = [line for line in log.splitlines() if " GET /searchaddr1 " in line]
    misses = sum(" cache=miss " in line for line in searches)
    print(f"{args.clients} clients; {misses} of {len(searches)} searches in uWSGI's log were cache misses "
          f"(warm-up included); windows by when a search was sent:")
    failed = []
    for name, start, end in windows:
        failed += window_row(name, window(loop.answers, start, end), max(0.0, end - start))
    for status, body in failed[:FAILED_SHOWN]:
        print(f"  failed: {status} {short(body)}")
    if update.returncode == 0 and not switched:
        print("\n".join([line for line in log.splitlines() if " searchaddr INFO " not in line][-20:]),
              file=sys.stderr)
    return 0 if switched else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site-data", required=True, help="an official index built with --data (copied, never changed)")
    parser.add_argument("--changes", required=True, help="the day's change zip (YYYYMMDD_dailyjusukrdata.zip)")
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds of searches not counted")
    parser.add_argument("--baseline", type=float, default=30.0, help="seconds of searches with no update")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of searches after the switch")
    parser.add_argument("--update-limit", type=float, default=600.0, help="seconds update-data.sh may take")
    parser.add_argument("--switch-limit", type=float, default=120.0, help="seconds from the touch to the switch")
    parser.add_argument("--start-limit", type=float, default=120.0, help="seconds the service may take to be ready")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 32:
        parser.error("--clients: 1 to 32")
    if not os.path.isdir(args.site_data) or not os.path.isfile(args.changes):
        parser.error("--site-data is a directory, --changes a file")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"on {os.cpu_count()} cores", flush=True)
    work = Path(tempfile.mkdtemp(prefix="searchaddr-update-"))
    os.environ["TMPDIR"] = str(work)  # the browsers' files, removed with the rest
    try:
        return run(args, work)
    finally:
        left = kill_tagged(os.environ[TAG_ENV], descendants=True)
        if left:
            print(f"processes left (killed): {' '.join(left)}", flush=True)
        shutil.rmtree(work, ignore_errors=True)
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
