"""The page built from the ministry's files (build_index.py --data) answers as docs/search.md says.

Integration: the real page from file:// in real headless Chromium, on an index built by the
generator's command line from a small file in the official layout (tests/support/official_sample.py:
the real lines of the ministry's file with test related lots, and kozip's real addresses of Sejong
and one 구 of Daejeon with made-up codes, lots and building names), checked against the brute-force
oracle tests/support/official_oracle.py. The draws are random per run: the seed is printed, and
SEARCHADDR_OFFICIAL_SEED=N repeats a run.
"""
import os
import random

import pytest

from tests.support.binaries import need
from tests.support.national_data import first_difference
from tests.support.official_oracle import OfficialData, base36, random_queries
from tests.support.official_site import PER_PAGE, build_site, opened_page
from tests.support.official_sample import SEJONG_ADDRESS as SEJONG, WONJU_ADDRESS as WONJU, write_sample

# A fixed seed, so a run is repeatable; SEARCHADDR_OFFICIAL_SEED=N tries others.
SEED = int(os.environ.get("SEARCHADDR_OFFICIAL_SEED") or 20261205)
RANDOM_QUERIES = 264

ADMIN_CODES = {"30145": "3611010100", "26304": "5113031026"}
# The real lines (and their related lots, test values) by the ways docs/search.md names.
REAL_QUERIES = [
    ("반곡동 47-1", SEJONG), ("세종 반곡동 47-1", SEJONG), ("교항리 20-3", WONJU), ("수루배", SEJONG),
    ("세종 수루배", SEJONG), ("수루배마을5단지 상가동", SEJONG), ("한누리대로 1811", SEJONG),
    ("반곡동 48", SEJONG), ("반곡동 50-2", SEJONG), ("대평동 12", SEJONG), ("교항리 산 21", WONJU),
    ("소초면 교항리 산21", WONJU), ("교항리 20-5", WONJU), ("강원도 원주시 장작터길 77", WONJU),
    ("Jangjakteo-gil 77", WONJU), ("30145 수루배", SEJONG), ("한누리대로1811", SEJONG),
    ("1811 Hannuri-daero, Sejong-si", SEJONG), ("77 jangjakteo-gil socho-myeon wonju-si gangwon state", WONJU),
    ("수루배 Sejong", SEJONG),
]
# docs/search.md's examples, the cases it names, and what must find nothing.
FIXED_QUERIES = [
    "반곡동 47-1", "세종 반곡동 47-1", "교항리 20-3", "소초면 교항리 산 20", "시드니블루", "세종 수루배",
    "수루배마을5단지 상가동", "세종대로 지하 2", "반곡동 47", "교항리 20", "반곡동 12", "교항리 21",
    "교항리 산 20-3", "시험중복상가", "한누리대로", "한누리대로 지하 1811", "원주 교항리 20-3",
    "원주시 교항리 20-3", "반곡동 047-1", "반곡동 47-0", "47-1", "상가동", "30145", "대평동 한누리대로 1811",
    "세종 대평동 12", "반곡동 수루배", "지하 1811", "세종 반곡동", "대전 대덕구", "세종시 조치원읍 신안리",
    "Sejong 반곡동 47-1", "Wonju-si 교항리 20-3", "Socho-myeon 20-3", "Sejong", "Daedeok-gu Daejeon",
]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def chromium_installed():
    need("/usr/bin/chromium", "apt-get install -y chromium chromium-driver")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("official-data") / "202603_test_full.zip")


@pytest.fixture(scope="module")
def oracle(sample):
    return OfficialData(sample)


@pytest.fixture(scope="module")
def site(sample, tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("official-site"), sample)


@pytest.fixture(scope="module")
def page(site):
    with opened_page(site) as page:
        yield page


def wanted_page(oracle, positions, page, prefix):
    return [oracle.addresses[p].address(prefix + base36(p)) for p in positions[(page - 1) * PER_PAGE:page * PER_PAGE]]





def compare(oracle, page, queries):
    """[(kind, q, page number, page's total, oracle's total, first difference)] for the queries whose
    first page (and second, when there is one) differs from the oracle's; and how many pages compared."""
    wrong, pages = [], 0
    for kind, q in queries:
        total, positions = oracle.search(q)
        for number in (1, 2):
            if number == 2 and total <= PER_PAGE:
                break
            found = page.search(q, number)
            pages += 1
            prefix = page.prefix or "o????"
            wanted = wanted_page(oracle, positions, number, prefix)
            if found["total"] != total or found["results"] != wanted:
                wrong.append((kind, q, number, found["total"], total, first_difference(found["results"], wanted)))
                break
    return wrong, pages


