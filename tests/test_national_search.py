"""The running service answers for the whole country as docs/search.md says.

Integration: real uWSGI (the repo's uwsgi.ini, two workers) behind a real nginx, real headless
Chromium on the real index (demo_site/data/, built by scripts/setup.sh), checked against the
brute-force oracle tests/support/national_data.py. The draws are random per run: the seed is printed,
and SEARCHADDR_NATIONAL_SEED=N repeats a run.
"""
import os
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from tests.support.processes import TAG_ENV, tagged_processes
from tests.support.browsers import wait_for_no_browsers
from tests.support.config import write_config
from tests.support.national_data import (address_id, first_difference, id_position, landmarks, load,
                                         random_positions, random_queries)
from tests.support.servers import ROOT, free_port, http_request, nginx_server, uwsgi_server, wait_until

SEED = int(os.environ.get("SEARCHADDR_NATIONAL_SEED") or random.SystemRandom().randrange(10 ** 6))
INDEX = os.path.join(ROOT, "demo_site", "data", "index.js")
CLIENTS = 4              # two workers with two browsers each
PER_PAGE = 50

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def national():
    return load()


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    """A real uWSGI (uwsgi.ini, unix socket) behind a real nginx; everything stopped afterwards."""
    assert os.path.exists(INDEX), "the national index is not built: run scripts/setup.sh"
    print(f"\nnational search seed: {SEED} (SEARCHADDR_NATIONAL_SEED={SEED} repeats this run)")
    tmp = tmp_path_factory.mktemp("national")
    tag = uuid.uuid4().hex
    sock, port = str(tmp / "searchaddr.sock"), free_port()
    # A page timeout that a busy test machine's browser start and first shard loads fit in.
    config = write_config(tmp / "searchaddr.ini", scraper={"page_timeout": "30"})
    env = {"SEARCHADDR_SOCKET": sock, "SEARCHADDR_CONFIG": config, TAG_ENV: tag}
    try:
        with uwsgi_server(env=env, log_path=tmp / "uwsgi.log") as server:
            wait_until(lambda: os.path.exists(sock) or server.poll() is not None, 60, "uwsgi socket")
            assert server.poll() is None, (tmp / "uwsgi.log").read_text(errors="replace")
            with nginx_server(sock, port):
                yield port
    finally:
        assert wait_for_no_browsers(tag) == []
        assert [p for p in tagged_processes(tag) if p.info["name"] == "uwsgi"] == []


def ask(port, path, **params):
    """(status, body) of a GET; a 503 busy is asked again after a moment."""
    for _ in range(5):
        status, _, body = http_request(port, "GET", f"{path}?{urlencode(params)}", timeout=90)
        if status != 503:
            break
        time.sleep(1)
    return status, body


def ask_all(port, queries, **params):
    """Start every search at once on CLIENTS threads; returns a function that waits for them."""
    clients = ThreadPoolExecutor(CLIENTS)
    futures = [clients.submit(ask, port, "/searchaddr1", q=q, **params) for q in queries]

    def results():
        try:
            return [future.result() for future in futures]
        finally:
            clients.shutdown()
    return results


def test_500_random_addresses_are_found_by_sigungu_road_and_number(national, port):
    """Each address drawn from the source data is found by `sigungu road number` (`road number`
    in 세종, which has no sigungu): a result carries its road_address and zip."""
    positions = random_positions(national, SEED, 500)
    rows = [national.row(p) for p in positions]
    queries = [" ".join(part for part in (row.sigungu, row.road, row.number) if part) for row in rows]
    answers = ask_all(port, queries, per_page=PER_PAGE)()
    failures, other_ids = [], []
    for position, row, q, (status, body) in zip(positions, rows, queries, answers):
        found = [r for r in body["results"] if (r["road_address"], r["zip"]) == (row.road_address(), row.zip)] \
            if status == 200 else []
        if not found:
            failures.append((q, row.road_address(), row.zip, status,
                             body.get("total") if isinstance(body, dict) else body))
        elif found[0]["id"] != address_id(position):
            other_ids.append((q, found[0]["id"], address_id(position)))
    print(f"\n500 addresses (seed {SEED}): {500 - len(failures)} found")
    for failure in failures:
        print("  NOT FOUND: q=%r wanted %s %s; status %s, total %s" % failure)
    for mismatch in other_ids:
        print("  found under another id: q=%r page %s, oracle %s" % mismatch)
    assert len(failures) <= 1, (SEED, failures)
    assert other_ids == [], (SEED, other_ids)


