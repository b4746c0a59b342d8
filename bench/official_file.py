"""Writes a national-size file in the official 도로명주소 한글 layout from kozip's real addresses,
for the build benchmark and tests only: it is never shipped and never what the service answers.

    python3 bench/official_file.py /tmp/official/202603_full.zip
    python3 bench/official_file.py /tmp/sejong.zip --sido 세종특별자치시 --changes 20260401 --apply /tmp/sejong-b.zip

Roads, building numbers, zips, 시도/시군구 and 읍면동/리 names are kozip's (current names, a
repeated address once). What kozip lacks is made up, deterministically, from each address's key:
codes numbered per 시군구, per 읍면동/리 and per road in the order kozip first lists them
(시군구 code = the 시도's code + 3 digits, 법정동코드 = 시군구 + 읍면동 3 + 리 2, 도로명코드 =
시군구 + 7 digits, key = 시군구 + 읍면동 + road + 0 + 본번 5 + 부번 5), the representative lot,
효력발생일, a test building name ("<읍면동>시험<word><n>") for about 10 % of addresses and 1-3
related lots in the same 읍면동 for about 20 % (about 1.8 M in all, as in the ministry's file).
The zip holds rnaddrkor_<region>.txt and jibun_rnaddrkor_<region>.txt per 시도, CP949, CRLF.

--changes DAY writes DAY_dailyjusukrdata.zip beside the output (a few hundred inserts, updates
and deletes of addresses and related lots, codes 31/34/63) and --apply PATH writes the file as it
is after those changes, so full(A) + changes = full(B) can be checked.
"""
import argparse
import heapq
import os
import random
import time
import zipfile
import zlib

import repo  # noqa: F401  (first: it puts the demo site's generator on the path)
import area_names
from kozip_rows import DEFAULT_WHEEL, parse_number, read_addresses

# 시도 -> (code, the region word of its file names).
REGIONS = {
    "서울특별시": ("11", "seoul"), "부산광역시": ("26", "busan"), "대구광역시": ("27", "daegu"),
    "인천광역시": ("28", "incheon"), "광주광역시": ("29", "gwangju"), "대전광역시": ("30", "daejeon"),
    "울산광역시": ("31", "ulsan"), "세종특별자치시": ("36", "sejong"), "경기도": ("41", "gyunggi"),
    "충청북도": ("43", "chungbuk"), "충청남도": ("44", "chungnam"), "전라남도": ("46", "jeonnam"),
    "경상북도": ("47", "gyeongbuk"), "경상남도": ("48", "gyeongnam"), "제주특별자치도": ("50", "jeju"),
    "강원특별자치도": ("51", "gangwon"), "전북특별자치도": ("52", "jeonbuk"),
}
BUILDING_WORDS = ("빌딩", "타워", "아파트", "상가", "마을", "프라자", "센터", "하우스")
# Packed row: key (26 digits) * 10**7 + 리 (2 digits) * 10**5 + zip; sorting the ints sorts by key.
KEY_SCALE, RI_SCALE = 10 ** 7, 10 ** 5
WRITE_LINES = 20000


class Areas:
    """The made-up codes: numbered per 시도, 시군구, 읍면동/리 and road in the order first seen."""

    def __init__(self):
        self.sigungu, self.dong, self.ri, self.road = {}, {}, {}, {}
        self.names = {}  # code -> name(s), for writing lines back

    def number(self, table, parent, name, start, limit, width):
        codes = table.setdefault(parent, {})
        code = codes.get(name)
        if code is None:
            if start + len(codes) >= limit:
                raise ValueError(f"more than {limit - start} names under {parent}: {name}")
            code = codes[name] = f"{parent}{start + len(codes):0{width}d}"
            self.names[code] = name
        return code

    def codes(self, sido, sigungu, dong, ri, road):
        sgg = self.number(self.sigungu, REGIONS[sido][0], (sido, sigungu), 1, 100, 2) + "0"
        emd = self.number(self.dong, sgg, dong, 101, 1000, 3)
        ri_code = self.number(self.ri, emd, ri, 1, 100, 2) if ri else emd + "00"
        road_code = self.number(self.road, sgg, road, 3000001, 10 ** 7, 7)
        return emd, ri_code, road_code


def read_rows(kozip_rows, sido_filter=None):
    """(areas, sorted packed rows) from kozip's (zip, sido, sigungu, "ROAD NUMBER|DONG") rows."""
    areas, packed = Areas(), []
    for zip_code, sido, sigungu, value in kozip_rows:
        sido, sigungu = area_names.current_names(sido, sigungu)
        if sido_filter and sido != sido_filter:
            continue
        left, _, area = value.partition("|")
        road, _, number = left.rpartition(" ")
        main, sub = parse_number(number, value)
        dong, _, ri = area.partition(" ")
        emd, ri_code, road_code = areas.codes(sido, sigungu, dong, ri, road)
        key = f"{emd}{road_code[5:]}0{main:05d}{sub:05d}"
        packed.append(int(key) * KEY_SCALE + int(ri_code[-2:]) * RI_SCALE + int(zip_code))
    packed.sort()
    rows, previous = [], None
    for value in packed:
        if value // KEY_SCALE != previous:  # a repeated address (or one that differs only in zip) once
            rows.append(value)
        previous = value // KEY_SCALE
    return areas, rows


