"""The access log: one line per request on stderr (uWSGI's log), in logging's format.

Written directly: logging's records, formatter and handler lock would cost more than the rest
of a cache hit.
"""
import os
import time

_last_second = (None, "")


def _second(now):
    """'2026-11-27 20:07:26' as logging writes it, formatted once a second, not per request."""
    global _last_second
    second, text = _last_second
    if second != int(now):
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        _last_second = (int(now), text)       # one tuple: threads never see half of it
    return text


def write(method, path, status, started, cache="-", wait="-"):
    """method, path, status, time since `started` (time.monotonic()), cache and browser wait."""
    now = time.time()
    shown = path if path.isprintable() else repr(path)       # no forged log lines
    line = "%s,%03d searchaddr INFO %s %s %d %.1fms cache=%s wait=%s\n" % (
        _second(now), (now % 1) * 1000, method, shown, status,
        1000 * (time.monotonic() - started), cache, wait)
    try:
        os.write(2, line.encode("utf-8", "backslashreplace"))
    except OSError:
        pass
