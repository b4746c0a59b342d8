"""A day's change file applied to an official index (build_index.py --changes, which update-data.sh
runs) answers every search as the index of the file after those changes does.

Integration: full(A) + A's day of changes, and full(B) (the file after them), both built by the
generator's command line from files in the official layout (bench/official_file.py's generator on
made-up kozip-shaped rows) and searched in real headless Chromium: the same totals and the same
addresses in the same order, on two pages, for queries drawn at random from B and from the
addresses the changes touch; every id of the updated page names its address; the rows the changes
replaced or removed answer 404. Two days applied by two updates answer as the file with both
applied (written by official.apply_changes) does.
"""
import json
import os

import pytest

import official
import official_file
from tests.support.binaries import need
from tests.support.official import kozip_rows
from tests.support.official_oracle import OfficialData, address_of, base36, random_queries
from tests.support.official_site import build_index, build_site, opened_page

SEED = int(os.environ.get("SEARCHADDR_OFFICIAL_SEED") or 20261206)
DAY = "20260401"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("official-changes")
    report = official_file.generate(kozip_rows(4000), str(folder / "202603_a.zip"), changes_day=DAY,
                                    after=str(folder / f"{DAY}_b.zip"))
    return folder / "202603_a.zip", report["changes"], folder / f"{DAY}_b.zip"


@pytest.fixture(scope="module")
def sites(files, tmp_path_factory):
    need("/usr/bin/chromium", "apt-get install -y chromium chromium-driver")
    before, changes, after = files
    updated = build_site(tmp_path_factory.mktemp("updated"), before)
    applied = build_index("--changes", changes, "--out", updated / "data")
    assert applied.returncode == 0, applied.stderr
    return updated, build_site(tmp_path_factory.mktemp("direct"), after)


def changed_positions(data, changesets):
    """The positions in `data` of the addresses the change lines name."""
    wanted = {address_of(line).order_key() for changeset in changesets for line in changeset.addresses}
    return [p for p, address in enumerate(data.addresses) if address.order_key() in wanted]


def without_ids(found):
    return found["total"], [{k: v for k, v in result.items() if k != "id"} for result in found["results"]]


def same_answers(updated_site, direct_site, queries):
    """Searches both pages; returns (pages that differ, pages compared), every id of the updated
    page checked to name the address it was shown with (its first two per page)."""
    wrong, compared = [], 0
    with opened_page(updated_site) as updated, opened_page(direct_site) as direct:
        updated.mixed = True
        for kind, q in queries:
            for number in (1, 2):
                got, wanted = updated.search(q, number), direct.search(q, number)
                compared += 1
                if without_ids(got) != without_ids(wanted):
                    wrong.append((kind, q, number, got["total"], wanted["total"]))
                    continue
                for result in got["results"][:2]:
                    detail = updated.detail(result["id"])
                    assert detail is not None and all(detail[k] == v for k, v in result.items()), (result, detail)
        removed = changes_meta(updated_site)["changes"]["removed"]
        prefix = "o" + json.loads((updated_site / "data" / "about.json").read_text(encoding="utf-8"))["version"][5:9]
        assert removed and all(updated.detail(prefix + base36(i)) is None for i in removed[:20])
    for case in wrong[:10]:
        print("  MISMATCH %s q=%r page %d: updated total %d, direct total %d" % case)
    print(f"{compared} pages compared, {len(wrong)} differ")
    return wrong, compared


def changes_meta(site):
    text = (site / "data" / "changes.js").read_text(encoding="ascii")
    return json.loads(text[len("searchaddrChanges("):].split(',\n"')[0])


def test_the_updated_index_answers_as_the_file_after_the_changes(files, sites):
    before, changes, after = files
    changesets = official.read_changes([changes])
    data_before, data_after = OfficialData(before), OfficialData(after)
    queries = (random_queries(data_after, SEED, 120, among=changed_positions(data_after, changesets))
               + random_queries(data_before, SEED + 1, 60, among=changed_positions(data_before, changesets))
               + random_queries(data_after, SEED + 2, 60))
    print(f"seed {SEED}: {len(queries)} queries")
    wrong, compared = same_answers(*sites, queries)
    assert not wrong and compared == 2 * len(queries)


def test_two_days_applied_one_after_the_other_answer_as_the_file_after_both(files, sites, tmp_path):
    """The second day starts from what the first left: the addresses both touched, those only one
    did, and the removed rows of both, as an index of the file with both days applied."""
    before, first_day, _ = files
    second_day = official_file.generate(kozip_rows(4000), str(tmp_path / "202603_a.zip"),
                                        changes_day="20260402")["changes"]
    updated = build_site(make_dir(tmp_path / "updated"), before)
    for day in (first_day, second_day):
        applied = build_index("--changes", day, "--out", updated / "data")
        assert applied.returncode == 0, applied.stderr
    changesets = official.read_changes([first_day, second_day])
    official.apply_changes(official.open_source(before), changesets, tmp_path / "after-both")
    direct = build_site(make_dir(tmp_path / "direct"), tmp_path / "after-both")
    data_after = OfficialData(tmp_path / "after-both")
    queries = (random_queries(data_after, SEED + 3, 120, among=changed_positions(data_after, changesets))
               + random_queries(data_after, SEED + 4, 40))
    wrong, compared = same_answers(updated, direct, queries)
    assert not wrong and compared == 2 * len(queries)
    assert changes_meta(updated)["baseDate"] == "2026-04-02"


def make_dir(path):
    path.mkdir()
    return path
