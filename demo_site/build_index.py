"""Build the demo site's index (demo_site/data/) from Korea Post's address file in the pinned kozip wheel.

    python3 demo_site/build_index.py                          # into demo_site/data/, unless current
    python3 demo_site/build_index.py --sido 세종특별자치시 --out /tmp/index   # one sido, for tests

Standard library only: it runs in the set-up and in the image's build stage. What the index holds
and how a query uses it: docs/search.md ("The page's index").
"""
import argparse
import array
import base64
import bisect
import hashlib
import io
import itertools
import json
import os
import pathlib
import re
import shutil
import sys
import time
import zipfile
import zlib

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import official  # noqa: E402
from romanize import area_english, road_english  # noqa: E402

WHEEL_NAME = "kozip-1.1.4-py3-none-any.whl"
WHEEL_SHA256 = "36b43c07219473454d42319b5361b057078b006bfd8348e5b9e9d1f1eb8482e7"
WHEEL_MEMBER = "kozip/new_zip.json"
DEFAULT_WHEEL = HERE.parent / ".cache" / WHEEL_NAME
DEFAULT_OUT = HERE / "data"
LANDMARKS_PATH = HERE / "landmarks.json"
# The files whose content decides the index: a change to any of them rebuilds it.
GENERATOR_SOURCES = (pathlib.Path(__file__).resolve(), HERE / "romanize.py", HERE / "official.py", LANDMARKS_PATH)
FORMAT = 3
# Rows per shard file: most queries read a few rows, and Chromium holds a loaded script's text
# until it next collects garbage.
SHARD_ROWS = 2048
SOURCE_NOTE = "Korea Post via kozip 1.1.4 (2021-11-03, MIT)"
KOZIP_DATE = "2021-11-03"
OFFICIAL_NOTE = "행정안전부 도로명주소 한글 (business.juso.go.kr)"

# Current names for the data's old ones (docs/search.md).
SIDO_RENAMES = {"강원도": "강원특별자치도", "전라북도": "전북특별자치도"}
SIGUNGU_MOVES = {("경상북도", "군위군"): ("대구광역시", "군위군")}
# (current name, English name, the other words that find it): docs/search.md's table.
SIDO = (
    ("서울특별시", "Seoul", ("서울", "서울시")),
    ("부산광역시", "Busan", ("부산", "부산시")),
    ("대구광역시", "Daegu", ("대구", "대구시")),
    ("인천광역시", "Incheon", ("인천", "인천시")),
    ("광주광역시", "Gwangju", ("광주",)),
    ("대전광역시", "Daejeon", ("대전", "대전시")),
    ("울산광역시", "Ulsan", ("울산", "울산시")),
    ("세종특별자치시", "Sejong-si", ("세종", "세종시")),
    ("경기도", "Gyeonggi-do", ("경기",)),
    ("강원특별자치도", "Gangwon State", ("강원", "강원도")),
    ("충청북도", "Chungcheongbuk-do", ("충북",)),
    ("충청남도", "Chungcheongnam-do", ("충남",)),
    ("전북특별자치도", "Jeonbuk State", ("전북", "전라북도")),
    ("전라남도", "Jeollanam-do", ("전남",)),
    ("경상북도", "Gyeongsangbuk-do", ("경북",)),
    ("경상남도", "Gyeongsangnam-do", ("경남",)),
    ("제주특별자치도", "Jeju-do", ("제주", "제주도")),
)
# Words that also find one sigungu outside its current sido (it moved from 경상북도 in 2023).
MOVED_SIGUNGU_WORDS = {("대구광역시", "군위군"): ("경북", "경상북도")}

# Bit layout of one address while building: fields in the order rows sort by within an entry.
ZIP_BITS, DONG_BITS, SUB_BITS, MAIN_BITS = 17, 15, 12, 15
DONG_SHIFT = ZIP_BITS
SUB_SHIFT = DONG_SHIFT + DONG_BITS
MAIN_SHIFT = SUB_SHIFT + SUB_BITS
ENTRY_SHIFT = MAIN_SHIFT + MAIN_BITS
ID_BITS = 23
SIDO_BITS = 5
# Every this many rows of the main copy, the dictionary has the row's (sido, id) key.
MAIN_BLOCK_ROWS = 256
# Every this many rows of the lot copy, the dictionary has the row's (읍면동/리, 산, 본번) key.
LOT_BLOCK_ROWS = 128
# Bits below an official address's fields while building: its 지하여부, and its line's position.
UNDER_BITS, ORIGIN_BITS = 2, 23
# dongRiStart of a 읍면동/리 of one part (not in the ri copy).
NO_RI = 0xFFFFFFFF
# How a query splits into words (docs/search.md), also used to split 읍면동/리 names into parts.
WORD_SEPARATORS = re.compile(r"[\s,()]+")


def log(message, started):
    print(f"build_index: {message} ({time.monotonic() - started:.1f} s)", flush=True)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def generator_hash():
    digest = hashlib.sha256()
    for path in GENERATOR_SOURCES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_addresses(wheel):
    """Yields (zip, sido, sigungu, "ROAD NUMBER|DONG") for every line of new_zip.json, streaming.

    The file is json.dump(indent=4) output: one key or one string value per line.
    """
    keys = []
    with zipfile.ZipFile(wheel) as archive, archive.open(WHEEL_MEMBER) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            text = line.strip()
            if text.endswith(","):
                text = text[:-1]
            if text.startswith('"'):
                if text.endswith(('{', '[')):
                    keys.append(json.loads(text[:text.rindex(":")]))
                elif text.endswith(('{}', '[]')):
                    continue
                else:
                    value = json.loads(text) if "\\" in text else text[1:-1]
                    if len(keys) != 3:
                        raise ValueError(f"{WHEEL_MEMBER}: a value outside zip/sido/sigungu: {text!r}")
                    yield keys[0], keys[1], keys[2], value
            elif text in ("}", "]"):
                if keys:
                    keys.pop()
            elif text != "{":
                raise ValueError(f"{WHEEL_MEMBER}: unexpected line {text!r}")


