"""The demo page's own time per query and its memory, in real Chromium.

    python3 bench/page_work.py                    # 1,000 random queries of every kind, PSS vs the previous page
    python3 bench/page_work.py --queries 240 --seed 7 --no-memory
    python3 bench/page_work.py --index /tmp/official/data   # an index built with --data: lots and
                                                             # buildings too, PSS vs the kozip index
    python3 bench/page_work.py --against main --no-memory  # the page's time against the page (app.js)
                                                             # of a git ref, on the same index, same run

Queries are drawn from the built index (demo_site/data/), every kind in turn (KINDS). Each runs
twice in one warm browser: the page reports its own time (data-elapsed-ms, loading included) and
how many index shards it had to load (data-shards-loaded), which sorts a run into "data loaded" or
"needed a new part"; per kind, the slowest query is named. With --against REF, every query also
runs (right after) on the page of REF in a browser of its own, and each kind's medians are compared
(REF may answer the newer kinds otherwise: it is the same query, not the same work). Memory: PSS of each browser's Chromium
processes, this page beside the page at --old-ref (default 4dcc49a, the last small synthetic page:
`git show REF:demo_site/...` copied to a temp dir), both after the same queries: right after
them, after an idle while, and after a forced full garbage collection; and every 50 queries
during them (mean, max and the range of the difference).
"""
import argparse
import bisect
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from harness import DEMO_URL, REPO, TAG_ENV, kill_tagged  # first: it puts the repo's modules on the path
from scraper.browser import CHROMIUM_FLAGS
import build_index
import area_names
from romanize import area_english, road_english

# The page marks searchaddr-start-N when a query is submitted and searchaddr-end-N when it has
# rendered; it publishes both measures on the results box (data-total-ms, data-elapsed-ms).
MEASURE_SCRIPT = """
const done = arguments[arguments.length - 1];
const root = document.documentElement;
const form = document.getElementById("search-form");
const box = document.getElementById("results");
let expected = null;
const check = () => {
  if (expected === null || box.dataset.seq !== expected || box.dataset.status === "loading") return;
  observer.disconnect();
  done({status: box.dataset.status, total: box.dataset.total ?? null,
        total_ms: Number(box.dataset.totalMs), work_ms: Number(box.dataset.elapsedMs),
        shards_loaded: box.dataset.shardsLoaded === undefined ? null : Number(box.dataset.shardsLoaded)});
};
const observer = new MutationObserver(check);
observer.observe(box, {attributes: true, attributeFilter: ["data-status", "data-seq"]});
form.elements.q.value = arguments[0];
form.elements.page.value = String(arguments[1]);
form.elements.per_page.value = String(arguments[2]);
form.requestSubmit();
expected = root.dataset.pendingSeq;
check();
"""

READY_SCRIPT = """
const done = arguments[arguments.length - 1];
const root = document.documentElement;
if (root.dataset.searchaddr !== "loading") done(root.dataset.searchaddr);
else document.addEventListener("searchaddr:ready", () => done(root.dataset.searchaddr), {once: true});
"""

# Every kind of query docs/search.md describes, and the broad ones it allows (an area with a number
# or with a 읍면동/리).
KINDS = ("road number", "area road number", "road", "sigungu road", "road prefix", "zip",
         "dong road", "dong number", "english road", "english number", "area number", "area dong",
         "glued road number", "english address", "english area", "english area road")
# What official data also finds (docs/search.md, "Official data").
OFFICIAL_KINDS = ("lot", "area lot", "mountain lot", "related lot", "building", "building prefix",
                  "area building")
OLD_PAGE_FILES = ("index.html", "app.js", "style.css", "data/addresses.js")
# Chromium collects a page's garbage lazily: memory is read right after the queries, after this
# long idle, and after a forced full collection (what the page really keeps). Each page's garbage
# comes and goes on its own schedule, so one reading right after the queries can catch one page
# before its collection and the other after: readings every SAMPLE_EVERY queries show the spread.
IDLE_SECONDS = 15
SAMPLE_EVERY = 50


