"""Peer (d): the least any app under the service's contract does on every request.

A webob.Request for the environ, a webob.Response with a JSON body, and one access-log line
(CONTRACT.md: WebOb for requests and responses; one log line per request) through the service's
own access_log module (under uwsgi.ini, uWSGI writes the line from the logvars it gets), sent
the way the service sends its responses. No routing, CORS, validation or cache. Its distance from
peer (c) is what the contract costs a response that is built for each request.
"""
import time

from webob import Request, Response

import uwsgi_host
from access_log import AccessLog

BODY = b'{"hello":"world"}'
_host = uwsgi_host.detect()
access_log = AccessLog(_host.uwsgi if _host.writes_access_log else None)


def application(environ, start_response):
    started = time.monotonic()
    request = Request(environ)
    response = Response(body=BODY, status=200, headerlist=[("Content-Type", "application/json"),
                                                           ("Content-Length", str(len(BODY)))])
    access_log.write(request.method, environ.get("PATH_INFO", ""), 200, started)
    start_response(response.status, response.headerlist)
    return response.app_iter
