"""The answer cache's key is what the page makes of a query (DemoSource.query_key), held against the
page itself in real Chromium: queries with one key get one answer from the page, and a query the
page answers otherwise never takes another's cached answer."""
import urllib.parse

import pytest
from webob import Request

from conftest import FAST_SITE, real_browser, wait_for_no_browsers, write_config
from scraper.sources.demo import DemoSource

pytestmark = pytest.mark.integration

# Spellings the page answers alike: case and hyphens of an English road name, the spaces, commas
# and parentheses between words.
ALIKE = (
    ("Sejong-daero 110", "sejong daero 110", "SEJONG-DAERO  110", "Sejong-Daero,110", "sejongdaero 110"),
    ("세종대로 110", " 세종대로  110 ", "세종대로,110", "(세종대로) 110", "세종대로\u3000110"),
    ("Teheran-ro 4-gil 5", "teheran-ro 4-gil 5", "TEHERAN-RO 4-GIL 5", "teheranro 4gil 5"),
)
# Spellings Python's casefold() makes one, which the page answers otherwise.
APART = (("ſejong-daero 110", "Sejong-daero 110"), ("Straße 1", "strasse 1"))


def test_queries_with_one_key_get_one_answer_from_the_page_and_others_do_not():
    source = DemoSource(FAST_SITE)
    with real_browser(30) as driver:
        source.open(driver)

        def answer(q):
            found = source.search(driver, q, 1, 10)
            return found["total"], tuple(address["id"] for address in found["results"])

        for spellings in ALIKE:
            assert len({DemoSource.query_key(q) for q in spellings}) == 1, spellings
            answers = {q: answer(q) for q in spellings}
            assert len(set(answers.values())) == 1, answers
            assert answers[spellings[0]][0] > 0
        for first, second in APART:
            assert first.casefold() == second.casefold()
            assert DemoSource.query_key(first) != DemoSource.query_key(second)
        assert answer("ſejong-daero 110")[0] == 0 and answer("Sejong-daero 110")[0] == 1


def get(app, q):
    return Request.blank("/searchaddr1?" + urllib.parse.urlencode({"q": q, "per_page": 7})).get_response(app)


def test_a_query_the_page_finds_nothing_for_does_not_poison_its_look_alike(process_tag, tmp_path):
    import wsgi_app
    app = wsgi_app.create_app(write_config(tmp_path / "searchaddr.ini", scraper={
        "browsers": "1", "page_timeout": "30", "url": FAST_SITE}))
    try:
        first = get(app, "ſejong-daero 110")
        assert first.status_code == 200 and first.json["total"] == 0
        second = get(app, "Sejong-daero 110")
        assert second.status_code == 200 and second.headers["X-Cache"] == "MISS"
        assert second.json["total"] == 1
        assert second.json["results"][0]["road_address"] == "서울특별시 중구 세종대로 110"
        again = get(app, "sejong daero 110")
        assert again.headers["X-Cache"] == "HIT" and again.json["total"] == 1
        assert again.json["query"] == "sejong daero 110"
    finally:
        app.pool.close()
    assert wait_for_no_browsers(process_tag) == []
