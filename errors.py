"""The contract's errors: handlers raise them, the edge (wsgi_app.Service) answers them."""


class ApiError(Exception):
    status = 500
    code = "internal"
    message = "internal error"

    def __init__(self, message=None, field=None, headers=None, outcome=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.field = field
        self.headers = headers or {}
        self.outcome = outcome      # the lookup that led to this error, for the access line

    def to_dict(self):
        error = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


def _error(name, status, code, message):
    return type(name, (ApiError,), {"status": status, "code": code, "message": message})


# The request itself is wrong.
InvalidParam = _error("InvalidParam", 400, "invalid_param", "invalid parameter")
InvalidJson = _error("InvalidJson", 400, "invalid_json", "the body is not valid JSON")
InvalidEncoding = _error("InvalidEncoding", 400, "invalid_encoding", "the request is not valid UTF-8")

# The request is refused: who sends it, where, or how.
CorsRejected = _error("CorsRejected", 403, "cors_rejected", "origin not allowed")
Forbidden = _error("Forbidden", 403, "forbidden", "not allowed from this address")
NotFound = _error("NotFound", 404, "not_found", "no such path")
MethodNotAllowed = _error("MethodNotAllowed", 405, "method_not_allowed", "method not allowed")

# The body is refused.
PayloadTooLarge = _error("PayloadTooLarge", 413, "payload_too_large", "the body is larger than 16 KiB")
UnsupportedMediaType = _error("UnsupportedMediaType", 415, "unsupported_media_type",
                              "send application/json or application/x-www-form-urlencoded")

# Decided by the source site.
AddressNotFound = _error("AddressNotFound", 404, "address_not_found", "no address with that id")
UpstreamFailed = _error("UpstreamFailed", 502, "upstream_error", "the address site failed")
UpstreamTimedOut = _error("UpstreamTimedOut", 504, "upstream_timeout",
                          "the address site did not answer in time")

# Decided by the service's state: retry later.
Busy = _error("Busy", 503, "busy", "every browser is busy; retry shortly")
NotReady = _error("NotReady", 503, "not_ready", "no browser can serve now")

Internal = _error("Internal", 500, "internal", "internal error")
