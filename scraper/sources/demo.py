"""The bundled demo address site (demo_site/), driven through one round trip to the page per query:
on the DevTools line straight to a local browser's page, or WebDriver (scraper.browser.Driver)."""
import math
import pathlib
import re
import unicodedata

from selenium.common.exceptions import JavascriptException, TimeoutException

from scraper.address import ADDRESS_KEYS, ID_PATTERN
from scraper.errors import UpstreamError, UpstreamTimeout
from scraper.sources.demo_index import index_dir, read_about

DEMO_INDEX = pathlib.Path(__file__).resolve().parents[2] / "demo_site" / "index.html"

# Keys that may be empty: no lot-number address or building name in the data, Sejong (no sigungu level).
OPTIONAL_TEXT = frozenset({"jibun_address", "building", "sigungu"})
ZIP_PATTERN = re.compile(r"[0-9]{5}")
ADMIN_CODE_PATTERN = re.compile(r"[0-9]{10}")
DIGITS_PATTERN = re.compile(r"[0-9]{1,9}")
MAX_TEXT = 500
# How the page splits a query (app.js SEPARATORS: JavaScript's \s, commas and parentheses) and
# tells an English word (an ASCII letter, no Hangul) from the others.
PAGE_SEPARATORS = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff,()]+")
LATIN = re.compile("[A-Za-z]")
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
# A building number glued to a road name, which the page splits off (app.js GLUED_NUMBER).
GLUED_NUMBER = re.compile("(.+[로길])([0-9]+(?:-[0-9]+)?)")

# Resolves once app.js has loaded the data (or reports what the page is, if it is not the demo site).
OPEN_SCRIPT = """
const done = arguments[arguments.length - 1];
const root = document.documentElement;
const state = () => ({app: root.dataset.searchaddrApp || null, state: root.dataset.searchaddr || null,
                      records: root.dataset.records || null, title: document.title});
// After the load event a page still "loading" never ran app.js: report it rather than wait.
if (root.dataset.searchaddrApp !== "demo" || root.dataset.searchaddr !== "loading"
    || document.readyState === "complete") {
  done(state());
} else {
  document.addEventListener("searchaddr:ready", () => done(state()), {once: true});
}
"""

# Shared by both queries: submit a form, then wait for the render carrying our sequence number.
QUERY_SCRIPT_TEMPLATE = """
const done = arguments[arguments.length - 1];
const root = document.documentElement;
const form = document.getElementById(FORM_ID);
const box = document.getElementById(BOX_ID);
const FIELDS = ["road_address", "jibun_address", "english_address", "zip", "building",
                "sido", "sigungu", "eupmyeondong", "lat", "lng", "admin_code"];
if (root.dataset.searchaddrApp !== "demo" || root.dataset.searchaddr !== "ready" || !form || !box) {
  done({error: "not the demo site or not ready", app: root.dataset.searchaddrApp || null,
        state: root.dataset.searchaddr || null, title: document.title});
  return;
}
const readFields = (node) => {
  const found = {};
  for (const name of FIELDS) {
    const field = node.querySelector('[data-field="' + name + '"]');
    if (field) found[name] = field.textContent;
  }
  return found;
};
const read = () => {
  const items = Array.from(box.querySelectorAll(ITEM_SELECTOR)).map(
    (node) => Object.assign({id: node.dataset.id}, readFields(node)));
  return {app: root.dataset.searchaddrApp, kind: box.dataset.kind, status: box.dataset.status,
          seq: box.dataset.seq, echo: ECHO, total: box.dataset.total ?? null,
          elapsed_ms: box.dataset.elapsedMs ?? null, message: box.dataset.message ?? "", items};
};
let expected = null;
const check = () => {
  if (expected === null || box.dataset.seq !== expected || box.dataset.status === "loading") return;
  observer.disconnect();
  done(read());
};
const observer = new MutationObserver(check);
observer.observe(box, {attributes: true, attributeFilter: ["data-status", "data-seq"]});
FILL
form.requestSubmit();
expected = root.dataset.pendingSeq;
check();
"""

SEARCH_SCRIPT = (QUERY_SCRIPT_TEMPLATE
                 .replace("FORM_ID", '"search-form"').replace("BOX_ID", '"results"')
                 .replace("ITEM_SELECTOR", '"tr[data-id]"')
                 .replace("ECHO", "{query: box.dataset.query, page: box.dataset.page, "
                                  "per_page: box.dataset.perPage}")
                 .replace("FILL", "form.elements.q.value = arguments[0];\n"
                                  "form.elements.page.value = String(arguments[1]);\n"
                                  "form.elements.per_page.value = String(arguments[2]);"))

