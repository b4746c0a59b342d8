"""One Chromium switch at a time: memory, warm scrape latency and stability, side by side.

    python3 bench/chromium_flags.py                  # every variant, 2,000 searches each
    python3 bench/chromium_flags.py --searches 500 --only today lean
    python3 bench/chromium_flags.py --binary /usr/lib/chromium/chromium-headless-shell \
        --only lean "lean with V8's compilation cache"

Each variant is one browser started the way the service starts it (scraper.browser.start_browser,
Debian's full Chromium, the bundled site) with the earlier flags plus one change, or the
service's flags now ("lean"). All run at once; searches go round robin (variant after variant,
query after query), so every variant sees the same load. Per variant: the browser's memory
(bench/memmeasure.py: pss on this machine, and alone = as if it were the only browser on the box)
after warm-up and after the searches; p50/p90 of the search round trip; failed searches and
whether the browser died. Varied queries: common place and road names (any address site).
"""
import argparse
import contextlib
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path


from harness import TAG_ENV, cpu_load, kill_tagged, tagged_processes  # noqa: E402  (first: it puts the repo on the path)
import scraper.browser as browser_module  # noqa: E402
from load import percentile  # noqa: E402
from memmeasure import snapshot  # noqa: E402
from memory import FULL_CHROMIUM, varied_query  # noqa: E402
from scraper.sources.demo import DemoSource  # noqa: E402

LEAN = browser_module.CHROMIUM_FLAGS
# The earlier flags (scraper/browser.py CHROMIUM_FLAGS before the lean set).
TODAYS_FLAGS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--window-size=1024,768")
NO_OMNIBOX = "PreloadTopChromeWebUI,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup"
# name -> (flags added to TODAYS_FLAGS, flags taken out of them); "lean" is the service's own.
VARIANTS = {
    "today": ((), ()),
    "renderer-process-limit=1": (("--renderer-process-limit=1",), ()),
    "site isolation off": (("--disable-site-isolation-trials",
                            "--disable-features=IsolateOrigins,site-per-process"), ()),
    "omnibox WebUI off": ((f"--disable-features={NO_OMNIBOX}",), ()),
    "network service in process": (("--enable-features=NetworkServiceInProcess2",), ()),
    "software rasterizer off": (("--disable-software-rasterizer",), ()),
    "gpu in process": (("--in-process-gpu",), ()),
    "V8 semi-space 1 MB": (("--js-flags=--max-semi-space-size=1",), ()),
    "V8 lite mode": (("--js-flags=--lite-mode",), ()),
    "low-end device mode": (("--enable-low-end-device-mode",), ()),
    "crash reporter off": (("--disable-crash-reporter", "--disable-breakpad"), ()),
    "no zygote": (("--no-zygote",), ()),
    "single process": (("--single-process",), ()),
    "with background networking": ((), ("--disable-background-networking",)),
    "with component updates": ((), ("--disable-component-update",)),
    "lean": (None, ()),
    "lean with V8's compilation cache": (None, ("--js-flags=--no-compilation-cache",)),
}


