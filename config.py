"""The service's INI file: read once at start-up, validated, never silently defaulted."""
import configparser
import ipaddress
import os
import re
from dataclasses import dataclass, field

from scraper.browser import CHROMEDRIVER, CHROMIUM, LINES

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "searchaddr.ini")


class ConfigError(Exception):
    """A missing or invalid config file or value; the message names the section and key."""


@dataclass(frozen=True)
class CorsSettings:
    origins: tuple
    paths: tuple
    path_origins: dict = field(default_factory=dict)   # path -> tuple of origins
    max_age: int = 600
    allow_headers: tuple = ("Content-Type",)
    allow_credentials: bool = False


@dataclass(frozen=True)
class ScraperSettings:
    source: str = "demo"
    url: str = ""
    browsers: int = 2
    warm_browsers: int = 1
    checkout_timeout: float = 2.0
    page_timeout: float = 8.0
    recycle_after: int = 200
    remote_url: str = ""
    line: str = LINES[0]
    chromium: str = CHROMIUM
    chromedriver: str = CHROMEDRIVER


@dataclass(frozen=True)
class CacheSettings:
    ttl: int = 300
    size: int = 2000


@dataclass(frozen=True)
class MetricsSettings:
    allow: tuple = ("127.0.0.1", "::1", "unix")     # who may read /metrics


@dataclass(frozen=True)
class Config:
    path: str
    cors: CorsSettings
    scraper: ScraperSettings
    cache: CacheSettings
    metrics: MetricsSettings = MetricsSettings()


def split_list(value):
    return tuple(item for item in re.split(r"[\s,]+", value.strip()) if item)


class _Section:
    """Typed reads of one section; every error names `[section] key`."""

    def __init__(self, parser, name):
        if not parser.has_section(name):
            raise ConfigError(f"missing section [{name}]")
        self.name = name
        self.values = dict(parser.items(name))
        self.read = set()

    def fail(self, key, why):
        raise ConfigError(f"[{self.name}] {key}: {why}")

    def text(self, key, default=None):
        self.read.add(key)
        if key in self.values:
            return self.values[key].strip()
        if default is None:
            self.fail(key, "missing")
        return default

    def number(self, key, default, kind, low, high):
        raw = self.text(key, str(default))
        try:
            value = kind(raw)
        except ValueError:
            self.fail(key, f"{raw!r} is not a {'whole ' if kind is int else ''}number")
        if not low <= value <= high:
            self.fail(key, f"{raw} is outside {low}..{high}")
        return value

    def boolean(self, key, default):
        raw = self.text(key, "true" if default else "false").lower()
        if raw not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
            self.fail(key, f"{raw!r} is not true or false")
        return raw in ("true", "yes", "1", "on")

    def reject_unknown(self, is_extra=lambda key: False):
        for key in self.values:
            if key not in self.read and not is_extra(key):
                self.fail(key, "unknown key")


def _cors(parser):
    section = _Section(parser, "cors")
    origins = split_list(section.text("origins"))
    if not origins:
        section.fail("origins", "empty: list at least one origin")
    paths = split_list(section.text("paths"))
    for path in paths:
        if not path.startswith("/"):
            section.fail("paths", f"{path!r} does not start with /")
    path_origins = {}
    for key in section.values:
        if key.startswith("/"):
            if key not in paths:
                section.fail(key, "per-path origins for a path not listed in paths")
            path_origins[key] = split_list(section.text(key))
            if not path_origins[key]:
                section.fail(key, "empty: list at least one origin")
    settings = CorsSettings(
        origins=origins,
        paths=paths,
        path_origins=path_origins,
        max_age=section.number("max_age", 600, int, 0, 86400),
        allow_headers=split_list(section.text("allow_headers", "Content-Type")),
        allow_credentials=section.boolean("allow_credentials", False),
    )
    section.reject_unknown(lambda key: key.startswith("/"))
    return settings


def _scraper(parser):
    section = _Section(parser, "scraper")
    settings = ScraperSettings(
        source=section.text("source", "demo"),
        url=section.text("url", ""),
        browsers=section.number("browsers", 2, int, 1, 32),
        warm_browsers=section.number("warm_browsers", 1, int, 0, 32),
        checkout_timeout=section.number("checkout_timeout", 2, float, 0, 60),
        page_timeout=section.number("page_timeout", 8, float, 0.1, 120),
        recycle_after=section.number("recycle_after", 200, int, 1, 1_000_000),
        remote_url=section.text("remote_url", ""),
        line=section.text("line", LINES[0]),
        chromium=section.text("chromium", CHROMIUM),
        chromedriver=section.text("chromedriver", CHROMEDRIVER),
    )
    for key in ("url", "remote_url"):
        value = getattr(settings, key)
        if value and not re.match(r"^(https?|file)://", value):
            section.fail(key, f"{value!r} is not an http(s):// or file:// URL")
    if settings.line not in LINES:
        section.fail("line", f"{settings.line!r} is not one of {' '.join(LINES)}")
    section.reject_unknown()
    return settings


def _cache(parser):
    section = _Section(parser, "cache")
    settings = CacheSettings(
        ttl=section.number("ttl", 300, int, 0, 86400 * 7),
        size=section.number("size", 2000, int, 0, 1_000_000),
    )
    section.reject_unknown()
    return settings


def _metrics(parser):
    if not parser.has_section("metrics"):      # optional: the defaults suit most hosts
        return MetricsSettings()
    section = _Section(parser, "metrics")
    allow = split_list(section.text("allow", " ".join(MetricsSettings.allow)))
    for item in allow:
        if item != "unix":
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                section.fail("allow", f"{item!r} is not an IP address, a network such as "
                                      f"10.0.0.0/8, or unix")
    section.reject_unknown()
    return MetricsSettings(allow=allow)


def load_config(path=None):
    """Read the file named by `path`, else $SEARCHADDR_CONFIG, else the repo's searchaddr.ini."""
    path = path or os.environ.get("SEARCHADDR_CONFIG") or DEFAULT_PATH
    parser = configparser.ConfigParser(
        interpolation=None,            # '%' is a literal character
        inline_comment_prefixes=(";",),
        comment_prefixes=("#", ";"),
        empty_lines_in_values=False,
    )
    parser.optionxform = str           # path keys such as /searchaddr2 keep their case
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except (configparser.Error, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} is not valid INI: {error}") from None
    try:
        return Config(path=path, cors=_cors(parser), scraper=_scraper(parser),
                      cache=_cache(parser), metrics=_metrics(parser))
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