DETAIL_SCRIPT = (QUERY_SCRIPT_TEMPLATE
                 .replace("FORM_ID", '"detail-form"').replace("BOX_ID", '"detail"')
                 .replace("ITEM_SELECTOR", '"dl[data-id]"')
                 .replace("ECHO", "{id: box.dataset.id}")
                 .replace("FILL", "form.elements.id.value = arguments[0];"))


class DemoSource:
    """The bundled JavaScript address site; by default read straight from the repository."""

    name = "demo"
    default_url = DEMO_INDEX.as_uri()

    def __init__(self, url=None):
        self.url = url or self.default_url

    def index(self):
        """What the page's index holds (demo_index.UNKNOWN's keys); all null for a page that
        is not on this machine. ValueError when its about.json is malformed."""
        return read_about(index_dir(self.url))

    def open(self, driver):
        """Load the site; returns once its data is loaded. Not the demo site -> UpstreamError."""
        self.load(driver)
        self.wait_until_ready(driver)

    def load(self, driver):
        """The first step of open(): navigate to the site (bounded by the page load timeout)."""
        try:
            driver.get(self.url)
        except TimeoutException as exc:
            raise UpstreamTimeout(f"the address site did not load within the page timeout: {exc.msg}")

    def wait_until_ready(self, driver):
        """The second step of open(): wait for the loaded page's data (bounded by the script timeout)."""
        try:
            state = driver.run_async(OPEN_SCRIPT)
        except TimeoutException as exc:
            raise UpstreamTimeout(f"the address site did not load its data within the page timeout: "
                                  f"{exc.msg}")
        except JavascriptException as exc:
            raise UpstreamError(f"the address site's page could not be read: {exc.msg}")
        check_open(state)
        # Nobody looks at a headless page: not painting its results saves a few ms per query,
        # and the script still reads them from the DOM.
        driver.execute_script("document.documentElement.style.display = 'none'")

    @staticmethod
    def query_key(q):
        """What the page makes of q (docs/search.md): two queries with one key get one answer.
        NFC, split into words, a building number glued to a road name split off; a run of
        English words counts as one name, lower-cased without hyphens, as the page compares it
        (what the page reads in it, area names at its end and a road name, follows from that
        name alone); every other word exactly as written."""
        parts, run = [], None
        for token in _tokens(q):
            if LATIN.search(token) and not HANGUL.search(token):
                if run is None:
                    run = []
                    parts.append(run)
                run.append(token)
            else:
                run = None
                parts.append(token)
        # An English name has a letter and no Hangul, other words none or some: no key part is both.
        return " ".join(part if isinstance(part, str) else "".join(part).lower().replace("-", "")
                        for part in parts)

    def search(self, driver, q, page, per_page):
        raw = self._run(driver, SEARCH_SCRIPT, q, page, per_page)
        return parse_search(raw, q, page, per_page)

    def detail(self, driver, address_id):
        raw = self._run(driver, DETAIL_SCRIPT, address_id)
        return parse_detail(raw, address_id)

    @staticmethod
    def _run(driver, script, *args):
        """One round trip to the page, and its answer in the same message; the arguments travel
        as data, never as script source."""
        try:
            return driver.run_async(script, *args)
        except TimeoutException as exc:
            raise UpstreamTimeout(f"the address site did not answer within the page timeout: {exc.msg}")
        except JavascriptException as exc:
            raise UpstreamError(f"the address site's page failed: {exc.msg}")


def _tokens(q):
    """The page's words of q (app.js queryTokens)."""
    for token in PAGE_SEPARATORS.split(unicodedata.normalize("NFC", q)):
        glued = GLUED_NUMBER.fullmatch(token)
        if glued:
            yield from glued.groups()
        elif token:
            yield token


def check_open(state):
    """What OPEN_SCRIPT returned must describe the demo site with its data loaded."""
    if not isinstance(state, dict) or state.get("app") != "demo":
        title = state.get("title") if isinstance(state, dict) else None
        raise UpstreamError(f"not the demo address site (title {title!r})")
    if state.get("state") != "ready":
        raise UpstreamError(f"the demo address site failed to load its data (state {state.get('state')!r})")
    records = state.get("records")
    if not isinstance(records, str) or not DIGITS_PATTERN.fullmatch(records) or int(records) == 0:
        raise UpstreamError("the demo address site has no addresses")


