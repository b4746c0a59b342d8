"""Build the demo site's index (demo_site/data/) from Korea Post's address file in the pinned kozip wheel.

    python3 demo_site/build_index.py                          # into demo_site/data/, unless current
    python3 demo_site/build_index.py --sido 세종특별자치시 --out /tmp/index   # one sido, for tests

Standard library only: it runs in the set-up and in the image's build stage. What the index holds
and how a query uses it: docs/search.md ("The page's index").
"""
import argparse
import array
import base64
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
from romanize import area_english, road_english  # noqa: E402

WHEEL_NAME = "kozip-1.1.4-py3-none-any.whl"
WHEEL_SHA256 = "36b43c07219473454d42319b5361b057078b006bfd8348e5b9e9d1f1eb8482e7"
WHEEL_MEMBER = "kozip/new_zip.json"
DEFAULT_WHEEL = HERE.parent / ".cache" / WHEEL_NAME
DEFAULT_OUT = HERE / "data"
LANDMARKS_PATH = HERE / "landmarks.json"
# The files whose content decides the index: a change to any of them rebuilds it.
GENERATOR_SOURCES = (pathlib.Path(__file__).resolve(), HERE / "romanize.py", LANDMARKS_PATH)
FORMAT = 2
# Rows per shard file: most queries read a few rows, and Chromium holds a loaded script's text
# until it next collects garbage.
SHARD_ROWS = 2048
SOURCE_NOTE = "Korea Post via kozip 1.1.4 (2021-11-03, MIT)"

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
    """Every distinct address as a packed int, in id order, plus the tables the ints refer to."""
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
    del entry_ids, dong_ids
    dong_mask = ((1 << DONG_BITS) - 1) << DONG_SHIFT
    kept = ((1 << ENTRY_SHIFT) - 1) & ~dong_mask
    # Ranks replace first-seen numbers, so sorting the ints sorts addresses in the spec's order.
    packed = [(entry_rank[v >> ENTRY_SHIFT] << ENTRY_SHIFT) | (v & kept)
              | (dong_rank[(v & dong_mask) >> DONG_SHIFT] << DONG_SHIFT) for v in packed]
    packed.sort()
    rows = [v for v, _ in itertools.groupby(packed)]  # a repeated line is one address
    del packed
    log(f"{len(rows):,} distinct addresses in {len(entries):,} road entries", started)
    if len(rows) >= 1 << ID_BITS:
        raise ValueError(f"too many addresses for the index format: {len(rows)}")
    return rows, entries, dongs


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


