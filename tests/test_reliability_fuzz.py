"""Fuzzing the WSGI callable with hypothesis: whatever arrives, the answer is the contract's JSON.

The bulk runs against the real app wired to a fake pool (milliseconds per input); a smaller run
drives real Chromium on the bundled demo site, and checks that no query can make the browser
visit another host. Counts land in tests/artifacts/reliability-fuzz.json.
"""
import http.server
import io
import json
import logging
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from config import load_config
from answers.caches import MemoryCache
from scraper.pool import BrowserPool
from scraper.sources.demo import DemoSource
from tests.support.browsers import wait_for_no_browsers
from tests.support.config import write_config
from tests.support.fakes import FakePool, FakeSource
from tests.support.report import record_counts
from tests.support.servers import local_http_server
from wsgi_app import build_app

ALLOWED = ("https://blog.example.com", "http://localhost:4000")
CORS_PATHS = ("/searchaddr1", "/searchaddr2")
ERROR_CODES = {
    400: {"invalid_param", "invalid_json", "invalid_encoding"},
    403: {"cors_rejected"},
    404: {"not_found", "address_not_found"},
    405: {"method_not_allowed"},
    413: {"payload_too_large"},
    415: {"unsupported_media_type"},
}
COUNTS = {"wsgi_inputs": 0, "wsgi_statuses": {}, "chromium_inputs": 0, "chromium_statuses": {},
          "canary_hits": 0}


# ---------------------------------------------------------------- calling the app with raw environs

class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header_values(self, name):
        return [value for key, value in self.headers if key.lower() == name.lower()]


def call_raw(app, method, path, query=b"", body=b"", content_type=None, content_length="auto",
             headers=()):
    """One request as a WSGI server would hand it over: strings carry bytes as latin-1."""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path.decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if content_length == "auto":
        if body:
            environ["CONTENT_LENGTH"] = str(len(body))
    elif content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = status
        started["headers"] = response_headers

    chunks = app(environ, start_response)
    try:
        body_out = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return Answer(int(started["status"].split()[0]), started["headers"], body_out), environ


def check_contract(answer, method, path, origin, preflight):
    """What every answer must be, whatever the request was."""
    status = answer.status
    assert status < 500, f"{status} for {method} {path!r}: {answer.body[:300]!r}"
    assert b"Traceback" not in answer.body
    if status == 204 or method == "HEAD":
        assert answer.body == b""
    else:
        content_types = answer.header_values("Content-Type")
        assert content_types and content_types[0].split(";")[0] == "application/json", content_types
        document = json.loads(answer.body.decode("utf-8"))
        if status >= 400:
            assert set(document) == {"error"}
            error = document["error"]
            assert set(error) <= {"code", "message", "field"} and {"code", "message"} <= set(error)
            assert error["code"] in ERROR_CODES[status], (status, error)
            assert isinstance(error["message"], str) and error["message"]
            if error["code"] == "invalid_param" and "field" in error:
                assert isinstance(error["field"], str)
        if status == 405:
            assert answer.header_values("Allow")
    path_text = path.decode("latin-1")
    acao = answer.header_values("Access-Control-Allow-Origin")
    if path_text in CORS_PATHS:
        assert answer.header_values("Vary") and "Origin" in answer.header_values("Vary")[0]
        if origin is None:
            assert not acao
        elif origin not in ALLOWED:
            assert status == 403 and not acao
            assert not [k for k, _ in answer.headers if k.lower().startswith("access-control-allow")]
        elif preflight and status == 403:
            assert not acao
        else:
            assert acao == [origin], (origin, acao, status)
    else:
        assert not acao


@pytest.fixture(scope="module")
def fake_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "searchaddr.ini"
    config = load_config(write_config(path, cors={"origins": " ".join(ALLOWED)}))
    return build_app(config, FakePool(FakeSource(), 4), MemoryCache(1000, 300))


@pytest.fixture(scope="module", autouse=True)
def write_counts():
    yield
    record_counts("fuzz", COUNTS)


@pytest.fixture(autouse=True)
def no_internal_errors(caplog):
    """The app logs every 500 with its traceback: a fuzz run must log none."""
    with caplog.at_level(logging.ERROR, logger="searchaddr"):
        yield
    internal = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not internal, internal[0].getMessage()


def tally(key, status):
    COUNTS[key] = COUNTS.get(key, 0) + 1
    statuses = COUNTS[key.replace("inputs", "statuses")]
    statuses[str(status)] = statuses.get(str(status), 0) + 1