class Variant:
    def __init__(self, name, added, removed, binary):
        self.name = name
        self.binary = binary
        base = LEAN if added is None else TODAYS_FLAGS
        self.flags = tuple(f for f in base if f not in removed) + tuple(added or ())
        self.tag = uuid.uuid4().hex
        self.browser = None
        self.latencies = []
        self.failures = []
        self.started_s = None
        self.memory = {}

    def start(self, source):
        """In the main thread (a local browser dies with the thread that started it)."""
        os.environ[TAG_ENV] = self.tag
        browser_module.CHROMIUM_FLAGS = self.flags
        began = time.monotonic()
        try:
            self.browser = browser_module.start_browser(self.binary)
            self.browser.driver.set_page_load_timeout(30)
            self.browser.driver.set_script_timeout(30)
            source.open(self.browser.driver)
        except Exception as error:      # recorded: a variant that cannot start is a result
            self.failures.append(f"start: {type(error).__name__}: {error}"[:300])
        finally:
            browser_module.CHROMIUM_FLAGS = LEAN
            os.environ.pop(TAG_ENV, None)
        self.started_s = time.monotonic() - began

    def search(self, source, i):
        if self.browser is None or len(self.failures) >= 20:
            return
        q, page, per_page = varied_query(i)
        began = time.perf_counter()
        try:
            source.search(self.browser.driver, q, page, per_page)
            self.latencies.append(time.perf_counter() - began)
        except Exception as error:
            self.failures.append(f"{q!r}: {type(error).__name__}: {error}"[:300])

    def measure(self, when):
        self.memory[when] = snapshot(tagged_processes(self.tag))

    def stop(self):
        with contextlib.suppress(Exception):
            if self.browser is not None:
                self.browser.quit()
        kill_tagged(self.tag)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=2000)
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS))
    parser.add_argument("--threads", type=int, default=2, help="variants driven at once")
    parser.add_argument("--every", type=int, default=500, help="print the table every N searches")
    parser.add_argument("--binary", default=FULL_CHROMIUM,
                        help=f"the browser (default {FULL_CHROMIUM}; the service's: {browser_module.CHROMIUM})")
    args = parser.parse_args()
    source = DemoSource()
    variants = [Variant(name, *VARIANTS[name], args.binary) for name in (args.only or VARIANTS)]
    print(f"{len(variants)} variants, {args.searches} searches each; {cpu_load()}", flush=True)
    try:
        for variant in variants:
            variant.start(source)
            print(f"  started {variant.name} in {variant.started_s:.1f} s {variant.failures[:1]}", flush=True)
        for variant in variants:
            variant.search(source, 0)
        time.sleep(2)
        for variant in variants:
            variant.measure("warm")
        groups = [variants[n::args.threads] for n in range(args.threads)]

        checkpoint = threading.Barrier(len(groups))

        def drive(group):
            for i in range(args.searches):
                for variant in group:
                    variant.search(source, i)
                if (i + 1) % args.every == 0 and i + 1 < args.searches:
                    checkpoint.wait()
                    if group is groups[0]:
                        for variant in variants:
                            variant.measure("after")
                        report(variants, i + 1)
                    checkpoint.wait()

        threads = [threading.Thread(target=drive, args=(group,), daemon=True) for group in groups]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(2)
        for variant in variants:
            variant.measure("after")
        report(variants, args.searches)
    finally:
        for variant in variants:
            variant.stop()


def report(variants, searches):
    """Print the table so far and write it to bench/results/chromium_flags.json."""
    rows = []
    for variant in variants:
        alive = variant.browser is not None and variant.browser.alive()
        warm, after = variant.memory.get("warm"), variant.memory.get("after")
        rows.append({
            "variant": variant.name, "flags": variant.flags, "start_s": variant.started_s,
            "searches": len(variant.latencies) + len(variant.failures),
            "failures": len(variant.failures), "first_failures": variant.failures[:3], "alive": alive,
            "p50_ms": 1000 * percentile(variant.latencies, .5) if variant.latencies else None,
            "p90_ms": 1000 * percentile(variant.latencies, .9) if variant.latencies else None,
            "processes": sum(k["count"] for k in after["kinds"].values()) if after else None,
            "warm_pss": warm and warm["total_pss"], "warm_alone": warm and warm["total_alone"],
            "after_pss": after and after["total_pss"], "after_alone": after and after["total_alone"],
            "kinds_after": after and {k: round(v["alone"], 1) for k, v in after["kinds"].items()}})
    base = next((r for r in rows if r["variant"] == "today"), None)
    print(f"\n{searches} varied searches per variant, round robin; {cpu_load()}\n")
    print("| variant | processes | alone MB warm / after | vs today | pss MB after | p50 ms | vs today |"
          " p90 ms | failed | browser alive |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        vs_mem = f"{r['after_alone'] - base['after_alone']:+.0f} MB" if base and r["after_alone"] else "-"
        vs_p50 = f"{r['p50_ms'] / base['p50_ms']:.2f}x" if base and r["p50_ms"] and base["p50_ms"] else "-"
        print(f"| {r['variant']} | {r['processes']} | {r['warm_alone'] or 0:.0f} / {r['after_alone'] or 0:.0f} |"
              f" {vs_mem} | {r['after_pss'] or 0:.0f} | {r['p50_ms'] or 0:.1f} | {vs_p50} |"
              f" {r['p90_ms'] or 0:.1f} | {r['failures']} of {r['searches']} | {'yes' if r['alive'] else 'NO'} |",
              flush=True)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "chromium_flags.json").write_text(json.dumps(
        {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "argv": sys.argv[1:], "searches": searches, "rows": rows},
        indent=1, ensure_ascii=False, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