def parse_search(raw, q, page, per_page):
    """What SEARCH_SCRIPT returned -> {"total", "results", "page_ms"}; UpstreamError when malformed."""
    raw = _check_envelope(raw, "search", {"query": q, "page": str(page), "per_page": str(per_page)})
    if raw["status"] != "ok":
        raise UpstreamError(f"the address site reported {raw['status']!r}: {raw.get('message')!r}")
    total = raw.get("total")
    if not isinstance(total, str) or not DIGITS_PATTERN.fullmatch(total):
        raise UpstreamError(f"the address site sent a malformed total: {total!r}")
    total = int(total)
    results = [_address(item) for item in raw["items"]]
    if len(results) > per_page:
        raise UpstreamError(f"the address site sent {len(results)} results for per_page {per_page}")
    if results and total < (page - 1) * per_page + len(results):
        raise UpstreamError(f"the address site sent a total ({total}) below its results")
    if len({address["id"] for address in results}) != len(results):
        raise UpstreamError("the address site sent one address twice")
    return {"total": total, "results": results, "page_ms": _elapsed(raw)}


def parse_detail(raw, address_id):
    """What DETAIL_SCRIPT returned -> ADDRESS + lat/lng/admin_code, or None when not found."""
    raw = _check_envelope(raw, "detail", {"id": address_id})
    if raw["status"] == "not-found":
        if raw["items"]:
            raise UpstreamError("the address site said not found but showed an address")
        return None
    if raw["status"] != "ok":
        raise UpstreamError(f"the address site reported {raw['status']!r}: {raw.get('message')!r}")
    if len(raw["items"]) != 1:
        raise UpstreamError(f"the address site showed {len(raw['items'])} addresses for one id")
    item = raw["items"][0]
    address = _address(item)
    if address["id"] != address_id:
        raise UpstreamError(f"the address site showed id {address['id']!r}, not {address_id!r}")
    # The page leaves out a field the data does not have: that is null; a field it shows must be valid.
    lat = _coordinate(item["lat"], "lat", 90) if item.get("lat") is not None else None
    lng = _coordinate(item["lng"], "lng", 180) if item.get("lng") is not None else None
    admin_code = item.get("admin_code")
    if admin_code is not None and (not isinstance(admin_code, str)
                                   or not ADMIN_CODE_PATTERN.fullmatch(admin_code)):
        raise UpstreamError(f"the address site sent a malformed admin_code: {admin_code!r}")
    return dict(address, lat=lat, lng=lng, admin_code=admin_code)


def _check_envelope(raw, kind, echo):
    """The parts every answer shares: the right page, the right view, and the echo of our query."""
    if not isinstance(raw, dict):
        raise UpstreamError(f"the address site's page could not be read (got {type(raw).__name__})")
    if raw.get("error") or raw.get("app") != "demo":
        raise UpstreamError(f"not the demo address site: {raw.get('error') or raw.get('app')!r}")
    if raw.get("kind") != kind:
        raise UpstreamError(f"the address site showed a {raw.get('kind')!r} view, not {kind!r}")
    if raw.get("echo") != echo:
        raise UpstreamError(f"the address site answered another query: {raw.get('echo')!r}")
    if not isinstance(raw.get("status"), str) or not isinstance(raw.get("items"), list):
        raise UpstreamError("the address site's answer has no status or items")
    return raw


def _address(item):
    if not isinstance(item, dict):
        raise UpstreamError(f"the address site sent a malformed address: {item!r}")
    address = {}
    for key in ADDRESS_KEYS:
        value = item.get(key)
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise UpstreamError(f"the address site sent a malformed {key}: {value!r}")
        value = value.strip()
        if not value and key not in OPTIONAL_TEXT:
            raise UpstreamError(f"the address site sent an empty {key}")
        address[key] = value
    if not ID_PATTERN.fullmatch(address["id"]):
        raise UpstreamError(f"the address site sent a malformed id: {address['id']!r}")
    if not ZIP_PATTERN.fullmatch(address["zip"]):
        raise UpstreamError(f"the address site sent a malformed zip: {address['zip']!r}")
    return address


def _coordinate(value, name, limit):
    try:
        number = float(value) if isinstance(value, str) else None
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or abs(number) > limit:
        raise UpstreamError(f"the address site sent a malformed {name}: {value!r}")
    return number


def _elapsed(raw):
    try:
        elapsed = float(raw.get("elapsed_ms"))
    except (TypeError, ValueError):
        raise UpstreamError(f"the address site sent a malformed elapsed time: {raw.get('elapsed_ms')!r}")
    if not math.isfinite(elapsed) or elapsed < 0:
        raise UpstreamError(f"the address site sent a malformed elapsed time: {elapsed!r}")
    return elapsed
