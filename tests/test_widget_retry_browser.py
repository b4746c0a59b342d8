"""The widget's one retry after a 503 with Retry-After, in real headless Chromium.

The page and the API are two loopback origins. The API is a small scripted server (each search
gets the next answer of a list) for the widget's side, and real nginx with the deploy config in
front of a socket nobody serves for nginx's own JSON 503: its CORS and Retry-After must reach the
page's script."""
import http.server
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support.stack import nginx_server_block
from tests.support.servers import (_port_open, free_port, install_nginx_includes, local_http_server,
                                   nginx_command, stop_process, wait_until, write_nginx_conf)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update")
RESULT = {"id": "a1", "road_address": "서울특별시 중구 세종대로 110", "jibun_address": "", "zip": "04524",
          "building": "", "english_address": "", "sido": "", "sigungu": "", "eupmyeondong": ""}
PAGE = """<!doctype html><html lang="en"><meta charset="utf-8"><title>retry</title>
<label for="address">Address</label><input id="address">
<script src="/searchaddr.js"></script>"""


class ScriptedApi:
    """Answers each POST /searchaddr1 with the next of `answers` ("busy", "ok"), with the CORS
    headers the service sends; records when each search arrived and for which query. Serve
    `handler`; `url` is where it is served."""

    def __init__(self, page_origin):
        self.page_origin = page_origin
        self.answers = []
        self.searches = []
        self.url = None
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def cors(self):
                self.send_header("Access-Control-Allow-Origin", api.page_origin)
                self.send_header("Access-Control-Expose-Headers", "Retry-After, X-Cache, Server-Timing")
                self.send_header("Vary", "Origin")

            def do_OPTIONS(self):
                self.send_response(204)
                self.cors()
                self.send_header("Access-Control-Allow-Methods", "GET, POST")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                self.end_headers()

            def do_POST(self):
                query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["q"]
                api.searches.append((time.monotonic(), query))
                answer = api.answers.pop(0) if api.answers else "ok"
                if answer == "busy":
                    status, body = 503, {"error": {"code": "busy", "message": "every browser is busy"}}
                else:
                    status, body = 200, {"query": query, "page": 1, "per_page": 10, "total": 1,
                                         "results": [RESULT], "source": "demo"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.cors()
                if status == 503:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.handler = Handler


class PageHandler(http.server.BaseHTTPRequestHandler):
    """The page and widget/searchaddr.js on their own origin."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/searchaddr.js":
            data, kind = (REPO / "widget" / "searchaddr.js").read_bytes(), "application/javascript"
        else:
            data, kind = PAGE.encode(), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def page_origin():
    with local_http_server(PageHandler) as origin:
        yield origin


@pytest.fixture
def api(page_origin):
    scripted = ScriptedApi(page_origin)
    with local_http_server(scripted.handler) as url:
        scripted.url = url
        yield scripted


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium') / 'profile'}")
    # The session's SEARCHADDR_TEST_TAG (in os.environ) marks the browser for the leak check.
    service = Service(executable_path="/usr/bin/chromedriver", env={**os.environ})
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_script_timeout(30)
        yield driver
    finally:
        driver.quit()


def search(driver, page_origin, api_url, query, then_type=None, after_ms=0):
    """Attach the widget to the page's input aimed at api_url, type `query`; optionally type
    `then_type` after `after_ms`. Returns the events the widget dispatched, once it settles."""
    driver.get(page_origin + "/")
    return driver.execute_async_script("""
        const [api, query, thenType, afterMs, done] = arguments;
        const input = document.getElementById('address');
        const events = [];
        const started = performance.now();
        for (const name of ['searchaddr:results', 'searchaddr:error', 'searchaddr:retry']) {
            input.addEventListener(name, event => {
                events.push({name: name, at: performance.now() - started,
                             kind: event.detail.kind || null, query: event.detail.query || null,
                             waitMs: event.detail.waitMs || null});
                if (name !== 'searchaddr:retry' && (!thenType || event.detail.query === thenType ||
                                                    name === 'searchaddr:error')) {
                    setTimeout(() => done(events), 300);
                }
            });
        }
        SearchAddr.attach(input, {api: api, debounceMs: 0, timeoutMs: 10000});
        input.focus();
        input.value = query;
        input.dispatchEvent(new Event('input', {bubbles: true}));
        if (thenType) {
            setTimeout(() => {
                input.value = thenType;
                input.dispatchEvent(new Event('input', {bubbles: true}));
            }, afterMs);
        }
        setTimeout(() => done(events), 15000);
    """, api_url, query, then_type, after_ms)


def test_a_503_with_retry_after_is_retried_once_and_then_answers(browser, page_origin, api):
    api.answers = ["busy", "ok"]
    events = search(browser, page_origin, api.url, "세종대로")
    assert [event["name"] for event in events] == ["searchaddr:retry", "searchaddr:results"], events
    assert events[0]["waitMs"] == 1000
    assert [query for _, query in api.searches] == ["세종대로", "세종대로"]
    assert api.searches[1][0] - api.searches[0][0] >= 0.95     # it waited as Retry-After said
    assert browser.execute_script(
        "return document.querySelectorAll('[role=option]').length") == 1


def test_a_second_503_shows_the_error_and_nothing_more_is_sent(browser, page_origin, api):
    api.answers = ["busy", "busy", "busy"]
    events = search(browser, page_origin, api.url, "세종대로")
    assert [event["name"] for event in events] == ["searchaddr:retry", "searchaddr:error"], events
    assert events[1]["kind"] == "busy"
    time.sleep(1.5)
    assert len(api.searches) == 2


def test_no_retry_for_a_query_the_visitor_has_replaced(browser, page_origin, api):
    api.answers = ["busy"]
    events = search(browser, page_origin, api.url, "세종대로", then_type="테헤란로", after_ms=300)
    assert [event["name"] for event in events] == ["searchaddr:retry", "searchaddr:results"], events
    assert events[1]["query"] == "테헤란로"
    time.sleep(1.5)      # past the first query's Retry-After: it is never asked again
    assert [query for _, query in api.searches] == ["세종대로", "테헤란로"]


def test_nginx_s_own_503_reaches_the_page_with_cors_and_retry_after(browser, page_origin, tmp_path):
    """The deploy config in front of a socket nobody serves: the widget reads nginx's JSON 503
    (CORS and Retry-After exposed), retries once after Retry-After, then reports 'busy'."""
    if shutil.which("nginx") is None:
        pytest.fail("this test needs Debian's nginx: apt-get install -y nginx")
    port = free_port()
    server = nginx_server_block(port, tmp_path / "nobody.sock")

    def with_page_origin(text):
        """The generated maps, with this page's origin (as scripts/derived-settings.py would write it)."""
        return text.replace('"~^/searchaddr1 http://127\\.0\\.0\\.1:4000$" "http://127.0.0.1:4000";',
                            f'"~^/searchaddr1 {page_origin.replace(".", chr(92) + ".")}$" "{page_origin}";')
    assert page_origin in install_nginx_includes(tmp_path, with_page_origin)["searchaddr-http.conf"]
    conf = write_nginx_conf(tmp_path, server, user="root root" if os.geteuid() == 0 else "")
    process = subprocess.Popen(nginx_command(conf), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _port_open(port) or process.poll() is not None, 10, "nginx")
        assert process.poll() is None, (tmp_path / "nginx-error.log").read_text()
        events = search(browser, page_origin, f"http://127.0.0.1:{port}", "세종대로")
    finally:
        stop_process(process)
    assert [event["name"] for event in events] == ["searchaddr:retry", "searchaddr:error"], events
    assert events[0]["waitMs"] == 2000 and events[1]["kind"] == "busy"
