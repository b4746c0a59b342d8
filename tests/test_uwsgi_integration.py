"""Integration: real uWSGI (dev HTTP and unix socket behind a real nginx), real Chromium."""
import os
import re
from urllib.parse import quote

import pytest

from tests.support.browsers import wait_for_no_browsers
from tests.support.config import write_config
from tests.support.processes import free_port, stop_process, tagged_processes, wait_until
from tests.support.servers import _port_open, header_values, http_request, nginx_server, uwsgi_server

pytestmark = pytest.mark.integration

ORIGIN = "https://blog.example.com"


def roomy_config(tmp_path):
    """The default policy, with a page timeout that a busy test machine's browser starts fit in."""
    return write_config(tmp_path / "searchaddr.ini", scraper={"page_timeout": "30"})


def assert_nothing_left(tag):
    assert wait_for_no_browsers(tag) == []
    left = tagged_processes(tag, names=("uwsgi", "nginx"))
    assert left == [], f"left running: {left}"


def search_and_detail(port, prefix=""):
    status, headers, body = http_request(port, "GET", prefix + "/searchaddr1?q=" + quote("세종대로 110"),
                                         headers={"Origin": ORIGIN})
    assert status == 200, body
    assert header_values(headers, "Access-Control-Allow-Origin") == [ORIGIN]
    city_hall = body["results"][0]
    assert city_hall["zip"] == "04524" and city_hall["building"] == "서울특별시청"
    status, headers, body = http_request(port, "POST", prefix + "/searchaddr2", {"id": city_hall["id"]},
                                         {"Origin": ORIGIN, "Content-Type": "application/json"})
    assert status == 200, body
    assert body["result"]["road_address"] == "서울특별시 중구 세종대로 110"
    assert body["result"]["lat"] == 37.5663 and body["result"]["admin_code"] is None
    assert header_values(headers, "Access-Control-Allow-Origin") == [ORIGIN]
    return body


def assert_concurrent_misses_cost_one_scrape(port, log_path, rounds=20):
    """50 identical misses at once, spread over both workers: one scrape (cache=miss) in all,
    in each of `rounds` rounds in a row (each round asks for another page size: a new key).

    Each worker keeps one thread free for quick answers: a request beyond the other threads
    (waiting for the identical scrape counts) gets 503 busy at once, with Retry-After, rather
    than hold the last thread.
    """
    from concurrent.futures import ThreadPoolExecutor
    scrapes = []
    for per_page in range(1, rounds + 1):
        path = "/searchaddr1?q=" + quote("테헤란로") + f"&per_page={per_page}"
        with ThreadPoolExecutor(50) as clients:
            answers = list(clients.map(lambda _: http_request(port, "GET", path), range(50)))
        ok = [body for status, _, body in answers if status == 200]
        busy = [(headers, body) for status, headers, body in answers if status == 503]
        assert len(ok) + len(busy) == 50 and ok, [status for status, _, _ in answers]
        assert len({str(body) for body in ok}) == 1
        assert all(body["error"]["code"] == "busy" and header_values(headers, "Retry-After")
                   for headers, body in busy)
        # From the answers: uWSGI writes a request's log line after its response, so the line of
        # an earlier request may land in the log during this round.
        scrapes.append(sum("cache;desc=miss" in "".join(header_values(headers, "Server-Timing"))
                           for status, headers, _ in answers if status == 200))
    assert scrapes == [1] * rounds
    assert log_path.read_text(errors="replace").count("cache=shared") >= rounds


def test_uwsgi_dev_section_serves_real_searches(process_tag, tmp_path):
    port = free_port()
    with uwsgi_server("dev", env={"SEARCHADDR_HTTP": f"127.0.0.1:{port}",
                                  "SEARCHADDR_CONFIG": roomy_config(tmp_path)},
                      log_path=tmp_path / "uwsgi.log") as server:
        wait_until(lambda: _port_open(port) or server.poll() is not None, 30, "uwsgi dev")
        assert server.poll() is None, (tmp_path / "uwsgi.log").read_text()
        search_and_detail(port)
        status, _, health = http_request(port, "GET", "/healthz")
        assert status == 200 and health["status"] == "ok"
        for _ in range(2):
            status, headers, body = http_request(port, "GET", "/searchaddr1?q=" + quote("세종대로 110"))
            assert status == 200 and header_values(headers, "X-Cache") == ["HIT"]
            assert header_values(headers, "Access-Control-Allow-Origin") == []
            status, _, body = http_request(port, "GET", "/searchaddr1?q=x")
            assert status == 400 and body["error"]["field"] == "q"
        status, _, _ = http_request(port, "GET", "/x%0Aforged")      # a line break in the path
        assert status == 404
        stopped_in = stop_process(server)
    assert stopped_in < 10
    assert_nothing_left(process_tag)
    # One line per request, written by uWSGI from the app's logvars (uwsgi.ini log-format).
    lines = (tmp_path / "uwsgi.log").read_text(errors="replace").splitlines()
    access = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d searchaddr INFO (GET|POST|OPTIONS|HEAD) (\S+) "
                        r"(\d{3}) \d+us cache=(\S+) wait=(\S+) pid=\d+$")
    requests = [access.match(line).groups() for line in lines if access.match(line)]
    assert requests.count(("GET", "/searchaddr1", "200", "hit", "0.0ms")) == 2
    assert requests.count(("GET", "/searchaddr1", "400", "-", "-")) == 2
    assert ("GET", "/searchaddr1", "200", "miss") in [r[:4] for r in requests]
    assert ("POST", "/searchaddr2", "200", "miss") in [r[:4] for r in requests]
    assert [line for line in lines if "forged" in line] == [
        line for line in lines if access.match(line) and access.match(line).group(2) == "'/x\\nforged'"]
    assert ("GET", "'/x\\nforged'", "404", "-", "-") in requests


def test_nginx_in_front_of_the_unix_socket(process_tag, tmp_path):
    sock = str(tmp_path / "searchaddr.sock")
    port = free_port()
    with uwsgi_server(env={"SEARCHADDR_SOCKET": sock, "SEARCHADDR_CONFIG": roomy_config(tmp_path)},
                      log_path=tmp_path / "uwsgi.log", processes=2) as server:
        wait_until(lambda: os.path.exists(sock) or server.poll() is not None, 30, "uwsgi socket")
        assert server.poll() is None, (tmp_path / "uwsgi.log").read_text()
        with nginx_server(sock, port):
            search_and_detail(port)
            status, headers, body = http_request(port, "OPTIONS", "/searchaddr1", headers={
                "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type"})
            assert status == 204
            assert header_values(headers, "Access-Control-Allow-Origin") == [ORIGIN]
            status, headers, body = http_request(port, "GET", "/searchaddr1?q=ab",
                                                 headers={"Origin": "https://evil.test"})
            assert status == 403 and body["error"]["code"] == "cors_rejected"
            assert header_values(headers, "Access-Control-Allow-Origin") == []
            status, _, body = http_request(port, "POST", "/searchaddr1", b"x" * 20000,
                                           {"Content-Type": "application/json"})
            assert status == 413
            assert_concurrent_misses_cost_one_scrape(port, tmp_path / "uwsgi.log")
        stopped_in = stop_process(server)
    assert stopped_in < 10
    assert not os.path.exists(sock)
    assert_nothing_left(process_tag)
