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
from types import SimpleNamespace
from urllib.parse import quote

import grp
import pytest

from tests.deploy.support import (nginx, nginx_group, render_example, shared_dir, socket_dir,
                                  search_when_ready, wait_for_port, wait_until_warm)
from tests.processes import TAG_ENV, free_port, wait_for_no_processes, wait_until
from tests.servers import ROOT, header_values, http_request, uwsgi_server

pytestmark = pytest.mark.integration

ORIGIN = "https://blog.example.com"
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


def test_container_healthcheck_script(service):
    script = os.path.join(ROOT, "deploy", "healthcheck.py")
    healthy = subprocess.run([sys.executable, script], env=dict(os.environ, SEARCHADDR_SOCKET=service.socket),
                             capture_output=True, text=True, timeout=10)
    assert healthy.returncode == 0, healthy.stderr
    missing = subprocess.run([sys.executable, script],
                             env=dict(os.environ, SEARCHADDR_SOCKET=service.socket + ".missing"),
                             capture_output=True, text=True, timeout=10)
    assert missing.returncode == 1 and "unhealthy" in missing.stderr