def attach_landmarks(landmarks, entries, entry_start, columns, dongs, sido_filter):
    """[id, building, jibun_address, lat, lng, admin_code] per landmark in scope; fails if one is missing."""
    _, mains, subs, dong_column, zip_column = columns
    entry_index = {key: rank for rank, key in enumerate(entries)}
    attached = []
    for landmark in landmarks:
        if sido_filter and landmark["sido"] != sido_filter:
            continue
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
    started = time.monotonic()
    wheel_sha256 = file_sha256(wheel)
    if wheel_sha256 != WHEEL_SHA256:
        raise ValueError(f"{wheel}: sha256 {wheel_sha256}, expected {WHEEL_SHA256}")
    stamp = {"format": FORMAT, "wheel_sha256": wheel_sha256, "generator": generator_hash(),
             "sido": sido_filter}
    stamp_text = json.dumps(stamp, sort_keys=True) + "\n"
    stamp_path = out / "stamp.json"
    if stamp_path.is_file() and stamp_path.read_text(encoding="utf-8") == stamp_text:
        print(f"build_index: {out} is current (wheel and generator unchanged)", flush=True)
        return False
    landmarks = json.loads(LANDMARKS_PATH.read_text(encoding="utf-8"))
    known_sido = {name for name, _, _ in SIDO}
    if sido_filter and sido_filter not in known_sido:
        raise ValueError(f"unknown sido {sido_filter!r}: one of {', '.join(sorted(known_sido))}")

    rows, entries, dongs = load_rows(wheel, sido_filter, started)
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
    landmark_rows = attach_landmarks(landmarks, entries, entry_start, columns, dongs, sido_filter)

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
    meta = {
        "format": FORMAT,
        "source": SOURCE_NOTE,
        "records": record_count,
        "shardRows": SHARD_ROWS,
        "shards": (record_count + SHARD_ROWS - 1) // SHARD_ROWS,
        "mainBlockRows": MAIN_BLOCK_ROWS,
        "sido": [[name, english] for name, english, _ in SIDO],
        "sigungu": [[sido_index[sido], sigungu, sigungu_english(sigungu)] for sido, sigungu in sigungu_table],
        "areaWords": {word: listed for word, listed in sorted(area_words.items())},
        "bigMains": big_mains,
        "landmarks": landmark_rows,
        "dictionaryBytes": dictionary.size,
        "sections": dictionary.sections,
    }
    staging = out.parent / (out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    # What loading a shard of each copy costs the page, on average: it weighs plans by it.
    meta["shardBytes"] = {
        "road": write_shards(staging, "road", range(record_count),
                             [("H", mains), ("H", subs), ("H", pair_column)], started),
        "dong": write_shards(staging, "dong", dong_order, [("I", None), ("H", mains), ("H", subs)], started),
        "ri": write_shards(staging, "ri", ri_order, [("I", None), ("H", mains), ("H", subs)], started),
        "main": write_shards(staging, "main", main_order, [("I", None), ("H", subs), ("H", pair_column)], started),
    }
    # ASCII only (names escaped in the JSON, the rest base64): see Dictionary.
    write_script(staging / "index.js", "searchaddrIndex("
                 + json.dumps(meta, ensure_ascii=True, separators=(",", ":"))
                 + ',\n"' + dictionary.deflated_base64() + '");\n')
    del dictionary
    log("wrote the dictionary", started)
    write_script(staging / "stamp.json", stamp_text)
    previous = out.parent / (out.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if out.exists():
        out.rename(previous)
    staging.rename(out)
    shutil.rmtree(previous, ignore_errors=True)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    log(f"wrote {out}: {record_count:,} addresses, {size / 1e6:.1f} MB", started)
    return True


def write_script(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_shards(staging, copy, order, columns, started):
    """One script per SHARD_ROWS rows of a copy (rows `order`): its columns as little-endian ints,
    raw DEFLATE, base64 (docs/search.md); returns the files' mean size in bytes. A column given as
    None is the rows' ids, each written as its difference from the previous row's (modulo 2**32):
    runs of near ids shrink to almost nothing.

    The base64 sits in a comment of a function the page reads back with toString(): V8 then
    slices the script's own text instead of copying a string literal into its heap."""
    (staging / copy).mkdir()
    total = 0
    for shard, first in enumerate(range(0, len(order), SHARD_ROWS)):
        rows = order[first:first + SHARD_ROWS]
        parts = []
        for typecode, values in columns:
            if values is None:
                parts.append(little_endian(typecode, [(b - a) & 0xFFFFFFFF
                                                      for a, b in zip(itertools.chain((0,), rows), rows)]))
            else:
                parts.append(little_endian(typecode, [values[i] for i in rows]))
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        encoded = base64.b64encode(deflater.compress(b"".join(parts)) + deflater.flush()).decode("ascii")
        text = f'searchaddrShard("{copy}",{shard},function(){{/*{encoded}*/}});\n'
        write_script(staging / copy / f"{shard}.js", text)
        total += len(text)
    log(f"wrote the {copy} copy", started)
    return round(total / ((len(order) + SHARD_ROWS - 1) // SHARD_ROWS))


# The columns of each copy's shards, in file order (docs/search.md); "id" is written as differences.
SHARD_COLUMNS = {"road": (("main", "H"), ("sub", "H"), ("pair", "H")),
                 "dong": (("id", "I"), ("main", "H"), ("sub", "H")),
                 "ri": (("id", "I"), ("main", "H"), ("sub", "H")),
                 "main": (("id", "I"), ("sub", "H"), ("pair", "H"))}


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
    for name in ("roads", "roadsEnglish", "dongs", "dongEnglish", "dongParts"):
        text_bytes, starts = bytes(index.pop(name + "Text")), index.pop(name + "Offsets")
        index[name] = [text_bytes[a:b].decode("utf-8") for a, b in zip(starts, starts[1:])]
    index["zips"] = [f"{z:05d}" for z in index["zips"]]
    index["pairDong"] = [d for d in range(len(index["dongs"]))
                         for _ in range(index["dongPairStart"][d], index["dongPairStart"][d + 1])]
    return index


def read_shard(out, copy, number, records):
    """One shard's columns by name (SHARD_COLUMNS), ids summed back from their differences;
    `records`: the rows of the copy."""
    text = (pathlib.Path(out) / copy / f"{number}.js").read_text(encoding="ascii")
    data = zlib.decompress(base64.b64decode(text[text.index("/*") + 2:text.rindex("*/")]), -15)
    rows = min(SHARD_ROWS, records - number * SHARD_ROWS)
    columns, at = {}, 0
    for name, typecode in SHARD_COLUMNS[copy]:
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
    parser.add_argument("--sido", help="only this sido (its current name), for fast tests")
    args = parser.parse_args(argv)
    try:
        build(args.wheel, args.out.resolve(), args.sido)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        print(f"build_index: failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
