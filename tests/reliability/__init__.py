"""Helpers for the reliability tests and the soak script: a real stack, a faulty source site, load."""
