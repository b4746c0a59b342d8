"""The running stack (real nginx -> real uWSGI unix socket -> wsgi_app -> real Chromium) under
malformed HTTP, oversize and slow requests, and SIGTERM during load. Loopback only, bounded.
Counts land in tests/artifacts/reliability-stack.json.
"""
import json
import signal
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.support.processes import tagged_processes, wait_until
from tests.support.rawhttp import exchange
from tests.support.report import record_counts
from tests.support.stack import Load, Stack, browsers_of, request, search_path, tally, zombies_of

pytestmark = pytest.mark.integration

HOST = b"Host: 127.0.0.1\r\n"
CLOSE = b"Connection: close\r\n"
COUNTS = {"raw_cases": {}, "raw_fuzz_inputs": 0, "raw_fuzz_statuses": {}}
JSON_ERRORS = {400, 403, 404, 405, 413, 415}


@pytest.fixture(scope="module", autouse=True)
def write_counts():
    yield
    record_counts("stack", COUNTS)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("stack"), client_timeout=3)
    left = []
    try:
        running.start()
        yield running
    finally:
        left = running.stop()
    assert not left, f"processes outlived the stack (killed now): {left}"


def still_answers(stack):
    """A health check and a real search through the whole stack."""
    health = request(stack.port, "GET", "/healthz", timeout=10)
    search = request(stack.port, "GET", "/searchaddr1?q=%EC%84%B8%EC%A2%85%EB%8C%80%EB%A1%9C",
                     timeout=30)
    assert health.status == 200, health.label
    assert search.status == 200, (search.label, search.body[:200])
    assert search.json()["total"] > 0


def get(target, *headers, method=b"GET", body=b""):
    head = method + b" " + target + b" HTTP/1.1\r\n" + HOST + b"".join(h + b"\r\n" for h in headers)
    return [head + CLOSE + b"\r\n" + body]


# (name, request pieces, statuses that are right, whether the body must be the contract's JSON)
MALFORMED = [
    ("path bytes not UTF-8 (escaped)", get(b"/%80"), {400, 404}, True),
    ("path bytes not UTF-8 (raw)", get(b"/\xff\xfe"), {400, 404}, True),
    ("query bytes not UTF-8", get(b"/searchaddr1?q=%ff%fe"), {400}, True),
    ("broken percent escape", get(b"/searchaddr1?q=%E1%8&page=%G1"), {400}, True),
    ("cookie of 6 KB", get(b"/healthz", b"Cookie: " + b"a" * 6000), {200}, False),
    ("100 headers", get(b"/healthz", *[b"X-H%d: %s" % (i, b"v" * 40) for i in range(100)]), {200}, False),
    ("URI of 7 KB", get(b"/searchaddr1?x=" + b"a" * 7000), {400}, True),
    ("URI of 9 KB", get(b"/searchaddr1?q=" + b"a" * 9000), {414}, True),
    ("three headers of 7 KB", get(b"/healthz", *[b"X-Big%d: %s" % (i, b"a" * 7000) for i in range(3)]),
     {200, 400, 431, 494}, False),
    ("cookie of 16 KiB", get(b"/healthz", b"Cookie: " + b"a" * 16384), {200}, False),
    ("header line of 30 KB", get(b"/healthz", b"X-Big: " + b"a" * 30000), {400}, True),
    ("body over 16 KiB", get(b"/searchaddr1", b"Content-Type: application/json",
                             b"Content-Length: 17000", method=b"POST", body=b" " * 17000), {413}, True),
    ("chunked body over 16 KiB", get(b"/searchaddr1", b"Content-Type: application/json",
                                     b"Transfer-Encoding: chunked", method=b"POST",
                                     body=b"4268\r\n" + b" " * 17000 + b"\r\n0\r\n\r\n"), {413}, True),
    ("body over nginx's 64 KiB", get(b"/searchaddr1", b"Content-Type: application/json",
                                     b"Content-Length: 70000", method=b"POST", body=b" " * 70000), {413}, False),
    ("Content-Length not a number", get(b"/searchaddr1", b"Content-Length: abc", method=b"POST"), {400}, False),
    ("two Content-Lengths", get(b"/searchaddr1", b"Content-Length: 2", b"Content-Length: 3",
                                method=b"POST", body=b"ab"), {400}, False),
    ("Content-Length with chunked", get(b"/searchaddr1", b"Content-Length: 4", b"Transfer-Encoding: chunked",
                                        method=b"POST", body=b"0\r\n\r\n"), {400}, False),
    ("bad chunk size", get(b"/searchaddr1", b"Content-Type: application/json", b"Transfer-Encoding: chunked",
                           method=b"POST", body=b"zz\r\n{}\r\n0\r\n\r\n"), {400}, False),
    ("TLS hello on plain HTTP", [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40], {400}, False),
    ("HTTP/0.9", [b"GET /\r\n"], {0, 400}, False),
    ("HTTP/9.9", [b"GET /healthz HTTP/9.9\r\n\r\n"], {505}, False),
    ("no Host in HTTP/1.1", [b"GET /healthz HTTP/1.1\r\n" + CLOSE + b"\r\n"], {400}, False),
    ("NUL in a header", get(b"/healthz", b"X: a\x00b"), {400}, False),
    ("header without colon", get(b"/healthz", b"garbage line"), {400}, False),
    ("path traversal", get(b"/../../etc/passwd"), {400}, False),
    ("unknown method", get(b"/searchaddr1", method=b"FOO"), {405}, True),
    ("HEAD on a search path", get(b"/searchaddr1?q=ab", method=b"HEAD"), {405}, False),
    ("absolute URI naming another host", get(b"http://169.254.169.254/searchaddr1?q=" + b"%EC%84%B8%EC%A2%85"),
     {200}, False),
    ("non-ASCII Origin", get(b"/searchaddr1?q=ab", b"Origin: https://\xeb\xb8\x94.example"), {403}, True),
    ("two Origins, one foreign", get(b"/searchaddr1?q=ab", b"Origin: https://blog.example.com",
                                     b"Origin: https://evil.test"), {403}, True),
    ("JSON nested 100,000 deep", get(b"/searchaddr1", b"Content-Type: application/json",
                                     b"Content-Length: 16000", method=b"POST",
                                     body=b"[" * 8000 + b"]" * 8000), {400}, True),
    ("pipelined requests", [b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n"
                            b"GET /nope HTTP/1.1\r\n" + HOST + CLOSE + b"\r\n"], {200}, False),
]


