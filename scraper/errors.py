"""Failures the scraper reports; the service maps each to one HTTP status."""


class ScraperError(Exception):
    """Base class for everything the scraper raises on purpose."""


class UpstreamError(ScraperError):
    """The address site failed, or its page could not be read (HTTP 502)."""


class UpstreamTimeout(ScraperError):
    """The address site did not answer within the page timeout (HTTP 504)."""


class PoolTimeout(ScraperError):
    """No browser became free within the checkout timeout (HTTP 503)."""
