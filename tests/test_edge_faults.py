"""Faults at the edge, with real uWSGI (uwsgi.ini) and real nginx (deploy/nginx): every answer a
browser sees is JSON with the right CORS even when nginx answers; the dev section survives slow
clients; chunked bodies; raw non-UTF-8 query bytes; SIGHUP is a rolling restart that loses no
request and leaves no socket behind. Loopback only; loads bounded in count and time."""
import os
import re
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from urllib.parse import quote

import psutil
import pytest

from tests.support.config import write_config
from tests.support.edge import ORIGIN, DevServer, burst, raw_request, slow_clients, timed_health
from tests.support.processes import tail, wait_until
from tests.support.stack import REPO, Stack, tally

pytestmark = pytest.mark.integration

CITY_HALL = "/searchaddr1?q=" + quote("세종대로 110")


def cheap_scraper(**extra):
    """No warm-up browser: these tests are about the edge, and most need no browser at all."""
    return {"warm_browsers": "0", "browsers": "1", **extra}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("edge"), scraper=cheap_scraper())
    try:
        yield running.start()
    finally:
        left = running.stop()
        assert left == [], f"processes outlived the stack (killed): {left}"


def workers_of(stack):
    return [child for child in psutil.Process(stack.uwsgi.pid).children() if child.name() == "uwsgi"]


def assert_nginx_json_error(answer, status, origin=ORIGIN):
    assert answer.status == status and answer.is_json, answer.label + repr(answer.body[:200])
    assert answer.header("Access-Control-Allow-Origin") == ([origin] if origin else [])
    assert answer.header("Retry-After") or status == 413


# ---------------------------------------------------------------- nginx answers: JSON, with CORS

def test_nginx_answers_json_with_the_apps_cors_when_the_socket_is_gone(stack):
    os.rename(stack.socket, str(stack.socket) + ".away")   # nginx's connect() fails
    try:
        search, = burst(stack.port, [raw_request("GET", CITY_HALL, {"Origin": ORIGIN})])
        plain, = burst(stack.port, [raw_request("GET", CITY_HALL)])
        foreign, = burst(stack.port, [raw_request("GET", CITY_HALL, {"Origin": "https://evil.test"})])
        health, = burst(stack.port, [raw_request("GET", "/healthz", {"Origin": ORIGIN})])
        preflight, = burst(stack.port, [raw_request("OPTIONS", "/searchaddr1", {
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})])
    finally:
        os.rename(str(stack.socket) + ".away", stack.socket)
    assert_nginx_json_error(search, 503)
    assert search.body.startswith(b'{"error":{"code":"busy"')
    assert search.header("Vary") == ["Origin"]
    assert search.header("Access-Control-Expose-Headers") == ["Retry-After, X-Cache, Server-Timing"]
    assert_nginx_json_error(plain, 503, origin=None)
    assert_nginx_json_error(foreign, 503, origin=None)
    assert_nginx_json_error(health, 503, origin=None)      # not a CORS path
    # A preflight nginx answers as the app would, so the page's request goes out and can retry.
    assert preflight.status == 204
    assert preflight.header("Access-Control-Allow-Origin") == [ORIGIN]
    assert preflight.header("Access-Control-Allow-Methods") == ["GET, POST"]
    assert preflight.header("Access-Control-Allow-Headers") == ["Content-Type"]


def test_the_apps_own_answers_get_no_cors_header_from_nginx(stack):
    answers = burst(stack.port, [raw_request("GET", "/searchaddr1?q=a", {"Origin": ORIGIN}),
                                 raw_request("GET", "/nowhere", {"Origin": ORIGIN}),
                                 raw_request("GET", "/searchaddr1?q=a", {"Origin": "https://evil.test"})])
    invalid, missing, foreign = answers
    assert invalid.status == 400 and invalid.header("Access-Control-Allow-Origin") == [ORIGIN]
    assert invalid.header("Vary") == ["Origin"] and not invalid.header("Retry-After")
    assert missing.status == 404 and missing.header("Access-Control-Allow-Origin") == []
    assert foreign.status == 403 and foreign.header("Access-Control-Allow-Origin") == []


