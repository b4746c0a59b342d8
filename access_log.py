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


def _uwsgi_request_log():
    """The uwsgi module when uWSGI writes the access line itself, else None."""
    try:
        import uwsgi
    except ImportError:
        return None
    log_format = uwsgi.opt.get("log-format") or uwsgi.opt.get("logformat") or b""
    disabled = uwsgi.opt.get("disable-logging")
    if isinstance(log_format, bytes) and b"%(path)" in log_format and (
            disabled is None or disabled in (b"false", b"0", b"no", b"off")):
        return uwsgi
    return None


_uwsgi = _uwsgi_request_log()
_log = logging.getLogger("searchaddr")     # its level turns these lines off, as for the others
_last_second = (None, "")


def _second(now):
    """'2026-11-27 20:07:26', formatted once a second, not per request."""
    global _last_second
    second, text = _last_second
    if second != int(now):
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        _last_second = (int(now), text)       # one tuple: threads never see half of it
    return text


def shown_path(path):
    """The path as a log may show it: no forged lines, no unbounded length."""
    shown = path if path.isprintable() else repr(path)
    return shown if len(shown) <= MAX_PATH else shown[:MAX_PATH] + "..."


def outcome_fields(outcome):
    """(cache, wait) of the line for a lookup's Outcome, or for a request that made none."""
    return ("-", "-") if outcome is None else (outcome.cache, f"{outcome.wait_ms:.1f}ms")


def write(method, path, status, started, cache="-", wait="-"):
    """method, path, status, time since `started` (time.monotonic()), cache and browser wait."""
    if _uwsgi is not None:
        set_logvar = _uwsgi.set_logvar
        set_logvar("path", shown_path(path))
        set_logvar("cache", cache)
        set_logvar("wait", wait)
        return
    if not _log.isEnabledFor(logging.INFO):
        return
    line = LINE % (_second(time.time()), method, shown_path(path), status,
                   1e6 * (time.monotonic() - started), cache, wait, os.getpid())
    try:
        os.write(2, line.encode("utf-8", "backslashreplace"))
    except OSError:
        pass
