"""Peer (c): the smallest WSGI application; the ceiling for any Python app under the same uWSGI."""

BODY = b'{"hello": "world"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
