"""Where a warm scrape's time goes: each hop of one query, back to back and after an idle pause,
on each line a query can take to the page.

    python3 bench/scrape_floor.py                 # 60 of each, back to back and 100 ms apart
    python3 bench/scrape_floor.py --pause 0.05

One real Chromium started the way the pool starts it, on the bundled site, and for the BiDi row a
second one with WebDriver BiDi enabled. Each row is a median, printed with its ratio to the first
row (an HTTP round trip to chromedriver that reaches no browser), measured in the same run:
  chromedriver /status          Python -> chromedriver, no browser
  CDP Runtime.evaluate          ... -> the page's renderer, through chromedriver (execute_cdp_cmd)
  execute_async_script          a WebDriver script that answers at once
  BiDi script.callFunction      the same through Selenium's BiDi (chromedriver's BiDi mapper, in a
                                tab of its own; Selenium polls its socket every websocket_interval,
                                set to 1 ms here: its 0.1 s default makes every call ~100 ms)
  Selenium's CDP socket         Runtime.evaluate on Selenium's DevTools connection to the browser
                                (WebSocketConnection, a session on the page; polled, 1 ms)
  DevTools line                 the same on the service's own connection straight to the page
                                (scraper.devtools: blocking reads, no thread, no polling)
  search, WebDriver line        DemoSource's query through execute_async_script, parsed
  search, DevTools line         the same query on the DevTools line (what the service runs)
  search through the pool       the same inside BrowserPool.browser() (checkout, watchdog, checkin)
The page's own time for the query (its `elapsed_ms`) is printed beside the search rows. The
BiDi browser's PSS is printed beside the first one's: the mapper's tab is a renderer of its own.
"""
import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import urllib.request

import psutil
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chromium.remote_connection import ChromiumRemoteConnection
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.websocket_connection import WebSocketConnection

from harness import pss_mb  # noqa: E402
from scraper.browser import CHROMEDRIVER, CHROMIUM, CHROMIUM_LAUNCHER, Driver, chromium_options  # noqa: E402
from scraper.pool import BrowserPool  # noqa: E402
from scraper.sources.demo import SEARCH_SCRIPT, DemoSource, parse_search  # noqa: E402

QUERY = "Sejong-daero"
SITE = DemoSource.default_url + "?latency=0"
POLL = 0.001        # Selenium's websocket_interval for its BiDi and CDP connections


def median_ms(function, count, pause):
    samples = []
    for _ in range(count):
        time.sleep(pause)
        started = time.perf_counter()
        function()
        samples.append(1000 * (time.perf_counter() - started))
    return statistics.median(samples)


class BidiBrowser:
    """A session with WebDriver BiDi enabled, started as the pool starts one; its files in a temp
    dir removed at close."""

    def __init__(self):
        self.temp_dir = tempfile.mkdtemp(prefix="bench-bidi-")
        self.service = Service(executable_path=CHROMEDRIVER,
                               env=dict(os.environ, SEARCHADDR_CHROMIUM=CHROMIUM, TMPDIR=self.temp_dir))
        self.driver = None
        try:
            self.service.start()
            config = ClientConfig(remote_server_addr=self.service.service_url, timeout=30,
                                  websocket_interval=POLL)
            executor = ChromiumRemoteConnection(remote_server_addr=self.service.service_url,
                                                vendor_prefix="goog", browser_name="chrome",
                                                client_config=config)
            options = chromium_options(CHROMIUM, CHROMIUM_LAUNCHER)
            options.enable_bidi = True
            self.driver = Driver(command_executor=executor, options=options)
            self.driver.set_script_timeout(10)
            DemoSource(SITE).open(self.driver)
            self.target = {"context": self.driver.current_window_handle}
        except BaseException:
            self.close()
            raise

    def call(self):
        self.driver.script.call_function("() => Promise.resolve(1)", True, self.target)

    def close(self):
        try:
            if self.driver is not None:
                self.driver.quit()
        finally:
            self.service.stop()
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def selenium_cdp(driver):
    """Selenium's own DevTools connection (WebSocketConnection) to the browser, with a session on
    the page. driver.start_devtools() would open it, but does not know the headless shell's
    browserName: the same steps by hand."""
    address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
    with urllib.request.urlopen(f"http://{address}/json/version") as answer:
        browser_url = json.load(answer)["webSocketDebuggerUrl"]
    connection = WebSocketConnection(browser_url, 30, POLL)
    attached = connection.send_cmd("Target.attachToTarget", {"targetId": driver.current_window_handle,
                                                             "flatten": True})
    connection.session_id = attached["result"]["sessionId"]
    return connection


def tree_pss_mb(pid):
    """chromedriver and every Chromium process below it."""
    root = psutil.Process(pid)
    return pss_mb([root] + root.children(recursive=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--pause", type=float, default=0.1, help="idle seconds before each sample")
    args = parser.parse_args()
    pool = BrowserPool(DemoSource(SITE), size=1, page_timeout=10)
    bidi = cdp = None
    try:
        with pool.browser(60) as driver:
            pool.source.search(driver, QUERY, 1, 10)
        member = next(iter(pool._open))
        driver, source = member.driver, pool.source
        status_url = member.service.service_url + "/status"
        page_ms = []

        def search(line):
            def run():
                if line == "webdriver":
                    raw = driver.execute_async_script(SEARCH_SCRIPT, QUERY, 1, 10)
                    found = parse_search(raw, QUERY, 1, 10)
                else:
                    found = source.search(driver, QUERY, 1, 10)
                page_ms.append(found["page_ms"])
            return run

        def search_in_pool():
            with pool.browser(10) as checked_out:
                page_ms.append(source.search(checked_out, QUERY, 1, 10)["page_ms"])

        evaluate = {"expression": "1", "returnByValue": True}
        bidi = BidiBrowser()
        cdp = selenium_cdp(driver)
        hops = [
            ("chromedriver /status", lambda: urllib.request.urlopen(status_url).read()),
            ("CDP Runtime.evaluate", lambda: driver.execute_cdp_cmd("Runtime.evaluate", evaluate)),
            ("execute_async_script", lambda: driver.execute_async_script("arguments[0](1)")),
            ("BiDi script.callFunction", bidi.call),
            ("Selenium's CDP socket", lambda: cdp.send_cmd("Runtime.evaluate", evaluate)),
            ("DevTools line", lambda: driver.run_async("arguments[0](1)")),
            ("search, WebDriver line", search("webdriver")),
            ("search, DevTools line", search("devtools")),
            ("search through the pool", search_in_pool),
        ]
        print(f"{args.count} samples per row; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores;"
              f" the pool's browser on the {member.line} line")
        for pause in (0.0, args.pause):
            baseline = None
            print(f"\n{'back to back' if pause == 0 else f'after {pause * 1000:.0f} ms idle'}:")
            for name, function in hops:
                page_ms.clear()
                value = median_ms(function, args.count, pause)
                baseline = baseline or value
                own = f"  (page's own time {statistics.median(page_ms):.1f} ms)" if page_ms else ""
                print(f"  {name:<26} {value:6.2f} ms  {value / baseline:5.1f}x{own}")
        print(f"\nPSS: {tree_pss_mb(member.processes[0].pid):.0f} MB for the pool's browser, "
              f"{tree_pss_mb(bidi.service.process.pid):.0f} MB for the BiDi one")
        print(f"load {os.getloadavg()[0]:.2f} at the end")
    finally:
        if cdp is not None:
            cdp.close()
        if bidi is not None:
            bidi.close()
        pool.close()


if __name__ == "__main__":
    main()
