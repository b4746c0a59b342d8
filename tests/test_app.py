"""The WSGI layer through Request.blank(...).get_response(app), with a fake source and pool."""
import json
import threading

import pytest
from webob import Request

from responses import JSON_TYPE
from scraper.errors import UpstreamError, UpstreamTimeout
from tests.support.app import call, error_of, make_app
from tests.support.fakes import CITY_HALL, FakeSource

ALLOWED = "https://blog.example.com"


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)[0]


def test_search_get_returns_the_contract_shape(app):
    response = call(app, "/searchaddr1?q=%EC%84%B8%EC%A2%85%EB%8C%80%EB%A1%9C%20110")
    assert response.status_code == 200
    assert response.content_type == JSON_TYPE
    assert response.json == {"query": "세종대로 110", "page": 1, "per_page": 10, "total": 1,
                             "results": [CITY_HALL], "source": "demo"}
    assert "세종대로".encode() in response.body          # not ASCII-escaped
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Cache"] == "MISS"
    assert "scrape;dur=" in response.headers["Server-Timing"]


def test_get_json_post_and_form_post_give_the_same_answer(app):
    by_get = call(app, "/searchaddr1?q=%EC%8B%9C%EC%B2%AD&page=1&per_page=5")
    by_json = call(app, "/searchaddr1", "POST", json.dumps({"q": "시청", "page": 1, "per_page": "5"}),
                   "application/json")
    by_json_charset = call(app, "/searchaddr1", "POST", '{"q": "시청", "page": "1", "per_page": 5}',
                           "application/json; charset=utf-8")
    by_form = call(app, "/searchaddr1", "POST", "q=%EC%8B%9C%EC%B2%AD&page=1&per_page=5",
                   "application/x-www-form-urlencoded")
    by_form_charset = call(app, "/searchaddr1", "POST", "q=시청&page=1&per_page=5",
                           "application/x-www-form-urlencoded; charset=UTF-8")
    answers = [r.json for r in (by_get, by_json, by_json_charset, by_form, by_form_charset)]
    assert all(r.status_code == 200 for r in (by_get, by_json, by_json_charset, by_form, by_form_charset))
    assert answers[0]["total"] == 1
    assert all(answer == answers[0] for answer in answers)


def test_post_ignores_the_query_string(app):
    response = call(app, "/searchaddr1?q=ignored", "POST", '{"per_page": 3}', "application/json")
    assert response.status_code == 400
    assert error_of(response) == {"code": "invalid_param", "message": "q is required", "field": "q"}


def test_detail_found_and_not_found(app):
    response = call(app, f"/searchaddr2?id={CITY_HALL['id']}")
    assert response.status_code == 200
    assert response.json["result"]["admin_code"] == "1114010300"
    assert response.json["result"]["lat"] == 37.5663
    missing = call(app, "/searchaddr2", "POST", '{"id": "nope_123"}', "application/json")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "address_not_found"


@pytest.mark.parametrize("query, field", [
    ("", "q"), ("q=", "q"), ("q=a", "q"), ("q=%20%20a%20%20", "q"), ("q=" + "가" * 81, "q"),
    ("q=ab%00c", "q"), ("q=ab%1Bc", "q"), ("q=ab&q=cd", "q"), ("q=ab&page=0", "page"),
    ("q=ab&page=101", "page"), ("q=ab&page=x", "page"), ("q=ab&page=-1", "page"),
    ("q=ab&page=1.5", "page"), ("q=ab&per_page=51", "per_page"), ("q=ab&per_page=", "per_page"),
    ("q=ab&page=99999999999999999999", "page"),
])
def test_invalid_search_params_name_their_field(app, query, field):
    response = call(app, "/searchaddr1?" + query)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_param"
    assert error_of(response)["field"] == field


