"""Responses kept as built and sent again to the same request.

A preflight, a validation error, a refused origin or an unknown path is decided by the request
line and a few headers alone; an answer from the cache by those and the cached answer. The first
such request goes through the app, which marks its response (environ[REPLAY]); the status,
headers and body are kept, and the same request later gets them again without parsing, routing,
validating or building a response. An answer is sent again only while the cache still holds
the same bytes for it, so expiry and new scrapes show at once.

Only GET and OPTIONS are kept (a POST's body is not part of the key), in a bounded table per
process: the oldest entry makes room for a new one.
"""
import threading
import time

import access_log

REPLAY = "searchaddr.replay"         # environ: how the app's response may be sent again
REQUEST_DECIDES = "request"          # value: the request alone decides the response
# or (cache key, answer bytes): an answer from the cache, good while the cache holds those bytes
OUTCOME = "searchaddr.outcome"       # environ: the lookup's Outcome, for the log line

MAX_ENTRIES = 256
MAX_ENTRY_BYTES = 32 * 1024          # query string and body of one kept response


class _Kept:
    __slots__ = ("status", "headers", "body", "answer_key", "answer", "status_code", "cache", "wait")

    def __init__(self, status, headers, body, answer_key, answer, cache, wait):
        self.status = status
        self.headers = tuple(headers)
        self.body = body
        self.answer_key = answer_key
        self.answer = answer
        self.status_code = int(status[:3])
        self.cache = cache
        self.wait = wait


class ResponseReplay:
    """WSGI middleware, outermost: sends a kept response again, or lets the app answer."""

    def __init__(self, app, cache, size=MAX_ENTRIES):
        self.app = app
        self.cache = cache
        self.size = size
        self._kept = {}
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        # Everything that decides such a response; a GET key and an OPTIONS key never match.
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            key = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ.get("HTTP_ORIGIN"))
        elif method == "OPTIONS":
            key = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ.get("HTTP_ORIGIN"),
                   environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
                   environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"))
        else:
            return self.app(environ, start_response)
        kept = self._kept.get(key)
        if kept is not None and (kept.answer_key is None
                                 or self.cache.get(kept.answer_key) == kept.answer):
            access_log.write(method, key[0], kept.status_code, time.monotonic(), kept.cache, kept.wait)
            start_response(kept.status, list(kept.headers))
            return [kept.body]
        captured = []

        def capture(status, headers, exc_info=None):
            captured[:] = (status, headers)
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        how = environ.get(REPLAY)
        # Never a 5xx: whatever failed may not fail next time.
        if how is not None and captured and captured[0][0] in "24" and type(body) is list:
            self._keep(key, how, captured, body, environ.get(OUTCOME))
        return body

    def _keep(self, key, how, captured, body, outcome):
        data = b"".join(body)
        if len(data) + len(key[1]) > MAX_ENTRY_BYTES:
            return
        answer_key, answer = (None, None) if how == REQUEST_DECIDES else how
        cache, wait = access_log.outcome_fields(outcome)
        kept = _Kept(captured[0], captured[1], data, answer_key, answer, cache, wait)
        with self._lock:
            if key not in self._kept and len(self._kept) >= self.size:
                del self._kept[next(iter(self._kept))]
            self._kept[key] = kept

    def status(self):
        return {"entries": len(self._kept), "size": self.size}
