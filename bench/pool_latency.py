"""Cold start and warm query percentiles of BrowserPool on the bundled site (default latency).

    python3 bench/pool_latency.py      # 200 warm queries with 1 browser, then with 2
"""
import statistics
import threading
import time

import harness  # noqa: F401  (it puts the repo root on the path)
from scraper.pool import BrowserPool
from scraper.sources.demo import DemoSource

QUERIES = ["세종대로 110", "시청", "강남구 테헤란로", "Sejong-daero", "중앙로", "서울 Sejong", "부산 시청", "테헤란로",
           "해운대구", "제주특별자치도 제주시"]

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

for size in (1, 2):
    pool = BrowserPool(DemoSource(), size=size, page_timeout=30)
    try:
        t = time.monotonic()
        with pool.browser(30) as driver:
            cold = time.monotonic() - t
            pool.source.search(driver, "세종대로 110", 1, 10)
        cold_total = time.monotonic() - t
        if size == 2:   # warm the second browser too
            pool.warm(2); time.sleep(0.1)
            while pool.status()["started"] < 2: time.sleep(0.05)
        times, pages, lock = [], [], threading.Lock()
        def client(n):
            for i in range(200 // size):
                q = QUERIES[(i * size + n) % len(QUERIES)]
                t0 = time.monotonic()
                with pool.browser(30) as driver:
                    found = pool.source.search(driver, q, 1 + i % 5, 10)
                with lock:
                    times.append(1000 * (time.monotonic() - t0)); pages.append(found["page_ms"])
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(size)]
        [th.start() for th in threads]; [th.join() for th in threads]
        wall = time.monotonic() - started
        print(f"browsers={size}: cold start (browser + page open) {cold:.2f} s, first query total {cold_total:.2f} s; "
              f"{len(times)} warm queries with {size} client thread(s): p50 {statistics.median(times):.1f} ms, "
              f"p95 {pct(times, 95):.1f} ms, {len(times)/wall:.1f} queries/s; page's own time p50 {statistics.median(pages):.1f} ms, "
              f"p95 {pct(pages, 95):.1f} ms")
    finally:
        pool.close()
