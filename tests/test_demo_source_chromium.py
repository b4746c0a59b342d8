"""The demo source against the real demo site in real headless Chromium."""
import contextlib
import functools
import http.server
import time

import pytest

from scraper.browser import CHROMIUM, LINES
from scraper.errors import UpstreamError, UpstreamTimeout
from scraper.sources import SOURCES
from scraper.sources.demo import ADDRESS_KEYS, DEMO_INDEX, DemoSource
from tests.support.binaries import need
from tests.support.browsers import real_browser
from tests.support.servers import local_http_server
from tests.support.national_data import load as load_national_data

PAGE_TIMEOUT = 8

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def chromium_installed():
    need(CHROMIUM, "apt-get install -y chromium-headless-shell chromium-driver")


@pytest.fixture(scope="module")
def driver():
    """One real Chromium for the module; its processes carry their own tag so we check exactly them."""
    with real_browser(PAGE_TIMEOUT) as driver:
        yield driver


@pytest.fixture
def demo(driver):
    source = DemoSource()
    source.open(driver)
    return source


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves demo_site/ plus a garbage page and a page that never finishes loading in time."""

    def do_GET(self):
        if self.path == "/garbage.html":
            self._send(b"<!doctype html><title>Not an address site</title><p>Hello</p>")
        elif self.path == "/slow.html":
            time.sleep(3)
            self._send(b"<!doctype html><title>slow</title>")
        else:
            super().do_GET()

    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser gave up waiting, as the timeout test intends

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_base():
    with local_http_server(functools.partial(_Handler, directory=str(DEMO_INDEX.parent))) as url:
        yield url


def _matches(address, query):
    text = " ".join((address["road_address"], address["jibun_address"], address["building"],
                     address["english_address"])).lower()
    return all(token in text for token in query.lower().split())


def test_registry_and_default_url():
    assert SOURCES["demo"] is DemoSource
    assert DemoSource.default_url.startswith("file:///")
    assert DemoSource.default_url.endswith("/demo_site/index.html")
    assert DemoSource().url == DemoSource.default_url
    assert DemoSource("http://127.0.0.1:1/x").url == "http://127.0.0.1:1/x"


def test_search_city_hall(driver, demo):
    found = demo.search(driver, "세종대로 110", 1, 10)
    city_hall = [a for a in found["results"] if a["building"] == "서울특별시청"]
    assert len(city_hall) == 1
    assert city_hall[0]["zip"] == "04524"
    assert city_hall[0]["road_address"] == "서울특별시 중구 세종대로 110"
    assert city_hall[0]["jibun_address"] == "서울특별시 중구 태평로1가 31"
    assert city_hall[0]["english_address"] == "110 Sejong-daero, Jung-gu, Seoul"
    assert set(city_hall[0]) == set(ADDRESS_KEYS)
    assert found["total"] == len(found["results"]) >= 1
    assert 0 < found["page_ms"] < PAGE_TIMEOUT * 1000     # the page timed its work, in ms


def test_search_road_prefix_narrowed_by_sido(driver, demo):
    found = demo.search(driver, "시청", 1, 50)          # 시청로, 시청1길, ... (buildings are not searched)
    busan = demo.search(driver, "부산 시청", 1, 50)
    assert all(a["road_address"].startswith("부산광역시 ") for a in busan["results"])
    assert 0 < busan["total"] < found["total"]
    assert found["total"] > 50 and len(found["results"]) == 50
    assert all(_matches(a, "시청") for a in found["results"])


def test_pagination_and_total(driver, demo):
    first = demo.search(driver, "강남구 테헤란로4길", 1, 3)
    second = demo.search(driver, "강남구 테헤란로4길", 2, 3)
    again = demo.search(driver, "강남구 테헤란로4길", 1, 3)
    everything = demo.search(driver, "강남구 테헤란로4길", 1, 50)
    assert first["total"] == second["total"] == everything["total"] >= 7
    assert len(first["results"]) == len(second["results"]) == 3
    assert {a["id"] for a in first["results"]}.isdisjoint(a["id"] for a in second["results"])
    assert again["results"] == first["results"]
    assert everything["results"][:6] == first["results"] + second["results"]
    assert len(everything["results"]) == everything["total"]
    assert all(a["road_address"].startswith("서울특별시 강남구 테헤란로4길 ") for a in everything["results"])
    last_page = -(-everything["total"] // 3)
    past_end = demo.search(driver, "강남구 테헤란로4길", last_page + 1, 3)
    assert past_end["results"] == [] and past_end["total"] == everything["total"]


def test_whitespace_and_case_are_normalized(driver, demo):
    plain = demo.search(driver, "강남구 테헤란로", 1, 10)
    spaced = demo.search(driver, "  강남구   테헤란로 ", 1, 10)
    assert spaced["results"] == plain["results"] and spaced["total"] == plain["total"]
    upper = demo.search(driver, "SEJONG-DAERO 110", 1, 10)
    assert "서울특별시청" in {a["building"] for a in upper["results"]}


def test_empty_results(driver, demo):
    assert demo.search(driver, "존재하지않는도로명", 1, 10) == {
        "total": 0, "results": [], "page_ms": pytest.approx(0, abs=1000)}


def test_english_and_mixed_input(driver, demo):
    english = demo.search(driver, "Sejong-daero", 1, 50)
    assert english["total"] >= 2
    assert all("Sejong-daero" in a["english_address"] for a in english["results"])
    mixed = demo.search(driver, "서울 Sejong 110", 1, 10)
    assert "서울특별시청" in {a["building"] for a in mixed["results"]}
    assert all(_matches(a, "서울 sejong 110") for a in mixed["results"])


def test_detail_of_a_landmark(driver, demo):
    city_hall = demo.search(driver, "세종대로 110", 1, 1)["results"][0]
    assert city_hall["building"] == "서울특별시청"
    detail = demo.detail(driver, city_hall["id"])
    assert detail == dict(city_hall, lat=37.5663, lng=126.9779, admin_code=None)


def test_detail_of_an_address_without_a_landmark(driver, demo):
    found = demo.search(driver, "테헤란로 152", 1, 10)["results"]
    assert [(a["zip"], a["eupmyeondong"], a["jibun_address"], a["building"]) for a in found] == [
        ("06236", "역삼동", "", "")]
    assert demo.detail(driver, found[0]["id"]) == dict(found[0], lat=None, lng=None, admin_code=None)


def test_detail_unknown_id(driver, demo):
    assert demo.detail(driver, "a0000000000000000") is None
    assert demo.detail(driver, "x") is None


def test_consecutive_queries_never_mix(driver, demo):
    queries = ["세종대로 110", "강남구 테헤란로", "부산 중앙대로 1001", "Sejong-daero", "제주 문연로"]
    for _ in range(2):
        for query in queries:
            found = demo.search(driver, query, 1, 20)
            assert found["results"] and all(_matches(a, query) for a in found["results"]), query


def test_pending_render_of_another_query_is_never_read(driver):
    source = DemoSource(DemoSource.default_url + "?latency=300")
    source.open(driver)
    # Someone else's query is still pending on the page when ours is submitted.
    driver.execute_script("const form = document.getElementById('search-form');"
                          "form.elements.q.value = arguments[0]; form.requestSubmit();", "제주")
    found = source.search(driver, "부산 중앙대로 1001", 1, 10)
    assert [a["building"] for a in found["results"]] == ["부산광역시청"]


def _rendered_total_ms(driver):
    return float(driver.execute_script("return document.getElementById('results').dataset.totalMs"))


def test_latency_url_parameter(driver):
    fast = DemoSource(DemoSource.default_url + "?latency=0")
    fast.open(driver)
    fast.search(driver, "세종대로 110", 1, 10)        # the first search loads the road's index shard
    assert fast.search(driver, "세종대로 110", 1, 10)["total"] >= 1
    assert _rendered_total_ms(driver) < 20
    slow = DemoSource(DemoSource.default_url + "?latency=250")
    slow.open(driver)
    started = time.perf_counter()
    assert slow.search(driver, "세종대로 110", 1, 10)["total"] >= 1
    assert time.perf_counter() - started >= 0.25
    assert _rendered_total_ms(driver) >= 250


def test_page_timeout_is_upstream_timeout(driver):
    source = DemoSource(DemoSource.default_url + "?latency=5000")
    source.open(driver)
    driver.set_script_timeout(1)
    try:
        started = time.perf_counter()
        with pytest.raises(UpstreamTimeout):
            source.search(driver, "세종대로 110", 1, 10)
        assert time.perf_counter() - started < 4
        with pytest.raises(UpstreamTimeout):
            source.detail(driver, "a0000000000000000")
    finally:
        driver.set_script_timeout(PAGE_TIMEOUT)
    # The browser stays usable for the next page.
    DemoSource().open(driver)


def test_over_http(driver, http_base):
    source = DemoSource(f"{http_base}/index.html?latency=0")
    source.open(driver)
    found = source.search(driver, "세종대로 110", 1, 10)
    assert "서울특별시청" in {a["building"] for a in found["results"]}


def test_garbage_page_is_upstream_error(driver, http_base):
    source = DemoSource(f"{http_base}/garbage.html")
    with pytest.raises(UpstreamError):
        source.open(driver)
    with pytest.raises(UpstreamError):
        source.search(driver, "세종대로 110", 1, 10)
    with pytest.raises(UpstreamError):
        source.detail(driver, "a0000000000000000")
    with pytest.raises(UpstreamError):
        DemoSource(f"{http_base}/no-such-page.html").open(driver)


def test_slow_page_load_is_upstream_timeout(driver, http_base):
    driver.set_page_load_timeout(1)
    try:
        with pytest.raises(UpstreamTimeout):
            DemoSource(f"{http_base}/slow.html").open(driver)
    finally:
        driver.set_page_load_timeout(PAGE_TIMEOUT)
    DemoSource().open(driver)


def test_page_agrees_with_the_oracle(driver, demo):
    """The page's matching, order and fields equal the brute-force oracle's (tests/support/national_data.py)."""
    national = load_national_data()
    for query in ("강남구 테헤란로4길", "teheran-ro 4-gil", "경상북도 군위군 삼국유사면", "남창리 442-24"):
        total, positions = national.search(query)
        found = demo.search(driver, query, 1, 50)
        assert found["total"] == total > 0, query
        assert found["results"] == [national.address(p) for p in positions[:50]], query


@contextlib.contextmanager
def round_trips(driver):
    """Lists the WebDriver commands and the DevTools messages `driver` sends while it is open."""
    sent = {"webdriver": [], "devtools": []}
    execute, page = driver.execute, driver.page
    driver.execute = lambda command, params=None: sent["webdriver"].append(command) or execute(command, params)
    if page is not None:
        send = page._send
        page._send = lambda method, *rest: sent["devtools"].append(method) or send(method, *rest)
    try:
        yield sent
    finally:
        del driver.execute
        if page is not None:
            del page._send


@pytest.mark.parametrize("line", LINES)
def test_a_query_is_one_round_trip_on_its_line(line):
    """On the DevTools line a search or a detail is one message straight to the page and no
    WebDriver command (the first of each on a page also has the page compile its function);
    on the WebDriver line, one WebDriver command."""
    with real_browser(PAGE_TIMEOUT, line=line) as driver:
        assert driver.line == line
        source = DemoSource(DemoSource.default_url + "?latency=0")
        source.open(driver)
        with round_trips(driver) as first:
            city_hall = source.search(driver, "세종대로 110", 1, 10)["results"][0]
            assert source.detail(driver, city_hall["id"])["admin_code"] is None
        with round_trips(driver) as sent:
            assert source.search(driver, "테헤란로 152", 1, 10)["total"] == 1
            assert source.detail(driver, city_hall["id"])["id"] == city_hall["id"]
        if line == "devtools":
            assert first == {"webdriver": [], "devtools": ["Runtime.evaluate", "Runtime.callFunctionOn"] * 2}
            assert sent == {"webdriver": [], "devtools": ["Runtime.callFunctionOn"] * 2}
        else:
            assert first == sent == {"webdriver": ["w3cExecuteScriptAsync"] * 2, "devtools": []}


@pytest.mark.parametrize("line", LINES)
def test_hostile_queries_reach_the_page_as_data(line):
    """The page echoes each query exactly (parse_search checks the echo): quotes, backticks, a
    closing script tag and code never become script text on either line."""
    with real_browser(PAGE_TIMEOUT, line=line) as driver:
        source = DemoSource(DemoSource.default_url + "?latency=0")
        source.open(driver)
        for q in ('"); throw new Error("x"); ("', "`${globalThis.boom()}`", "</script><script>1",
                  "\\u0022 세종대로", "'); done({}); ('"):
            assert source.search(driver, q, 1, 10)["total"] == 0, q
        assert source.search(driver, "세종대로 110", 1, 10)["total"] == 1


def test_the_devtools_line_finds_a_new_document():
    """After a navigation the source did not make, the first query finds its function gone with
    the old document, has the new one compile it, and answers; the next is one message again."""
    with real_browser(PAGE_TIMEOUT, line="devtools") as driver:
        source = DemoSource(DemoSource.default_url + "?latency=0")
        source.open(driver)
        assert source.search(driver, "세종대로 110", 1, 10)["total"] == 1
        driver.refresh()
        with round_trips(driver) as sent:
            assert source.search(driver, "세종대로 110", 1, 10)["total"] == 1
            assert source.search(driver, "테헤란로 152", 1, 10)["total"] == 1
        assert sent["webdriver"] == []
        # The call that found its function gone, the compile, then the two queries.
        assert sent["devtools"] == ["Runtime.callFunctionOn", "Runtime.evaluate",
                                    "Runtime.callFunctionOn", "Runtime.callFunctionOn"]