# docs/search.md's examples and the cases it names, with a second page for a long answer.
EXAMPLES = [("세종대로 110", 1), ("서울 중구 세종대로 110", 1), ("테헤란로 152", 1), ("강남구 테헤란로", 1),
            ("강남구 테헤란로", 2), ("세종대", 1), ("04524", 1), ("태평로1가 세종대로", 1),
            ("남창리 442-24", 1), ("Sejong-daero 110", 1), ("강원도 춘천시 중앙로", 1),
            ("강원도 춘천시 중앙로", 3), ("경상북도 군위군 삼국유사면", 1), ("전라북도 전주시 팔달로", 1),
            ("광주 상무대로", 1), ("광주시 경안로", 1), ("평사리(平沙)", 1), ("teheran-ro 4-gil", 1),
            ("SEJONG DAERO", 1), ("세종시 조치원읍", 2), ("20316", 1), ("세종대로 7", 1),
            ("세종대로110", 1), ("테헤란로152", 1), ("세종대로23길", 1), ("4.19로", 1),
            ("110 Sejong-daero, Jung-gu, Seoul", 1), ("Seoul", 1), ("Seoul", 3), ("Busan", 1),
            ("Gyeonggi-do", 1), ("Sejong", 1), ("Gyeongsangbuk-do", 1),
            ("442-24 Yukchang-ro, Gunnam-myeon, Yeonggwang-gun, Jeollanam-do", 1)]

# What people paste, and the address it must find first: the service's own english_address and
# its variants, building numbers glued to road names, and what copying brings along.
PASTED = [
    ("세종대로110", "서울특별시 중구 세종대로 110"), ("테헤란로152", "서울특별시 강남구 테헤란로 152"),
    ("서울 중구 세종대로110", "서울특별시 중구 세종대로 110"),
    ("110 Sejong-daero, Jung-gu, Seoul", "서울특별시 중구 세종대로 110"),
    ("110 Sejong-daero Jung-gu Seoul", "서울특별시 중구 세종대로 110"),
    ("110 sejong-daero, jung-gu, seoul", "서울특별시 중구 세종대로 110"),
    ("110 Sejong-daero, Jung-gu, Seoul 04524", "서울특별시 중구 세종대로 110"),
    ("110 Sejong-daero, 중구, 서울특별시", "서울특별시 중구 세종대로 110"),
    ("110 Sejong-daero, Jung-gu, 서울특별시", "서울특별시 중구 세종대로 110"),
    ("서울특별시 중구 세종대로110", "서울특별시 중구 세종대로 110"),
    ("152 Teheran-ro, Gangnam-gu, Seoul", "서울특별시 강남구 테헤란로 152"),
    ("442-24 Yukchang-ro, Gunnam-myeon, Yeonggwang-gun, Jeollanam-do", "전라남도 영광군 군남면 육창로 442-24"),
    ("세종대로\t110", "서울특별시 중구 세종대로 110"), ("세종대로\n110", "서울특별시 중구 세종대로 110"),
    ("세종\u200b대로 110", "서울특별시 중구 세종대로 110"), ("세종대로 \uff11\uff11\uff10", "서울특별시 중구 세종대로 110"),
    ("\u200e110 Sejong-daero,\u00a0Jung-gu, Seoul\ufeff", "서울특별시 중구 세종대로 110"),
]
# English area names as areas: every address of the area first.
AREAS = [("Seoul", "서울특별시"), ("Busan", "부산광역시"), ("Gyeonggi-do", "경기도"), ("Sejong", "세종특별자치시"),
         ("Gangwon State", "강원특별자치도")]