# ---------------------------------------------------------------- strategies

METHODS = st.one_of(
    st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT",
                     "get", "Post", ""]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12))

PATHS = st.one_of(
    st.sampled_from([b"/searchaddr1", b"/searchaddr2", b"/healthz", b"/", b"", b"/searchaddr1/",
                     b"/SEARCHADDR1", b"//searchaddr1", b"/searchaddr1%00", b"/searchaddr3",
                     b"/healthz/", b"/searchaddr1/../healthz", b"/\xff\xfe", b"/\xed\x95\x9c"]),
    st.binary(max_size=300).map(lambda raw: b"/" + raw))

# Values: text as UTF-8, bytes that are not UTF-8, broken escapes, huge and control characters.
PARAM_VALUES = st.one_of(
    st.text(max_size=100).map(lambda t: quote_from_bytes(t.encode("utf-8", "surrogatepass")).encode()),
    st.binary(max_size=60).map(lambda b: quote_from_bytes(b).encode()),
    st.sampled_from([b"%", b"%G1", b"%e", b"%E1%84", b"%ff%fe", b"%C0%80", b"%ED%A0%80", b"%00",
                     b"%0A%0D", b"+", b"%2B", b"a" * 81, b"ab", b"1", b"0", b"101", b"-1", b"1e3",
                     b"999999999999", b"%EC%84%B8%EC%A2%85%EB%8C%80%EB%A1%9C", b"A1114010300110",
                     b"a" * 65, b"id-_", b"%E2%80%8B"]),
    st.integers(min_value=0, max_value=200_000).map(lambda n: b"x" * n))
PARAM_NAMES = st.sampled_from([b"q", b"page", b"per_page", b"id", b"Q", b"q[]", b"", b"%71", b"x"])
# Mostly well-formed searches, so the 200 path is fuzzed as much as the refusals.
VALID_LOOKING = st.builds(
    lambda q, page, per_page, address_id: b"&".join(part for part in (
        b"q=" + quote_from_bytes(q.encode("utf-8", "surrogatepass")).encode(),
        page and b"page=" + str(page).encode(), per_page and b"per_page=" + str(per_page).encode(),
        address_id and b"id=" + address_id.encode()) if part),
    st.text(min_size=1, max_size=90), st.one_of(st.none(), st.integers(0, 101)),
    st.one_of(st.none(), st.integers(0, 51)),
    st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)))
QUERIES = st.one_of(
    VALID_LOOKING,
    st.lists(st.tuples(PARAM_NAMES, st.one_of(st.none(), PARAM_VALUES)), max_size=8).map(
        lambda pairs: b"&".join(name if value is None else name + b"=" + value
                                for name, value in pairs)),
    st.binary(max_size=500),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.text(max_size=100))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children, max_size=5)),
    max_leaves=20)
JSON_PARAMS = st.dictionaries(st.sampled_from(["q", "page", "per_page", "id", "x"]), JSON_VALUES,
                              max_size=4)


def _deep(depth):
    return "[" * depth + "]" * depth


BODIES = st.one_of(
    st.binary(max_size=2000),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    JSON_PARAMS.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    QUERIES,
    st.sampled_from([b'{"q": "ab", "q": "cd"}', b'{"q": NaN}', b'{"page": Infinity}', b"[]",
                     b'"q"', b"null", b'{"q": "\\ud800ab"}', b'{"q": "\\u0000ab"}', b"\xef\xbb\xbf{}",
                     _deep(100_000).encode(), b'{"q": "' + b"a" * 20000 + b'"}',
                     b"q=" + b"a" * 16384, b'{"id": "A1114010300110"}']),
    st.integers(min_value=16 * 1024 - 2, max_value=64 * 1024).map(lambda n: b"{" + b" " * (n - 2) + b"}"))

CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "application/json; charset=utf-8",
                     "application/json; charset=latin-1", "APPLICATION/JSON;CHARSET=\"UTF-8\"",
                     "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
                     "multipart/form-data; boundary=x", "text/plain", "", ";", "application/json;;",
                     "application/json; charset", "application/json; charset=utf-8; charset=koi8-r"]),
    st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=60))

CONTENT_LENGTHS = st.one_of(
    st.just("auto"), st.none(),
    st.sampled_from(["", " ", "abc", "-1", "0", "1", "16384", "16385", "99999999999999999999",
                     "1e3", "0x10", " 12 ", "١٢"]))

