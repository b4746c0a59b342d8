"""The source page in a browser, within a request's time: each command's own timeout fitted to
the request's deadline, and the page loaded again after it failed."""
import time

from scraper.errors import ScraperError, UpstreamTimeout

# A working browser's own timeouts end a query this long before its deadline, and the watchdog
# kills a browser that has not answered WATCHDOG_GRACE after it (scraper/watchdog.py): a busy
# machine's late answer (up to ANSWER_MARGIN + WATCHDOG_GRACE) still keeps its browser, and a
# hung browser's caller has its JSON 504 well within page_timeout + 1 s (the kill and the answer
# take ~0.1-0.4 s).
ANSWER_MARGIN = 0.5
# A query keeps its usual script timeout when this close to it (one round trip saved per query).
TIMEOUT_SLACK = 0.2


def fit_timeouts(member, deadline, page_timeout, timeout="script"):
    """The browser's own `timeout` ("script", or "page load") ends the next command by the
    deadline; a query keeps its usual script timeout when that fits (no round trip)."""
    left = deadline - time.monotonic() - ANSWER_MARGIN
    if left <= 0.05:
        raise UpstreamTimeout("the page timeout ran out before the query")
    usual = page_timeout - ANSWER_MARGIN
    wanted = usual if left >= usual - TIMEOUT_SLACK else left
    if timeout == "page load":
        if member.page_load_timeout != wanted:
            member.driver.set_page_load_timeout(wanted)
            member.page_load_timeout = wanted
    elif member.script_timeout != wanted:
        member.driver.set_script_timeout(wanted)
        member.script_timeout = wanted


def load_page(source, member, page_timeout, deadline=None):
    """Load the source page into `member`; a ScraperError leaves it marked for a reload.

    With a `deadline` (a reload on a request's path), the page load may take all the time
    left and waiting for its data what remains after it, so a site that loads within one
    request's time is back at the next reload, however long it took to load before.
    """
    try:
        if deadline is None:
            source.open(member.driver)
        else:
            fit_timeouts(member, deadline, page_timeout, "page load")
            source.load(member.driver)
            fit_timeouts(member, deadline, page_timeout)
            source.wait_until_ready(member.driver)
    except ScraperError as error:
        member.page_error = error
        raise
    member.page_error = None