class PageClock:
    """One warm browser on the demo page; `measure(q)` returns the page's own milliseconds."""

    def __init__(self, tag, url=DEMO_URL):
        self.profile = tempfile.mkdtemp(prefix="bench-page-clock-")
        self.driver = None
        try:
            options = webdriver.ChromeOptions()
            for flag in CHROMIUM_FLAGS:
                options.add_argument(flag)
            options.add_argument(f"--user-data-dir={self.profile}")
            options.binary_location = "/usr/bin/chromium"
            service = Service(executable_path="/usr/bin/chromedriver",
                              # Chromium's own scoped directories go to TMPDIR: into the profile, removed at close.
                              env=dict(os.environ, **{TAG_ENV: tag, "HOME": self.profile,
                                                      "TMPDIR": self.profile}))
            self.driver = webdriver.Chrome(service=service, options=options)
            self.driver.set_script_timeout(60)
            started = time.monotonic()
            self.driver.get(url)
            state = self.driver.execute_async_script(READY_SCRIPT)
            self.open_seconds = time.monotonic() - started
            if state != "ready":
                raise RuntimeError(f"the demo page did not become ready: {state!r}")
        except BaseException:
            self.close()
            raise

    def measure(self, q, page=1, per_page=10):
        result = self.driver.execute_async_script(MEASURE_SCRIPT, q, page, per_page)
        if result.get("status") != "ok":
            raise RuntimeError(f"the demo page answered {result!r} for {q!r}")
        return result

    def pss_mb(self):
        """PSS of this browser's Chromium processes (the children of its chromedriver)."""
        driver_process = psutil.Process(self.driver.service.process.pid)
        total_kb = 0
        for process in driver_process.children(recursive=True):
            try:
                with open(f"/proc/{process.pid}/smaps_rollup", encoding="ascii") as rollup:
                    total_kb += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
            except (OSError, StopIteration):
                continue
        return total_kb / 1024

    def collect_garbage(self):
        """A full garbage collection in the page (DevTools protocol): what stays is what it keeps."""
        self.driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})

    def close(self):
        try:
            if self.driver is not None:
                self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


