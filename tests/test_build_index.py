"""demo_site/build_index.py: the same wheel gives the same index, a current index is not rebuilt,
and the index reads back in the spec's order. Builds one small sido (세종특별자치시) from the real
wheel; skipped when the wheel is not in .cache/ (scripts/setup.sh puts it there)."""
import filecmp
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
import build_index  # noqa: E402
import index_files  # noqa: E402
import index_layout  # noqa: E402

SIDO = "세종특별자치시"

pytestmark = pytest.mark.slow


def run_build(out):
    return subprocess.run([sys.executable, str(ROOT / "demo_site" / "build_index.py"), "--sido", SIDO,
                           "--out", str(out)], capture_output=True, text=True, timeout=600, check=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    first = tmp_path_factory.mktemp("index") / "data"
    second = tmp_path_factory.mktemp("index") / "data"
    return first, run_build(first), second, run_build(second)


def all_files(directory):
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_the_same_wheel_gives_byte_identical_index(built):
    first, first_run, second, _ = built
    assert "build_index:" in first_run.stdout  # progress is printed
    names = all_files(first)
    assert names == all_files(second)
    rows = build_index.read_rows_version(first)
    assert {"index.js", "stamp.json", "about.json", f"{rows}/road/0.js", f"{rows}/dong/0.js",
            f"{rows}/main/0.js"} <= set(names)
    _, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    assert mismatch == [] and errors == []


def test_a_current_index_is_not_rebuilt(built):
    first = built[0]
    before = {name: os.stat(first / name).st_mtime_ns for name in all_files(first)}
    again = run_build(first)
    assert "is current" in again.stdout
    assert {name: os.stat(first / name).st_mtime_ns for name in all_files(first)} == before


def read_back(out):
    """The index and its road copy's rows (main, sub, dong, zip) by id, checked to be in the spec's order."""
    index = build_index.read_index(out)
    records = index["records"]
    assert records > 0 and json.loads((out / "stamp.json").read_text())["sido"] == SIDO
    assert index["roads"] == sorted(index["roads"])
    rows = []
    for number in range(index["shards"]):
        shard = build_index.read_shard(out, "road", number, records)
        rows += ((main, sub, index["pairDong"][pair], index["pairZip"][pair])
                 for main, sub, pair in zip(shard["main"], shard["sub"], shard["pair"]))
    assert len(rows) == records == index["entryStart"][-1]
    entry_road = [r for r in range(len(index["roads"]))
                  for _ in range(index["roadEntries"][r], index["roadEntries"][r + 1])]
    dongs, zips = index["dongs"], index["zips"]
    keys = []
    for entry, road in enumerate(entry_road):
        sido_index, sigungu, _ = index["sigungu"][index["entrySigungu"][entry]]
        for main, sub, dong, zip_index in rows[index["entryStart"][entry]:index["entryStart"][entry + 1]]:
            keys.append((index["roads"][road], index["sido"][sido_index][0], sigungu, main, sub, dongs[dong],
                         zips[zip_index]))
    assert all(key[1] == SIDO for key in keys)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # the spec's order, no repeats
    return index, rows


def test_the_index_reads_back_in_the_specs_order(built):
    read_back(built[0])


def read_copy(out, copy, rows):
    """Every column of a copy of `rows` rows, all its shards end to end."""
    columns = {}
    for number in range(-(-rows // index_files.SHARD_ROWS)):
        for name, values in build_index.read_shard(out, copy, number, rows).items():
            columns.setdefault(name, []).extend(values)
    return columns


def test_the_dong_copy_holds_every_row_by_dong_zip_and_id_in_runs_the_dictionary_names(built):
    out = built[0]
    index, rows = read_back(out)
    copy = read_copy(out, "dong", index["records"])
    assert sorted(copy["id"]) == list(range(index["records"]))
    pair_start, pair_zip, dong_pair_start = index["pairStart"], index["pairZip"], index["dongPairStart"]
    keys = []
    for dong in range(len(index["dongs"])):
        for pair in range(dong_pair_start[dong], dong_pair_start[dong + 1]):
            for position in range(pair_start[pair], pair_start[pair + 1]):
                address_id = copy["id"][position]
                main, sub, row_dong, zip_index = rows[address_id]
                assert (copy["main"][position], copy["sub"][position], row_dong, zip_index) == \
                    (main, sub, dong, pair_zip[pair])
                keys.append((dong, zip_index, address_id))
    assert keys == sorted(keys) and len(keys) == index["records"]
    zip_pairs = index["zipPairs"]
    for zip_index in range(len(index["zips"])):
        listed = zip_pairs[index["zipPairStart"][zip_index]:index["zipPairStart"][zip_index + 1]]
        assert listed and all(pair_zip[pair] == zip_index for pair in listed)
    assert sorted(zip_pairs) == list(range(len(pair_zip)))


def test_the_ri_copy_holds_the_rows_of_two_part_dongs_by_ri_then_dong(built):
    out = built[0]
    index, rows = read_back(out)
    copy = read_copy(out, "ri", index["riPairStart"][-1])
    dongs, pair_dong, ri_pairs, ri_start = index["dongs"], index["pairDong"], index["riPairs"], index["riPairStart"]
    keys = []
    for k, pair in enumerate(ri_pairs):
        dong = pair_dong[pair]
        assert index["dongRiStart"][dong] <= k
        for position in range(ri_start[k], ri_start[k + 1]):
            address_id = copy["id"][position]
            assert rows[address_id][2:] == (dong, index["pairZip"][pair])
            assert rows[address_id][:2] == (copy["main"][position], copy["sub"][position])
            keys.append((dongs[dong].split(" ", 1)[1], dongs[dong], index["pairZip"][pair], address_id))
    two_part = [i for i, row in enumerate(rows) if " " in dongs[row[2]]]
    assert keys == sorted(keys) and sorted(key[3] for key in keys) == two_part
    assert all((index["dongRiStart"][d] == index_layout.NO_RI) == (" " not in name) for d, name in enumerate(dongs))


def test_the_main_copy_holds_every_row_by_main_number_and_id(built):
    out = built[0]
    index, rows = read_back(out)
    copy = read_copy(out, "main", index["records"])
    main_start = index["mainStart"]
    keys = []
    for main in range(len(main_start) - 1):
        for position in range(main_start[main], main_start[main + 1]):
            address_id, pair = copy["id"][position], copy["pair"][position]
            assert (main, copy["sub"][position], index["pairDong"][pair], index["pairZip"][pair]) == rows[address_id]
            keys.append((main, address_id))
    assert keys == sorted(keys) and len(keys) == index["records"] == main_start[-1]


def test_a_landmark_missing_from_the_data_fails_the_build():
    landmarks = json.loads(build_index.LANDMARKS_PATH.read_text(encoding="utf-8"))
    city_hall = next(item for item in landmarks if item["building"] == "서울특별시청")
    empty_columns = ([], [], [], [], [])
    with pytest.raises(ValueError, match="서울특별시청"):
        index_layout.attach_landmarks([city_hall], [], [0], empty_columns, [])


def run_official(data, out):
    return subprocess.run([sys.executable, str(ROOT / "demo_site" / "build_index.py"), "--data", str(data),
                           "--out", str(out)], capture_output=True, text=True, timeout=600)


def test_a_file_that_is_not_the_layout_leaves_the_index_as_it_was(built, tmp_path):
    out = built[0]
    before = {name: (out / name).read_bytes() for name in all_files(out)}
    data = tmp_path / "202603_broken"
    data.mkdir()
    line = "36110101200000200181100000|3611010100|세종특별자치시||반곡동||0|47|1|361102000002|한누리대로|0|1811|0" \
           "|3611055600|반곡동|30145||20181204|0|||수루배마을5단지 상가동|"
    (data / "rnaddrkor_sejong.txt").write_bytes((line + "\r\n").encode("utf-8"))  # UTF-8, not CP949
    failed = run_official(data, out)
    assert failed.returncode == 1
    assert "rnaddrkor_sejong.txt:1:" in failed.stderr and "UTF-8" in failed.stderr
    assert {name: (out / name).read_bytes() for name in all_files(out)} == before


def test_a_new_build_keeps_the_rows_the_previous_index_names_and_no_older(tmp_path):
    data = tmp_path / "202603_sejong"
    data.mkdir()
    line = "36110101200000200181100000|3611010100|세종특별자치시||반곡동||0|47|1|361102000002|한누리대로|0|1811|0" \
           "|3611055600|반곡동|30145||20181204|0|||수루배마을5단지 상가동|"
    out = tmp_path / "data"
    versions = []
    for number in ("1811", "1812", "1813"):
        (data / "rnaddrkor_sejong.txt").write_bytes((line.replace("|1811|", f"|{number}|") + "\r\n").encode("cp949"))
        assert run_official(data, out).returncode == 0
        versions.append(build_index.read_rows_version(out))
    assert len(set(versions)) == 3
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and p.name.startswith("rows-")) == sorted(versions[1:])
    about = json.loads((out / "about.json").read_text(encoding="utf-8"))
    assert (about["source"], about["addresses"], about["related_lots"]) == ("official", 1, 0)


def test_a_days_changes_go_beside_the_index_which_stays_as_it_was(tmp_path):
    """full(A) + a day's changes (--changes): the base's files stay byte for byte, changes.js holds the
    changed addresses and the base's rows they replace or remove, about.json counts what full(B)
    holds; the same day again changes nothing; a rebuild keeps the changes; a new full file drops
    them. (That the page then answers as full(B) does: tests/test_official_changes.py.)"""
    import official_file
    from tests.support.official import kozip_rows
    report = official_file.generate(kozip_rows(3000), str(tmp_path / "202603_a.zip"), changes_day="20260401",
                                    after=str(tmp_path / "20260401_b.zip"))
    assert report["address_changes"] > 0
    updated, direct = tmp_path / "updated", tmp_path / "direct"
    assert run_official(tmp_path / "202603_a.zip", updated).returncode == 0
    base = {name: (updated / name).read_bytes() for name in all_files(updated) if not name.startswith("official")}
    assert (updated / "changes.js").read_text(encoding="ascii") == "searchaddrChanges(null);\n"

    def apply():
        applied = subprocess.run([sys.executable, str(ROOT / "demo_site" / "build_index.py"), "--changes",
                                  report["changes"], "--out", str(updated)], capture_output=True, text=True,
                                 timeout=600)
        assert applied.returncode == 0, applied.stderr
        return (updated / "changes.js").read_text(encoding="ascii")

    changes = apply()
    assert all((updated / name).read_bytes() == data for name, data in base.items()
               if name not in ("changes.js", "about.json"))
    meta = json.loads(changes[len("searchaddrChanges("):changes.index(',\n"')])
    assert meta["changes"]["base"] == build_index.read_rows_version(updated)
    assert meta["records"] > 0 and len(meta["changes"]["basePositions"]) == meta["records"]
    assert meta["changes"]["removed"] == sorted(set(meta["changes"]["removed"])) != []
    assert run_official(tmp_path / "20260401_b.zip", direct).returncode == 0
    about = [json.loads((out / "about.json").read_text(encoding="utf-8")) for out in (updated, direct)]
    assert [about[0][k] for k in ("addresses", "related_lots", "base_date")] == \
        [about[1][k] for k in ("addresses", "related_lots", "base_date")] and about[0]["base_date"] == "2026-04-01"
    assert apply() == changes
    stamp = updated / "stamp.json"
    stamp.write_text(stamp.read_text(encoding="utf-8").replace('"generator": "', '"generator": "0'), encoding="utf-8")
    rebuilt = subprocess.run([sys.executable, str(ROOT / "demo_site" / "build_index.py"), "--out", str(updated)],
                             capture_output=True, text=True, timeout=600)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (updated / "changes.js").read_text(encoding="ascii") == changes
    assert run_official(tmp_path / "202603_a.zip", updated).returncode == 0
    assert (updated / "changes.js").read_text(encoding="ascii") == "searchaddrChanges(null);\n"
    assert json.loads((updated / "about.json").read_text(encoding="utf-8"))["base_date"] != "2026-04-01"
