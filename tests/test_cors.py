"""Every CORS rule of the contract, through the WSGI callable."""
import pytest

from config import ConfigError, load_config
from tests.support.config import write_config
from tests.support.fakes import FakePool, FakeSource
from tests.support.app import call, error_of, make_app
from wsgi_app import build_app

ALLOWED = "https://blog.example.com"
ALLOWED_DEV = "http://localhost:4000"
ATTACKS = ["https://blog.example.com.evil.test", "http://blog.example.com", "https://blog.example.com:8443",
           "null", "https://evil.test", "https://xblog.example.com", "https://blog.example.co",
           "https://BLOG.EXAMPLE.COM", "https://blog.example.com/", "", " https://blog.example.com",
           "https://blog.example.com, https://evil.test", "http://localhost:4001", "http://localhost"]


@pytest.fixture
def counted(tmp_path):
    return make_app(tmp_path)


def acao(response):
    return response.headers.getall("Access-Control-Allow-Origin")


def test_allowed_origin_gets_exactly_one_acao_and_vary(counted):
    app, _ = counted
    for origin in (ALLOWED, ALLOWED_DEV):
        response = call(app, "/searchaddr1?q=%EC%8B%9C%EC%B2%AD", headers={"Origin": origin})
        assert response.status_code == 200
        assert acao(response) == [origin]
        assert response.headers.getall("Vary") == ["Origin"]
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert response.headers["Access-Control-Expose-Headers"] == "Retry-After, X-Cache, Server-Timing"


@pytest.mark.parametrize("path, status", [("/searchaddr1?q=a", 400), ("/searchaddr2?id=unknown", 404),
                                          ("/searchaddr2?id=a%20b", 400)])
def test_errors_carry_the_cors_headers(counted, path, status):
    app, _ = counted
    response = call(app, path, headers={"Origin": ALLOWED})
    assert response.status_code == status
    assert acao(response) == [ALLOWED]
    assert response.headers["Vary"] == "Origin"
    for method, st in (("PUT", 405), ("DELETE", 405)):
        other = call(app, path.split("?")[0], method, headers={"Origin": ALLOWED})
        assert other.status_code == st and acao(other) == [ALLOWED]


def test_no_origin_is_answered_without_cors_headers_but_with_vary(counted):
    app, _ = counted
    response = call(app, "/searchaddr1?q=%EC%8B%9C%EC%B2%AD")
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    assert response.headers["Vary"] == "Origin"


@pytest.mark.parametrize("origin", ATTACKS)
def test_foreign_origins_are_rejected_before_any_browser_work(counted, origin):
    app, source = counted
    for method, body, ctype in (("GET", None, None), ("POST", '{"q": "세종대로"}', "application/json")):
        response = call(app, "/searchaddr1?q=%EC%8B%9C%EC%B2%AD", method, body, ctype,
                        headers={"Origin": origin})
        assert response.status_code == 403
        assert error_of(response)["code"] == "cors_rejected"
        assert not [h for h in response.headers if h.lower().startswith("access-control-allow")]
        assert response.headers["Vary"] == "Origin"
    assert source.calls == 0


