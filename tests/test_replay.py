"""Kept responses (replay.py): sent again only to the same request, and only while still true."""
import logging
import os
import time

from webob import Request

from config import load_config
from scraper.cache import MemoryCache
from scraper.errors import UpstreamError
from tests.conftest import write_config
from tests.fakes import FakePool, FakeSource
from wsgi_app import build_app

ALLOWED = "https://blog.example.com"
CITY_HALL_QUERY = "/searchaddr1?q=%EC%84%B8%EC%A2%85%EB%8C%80%EB%A1%9C%20110"


class CountingApp:
    """Counts the requests that reach the app behind the replay layer."""

    def __init__(self, app):
        self.app = app
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


def make_app(tmp_path, source=None, ttl=300):
    config = load_config(write_config(tmp_path / "searchaddr.ini"))
    source = source or FakeSource()
    cache = MemoryCache(100, ttl)
    app = build_app(config, FakePool(source, 2), cache)
    inner = app.app = CountingApp(app.app)
    return app, inner, source, cache


def call(app, path, method="GET", headers=None, **kwargs):
    return Request.blank(path, method=method, headers=headers or {}, **kwargs).get_response(app)


def same(first, second):
    assert (first.status, first.headerlist, first.body) == (second.status, second.headerlist, second.body)


def test_a_validation_error_is_sent_again_without_the_app(tmp_path):
    app, inner, _, _ = make_app(tmp_path)
    first = call(app, "/searchaddr1?q=x", headers={"Origin": ALLOWED})
    second = call(app, "/searchaddr1?q=x", headers={"Origin": ALLOWED})
    assert first.status_code == 400 and first.json["error"]["field"] == "q"
    assert first.headers["Access-Control-Allow-Origin"] == ALLOWED
    same(first, second)
    assert inner.calls == 1
    # Another query string, another origin, no origin: each its own request.
    assert call(app, "/searchaddr1?q=y", headers={"Origin": ALLOWED}).status_code == 400
    no_origin = call(app, "/searchaddr1?q=x")
    assert "Access-Control-Allow-Origin" not in no_origin.headers
    refused = call(app, "/searchaddr1?q=x", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert inner.calls == 4


def test_preflights_are_kept_per_origin_method_and_headers(tmp_path):
    app, inner, _, _ = make_app(tmp_path)
    preflight = {"Origin": ALLOWED, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    first = call(app, "/searchaddr1", "OPTIONS", preflight)
    same(first, call(app, "/searchaddr1", "OPTIONS", preflight))
    assert first.status_code == 204 and inner.calls == 1
    other_header = dict(preflight, **{"Access-Control-Request-Headers": "x-secret"})
    assert call(app, "/searchaddr1", "OPTIONS", other_header).status_code == 403
    assert call(app, "/searchaddr1", "OPTIONS", other_header).status_code == 403
    not_a_preflight = call(app, "/searchaddr1", "OPTIONS", {"Origin": ALLOWED})
    assert not_a_preflight.status_code == 204 and "Access-Control-Allow-Methods" not in not_a_preflight.headers
    assert call(app, "/searchaddr1", "OPTIONS", preflight).headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert inner.calls == 3


def test_a_cache_hit_is_sent_again_while_the_cache_holds_the_same_answer(tmp_path):
    app, inner, source, cache = make_app(tmp_path)
    miss = call(app, CITY_HALL_QUERY, headers={"Origin": ALLOWED})
    hit = call(app, CITY_HALL_QUERY, headers={"Origin": ALLOWED})
    again = call(app, CITY_HALL_QUERY, headers={"Origin": ALLOWED})
    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
    same(hit, again)
    assert inner.calls == 2 and source.calls == 1
    # The cache gets another answer for that key (a new scrape in another worker, say).
    key = next(iter(cache._items))
    cache.set(key, b'{"total":0,"results":[]}')
    changed = call(app, CITY_HALL_QUERY, headers={"Origin": ALLOWED})
    assert changed.json["total"] == 0 and changed.headers["X-Cache"] == "HIT"
    assert inner.calls == 3
    same(changed, call(app, CITY_HALL_QUERY, headers={"Origin": ALLOWED}))
    assert inner.calls == 3


def test_an_expired_answer_is_scraped_again(tmp_path):
    app, inner, source, _ = make_app(tmp_path, ttl=0.3)
    call(app, CITY_HALL_QUERY)
    assert call(app, CITY_HALL_QUERY).headers["X-Cache"] == "HIT"
    time.sleep(0.4)
    after = call(app, CITY_HALL_QUERY)
    assert after.headers["X-Cache"] == "MISS" and source.calls == 2


def test_post_head_and_answers_that_depend_on_state_are_never_kept(tmp_path):
    app, inner, source, _ = make_app(tmp_path, source=FakeSource(error=UpstreamError("broken page")))
    for _ in range(2):
        assert call(app, "/searchaddr1", "POST", body=b"q=x",
                    content_type="application/x-www-form-urlencoded").status_code == 400
    assert inner.calls == 2
    for _ in range(2):
        assert call(app, "/searchaddr1?q=%EC%8B%9C%EC%B2%AD").status_code == 502
    assert inner.calls == 4 and source.calls == 2
    for _ in range(2):
        assert call(app, "/healthz").status_code == 200
    assert inner.calls == 6
    for _ in range(2):
        assert call(app, "/searchaddr2?id=NOSUCHID").status_code == 502
    assert inner.calls == 8


def test_head_is_answered_by_the_app_without_a_body(tmp_path):
    app, inner, _, _ = make_app(tmp_path)
    call(app, CITY_HALL_QUERY)
    call(app, CITY_HALL_QUERY)                                 # kept: a HIT
    head = call(app, CITY_HALL_QUERY, "HEAD")                  # not GET: the app answers
    assert head.status_code == 405 and head.body == b"" and inner.calls == 3


def test_the_table_is_bounded(tmp_path):
    app, inner, _, _ = make_app(tmp_path)
    app.size = 50
    for n in range(80):
        call(app, f"/searchaddr1?q=x&n={n}")
    assert app.status()["entries"] == 50
    call(app, "/searchaddr1?q=x&n=0")                           # the oldest made room
    call(app, "/searchaddr1?q=x&n=79")                          # still kept
    assert inner.calls == 81


def test_a_response_sent_again_is_logged_like_any_other(tmp_path, capfd, caplog):
    caplog.set_level(logging.INFO, logger="searchaddr")
    app, inner, _, _ = make_app(tmp_path)
    for _ in range(3):
        call(app, CITY_HALL_QUERY)
    lines = [line for line in capfd.readouterr().err.splitlines() if "searchaddr INFO GET /searchaddr1" in line]
    assert len(lines) == 3 and inner.calls == 2
    assert "cache=miss" in lines[0]
    assert lines[1].split(" cache=")[1] == lines[2].split(" cache=")[1] == f"hit wait=0.0ms pid={os.getpid()}"
