"""The answer cache's key is what the page makes of a query (DemoSource.query_key), held against the
page itself in real Chromium: queries with one key get one answer from the page, and a query the
page answers otherwise never takes another's cached answer."""
import contextlib
import re
import unicodedata
import urllib.parse

import pytest
from webob import Request

from tests.support.browsers import FAST_SITE, real_browser, wait_for_no_browsers
from tests.support.config import write_config
from scraper.sources.demo import DemoSource

pytestmark = pytest.mark.integration

# Spellings the page answers alike: case and hyphens of an English road name, the spaces, commas
# and parentheses between words.
ALIKE = (
    ("Sejong-daero 110", "sejong daero 110", "SEJONG-DAERO  110", "Sejong-Daero,110", "sejongdaero 110"),
    ("세종대로 110", " 세종대로  110 ", "세종대로,110", "(세종대로) 110", "세종대로\u3000110", "세종대로110"),
    ("Teheran-ro 4-gil 5", "teheran-ro 4-gil 5", "TEHERAN-RO 4-GIL 5", "teheranro 4gil 5"),
    ("110 Sejong-daero, Jung-gu, Seoul", "110 sejong-daero jung-gu seoul", "110 SEJONG-DAERO,JUNG-GU,SEOUL",
     "110 Sejong daero Jung gu Seoul", "(110) Sejong-daero Jung-gu, Seoul"),
    ("Seoul", "seoul", " SEOUL "),
)
# Spellings Python's casefold() makes one, which the page answers otherwise; and look-alikes the
# page reads otherwise: a number glued to an area stays in its word, digits inside a road name stay
# in it, English area names count at the end of an English name only.
APART = (("ſejong-daero 110", "Sejong-daero 110"), ("Straße 1", "strasse 1"), ("서울110", "서울 110"),
         ("세종대로23길", "세종대로 23길"), ("세종대로110", "세종대로1 10"),
         ("Sejong-daero Seoul", "Seoul Sejong-daero"))

# What the page ignores in a query, each a function of the query: every one must leave its key and
# its answer as they were.
NORMALIZATIONS = {
    "more white space": lambda q: " " + q.replace(" ", " \u00a0") + "\u3000",
    "commas for spaces": lambda q: q.replace(" ", ","),
    "in parentheses": lambda q: "(" + q.replace(" ", ") (") + ")",
    "decomposed Hangul (NFD)": lambda q: unicodedata.normalize("NFD", q),
    "upper case": str.upper,
    "lower case": str.lower,
    "no hyphens in English words": lambda q: re.sub(r"(?<=[A-Za-z0-9])-(?=[A-Za-z])|(?<=[A-Za-z])-(?=[0-9])",
                                                    "", q),
    "a building number glued to its road": lambda q: re.sub("([로길]) ([0-9])", r"\1\2", q),
    "English words run together": lambda q: re.sub("(?<=[A-Za-z]) (?=[A-Za-z])", "", q),
}
BASES = ("세종대로 110", "테헤란로 152", "서울 중구 세종대로 110", "세종대로23길 5", "4.19로 1", "태평로1가 세종대로",
         "110 Sejong-daero, Jung-gu, Seoul", "442-24 Yukchang-ro, Gunnam-myeon, Yeonggwang-gun, Jeollanam-do",
         "Teheran-ro 4-gil 5", "Seoul", "Gyeonggi-do 110", "Gangwon State 중앙로", "04524 세종대로")


@contextlib.contextmanager
def page_answers():
    """answer(q) -> (total, ids of the first page) from the real page, in one browser."""
    source = DemoSource(FAST_SITE)
    with real_browser(30) as driver:
        source.open(driver)

        def answer(q):
            found = source.search(driver, q, 1, 10)
            return found["total"], tuple(address["id"] for address in found["results"])

        yield answer


def test_queries_with_one_key_get_one_answer_from_the_page_and_others_do_not():
    with page_answers() as answer:
        for spellings in ALIKE:
            assert len({DemoSource.query_key(q) for q in spellings}) == 1, spellings
            answers = {q: answer(q) for q in spellings}
            assert len(set(answers.values())) == 1, answers
            assert answers[spellings[0]][0] > 0
        for first, second in APART:
            assert DemoSource.query_key(first) != DemoSource.query_key(second)
            assert first.casefold() == second.casefold() or answer(first) != answer(second), (first, second)
        assert answer("ſejong-daero 110")[0] == 0 and answer("Sejong-daero 110")[0] == 1


def test_every_normalization_the_page_makes_keeps_the_key_and_the_answer():
    """For each way of writing a query that the page reads alike (NORMALIZATIONS), on queries of
    every kind: the same key and the same answer; the answers are not empty."""
    with page_answers() as answer:
        wrong = []
        for base in BASES:
            wanted = answer(base)
            assert wanted[0] > 0, base
            for name, normalize in NORMALIZATIONS.items():
                q = normalize(base)
                if q != base and (DemoSource.query_key(q) != DemoSource.query_key(base) or answer(q) != wanted):
                    wrong.append((name, base, q, DemoSource.query_key(q), DemoSource.query_key(base)))
        assert wrong == [], wrong


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


# Through the service: what pasting brings along (handlers/params.py) and what the page reads alike
# share one cached answer with the plain query.
PASTED = (("세종대로110", "세종대로 110", "세종대로\t110", "세종대로\n110", "세종\u200b대로110", "세종대로 \uff11\uff11\uff10",
           "\u200e세종대로\u00ad 110\ufeff"),
          ("110 Sejong-daero, Jung-gu, Seoul", "110 sejong-daero jung-gu seoul", "110 Sejong-daero,\tJung-gu,\nSeoul",
           "\uff11\uff11\uff10 \uff33ejong-daero, Jung-gu, Seoul"))


def test_pasted_forms_share_the_plain_querys_answer(process_tag, tmp_path):
    import wsgi_app
    app = wsgi_app.create_app(write_config(tmp_path / "searchaddr.ini", scraper={
        "browsers": "1", "page_timeout": "30", "url": FAST_SITE}))
    try:
        for spellings in PASTED:
            first = get(app, spellings[0])
            assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
            assert [r["road_address"] for r in first.json["results"]] == ["서울특별시 중구 세종대로 110"]
            for q in spellings[1:]:
                again = get(app, q)
                assert again.status_code == 200, (q, again.json)
                assert again.headers["X-Cache"] == "HIT", q
                assert again.json["results"] == first.json["results"], q
    finally:
        app.pool.close()
    assert wait_for_no_browsers(process_tag) == []