@pytest.mark.parametrize("origin", ATTACKS)
def test_foreign_preflights_are_rejected(counted, origin):
    app, _ = counted
    response = call(app, "/searchaddr1", "OPTIONS", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 403
    assert error_of(response)["code"] == "cors_rejected"
    assert not acao(response)


@pytest.mark.parametrize("path", ["/searchaddr1", "/searchaddr2"])
@pytest.mark.parametrize("method, headers", [("POST", "content-type"), ("GET", None), ("POST", "Content-Type"),
                                              ("POST", " content-type , CONTENT-TYPE ")])
def test_preflight_allowed(counted, path, method, headers):
    app, source = counted
    request_headers = {"Origin": ALLOWED, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    response = call(app, path, "OPTIONS", headers=request_headers)
    assert response.status_code == 204
    assert response.body == b""
    assert acao(response) == [ALLOWED]
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert response.headers["Vary"] == "Origin"
    assert source.calls == 0


@pytest.mark.parametrize("method, headers", [("PUT", ""), ("DELETE", ""), ("post", ""),
                                              ("POST", "x-api-key"), ("POST", "content-type, authorization")])
def test_preflight_for_other_methods_or_headers_is_rejected(counted, method, headers):
    app, _ = counted
    response = call(app, "/searchaddr1", "OPTIONS", headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})
    assert response.status_code == 403
    assert error_of(response)["code"] == "cors_rejected"
    assert not acao(response)


def test_paths_not_listed_get_no_cors_headers(counted):
    app, _ = counted
    for path, status in (("/healthz", 200), ("/nope", 404)):
        response = call(app, path, headers={"Origin": "https://evil.test"})
        assert response.status_code == status
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]
        assert "Vary" not in response.headers


def test_per_path_override(tmp_path):
    app, _ = make_app(tmp_path, cors={"/searchaddr2": "https://shop.example.com"})
    assert call(app, "/searchaddr1?q=ab", headers={"Origin": ALLOWED}).status_code == 200
    assert call(app, "/searchaddr2?id=x", headers={"Origin": ALLOWED}).status_code == 403
    response = call(app, "/searchaddr2?id=x", headers={"Origin": "https://shop.example.com"})
    assert response.status_code == 404 and acao(response) == ["https://shop.example.com"]


def test_listed_null_and_default_port_normalization(tmp_path):
    app, _ = make_app(tmp_path, cors={"origins": "null, https://blog.example.com:443, HTTP://Dev.Test:8080"})
    assert acao(call(app, "/searchaddr1?q=ab", headers={"Origin": "null"})) == ["null"]
    assert acao(call(app, "/searchaddr1?q=ab", headers={"Origin": ALLOWED})) == [ALLOWED]
    assert acao(call(app, "/searchaddr1?q=ab", headers={"Origin": "http://dev.test:8080"})) == ["http://dev.test:8080"]
    assert call(app, "/searchaddr1?q=ab", headers={"Origin": "https://blog.example.com:444"}).status_code == 403


def test_wildcard(tmp_path):
    app, _ = make_app(tmp_path, cors={"origins": "*"})
    response = call(app, "/searchaddr1?q=ab", headers={"Origin": "https://anyone.test"})
    assert response.status_code == 200 and acao(response) == ["*"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_credentials_are_sent_when_configured(tmp_path):
    app, _ = make_app(tmp_path, cors={"allow_credentials": "true"})
    response = call(app, "/searchaddr1?q=ab", headers={"Origin": ALLOWED})
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize("cors, message", [
    ({"origins": "*", "allow_credentials": "true"}, "allow_credentials"),
    ({"origins": "blog.example.com"}, "[cors] origins"),
    ({"origins": "https://blog.example.com/path"}, "[cors] origins"),
    ({"origins": "https://blog.example.com:99999"}, "[cors] origins"),
    ({"origins": "ftp://blog.example.com"}, "[cors] origins"),
    ({"origins": "https://user@blog.example.com"}, "[cors] origins"),
    ({"origins": ""}, "[cors] origins"),
    ({"/searchaddr2": "https://x.test/"}, "[cors] /searchaddr2"),
    ({"/searchaddr3": "https://x.test"}, "[cors] /searchaddr3"),
    ({"paths": "/searchaddr1 /admin"}, "[cors] paths"),
    ({"max_age": "ten"}, "[cors] max_age"),
    ({"allow_credentials": "maybe"}, "[cors] allow_credentials"),
    ({"origin": "https://typo.test"}, "[cors] origin"),
])
def test_cors_config_mistakes_stop_start_up(tmp_path, cors, message):
    with pytest.raises(ConfigError) as raised:
        config = load_config(write_config(tmp_path / "bad.ini", cors=cors))
        build_app(config, FakePool(FakeSource()), None)
    assert message in str(raised.value)
