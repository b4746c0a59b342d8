"""The access log: one line per request, in one format wherever the app runs.

    2026-11-27 20:07:26 searchaddr INFO GET /searchaddr1 200 345us cache=hit wait=0.0ms pid=4242

Under uWSGI with the request log format of uwsgi.ini (it names %(path)), uWSGI writes the line
after the response has gone, in C and without the GIL; the app only hands it the path, cache
and browser wait as logvars. Anywhere else (tests, other servers) the line is written here.
"""
import logging
import os
import time

# uwsgi.ini's log-format, for servers that do not write it: keep the two the same.
LINE = "%s searchaddr INFO %s %s %d %dus cache=%s wait=%s pid=%d\n"
MAX_PATH = 60       # characters: uWSGI keeps at most 255 bytes of a logvar

_log = logging.getLogger("searchaddr")     # its level turns these lines off, as for the others


def shown_path(path):
    """The path as a log may show it: no forged lines, no unbounded length."""
    shown = path if path.isprintable() else repr(path)
    return shown if len(shown) <= MAX_PATH else shown[:MAX_PATH] + "..."


class AccessLog:
    """write() once per request; `uwsgi` is the uwsgi module when uWSGI writes the line itself."""

    def __init__(self, uwsgi=None):
        self.uwsgi = uwsgi
        self._second = (None, "")

    def write(self, method, path, status, started, outcome=None):
        """method, path, status, time since `started` (time.monotonic()), the lookup's Outcome."""
        cache, wait = ("-", "-") if outcome is None else (outcome.cache, f"{outcome.wait_ms:.1f}ms")
        if self.uwsgi is not None:
            set_logvar = self.uwsgi.set_logvar
            set_logvar("path", shown_path(path))
            set_logvar("cache", cache)
            set_logvar("wait", wait)
            return
        if not _log.isEnabledFor(logging.INFO):
            return
        line = LINE % (self._date(time.time()), method, shown_path(path), status,
                       1e6 * (time.monotonic() - started), cache, wait, os.getpid())
        try:
            os.write(2, line.encode("utf-8", "backslashreplace"))
        except OSError:
            pass

    def _date(self, now):
        """'2026-11-27 20:07:26', formatted once a second, not per request."""
        second, text = self._second
        if second != int(now):
            text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
            self._second = (int(now), text)       # one tuple: threads never see half of it
        return text
