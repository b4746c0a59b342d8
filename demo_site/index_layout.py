"""The index's layout: the copies of the rows in their orders, the dictionary that finds them, and
index.js's other fields (docs/search.md, "The page's index")."""
import array
import hashlib
import itertools
import json
import shutil

from area_names import MOVED_SIGUNGU_WORDS, SIDO, WORD_SEPARATORS, eupmyeon_of, sigungu_english
from index_files import SHARD_ROWS, Dictionary, counted_starts, offsets, write_shards
from index_switch import switch_to
from kozip_rows import parse_number
from official_copies import LOT_BLOCK_ROWS, add_underground, write_official_copies
from packed_rows import ID_BITS, field_columns
from progress import log
from romanize import area_english, road_english

FORMAT = 3
# Every this many rows of the main copy, the dictionary has the row's (sido, id) key.
MAIN_BLOCK_ROWS = 256
# Bits of a sido's position in SIDO, in the main copy's keys.
SIDO_BITS = 5
# dongRiStart of a 읍면동/리 of one part (not in the ri copy).
NO_RI = 0xFFFFFFFF


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


def write_index(out, rows, entries, dongs, stamp, about, started, landmarks=(), official=None,
                snapshot=None, finish=None):
    """Writes the index of these rows into `out` (docs/search.md, "The page's index"). `finish`,
    if given, puts the files in place instead of finish_index: finish(staging, dictionary, meta,
    files, (columns, entries, dongs, official))."""
    check_sido(entries)
    columns = field_columns(rows)
    record_count = len(rows)
    del rows
    entry_start = counted_starts(columns[0], len(entries))
    pairs = dong_copy(columns, record_count, len(dongs))
    ri = ri_copy(dongs, pairs)
    main = main_copy(columns, entries, record_count)
    log("ordered the copies by 읍면동/리, by 리 and by building number", started)
    dong_column = columns[3]
    entry_dongs = [sorted(set(dong_column[entry_start[e]:entry_start[e + 1]])) for e in range(len(entries))]
    log("indexed entries", started)
    roads = road_names(entries, started)
    areas = area_tables(entries, entry_dongs, dongs)
    dictionary = Dictionary()
    add_name_sections(dictionary, roads, areas, entries, entry_start, entry_dongs, dongs)
    add_copy_sections(dictionary, pairs, ri, main)
    if official is not None:
        add_underground(dictionary, official)
    meta = index_meta(about, official is not None, record_count, areas)
    meta["bigMains"] = [[i, columns[1][i], columns[2][i], pairs["pair_column"][i]]
                        for i in range(record_count) if columns[1][i] >= 10000]
    meta["landmarks"] = attach_landmarks(landmarks, entries, entry_start, columns, dongs)
    out.mkdir(parents=True, exist_ok=True)
    staging = out / "rows.building"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    files = hashlib.sha256()
    meta["shardBytes"] = write_copies(staging, columns, pairs, ri, main, official, started, files)
    if official is not None:
        write_official_copies(staging, official, dictionary, meta, record_count, dongs, areas["sigungu_index"],
                              [key >> 16 for key in pairs["pair_keys"]],
                              (columns[1], columns[2], pairs["pair_column"]), started, files)
    if finish is not None:
        return finish(staging, dictionary, meta, files, (columns, entries, dongs, official))
    finish_index(out, staging, dictionary, meta, files, stamp, about, snapshot, started)


def check_sido(entries):
    unknown_sido = {sido for _, sido, _ in entries} - {name for name, _, _ in SIDO}
    if unknown_sido:
        raise ValueError(f"sido not in docs/search.md's table: {sorted(unknown_sido)}")


def dong_copy(columns, record_count, dong_count):
    """The dong copy: addresses by (읍면동/리, zip, id), and its (읍면동/리, zip) pairs. A pair's rows lie
    together, so a 읍면동/리's rows and a zip's rows are a few runs of it."""
    _, _, _, dong_column, zip_column = columns
    zips = sorted(set(zip_column))
    if len(zips) > 1 << 16:
        raise ValueError(f"too many zips for the index format: {len(zips)}")
    zip_index = {z: i for i, z in enumerate(zips)}
    zip_idx_column = array.array("H", [zip_index[z] for z in zip_column])
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
    return {"zips": zips, "dong_order": dong_order, "pair_keys": pair_keys, "pair_start": pair_start,
            "pair_zip": pair_zip, "pair_column": pair_column,
            "dong_pair_start": counted_starts([key >> 16 for key in pair_keys], dong_count),
            "zip_pairs": sorted(range(len(pair_keys)), key=lambda p: (pair_zip[p], p)),
            "zip_pair_start": counted_starts(pair_zip, len(zips))}


def ri_copy(dongs, pairs):
    """The ri copy: the addresses of every two-part 읍면동/리 (a 읍/면 and a 리) once more, by (리, 읍/면,
    zip, id). A 리's name repeats across 읍/면, which scatters its rows in the dong copy."""
    dong_pair_start, pair_start, dong_order = pairs["dong_pair_start"], pairs["pair_start"], pairs["dong_order"]
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
    return {"ri_pairs": ri_pairs, "dong_ri_start": dong_ri_start, "ri_order": ri_order,
            "ri_pair_start": ri_pair_start}


