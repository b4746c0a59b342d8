"""The WSGI app on a fake pool, called in-process through Request.blank(...).get_response(app)."""
from webob import Request

from answers.caches import MemoryCache
from config import load_config
from responses import JSON_TYPE
from tests.support.config import write_config
from tests.support.fakes import FakePool, FakeSource
from wsgi_app import build_app


def make_app(tmp_path, source=None, size=2, **sections):
    config = load_config(write_config(tmp_path / "searchaddr.ini", **sections))
    source = source or FakeSource()
    return build_app(config, FakePool(source, size), MemoryCache(100, 300)), source


def call(app, path, method="GET", body=None, content_type=None, headers=None, **kwargs):
    request = Request.blank(path, method=method, headers=headers or {}, **kwargs)
    if body is not None:
        request.body = body if isinstance(body, bytes) else body.encode()
        request.content_type = content_type
    return request.get_response(app)


def error_of(response):
    assert response.content_type == JSON_TYPE
    return response.json["error"]
