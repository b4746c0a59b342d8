"""A POST request's body: its media type and charset, and its bytes, whose size is checked
before they are read. The only part of the handlers that reads from the client."""
import time

from webob import Request

from errors import InvalidParam, PayloadTooLarge, UnsupportedMediaType

MAX_BODY = 16 * 1024
# A chunked body has no length to refuse it by: it is read chunk by chunk, never past the limit,
# and a client that trickles it is cut off after BODY_SECONDS.
CHUNK_WAIT = 5
BODY_SECONDS = 10


def media_type(request):
    """'application/json' for 'Application/JSON; charset="utf-8"'; a charset other than UTF-8
    is refused (webob's request.charset gives every spelling of UTF-8, and none, as "UTF-8")."""
    if request.charset != "UTF-8":
        raise UnsupportedMediaType(f"charset {request.charset} is not supported; send UTF-8")
    return request.content_type.strip().lower()     # webob keeps the header's case and spaces


def read_body(environ, limit=MAX_BODY):
    """The request body, never reading more than `limit` + 1 bytes."""
    request = Request(environ)
    size = request.content_length
    if size is None and environ.get("CONTENT_LENGTH", "").strip():
        # webob reads a Content-Length that is not a number as no Content-Length at all.
        raise InvalidParam("Content-Length is not a number")
    if size is not None:
        if size > limit:
            raise PayloadTooLarge()
        try:
            # webob's body_file stops at Content-Length, and raises when the body ends before it.
            return request.body_file.read(size) if size > 0 else b""
        except OSError:
            raise InvalidParam("the body ended before its Content-Length") from None
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return _read_chunked_body(request, limit)
    return b""


def _read_chunked_body(request, limit):
    next_chunk = None if request.environ.get("wsgi.input_terminated") else _uwsgi_chunked_read()
    if next_chunk is not None:
        return read_chunked(next_chunk, limit)
    # The server de-chunked it: webob's body_file is empty without wsgi.input_terminated, which
    # not every such server sets, so wsgi.input is read as it is.
    body = request.body_file_raw.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge()
    return body


def _uwsgi_chunked_read():
    """uWSGI hands a chunked body to the app only through uwsgi.chunked_read() (wsgi.input
    reads nothing without a Content-Length); None elsewhere."""
    try:
        import uwsgi
    except ImportError:
        return None
    return getattr(uwsgi, "chunked_read", None)


def read_chunked(next_chunk, limit=MAX_BODY, wait=CHUNK_WAIT, seconds=BODY_SECONDS):
    """A chunked body from `next_chunk(wait)` (b"" at its end), never more than `limit` bytes."""
    body = bytearray()
    deadline = time.monotonic() + seconds
    while True:
        try:
            chunk = next_chunk(wait)
        except OSError:
            raise InvalidParam("the chunked body is broken or incomplete") from None
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge()
        if time.monotonic() > deadline:
            raise InvalidParam(f"the chunked body took more than {seconds} s") from None