def crc(text):
    return zlib.crc32(text.encode())


def address_fields(areas, value, names=None):
    """The 24 fields of one packed row, and its related lots' 14 fields each."""
    key = f"{value // KEY_SCALE:026d}"
    ri, zip_code = value // RI_SCALE % 100, value % RI_SCALE
    sgg, emd, road_code = key[:5], key[:8], key[:5] + key[8:15]
    admin = f"{emd}{ri:02d}"
    sido, sigungu = areas.names[sgg[:2] + sgg[2:4]]
    dong = areas.names[emd]
    ri_name = areas.names[admin] if ri else ""
    road = areas.names[road_code]
    main, sub = int(key[16:21]), int(key[21:26])
    h = crc(key)
    mountain = 1 if h % 50 == 0 else 0
    lot_main, lot_sub = 1 + (h >> 6) % 3000, (0 if (h >> 18) % 3 == 0 else 1 + (h >> 20) % 60)
    effective = f"{2011 + (h >> 3) % 14}{1 + (h >> 9) % 12:02d}{1 + (h >> 13) % 28:02d}"
    register = own = ""
    pick = (h >> 8) % 100
    if pick < 10:
        name = f"{dong[:-1]}시험{BUILDING_WORDS[(h >> 16) % len(BUILDING_WORDS)]}{1 + (h >> 22) % 30}"
        register, own = (name, name) if pick < 4 else (name, "") if pick < 7 else ("", name)
    if names:
        register, own = names
    fields = [key, admin, sido, sigungu, dong, ri_name, str(mountain), str(lot_main), str(lot_sub), road_code, road,
              "0", str(main), str(sub), "", "", f"{zip_code:05d}", "", effective, "0", "", register, own, ""]
    lots = []
    if (h >> 24) < 52:  # 52 of 256: about 20 %
        extra = 1 + ((h >> 17) % 10 >= 7) + ((h >> 17) % 10 == 9)
        for j in range(1, extra + 1):
            lots.append([key, admin, sido, sigungu, dong, ri_name, str(mountain), str(lot_main + j), str(lot_sub),
                         road_code, "0", str(main), str(sub), ""])
    return fields, lots


