"""The INI config: precedence, parsing rules, and start-up errors that name section and key."""
import dataclasses

import pytest

from config import DEFAULT_PATH, CacheSettings, ConfigError, MetricsSettings, ScraperSettings, load_config
from tests.support.config import write_config
from wsgi_app import create_app


def test_the_repo_default_loads():
    config = load_config(DEFAULT_PATH)
    assert config.scraper.source == "demo"
    assert config.scraper.url == "" and config.scraper.remote_url == ""
    assert config.scraper.line == "devtools"
    assert config.cors.paths == ("/searchaddr1", "/searchaddr2")
    assert "https://blog.example.com" in config.cors.origins


def test_a_setting_left_out_of_a_file_is_the_shipped_files_value(tmp_path):
    shipped = load_config(DEFAULT_PATH)
    assert (shipped.scraper, shipped.cache, shipped.metrics) == (ScraperSettings(), CacheSettings(), MetricsSettings())
    path = tmp_path / "bare.ini"
    path.write_text("[cors]\norigins = https://blog.example.com\npaths = /searchaddr1 /searchaddr2\n"
                    "[scraper]\n[cache]\n", encoding="utf-8")
    bare = load_config(str(path))
    assert (bare.scraper, bare.cache, bare.metrics) == (shipped.scraper, shipped.cache, shipped.metrics)
    assert bare.cors == dataclasses.replace(shipped.cors, origins=("https://blog.example.com",))


def test_precedence_argument_then_environment_then_repo_file(tmp_path, monkeypatch):
    by_env = write_config(tmp_path / "env.ini", cache={"ttl": "11"})
    by_arg = write_config(tmp_path / "arg.ini", cache={"ttl": "22"})
    monkeypatch.setenv("SEARCHADDR_CONFIG", by_env)
    assert load_config().cache.ttl == 11
    assert load_config(by_arg).cache.ttl == 22
    monkeypatch.delenv("SEARCHADDR_CONFIG")
    assert load_config().path == DEFAULT_PATH


def test_inline_comments_lists_percent_and_path_case(tmp_path):
    path = tmp_path / "c.ini"
    path.write_text(
        "[cors]\n"
        "origins = https://a.example.com,http://localhost:4000  https://b.example.com ; three\n"
        "paths = /searchaddr1,/searchaddr2\n"
        "/searchaddr2 = https://b.example.com   ; only b\n"
        "[scraper]\n"
        "url = file:///srv/site/index.html?x=100%   ; percent is literal\n"
        "browsers = 3 ; per worker\n"
        "[cache]\n"
        "ttl = 5\n", encoding="utf-8")
    config = load_config(str(path))
    assert config.cors.origins == ("https://a.example.com", "http://localhost:4000", "https://b.example.com")
    assert config.cors.path_origins == {"/searchaddr2": ("https://b.example.com",)}
    assert config.scraper.url == "file:///srv/site/index.html?x=100%"
    assert config.scraper.browsers == 3 and config.cache.ttl == 5


@pytest.mark.parametrize("sections, named", [
    ({"scraper": {"browsers": "two"}}, "[scraper] browsers"),
    ({"scraper": {"browsers": "0"}}, "[scraper] browsers"),
    ({"scraper": {"page_timeout": "-1"}}, "[scraper] page_timeout"),
    ({"scraper": {"checkout_timeout": "soon"}}, "[scraper] checkout_timeout"),
    ({"scraper": {"recycle_after": "1.5"}}, "[scraper] recycle_after"),
    ({"scraper": {"remote_url": "127.0.0.1:4444"}}, "[scraper] remote_url"),
    ({"scraper": {"url": "javascript:alert(1)"}}, "[scraper] url"),
    ({"scraper": {"line": "bidi"}}, "[scraper] line"),
    ({"scraper": {"brwsers": "2"}}, "[scraper] brwsers"),
    ({"cache": {"ttl": "-5"}}, "[cache] ttl"),
    ({"cache": {"size": "lots"}}, "[cache] size"),
    ({"cors": {"origins": None}}, "[cors] origins"),
    ({"cors": {"paths": None}}, "[cors] paths"),
])
def test_invalid_values_name_section_and_key(tmp_path, sections, named):
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(tmp_path / "bad.ini", **sections))
    assert named in str(raised.value)


def test_missing_file_missing_section_and_broken_ini(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(str(tmp_path / "nope.ini"))
    (tmp_path / "nosection.ini").write_text("[cors]\norigins = https://a.test\npaths = /searchaddr1\n")
    with pytest.raises(ConfigError, match=r"missing section \[scraper\]"):
        load_config(str(tmp_path / "nosection.ini"))
    (tmp_path / "broken.ini").write_text("origins = https://a.test\n")
    with pytest.raises(ConfigError, match="not valid INI"):
        load_config(str(tmp_path / "broken.ini"))


def test_create_app_refuses_an_unknown_source(tmp_path):
    with pytest.raises(ConfigError, match=r"\[scraper\] source"):
        create_app(write_config(tmp_path / "c.ini", scraper={"source": "nosuchsite"}))
