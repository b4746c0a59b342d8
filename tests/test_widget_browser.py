"""The address widget in real headless Chromium, against the real service behind real nginx.

One nginx serves the built Jekyll example on two loopback ports (an allowed origin and one that
is not allowed) and passes two more ports to real uWSGI instances running wsgi_app over unix
sockets: the service as configured in the repo, and the same service whose address source is
down (for real 5xx answers).
Selenium drives Debian's Chromium through the pages; screenshots and the browser's own
timings are written to tests/artifacts/.
"""
import configparser
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.processes import TAG_ENV, free_ports, kill_tagged, stop_process, tail
from tests.support.servers import nginx_command, write_nginx_conf

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "jekyll"
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=900,820")
LANDMARK_QUERY = "태평로1가 세종대로"
LANDMARK_ROAD = "서울특별시 중구 세종대로 110"
LANDMARK_ZIP = "04524"
SERVICE_START_TIMEOUT = 90
WAIT = 60  # seconds for anything the page should show

TIMINGS = {}


# ---------------------------------------------------------------- the stack: site, service, nginx

NGINX_HTTP = """\
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/css application/javascript;
    log_format requests '$request_method $uri $status "$http_origin"';
    access_log {tmp}/nginx-access.log requests;

    server {{  # the searchaddr service
        listen 127.0.0.1:{api_port};
        location / {{
            include /etc/nginx/uwsgi_params;
            uwsgi_pass unix:{socket};
        }}
    }}
    server {{  # the service, configured with an address source that is down
        listen 127.0.0.1:{failing_api_port};
        location / {{
            include /etc/nginx/uwsgi_params;
            uwsgi_pass unix:{failing_socket};
        }}
    }}
    server {{  # the static site, on an origin the service allows
        listen 127.0.0.1:{page_port};
        root {site};
    }}
    server {{  # the same site on an origin the service does not allow
        listen 127.0.0.1:{foreign_port};
        root {site};
    }}"""


def warm_browsers():
    """Browsers the service starts before its first request: uwsgi.ini's processes x
    searchaddr.ini's [scraper] warm_browsers."""
    uwsgi = configparser.ConfigParser(strict=False, interpolation=None)
    uwsgi.read(REPO / "uwsgi.ini", encoding="utf-8")
    service = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    service.read(REPO / "searchaddr.ini", encoding="utf-8")
    return int(uwsgi["common"]["processes"]) * int(service["scraper"].get("warm_browsers", "1"))


class ServiceInstance:
    """One uWSGI running wsgi_app on its own unix socket with its own config file."""

    def __init__(self, tmp, name):
        self.name = name
        self.socket = tmp / f"{name}.sock"
        self.config = tmp / f"{name}.ini"
        self.log = tmp / f"{name}-uwsgi.log"
        self.process = None

    def write_config(self, allowed_origin, source_url=None):
        """The repo's config, with the CORS origins narrowed to one page's origin."""
        config = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
        config.optionxform = str  # path keys such as /searchaddr2 keep their case
        config.read(REPO / "searchaddr.ini", encoding="utf-8")
        for key in [key for key in config["cors"] if key.startswith("/")]:
            del config["cors"][key]
        config["cors"]["origins"] = allowed_origin
        if source_url is not None:
            config["scraper"]["url"] = source_url
        with open(self.config, "w", encoding="utf-8") as out:
            config.write(out)

    def start(self, env):
        command = ["uwsgi", "--ini", "uwsgi.ini"]
        env = {**env, "SEARCHADDR_SOCKET": str(self.socket), "SEARCHADDR_CONFIG": str(self.config)}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self):
        # SIGINT shuts uWSGI down whatever its ini says (SIGTERM reloads without die-on-term).
        stop_process(self.process, signal.SIGINT, timeout=30)


