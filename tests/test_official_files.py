"""demo_site/official.py: the ministry's 도로명주소 한글 files read field by field, bad files refused
with their file and line, and change files applied so that full(A) + changes = full(B)."""
import os
import zipfile

import pytest

from bench import official_file
from tests.support.official import (ABOLISHED, SEJONG, kozip_rows, lot_of, official, snapshot_files, text,
                                    with_code, with_fields, write_folder, write_zip)

FULL_NAME = "202603_도로명주소 한글_전체분"
ABOLISHED_FULL = with_code(ABOLISHED, "")
SEJONG_LOT = lot_of(SEJONG, 48)


def full_files(sejong_name="rnaddrkor_세종.txt"):
    return {sejong_name: text([SEJONG]), "rnaddrkor_gangwon.txt": text([ABOLISHED_FULL]),
            "jibun_rnaddrkor_세종.txt": text([SEJONG_LOT])}


def daily_zip(folder, day, addresses=(), lots=()):
    return write_zip(os.path.join(folder, f"{day}_dailyjusukrdata.zip"), {
        f"AlterD.JUSUKR.{day}.TH_SGCO_RNADR_MST.TXT": text(addresses) if addresses else b"No Data",
        f"AlterD.JUSUKR.{day}.TH_SGCO_RNADR_LNBR.TXT": text(lots) if lots else b"No Data"})


def check_real_lines(source):
    sejong, abolished = sorted(source.addresses())
    assert sejong == official.Address(
        key="36110101200000200181100000", admin_code="3611010100", sido="세종특별자치시", sigungu="", dong="반곡동",
        ri="", mountain=0, lot_main=47, lot_sub=1, road_code="361102000002", road="한누리대로", underground=0,
        main=1811, sub=0, zip="30145", effective="20181204", change="", register_building="",
        sigungu_building="수루배마을5단지 상가동")
    assert official.building_name(sejong) == "수루배마을5단지 상가동"
    assert abolished == official.Address(
        key="51130310445753400007700000", admin_code="5113031026", sido="강원특별자치도", sigungu="원주시",
        dong="소초면", ri="교항리", mountain=0, lot_main=20, lot_sub=3, road_code="511304457534", road="장작터길",
        underground=0, main=77, sub=0, zip="26304", effective="20230611", change="", register_building="",
        sigungu_building="")
    assert official.building_name(abolished) == ""
    assert list(source.related_lots()) == [official.RelatedLot(
        key="36110101200000200181100000", admin_code="3611010100", sido="세종특별자치시", sigungu="", dong="반곡동",
        ri="", mountain=0, lot_main=48, lot_sub=0, road_code="361102000002", underground=0, main=1811, sub=0,
        change="")]


def test_real_lines_from_a_zip_with_cp949_member_names(tmp_path):
    path = write_zip(str(tmp_path / f"{FULL_NAME}.zip"), full_files(), cp949_names=True)
    assert not any(info.flag_bits & 0x800 for info in zipfile.ZipFile(path).infolist())
    source = official.open_source(path)
    check_real_lines(source)
    assert "rnaddrkor_세종.txt" in source.address_names
    assert source.base_date == "20230611"  # the name says only the month: the latest 효력발생일


def test_real_lines_from_a_folder_in_a_zip_folder_and_a_directory(tmp_path):
    files = {f"{FULL_NAME}/{name}": data for name, data in full_files("rnaddrkor_sejong.txt").items()}
    check_real_lines(official.open_source(write_zip(str(tmp_path / "20260331_full.zip"), files)))
    source = official.open_source(write_folder(str(tmp_path / "unzipped"), full_files()))
    check_real_lines(source)
    assert official.open_source(str(tmp_path / "20260331_full.zip")).base_date == "20260331"


def test_a_real_abolition_in_a_daily_file_and_no_data(tmp_path):
    path = daily_zip(str(tmp_path), "20260401", addresses=[ABOLISHED])
    (changes,) = official.read_changes([path])
    assert changes.date == "20260401" and changes.lots == []
    (address,) = changes.addresses
    assert address.change == "63" and address.key == "51130310445753400007700000" and address.ri == "교항리"
    (empty,) = official.read_changes([daily_zip(str(tmp_path), "20260402")])
    assert (empty.date, empty.addresses, empty.lots) == ("20260402", [], [])