@pytest.mark.parametrize("connections", [200, 400])
def test_a_full_accept_queue_gives_json_not_nginx_html(stack, connections):
    """Every thread busy (workers stopped for 2 s) while `connections` requests arrive at once:
    with listen = 128 the kernel refused the rest, and nginx answered HTML 502."""
    workers = workers_of(stack)
    for worker in workers:
        worker.suspend()
    try:
        requests = [raw_request("GET", "/searchaddr1?q=a" if n % 2 else "/healthz", {"Origin": ORIGIN})
                    for n in range(connections)]
        resume = threading.Timer(2.0, lambda: [worker.resume() for worker in workers])
        resume.start()
        answers = burst(stack.port, requests, timeout=30)
    finally:
        resume.cancel()
        for worker in workers:
            worker.resume()
    counts = tally(answers)
    assert [label for label in counts if "NOT JSON" in label or "no answer" in label] == [], counts
    for answer, request in zip(answers, requests):
        if b"/searchaddr1" in request:
            assert answer.header("Access-Control-Allow-Origin") == [ORIGIN], answer.label


def test_a_killed_worker_s_requests_in_flight_get_json(tmp_path):
    # Every search takes 5 s on the page (its ?latency), so each is in flight when the workers die.
    slow_site = (REPO / "demo_site" / "index.html").as_uri() + "?latency=5000"
    running = Stack(tmp_path, scraper=cheap_scraper(page_timeout="30", url=slow_site))
    try:
        running.start()
        requests = [raw_request("GET", f"/searchaddr1?q={quote('세종대로')}&page={n}", {"Origin": ORIGIN})
                    for n in range(1, 5)]
        threading.Timer(1.0, lambda: [worker.kill() for worker in workers_of(running)]).start()
        answers = burst(running.port, requests, timeout=40)
        assert all(answer.is_json for answer in answers), tally(answers)
        killed = [answer for answer in answers if answer.status == 503]
        assert killed, tally(answers)
        for answer in killed:
            assert_nginx_json_error(answer, 503)
    finally:
        left = running.stop()
    assert left == []


@contextmanager
def example_nginx(socket_path, tmp_path, edit_snippets=lambda text: text):
    """deploy/nginx/searchaddr-api.conf (its optional rate limit on) on a free port, in front of
    `socket_path`, its snippets after `edit_snippets`; yields the port."""
    from tests.support.deploy import render_example
    from tests.support.servers import free_port, install_nginx_includes, nginx_command, write_nginx_conf
    port = free_port()
    text = render_example("searchaddr-api.conf", port, [str(socket_path)])
    install_nginx_includes(tmp_path, edit_snippets)
    conf = write_nginx_conf(tmp_path, text, user="root root" if os.geteuid() == 0 else "")
    nginx = subprocess.Popen(nginx_command(conf), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: timed_health(port, 2)[0] == 200 or nginx.poll() is not None, 10)
        assert nginx.poll() is None, (tmp_path / "nginx-error.log").read_text()
        yield port
    finally:
        nginx.terminate()
        nginx.wait(10)


def test_rate_limited_requests_get_json_with_cors(stack, tmp_path):
    """The example's optional limit_req, switched on: nginx's refusals are JSON 503 too."""
    with example_nginx(stack.socket, tmp_path) as port:
        answers = burst(port, [raw_request("GET", "/searchaddr1?q=a", {"Origin": ORIGIN})] * 60)
    limited = [answer for answer in answers if answer.status == 503]
    assert limited and all(answer.made_by_nginx for answer in limited), tally(answers)
    for answer in limited:
        assert_nginx_json_error(answer, 503)


def one_second_read_timeout(text):
    return re.sub(r"\buwsgi_read_timeout \w+;", "uwsgi_read_timeout 1s;", text)


def test_no_answer_in_time_gives_json_504_with_cors(stack, tmp_path):
    """uwsgi_read_timeout passing (1 s here, the example's own otherwise) while every worker is stopped."""
    location = (REPO / "deploy" / "nginx" / "snippets" / "searchaddr-location.conf").read_text()
    assert one_second_read_timeout(location) != location
    with example_nginx(stack.socket, tmp_path, one_second_read_timeout) as port:
        workers = workers_of(stack)
        for worker in workers:
            worker.suspend()
        try:
            answer, = burst(port, [raw_request("GET", "/searchaddr1?q=a", {"Origin": ORIGIN})], timeout=10)
        finally:
            for worker in workers:
                worker.resume()
    assert_nginx_json_error(answer, 504)
    assert answer.body.startswith(b'{"error":{"code":"upstream_timeout"')


