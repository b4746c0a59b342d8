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


def setting(default, low=None, high=None):
    """A setting's default, equal to the shipped searchaddr.ini's, and a number's allowed range:
    each written once, here; the parser below reads every setting by its field."""
    return field(default=default, metadata={} if low is None else {"range": (low, high)})


@dataclass(frozen=True)
class CorsSettings:
    origins: tuple
    paths: tuple
    path_origins: dict = field(default_factory=dict)   # path -> tuple of origins
    max_age: int = setting(600, 0, 86400)
    allow_headers: tuple = ("Content-Type",)
    allow_credentials: bool = False


@dataclass(frozen=True)
class ScraperSettings:
    source: str = "demo"
    url: str = ""
    browsers: int = setting(1, 1, 32)
    warm_browsers: int = setting(1, 0, 32)
    checkout_timeout: float = setting(2.0, 0, 60)
    page_timeout: float = setting(8.0, 0.1, 120)
    recycle_after: int = setting(1000, 1, 1_000_000)
    remote_url: str = ""
    line: str = LINES[0]
    chromium: str = CHROMIUM
    chromedriver: str = CHROMEDRIVER


@dataclass(frozen=True)
class CacheSettings:
    ttl: int = setting(300, 0, 86400 * 7)
    size: int = setting(1000, 0, 1_000_000)


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

    def setting(self, settings, name):
        """The field `name` of the dataclass `settings`, read as its type; its default if absent."""
        spec = settings.__dataclass_fields__[name]
        if spec.type is bool:
            return self.boolean(name, spec.default)
        if spec.type is tuple:
            return split_list(self.text(name, " ".join(spec.default)))
        if spec.type in (int, float):
            return self.number(name, spec.default, spec.type, *spec.metadata["range"])
        return self.text(name, spec.default)

    def settings(self, settings, names=None):
        """{name: value} of these fields of `settings` (default: all of them)."""
        return {name: self.setting(settings, name) for name in names or settings.__dataclass_fields__}

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
    settings = CorsSettings(origins=origins, paths=paths, path_origins=path_origins,
                            **section.settings(CorsSettings, ("max_age", "allow_headers", "allow_credentials")))
    section.reject_unknown(lambda key: key.startswith("/"))
    return settings


def _scraper(parser):
    section = _Section(parser, "scraper")
    settings = ScraperSettings(**section.settings(ScraperSettings))
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
    settings = CacheSettings(**section.settings(CacheSettings))
    section.reject_unknown()
    return settings


def _metrics(parser):
    if not parser.has_section("metrics"):      # optional: the defaults suit most hosts
        return MetricsSettings()
    section = _Section(parser, "metrics")
    allow = section.setting(MetricsSettings, "allow")
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
