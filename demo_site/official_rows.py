"""An official file's addresses (official.py's Source) read as packed rows, with what the official
data adds to each (docs/search.md, "Official data")."""
import array
import bisect
import itertools

import official
from area_names import current_names
from packed_rows import DONG_SHIFT, ENTRY_SHIFT, MAIN_SHIFT, SUB_SHIFT, ranked_rows
from progress import log

# Bits below an official address's fields while building: its 지하여부, and its line's position.
UNDER_BITS, ORIGIN_BITS = 2, 23


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