def current_names(sido, sigungu):
    sido = SIDO_RENAMES.get(sido, sido)
    return SIGUNGU_MOVES.get((sido, sigungu), (sido, sigungu))


def parse_number(number, line):
    main, _, sub = number.partition("-")
    if not main.isdigit() or (sub and not sub.isdigit()) or main.startswith("0") or sub.startswith("0"):
        raise ValueError(f"{WHEEL_MEMBER}: malformed building number in {line!r}")
    return int(main), int(sub or 0)


def load_rows(wheel, sido_filter, started):
    """Every distinct address of kozip as a packed int, in id order, plus the tables the ints refer to."""
    entry_ids, dong_ids, packed = {}, {}, []
    lines = 0
    for zip_code, sido, sigungu, value in read_addresses(wheel):
        lines += 1
        if lines % 1000000 == 0:
            log(f"read {lines:,} lines", started)
        sido, sigungu = current_names(sido, sigungu)
        if sido_filter and sido != sido_filter:
            continue
        left, bar, dong = value.partition("|")
        road, space, number = left.rpartition(" ")
        if not bar or not space or not road or not dong or len(zip_code) != 5 or not zip_code.isdigit():
            raise ValueError(f"{WHEEL_MEMBER}: malformed address {zip_code} {sido} {sigungu} {value!r}")
        main, sub = parse_number(number, value)
        entry = entry_ids.setdefault((road, sido, sigungu), len(entry_ids))
        dong_id = dong_ids.setdefault(dong, len(dong_ids))
        packed.append((entry << ENTRY_SHIFT) | (main << MAIN_SHIFT) | (sub << SUB_SHIFT)
                      | (dong_id << DONG_SHIFT) | int(zip_code))
    log(f"read {lines:,} lines, {len(packed):,} in scope", started)
    if not packed:
        raise ValueError(f"no address in scope (sido {sido_filter!r})")
    rows, entries, dongs, _, _ = ranked_rows(packed, entry_ids, dong_ids, 0, 0, started)
    return rows, entries, dongs


def ranked_rows(packed, entry_ids, dong_ids, low_bits, tie_bits, started):
    """Sorts packed addresses into the spec's order and drops repeats; returns (rows, entries, dongs,
    dong_rank, repeats). Each packed int may carry `low_bits` more bits below the fields, of which
    the lowest `tie_bits` only tell apart lines that are one address: rows keep them, the first of
    such lines is kept, and `repeats` lists (a dropped line's packed int, the kept row's position)."""
    for name, count, bits in (("entries", len(entry_ids), 18), ("dongs", len(dong_ids), DONG_BITS)):
        if count >= 1 << bits:
            raise ValueError(f"too many {name} for the index format: {count}")
    entries = sorted(entry_ids)  # (road, sido, sigungu): the spec's order
    dongs = sorted(dong_ids)
    entry_rank = [0] * len(entries)
    for rank, key in enumerate(entries):
        entry_rank[entry_ids[key]] = rank
    dong_rank = [0] * len(dongs)
    for rank, name in enumerate(dongs):
        dong_rank[dong_ids[name]] = rank
    entry_shift, dong_shift = ENTRY_SHIFT + low_bits, DONG_SHIFT + low_bits
    dong_mask = ((1 << DONG_BITS) - 1) << dong_shift
    kept = ((1 << entry_shift) - 1) & ~dong_mask
    # Ranks replace first-seen numbers, so sorting the ints sorts addresses in the spec's order.
    packed = [(entry_rank[v >> entry_shift] << entry_shift) | (v & kept)
              | (dong_rank[(v & dong_mask) >> dong_shift] << dong_shift) for v in packed]
    packed.sort()
    # A repeated line is one address (the first of them, when low bits tell them apart).
    rows, repeats = [], []
    for _, run in itertools.groupby(packed, key=lambda v: v >> tie_bits):
        rows.append(next(run))
        repeats.extend((value, len(rows) - 1) for value in run)
    del packed
    log(f"{len(rows):,} distinct addresses in {len(entries):,} road entries", started)
    if len(rows) >= 1 << ID_BITS:
        raise ValueError(f"too many addresses for the index format: {len(rows)}")
    return rows, entries, dongs, dong_rank, repeats


class OfficialRows:
    """What the official file adds to each address, by id: its lot, building name, underground flag
    and 법정동코드, and the other lots it stands on (docs/search.md, "Official data")."""

    def __init__(self, count):
        self.lots = array.array("I", bytes(4 * count))  # 산 << 31 | 본번 << 16 | 부번
        self.buildings = [""] * count
        self.under = {}  # id -> 1 (지하) or 2 (공중)
        self.codes = {}  # (sido, sigungu, 읍면동/리) -> 법정동코드
        self.related = []  # (id, 읍면동/리 rank, lot_code of the lot)


def lot_code(mountain, main, sub):
    return (mountain << 31) | (main << 16) | sub