def report(wrong):
    for kind, q, number, got, total, difference in wrong:
        print(f"  MISMATCH {kind} q={q!r} page {number}: page total {got}, oracle total {total}; "
              f"first difference (index, page, oracle): {difference}")


def test_the_real_lines_are_found_with_every_field(oracle, page):
    """Each way of asking for the two real addresses finds them, every field as the ministry's line
    says; the detail adds the 법정동코드."""
    wrong = []
    for q, wanted in REAL_QUERIES:
        found = page.search(q)
        hits = [r for r in found["results"] if r["road_address"] == wanted["road_address"]]
        if len(hits) != 1 or {k: v for k, v in hits[0].items() if k != "id"} != wanted:
            wrong.append((q, found["total"], hits))
            continue
        detail = page.detail(hits[0]["id"])
        if detail != dict(hits[0], lat=None, lng=None, admin_code=ADMIN_CODES[wanted["zip"]]):
            wrong.append((q, "detail", detail))
    for case in wrong:
        print("  REAL LINE NOT AS WANTED:", case)
    assert wrong == []
    for _, wanted in REAL_QUERIES[:3]:
        position = next(p for p, a in enumerate(oracle.addresses) if a.road_address() == wanted["road_address"])
        assert oracle.addresses[position].address("x") == dict(wanted, id="x")


def test_the_specs_examples_and_fixed_cases_as_the_oracle(oracle, page):
    wrong, pages = compare(oracle, page, [("fixed", q) for q in FIXED_QUERIES])
    print(f"\n{len(FIXED_QUERIES)} fixed queries, {pages} pages compared")
    report(wrong)
    assert wrong == []


def test_random_queries_count_and_order_as_the_oracle(oracle, page):
    """Random queries of every kind: total, ids in order and every field of pages 1 and 2."""
    queries = random_queries(oracle, SEED, RANDOM_QUERIES)
    wrong, pages = compare(oracle, page, queries)
    print(f"\n{RANDOM_QUERIES} random queries (seed {SEED}; SEARCHADDR_OFFICIAL_SEED={SEED} repeats them): "
          f"{RANDOM_QUERIES - len(wrong)} agree, {pages} pages compared")
    report(wrong)
    assert wrong == [], SEED


def test_detail_equals_the_oracles_address(oracle, page):
    """/searchaddr2's answer for ids the oracle gives: every field, admin_code the 법정동코드."""
    if page.prefix is None:
        page.search("반곡동 47-1")
    rng = random.Random(SEED + 1)
    positions = rng.sample(range(oracle.count), 12) + [0, oracle.count - 1]
    positions += [p for p, a in enumerate(oracle.addresses) if a.underground or a.related][:4]
    wrong = []
    for position in positions:
        address_id = page.prefix + base36(position)
        found = page.detail(address_id)
        wanted = oracle.addresses[position].detail(address_id)
        if found != wanted:
            wrong.append((address_id, found, wanted))
    for case in wrong:
        print("  DETAIL MISMATCH %s: page %s, oracle %s" % case)
    assert wrong == []
    assert page.detail(page.prefix + base36(oracle.count)) is None          # one past the last
    other = "o" + ("a" if page.prefix[1] != "a" else "b") + page.prefix[2:]
    assert page.detail(other + "0") is None                                  # another build's id


def test_an_underground_building_under_one_above_ground_is_its_own_address(tmp_path):
    """한누리대로 지하 1811 (a test line) beside the real 한누리대로 1811: two addresses, each found."""
    data = write_sample(tmp_path / "underground.zip", areas=(), underground=True)
    oracle = OfficialData(data)
    assert oracle.count == 3
    with opened_page(build_site(tmp_path, data)) as page:
        wrong, pages = compare(oracle, page, [("underground", q) for q in (
            "한누리대로 지하 1811", "한누리대로 1811", "한누리대로", "반곡동 47-1", "수루배시험지하상가", "지하 수루배",
            "장작터길 77")])
        report(wrong)
        assert wrong == []
        position = oracle.search("한누리대로 지하 1811")[1][0]
        assert page.detail(page.prefix + base36(position)) == oracle.addresses[position].detail(
            page.prefix + base36(position))


def test_san_after_the_number_is_not_a_mountain_lot(oracle, page):
    """`산` asks for a 산 lot only before the number: `교항리 21 산` is not `교항리 산 21` (a test lot)."""
    wrong, _ = compare(oracle, page, [("mountain", "교항리 21 산")])
    report(wrong)
    assert wrong == []
