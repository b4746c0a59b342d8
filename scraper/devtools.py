"""A DevTools connection straight to the page a local WebDriver session drives: a query is one
message to the page's renderer and its answer, with chromedriver out of the path.

It takes what execute_async_script takes (a script body whose last argument is the callback
that answers) and raises what it raises (TimeoutException, JavascriptException,
WebDriverException), so a source reads the same on either line. Arguments travel as data
(Runtime.callFunctionOn's `arguments`), never as script source. One caller at a time.
"""
import functools
import json
import time

import websocket    # websocket-client, a dependency of Selenium
from selenium.common.exceptions import JavascriptException, TimeoutException, WebDriverException

CONNECT_TIMEOUT = 5.0
# A call names a function the page compiled once (Chromium runs without V8's compilation cache:
# compiling the script anew on every call cost ~0.35 ms). Its id lasts as long as the document
# and this connection; a new document or connection answers one of these.
STALE_OBJECT = ("Could not find object with given id", "Cannot find context with specified id")
CALL = "function () { return this.apply(null, arguments); }"
MAX_FUNCTIONS = 16          # compiled scripts kept per document (a source has two or three)


@functools.lru_cache(maxsize=32)
def as_function(script):
    """An execute_async_script body as a function that returns a promise of its answer."""
    return ("(function () { const args = Array.from(arguments); return new Promise((done) => {"
            " args.push(done); (function () {\n" + script + "\n}).apply(this, args); }); })")


class DevToolsPage:
    """A connection to one page target; connected again after a failure, at the next call."""

    def __init__(self, debugger_address, target_id):
        host, _, port = debugger_address.rpartition(":")
        # Chromium listens on IPv4 loopback; "localhost" would try ::1 first.
        host = "127.0.0.1" if host == "localhost" else host
        self.url = f"ws://{host}:{port}/devtools/page/{target_id}"
        self._socket = None
        self._functions = {}        # script -> the objectId of its function in the page
        self._last_id = 0
        self._connect(CONNECT_TIMEOUT)

    def _connect(self, timeout):
        try:
            # No Origin header (Chromium refuses unknown origins), never a proxy (loopback). The
            # answer is decoded as UTF-8 anyway: websocket-client's own check, a Python loop over
            # every byte, would cost more than the round trip.
            self._socket = websocket.create_connection(self.url, timeout=timeout, suppress_origin=True,
                                                       http_no_proxy=["*"], skip_utf8_validation=True)
        except (websocket.WebSocketException, OSError) as error:
            raise WebDriverException(f"no DevTools connection to the page ({self.url}): {error}") from None
        self._functions.clear()

    def run_async(self, script, args, timeout):
        """execute_async_script(script, *args) with the script timeout `timeout` seconds: one
        message, and its answer (the first call of a script on a document compiles it first)."""
        deadline = time.monotonic() + timeout
        params = {"functionDeclaration": CALL, "arguments": [{"value": value} for value in args],
                  "awaitPromise": True, "returnByValue": True}
        for attempt in (1, 2):
            function = self._functions.get(script) or self._compile(script, deadline)
            try:
                answer = self._send("Runtime.callFunctionOn", dict(params, objectId=function), deadline)
                break
            except _StaleObject:
                # Another document, or a new connection: nothing ran. Once more, compiled in the
                # page as it is now.
                self._functions.clear()
                if attempt == 2:
                    raise
        if "exceptionDetails" in answer:
            raise JavascriptException(_exception_text(answer["exceptionDetails"]))
        return answer["result"].get("value")

    def _compile(self, script, deadline):
        """The objectId of `script`'s function in the page, compiled there now."""
        answer = self._send("Runtime.evaluate", {"expression": as_function(script)}, deadline)
        function = answer.get("result", {}).get("objectId")
        if function is None:
            raise JavascriptException(_exception_text(answer.get("exceptionDetails") or {}))
        if len(self._functions) >= MAX_FUNCTIONS:
            self._functions.clear()
        self._functions[script] = function
        return function

    def _send(self, method, params, deadline):
        """One command and its result; a timeout or a broken connection drops the connection
        (an answer still on its way would be read as the next one's)."""
        try:
            if self._socket is None:
                self._connect(max(0.05, min(CONNECT_TIMEOUT, deadline - time.monotonic())))
            sock = self._socket
            self._last_id += 1
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            sock.send(json.dumps({"id": self._last_id, "method": method, "params": params}))
            while True:     # no domain is enabled: nothing but answers comes, but skip any event
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                message = json.loads(sock.recv())
                if message.get("id") == self._last_id:
                    break
        except websocket.WebSocketTimeoutException:
            self.close()
            raise TimeoutException("script timeout: the page did not answer in time") from None
        except (websocket.WebSocketException, OSError, ValueError, AttributeError) as error:
            # AttributeError: close() from another thread (the watchdog's kill, the pool's close)
            # took the socket from under this call.
            self.close()
            raise WebDriverException(f"the DevTools connection to the page failed: "
                                     f"{type(error).__name__}: {error}") from None
        if "error" in message:
            text = message["error"].get("message", "")
            if text in STALE_OBJECT:
                raise _StaleObject(text)
            raise WebDriverException(f"DevTools {method}: {text} {message['error'].get('data', '')}".strip())
        return message["result"]

    def close(self):
        """Drop the connection at once (no closing handshake), waking a call blocked on it."""
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.abort()
            sock.shutdown()


class _StaleObject(WebDriverException):
    """The function a call named is gone: the page has a new document, or this is a new
    connection."""


def _exception_text(details):
    exception = details.get("exception") or {}
    return exception.get("description") or details.get("text") or "the page's script failed"