def load_official_rows(source, started):
    """The addresses of an official file (demo_site/official.py's Source) in id order, the tables the
    rows refer to, and an OfficialRows."""
    entry_ids, dong_ids, packed = {}, {}, []
    lots, buildings, key_hashes, codes = array.array("I"), [], array.array("q"), {}
    codes_in_doubt = set()  # a 읍면동/리 whose lines give two 법정동코드: it is shown with none
    low_bits = UNDER_BITS + ORIGIN_BITS
    for origin, address in enumerate(source.addresses()):
        if origin % 1000000 == 999999:
            log(f"read {origin + 1:,} addresses", started)
        if origin >= 1 << ORIGIN_BITS:
            raise ValueError(f"{source.name}: too many addresses for the index format")
        sido, sigungu = current_names(address.sido, address.sigungu)
        dong = f"{address.dong} {address.ri}" if address.ri else address.dong
        entry = entry_ids.setdefault((address.road, sido, sigungu), len(entry_ids))
        dong_id = dong_ids.setdefault(dong, len(dong_ids))
        known = codes.setdefault((sido, sigungu, dong), address.admin_code)
        if known != address.admin_code:
            codes_in_doubt.add((sido, sigungu, dong))
        fields = ((entry << ENTRY_SHIFT) | (address.main << MAIN_SHIFT) | (address.sub << SUB_SHIFT)
                  | (dong_id << DONG_SHIFT) | int(address.zip))
        packed.append((((fields << UNDER_BITS) | address.underground) << ORIGIN_BITS) | origin)
        lots.append(lot_code(address.mountain, address.lot_main, address.lot_sub))
        buildings.append(official.building_name(address))
        key_hashes.append(hash(address.key))
    log(f"read {len(packed):,} addresses", started)
    if codes_in_doubt:
        log(f"{len(codes_in_doubt):,} 읍면동/리 with more than one 법정동코드 (their admin_code is null), e.g. "
            f"{' '.join(p for p in min(codes_in_doubt) if p)}", started)
        for key in codes_in_doubt:
            del codes[key]
    if not packed:
        raise ValueError(f"{source.name}: no address")
    # Related lots name their address by its key; they are joined to ids once ids are known.
    by_key = sorted(range(len(key_hashes)), key=key_hashes.__getitem__)
    sorted_hashes = array.array("q", (key_hashes[i] for i in by_key))
    if any(a == b for a, b in zip(sorted_hashes, itertools.islice(sorted_hashes, 1, None))):
        raise ValueError(f"{source.name}: an address key given twice")
    by_key = array.array("I", by_key)
    del key_hashes
    related, missing = [], 0
    for lot in source.related_lots():
        at = bisect.bisect_left(sorted_hashes, hash(lot.key))
        if at == len(sorted_hashes) or sorted_hashes[at] != hash(lot.key):
            missing += 1  # a lot of an address the file does not have: nothing to find by it
            continue
        dong = f"{lot.dong} {lot.ri}" if lot.ri else lot.dong
        related.append((by_key[at], dong_ids.setdefault(dong, len(dong_ids)),
                        lot_code(lot.mountain, lot.lot_main, lot.lot_sub)))
    del sorted_hashes, by_key
    log(f"read {len(related):,} related lots ({missing:,} of addresses not in the file)", started)

    rows, entries, dongs, dong_rank, repeats = ranked_rows(packed, entry_ids, dong_ids, low_bits, ORIGIN_BITS,
                                                           started)
    del packed
    extra = OfficialRows(len(rows))
    id_of = array.array("i", [-1]) * len(lots)
    origin_mask, under_mask = (1 << ORIGIN_BITS) - 1, (1 << UNDER_BITS) - 1
    for i, value in enumerate(rows):
        origin = value & origin_mask
        id_of[origin] = i
        extra.lots[i] = lots[origin]
        extra.buildings[i] = buildings[origin]
        under = (value >> ORIGIN_BITS) & under_mask
        if under:
            extra.under[i] = under
        rows[i] = value >> low_bits
    for value, kept in repeats:  # a repeated line's related lots find the address it repeats
        id_of[value & origin_mask] = kept
    del lots, buildings
    extra.codes = codes
    for origin, dong_id, code in related:
        if id_of[origin] >= 0:
            extra.related.append((id_of[origin], dong_rank[dong_id], code))
    return rows, entries, dongs, extra


def field_columns(rows):
    """(entry, main, sub, dong, zip) arrays of the packed rows (arrays: a tenth of a list's memory)."""
    dong_mask, sub_mask, main_mask = (1 << DONG_BITS) - 1, (1 << SUB_BITS) - 1, (1 << MAIN_BITS) - 1
    return (array.array("I", [v >> ENTRY_SHIFT for v in rows]),
            array.array("H", [(v >> MAIN_SHIFT) & main_mask for v in rows]),
            array.array("H", [(v >> SUB_SHIFT) & sub_mask for v in rows]),
            array.array("H", [(v >> DONG_SHIFT) & dong_mask for v in rows]),
            array.array("I", [v & ((1 << ZIP_BITS) - 1) for v in rows]))


def offsets(lists):
    """[0, len(a), len(a) + len(b), ...]: where each list starts in their concatenation."""
    starts = [0]
    for listed in lists:
        starts.append(starts[-1] + len(listed))
    return starts


def counted_starts(values, count):
    """For values in [0, count): where each value's run starts once they are sorted, and the end."""
    starts = [0] * (count + 1)
    for value in values:
        starts[value + 1] += 1
    for i in range(count):
        starts[i + 1] += starts[i]
    return starts


def little_endian(typecode, values):
    data = values if isinstance(values, array.array) and values.typecode == typecode else array.array(typecode, values)
    if sys.byteorder != "little":
        data = array.array(typecode, data)
        data.byteswap()
    return data.tobytes()


def sigungu_english(sigungu):
    """'성남시 분당구' -> 'Bundang-gu, Seongnam-si': smallest unit first, as English addresses go."""
    return ", ".join(area_english(part) for part in reversed(sigungu.split()))


def eupmyeon_of(dong):
    """'군남면 육창리' -> '군남면': the 읍/면 of a two-part 읍면동/리; '' for a 동 or 가."""
    return dong.split(" ")[0] if " " in dong else ""


def attach_landmarks(landmarks, entries, entry_start, columns, dongs):
    """[id, building, jibun_address, lat, lng, admin_code] per landmark; fails if one is missing."""
    _, mains, subs, dong_column, zip_column = columns
    entry_index = {key: rank for rank, key in enumerate(entries)}
    attached = []
    for landmark in landmarks:
        main, sub = parse_number(landmark["number"], landmark)
        key = (landmark["road"], landmark["sido"], landmark["sigungu"])
        found = []
        if key in entry_index:
            rank = entry_index[key]
            found = [i for i in range(entry_start[rank], entry_start[rank + 1])
                     if mains[i] == main and subs[i] == sub and f"{zip_column[i]:05d}" == landmark["zip"]
                     and dongs[dong_column[i]] == landmark["eupmyeondong"]]
        if len(found) != 1:
            raise ValueError(f"landmark {landmark['building']} ({landmark['sido']} {landmark['sigungu']} "
                             f"{landmark['road']} {landmark['number']}, {landmark['zip']}): "
                             f"{len(found)} matching addresses in the data, not 1")
        row = found[0]
        jibun_address = " ".join(p for p in (landmark["sido"], landmark["sigungu"],
                                             landmark["eupmyeondong"], landmark["jibun"]) if p)
        attached.append([row, landmark["building"], jibun_address, landmark["lat"], landmark["lng"],
                         landmark["admin_code"]])
    return sorted(attached)


