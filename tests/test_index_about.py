"""What the page's index holds (its about.json): read without a browser, reported by /healthz,
/metrics and `cli.py doctor`; answers of one index are never served by workers of another."""
import json
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from webob import Request

import cli
from answers import AddressAnswers, Admission
from answers.caches import MemoryCache
from config import load_config
from scraper.sources.demo import DemoSource
from scraper.sources.demo_index import UNKNOWN, describe, index_dir, parse_about, read_about, stamp
from tests.support.servers import ROOT
from tests.support.config import write_config
from tests.support.fakes import FakePool, FakeSource
from wsgi_app import build_app, create_app

OFFICIAL = {"source": "official", "note": "도로명주소 한글 전체분 2026-03", "base_date": "2026-03-31",
            "addresses": 6416637, "related_lots": 1834220, "version": "rows-3f0c2a9b1d4e"}


def page_with_index(tmp_path, about=None, index_js=True):
    """A demo page directory: index.html, and data/ with index.js and about.json (when given);
    returns the page's file:// URL."""
    (tmp_path / "data").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>", encoding="utf-8")
    if index_js:
        (tmp_path / "data" / "index.js").write_text("searchaddrIndex({});\n", encoding="ascii")
    if about is not None:
        text = about if isinstance(about, str) else json.dumps(about)
        (tmp_path / "data" / "about.json").write_text(text, encoding="utf-8")
    return (tmp_path / "index.html").as_uri()


def get(app, path):
    return Request.blank(path, environ={"REMOTE_ADDR": "127.0.0.1"}).get_response(app)


def exposed(app):
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(get(app, "/metrics").text)
            for sample in family.samples}


# ---------------------------------------------------------------- the pure parts

def test_the_index_is_data_beside_a_local_page_only(tmp_path):
    page = tmp_path / "site dir" / "index.html"
    assert index_dir(page.as_uri()) == tmp_path / "site dir" / "data"
    assert index_dir(page.as_uri() + "?latency=0") == tmp_path / "site dir" / "data"
    assert index_dir("file://localhost/srv/site/index.html").as_posix() == "/srv/site/data"
    assert index_dir(DemoSource.default_url) == Path(ROOT) / "demo_site" / "data"
    for remote in ("http://127.0.0.1:8080/index.html", "https://example.com/", "file://host/x.html",
                   "", None):
        assert index_dir(remote) is None


def test_about_json_as_the_builder_writes_it():
    assert parse_about(json.dumps(OFFICIAL)) == OFFICIAL
    kozip = {"source": "kozip", "note": "Korea Post via kozip 1.1.4", "base_date": "2021-11-03",
             "addresses": 6367365, "related_lots": None, "version": "rows-8a41c07e2b95", "later": 1}
    assert parse_about(json.dumps(kozip)) == {key: kozip[key] for key in UNKNOWN}
    assert describe(parse_about(json.dumps(OFFICIAL))) == "official, base date 2026-03-31, 6,416,637 addresses"
    assert describe(UNKNOWN) == "unknown (no about.json)"


@pytest.mark.parametrize("change, named", [
    ({"source": "juso"}, "source"), ({"base_date": "2026-02-30"}, "base_date"),
    ({"base_date": 20260331}, "base_date"), ({"addresses": -1}, "addresses"),
    ({"addresses": True}, "addresses"), ({"addresses": "6416637"}, "addresses"),
    ({"related_lots": 1.5}, "related_lots"), ({"note": 3}, "note"), ({"version": ["x"]}, "version"),
])
def test_a_malformed_about_json_names_its_field(change, named):
    with pytest.raises(ValueError, match=named):
        parse_about(json.dumps(dict(OFFICIAL, **change)))


@pytest.mark.parametrize("text", ["", "{", "[]", '"official"', '{"source": "official"}'])
def test_what_is_not_an_about_json_is_refused(text):
    with pytest.raises(ValueError):
        parse_about(text)


def test_reading_about_json(tmp_path):
    assert read_about(None) == UNKNOWN
    assert read_about(tmp_path) == UNKNOWN                 # built before indexes said what they hold
    (tmp_path / "about.json").write_text(json.dumps(OFFICIAL), encoding="utf-8")
    assert read_about(tmp_path) == OFFICIAL
    (tmp_path / "about.json").write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError, match="about.json"):
        read_about(tmp_path)


# ---------------------------------------------------------------- the service reports it

def app_for(tmp_path, index=None):
    config = load_config(write_config(tmp_path / "searchaddr.ini"))
    return build_app(config, FakePool(FakeSource()), MemoryCache(10, 60), index=index)


def test_healthz_and_metrics_say_what_the_index_holds(tmp_path):
    app = app_for(tmp_path, OFFICIAL)
    health = get(app, "/healthz")
    assert health.status_code == 200 and health.json["index"] == OFFICIAL
    found = exposed(app)
    assert found[("searchaddr_index_info", (("base_date", "2026-03-31"), ("source", "official")))] == 1
    assert found[("searchaddr_index_addresses", (("source", "official"),))] == 6416637


