"""What the demo site's index holds: data/about.json beside the page's index.html, as
demo_site/build_index.py writes it. Only a page on this machine (a file:// URL) is read."""
import datetime
import json
import pathlib
from urllib.parse import unquote, urlsplit

ABOUT_FILE = "about.json"
INDEX_FILE = "index.js"
INDEX_SOURCES = ("kozip", "official")
# Every field, null while unknown: no about.json, or a page that is not on this machine.
UNKNOWN = {"source": None, "note": None, "base_date": None, "addresses": None,
           "related_lots": None, "version": None}


def index_dir(url):
    """The index directory (data/ beside the page) of the demo site at a file:// `url`; None
    for any other URL, whose files are not this machine's to read."""
    parts = urlsplit(url or "")
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path:
        return None
    return pathlib.Path(unquote(parts.path)).parent / "data"


def parse_about(text):
    """about.json's text -> a dict with UNKNOWN's keys; ValueError naming the field when it is
    not what the builder writes. Keys it does not know are ignored."""
    try:
        about = json.loads(text)
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(about, dict):
        raise ValueError("not a JSON object")
    for key in ("source", "base_date", "addresses"):
        if key not in about:
            raise ValueError(f"no {key!r}")
    found = dict(UNKNOWN, **{key: about.get(key) for key in UNKNOWN})
    if found["source"] not in INDEX_SOURCES:
        raise ValueError(f"source {found['source']!r} is not one of {', '.join(INDEX_SOURCES)}")
    try:
        datetime.date.fromisoformat(found["base_date"])
    except (TypeError, ValueError):
        raise ValueError(f"base_date {found['base_date']!r} is not a date (YYYY-MM-DD)") from None
    for key in ("addresses", "related_lots"):
        value = found[key]
        if value is None and key == "related_lots":
            continue
        # bool is an int to Python, never to the builder.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{key} {value!r} is not a count")
    for key in ("note", "version"):
        if found[key] is not None and not isinstance(found[key], str):
            raise ValueError(f"{key} {found[key]!r} is not text")
    return found


def read_about(directory):
    """What the index in `directory` holds: UNKNOWN when `directory` is None or has no
    about.json; ValueError naming the file when that file cannot be read or is malformed."""
    if directory is None:
        return dict(UNKNOWN)
    path = pathlib.Path(directory) / ABOUT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return dict(UNKNOWN)
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: {error}") from None
    try:
        return parse_about(text)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def stamp(about):
    """Names one build of the index (its source, dates and counts); empty while unknown."""
    if about["source"] is None:
        return ""
    return "/".join(str(about[key]) for key in ("source", "base_date", "addresses", "related_lots",
                                                "version"))


def describe(about):
    """One line for people: 'official, base date 2026-03-31, 6,416,637 addresses'."""
    if about["source"] is None:
        return "unknown (no about.json)"
    return f"{about['source']}, base date {about['base_date']}, {about['addresses']:,} addresses"
