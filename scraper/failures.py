"""What a failure says about the browser it happened in, and what its caller sees.

The pool asks here when a use of a browser ends and acts on the answer (a Verdict) in one place,
when the browser comes back: serve on, load its page again, or let it go.
"""
from dataclasses import dataclass

from selenium.common.exceptions import WebDriverException
from urllib3.exceptions import HTTPError as ConnectionFailure, TimeoutError as ClientTimeout

from scraper.errors import PoolTimeout, ScraperError, UpstreamError, UpstreamTimeout

# What a dead or unreachable browser raises: WebDriver errors, and from the HTTP connection to
# chromedriver or the Grid, urllib3's errors and plain socket errors.
BROWSER_FAILURES = (WebDriverException, ConnectionFailure, OSError)

# What becomes of a browser after a use (Verdict.fate).
SERVED = "served"       # it answered: one use more, and its replacement starts when it is due
KEPT = "kept"           # it is fine as it is
RELOAD = "reload"       # it works and its page does not: the page loads again before its next query
HUNG = "hung"           # it did not answer in time: killed
DISCARD = "discard"     # it failed: let go


@dataclass(frozen=True)
class Verdict:
    fate: str
    count: str = None           # the pool's counter this adds one to
    why: str = ""               # for the log line of a browser let go
    page_error: BaseException = None    # RELOAD: why the page is loaded again
    raises: BaseException = None        # what the caller sees instead of the error (None: it)
    cause: BaseException = None         # the __cause__ of `raises` (None: no context shown)


ANSWERED = Verdict(SERVED)
KEEP = Verdict(KEPT)


def after_answer(member):
    """The verdict on a browser whose query answered."""
    if member.hung:         # it answered just as the watchdog gave up on it
        return Verdict(HUNG, "hung", "killed: answered after the page timeout")
    return ANSWERED


def after_failure(error, member, in_query, closed):
    """The verdict on `member` after `error` ended its use: in the caller's query (`in_query`),
    or while the page was made ready for it; `closed`: the pool closed meanwhile."""
    if closed:      # close() ended it: the service stops, the browser did not fail
        return Verdict(KEPT, raises=PoolTimeout("the browser pool is closed"))
    if member.hung or isinstance(error, ClientTimeout):
        # The watchdog killed it, or its client gave up as the watchdog would have.
        return Verdict(HUNG, "hung", "killed: no answer within the page timeout",
                       raises=UpstreamTimeout("the browser did not answer within the page timeout"))
    if isinstance(error, ScraperError) and not in_query:
        return KEEP     # no time left, or the reload failed: the browser itself is fine
    if isinstance(error, UpstreamTimeout) and member.responsive():
        # The browser answered: the site is slow. The page is loaded again before its next query
        # (the pending one may still fire).
        return Verdict(RELOAD, "page_timeouts", page_error=error)
    if page_fault(error):
        # The browser works but its page cannot be read: load the page again, no new browser.
        return Verdict(RELOAD, page_error=error)
    # A browser that saw any other failure may hold a half-rendered or dead page; one that timed
    # out with a stopped process in it is hung.
    return Verdict(DISCARD, "hung" if isinstance(error, UpstreamTimeout) else "replaced",
                   f"{type(error).__name__}: {error}".strip(),
                   raises=upstream_error(error, "the browser failed"), cause=error)


def page_fault(error):
    """The source page answered something unreadable, though the browser itself worked."""
    return (isinstance(error, UpstreamError)
            and not isinstance(error.__cause__ or error.__context__, BROWSER_FAILURES))


def upstream_error(error, what):
    """UpstreamError for a failure of the browser or its connection, else None."""
    if isinstance(error, BROWSER_FAILURES) and not isinstance(error, ScraperError):
        return UpstreamError(f"{what}: {getattr(error, 'msg', None) or type(error).__name__}")
    return None