@pytest.mark.parametrize("body, field", [
    ('{"q": 12}', "q"), ('{"q": null}', "q"), ('{"q": ["ab"]}', "q"), ('{"q": "ab", "page": true}', "page"),
    ('{"q": "ab", "page": 1.5}', "page"), ('{"q": "ab", "page": null}', "page"),
    ('{"q": "ab", "page": [1]}', "page"), ('{"q": "ab", "page": "1.5"}', "page"),
    ('{"q": "ab", "q": "cd"}', "q"), ('{"q": "ab", "per_page": {"n": 1}}', "per_page"),
    ('{"q": "\\ud800ab"}', "q"),
])
def test_invalid_json_values_name_their_field(app, body, field):
    response = call(app, "/searchaddr1", "POST", body, "application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_param"
    assert error_of(response)["field"] == field


@pytest.mark.parametrize("id_value", ["", "a b", "a/b", "x" * 65, "../etc", "%ED%95%9C"])
def test_invalid_ids(app, id_value):
    response = call(app, "/searchaddr2?id=" + id_value)
    assert response.status_code == 400
    assert error_of(response) ["field"] == "id"


@pytest.mark.parametrize("body", ["{", "[]", '"q"', "1", "null", "{'q': 'ab'}", "NaN",
                                  '{"q": NaN}', "[" * 5000 + "]" * 5000, "1" * 5000])
def test_malformed_json(app, body):
    response = call(app, "/searchaddr1", "POST", body, "application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_bytes_that_are_not_utf8(app):
    assert error_of(call(app, "/searchaddr1?q=%FF%FE"))["code"] == "invalid_encoding"
    assert error_of(call(app, "/searchaddr1", "POST", b'{"q": "\xff\xfe"}',
                         "application/json"))["code"] == "invalid_encoding"
    assert error_of(call(app, "/searchaddr1", "POST", b"q=\xc3\x28", "application/x-www-form-urlencoded"
                         ))["code"] == "invalid_encoding"
    assert error_of(call(app, "/searchaddr1", "POST", b"q=%C3%28",
                         "application/x-www-form-urlencoded"))["code"] == "invalid_encoding"


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data; boundary=x",
                                          "application/json; charset=latin-1", "application/xml"])