def test_a_request_with_many_headers_reaches_the_app(stack):
    for count in (113, 200):
        headers = {"Origin": ORIGIN, **{f"X-Extra-{n}": "v" * 20 for n in range(count)}}
        answer, = burst(stack.port, [raw_request("GET", "/searchaddr1?q=a", headers)])
        assert answer.is_json, (count, answer.label, answer.body[:200])
        assert answer.status == 400 and answer.header("Access-Control-Allow-Origin") == [ORIGIN]


# ---------------------------------------------------------------- the dev section

@pytest.fixture
def dev(tmp_path, process_tag):
    server = DevServer(tmp_path, process_tag, write_config(tmp_path / "searchaddr.ini",
                                                           scraper=cheap_scraper()))
    try:
        yield server.start()
    finally:
        left = server.stop()
        assert left == [], f"processes outlived uwsgi dev (killed): {left}"


@pytest.mark.parametrize("count", [8, 64])
@pytest.mark.parametrize("kind", ["headers", "body"])
def test_slow_clients_leave_the_dev_server_answering(dev, kind, count):
    with slow_clients(dev.port, count, kind):
        time.sleep(1.0)
        timings = [timed_health(dev.port, timeout=5) for _ in range(3)]
    assert all(status == 200 and seconds < 1.0 for status, seconds in timings), timings


def test_dev_server_reads_chunked_json_and_refuses_big_bodies(dev):
    chunked = (b"POST /searchaddr1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n{\"q\":\r\n4\r\n \"a\"\r\n1\r\n}\r\n0\r\n\r\n")
    answer, = burst(dev.port, [chunked])
    # Parsed: "a" is one character too short (before, the body read as empty: invalid_json).
    assert answer.status == 400 and b'"field":"q"' in answer.body, answer.body
    over = b'{"q": "' + b"x" * 16400 + b'"}'
    answer, = burst(dev.port, [raw_request("POST", "/searchaddr1", {"Content-Type": "application/json",
                                                                    "Origin": ORIGIN}, over)])
    assert answer.status == 413 and answer.is_json and answer.header("Access-Control-Allow-Origin") == [ORIGIN]
    huge = raw_request("POST", "/searchaddr1", {"Content-Type": "application/json",
                                                "Expect": "100-continue"}, b"")
    huge = huge.replace(b"\r\n\r\n", b"\r\nContent-Length: 50000000\r\n\r\n")
    answer, = burst(dev.port, [huge], timeout=5)
    assert answer.status == 413, answer.label      # refused before a byte of it is sent


def test_raw_query_bytes_that_are_not_utf8_are_invalid_encoding(dev):
    answer, = burst(dev.port, [b"GET /searchaddr1?q=ab\xe9 HTTP/1.0\r\n\r\n"])
    assert answer.status == 400 and b'"code":"invalid_encoding"' in answer.body, answer.body


# ---------------------------------------------------------------- SIGHUP: a rolling restart

def chain_reloads_done(log):
    return tail(log, 100000).count("chain reloading complete")


def test_sighup_is_a_rolling_restart_that_loses_nothing_and_removes_the_socket(tmp_path):
    running = Stack(tmp_path, scraper=cheap_scraper())
    try:
        running.start()
        # A chain reload skips a worker that is still loading the app: wait for both.
        assert wait_until(lambda: tail(running.uwsgi_log, 100000).count("WSGI app 0 (mountpoint='') ready") == 2, 60)
        answers = []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                answers.extend(burst(running.port, [raw_request("GET", "/searchaddr1?q=a", {"Origin": ORIGIN}),
                                                    raw_request("GET", "/nowhere")] * 4, timeout=20))
        clients = [threading.Thread(target=load) for _ in range(2)]
        for client in clients:
            client.start()
        time.sleep(1.0)
        before = [worker.pid for worker in workers_of(running)]
        running.uwsgi.send_signal(signal.SIGHUP)
        assert wait_until(lambda: chain_reloads_done(running.uwsgi_log), 60), tail(running.uwsgi_log)
        time.sleep(1.0)
        stop.set()
        for client in clients:
            client.join(30)
        after = [worker.pid for worker in workers_of(running)]
        assert len(after) == 2 and not set(before) & set(after), (before, after)
        counts = tally(answers)
        assert set(counts) <= {"400 json", "404 json"} and len(answers) > 50, counts
        assert running.uwsgi.pid == psutil.Process(running.uwsgi.pid).pid   # the master stayed
    finally:
        left = running.stop()
    assert left == []
    assert not running.socket.exists(), "the socket outlived uWSGI"
    assert "VACUUM WARNING" not in tail(running.uwsgi_log, 100000)