def main_copy(columns, entries, record_count):
    """The main copy: addresses by (main building number, sido, id): a number's rows lie together,
    and within them each sido's. Every MAIN_BLOCK_ROWS-th row's (sido, id) key lets the page
    narrow a number's run to a sido and a range of ids without loading it."""
    entry_column, mains = columns[0], columns[1]
    sido_index = {name: i for i, (name, _, _) in enumerate(SIDO)}
    entry_sido = [sido_index[sido] for _, sido, _ in entries]
    by_main = sorted((mains[i] << (SIDO_BITS + ID_BITS)) | (entry_sido[entry_column[i]] << ID_BITS) | i
                     for i in range(record_count))
    main_order = array.array("I", [v & ((1 << ID_BITS) - 1) for v in by_main])
    main_block_keys = [by_main[p] & ((1 << (SIDO_BITS + ID_BITS)) - 1)
                       for p in range(0, record_count, MAIN_BLOCK_ROWS)]
    del by_main
    return {"main_order": main_order, "main_block_keys": main_block_keys,
            "main_start": counted_starts(mains, max(mains) + 1)}


def road_names(entries, started):
    """The sorted road names, their romanized names and the order those sort in, and each road's entries."""
    roads = sorted({road for road, _, _ in entries})
    road_index = {road: i for i, road in enumerate(roads)}
    roads_english = [road_english(road) for road in roads]
    # The page compares these bytewise, lowering ASCII letters only ('3·15-daero' keeps its '·').
    if any(not c.isascii() and c.lower() != c for name in roads_english for c in name):
        raise ValueError("a romanized road name with a non-ASCII letter that has a lower case")
    english_key = [name.lower().replace(" ", "").replace("-", "") for name in roads_english]
    log(f"romanized {len(roads):,} road names", started)
    return {"roads": roads, "roads_english": roads_english,
            "english_order": sorted(range(len(roads)), key=lambda i: (english_key[i], i)),
            "road_entries": counted_starts([road_index[road] for road, _, _ in entries], len(roads))}


def area_tables(entries, entry_dongs, dongs):
    """The sigungu table and the words that find each sigungu; the entries of each sigungu and of
    each 읍면동/리; the 읍면동/리 each part of their names finds."""
    sigungu_table = sorted({(sido, sigungu) for _, sido, sigungu in entries})
    sigungu_index = {key: i for i, key in enumerate(sigungu_table)}
    sigungu_entries = [[] for _ in sigungu_table]
    for e, (_, sido, sigungu) in enumerate(entries):
        sigungu_entries[sigungu_index[(sido, sigungu)]].append(e)
    dong_entries = [[] for _ in dongs]
    for e, listed in enumerate(entry_dongs):
        for d in listed:
            dong_entries[d].append(e)
    return {"sigungu_table": sigungu_table, "sigungu_index": sigungu_index,
            "area_words": area_words(sigungu_table), "sigungu_entries": sigungu_entries,
            "dong_entries": dong_entries, "dong_parts": dong_parts(dongs)}


def area_words(sigungu_table):
    """Each word that names an area (sido names, their short and old names, sigungu parts): the
    positions in sigungu_table of the sigungu it finds."""
    words_found = {}
    for i, (sido, sigungu) in enumerate(sigungu_table):
        aliases = next(words for name, _, words in SIDO if name == sido)
        words = (sido, *aliases, *sigungu.split(), *MOVED_SIGUNGU_WORDS.get((sido, sigungu), ()))
        for word in words:
            listed = words_found.setdefault(word, [])
            if i not in listed:
                listed.append(i)
    return words_found


def dong_parts(dongs):
    """A 읍면동/리's parts split like a query's words: '미원면 기암리(基岩)' -> 미원면, 기암리, 基岩."""
    parts = {}
    for d, name in enumerate(dongs):
        for part in WORD_SEPARATORS.split(name):
            if part and d not in parts.setdefault(part, []):
                parts[part].append(d)
    return parts


