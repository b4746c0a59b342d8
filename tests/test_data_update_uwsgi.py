"""Integration: scripts/update-data.sh against a real uWSGI with real Chromium, while a closed loop
of searches runs. A day's change file (with the real abolition line of the ministry's daily file)
switches the running service to the new index through a chain reload with no failed request; a
file that is not the layout is refused with its file and line, and nothing reloads."""
import json
import os
import subprocess
import time

import pytest

from tests.support.data_update import ClosedLoop, page_copy, running_service
from tests.support.processes import tail
from tests.support.official import ABOLISHED, SEJONG, text, with_fields, write_zip
from tests.support.official_sample import write_sample

pytestmark = pytest.mark.integration

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILDER = os.path.join(ROOT, "demo_site", "build_index.py")
DAY = "20260401"
# Test value: an address the change file adds (31), on the real Sejong line's road.
ADDED = with_fields(SEJONG, f0="36110101200000200900100000", f12="9001", f20="31", f21="",
                    f22="갱신시험동")
ADDED_ROAD = "세종특별자치시 한누리대로 9001"
ABOLISHED_ROAD = "강원특별자치도 원주시 장작터길 77"
SWITCH_LIMIT = 30.0


@pytest.fixture(scope="module")
def official_files(tmp_path_factory):
    """A full file (the real lines, and kozip's 대전 대덕구 in the layout) and a day's change zip
    that abolishes the real Wonju address and adds ADDED."""
    folder = tmp_path_factory.mktemp("official")
    full = write_sample(str(folder / "202603_full.zip"), areas=(("대전광역시", "대덕구"),))
    changes = write_zip(str(folder / f"{DAY}_dailyjusukrdata.zip"), {
        f"AlterD.JUSUKR.{DAY}.TH_SGCO_RNADR_MST.TXT": text([ABOLISHED, ADDED]),
        f"AlterD.JUSUKR.{DAY}.TH_SGCO_RNADR_LNBR.TXT": b"No Data"})
    return full, changes


@pytest.fixture
def site(tmp_path, official_files):
    """A copy of the demo page with an index of its own, built from the full file."""
    page = page_copy(tmp_path / "site")
    subprocess.run(["python3", BUILDER, "--data", official_files[0], "--out", str(page / "data")],
                   check=True, capture_output=True, timeout=120)
    return page


@pytest.fixture(params=["dev", "nginx"])
def service(request, tmp_path, site, process_tag):
    with running_service(tmp_path, site, process_tag, request.param) as running:
        yield running


@pytest.fixture
def dev_service(tmp_path, site, process_tag):
    with running_service(tmp_path, site, process_tag, "dev") as running:
        yield running


def test_a_days_changes_switch_the_running_service_with_no_failed_request(service, official_files, progress):
    before = service.index()
    assert before["source"] == "official" and before["base_date"] != "2026-04-01"
    assert service.total(ADDED_ROAD, 7) == 0
    assert service.total(ABOLISHED_ROAD, 7) == 1
    reloads = service.reloads()
    with ClosedLoop(service) as loop:
        time.sleep(3.0)
        started = time.monotonic()
        update = service.update(official_files[1])
        touched = time.monotonic()
        assert update.returncode == 0, update.stderr + update.stdout
        switched = service.wait_for_switch("2026-04-01", reloads)
        assert switched, tail(service.log)
        time.sleep(2.0)
    during = loop.during(touched, switched)
    progress(f"data update ({service.front}): build {touched - started:.1f} s, switch "
             f"{switched - touched:.1f} s after the touch; {len(loop.answers)} searches in all, "
             f"{len(during)} during the switch, {len(loop.failed())} failed")
    assert loop.failed() == []
    assert len(during) > 0 and len(loop.answers) > 50
    assert switched - touched <= SWITCH_LIMIT
    after = service.index()
    assert after["source"] == "official" and after["addresses"] == before["addresses"]
    # The same searches as before the switch: the shared cache holds their old answers, which the
    # new index's workers never use.
    assert service.total(ADDED_ROAD, 7) == 1
    assert service.total(ABOLISHED_ROAD, 7) == 0


def test_a_file_that_is_not_the_layout_is_refused_and_nothing_reloads(dev_service, tmp_path):
    service = dev_service
    before = service.index()
    bad = tmp_path / f"AlterD.JUSUKR.{DAY}.TH_SGCO_RNADR_MST.TXT"
    bad.write_bytes(text([ABOLISHED], encoding="utf-8"))      # UTF-8 where CP949 belongs
    data = service.data
    files = sorted(os.listdir(data))
    reloads = service.reloads()
    touched = service.touch.stat().st_mtime_ns      # uWSGI makes the file when it starts
    with ClosedLoop(service, limit=60.0) as loop:
        update = service.update(bad)
        time.sleep(3.0)
    assert update.returncode != 0
    assert f"{bad.name}:1:" in update.stderr, update.stderr
    assert "previous index" in update.stderr and "touched" not in update.stdout
    assert service.touch.stat().st_mtime_ns == touched and service.reloads() == reloads
    assert sorted(os.listdir(data)) == files and service.index() == before
    assert loop.failed() == [] and len(loop.answers) > 10
    assert service.total(ABOLISHED_ROAD, 9) == 1
    assert json.loads(open(os.path.join(data, "about.json"), encoding="utf-8").read())["addresses"] == \
        before["addresses"]