def test_monthly_change_files_take_their_date_from_the_name(tmp_path):
    files = {"rnaddrkor_mod.txt": text([ABOLISHED]), "jibun_rnaddrkor_mod.txt": text([])}
    monthly_path = write_zip(str(tmp_path / "202604_월변동분.zip"), files)
    (monthly,) = official.read_changes([monthly_path])
    assert monthly.date == "20260401" and len(monthly.addresses) == 1
    daily = daily_zip(str(tmp_path), "20260315")
    assert [c.date for c in official.read_changes([monthly_path, daily])] == ["20260315", "20260401"]
    bare = write_folder(str(tmp_path / "mod"), {"naddrkor_mod.txt": text([ABOLISHED])})
    with pytest.raises(official.OfficialDataError, match="keep the downloaded file's name"):
        official.read_changes([os.path.join(bare, "naddrkor_mod.txt")])


def refused(tmp_path, files, expected):
    """Opening and reading the folder stops with the expected "file:line: message" start."""
    folder = write_folder(str(tmp_path / "data"), files)
    with pytest.raises(official.OfficialDataError) as caught:
        source = official.open_source(folder)
        list(source.addresses())
        list(source.related_lots())
    assert str(caught.value).startswith(expected.format(folder=folder)), str(caught.value)
    return caught.value


@pytest.mark.parametrize("lines, expected", [
    ([SEJONG, SEJONG + "|"], "{folder}/rnaddrkor_x.txt:2: 25 fields, expected 24"),
    ([SEJONG, with_fields(SEJONG, f16="3014")], "{folder}/rnaddrkor_x.txt:2: 기초구역번호 (zip) '3014' is not 5 digits"),
    ([with_fields(SEJONG, f16="3014a")], "{folder}/rnaddrkor_x.txt:1: 기초구역번호 (zip) '3014a'"),
    ([SEJONG, SEJONG, ABOLISHED], "{folder}/rnaddrkor_x.txt:3: change code '63' in a full file"),
    ([with_fields(SEJONG, f12="40000")], "{folder}/rnaddrkor_x.txt:1: 건물본번 40000 is outside 1..32767"),
    ([with_fields(SEJONG, f7="0")], "{folder}/rnaddrkor_x.txt:1: 지번본번 0 is outside 1..16383"),
    ([with_fields(SEJONG, f2="세종")], "{folder}/rnaddrkor_x.txt:1: 시도명 '세종' is not a 시도"),
    ([SEJONG, "", SEJONG], "{folder}/rnaddrkor_x.txt:2: an empty line"),
])
def test_a_line_not_in_the_layout_is_refused_with_file_and_line(tmp_path, lines, expected):
    refused(tmp_path, {"rnaddrkor_x.txt": text(lines)}, expected)


def test_a_final_empty_line_is_fine(tmp_path):
    source = official.open_source(write_folder(str(tmp_path), {"rnaddrkor_x.txt": text([SEJONG, "", ""])}))
    assert len(list(source.addresses())) == 1


def test_utf8_is_refused_though_it_decodes_as_cp949(tmp_path):
    refused(tmp_path, {"rnaddrkor_x.txt": text([SEJONG]) + text([SEJONG], "utf-8")},
            "{folder}/rnaddrkor_x.txt:2: UTF-8, expected CP949")


def test_a_lot_line_with_a_wrong_field_count(tmp_path):
    refused(tmp_path, {"rnaddrkor_x.txt": text([SEJONG]), "jibun_rnaddrkor_x.txt": text([SEJONG_LOT + "|"])},
            "{folder}/jibun_rnaddrkor_x.txt:1: 15 fields, expected 14")


def test_no_address_file(tmp_path):
    refused(tmp_path, {"jibun_rnaddrkor_x.txt": text([SEJONG_LOT]), "readme.txt": b"x"},
            "{folder}: no rnaddrkor_*.txt file in it")


