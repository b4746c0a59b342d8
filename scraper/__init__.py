"""Drives address sites in real browsers: sources, the browser pool, caches and lookups."""
