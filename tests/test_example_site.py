"""The Jekyll example as its README runs it: `jekyll serve` next to `uwsgi --ini uwsgi.ini:dev`.

The page must search the development server's address, and the origins `jekyll serve` serves it
on must be allowed by the shipped searchaddr.ini.
"""
import configparser
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "jekyll"
JEKYLL_SERVE_ORIGINS = ("http://127.0.0.1:4000", "http://localhost:4000")


def dev_http_address():
    uwsgi = configparser.ConfigParser(strict=False, interpolation=None)
    uwsgi.read(REPO / "uwsgi.ini", encoding="utf-8")
    return uwsgi["dev"]["http"]


def test_the_example_searches_the_development_server():
    config = (EXAMPLE / "_config.yml").read_text(encoding="utf-8")
    api = re.search(r"^\s+api:\s*(\S+)", config, re.MULTILINE).group(1)
    assert api == f"http://{dev_http_address()}"


def test_the_shipped_config_allows_the_example_where_jekyll_serve_serves_it():
    service = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    service.read(REPO / "searchaddr.ini", encoding="utf-8")
    origins = service["cors"]["origins"].replace(",", " ").split()
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    for origin in JEKYLL_SERVE_ORIGINS:
        assert origin in origins
        assert origin in readme
