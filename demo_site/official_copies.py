"""The official index's own copies: by lot, by building name, and the building names by id
(docs/search.md, "Official data")."""
import array
import itertools

from area_names import WORD_SEPARATORS
from index_files import SHARD_ROWS, counted_starts, delta_ids, little_endian, offsets, write_blob, write_shards
from packed_rows import ID_BITS
from progress import log

# Every this many rows of the lot copy, the dictionary has the row's (읍면동/리, 산, 본번) key.
LOT_BLOCK_ROWS = 128


def add_underground(dictionary, official):
    under = sorted(official.under.items())
    dictionary.add("underIds", "I", [i for i, _ in under])
    dictionary.add("underKinds", "B", [kind for _, kind in under])


def write_official_copies(staging, official, dictionary, meta, record_count, dongs, sigungu_index, pair_dong,
                          road_fields, started, files):
    """The lot and building copies, the building names by id, and their dictionary parts.
    `pair_dong`: the 읍면동/리 of each (읍면동/리, zip) pair; `road_fields`: (mains, subs, pairs) by id."""
    add_code_sections(dictionary, official, dongs, sigungu_index)
    meta["lotRows"], meta["shardBytes"]["lot"] = write_lot_copy(staging, official, dictionary, record_count,
                                                                len(dongs), (pair_dong, road_fields[2]),
                                                                started, files)
    meta["buildingRows"], meta["shardBytes"]["bld"] = write_building_copy(staging, official, dictionary,
                                                                          road_fields, files)
    meta["shardBytes"]["name"] = write_name_copy(staging, official, record_count, files)
    log("wrote the lot, building and name copies", started)


def add_code_sections(dictionary, official, dongs, sigungu_index):
    """The 법정동코드 of each (sigungu, 읍면동/리) that has one, by that key."""
    dong_index = {name: d for d, name in enumerate(dongs)}
    codes = sorted(((sigungu_index[(sido, sigungu)] << 16) | dong_index[dong], code)
                   for (sido, sigungu, dong), code in official.codes.items())
    dictionary.add("codeKeys", "I", [key for key, _ in codes])
    dictionary.add("codeHigh", "I", [int(code[:5]) for _, code in codes])
    dictionary.add("codeLow", "I", [int(code[5:]) for _, code in codes])


def lot_key(dong, code):
    """A lot copy row's order, but for its id: (읍면동/리, 산, 본번, 부번) of a lot_code."""
    return (dong << 16 | ((code >> 31) << 15) | ((code >> 16) & 0x3FFF)) << 12 | (code & 0xFFF)


def write_lot_copy(staging, official, dictionary, record_count, dong_count, dong_pairs, started, files):
    """The lot copy: every address by its lot, then once more by each related lot, ordered by
    (읍면동/리, 산, 본번, 부번, id); returns its rows and its shards' mean size. `dong_pairs`: the
    읍면동/리 of each pair, and each address's pair."""
    (pair_dong, pairs), lots = dong_pairs, official.lots
    keyed = [(lot_key(pair_dong[pairs[i]], lots[i]) << ID_BITS) | i for i in range(record_count)]
    keyed.extend((lot_key(dong, code) << ID_BITS) | i for i, dong, code in official.related)
    keyed.sort()
    id_mask = (1 << ID_BITS) - 1
    lot_order = array.array("I", [v & id_mask for v in keyed])
    lot_keys = array.array("H", [(v >> (ID_BITS + 12)) & 0xFFFF for v in keyed])
    lot_subs = array.array("H", [(v >> ID_BITS) & 0xFFF for v in keyed])
    lot_dongs = [v >> (ID_BITS + 28) for v in keyed]
    del keyed
    dictionary.add("lotDongStart", "I", counted_starts(lot_dongs, dong_count))
    dictionary.add("lotBlockKeys", "I", [(lot_dongs[p] << 16) | lot_keys[p]
                                         for p in range(0, len(lot_order), LOT_BLOCK_ROWS)])
    del lot_dongs
    return len(lot_order), write_shards(staging, "lot", lot_order, [("I", None), ("H", lot_keys), ("H", lot_subs)],
                                        started, files, by_position=True)


def write_building_copy(staging, official, dictionary, road_fields, files):
    """The building copy: each part of each building name (split as a query is) with its
    addresses; returns its rows and its shards' mean size."""
    mains, subs, pairs = road_fields
    parted = []
    for i, name in enumerate(official.buildings):
        if name:
            for part in dict.fromkeys(WORD_SEPARATORS.split(name)):
                if part:
                    parted.append((part.encode("utf-8"), i))
    parted.sort()
    firsts = []
    total = 0
    (staging / "bld").mkdir()
    for shard, first in enumerate(range(0, len(parted), SHARD_ROWS)):
        chunk = parted[first:first + SHARD_ROWS]
        firsts.append(chunk[0][0].decode("utf-8"))
        ids = [i for _, i in chunk]
        keys = [key for key, _ in itertools.groupby(part for part, _ in chunk)]
        key_start = offsets([list(run) for _, run in itertools.groupby(part for part, _ in chunk)])
        data = (little_endian("I", [len(keys)]) + little_endian("I", key_start) + little_endian("I", offsets(keys))
                + little_endian("I", delta_ids(ids)) + little_endian("H", [pairs[i] for i in ids])
                + little_endian("H", [mains[i] for i in ids]) + little_endian("H", [subs[i] for i in ids])
                + b"".join(keys))
        total += write_blob(staging / "bld" / f"{shard}.js", "bld", shard, data, files)
    dictionary.add_names("bldFirst", firsts)
    return len(parted), round(total / max(1, len(firsts)))


def write_name_copy(staging, official, record_count, files):
    """Building names by id, in the road copy's shards: read only to show an address. Returns the
    shards' mean size."""
    (staging / "name").mkdir()
    total = 0
    for shard, first in enumerate(range(0, record_count, SHARD_ROWS)):
        names = [n.encode("utf-8") for n in official.buildings[first:first + SHARD_ROWS]]
        total += write_blob(staging / "name" / f"{shard}.js", "name", shard,
                            little_endian("I", offsets(names)) + b"".join(names), files)
    return round(total / max(1, -(-record_count // SHARD_ROWS)))