ORIGINS = st.one_of(
    st.none(),
    st.sampled_from(list(ALLOWED) + [
        "https://blog.example.com/", "https://BLOG.example.com", "http://blog.example.com",
        "https://blog.example.com:443", "https://blog.example.com.evil.test", "null", "*", "",
        "https://blog.example.com, https://evil.test", "http://localhost:4001", "file://",
        "https://evil.test", "https://xn--9n2bp8q.example", "https://blog.example.com\r\nX: y",
        "https://" + "a" * 10000 + ".test"]),
    st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=80))

HEADERS = st.lists(st.tuples(
    st.sampled_from(["Access-Control-Request-Method", "Access-Control-Request-Headers",
                     "Transfer-Encoding", "Accept", "Accept-Encoding", "Cookie", "X-Forwarded-For",
                     "Host", "Content-Encoding", "Expect"]),
    st.one_of(st.sampled_from(["GET", "POST", "PUT", "chunked", "gzip", "Content-Type",
                               "content-type, x-evil", "", "100-continue", "*"]),
              st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=60))),
    max_size=4)


# ---------------------------------------------------------------- WSGI fuzz with the fake pool

@pytest.mark.slow
@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(method=METHODS, path=PATHS, query=QUERIES, body=BODIES, content_type=CONTENT_TYPES,
       content_length=CONTENT_LENGTHS, origin=ORIGINS, headers=HEADERS)
def test_any_request_gets_the_contracts_json(fake_app, method, path, query, body, content_type,
                                             content_length, origin, headers):
    extra = list(headers)
    if origin is not None:
        extra.append(("Origin", origin))
    answer, environ = call_raw(fake_app, method, path, query, body, content_type, content_length,
                               extra)
    tally("wsgi_inputs", answer.status)
    preflight = method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
    check_contract(answer, method, path, origin, preflight)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from([b"/searchaddr1", b"/searchaddr2"]), method=st.sampled_from(["GET", "POST"]),
       query=QUERIES, body=BODIES, content_type=CONTENT_TYPES, origin=st.sampled_from([None, *ALLOWED]))
def test_search_paths_answer_200_or_a_named_client_error(fake_app, path, method, query, body,
                                                         content_type, origin):
    """Focused on the two search endpoints: the parameters decide, and a 400 names its field."""
    headers = [("Origin", origin)] if origin else []
    answer, _ = call_raw(fake_app, method, path, query if method == "GET" else b"",
                         body if method == "POST" else b"", content_type, "auto", headers)
    tally("wsgi_inputs", answer.status)
    check_contract(answer, method, path, origin, False)
    assert answer.status in (200, 400, 404, 413, 415), answer.status
    document = json.loads(answer.body)
    if answer.status == 200 and path == b"/searchaddr1":
        assert set(document) == {"query", "page", "per_page", "total", "results", "source"}
        assert 2 <= len(document["query"]) <= 80
        assert 1 <= document["page"] <= 100 and 1 <= document["per_page"] <= 50
    if answer.status == 400 and document["error"]["code"] == "invalid_param":
        # A known parameter's own problem, or any parameter given twice, names that parameter.
        assert isinstance(document["error"].get("field"), str)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(origins=st.lists(st.one_of(st.sampled_from([
    "https://blog.example.com", "*", "null", "http://a.test:0", "http://a.test:65536", "ftp://a.test",
    "https://a.test/", "https://a.test/path", "https://user@a.test", "https://a.test?x", "https://a.test#",
    "https://", "a.test", "http://[::1]:4000", "http://[::1", "https://a.test:443"]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=",;#"), min_size=1,
            max_size=40)), min_size=1, max_size=4),
    credentials=st.booleans())
def test_cors_config_is_accepted_only_when_every_origin_is_an_origin(tmp_path_factory, origins,
                                                                     credentials):
    """A CORS config mistake stops start-up with a message naming the key; it is never half-applied."""
    from config import ConfigError
    from cors import CorsPolicy, serialize_origin
    path = write_config(tmp_path_factory.mktemp("cors") / "searchaddr.ini",
                        cors={"origins": " ".join(origins),
                              "allow_credentials": "true" if credentials else "false"})
    COUNTS["cors_configs"] = COUNTS.get("cors_configs", 0) + 1
    try:
        config = load_config(path)
        policy = CorsPolicy(config.cors)
    except ConfigError as error:
        assert "[cors]" in str(error), error
        COUNTS["cors_configs_refused"] = COUNTS.get("cors_configs_refused", 0) + 1
        return
    for origin in origins:
        serialized = serialize_origin(origin, "test")
        assert serialized in ("*", "null") or urlsplit(serialized).hostname
        if serialized == "*":
            assert not credentials
    for rule in policy.rules.values():
        assert rule.origins