def test_what_people_paste_finds_its_address(port):
    answers = ask_all(port, [q for q, _ in PASTED], per_page=1)()
    wrong = [(q, wanted, status, body) for (q, wanted), (status, body) in zip(PASTED, answers)
             if status != 200 or [r["road_address"] for r in body["results"]] != [wanted]]
    assert wrong == [], wrong


def test_english_area_names_find_their_area(national, port):
    answers = ask_all(port, [q for q, _ in AREAS], per_page=PER_PAGE)()
    for (q, sido), (status, body) in zip(AREAS, answers):
        assert status == 200, (q, body)
        assert body["total"] >= len(national.area_rows(sido)) and body["total"] == national.search(q)[0], q
        assert {r["sido"] for r in body["results"]} == {sido}, q


def test_the_specs_examples_page_by_page(national, port):
    """Total, ids in order and every field of the page equal the oracle's."""
    clients = ThreadPoolExecutor(CLIENTS)
    try:
        futures = [clients.submit(ask, port, "/searchaddr1", q=q, page=page, per_page=PER_PAGE)
                   for q, page in EXAMPLES]
        wrong = []
        for (q, page), future in zip(EXAMPLES, futures):
            total, positions = national.search(q)
            wanted = [national.address(p) for p in positions[(page - 1) * PER_PAGE:page * PER_PAGE]]
            status, body = future.result()
            if status != 200 or body["total"] != total or body["results"] != wanted:
                got = body.get("results", []) if isinstance(body, dict) else []
                wrong.append((q, page, status, total, body.get("total") if isinstance(body, dict) else body,
                              first_difference(got, wanted)))
    finally:
        clients.shutdown()
    for case in wrong:
        print("  MISMATCH q=%r page %s: status %s, oracle total %s, page total %s, first difference %s" % case)
    assert wrong == [], wrong


def test_300_random_queries_count_and_order_as_the_oracle(national, port):
    """Random queries of every kind: `total` equals the oracle's count; for every third, the
    first page (ids in order, every field) equals the oracle's."""
    drawn = random_queries(national, SEED + 1, 300)
    results = ask_all(port, [q for _, q, _ in drawn], per_page=PER_PAGE)
    expected = [national.search(q) for _, q, _ in drawn]         # while the service works
    answers = results()
    wrong, compared = [], 0
    for index, ((kind, q, _), (total, positions), (status, body)) in enumerate(zip(drawn, expected, answers)):
        if status != 200 or body["total"] != total:
            wrong.append((kind, q, status, total, body.get("total") if isinstance(body, dict) else body, None))
            continue
        if index % 3 == 0:
            compared += 1
            wanted = [national.address(p) for p in positions[:PER_PAGE]]
            if body["results"] != wanted:
                wrong.append((kind, q, status, total, body["total"], first_difference(body["results"], wanted)))
    print(f"\n300 random queries (seed {SEED + 1}): {300 - len(wrong)} agree; "
          f"{compared} first pages compared")
    for case in wrong:
        print("  MISMATCH %s q=%r: status %s, oracle total %s, page total %s, first difference %s" % case)
    assert wrong == [], (SEED + 1, wrong)


def test_detail_equals_the_oracles_row(national, port):
    """/searchaddr2 of ids the oracle gives: every field; lat/lng/admin_code null but for landmarks."""
    positions = random_positions(national, SEED + 2, 8)
    positions += [national.position_of(row) for row in list(landmarks())[:2]]
    wrong = []
    for position in positions:
        status, body = ask(port, "/searchaddr2", id=address_id(position))
        wanted = national.detail(position)
        if status != 200 or body["result"] != wanted:
            wrong.append((address_id(position), status, body, wanted))
    for case in wrong:
        print("  DETAIL MISMATCH %s: status %s, page %s, oracle %s" % case)
    assert wrong == [], (SEED + 2, wrong)
    assert [landmarks()[national.row(p)]["building"] for p in positions[-2:]] == [
        national.detail(p)["building"] for p in positions[-2:]]
    status, body = ask(port, "/searchaddr2", id=address_id(national.count))      # one past the last
    assert status == 404 and body["error"]["code"] == "address_not_found"
    assert id_position(address_id(national.count - 1)) == national.count - 1