@pytest.mark.parametrize("name, pieces, expected, json_body", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_http_is_refused_without_a_server_error(stack, name, pieces, expected, json_body):
    answer = exchange(stack.port, pieces, timeout=30)
    COUNTS["raw_cases"][name] = answer.status
    assert not answer.timed_out, f"{name}: no answer within 30 s"
    assert answer.status in expected, f"{name}: {answer.status}\n{answer.raw[:400]!r}"
    if json_body:
        assert answer.header("Content-Type").startswith("application/json")
        error = json.loads(answer.body)["error"]
        assert error["code"] and error["message"]


def test_still_answers_after_the_malformed_requests(stack):
    still_answers(stack)


REQUEST_LINES = st.tuples(
    st.sampled_from([b"GET", b"POST", b"OPTIONS", b"HEAD", b"PUT", b"get", b"G\x00T", b""]),
    st.one_of(st.sampled_from([b"/searchaddr1", b"/searchaddr2", b"/healthz", b"*", b"/"]),
              st.binary(min_size=1, max_size=200).map(lambda b: b"/" + b.replace(b" ", b"%20")
                                                      .replace(b"\r", b"").replace(b"\n", b""))),
    st.one_of(st.just(b""), st.binary(max_size=200).map(lambda b: b"?" + b.replace(b" ", b"+")
                                                         .replace(b"\r", b"").replace(b"\n", b""))),
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.1", b"HTTP/2.0", b"HTTP/1.1 x"]))
HEADER_LINES = st.lists(st.one_of(
    st.sampled_from([b"Content-Type: application/json", b"Content-Type: application/x-www-form-urlencoded",
                     b"Origin: https://blog.example.com", b"Origin: null", b"Origin: https://evil.test",
                     b"Access-Control-Request-Method: POST", b"Access-Control-Request-Headers: x-a, content-type",
                     b"Expect: 100-continue", b"Transfer-Encoding: gzip", b"Content-Encoding: gzip"]),
    st.tuples(st.binary(min_size=1, max_size=30), st.binary(max_size=200)).map(
        lambda kv: kv[0].replace(b"\r", b"").replace(b"\n", b"").replace(b":", b"") + b": "
        + kv[1].replace(b"\r", b"").replace(b"\n", b""))), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(line=REQUEST_LINES, headers=HEADER_LINES, body=st.binary(max_size=3000))
def test_random_requests_over_raw_sockets(stack, line, headers, body):
    method, path, query, version = line
    head = method + b" " + path + query + b" " + version + b"\r\n" + HOST
    head += b"".join(h + b"\r\n" for h in headers)
    head += b"Content-Length: %d\r\n" % len(body) + CLOSE + b"\r\n"
    answer = exchange(stack.port, [head + body], timeout=20)
    COUNTS["raw_fuzz_inputs"] += 1
    COUNTS["raw_fuzz_statuses"][str(answer.status)] = COUNTS["raw_fuzz_statuses"].get(str(answer.status), 0) + 1
    assert not answer.timed_out
    # nginx itself answers 501 to a Transfer-Encoding it does not implement, and 505 to an
    # HTTP version it does not support: refusals of the protocol, not server errors.
    assert answer.status < 500 or answer.status in (501, 505), answer.raw[:400]
    content_type = answer.header("Content-Type") or ""
    if content_type.startswith("application/json") and answer.body:
        document = json.loads(answer.body)
        if answer.status >= 400:
            assert document["error"]["code"]


def test_still_answers_after_the_random_requests(stack):
    still_answers(stack)


def test_slow_and_partial_clients_do_not_hold_the_service(stack):
    """nginx buffers bodies and times out stalled clients, so uWSGI never waits on them."""
    stalled = []
    stop = threading.Event()

    def slow_body():
        head = get(b"/searchaddr1", b"Content-Type: application/json", b"Content-Length: 400",
                   method=b"POST")[0]
        # One byte every 0.25 s for 6 s, then silence: nginx holds it, uWSGI never sees it.
        stalled.append(exchange(stack.port, [head] + [b" "] * 24, timeout=15, pause=0.25))

    def partial_headers():
        stalled.append(exchange(stack.port, [b"GET /healthz HTTP/1.1\r\n", HOST, b"X-Slow: 1\r\n"],
                                timeout=15, pause=0.5))

    threads = [threading.Thread(target=slow_body) for _ in range(20)]
    threads += [threading.Thread(target=partial_headers) for _ in range(20)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        answers = [request(stack.port, "GET", "/healthz", timeout=5) for _ in range(20)]
        search = request(stack.port, "GET", "/searchaddr1?q=%EA%B0%95%EB%82%A8%EA%B5%AC", timeout=20)
    finally:
        stop.set()
        for thread in threads:
            thread.join(20)
    assert [a.status for a in answers] == [200] * 20
    assert max(a.seconds for a in answers) < 1.0, max(a.seconds for a in answers)
    assert search.status == 200
    # nginx gave up on each stalled client after client_*_timeout (3 s) of silence.
    assert len(stalled) == 40 and all(not a.timed_out for a in stalled)
    assert max(a.seconds for a in stalled) < 6 + 3 + 2
    COUNTS["slow_clients"] = {"stalled": len(stalled), "closed_by_nginx_within_s":
                              round(max(a.seconds for a in stalled), 2),
                              "healthz_max_s_meanwhile": round(max(a.seconds for a in answers), 3)}
    still_answers(stack)


# ---------------------------------------------------------------- SIGTERM under load

def test_sigterm_to_the_uwsgi_master_under_load_stops_everything(tmp_path):
    stack = Stack(tmp_path, cache={"size": "0"})
    load = None
    left = []
    try:
        stack.start()
        load = Load(stack.port, 20, lambda rng: ("GET", search_path(rng), None, None),
                    max_requests=5000, max_seconds=40, timeout=20).start()
        wait_until(lambda: sum(o.status == 200 for o in load.snapshot()) >= 40, 30)
        assert browsers_of(stack.tag), "load did not start any browser"
        before = len(load.snapshot())
        sent_at = time.monotonic()
        stack.uwsgi.send_signal(signal.SIGTERM)
        stack.uwsgi.wait(30)
        exit_seconds = time.monotonic() - sent_at
        browsers_gone = wait_until(lambda: not browsers_of(stack.tag), 5)
        left_browsers = [f"{p.info['name']}:{p.pid}" for p in browsers_of(stack.tag)]
        zombies = zombies_of(stack.tag)
        outcomes = load.stop()
        after = [o for o in outcomes if o.ended >= sent_at]
        in_flight = [o for o in outcomes if o.started < sent_at <= o.ended]
        COUNTS["sigterm"] = {"exit_seconds": round(exit_seconds, 2), "requests_before": before,
                             "in_flight_at_signal": tally(in_flight),
                             "outcomes_after_signal": tally(after), "all_outcomes": tally(outcomes)}
        assert exit_seconds < 10, exit_seconds
        assert browsers_gone and not left_browsers, left_browsers
        assert not zombies
        assert not stack.socket.exists(), "the uWSGI socket was not removed"
        assert not [o for o in outcomes if o.failure == "timeout"], "a request hung"
        # Before the signal: answers, or 503 busy when 20 clients outnumber the browsers.
        assert not [o for o in outcomes if o.ended < sent_at and o.status not in (200, 503)], tally(outcomes)
        assert not tagged_processes(stack.tag, names=("uwsgi",))
    finally:
        if load:
            load.stop()
        left = stack.stop()
    assert not left, f"processes outlived the stack (killed now): {left}"
