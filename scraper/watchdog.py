"""The one bound on a query to a browser that stopped answering: its process tree is killed."""
import logging
import threading
import time

log = logging.getLogger("searchaddr.pool")

# Seconds past a query's deadline before its browser is killed: a busy machine's late answer
# still keeps its browser (scraper/page.py, ANSWER_MARGIN).
WATCHDOG_GRACE = 0.3


class Watchdog:
    """Kills the process tree of a browser still busy past its deadline. A stopped or wedged
    browser answers nothing, so only this bounds its query; the caller then sees the
    connection fail at once. Watches at most one command per slot (plus one start)."""

    def __init__(self):
        self._due = {}
        self._changed = threading.Condition()
        self._started = False

    def watch(self, member, when):
        with self._changed:
            if not self._started:        # after any fork: threads do not survive one
                threading.Thread(target=self._run, name="browser-watchdog", daemon=True).start()
                self._started = True
            self._due[member] = when
            self._changed.notify()

    def done(self, member):
        with self._changed:
            self._due.pop(member, None)

    def _run(self):
        while True:
            with self._changed:
                now = time.monotonic()
                overdue = [member for member, when in self._due.items() if when <= now]
                if not overdue:
                    self._changed.wait(min(self._due.values(), default=now + 60) - now)
                    continue
                for member in overdue:
                    del self._due[member]
                    member.hung = True
            for member in overdue:
                log.warning("watchdog: a browser did not answer %.1f s past its deadline; killing it",
                            WATCHDOG_GRACE)
                member.kill()