class Dictionary:
    """The binary part of index.js: named little-endian arrays, each starting on a 4-byte boundary.

    Names are kept as UTF-8 bytes with offsets rather than as JavaScript strings: the page then
    loads a one-byte (ASCII) script, which Chromium does not keep after it ran, and holds no
    string object per name.
    """

    TYPES = {"B": "u8", "H": "u16", "I": "u32"}

    def __init__(self):
        self.parts, self.sections, self.size = [], {}, 0

    def add(self, name, typecode, values):
        data = little_endian(typecode, values)
        self.sections[name] = [self.TYPES[typecode], self.size, len(data) // array.array(typecode).itemsize]
        padding = -len(data) % 4
        self.parts.append(data + b"\0" * padding)
        self.size += len(data) + padding

    def add_names(self, name, names):
        """`name`Text: the names' UTF-8 bytes end to end; `name`Offsets: where each starts, and the end."""
        encoded = [n.encode("utf-8") for n in names]
        self.add(name + "Text", "B", b"".join(encoded))
        self.add(name + "Offsets", "I", offsets(encoded))

    def deflated_base64(self):
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        return base64.b64encode(deflater.compress(b"".join(self.parts)) + deflater.flush()).decode("ascii")


def build(wheel, out, sido_filter=None):
    """The kozip index; returns False when `out` already holds it (wheel and generator unchanged)."""
    started = time.monotonic()
    wheel_sha256 = file_sha256(wheel)
    if wheel_sha256 != WHEEL_SHA256:
        raise ValueError(f"{wheel}: sha256 {wheel_sha256}, expected {WHEEL_SHA256}")
    stamp = {"format": FORMAT, "wheel_sha256": wheel_sha256, "generator": generator_hash(),
             "sido": sido_filter}
    if is_current(out, stamp):
        print(f"build_index: {out} is current (wheel and generator unchanged)", flush=True)
        return False
    landmarks = json.loads(LANDMARKS_PATH.read_text(encoding="utf-8"))
    if sido_filter and sido_filter not in {name for name, _, _ in SIDO}:
        raise ValueError(f"unknown sido {sido_filter!r}: one of {', '.join(sorted(n for n, _, _ in SIDO))}")
    rows, entries, dongs = load_rows(wheel, sido_filter, started)
    about = {"source": "kozip", "note": SOURCE_NOTE, "base_date": KOZIP_DATE, "related_lots": None}
    write_index(out, rows, entries, dongs, stamp, about, started,
                landmarks=[m for m in landmarks if not sido_filter or m["sido"] == sido_filter])
    return True


def build_official(source, out, started, snapshot=None):
    """The index of an official file (an official.Source); `snapshot(directory)` writes the data the
    next update starts from into the new index's directory."""
    rows, entries, dongs, extra = load_official_rows(source, started)
    stamp = {"format": FORMAT, "generator": generator_hash(), "source": "official",
             "base_date": source.base_date}
    about = {"source": "official", "note": OFFICIAL_NOTE, "base_date": iso_date(source.base_date),
             "related_lots": len(extra.related)}
    write_index(out, rows, entries, dongs, stamp, about, started, official=extra, snapshot=snapshot)


def iso_date(yyyymmdd):
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}" if yyyymmdd else None


def is_current(out, stamp):
    path = out / "stamp.json"
    return path.is_file() and path.read_text(encoding="utf-8") == stamp_text_of(stamp)


def stamp_text_of(stamp):
    return json.dumps(stamp, sort_keys=True) + "\n"