def test_a_truncated_zip_names_the_file(tmp_path):
    path = write_zip(str(tmp_path / "full.zip"), full_files())
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[:len(data) // 2])
    with pytest.raises(official.OfficialDataError, match=f"^{path}: not a readable zip"):
        official.open_source(path)


def test_a_corrupt_member_names_the_zip_and_member(tmp_path):
    lines = [with_fields(SEJONG, f12=str(n)) for n in range(1, 3000)]
    path = write_zip(str(tmp_path / "full.zip"), {"rnaddrkor_x.txt": text(lines)})
    with open(path, "r+b") as handle:  # a byte inside the compressed data
        handle.seek(200)
        byte = handle.read(1)
        handle.seek(200)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(official.OfficialDataError, match=f"^{path}!rnaddrkor_x.txt"):
        list(official.open_source(path).addresses())


def test_an_unknown_change_code_stops_the_reading(tmp_path):
    path = daily_zip(str(tmp_path), "20260401", addresses=[ABOLISHED, with_code(ABOLISHED, "99")])
    with pytest.raises(official.OfficialDataError) as caught:
        official.read_changes([path])
    assert str(caught.value).startswith(f"{path}!AlterD.JUSUKR.20260401.TH_SGCO_RNADR_MST.TXT:2: unknown change code"
                                        " '99' (expected one of 31 33 34 35 36 63 64)")


def test_full_a_plus_changes_is_full_b(tmp_path):
    rows = kozip_rows(2400)
    report = official_file.generate(rows, str(tmp_path / "a" / "202603_full.zip"), changes_day="20260401",
                                    after=str(tmp_path / "b" / "202604_full.zip"))
    assert report["address_changes"] > 400 and report["lot_changes"] > 50
    before = official.open_source(str(tmp_path / "a" / "202603_full.zip"))
    official.write_snapshot(before, str(tmp_path / "snap-a"))
    changes = official.read_changes([report["changes"]])
    summary = official.apply_changes(official.open_source(str(tmp_path / "snap-a")), changes, str(tmp_path / "a+c"))
    official.write_snapshot(official.open_source(str(tmp_path / "b" / "202604_full.zip")), str(tmp_path / "snap-b"))
    assert snapshot_files(str(tmp_path / "a+c")) == snapshot_files(str(tmp_path / "snap-b"))
    assert summary.base_date == "20260401"
    assert (summary.addresses, summary.lots) == (report["after_addresses"], report["after_lots"])
    assert summary.deleted == 150 and summary.updated == 200 and summary.inserted > 100
    # The same from the full file directly, and the snapshot reads back as the source it came from.
    official.apply_changes(before, changes, str(tmp_path / "a+c direct"))
    assert snapshot_files(str(tmp_path / "a+c direct")) == snapshot_files(str(tmp_path / "snap-b"))
    snapshot = official.open_source(str(tmp_path / "snap-a"))
    assert sorted(snapshot.addresses()) == sorted(before.addresses())
    assert sorted(snapshot.related_lots()) == sorted(before.related_lots())


def test_applying_the_same_day_twice_changes_nothing(tmp_path):
    rows = kozip_rows(1800)
    report = official_file.generate(rows, str(tmp_path / "202603_full.zip"), changes_day="20260401")
    changes = official.read_changes([report["changes"]])
    official.apply_changes(official.open_source(str(tmp_path / "202603_full.zip")), changes, str(tmp_path / "once"))
    again = official.apply_changes(official.open_source(str(tmp_path / "once")), changes, str(tmp_path / "twice"))
    assert snapshot_files(str(tmp_path / "once")) == snapshot_files(str(tmp_path / "twice"))
    assert again.deleted == 0 and again.lots_deleted == 0


def test_a_deleted_address_takes_its_related_lots(tmp_path):
    source = write_folder(str(tmp_path / "full"), {
        "rnaddrkor_x.txt": text([SEJONG, ABOLISHED_FULL]),
        "jibun_rnaddrkor_x.txt": text([SEJONG_LOT, lot_of(SEJONG, 49, 2), lot_of(ABOLISHED_FULL, 21)])})
    official.write_snapshot(official.open_source(source), str(tmp_path / "snap"))
    day = daily_zip(str(tmp_path), "20260401", addresses=[with_code(SEJONG, "63")])
    summary = official.apply_changes(official.open_source(str(tmp_path / "snap")), official.read_changes([day]),
                                     str(tmp_path / "after"))
    assert (summary.addresses, summary.lots, summary.deleted, summary.lots_deleted) == (1, 1, 1, 2)
    after = official.open_source(str(tmp_path / "after"))
    assert [a.key for a in after.addresses()] == [ABOLISHED.split("|")[0]]
    assert [lot.lot_main for lot in after.related_lots()] == [21]
    assert after.base_date == "20260401"


def test_a_snapshot_is_not_written_over(tmp_path):
    source = official.open_source(write_folder(str(tmp_path / "full"), {"rnaddrkor_x.txt": text([SEJONG])}))
    official.write_snapshot(source, str(tmp_path / "snap"))
    with pytest.raises(official.OfficialDataError, match="already holds data"):
        official.write_snapshot(source, str(tmp_path / "snap"))
    assert sorted(os.listdir(tmp_path / "snap")) == ["jibun_rnaddrkor_current.txt", "rnaddrkor_current.txt",
                                                      "snapshot.json"]
