"""The shipped nginx examples (deploy/nginx/) in front of real uWSGI (uwsgi.ini) and Chromium.

The socket directory is set up as the README says for production (group www-data, setgid, 2750),
and nginx runs as the host's would (workers as www-data when the tests run as root)."""
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import grp
import json
import pytest

from tests.support.deploy import (nginx, nginx_group, render_example, shared_dir, socket_dir,
                                  search_when_ready, wait_for_port, wait_until_warm)
from tests.support.processes import TAG_ENV, free_port, wait_for_no_processes, wait_until
from tests.support.edge import burst, raw_request
from tests.support.servers import ROOT, header_values, http_request, uwsgi_server

pytestmark = pytest.mark.integration

ORIGIN = "https://blog.example.com"
FOREIGN = "https://elsewhere.example"
CITY_HALL = "/searchaddr1?q=" + quote("세종대로 110")


@pytest.fixture(scope="module")
def service():
    """`uwsgi --ini uwsgi.ini` (the production section) on a socket in a production-like dir."""
    tag = uuid.uuid4().hex
    base = shared_dir("searchaddr-deploy-")
    sock = os.path.join(socket_dir(base, os.geteuid()), "searchaddr.sock")
    log = os.path.join(base, "uwsgi.log")
    try:
        with uwsgi_server(env={TAG_ENV: tag, "SEARCHADDR_SOCKET": sock}, log_path=log) as server:
            wait_until(lambda: os.path.exists(sock) or server.poll() is not None, 30, "uwsgi socket")
            assert server.poll() is None, open(log, errors="replace").read()
            wait_until_warm(sock)
            yield SimpleNamespace(socket=sock, tag=tag, log=log, server=server)
        assert not os.path.exists(sock), "vacuum did not remove the socket"
        assert wait_for_no_processes(tag) == [], "processes left after uWSGI stopped"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def assert_city_hall(status, headers, body, origin=ORIGIN):
    assert status == 200, body
    assert header_values(headers, "Access-Control-Allow-Origin") == ([origin] if origin else [])
    assert body["results"][0]["zip"] == "04524"
    assert body["results"][0]["road_address"] == "서울특별시 중구 세종대로 110"


def test_socket_is_660_and_belongs_to_nginx_group(service):
    mode = os.stat(service.socket)
    assert stat.S_ISSOCK(mode.st_mode)
    assert stat.S_IMODE(mode.st_mode) == 0o660
    if os.geteuid() == 0:
        assert mode.st_gid == grp.getgrnam(nginx_group()).gr_gid


def test_api_server_example(service):
    port = free_port()
    config = render_example("searchaddr-api.conf", port, [service.socket])
    with nginx(config, service.tag) as (process, _):
        wait_for_port(port, process, "nginx")
        assert_city_hall(*search_when_ready(port, CITY_HALL, {"Origin": ORIGIN})[:3])
        # A body over the app's 16 KiB limit reaches the app, which answers JSON with CORS headers.
        status, headers, body = http_request(port, "POST", "/searchaddr1", b'{"q": "' + b"x" * 20000 + b'"}',
                                             {"Origin": ORIGIN, "Content-Type": "application/json"})
        assert status == 413 and body["error"]["code"] == "payload_too_large"
        assert header_values(headers, "Access-Control-Allow-Origin") == [ORIGIN]
        status, headers, body = http_request(port, "GET", "/healthz")
        assert status == 200 and body["status"] == "ok"
        assert header_values(headers, "Access-Control-Allow-Origin") == []
        # /metrics from the loopback, through the API server and its loopback monitoring server.
        status, headers, body = http_request(port, "GET", "/metrics")
        assert status == 200 and b"searchaddr_http_requests_total" in body
        monitoring, = [int(p) for p in re.findall(r"listen 127\.0\.0\.1:(\d+);", config) if int(p) != port]
        for path in ("/metrics", "/readyz", "/livez"):
            assert http_request(monitoring, "GET", path)[0] == 200, path
        assert http_request(monitoring, "GET", CITY_HALL)[0] == 404


