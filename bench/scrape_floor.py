"""Where a warm scrape's time goes: each hop of one query, back to back and after an idle pause.

    python3 bench/scrape_floor.py                 # 60 of each, back to back and 100 ms apart
    python3 bench/scrape_floor.py --pause 0.5

One real Chromium started the way the pool starts it, on the bundled site. Each row is a median,
printed with its ratio to the first row (an HTTP round trip to chromedriver that reaches no
browser), measured in the same run:
  chromedriver /status        Python -> chromedriver, no browser
  CDP Browser.getVersion      ... -> Chromium's browser process (Selenium's execute_cdp_cmd)
  CDP Runtime.evaluate        ... -> the page's renderer
  DevTools, no chromedriver   the same Runtime.evaluate on a DevTools connection of our own to the
                              page (what a query would cost with chromedriver out of its path)
  execute_async_script        a WebDriver script that answers at once (what a query is built on)
  search                      DemoSource.search: one query, parsed (the service's scrape)
  search through the pool     the same inside BrowserPool.browser() (checkout, watchdog, checkin)
The page's own time for the query (its `elapsed_ms`) is printed beside the search rows.
"""
import argparse
import json
import os
import statistics
import sys
import time
import urllib.request

import websocket  # noqa: E402  (websocket-client, a dependency of Selenium)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from scraper.pool import BrowserPool  # noqa: E402
from scraper.sources.demo import DemoSource  # noqa: E402

QUERY = "Sejong-daero"


def median_ms(function, count, pause):
    samples = []
    for _ in range(count):
        time.sleep(pause)
        started = time.perf_counter()
        function()
        samples.append(1000 * (time.perf_counter() - started))
    return statistics.median(samples)


class PageConnection:
    """A DevTools connection straight to the page chromedriver drives (its window handle is the
    DevTools target id); one command at a time."""

    def __init__(self, driver):
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/list") as answer:
            targets = json.load(answer)
        target = next(t for t in targets if t["id"] == driver.current_window_handle)
        self.socket = websocket.create_connection(target["webSocketDebuggerUrl"], suppress_origin=True,
                                                  timeout=10)
        self.last_id = 0

    def call(self, method, params):
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.last_id:
                return message

    def close(self):
        self.socket.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--pause", type=float, default=0.1, help="idle seconds before each sample")
    args = parser.parse_args()
    pool = BrowserPool(DemoSource(DemoSource.default_url + "?latency=0"), size=1, page_timeout=10)
    page = None
    try:
        with pool.browser(60) as driver:
            pool.source.search(driver, QUERY, 1, 10)
        member = next(iter(pool._open))
        driver, source = member.driver, pool.source
        status_url = member.service.service_url + "/status"
        page_ms = []

        def search():
            page_ms.append(source.search(driver, QUERY, 1, 10)["page_ms"])

        def search_in_pool():
            with pool.browser(10) as checked_out:
                source.search(checked_out, QUERY, 1, 10)

        page = PageConnection(driver)
        hops = [
            ("chromedriver /status", lambda: urllib.request.urlopen(status_url).read()),
            ("CDP Browser.getVersion", lambda: driver.execute_cdp_cmd("Browser.getVersion", {})),
            ("CDP Runtime.evaluate", lambda: driver.execute_cdp_cmd(
                "Runtime.evaluate", {"expression": "1", "returnByValue": True})),
            ("DevTools, no chromedriver", lambda: page.call(
                "Runtime.evaluate", {"expression": "1", "returnByValue": True})),
            ("execute_async_script", lambda: driver.execute_async_script("arguments[0](1)")),
            ("search", search),
            ("search through the pool", search_in_pool),
        ]
        print(f"{args.count} samples per row; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        for pause in (0.0, args.pause):
            baseline = None
            print(f"\n{'back to back' if pause == 0 else f'after {pause * 1000:.0f} ms idle'}:")
            for name, function in hops:
                page_ms.clear()
                value = median_ms(function, args.count, pause)
                baseline = baseline or value
                own = f"  (page's own time {statistics.median(page_ms):.1f} ms)" if page_ms else ""
                print(f"  {name:<26} {value:6.2f} ms  {value / baseline:5.1f}x{own}")
        print(f"\nload {os.getloadavg()[0]:.2f} at the end")
    finally:
        if page is not None:
            page.close()
        pool.close()


if __name__ == "__main__":
    main()