# ---------------------------------------------------------------- a smaller fuzz with real Chromium

class Canary(http.server.BaseHTTPRequestHandler):
    """A loopback server named in hostile queries: any request to it means the browser left the site."""
    hits = []

    def do_GET(self):
        Canary.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def canary():
    with local_http_server(Canary) as url:
        yield url


@pytest.fixture(scope="module")
def chromium_app(tmp_path_factory):
    config = load_config(write_config(tmp_path_factory.mktemp("chromium") / "searchaddr.ini",
                                      cors={"origins": " ".join(ALLOWED)},
                                      scraper={"browsers": "1", "page_timeout": "8"},
                                      cache={"size": "0"}))
    pool = BrowserPool(DemoSource(), size=1, page_timeout=8)
    try:
        yield build_app(config, pool, MemoryCache(0, 0)), pool
    finally:
        pool.close()
        assert wait_for_no_browsers() == []


def hostile_queries(canary):
    return st.one_of(
        st.text(min_size=2, max_size=80),
        st.sampled_from([
            f"{canary}/q", f"<img src={canary}/img>", f"<script>fetch('{canary}/s')</script>",
            f"\"><iframe src={canary}/f>", f"javascript:location='{canary}/j'", f"'); location.href='{canary}/l'; //",
            f"`${{fetch('{canary}/t')}}`", "\\\"]); window.location='http://169.254.169.254/'//",
            f"</td><a href={canary}/a>x", "세종대로 110", "((((((((((((", ".*" * 20, "[a-", "\\",
            f"{{{{constructor.constructor('fetch(\"{canary}/c\")')()}}}}", "%00ab", "ab" * 40]))


@pytest.mark.integration
@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_real_chromium_search_never_fails_and_never_leaves_the_site(chromium_app, canary, data):
    app, pool = chromium_app
    q = data.draw(hostile_queries(canary), label="q")
    method = data.draw(st.sampled_from(["GET", "POST"]), label="method")
    page = data.draw(st.integers(1, 3), label="page")
    if method == "GET":
        query = f"q={quote_from_bytes(q.encode('utf-8', 'surrogatepass'))}&page={page}".encode()
        answer, _ = call_raw(app, "GET", b"/searchaddr1", query)
    else:
        body = json.dumps({"q": q, "page": page}).encode()
        answer, _ = call_raw(app, "POST", b"/searchaddr1", body=body, content_type="application/json")
    tally("chromium_inputs", answer.status)
    check_contract(answer, method, b"/searchaddr1", None, False)
    assert answer.status in (200, 400), answer.body[:300]
    if answer.status == 200:
        document = json.loads(answer.body)
        assert document["source"] == "demo" and document["page"] == page
        assert len(document["results"]) <= 10
    for member in list(pool._open):
        assert member.driver.current_url == DemoSource.default_url
    assert Canary.hits == []


@pytest.mark.integration
def test_real_chromium_detail_fuzz_and_no_request_left_the_site(chromium_app, canary):
    """Ids are validated before the browser sees them; hostile ones never reach the page."""
    app, pool = chromium_app
    statuses = {}
    for raw_id in ["k1wm84", "x", "a" * 64, "a" * 65, f"{canary}/d", "../../etc/passwd",
                   "<img src=x>", "id%00", "%ff", "", "0" * 64, "-_-"]:
        answer, _ = call_raw(app, "GET", b"/searchaddr2", b"id=" + raw_id.encode())
        tally("chromium_inputs", answer.status)
        check_contract(answer, "GET", b"/searchaddr2", None, False)
        statuses[raw_id] = answer.status
        assert answer.status in (200, 400, 404)
    assert statuses["a" * 65] == 400 and statuses[f"{canary}/d"] == 400
    assert statuses["0" * 64] == 404
    COUNTS["canary_hits"] = len(Canary.hits)
    assert Canary.hits == []
    for member in list(pool._open):
        assert member.driver.current_url == DemoSource.default_url