class Stack:
    def __init__(self, tmp):
        self.tmp = tmp
        self.tag = uuid.uuid4().hex
        ports = free_ports(4)
        self.api_port, self.failing_api_port, self.page_port, self.foreign_port = ports
        self.api = f"http://127.0.0.1:{self.api_port}"
        # The same service, configured with an address source that is down: real 5xx answers.
        self.failing_api = f"http://127.0.0.1:{self.failing_api_port}"
        self.page_origin = f"http://127.0.0.1:{self.page_port}"
        self.foreign_origin = f"http://127.0.0.1:{self.foreign_port}"
        self.site = tmp / "site"
        self.access_log = tmp / "nginx-access.log"
        self.service = ServiceInstance(tmp, "service")
        self.failing_service = ServiceInstance(tmp, "failing-service")
        self.nginx = None

    def env(self):
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        return {**os.environ, TAG_ENV: self.tag, "HOME": str(home)}

    def build_site(self):
        override = self.tmp / "_config.test.yml"
        # A generous request timeout: a cold browser start on a busy machine can take many seconds.
        override.write_text(json.dumps({"searchaddr": {"api": self.api, "timeout": WAIT * 1000,
                                                       "widget_dir": str(REPO / "widget")}}))
        build = subprocess.run(
            ["jekyll", "build", "--disable-disk-cache", "-s", str(EXAMPLE), "-d", str(self.site),
             "--config", f"{EXAMPLE / '_config.yml'},{override}"],
            capture_output=True, text=True, timeout=120, env=self.env())
        assert build.returncode == 0, f"jekyll build failed:\n{build.stdout}\n{build.stderr}"

    def start_services(self):
        self.service.write_config(self.page_origin)
        closed_port, = free_ports(1)
        self.failing_service.write_config(self.page_origin, source_url=f"http://127.0.0.1:{closed_port}/")
        self.service.start(self.env())
        self.failing_service.start(self.env())

    def start_nginx(self):
        conf = write_nginx_conf(self.tmp, NGINX_HTTP.format(
            tmp=self.tmp, api_port=self.api_port, socket=self.service.socket,
            failing_api_port=self.failing_api_port, failing_socket=self.failing_service.socket,
            page_port=self.page_port, foreign_port=self.foreign_port, site=self.site),
            user="root root" if os.geteuid() == 0 else "", error_level="info", connections=128)
        with open(self.tmp / "nginx-stderr.log", "wb") as log:
            self.nginx = subprocess.Popen(nginx_command(conf), env=self.env(), stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_until_ready(self):
        deadline = time.monotonic() + SERVICE_START_TIMEOUT
        waiting_for = [self.api, self.failing_api]
        last_error = None
        while waiting_for and time.monotonic() < deadline:
            for name, process, log in (
                    ("uwsgi", self.service.process, self.service.log),
                    ("uwsgi (failing source)", self.failing_service.process, self.failing_service.log),
                    ("nginx", self.nginx, self.tmp / "nginx-error.log")):
                if process.poll() is not None:
                    raise AssertionError(f"{name} exited with {process.returncode}:\n{tail(log)}")
            try:
                with urllib.request.urlopen(f"{waiting_for[0]}/healthz", timeout=5) as response:
                    if response.status == 200:
                        waiting_for.pop(0)
                        continue
            except urllib.error.HTTPError as error:
                # The failing source's service answers once its browser start has failed: "degraded".
                if waiting_for[0] == self.failing_api and error.code == 503 and b'"degraded"' in error.read():
                    waiting_for.pop(0)
                    continue
                last_error = error
            except (OSError, urllib.error.URLError) as error:
                last_error = error
            time.sleep(0.3)
        if waiting_for:
            raise AssertionError(f"no answer from {waiting_for[0]}/healthz through nginx: {last_error}\n"
                                 f"{tail(self.service.log)}\n{tail(self.tmp / 'nginx-error.log')}")
        # These tests are about the widget, not a cold start: on a loaded 2-core machine a
        # browser start can outlast page_timeout, and the first search would get 504. Wait for
        # every worker's warm-up browser (the service logs each start).
        while (self.service.log.read_text(errors="replace").count("browser started in") < warm_browsers()
               and time.monotonic() < deadline):
            time.sleep(0.3)

    def stop(self):
        stop_process(self.nginx, signal.SIGQUIT)
        self.service.stop()
        self.failing_service.stop()
        return kill_tagged(self.tag, grace=15)

    def post(self, path, body, api=None):
        """Ask the service directly (no Origin: a server-side caller) for the expected answers."""
        request = urllib.request.Request(f"{api or self.api}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def log_mark(self):
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def requests_since(self, mark):
        """(method, path, status, origin) for each request nginx logged after mark."""
        with open(self.access_log, "rb") as log:
            log.seek(mark)
            lines = log.read().decode().splitlines()
        entries = []
        for line in lines:
            method, path, status, origin = line.split(" ", 3)
            entries.append((method, path, int(status), origin.strip('"')))
        return entries


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if shutil.which("jekyll") is None or shutil.which("nginx") is None:
        pytest.fail("these tests need Debian's jekyll and nginx: apt-get install -y jekyll nginx")
    ARTIFACTS.mkdir(exist_ok=True)
    running = Stack(tmp_path_factory.mktemp("widget"))
    try:
        running.build_site()
        running.start_services()
        running.start_nginx()
        running.wait_until_ready()
        yield running
    finally:
        leftovers = running.stop()
        for name in ("service-uwsgi.log", "failing-service-uwsgi.log", "nginx-error.log",
                     "nginx-access.log"):
            if (running.tmp / name).exists():
                shutil.copy(running.tmp / name, ARTIFACTS / f"widget-{name}")
        if TIMINGS:
            (ARTIFACTS / "widget-timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")
    assert not leftovers, f"processes outlived the test stack (killed now): {leftovers}"


@pytest.fixture
def browser(stack, tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, env={**os.environ, TAG_ENV: stack.tag})
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_script_timeout(WAIT + 10)
        yield driver
    finally:
        driver.quit()


# ---------------------------------------------------------------- page helpers

def open_form(driver, origin):
    driver.get(f"{origin}/")
    search = driver.find_element(By.ID, "address")
    WebDriverWait(driver, WAIT).until(lambda _: search.get_attribute("role") == "combobox")
    return search


def type_query(driver, origin, text):
    """The form on `origin`'s page, with `text` typed into its address field; returns the field."""
    search = open_form(driver, origin)
    search.click()
    search.send_keys(text)
    return search


def status_element(driver, search):
    return driver.find_element(By.ID, search.get_attribute("aria-describedby").split()[-1])


def visible_options(driver, search):
    listbox = driver.find_element(By.ID, search.get_attribute("aria-controls"))
    if not listbox.is_displayed():
        return []
    return listbox.find_elements(By.CSS_SELECTOR, "[role=option]")


def wait_for_options(driver, search):
    return WebDriverWait(driver, WAIT).until(lambda _: visible_options(driver, search))


def field_values(driver):
    return {name: driver.find_element(By.ID, name).get_attribute("value")
            for name in ("zip", "road", "english", "lat", "lng")}


def browser_timings(driver):
    """The browser's own view of the page and of the widget's round trips (ms since navigation start)."""
    return driver.execute_script("""
        const nav = performance.getEntriesByType('navigation')[0];
        const measures = {};
        for (const m of performance.getEntriesByType('measure')) {
            if (m.name.startsWith('searchaddr:')) measures[m.name] = {start: m.startTime, duration: m.duration};
        }
        const fetches = performance.getEntriesByType('resource')
            .filter(r => r.name.includes('/searchaddr'))
            .map(r => ({path: new URL(r.name).pathname, start: r.startTime, duration: r.duration}));
        return {page_loaded: nav.loadEventEnd, dom_ready: nav.domContentLoadedEventEnd,
                measures: measures, fetches: fetches};
    """)


def requests_to(entries, method, path, origin=None):
    return [entry for entry in entries
            if entry[0] == method and entry[1] == path and (origin is None or entry[3] == origin)]


def network_messages(driver):
    """The DevTools events Chromium logged since the last read."""
    return [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]


# ---------------------------------------------------------------- tests

def test_search_and_choose_fills_the_form_through_nginx_and_uwsgi(stack, browser):
    mark = stack.log_mark()
    search = type_query(browser, stack.page_origin, LANDMARK_QUERY)
    options = wait_for_options(browser, search)

    expected = stack.post("/searchaddr1", {"q": LANDMARK_QUERY, "page": 1, "per_page": 10})
    assert [option.get_attribute("data-id") for option in options] == \
        [address["id"] for address in expected["results"]]
    assert search.get_attribute("aria-expanded") == "true"
    status = status_element(browser, search)
    assert str(expected["total"]) in status.text

    # Keyboard only: move down to the landmark; the combobox points at the active option.
    landmark_index = next(index for index, address in enumerate(expected["results"])
                          if address["road_address"] == LANDMARK_ROAD)
    for _ in range(landmark_index + 1):
        search.send_keys(Keys.ARROW_DOWN)
    active = options[landmark_index]
    assert active.get_attribute("aria-selected") == "true"
    assert search.get_attribute("aria-activedescendant") == active.get_attribute("id")
    assert LANDMARK_ROAD in active.text and LANDMARK_ZIP in active.text
    browser.save_screenshot(str(ARTIFACTS / "widget-results.png"))

    search.send_keys(Keys.ENTER)
    WebDriverWait(browser, WAIT).until(lambda _: field_values(browser)["zip"])
    detail = stack.post("/searchaddr2", {"id": expected["results"][landmark_index]["id"]})["result"]
    assert field_values(browser) == {
        "zip": LANDMARK_ZIP, "road": LANDMARK_ROAD, "english": detail["english_address"],
        "lat": str(detail["lat"]), "lng": str(detail["lng"])}
    assert detail["english_address"] and 33 < detail["lat"] < 39 and 124 < detail["lng"] < 132
    assert search.get_attribute("value") == LANDMARK_ROAD
    assert search.get_attribute("aria-expanded") == "false"
    assert browser.current_url == f"{stack.page_origin}/"  # Enter chose; it did not submit the form
    browser.save_screenshot(str(ARTIFACTS / "widget-filled.png"))

    timings = browser_timings(browser)
    assert set(timings["measures"]) >= {"searchaddr:search", "searchaddr:input-to-results",
                                        "searchaddr:detail"}
    detail_measure = timings["measures"]["searchaddr:detail"]
    timings["page_to_fields_filled"] = detail_measure["start"] + detail_measure["duration"]
    TIMINGS["first_search_and_choice"] = timings

    # What crossed the wire: one preflight, one debounced search for the whole typed query,
    # one detail call, all from the page's origin.
    entries = stack.requests_since(mark)
    preflights = requests_to(entries, "OPTIONS", "/searchaddr1", stack.page_origin)
    assert preflights and all(entry[2] == 204 for entry in preflights)
    searches = requests_to(entries, "POST", "/searchaddr1", stack.page_origin)
    assert [entry[2] for entry in searches] == [200]
    assert [entry[2] for entry in requests_to(entries, "POST", "/searchaddr2", stack.page_origin)] == [200]


def test_no_request_while_the_korean_ime_is_composing(stack, browser):
    search = open_form(browser, stack.page_origin)
    search.click()
    mark = stack.log_mark()
    # Real composition events from Chromium's input pipeline, syllable by syllable,
    # pausing longer than the debounce while the last syllable is still being composed.
    for committed, composing in (("", ["ㅅ", "세", "셎"]), ("세", ["조", "종", "종ㄷ"]),
                                 ("종", ["대", "댈"]), ("대", ["ㄹ", "로"])):
        if committed:
            browser.execute_cdp_cmd("Input.insertText", {"text": committed})
        for text in composing:
            browser.execute_cdp_cmd("Input.imeSetComposition",
                                    {"text": text, "selectionStart": len(text), "selectionEnd": len(text)})
            time.sleep(0.35)
    time.sleep(0.6)
    assert search.get_attribute("value") == "세종대로"
    assert requests_to(stack.requests_since(mark), "POST", "/searchaddr1") == []
    assert visible_options(browser, search) == []

    browser.execute_cdp_cmd("Input.insertText", {"text": "로"})  # commits the syllable
    options = wait_for_options(browser, search)
    expected = stack.post("/searchaddr1", {"q": "세종대로", "page": 1, "per_page": 10})
    assert [option.get_attribute("data-id") for option in options] == \
        [address["id"] for address in expected["results"]]
    searches = requests_to(stack.requests_since(mark), "POST", "/searchaddr1", stack.page_origin)
    assert [entry[2] for entry in searches] == [200]
    TIMINGS["search_after_ime_commit"] = browser_timings(browser)


def test_typing_on_aborts_the_request_in_flight(stack, browser):
    search = open_form(browser, stack.page_origin)
    browser.execute_cdp_cmd("Network.enable", {})
    # Real network latency in the browser keeps the first search in flight while typing goes on.
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 2000, "downloadThroughput": -1, "uploadThroughput": -1})
    browser.get_log("performance")  # the checks below read the events from here on
    search.click()
    search.send_keys("부산광역시")
    panel = browser.find_element(By.CSS_SELECTOR, ".searchaddr-panel")
    # Past the debounce: the first search is on its way, held up by the latency.
    WebDriverWait(browser, WAIT).until(lambda _: "searchaddr-busy" in panel.get_attribute("class"))
    search.send_keys(" 해운대구")
    options = wait_for_options(browser, search)

    final = stack.post("/searchaddr1", {"q": "부산광역시 해운대구", "page": 1, "per_page": 10})
    assert [option.get_attribute("data-id") for option in options] == \
        [address["id"] for address in final["results"]]
    messages = network_messages(browser)
    searches = {message["params"]["requestId"]: json.loads(message["params"]["request"]["postData"])["q"]
                for message in messages
                if message["method"] == "Network.requestWillBeSent"
                and message["params"]["request"]["method"] == "POST"
                and message["params"]["request"]["url"].endswith("/searchaddr1")}
    assert sorted(searches.values()) == ["부산광역시", "부산광역시 해운대구"]
    canceled = [searches[message["params"]["requestId"]] for message in messages
                if message["method"] == "Network.loadingFailed" and message["params"].get("canceled")
                and message["params"]["requestId"] in searches]
    assert canceled == ["부산광역시"]


