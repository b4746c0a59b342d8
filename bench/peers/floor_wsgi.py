"""Peer (d): the least any app under the service's contract does on every request.

A webob.Request for the environ, a webob.Response with a JSON body, and one access-log line on
stderr (CONTRACT.md: WebOb for requests and responses; one log line per request), formatted
the way the service formats its own. No routing, CORS, validation or cache. Its distance from
peer (c) is what the contract itself costs before the service does any work of its own.
"""
import os
import time

from webob import Request, Response

BODY = b'{"hello":"world"}'
_last_second = (None, "")


def _log_second(now):
    global _last_second
    second, text = _last_second
    if second != int(now):
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        _last_second = (int(now), text)
    return text


def application(environ, start_response):
    started = time.monotonic()
    request = Request(environ)
    response = Response(body=BODY, status=200, headerlist=[("Content-Type", "application/json"),
                                                           ("Content-Length", str(len(BODY)))])
    now = time.time()
    line = "%s,%03d floor INFO %s %s %d %.1fms\n" % (
        _log_second(now), (now % 1) * 1000, request.method, environ.get("PATH_INFO", ""),
        200, 1000 * (time.monotonic() - started))
    os.write(2, line.encode("utf-8", "backslashreplace"))
    return response(environ, start_response)