def test_blog_location_example(service, tmp_path):
    site = shared_dir("searchaddr-site-")
    try:
        with open(os.path.join(site, "index.html"), "w") as file:
            file.write("<h1>blog</h1>")
        port = free_port()
        config = render_example("blog-location.conf", port, [service.socket], root=site)
        with nginx(config, service.tag) as (process, _):
            wait_for_port(port, process, "nginx")
            status, _, body = http_request(port, "GET", "/")
            assert status == 200 and body == b"<h1>blog</h1>"
            assert_city_hall(*http_request(port, "GET", "/api" + CITY_HALL, headers={"Origin": ORIGIN}))
            assert_city_hall(*http_request(port, "GET", "/api" + CITY_HALL), origin=None)
            status, _, body = http_request(port, "GET", "/api/healthz")
            assert status == 200 and body["status"] == "ok"
            assert http_request(port, "GET", "/api/metrics")[0] == 403      # nginx: not for visitors
            status, _, body = http_request(port, "GET", "/api/nowhere")
            assert status == 404 and body["error"]["code"] == "not_found"
    finally:
        shutil.rmtree(site, ignore_errors=True)


def cookie(size):
    """A Cookie header value of `size` bytes, as a browser sends a site's cookies: one line."""
    pairs = "; ".join(f"c{n}=" + "v" * 1000 for n in range(size // 1000 + 1))
    return pairs[:size]


def assert_nginx_error(answer, status, code, origin):
    """nginx's own answer: JSON {"error": {"code", "message"}}, and CORS only for `origin`."""
    assert answer.status == status, answer.label + repr(answer.body[:200])
    assert answer.header("Content-Type") == ["application/json"], answer.label
    error = json.loads(answer.body)["error"]
    assert error["code"] == code and error["message"], error
    assert answer.header("Access-Control-Allow-Origin") == ([origin] if origin else [])


def answer_to(port, request):
    return burst(port, [request])[0]


def test_api_server_answers_its_own_errors_as_json(service):
    port = free_port()
    config = render_example("searchaddr-api.conf", port, [service.socket])
    with nginx(config, service.tag) as (process, _):
        wait_for_port(port, process, "nginx")
        # The blog's cookies reach the app: 12 KiB and 16 KiB were over nginx's old 8 KiB line.
        for size in (12 * 1024, 16 * 1024):
            assert_city_hall(*search_when_ready(port, CITY_HALL, {"Origin": ORIGIN, "Cookie": cookie(size)})[:3])

        # What nginx refuses after reading the headers gets the CORS an allowed Origin gets.
        for origin, expected in ((ORIGIN, ORIGIN), (FOREIGN, None)):
            too_large = raw_request("GET", CITY_HALL, {"Origin": origin, "Cookie": cookie(30 * 1024)})
            assert_nginx_error(answer_to(port, too_large), 400, "headers_too_large", expected)
            many = raw_request("GET", CITY_HALL, {"Origin": origin, **{f"X-Extra-{n}": "v" * 4000 for n in range(14)}})
            assert_nginx_error(answer_to(port, many), 400, "headers_too_large", expected)
            trace = raw_request("TRACE", "/searchaddr1", {"Origin": origin})
            assert_nginx_error(answer_to(port, trace), 405, "method_not_allowed", expected)
            long_uri = raw_request("GET", "/searchaddr1?q=" + "a" * 10 * 1024, {"Origin": origin})
            assert_nginx_error(answer_to(port, long_uri), 414, "uri_too_long", expected)
            no_host = raw_request("GET", CITY_HALL, {"Origin": origin}).replace(b"Host: 127.0.0.1\r\n", b"")
            assert_nginx_error(answer_to(port, no_host), 400, "bad_request", expected)
            encoding = raw_request("POST", "/searchaddr1", {"Origin": origin, "Transfer-Encoding": "gzip"})
            assert_nginx_error(answer_to(port, encoding), 501, "not_implemented", expected)

        # nginx never read an Origin here: a too-large header before it (nginx stops at that
        # line), a URI over one 24 KiB buffer, a request line it cannot parse, HTTP/2.0 in the
        # request line. JSON still, without CORS.
        cookie_first = (b"GET /searchaddr1 HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + cookie(30 * 1024).encode()
                        + f"\r\nOrigin: {ORIGIN}\r\n\r\n".encode())
        assert_nginx_error(answer_to(port, cookie_first), 400, "headers_too_large", None)
        huge_uri = raw_request("GET", "/searchaddr1?q=" + "a" * 30 * 1024, {"Origin": ORIGIN})
        assert_nginx_error(answer_to(port, huge_uri), 414, "uri_too_long", None)
        for line in (b"GET /searchaddr1 HTTP/1.1 junk", b"\x01\x02 nonsense"):
            malformed = line + f"\r\nHost: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n\r\n".encode()
            assert_nginx_error(answer_to(port, malformed), 400, "bad_request", None)
        version = raw_request("GET", CITY_HALL, {"Origin": ORIGIN}).replace(b"HTTP/1.1", b"HTTP/2.0", 1)
        assert_nginx_error(answer_to(port, version), 505, "http_version_not_supported", None)
        # The locations those go to are not for clients.
        inside = raw_request("GET", "/searchaddr-nginx-errors/bad_request", {"Origin": ORIGIN})
        assert_nginx_error(answer_to(port, inside), 404, "not_found", None)

        # The app's own answers still pass untouched: its 404, its 405 with Allow.
        status, headers, body = http_request(port, "DELETE", "/searchaddr1", headers={"Origin": ORIGIN})
        assert status == 405 and body["error"]["code"] == "method_not_allowed" and header_values(headers, "Allow")


def test_api_server_answers_its_own_500_as_json(service):
    """With the shipped limits every request nginx passes on fits one uwsgi packet (64 KiB; nginx
    also stops at about 1,000 header lines). Raised limits let a request through that does not:
    nginx cannot pass it on and answers 500 itself."""
    port = free_port()
    config = render_example("searchaddr-api.conf", port, [service.socket])
    shipped = "large_client_header_buffers 2 24k;"

    def raised(text):
        return text.replace(shipped, "large_client_header_buffers 4 32k;")
    with nginx(config, service.tag, edit_snippets=raised) as (process, prefix):
        installed = "".join(path.read_text() for path in Path(prefix, "snippets").iterdir())
        assert shipped not in installed and raised(shipped) in installed
        wait_for_port(port, process, "nginx")
        for origin, expected in ((ORIGIN, ORIGIN), (FOREIGN, None)):
            packed = raw_request("GET", "/searchaddr1?q=" + "a" * 8000,
                                 {"Origin": origin, **{f"X-Extra-{n}": "v" * 20000 for n in range(3)}})
            assert_nginx_error(answer_to(port, packed), 500, "internal", expected)


def test_blog_location_answers_nginx_errors_for_the_api_as_json(service):
    site = shared_dir("searchaddr-site-")
    try:
        port = free_port()
        config = render_example("blog-location.conf", port, [service.socket], root=site)
        with nginx(config, service.tag) as (process, _):
            wait_for_port(port, process, "nginx")
            # A same-origin page's cookies: 16 KiB reach the app; 30 KiB are JSON from nginx.
            same_site = {"Origin": ORIGIN, "Cookie": cookie(16 * 1024)}
            assert_city_hall(*http_request(port, "GET", "/api" + CITY_HALL, headers=same_site))
            # Before nginx picks a location, $uri still starts with /api/: no CORS (same origin needs none).
            too_large = raw_request("GET", "/api" + CITY_HALL, {"Origin": ORIGIN, "Cookie": cookie(30 * 1024)})
            assert_nginx_error(answer_to(port, too_large), 400, "headers_too_large", None)
            trace = raw_request("TRACE", "/api/searchaddr1", {"Origin": ORIGIN})
            assert_nginx_error(answer_to(port, trace), 405, "method_not_allowed", None)
            long_uri = raw_request("GET", "/api/searchaddr1?q=" + "a" * 10 * 1024, {"Origin": ORIGIN})
            assert_nginx_error(answer_to(port, long_uri), 414, "uri_too_long", None)
            malformed = f"GET /api/searchaddr1 HTTP/1.1 junk\r\nHost: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n\r\n"
            assert_nginx_error(answer_to(port, malformed.encode()), 400, "bad_request", None)
            # /api/metrics: nginx refuses it (deny all); not a CORS path, so no CORS for anyone.
            metrics = raw_request("GET", "/api/metrics", {"Origin": ORIGIN})
            assert_nginx_error(answer_to(port, metrics), 403, "forbidden", None)
    finally:
        shutil.rmtree(site, ignore_errors=True)


def test_container_healthcheck_script(service):
    script = os.path.join(ROOT, "deploy", "healthcheck.py")
    healthy = subprocess.run([sys.executable, script], env=dict(os.environ, SEARCHADDR_SOCKET=service.socket),
                             capture_output=True, text=True, timeout=10)
    assert healthy.returncode == 0, healthy.stderr
    missing = subprocess.run([sys.executable, script],
                             env=dict(os.environ, SEARCHADDR_SOCKET=service.socket + ".missing"),
                             capture_output=True, text=True, timeout=10)
    assert missing.returncode == 1 and "unhealthy" in missing.stderr