def test_page_on_an_origin_the_service_does_not_allow(stack, browser):
    mark = stack.log_mark()
    search = type_query(browser, stack.foreign_origin, LANDMARK_QUERY)
    status = status_element(browser, search)
    WebDriverWait(browser, WAIT).until(lambda _: status.get_attribute("data-error"))
    assert status.get_attribute("data-error") == "cors"
    assert stack.foreign_origin in status.text and stack.api in status.text
    assert status.is_displayed()
    assert visible_options(browser, search) == []
    assert field_values(browser) == dict.fromkeys(("zip", "road", "english", "lat", "lng"), "")
    browser.save_screenshot(str(ARTIFACTS / "widget-cors-blocked.png"))

    # The service refused the preflight; the browser never sent the search itself.
    entries = stack.requests_since(mark)
    assert [entry[2] for entry in requests_to(entries, "OPTIONS", "/searchaddr1", stack.foreign_origin)] == [403]
    assert requests_to(entries, "POST", "/searchaddr1") == []
    console = " ".join(entry["message"] for entry in browser.get_log("browser"))
    assert "CORS policy" in console


def test_service_errors_and_an_unreachable_service_are_explained(stack, browser):
    search = open_form(browser, stack.page_origin)
    status = status_element(browser, search)

    # A 4xx with its JSON error, from the real service: an id that names no address.
    browser.execute_script("""
        const widget = arguments[0].searchAddr;
        widget.results = [{id: 'no_such_address_0', road_address: '없는 주소'}];
        widget.choose(0);
    """, search)
    WebDriverWait(browser, WAIT).until(lambda _: status.get_attribute("data-error"))
    assert status.get_attribute("data-error") == "addressGone"
    assert "no longer available" in status.text or "더 이상 없습니다" in status.text

    # Too long a query is refused in the page, without a request.
    mark = stack.log_mark()
    search.clear()
    search.send_keys("가" * 81)
    WebDriverWait(browser, WAIT).until(lambda _: "80" in status.text)
    assert status.get_attribute("data-error") is None
    assert requests_to(stack.requests_since(mark), "POST", "/searchaddr1") == []

    # A 5xx from the real service, whose address source is down: the status decides the message.
    try:
        stack.post("/searchaddr1", {"q": "세종대로"}, api=stack.failing_api)
        raise AssertionError("the service with its source down answered 2xx")
    except urllib.error.HTTPError as error:
        answered = (error.code, json.load(error)["error"]["code"])
    assert answered[0] >= 500
    failure = search_from_new_input(browser, stack.failing_api, "세종대로")
    assert (failure["status"], failure["code"]) == answered
    assert failure["kind"] == {502: "upstreamError", 503: "busy", 504: "upstreamTimeout"}.get(
        answered[0], "serverError")

    # Nothing listening at the API address: a network failure, not a CORS one.
    closed_port, = free_ports(1)
    failure = search_from_new_input(browser, f"http://127.0.0.1:{closed_port}", "세종대로")
    assert failure["kind"] == "network"
    assert f"http://127.0.0.1:{closed_port}" in failure["message"]


