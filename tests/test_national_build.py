"""The generator's one-sido index (build_index.py --sido) behind the real page, in real headless
Chromium from file:// and over HTTP, answers as the oracle (tests/support/national_data.py) says for that
sido. (test_build_index.py checks the build itself: byte-identical twice, skipped when current.)"""
import functools
import http.server
import os
import random
import shutil
import subprocess
import sys

import pytest

from scraper.sources.demo import DemoSource
from tests.support.browsers import real_browser
from tests.support.national_data import address_id, load, random_queries
from tests.support.servers import ROOT, local_http_server

SIDO = "세종특별자치시"
SEED = int(os.environ.get("SEARCHADDR_NATIONAL_SEED") or random.SystemRandom().randrange(10 ** 6))

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """demo_site's page with a data/ of one sido, built by the generator's command line."""
    site = tmp_path_factory.mktemp("sejong-site")
    for name in ("index.html", "app.js", "style.css"):
        shutil.copy(os.path.join(ROOT, "demo_site", name), site / name)
    subprocess.run([sys.executable, os.path.join(ROOT, "demo_site", "build_index.py"), "--sido", SIDO,
                    "--out", str(site / "data")], check=True, capture_output=True, timeout=900)
    return site


@pytest.fixture(scope="module")
def sejong():
    """The oracle for a one-sido index: the national answer restricted to the sido, ids renumbered
    (the sido's addresses keep their national order, so position i among them has id k<i>)."""
    national = load()
    positions = sorted(national.area_rows(SIDO))
    local = {position: index for index, position in enumerate(positions)}

    def search(q, page=1, per_page=50):
        _, found = national.search(q)
        found = [int(p) for p in found if int(p) in local]
        page_of = found[(page - 1) * per_page:page * per_page]
        return len(found), [dict(national.address(p), id=address_id(local[p])) for p in page_of]

    return national, positions, search


@pytest.fixture(scope="module")
def driver():
    with real_browser(60) as driver:
        yield driver


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_base(site):
    with local_http_server(functools.partial(QuietHandler, directory=str(site))) as base:
        yield base


def check_queries(driver, url, sejong, seed):
    national, positions, search = sejong
    source = DemoSource(url)
    source.open(driver)
    queries = [q for _, q, _ in random_queries(national, seed, 40, among=positions)]
    queries += ["세종 조치원읍", "세종시 한누리대로", "Hannuri-daero 2", "30151"]
    wrong = []
    for q in queries:
        total, wanted = search(q)
        found = source.search(driver, q, 1, 50)
        if found["total"] != total or found["results"] != wanted:
            wrong.append((q, total, found["total"], next(
                (i for i, (a, b) in enumerate(zip(found["results"], wanted)) if a != b), None)))
    print(f"\n{url} (seed {seed}): {len(queries) - len(wrong)} of {len(queries)} agree")
    for case in wrong:
        print("  MISMATCH q=%r: oracle total %s, page total %s, first differing result %s" % case)
    assert wrong == []
    first = search("조치원읍")[1][0]
    assert source.detail(driver, first["id"]) == dict(first, lat=None, lng=None, admin_code=None)
    assert source.search(driver, "테헤란로", 1, 10)["total"] == 0     # Seoul is not in this index


def test_the_one_sido_page_from_file_answers_as_the_oracle(site, sejong, driver):
    check_queries(driver, (site / "index.html").as_uri(), sejong, SEED)


def test_the_one_sido_page_over_http_answers_as_the_oracle(http_base, sejong, driver):
    check_queries(driver, f"{http_base}/index.html", sejong, SEED + 1)