def write_index(out, rows, entries, dongs, stamp, about, started, landmarks=(), official=None,
                snapshot=None):
    """Writes the index of these rows into `out` (docs/search.md, "The page's index")."""
    known_sido = {name for name, _, _ in SIDO}
    columns = field_columns(rows)
    entry_column, mains, subs, dong_column, zip_column = columns
    record_count = len(rows)
    del rows
    unknown_sido = {sido for _, sido, _ in entries} - known_sido
    if unknown_sido:
        raise ValueError(f"sido not in docs/search.md's table: {sorted(unknown_sido)}")
    entry_start = counted_starts(entry_column, len(entries))

    zips = sorted(set(zip_column))
    if len(zips) > 1 << 16:
        raise ValueError(f"too many zips for the index format: {len(zips)}")
    zip_index = {z: i for i, z in enumerate(zips)}
    zip_idx_column = array.array("H", [zip_index[z] for z in zip_column])

    # The dong copy: addresses by (읍면동/리, zip, id). A (dong, zip) pair's rows lie together, so a
    # 읍면동/리's rows and a zip's rows are a few runs of it.
    by_dong = sorted((dong_column[i] << (16 + ID_BITS)) | (zip_idx_column[i] << ID_BITS) | i
                     for i in range(record_count))
    id_mask = (1 << ID_BITS) - 1
    dong_order = array.array("I", [v & id_mask for v in by_dong])
    pair_keys, pair_start = [], [0]
    for key, run in itertools.groupby(v >> ID_BITS for v in by_dong):
        pair_keys.append(key)
        pair_start.append(pair_start[-1] + sum(1 for _ in run))
    del by_dong
    if len(pair_keys) > 1 << 16:
        raise ValueError(f"too many (읍면동/리, zip) pairs for the index format: {len(pair_keys)}")
    pair_zip = [key & 0xFFFF for key in pair_keys]
    # The road and main copies give a row's 읍면동/리 and zip as one number, its pair's index.
    pair_column = array.array("H", bytes(2 * record_count))
    for pair in range(len(pair_keys)):
        for position in range(pair_start[pair], pair_start[pair + 1]):
            pair_column[dong_order[position]] = pair
    dong_pair_start = counted_starts([key >> 16 for key in pair_keys], len(dongs))
    zip_pairs = sorted(range(len(pair_keys)), key=lambda p: (pair_zip[p], p))
    zip_pair_start = counted_starts(pair_zip, len(zips))
    # The ri copy: the addresses of every two-part 읍면동/리 (a 읍/면 and a 리) once more, by (리, 읍/면,
    # zip, id). A 리's name repeats across 읍/면, which scatters its rows in the dong copy.
    two_part = sorted((name.split(" ", 1)[1], name, d) for d, name in enumerate(dongs) if " " in name)
    ri_pairs, dong_ri_start = [], [NO_RI] * len(dongs)
    for _, _, d in two_part:
        dong_ri_start[d] = len(ri_pairs)
        ri_pairs.extend(range(dong_pair_start[d], dong_pair_start[d + 1]))
    ri_order = array.array("I")
    ri_pair_start = [0]
    for pair in ri_pairs:
        ri_order.extend(dong_order[pair_start[pair]:pair_start[pair + 1]])
        ri_pair_start.append(len(ri_order))
    # The main copy: addresses by (main building number, sido, id): a number's rows lie together,
    # and within them each sido's. Every MAIN_BLOCK_ROWS-th row's (sido, id) key lets the page
    # narrow a number's run to a sido and a range of ids without loading it.
    sido_index = {name: i for i, (name, _, _) in enumerate(SIDO)}
    entry_sido = [sido_index[sido] for _, sido, _ in entries]
    by_main = sorted((mains[i] << (SIDO_BITS + ID_BITS)) | (entry_sido[entry_column[i]] << ID_BITS) | i
                     for i in range(record_count))
    main_order = array.array("I", [v & id_mask for v in by_main])
    main_block_keys = [by_main[p] & ((1 << (SIDO_BITS + ID_BITS)) - 1)
                       for p in range(0, record_count, MAIN_BLOCK_ROWS)]
    del by_main
    main_start = counted_starts(mains, max(mains) + 1)
    log("ordered the copies by 읍면동/리, by 리 and by building number", started)

    entry_dongs = [sorted(set(dong_column[entry_start[e]:entry_start[e + 1]])) for e in range(len(entries))]
    log("indexed entries", started)

    roads = sorted({road for road, _, _ in entries})
    road_index = {road: i for i, road in enumerate(roads)}
    road_entries = counted_starts([road_index[road] for road, _, _ in entries], len(roads))
    roads_english = [road_english(road) for road in roads]
    # The page compares these bytewise, lowering ASCII letters only ('3·15-daero' keeps its '·').
    if any(not c.isascii() and c.lower() != c for name in roads_english for c in name):
        raise ValueError("a romanized road name with a non-ASCII letter that has a lower case")
    english_key = [name.lower().replace(" ", "").replace("-", "") for name in roads_english]
    english_order = sorted(range(len(roads)), key=lambda i: (english_key[i], i))
    log(f"romanized {len(roads):,} road names", started)

    sigungu_table = sorted({(sido, sigungu) for _, sido, sigungu in entries})
    sigungu_index = {key: i for i, key in enumerate(sigungu_table)}
    area_words = {}
    for i, (sido, sigungu) in enumerate(sigungu_table):
        aliases = next(words for name, _, words in SIDO if name == sido)
        words = (sido, *aliases, *sigungu.split(), *MOVED_SIGUNGU_WORDS.get((sido, sigungu), ()))
        for word in words:
            listed = area_words.setdefault(word, [])
            if i not in listed:
                listed.append(i)

    sigungu_entries = [[] for _ in sigungu_table]
    for e, (_, sido, sigungu) in enumerate(entries):
        sigungu_entries[sigungu_index[(sido, sigungu)]].append(e)
    dong_entries = [[] for _ in dongs]
    for e, listed in enumerate(entry_dongs):
        for d in listed:
            dong_entries[d].append(e)
    # A 읍면동/리's parts split like a query's words: '미원면 기암리(基岩)' -> 미원면, 기암리, 基岩.
    dong_parts = {}
    for d, name in enumerate(dongs):
        for part in WORD_SEPARATORS.split(name):
            if part and d not in dong_parts.setdefault(part, []):
                dong_parts[part].append(d)
    part_names = sorted(dong_parts)

    big_mains = [[i, mains[i], subs[i], pair_column[i]]
                 for i in range(record_count) if mains[i] >= 10000]
    landmark_rows = attach_landmarks(landmarks, entries, entry_start, columns, dongs)

    dictionary = Dictionary()
    dictionary.add_names("roads", roads)
    dictionary.add_names("roadsEnglish", roads_english)
    dictionary.add("englishOrder", "I", english_order)
    dictionary.add("roadEntries", "I", road_entries)
    dictionary.add("entrySigungu", "H", [sigungu_index[(sido, sigungu)] for _, sido, sigungu in entries])
    dictionary.add("entryStart", "I", entry_start)
    dictionary.add("entryDongStart", "I", offsets(entry_dongs))
    dictionary.add("entryDongs", "H", [d for listed in entry_dongs for d in listed])
    dictionary.add("sigunguEntryStart", "I", offsets(sigungu_entries))
    dictionary.add("sigunguEntries", "I", [e for listed in sigungu_entries for e in listed])
    dictionary.add_names("dongs", dongs)
    dictionary.add_names("dongEnglish", [area_english(eupmyeon_of(d)) if eupmyeon_of(d) else "" for d in dongs])
    dictionary.add("dongEntryStart", "I", offsets(dong_entries))
    dictionary.add("dongEntries", "I", [e for listed in dong_entries for e in listed])
    dictionary.add_names("dongParts", part_names)
    dictionary.add("dongPartStart", "I", offsets([dong_parts[part] for part in part_names]))
    dictionary.add("dongPartDongs", "H", [d for part in part_names for d in dong_parts[part]])
    dictionary.add("zips", "I", zips)
    dictionary.add("dongPairStart", "I", dong_pair_start)
    dictionary.add("pairZip", "H", pair_zip)
    dictionary.add("pairStart", "I", pair_start)
    dictionary.add("zipPairStart", "I", zip_pair_start)
    dictionary.add("zipPairs", "I", zip_pairs)
    dictionary.add("dongRiStart", "I", dong_ri_start)
    dictionary.add("riPairs", "H", ri_pairs)
    dictionary.add("riPairStart", "I", ri_pair_start)
    dictionary.add("mainStart", "I", main_start)
    dictionary.add("mainBlockKeys", "I", main_block_keys)
    if official is not None:
        add_underground(dictionary, official)
    meta = {
        "format": FORMAT,
        "source": about["note"],
        "official": official is not None,
        "baseDate": about["base_date"],
        "records": record_count,
        "shardRows": SHARD_ROWS,
        "shards": (record_count + SHARD_ROWS - 1) // SHARD_ROWS,
        "mainBlockRows": MAIN_BLOCK_ROWS,
        "lotBlockRows": LOT_BLOCK_ROWS,
        "sido": [[name, english] for name, english, _ in SIDO],
        "sigungu": [[sido_index[sido], sigungu, sigungu_english(sigungu)] for sido, sigungu in sigungu_table],
        "areaWords": {word: listed for word, listed in sorted(area_words.items())},
        "bigMains": big_mains,
        "landmarks": landmark_rows,
    }
    out.mkdir(parents=True, exist_ok=True)
    staging = out / "rows.building"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    files = hashlib.sha256()
    road_columns = [("H", mains), ("H", subs), ("H", pair_column)]
    if official is not None:
        road_columns += [("H", array.array("H", [c >> 16 for c in official.lots])),  # 산 << 15 | 본번
                         ("H", array.array("H", [c & 0xFFFF for c in official.lots]))]
    # What loading a shard of each copy costs the page, on average: it weighs plans by it.
    meta["shardBytes"] = {
        "road": write_shards(staging, "road", range(record_count), road_columns, started, files),
        "dong": write_shards(staging, "dong", dong_order, [("I", None), ("H", mains), ("H", subs)], started, files),
        "ri": write_shards(staging, "ri", ri_order, [("I", None), ("H", mains), ("H", subs)], started, files),
        "main": write_shards(staging, "main", main_order, [("I", None), ("H", subs), ("H", pair_column)],
                             started, files),
    }
    if official is not None:
        del road_columns
        write_official_copies(staging, official, dictionary, meta, record_count, dongs, sigungu_index,
                              [key >> 16 for key in pair_keys], (mains, subs, pair_column), started, files)
    meta["dictionaryBytes"] = dictionary.size
    meta["sections"] = dictionary.sections
    deflated = dictionary.deflated_base64()
    del dictionary
    files.update(deflated.encode("ascii"))
    files.update(json.dumps(meta, sort_keys=True).encode("utf-8"))
    version = "rows-" + files.hexdigest()[:12]
    meta["rows"] = version
    meta["idPrefix"] = "k" if official is None else "o" + version[5:9]
    about = dict(about, addresses=record_count, version=version)
    switch_to(out, staging, version, meta, deflated, stamp, about, snapshot, started)
    size = sum(p.stat().st_size for p in (out / version).rglob("*") if p.is_file())
    size += (out / "index.js").stat().st_size
    log(f"wrote {out}: {record_count:,} addresses, {size / 1e6:.1f} MB", started)