def search_from_new_input(driver, api, query):
    """Attach the widget to a fresh input aimed at api, search, and return the error it reports."""
    return driver.execute_async_script("""
        const [api, query, timeoutMs, done] = arguments;
        const input = document.createElement('input');
        document.body.appendChild(input);
        input.addEventListener('searchaddr:error', event => done(event.detail));
        input.addEventListener('searchaddr:results', () => done({kind: 'none: results arrived'}));
        SearchAddr.attach(input, {api: api, debounceMs: 0, timeoutMs: timeoutMs});
        input.focus();
        input.value = query;
        input.dispatchEvent(new Event('input', {bubbles: true}));
    """, api, query, WAIT * 1000)


COLD_STARTS = 10


def test_a_visitor_right_after_a_cold_start_gets_answers(stack, browser, progress):
    """The page is open; the service starts cold (`uwsgi --ini uwsgi.ini`, its warm-up browser
    not started yet) and the visitor types 1 s later, 10 starts in a row. Each search waits for
    the starting browser and is answered 200 with the addresses, not 503."""
    seen = []
    for _ in range(COLD_STARTS):
        stack.service.stop()
        search = open_form(browser, stack.page_origin)
        mark = stack.log_mark()
        stack.service.start(stack.env())
        started = time.monotonic()
        time.sleep(1)
        search.click()
        search.send_keys(LANDMARK_QUERY)
        options = wait_for_options(browser, search)
        shown = time.monotonic() - started
        searches = requests_to(stack.requests_since(mark), "POST", "/searchaddr1", stack.page_origin)
        seen.append(([entry[2] for entry in searches], round(shown, 1)))
        assert any(LANDMARK_ROAD in option.text for option in options)
    progress(f"cold starts: (statuses of the page's searches, seconds from start to results shown) {seen}")
    assert [statuses for statuses, _ in seen] == [[200]] * COLD_STARTS, seen