def test_unsupported_media_type(app, content_type):
    response = call(app, "/searchaddr1", "POST", '{"q": "ab"}', content_type)
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_body_over_16_kib(app):
    response = call(app, "/searchaddr1", "POST", '{"q": "ab", "pad": "' + "x" * 16400 + '"}',
                    "application/json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_declared_length_over_the_limit_is_refused_without_reading(app):
    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")
    request = Request.blank("/searchaddr1", method="POST", content_type="application/json")
    request.environ["CONTENT_LENGTH"] = str(10 ** 9)
    request.environ["wsgi.input"] = Unreadable()
    assert request.get_response(app).status_code == 413


def test_chunked_body_over_the_limit(app):
    import io
    request = Request.blank("/searchaddr1", method="POST", content_type="application/json")
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.environ["wsgi.input"] = io.BytesIO(b'{"q":"' + b"x" * 20000 + b'"}')
    assert request.get_response(app).status_code == 413
    small = Request.blank("/searchaddr1", method="POST", content_type="application/json")
    small.environ.pop("CONTENT_LENGTH", None)
    small.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    small.environ["wsgi.input"] = io.BytesIO('{"q":"세종대로 110"}'.encode())
    assert small.get_response(app).json["total"] == 1


@pytest.mark.parametrize("path", ["/", "/searchaddr1/", "/SEARCHADDR1", "/searchaddr3", "/healthz/",
                                  "/searchaddr1%00", "//searchaddr1"])
def test_unknown_paths_are_404(app, path):
    response = call(app, path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("path, method, allow", [
    ("/searchaddr1", "HEAD", "GET, POST, OPTIONS"), ("/searchaddr1", "PUT", "GET, POST, OPTIONS"),
    ("/searchaddr2", "DELETE", "GET, POST, OPTIONS"), ("/searchaddr2", "PATCH", "GET, POST, OPTIONS"),
    ("/healthz", "POST", "GET, HEAD, OPTIONS"), ("/healthz", "PUT", "GET, HEAD, OPTIONS"),
])
def test_other_methods_are_405_with_allow(app, path, method, allow):
    response = call(app, path, method)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    if method != "HEAD":
        assert error_of(response)["code"] == "method_not_allowed"


def test_options_without_preflight_is_204_with_allow(app):
    response = call(app, "/searchaddr1", "OPTIONS")
    assert response.status_code == 204
    assert response.headers["Allow"] == "GET, POST, OPTIONS"
    assert response.body == b""
    assert "Access-Control-Allow-Origin" not in response.headers


def test_healthz_get_and_head_start_nothing(tmp_path):
    app, source = make_app(tmp_path)
    response = call(app, "/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert set(response.json) >= {"pool", "cache"}
    head = call(app, "/healthz", "HEAD")
    assert head.status_code == 200 and head.body == b""
    assert source.calls == 0
    assert "Access-Control-Allow-Origin" not in call(app, "/healthz", headers={"Origin": ALLOWED}).headers


@pytest.mark.parametrize("error, status, code", [
    (UpstreamError("page broke"), 502, "upstream_error"),
    (UpstreamTimeout("slow"), 504, "upstream_timeout"),
    (RuntimeError("secret detail"), 500, "internal"),
])
def test_source_failures_map_to_the_contract(tmp_path, error, status, code):
    app, _ = make_app(tmp_path, FakeSource(error=error))
    response = call(app, "/searchaddr1?q=ab", headers={"Origin": ALLOWED})
    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert b"secret detail" not in response.body and b"Traceback" not in response.body
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_busy_pool_sheds_with_503_and_retry_after(tmp_path):
    app, source = make_app(tmp_path, FakeSource(delay=1.5), size=1,
                           scraper={"checkout_timeout": "0.2"})
    holder = threading.Thread(target=call, args=(app, "/searchaddr1?q=hold"))
    holder.start()
    try:
        import time
        time.sleep(0.1)
        started = time.monotonic()
        response = call(app, "/searchaddr1?q=other", headers={"Origin": ALLOWED})
        waited = time.monotonic() - started
    finally:
        source.release()
        holder.join()
    assert response.status_code == 503
    assert error_of(response)["code"] == "busy"
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert 0.15 < waited < 1.0


def test_cache_hit_and_single_flight(tmp_path):
    app, source = make_app(tmp_path, FakeSource(delay=0.3), size=2)
    responses = []

    def search():
        responses.append(call(app, "/searchaddr1?q=%EC%8B%9C%EC%B2%AD"))

    threads = [threading.Thread(target=search) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [200] * 50
    assert source.calls == 1
    assert len({r.body for r in responses}) == 1
    again = call(app, "/searchaddr1?q=%20%EC%8B%9C%EC%B2%AD%20")
    assert again.headers["X-Cache"] == "HIT" and source.calls == 1


def test_errors_are_not_cached(tmp_path):
    source = FakeSource(error=UpstreamError("down"))
    app, _ = make_app(tmp_path, source)
    assert call(app, "/searchaddr1?q=ab").status_code == 502
    source.error = None
    assert call(app, "/searchaddr1?q=ab").status_code == 200
    assert source.calls == 2


def test_time_queued_before_the_app_counts_against_checkout_timeout(tmp_path):
    import time
    app, source = make_app(tmp_path, FakeSource(delay=1.5), size=1, scraper={"checkout_timeout": "2"})
    holder = threading.Thread(target=call, args=(app, "/searchaddr1?q=hold"))
    holder.start()
    try:
        time.sleep(0.1)
        started = time.monotonic()
        response = call(app, "/searchaddr1?q=other",
                        headers={"X-Request-Start": f"t={time.time() - 1.8:.3f}"})
        waited = time.monotonic() - started
    finally:
        source.release()
        holder.join()
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert waited < 0.6