def switch_to(out, staging, version, meta, deflated, stamp, about, snapshot, started):
    """Makes the new index the one `out` serves, so that a page never mixes two: its rows go to a
    directory of their own, then index.js (which names that directory) replaces the old one in one
    rename. A page that loaded the old index.js still reads the old rows, kept until the next build."""
    rows_dir = out / version
    if rows_dir.exists():
        shutil.rmtree(staging)  # the same rows are there already
    else:
        staging.rename(rows_dir)
    if snapshot is not None:
        fresh = out / "official.building"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
        snapshot(fresh)
        log("kept the data for the next update", started)
    # ASCII only (names escaped in the JSON, the rest base64): see Dictionary.
    write_script(out / "index.js.building", "searchaddrIndex("
                 + json.dumps(meta, ensure_ascii=True, separators=(",", ":")) + ',\n"' + deflated + '");\n')
    write_script(out / "about.json.building", json.dumps(about, ensure_ascii=False, sort_keys=True) + "\n")
    if snapshot is not None:
        replace_directory(out / "official.building", out / "official")
    elif (out / "official").exists():
        shutil.rmtree(out / "official")
    previous = read_rows_version(out)
    os.replace(out / "index.js.building", out / "index.js")
    os.replace(out / "about.json.building", out / "about.json")
    write_script(out / "stamp.json", stamp_text_of(stamp))
    for path in out.iterdir():
        if path.is_dir() and path.name not in (version, previous, "official"):
            shutil.rmtree(path)


def replace_directory(fresh, target):
    old = target.with_name(target.name + ".previous")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def read_rows_version(out):
    """The rows directory the current index.js names, or None."""
    try:
        text = (out / "index.js").read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    found = re.search(r'"rows":"(rows-[0-9a-f]+)"', text)
    return found.group(1) if found else None


def add_underground(dictionary, official):
    under = sorted(official.under.items())
    dictionary.add("underIds", "I", [i for i, _ in under])
    dictionary.add("underKinds", "B", [kind for _, kind in under])


