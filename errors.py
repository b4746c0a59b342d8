"""ApiError and the one place that turns an error into the contract's JSON response."""
from webob import Response

from scraper.lookup import encode

JSON_TYPE = "application/json"


class ApiError(Exception):
    status = 500
    code = "internal"
    message = "internal error"
    request_decides = False     # the same request always gets this error (replay.py may keep it)

    def __init__(self, message=None, field=None, headers=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.field = field
        self.headers = headers or {}

    def to_dict(self):
        error = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


def _error(name, status, code, message, request_decides=False):
    return type(name, (ApiError,), {"status": status, "code": code, "message": message,
                                    "request_decides": request_decides})


# The client's mistakes: decided by the request alone.
InvalidParam = _error("InvalidParam", 400, "invalid_param", "invalid parameter", True)
InvalidJson = _error("InvalidJson", 400, "invalid_json", "the body is not valid JSON", True)
InvalidEncoding = _error("InvalidEncoding", 400, "invalid_encoding", "the request is not valid UTF-8", True)
CorsRejected = _error("CorsRejected", 403, "cors_rejected", "origin not allowed", True)
NotFound = _error("NotFound", 404, "not_found", "no such path", True)
MethodNotAllowed = _error("MethodNotAllowed", 405, "method_not_allowed", "method not allowed", True)
PayloadTooLarge = _error("PayloadTooLarge", 413, "payload_too_large", "the body is larger than 16 KiB", True)
UnsupportedMediaType = _error("UnsupportedMediaType", 415, "unsupported_media_type",
                              "send application/json or application/x-www-form-urlencoded", True)
# Decided by the source site or the service's state.
AddressNotFound = _error("AddressNotFound", 404, "address_not_found", "no address with that id")
UpstreamFailed = _error("UpstreamFailed", 502, "upstream_error", "the address site failed")
Busy = _error("Busy", 503, "busy", "every browser is busy; retry shortly")
UpstreamTimedOut = _error("UpstreamTimedOut", 504, "upstream_timeout",
                          "the address site did not answer in time")
Internal = _error("Internal", 500, "internal", "internal error")


def json_response(body, status=200, headers=None):
    return encoded_json_response(encode(body), status, headers)


def encoded_json_response(data, status=200, headers=None):
    """A response whose body is already JSON bytes."""
    headerlist = [("Content-Type", JSON_TYPE), ("Content-Length", str(len(data)))]
    if headers:
        headerlist.extend(headers.items())
    return Response(body=data, status=status, headerlist=headerlist)


def error_response(error):
    return json_response(error.to_dict(), error.status,
                         dict(error.headers, **{"Cache-Control": "no-store"}))
