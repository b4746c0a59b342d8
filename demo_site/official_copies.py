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