def test_an_unknown_index_is_null_in_healthz_and_has_no_count_in_metrics(tmp_path):
    app = app_for(tmp_path)
    assert get(app, "/healthz").json["index"] == UNKNOWN
    found = exposed(app)
    assert found[("searchaddr_index_info", (("base_date", "unknown"), ("source", "unknown")))] == 1
    assert not [key for key in found if key[0] == "searchaddr_index_addresses"]


def test_create_app_reads_the_pages_about_json_once_and_starts_no_browser(tmp_path):
    url = page_with_index(tmp_path, OFFICIAL)
    config = write_config(tmp_path / "searchaddr.ini", scraper={"url": url + "?latency=0"})
    app = create_app(config)
    try:
        assert get(app, "/healthz").json["index"] == OFFICIAL
        # Read at start: a worker reports the index its browsers loaded until it is replaced.
        (tmp_path / "data" / "about.json").write_text(json.dumps(dict(OFFICIAL, addresses=1)))
        assert get(app, "/healthz").json["index"]["addresses"] == 6416637
        assert app.pool.status()["open"] == 0
    finally:
        app.pool.close()


def test_a_malformed_about_json_leaves_the_service_starting_with_an_unknown_index(tmp_path, caplog):
    url = page_with_index(tmp_path, "{not json")
    app = create_app(write_config(tmp_path / "searchaddr.ini", scraper={"url": url}))
    try:
        assert get(app, "/healthz").json["index"] == UNKNOWN
        assert "about.json" in caplog.text
    finally:
        app.pool.close()


def test_answers_of_one_index_are_not_answers_of_the_next():
    """The shared cache outlives a chain reload; a worker of a new index asks its own page."""
    cache, old, new = MemoryCache(10, 60), FakeSource(), FakeSource()
    day, next_day = OFFICIAL, dict(OFFICIAL, base_date="2026-04-01", version=None)
    assert stamp(day) != stamp(next_day) and stamp(UNKNOWN) == ""
    before = AddressAnswers(FakePool(old), cache, Admission(None, 2, 2, 8), stamp(day))
    after = AddressAnswers(FakePool(new), cache, Admission(None, 2, 2, 8), stamp(next_day))
    assert before.search("시청", 1, 10)[1].cache == "miss"
    assert before.search("시청", 1, 10)[1].cache == "hit"
    assert after.search("시청", 1, 10)[1].cache == "miss" and new.calls == 1


# ---------------------------------------------------------------- cli.py doctor

@pytest.mark.parametrize("about, index_js, ok, line", [
    (OFFICIAL, True, True, "ok   index: official, base date 2026-03-31, 6,416,637 addresses"),
    (None, True, True, "ok   index: unknown (no about.json) in "),
    (None, False, False, "FAIL index: "),
    ('{"source": "official"}', True, False, "FAIL index: "),
])
def test_doctor_reports_the_index(tmp_path, capsys, about, index_js, ok, line):
    source = DemoSource(page_with_index(tmp_path, about, index_js))

    def report(good, what):
        print(f"{'ok  ' if good else 'FAIL'} {what}")
        return good
    assert cli.check_index(source, report) is ok
    assert capsys.readouterr().out.startswith(line)


def test_doctor_leaves_a_page_elsewhere_alone(capsys):
    assert cli.check_index(DemoSource("http://127.0.0.1:9/index.html"), lambda good, what: good)


# ---------------------------------------------------------------- a worker that replaces another

def test_time_queued_before_the_worker_served_is_not_a_browser_wait():
    from handlers import queued_seconds
    now = time.time()
    environ = {"HTTP_X_REQUEST_START": f"t={now - 3.0:.3f}"}
    assert 2.9 < queued_seconds(environ) < 3.5
    assert 0.9 < queued_seconds(environ, serving_since=now - 1.0) < 1.5
    assert queued_seconds({}, serving_since=now) == 0.0


def test_a_new_worker_waits_for_its_warm_browsers_or_a_failed_start():
    from worker import wait_for_warm_browsers

    class Starting:
        warm_count = 1

        def __init__(self, usable_after, fails=False):
            self.ready_at = time.monotonic() + usable_after
            self.fails = fails

        def usable(self):
            return int(not self.fails and time.monotonic() >= self.ready_at)

        def status(self):
            return {"failed_starts": int(self.fails and time.monotonic() >= self.ready_at), "closed": False}

    for make, limit, least in ((lambda: Starting(0.15), 5, 0.15), (lambda: Starting(0.15, True), 5, 0.15),
                               (lambda: Starting(60), 0.2, 0.2)):
        started = time.monotonic()
        wait_for_warm_browsers(make(), limit)
        assert least <= time.monotonic() - started < least + 0.5