def make_changes(areas, rows, day):
    """A day of changes against rows: (address lines with codes, lot lines with codes), as field lists."""
    chooser = random.Random(int(day))
    keys = {value // KEY_SCALE for value in rows}
    picked = chooser.sample(range(len(rows)), min(len(rows) // 3, 550))
    deletes, updates, bases = picked[:150], picked[150:350], picked[350:500]
    lot_picks = picked[500:]
    address_changes, lot_changes = [], []
    for i in deletes:
        fields, lots = address_fields(areas, rows[i])
        address_changes.append(fields[:20] + ["63"] + fields[21:])
        lot_changes.extend(lot[:13] + ["63"] for lot in lots)
    for n, i in enumerate(updates):
        fields, _ = address_fields(areas, rows[i])
        fields[16] = f"{(int(fields[16]) + 1) % 100000:05d}"
        fields[22] = f"{fields[4][:-1]}시험변경{n + 1}"
        fields[18] = day
        address_changes.append(fields[:20] + ["34"] + fields[21:])
    for n, i in enumerate(bases):
        value = rows[i]
        key = value // KEY_SCALE
        main = 30000 + n
        new_key = key - (key // 10 ** 5 % 10 ** 5) * 10 ** 5 + main * 10 ** 5
        if new_key in keys:
            continue
        keys.add(new_key)
        fields, _ = address_fields(areas, new_key * KEY_SCALE + value % KEY_SCALE)
        fields[18] = day
        address_changes.append(fields[:20] + ["31"] + fields[21:])
        lot_changes.append(fields[:9] + [fields[9], "0", fields[12], fields[13], "31"])
        lot_changes[-1][7] = str(int(fields[7]) + 1)
    for n, i in enumerate(lot_picks):
        fields, lots = address_fields(areas, rows[i])
        if lots and n % 2:
            lot_changes.append(lots[0][:13] + ["63"])
        else:
            lot = fields[:10] + ["0", fields[12], fields[13], "31"]
            lot[7] = str(int(fields[7]) + 10)
            lot_changes.append(lot)
    return address_changes, lot_changes


def applied(areas, rows, changes):
    """Per packed row in key order: (fields, lots) after the changes, for the file as it is after them."""
    address_changes, lot_changes = changes
    replaced = {}
    for fields in address_changes:
        replaced[fields[0]] = None if fields[20] in ("63", "64") else fields[:20] + [""] + fields[21:]
    lot_edits = {}
    for lot in lot_changes:
        lot_edits.setdefault(lot[0], []).append(lot)
    existing = {f"{value // KEY_SCALE:026d}" for value in rows}
    added = sorted(key for key in replaced if key not in existing and replaced[key] is not None)

    def current(key, fields, lots):
        if key in replaced:
            fields = replaced[key]
            if fields is None:
                return None
        lots = {"|".join(lot) for lot in lots}
        for lot in lot_edits.get(key, ()):
            line = "|".join(lot[:13] + [""])
            if lot[13] in ("63", "64"):
                lots.discard(line)
            else:
                lots.add(line)
        return fields, [line.split("|") for line in sorted(lots)]

    def base():
        for value in rows:
            fields, lots = address_fields(areas, value)
            yield fields[0], fields, lots

    merged = heapq.merge(base(), ((key, replaced[key], []) for key in added), key=lambda item: item[0])
    for key, fields, lots in merged:
        result = current(key, fields, lots)
        if result is not None:
            yield result


def write_zip(path, areas, items, compresslevel=1):
    """Writes (fields, lots) items, in key order, as one address and one lot file per 시도."""
    by_code = {code: region for code, region in REGIONS.values()}
    counts = [0, 0]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = path + ".partial"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        members = {}
        lot_buffers = {}
        current_region, address_out, buffer = None, None, []
        for fields, lots in items:
            region = by_code[fields[0][:2]]
            if region != current_region:
                if address_out:
                    address_out.write("".join(buffer).encode("cp949"))
                    address_out.close()
                if region in members:
                    raise ValueError(f"rows of {region} are not together")
                members[region] = True
                address_out = archive.open(f"rnaddrkor_{region}.txt", "w", force_zip64=True)
                current_region, buffer = region, []
                lot_buffers[region] = []
            buffer.append("|".join(fields) + "\r\n")
            counts[0] += 1
            for lot in lots:
                lot_buffers[region].append("|".join(lot) + "\r\n")
                counts[1] += 1
            if len(buffer) >= WRITE_LINES:
                address_out.write("".join(buffer).encode("cp949"))
                buffer = []
        if address_out:
            address_out.write("".join(buffer).encode("cp949"))
            address_out.close()
        for region, lines in lot_buffers.items():
            archive.writestr(f"jibun_rnaddrkor_{region}.txt", "".join(lines).encode("cp949"))
    os.replace(partial, path)
    return counts


def write_changes(path, day, changes):
    """Writes the day's changes as the ministry's daily zip (MST: addresses, LNBR: related lots)."""
    address_changes, lot_changes = changes
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, lines in (("MST", address_changes), ("LNBR", lot_changes)):
            text = "".join("|".join(fields) + "\r\n" for fields in lines) or "No Data"
            archive.writestr(f"AlterD.JUSUKR.{day}.TH_SGCO_RNADR_{part}.TXT", text.encode("cp949"))


def generate(kozip_rows, out, sido=None, changes_day=None, after=None):
    """Writes the file (and the day's change zip and the file after it); returns what it wrote."""
    areas, rows = read_rows(kozip_rows, sido)
    report = {"rows": len(rows)}
    report["addresses"], report["lots"] = write_zip(out, areas, (address_fields(areas, v) for v in rows))
    if changes_day:
        changes = make_changes(areas, rows, changes_day)
        report["changes"] = os.path.join(os.path.dirname(os.path.abspath(out)),
                                         f"{changes_day}_dailyjusukrdata.zip")
        write_changes(report["changes"], changes_day, changes)
        report["address_changes"], report["lot_changes"] = len(changes[0]), len(changes[1])
        if after:
            report["after_addresses"], report["after_lots"] = write_zip(after, areas, applied(areas, rows, changes))
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the zip to write, e.g. /tmp/official/202603_full.zip")
    parser.add_argument("--sido", help="one 시도 only (its current name)")
    parser.add_argument("--wheel", default=str(DEFAULT_WHEEL))
    parser.add_argument("--changes", metavar="YYYYMMDD", help="also write that day's change zip beside OUT")
    parser.add_argument("--apply", metavar="PATH", help="with --changes: also write the file after the changes")
    args = parser.parse_args(argv)
    started = time.monotonic()
    report = generate(read_addresses(args.wheel), args.out, args.sido, args.changes, args.apply)
    for path in filter(None, (args.out, report.get("changes"), args.apply)):
        report[f"size {os.path.basename(path)}"] = f"{os.path.getsize(path) / 1e6:.1f} MB"
    report["seconds"] = round(time.monotonic() - started, 1)
    for name, value in report.items():
        print(f"{name}: {value:,}" if isinstance(value, int) else f"{name}: {value}")


if __name__ == "__main__":
    main()
