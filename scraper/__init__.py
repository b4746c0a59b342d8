"""Drives address sites in real browsers: the browser pool, browsers, sources and their errors.

Knows nothing of HTTP, uWSGI or the service around it."""
