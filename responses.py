"""The JSON bodies and responses the service sends: one encoder, one error response."""
import json

from webob import Response

JSON_TYPE = "application/json"

# One encoder for every body: json.dumps with these options would build a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(value):
    """Compact UTF-8 JSON; "replace": a lone surrogate echoed from a JSON escape must not break it."""
    return _ENCODER.encode(value).encode("utf-8", "replace")


def json_response(data, status=200, headers=(), content_type=JSON_TYPE):
    """A response whose body is JSON bytes (or another `content_type`); `headers` is a sequence
    of (name, value). A JSON body ends with a newline."""
    if content_type == JSON_TYPE:
        data += b"\n"  # a body printed as it came (curl) ends its line, and the prompt starts on the next
    headerlist = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
    headerlist.extend(headers)
    return Response(body=data, status=status, headerlist=headerlist)


def error_response(error):
    """The contract's JSON for an ApiError, never cached."""
    return json_response(encode(error.to_dict()), error.status,
                         list(error.headers.items()) + [("Cache-Control", "no-store")])