def write_official_copies(staging, official, dictionary, meta, record_count, dongs, sigungu_index, pair_dong,
                          road_fields, started, files):
    """The lot and building copies, the building names by id, and their dictionary parts.
    `pair_dong`: the 읍면동/리 of each (읍면동/리, zip) pair."""
    dong_index = {name: d for d, name in enumerate(dongs)}
    codes = sorted(((sigungu_index[(sido, sigungu)] << 16) | dong_index[dong], code)
                   for (sido, sigungu, dong), code in official.codes.items())
    dictionary.add("codeKeys", "I", [key for key, _ in codes])
    dictionary.add("codeHigh", "I", [int(code[:5]) for _, code in codes])
    dictionary.add("codeLow", "I", [int(code[5:]) for _, code in codes])
    # The lot copy: every address by its lot, then once more by each related lot, ordered by
    # (읍면동/리, 산, 본번, 부번, id).
    mains, subs, pairs = road_fields
    lots = official.lots
    keyed = [(pair_dong[pairs[i]] << 16 | ((lots[i] >> 31) << 15) | ((lots[i] >> 16) & 0x3FFF)) << 12
             | (lots[i] & 0xFFF) for i in range(record_count)]
    keyed = [(k << ID_BITS) | i for i, k in enumerate(keyed)]
    for i, dong, code in official.related:
        keyed.append((((dong << 16 | ((code >> 31) << 15) | ((code >> 16) & 0x3FFF)) << 12 | (code & 0xFFF))
                      << ID_BITS) | i)
    keyed.sort()
    id_mask = (1 << ID_BITS) - 1
    lot_order = array.array("I", [v & id_mask for v in keyed])
    lot_keys = array.array("H", [(v >> (ID_BITS + 12)) & 0xFFFF for v in keyed])
    lot_subs = array.array("H", [(v >> ID_BITS) & 0xFFF for v in keyed])
    lot_dongs = [v >> (ID_BITS + 28) for v in keyed]
    del keyed
    dictionary.add("lotDongStart", "I", counted_starts(lot_dongs, len(dongs)))
    dictionary.add("lotBlockKeys", "I", [(lot_dongs[p] << 16) | lot_keys[p]
                                         for p in range(0, len(lot_order), LOT_BLOCK_ROWS)])
    del lot_dongs
    meta["lotRows"] = len(lot_order)
    meta["shardBytes"]["lot"] = write_shards(staging, "lot", lot_order,
                                             [("I", None), ("H", lot_keys), ("H", lot_subs)],
                                             started, files, by_position=True)
    del lot_order, lot_keys, lot_subs
    # The building copy: each part of each building name (split as a query is) with its addresses.
    parted = []
    for i, name in enumerate(official.buildings):
        if name:
            for part in dict.fromkeys(WORD_SEPARATORS.split(name)):
                if part:
                    parted.append((part.encode("utf-8"), i))
    parted.sort()
    meta["buildingRows"] = len(parted)
    firsts = []
    total = 0
    (staging / "bld").mkdir()
    for shard, first in enumerate(range(0, len(parted), SHARD_ROWS)):
        chunk = parted[first:first + SHARD_ROWS]
        firsts.append(chunk[0][0].decode("utf-8"))
        ids = [i for _, i in chunk]
        keys = [key for key, _ in itertools.groupby(part for part, _ in chunk)]
        key_start = offsets([list(run) for _, run in itertools.groupby(part for part, _ in chunk)])
        text = b"".join(keys)
        data = (little_endian("I", [len(keys)]) + little_endian("I", key_start) + little_endian("I", offsets(keys))
                + little_endian("I", delta_ids(ids)) + little_endian("H", [pairs[i] for i in ids])
                + little_endian("H", [mains[i] for i in ids]) + little_endian("H", [subs[i] for i in ids])
                + text)
        total += write_blob(staging / "bld" / f"{shard}.js", "bld", shard, data, files)
    dictionary.add_names("bldFirst", firsts)
    meta["shardBytes"]["bld"] = round(total / max(1, len(firsts)))
    del parted
    # Building names by id, in the road copy's shards: read only to show an address.
    (staging / "name").mkdir()
    total = 0
    for shard, first in enumerate(range(0, record_count, SHARD_ROWS)):
        names = [n.encode("utf-8") for n in official.buildings[first:first + SHARD_ROWS]]
        total += write_blob(staging / "name" / f"{shard}.js", "name", shard,
                            little_endian("I", offsets(names)) + b"".join(names), files)
    meta["shardBytes"]["name"] = round(total / max(1, -(-record_count // SHARD_ROWS)))
    log("wrote the lot, building and name copies", started)


def delta_ids(ids):
    """Ids as differences from the previous one (modulo 2**32): runs of near ids shrink to almost nothing."""
    return array.array("I", [(b - a) & 0xFFFFFFFF for a, b in zip(itertools.chain((0,), ids), ids)])


def write_script(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_shards(staging, copy, order, columns, started, files, by_position=False):
    """One script per SHARD_ROWS rows of a copy (rows `order`): its columns as little-endian ints
    (docs/search.md); returns the files' mean size in bytes. A column given as None is the rows'
    ids, each written as its difference from the previous row's (modulo 2**32): runs of near ids
    shrink to almost nothing. Columns hold a value per id, or per position in `order`."""
    (staging / copy).mkdir()
    total = 0
    for shard, first in enumerate(range(0, len(order), SHARD_ROWS)):
        rows = order[first:first + SHARD_ROWS]
        parts = []
        for typecode, values in columns:
            if values is None:
                parts.append(little_endian(typecode, delta_ids(rows)))
            elif by_position:
                parts.append(little_endian(typecode, values[first:first + SHARD_ROWS]))
            else:
                parts.append(little_endian(typecode, [values[i] for i in rows]))
        total += write_blob(staging / copy / f"{shard}.js", copy, shard, b"".join(parts), files)
    log(f"wrote the {copy} copy", started)
    return round(total / max(1, (len(order) + SHARD_ROWS - 1) // SHARD_ROWS))


def write_blob(path, copy, shard, data, files):
    """One shard file: `data` as raw DEFLATE in base64, in the comment of a function the page reads
    back with toString(): V8 then slices the script's own text instead of copying a string literal
    into its heap. Returns the file's size."""
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
    encoded = base64.b64encode(deflater.compress(data) + deflater.flush()).decode("ascii")
    text = f'searchaddrShard("{copy}",{shard},function(){{/*{encoded}*/}});\n'
    write_script(path, text)
    files.update(text.encode("ascii"))
    return len(text)


# The columns of each copy's shards, in file order (docs/search.md); "id" is written as differences.
SHARD_COLUMNS = {"road": (("main", "H"), ("sub", "H"), ("pair", "H")),
                 "dong": (("id", "I"), ("main", "H"), ("sub", "H")),
                 "ri": (("id", "I"), ("main", "H"), ("sub", "H")),
                 "main": (("id", "I"), ("sub", "H"), ("pair", "H")),
                 "lot": (("id", "I"), ("lot", "H"), ("lotSub", "H"))}
# An official index's road copy also has each address's lot: 산 << 15 | 본번, and 부번.
OFFICIAL_ROAD_COLUMNS = SHARD_COLUMNS["road"] + (("lot", "H"), ("lotSub", "H"))


def read_index(out=DEFAULT_OUT):
    """index.js back as a dict: its JSON part, each dictionary section as a list (names as str), and
    pairDong: the 읍면동/리 of each (읍면동/리, zip) pair, as pairZip has its zip."""
    text = (pathlib.Path(out) / "index.js").read_text(encoding="ascii")
    split = text.rindex(',\n"')
    index = json.loads(text[len("searchaddrIndex("):split])
    data = zlib.decompress(base64.b64decode(text[split + 3:text.rindex('"')]), -15)
    typecodes = {"u8": "B", "u16": "H", "u32": "I"}
    for name, (kind, at, count) in index.pop("sections").items():
        typecode = typecodes[kind]
        index[name] = from_little_endian(typecode, data[at:at + count * array.array(typecode).itemsize])
    for name in ("roads", "roadsEnglish", "dongs", "dongEnglish", "dongParts", "bldFirst"):
        if name + "Text" not in index:
            continue
        text_bytes, starts = bytes(index.pop(name + "Text")), index.pop(name + "Offsets")
        index[name] = [text_bytes[a:b].decode("utf-8") for a, b in zip(starts, starts[1:])]
    index["zips"] = [f"{z:05d}" for z in index["zips"]]
    index["pairDong"] = [d for d in range(len(index["dongs"]))
                         for _ in range(index["dongPairStart"][d], index["dongPairStart"][d + 1])]
    return index


def read_blob(out, copy, number):
    """The bytes of one shard file of the index in `out`."""
    text = (pathlib.Path(out) / read_rows_version(pathlib.Path(out)) / copy / f"{number}.js").read_text(
        encoding="ascii")
    return zlib.decompress(base64.b64decode(text[text.index("/*") + 2:text.rindex("*/")]), -15)


def read_shard(out, copy, number, records, official_index=False):
    """One shard's columns by name (SHARD_COLUMNS), ids summed back from their differences;
    `records`: the rows of the copy."""
    data = read_blob(out, copy, number)
    rows = min(SHARD_ROWS, records - number * SHARD_ROWS)
    columns, at = {}, 0
    layout = OFFICIAL_ROAD_COLUMNS if official_index and copy == "road" else SHARD_COLUMNS[copy]
    for name, typecode in layout:
        width = array.array(typecode).itemsize
        columns[name] = from_little_endian(typecode, data[at:at + width * rows])
        at += width * rows
    if at != len(data):
        raise ValueError(f"{copy}/{number}.js: {len(data)} bytes for {rows} rows")
    if "id" in columns:
        columns["id"] = array.array("I", itertools.accumulate(columns["id"], lambda a, b: (a + b) & 0xFFFFFFFF))
    return columns


def from_little_endian(typecode, data):
    values = array.array(typecode)
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", type=pathlib.Path, default=DEFAULT_WHEEL, help="the kozip 1.1.4 wheel")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="the index directory")
    parser.add_argument("--sido", help="only this sido of kozip (its current name), for fast tests")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--data", type=pathlib.Path, metavar="PATH",
                      help="build from the official full file (the zip as downloaded, or its directory)")
    what.add_argument("--changes", type=pathlib.Path, nargs="+", metavar="FILE",
                      help="apply official change files to the official index in --out")
    what.add_argument("--kozip", action="store_true", help="build from kozip even if --out holds official data")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    started = time.monotonic()
    try:
        if args.data:
            build_official(official.open_source(args.data), out, started,
                           snapshot=lambda to: keep_full_file(args.data, to))
        elif args.changes:
            update_official(out, args.changes, started)
        elif not args.kozip and not args.sido and (out / "official").is_dir():
            rebuild_official(out, started)
        else:
            build(args.wheel, out, args.sido)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        print(f"build_index: failed: {exc}", file=sys.stderr)
        return 1
    return 0


def update_official(out, changes, started):
    """Applies change files to the data the official index in `out` was built from, and rebuilds it."""
    if not (out / "official").is_dir():
        raise ValueError(f"{out}: no official index to update (build one with --data first)")
    changesets = official.read_changes(changes)
    fresh = out / "official.applied"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    try:
        summary = official.apply_changes(kept_source(out), changesets, fresh)
        log(f"applied {len(changesets)} change file(s) up to {summary.base_date}: {summary.inserted:,} new, "
            f"{summary.updated:,} changed, {summary.deleted:,} removed addresses; "
            f"{summary.lots_inserted:,} new and {summary.lots_deleted:,} removed related lots", started)
        build_official(official.open_source(fresh), out, started,
                       snapshot=lambda to: move_contents(fresh, to))
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def rebuild_official(out, started):
    """An official index whose generator changed is rebuilt from the data it was built from."""
    source = kept_source(out)
    stamp = {"format": FORMAT, "generator": generator_hash(), "source": "official",
             "base_date": source.base_date}
    if is_current(out, stamp):
        print(f"build_index: {out} is current (official data of {iso_date(source.base_date)}; "
              "--kozip builds the kozip index instead)", flush=True)
        return
    build_official(source, out, started, snapshot=lambda to: copy_contents(out / "official", to))


def keep_full_file(path, target):
    """The operator's full file, as given (zip or directory, under its own name, which may carry its
    date), is what the next update starts from: copying it costs far less than writing it anew."""
    path = pathlib.Path(path)
    if path.is_dir():
        shutil.copytree(path, target / path.resolve().name)
    else:
        shutil.copy2(path, target / path.name)


def kept_source(out):
    """The data the official index in `out` was built from: a full file as given, or a snapshot
    that change files made."""
    kept = out / "official"
    if (kept / official.SNAPSHOT_META).is_file():
        return official.open_source(kept)
    entries = list(kept.iterdir())
    if len(entries) != 1:
        raise ValueError(f"{kept}: expected the full file or a snapshot, found {len(entries)} entries")
    return official.open_source(entries[0])


def move_contents(source, target):
    for path in source.iterdir():
        path.rename(target / path.name)


def copy_contents(source, target):
    for path in source.iterdir():
        (shutil.copytree if path.is_dir() else shutil.copy2)(path, target / path.name)


if __name__ == "__main__":
    sys.exit(main())