class IndexRows:
    """Addresses of the built index by id, for drawing queries from real data."""

    def __init__(self, out=build_index.DEFAULT_OUT):
        self.out = out
        self.index = build_index.read_index(out)
        self.official = self.index["official"]
        self.entry_road = [r for r in range(len(self.index["roads"]))
                           for _ in range(self.index["roadEntries"][r], self.index["roadEntries"][r + 1])]
        self.shards = {}

    def row(self, address_id):
        index = self.index
        entry = bisect.bisect_right(index["entryStart"], address_id) - 1
        number = address_id // index["shardRows"]
        if number not in self.shards:
            self.shards[number] = build_index.read_shard(self.out, "road", number, index["records"], self.official)
        shard, at = self.shards[number], address_id % index["shardRows"]
        sido_index, sigungu, _ = index["sigungu"][index["entrySigungu"][entry]]
        pair = shard["pair"][at]
        row = {"road": index["roads"][self.entry_road[entry]], "sido": index["sido"][sido_index][0],
               "sigungu": sigungu, "dong": index["dongs"][index["pairDong"][pair]],
               "number": f"{shard['main'][at]}-{shard['sub'][at]}" if shard["sub"][at] else str(shard["main"][at]),
               "zip": index["zips"][index["pairZip"][pair]]}
        if self.official:
            lot = shard["lot"][at]
            row["lot"] = ("산 " if lot & 0x8000 else "") + str(lot & 0x7FFF) + (f"-{shard['lotSub'][at]}"
                                                                              if shard["lotSub"][at] else "")
            row["building"] = self.building(address_id)
        return row

    def building(self, address_id):
        data = build_index.read_blob(self.out, "name", address_id // self.index["shardRows"])
        at = address_id % self.index["shardRows"]
        start, end = (int.from_bytes(data[4 * k:4 * k + 4], "little") for k in (at, at + 1))
        rows = min(self.index["shardRows"], self.index["records"] - address_id // self.index["shardRows"]
                   * self.index["shardRows"])
        text_at = 4 * (rows + 1)
        return data[text_at + start:text_at + end].decode("utf-8")

    def related_lot(self, rng):
        """A lot of the lot copy that is not its address's own: (읍면동/리, lot text), or None."""
        index = self.index
        number = rng.randrange(-(-index["lotRows"] // index["shardRows"]))
        shard = build_index.read_shard(self.out, "lot", number, index["lotRows"])
        at = rng.randrange(len(shard["id"]))
        position = number * index["shardRows"] + at
        dong = bisect.bisect_right(index["lotDongStart"], position) - 1
        lot, sub = shard["lot"][at], shard["lotSub"][at]
        text = ("산 " if lot & 0x8000 else "") + str(lot & 0x7FFF) + (f"-{sub}" if sub else "")
        own = self.row(shard["id"][at])
        return None if (own["dong"], own["lot"]) == (index["dongs"][dong], text) else (index["dongs"][dong], text)


def area_words(rng, row):
    sido_names = [row["sido"]] + list(next(aliases for name, _, aliases in area_names.SIDO if name == row["sido"]))
    choices = [[rng.choice(sido_names)]]
    if row["sigungu"]:
        choices += [[row["sigungu"]], [rng.choice(sido_names), row["sigungu"]]]
    return " ".join(rng.choice(choices))


def area_word(rng, row):
    """One word that names the row's area: a sido name (full, short or old) or a part of its sigungu."""
    sido_names = [row["sido"]] + list(next(aliases for name, _, aliases in area_names.SIDO if name == row["sido"]))
    return rng.choice(sido_names + row["sigungu"].split())


def dong_part(rng, row):
    return rng.choice([part for part in area_names.WORD_SEPARATORS.split(row["dong"]) if part])


def english_address(row):
    """The address as the page writes english_address."""
    eupmyeon = area_names.eupmyeon_of(row["dong"])
    english_sido = next(english for name, english, _ in area_names.SIDO if name == row["sido"])
    parts = [f"{row['number']} {road_english(row['road'])}", area_english(eupmyeon) if eupmyeon else "",
             area_names.sigungu_english(row["sigungu"]), english_sido]
    return ", ".join(part for part in parts if part)


def english_area(rng, row):
    """One English area name of the row: its sido's, a part of its sigungu's or its 읍/면's."""
    return rng.choice(english_address(row).split(", ")[1:])


def make_query(rng, row, kind):
    if kind == "road number":
        return f"{row['road']} {row['number']}"
    if kind == "area road number":
        return f"{area_words(rng, row)} {row['road']} {row['number']}"
    if kind == "road":
        return row["road"]
    if kind == "sigungu road":
        area = rng.choice(row["sigungu"].split()) if row["sigungu"] else row["sido"]
        return f"{area} {row['road']}"
    if kind == "road prefix":
        return row["road"][:rng.randint(2, max(2, len(row["road"]) - 1))]
    if kind == "zip":
        return row["zip"]
    if kind == "dong road":
        return f"{dong_part(rng, row)} {row['road']}"
    if kind == "dong number":
        return f"{dong_part(rng, row)} {row['number']}"
    if kind == "english road":
        return road_english(row["road"])
    if kind == "english number":
        return f"{road_english(row['road'])} {row['number']}"
    if kind == "area number":  # broad: every address of a sido or sigungu with that number
        return f"{area_word(rng, row)} {row['number']}"
    if kind == "area dong":
        return f"{area_word(rng, row)} {dong_part(rng, row)}"
    if kind == "glued road number":
        return f"{row['road']}{row['number']}"
    if kind == "english address":
        address = english_address(row)
        return rng.choice([address, address.lower(), address.replace(",", ""), f"{address} {row['zip']}"])
    if kind == "english area":  # broad: every address of the area
        return english_area(rng, row)
    if kind == "english area road":
        return f"{road_english(row['road'])} {english_area(rng, row)}"
    if kind == "lot":
        return f"{dong_part(rng, row)} {row['lot']}"
    if kind == "area lot":
        return f"{area_word(rng, row)} {dong_part(rng, row)} {row['lot']}"
    if kind == "mountain lot":  # a 산 lot of the same 읍면동/리 and 본번, found or not
        return f"{dong_part(rng, row)} 산 {row['lot'].removeprefix('산 ')}"
    if kind in ("building", "building prefix", "area building") and not row["building"]:
        return None
    part = rng.choice([p for p in area_names.WORD_SEPARATORS.split(row.get("building", "")) if p] or [""])
    if kind == "building":
        return row["building"]
    if kind == "building prefix":
        return part[:rng.randint(2, max(2, len(part)))]
    if kind == "area building":
        return f"{area_word(rng, row)} {part}"
    raise ValueError(kind)


def draw_queries(rows, seed, count, kinds):
    rng = random.Random(seed)
    drawn = []
    while len(drawn) < count:
        kind = kinds[len(drawn) % len(kinds)]
        if kind == "related lot":
            lot = rows.related_lot(rng)
            q = f"{rng.choice([p for p in area_names.WORD_SEPARATORS.split(lot[0]) if p])} {lot[1]}" if lot else None
        else:
            q = make_query(rng, rows.row(rng.randrange(rows.index["records"])), kind)
        if q:  # an address without a building name gives no building query: draw again
            drawn.append((kind, q[:80]))
    rng.shuffle(drawn)
    return drawn


def page_copy(data, directory):
    """The page's files with the index in `data`, in `directory`; its file:// URL."""
    for name in ("index.html", "app.js", "style.css"):
        shutil.copy(REPO / "demo_site" / name, Path(directory) / name)
    os.symlink(Path(data).resolve(), Path(directory) / "data")
    return (Path(directory) / "index.html").as_uri()


def ref_page(ref, data, directory):
    """The page's files of git `ref` with the index in `data`, in `directory`; its file:// URL."""
    for name in ("index.html", "app.js", "style.css"):
        (Path(directory) / name).write_bytes(subprocess.run(["git", "show", f"{ref}:demo_site/{name}"], cwd=REPO,
                                                            capture_output=True, check=True).stdout)
    os.symlink(Path(data).resolve(), Path(directory) / "data")
    return (Path(directory) / "index.html").as_uri()


def old_page(ref, directory):
    """Today's page (before the national index) from git, into `directory`; its file:// URL."""
    for name in OLD_PAGE_FILES:
        target = Path(directory) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(subprocess.run(["git", "show", f"{ref}:demo_site/{name}"], cwd=REPO,
                                          capture_output=True, check=True).stdout)
    return (Path(directory) / "index.html").as_uri()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def summary(values):
    if not values:
        return "n=0"
    return (f"n={len(values)}, p50 {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
            f"max {max(values):.1f} ms")


def slowest(records):
    """'q' (ms, shards) of the slowest record, for finding what to look at."""
    if not records:
        return ""
    kind, q, ms, shards = max(records, key=lambda record: record[2])
    return f"; slowest {q!r} {ms:.1f} ms ({shards} shards)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--old-ref", default="4dcc49a",
                        help="git ref of the previous page (the small synthetic one), for memory")
    parser.add_argument("--no-memory", action="store_true", help="only the page's own time")
    parser.add_argument("--index", type=Path, help="an index directory other than demo_site/data (e.g. "
                        "official data); memory is then compared with the page on demo_site/data")
    parser.add_argument("--road-kinds", action="store_true",
                        help="with official data too, only the kinds kozip answers (the same work on both pages)")
    parser.add_argument("--against", metavar="REF",
                        help="also time every query on the page (app.js) of git REF, on the same index")
    args = parser.parse_args(argv)

    started = time.monotonic()
    rows = IndexRows(args.index or build_index.DEFAULT_OUT)
    kinds = KINDS + (OFFICIAL_KINDS if rows.official and not args.road_kinds else ())
    queries = draw_queries(rows, args.seed, args.queries, kinds)
    print(f"page_work: {len(queries)} queries (every {len(kinds)} kinds in turn), {rows.index['records']:,} "
          f"addresses ({'official' if rows.official else 'kozip'}), "
          f"seed {args.seed}, drawn in {time.monotonic() - started:.1f} s; load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores", flush=True)
    tag = uuid.uuid4().hex
    old_dir = tempfile.mkdtemp(prefix="bench-old-page-")
    page_dir = tempfile.mkdtemp(prefix="bench-page-")
    ref_dir = tempfile.mkdtemp(prefix="bench-ref-page-")
    baseline = args.old_ref if args.index is None else "kozip index"
    clocks = []
    try:
        clock = PageClock(tag, DEMO_URL if args.index is None else page_copy(args.index, page_dir))
        clocks.append(clock)
        ref_clock = None
        if args.against:
            ref_clock = PageClock(tag, ref_page(args.against, args.index or build_index.DEFAULT_OUT, ref_dir))
            clocks.append(ref_clock)
        old_clock = None
        if not args.no_memory:
            old_clock = PageClock(tag, old_page(args.old_ref, old_dir) if args.index is None else DEMO_URL)
            clocks.append(old_clock)
            print(f"  open: this page {clock.open_seconds:.2f} s, the baseline ({baseline}) "
                  f"{old_clock.open_seconds:.2f} s; PSS after open: this page {clock.pss_mb():.1f} MB, "
                  f"the baseline {old_clock.pss_mb():.1f} MB",
                  flush=True)
        loaded, new_part = [], []  # (kind, q, ms, shards loaded)
        ref_loaded = []  # (kind, this page's ms, REF's ms) of second runs that loaded nothing on either page
        samples = []  # (this page, previous page) PSS every SAMPLE_EVERY queries
        for n, (kind, q) in enumerate(queries, 1):
            for run in range(2):  # the second run finds its data loaded, unless it needs more than the page keeps
                # With a page to compare, each goes first in turn: neither always follows the other.
                ref = ref_clock.measure(q) if ref_clock is not None and (n + run) % 2 else None
                result = clock.measure(q)
                record = (kind, q, result["work_ms"], result["shards_loaded"])
                (new_part if result["shards_loaded"] else loaded).append(record)
                if ref_clock is not None:
                    ref = ref or ref_clock.measure(q)
                    if not result["shards_loaded"] and not ref["shards_loaded"]:
                        ref_loaded.append((kind, result["work_ms"], ref["work_ms"]))
            if old_clock is not None:
                if args.index is None or kind in KINDS:  # the baseline index may not have lots or buildings
                    old_clock.measure(q)
                if n % SAMPLE_EVERY == 0:
                    samples.append((clock.pss_mb(), old_clock.pss_mb()))
            if n % 200 == 0:
                print(f"  {n} queries; loaded {summary([r[2] for r in loaded])}; "
                      f"new part {summary([r[2] for r in new_part])}", flush=True)
        memory = []
        if old_clock is not None:
            memory.append(("right after the queries", clock.pss_mb(), old_clock.pss_mb()))
            time.sleep(IDLE_SECONDS)
            memory.append((f"after {IDLE_SECONDS} s idle", clock.pss_mb(), old_clock.pss_mb()))
            clock.collect_garbage()
            old_clock.collect_garbage()
            time.sleep(2)
            memory.append(("after a full garbage collection", clock.pss_mb(), old_clock.pss_mb()))
        print(f"data loaded: {summary([r[2] for r in loaded])}  (target p50 <= 5 ms, p95 <= 15 ms)")
        print(f"needed a new part: {summary([r[2] for r in new_part])}  (target <= 150 ms)")
        for kind in kinds:
            for label, records in (("loaded", loaded), ("new part", new_part)):
                of_kind = [r for r in records if r[0] == kind]
                print(f"  {label}, {kind}: {summary([r[2] for r in of_kind])}{slowest(of_kind)}")
        if ref_clock is not None:
            # The page's clock counts in steps of 0.1 ms: means, not medians, tell small differences.
            print(f"against {args.against} (data loaded on both pages; this page / {args.against}, mean "
                  f"and median ms):")
            for kind in (None,) + kinds:
                of_kind = [r for r in ref_loaded if kind is None or r[0] == kind]
                if of_kind:
                    mine, theirs = (statistics.mean(r[i] for r in of_kind) for i in (1, 2))
                    medians = [statistics.median(r[i] for r in of_kind) for i in (1, 2)]
                    print(f"  {kind or 'all kinds'}: n={len(of_kind)}, mean {mine:.3f} / {theirs:.3f} ms = "
                          f"{mine / theirs if theirs else float('nan'):.2f}x; median {medians[0]:.1f} / "
                          f"{medians[1]:.1f} ms")
        for when, new_pss, old_pss in memory:
            print(f"PSS per browser {when}: this page {new_pss:.1f} MB, the baseline ({baseline}) "
                  f"{old_pss:.1f} MB: {new_pss - old_pss:+.1f} MB, {new_pss / old_pss:.2f}x")
        if samples:
            differences = [new - old for new, old in samples]
            print(f"PSS per browser every {SAMPLE_EVERY} queries ({len(samples)} samples): this page mean "
                  f"{statistics.mean(new for new, _ in samples):.1f} MB, max {max(new for new, _ in samples):.1f} MB; "
                  f"the baseline mean {statistics.mean(old for _, old in samples):.1f} MB, max "
                  f"{max(old for _, old in samples):.1f} MB; difference mean {statistics.mean(differences):+.1f} MB, "
                  f"range {min(differences):+.1f} to {max(differences):+.1f} MB")
        print(f"load {os.getloadavg()[0]:.1f}; {time.monotonic() - started:.0f} s in all")
        return 0
    finally:
        for clock in clocks:
            clock.close()
        kill_tagged(tag)
        shutil.rmtree(old_dir, ignore_errors=True)
        shutil.rmtree(page_dir, ignore_errors=True)
        shutil.rmtree(ref_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
