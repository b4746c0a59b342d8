"""The demo page's own time for a query, read from its performance marks in a browser of our own."""
import os
import shutil
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from harness import DEMO_URL, REPO, TAG_ENV

sys.path.insert(0, str(REPO))
from scraper.browser import CHROMIUM_FLAGS  # noqa: E402

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
        total_ms: Number(box.dataset.totalMs), work_ms: Number(box.dataset.elapsedMs)});
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


class PageClock:
    """One warm browser on the demo page; `measure(q)` returns the page's own milliseconds."""

    def __init__(self, tag, url=DEMO_URL):
        self.profile = tempfile.mkdtemp(prefix="bench-page-clock-")
        options = webdriver.ChromeOptions()
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.binary_location = "/usr/bin/chromium"
        service = Service(executable_path="/usr/bin/chromedriver",
                          env=dict(os.environ, **{TAG_ENV: tag, "HOME": self.profile}))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_script_timeout(30)
        self.driver.get(url)
        state = self.driver.execute_async_script(READY_SCRIPT)
        if state != "ready":
            raise RuntimeError(f"the demo page did not become ready: {state!r}")

    def measure(self, q, page=1, per_page=10):
        result = self.driver.execute_async_script(MEASURE_SCRIPT, q, page, per_page)
        if result.get("status") != "ok":
            raise RuntimeError(f"the demo page answered {result!r} for {q!r}")
        return result

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