def add_name_sections(dictionary, roads, areas, entries, entry_start, entry_dongs, dongs):
    """The dictionary's names and what each finds: roads, entries, sigungu, 읍면동/리 and their parts."""
    sigungu_index, dong_entries, parts = areas["sigungu_index"], areas["dong_entries"], areas["dong_parts"]
    dictionary.add_names("roads", roads["roads"])
    dictionary.add_names("roadsEnglish", roads["roads_english"])
    dictionary.add("englishOrder", "I", roads["english_order"])
    dictionary.add("roadEntries", "I", roads["road_entries"])
    dictionary.add("entrySigungu", "H", [sigungu_index[(sido, sigungu)] for _, sido, sigungu in entries])
    dictionary.add("entryStart", "I", entry_start)
    dictionary.add("entryDongStart", "I", offsets(entry_dongs))
    dictionary.add("entryDongs", "H", [d for listed in entry_dongs for d in listed])
    dictionary.add("sigunguEntryStart", "I", offsets(areas["sigungu_entries"]))
    dictionary.add("sigunguEntries", "I", [e for listed in areas["sigungu_entries"] for e in listed])
    dictionary.add_names("dongs", dongs)
    dictionary.add_names("dongEnglish", [area_english(eupmyeon_of(d)) if eupmyeon_of(d) else "" for d in dongs])
    dictionary.add("dongEntryStart", "I", offsets(dong_entries))
    dictionary.add("dongEntries", "I", [e for listed in dong_entries for e in listed])
    part_names = sorted(parts)
    dictionary.add_names("dongParts", part_names)
    dictionary.add("dongPartStart", "I", offsets([parts[part] for part in part_names]))
    dictionary.add("dongPartDongs", "H", [d for part in part_names for d in parts[part]])


def add_copy_sections(dictionary, pairs, ri, main):
    """The dictionary's ways into the dong, ri and main copies."""
    dictionary.add("zips", "I", pairs["zips"])
    dictionary.add("dongPairStart", "I", pairs["dong_pair_start"])
    dictionary.add("pairZip", "H", pairs["pair_zip"])
    dictionary.add("pairStart", "I", pairs["pair_start"])
    dictionary.add("zipPairStart", "I", pairs["zip_pair_start"])
    dictionary.add("zipPairs", "I", pairs["zip_pairs"])
    dictionary.add("dongRiStart", "I", ri["dong_ri_start"])
    dictionary.add("riPairs", "H", ri["ri_pairs"])
    dictionary.add("riPairStart", "I", ri["ri_pair_start"])
    dictionary.add("mainStart", "I", main["main_start"])
    dictionary.add("mainBlockKeys", "I", main["main_block_keys"])


def index_meta(about, is_official, record_count, areas):
    """index.js's JSON part, up to what the rows, the landmarks and the shards add."""
    sigungu_table = areas["sigungu_table"]
    sido_index = {name: i for i, (name, _, _) in enumerate(SIDO)}
    return {
        "format": FORMAT,
        "source": about["note"],
        "official": is_official,
        "baseDate": about["base_date"],
        "records": record_count,
        "shardRows": SHARD_ROWS,
        "shards": (record_count + SHARD_ROWS - 1) // SHARD_ROWS,
        "mainBlockRows": MAIN_BLOCK_ROWS,
        "lotBlockRows": LOT_BLOCK_ROWS,
        "sido": [[name, english] for name, english, _ in SIDO],
        "sigungu": [[sido_index[sido], sigungu, sigungu_english(sigungu)] for sido, sigungu in sigungu_table],
        "areaWords": {word: listed for word, listed in sorted(areas["area_words"].items())},
    }


def write_copies(staging, columns, pairs, ri, main, official, started, files):
    """The road, dong, ri and main copies' shards; returns what loading a shard of each costs the
    page, on average: it weighs plans by it."""
    mains, subs, pair_column = columns[1], columns[2], pairs["pair_column"]
    road_columns = [("H", mains), ("H", subs), ("H", pair_column)]
    if official is not None:
        road_columns += [("H", array.array("H", [c >> 16 for c in official.lots])),  # 산 << 15 | 본번
                         ("H", array.array("H", [c & 0xFFFF for c in official.lots]))]
    return {
        "road": write_shards(staging, "road", range(len(mains)), road_columns, started, files),
        "dong": write_shards(staging, "dong", pairs["dong_order"], [("I", None), ("H", mains), ("H", subs)],
                             started, files),
        "ri": write_shards(staging, "ri", ri["ri_order"], [("I", None), ("H", mains), ("H", subs)], started, files),
        "main": write_shards(staging, "main", main["main_order"], [("I", None), ("H", subs), ("H", pair_column)],
                             started, files),
    }


def seal(dictionary, meta, files):
    """The dictionary deflated, and the rows' version (a hash of every file), now in meta."""
    meta["dictionaryBytes"] = dictionary.size
    meta["sections"] = dictionary.sections
    deflated = dictionary.deflated_base64()
    files.update(deflated.encode("ascii"))
    files.update(json.dumps(meta, sort_keys=True).encode("utf-8"))
    version = "rows-" + files.hexdigest()[:12]
    meta["rows"] = version
    return deflated, version


def finish_index(out, staging, dictionary, meta, files, stamp, about, snapshot, started):
    """Names the rows by a hash of every file and puts the index in place."""
    record_count = meta["records"]
    deflated, version = seal(dictionary, meta, files)
    meta["idPrefix"] = "k" if not meta["official"] else "o" + version[5:9]
    about = dict(about, addresses=record_count, version=version)
    switch_to(out, staging, version, meta, deflated, stamp, about, snapshot, started)
    size = sum(p.stat().st_size for p in (out / version).rglob("*") if p.is_file())
    size += (out / "index.js").stat().st_size
    log(f"wrote {out}: {record_count:,} addresses, {size / 1e6:.1f} MB", started)
