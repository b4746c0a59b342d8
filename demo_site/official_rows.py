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
        self.origin_ids = None  # the id of each line of the file, by its position (-1: none)


def lot_code(mountain, main, sub):
    return (mountain << 31) | (main << 16) | sub


class OfficialLines:
    """The official file's addresses as read, by their line's position (origin), before they become
    rows: each packed with its 지하여부 and origin below its fields, and its lot, building name and
    key's hash; the 법정동코드 of each 읍면동/리."""

    def __init__(self):
        self.entry_ids, self.dong_ids, self.packed = {}, {}, []
        self.lots, self.buildings, self.key_hashes = array.array("I"), [], array.array("q")
        self.codes = {}
        self.codes_in_doubt = set()  # a 읍면동/리 whose lines give two 법정동코드: it is shown with none

    def add(self, origin, address):
        sido, sigungu = current_names(address.sido, address.sigungu)
        dong = f"{address.dong} {address.ri}" if address.ri else address.dong
        entry = self.entry_ids.setdefault((address.road, sido, sigungu), len(self.entry_ids))
        dong_id = self.dong_ids.setdefault(dong, len(self.dong_ids))
        known = self.codes.setdefault((sido, sigungu, dong), address.admin_code)
        if known != address.admin_code:
            self.codes_in_doubt.add((sido, sigungu, dong))
        fields = ((entry << ENTRY_SHIFT) | (address.main << MAIN_SHIFT) | (address.sub << SUB_SHIFT)
                  | (dong_id << DONG_SHIFT) | int(address.zip))
        self.packed.append((((fields << UNDER_BITS) | address.underground) << ORIGIN_BITS) | origin)
        self.lots.append(lot_code(address.mountain, address.lot_main, address.lot_sub))
        self.buildings.append(official.building_name(address))
        self.key_hashes.append(hash(address.key))


def load_official_rows(source, started):
    """The addresses of an official file (demo_site/official.py's Source) in id order, the tables the
    rows refer to, and an OfficialRows."""
    lines = read_lines(source, started)
    related = join_related_lots(source, lines, started)
    rows, entries, dongs, dong_rank, repeats = ranked_rows(lines.packed, lines.entry_ids, lines.dong_ids,
                                                           UNDER_BITS + ORIGIN_BITS, ORIGIN_BITS, started)
    lines.packed = None
    return rows, entries, dongs, rows_by_id(rows, lines, repeats, related, dong_rank)


def read_lines(source, started):
    """An OfficialLines of every address of the file, without the 법정동코드 in doubt."""
    lines = OfficialLines()
    for origin, address in enumerate(source.addresses()):
        if origin % 1000000 == 999999:
            log(f"read {origin + 1:,} addresses", started)
        if origin >= 1 << ORIGIN_BITS:
            raise ValueError(f"{source.name}: too many addresses for the index format")
        lines.add(origin, address)
    log(f"read {len(lines.packed):,} addresses", started)
    if lines.codes_in_doubt:
        log(f"{len(lines.codes_in_doubt):,} 읍면동/리 with more than one 법정동코드 (their admin_code is null), e.g. "
            f"{' '.join(p for p in min(lines.codes_in_doubt) if p)}", started)
        for key in lines.codes_in_doubt:
            del lines.codes[key]
    if not lines.packed:
        raise ValueError(f"{source.name}: no address")
    return lines


def join_related_lots(source, lines, started):
    """(origin, 읍면동/리 id, lot_code) of each related lot of an address the file has: related lots
    name their address by its key, joined to ids once ids are known."""
    by_key = sorted(range(len(lines.key_hashes)), key=lines.key_hashes.__getitem__)
    sorted_hashes = array.array("q", (lines.key_hashes[i] for i in by_key))
    if any(a == b for a, b in zip(sorted_hashes, itertools.islice(sorted_hashes, 1, None))):
        raise ValueError(f"{source.name}: an address key given twice")
    by_key = array.array("I", by_key)
    lines.key_hashes = None
    related, missing = [], 0
    for lot in source.related_lots():
        at = bisect.bisect_left(sorted_hashes, hash(lot.key))
        if at == len(sorted_hashes) or sorted_hashes[at] != hash(lot.key):
            missing += 1  # a lot of an address the file does not have: nothing to find by it
            continue
        dong = f"{lot.dong} {lot.ri}" if lot.ri else lot.dong
        related.append((by_key[at], lines.dong_ids.setdefault(dong, len(lines.dong_ids)),
                        lot_code(lot.mountain, lot.lot_main, lot.lot_sub)))
    log(f"read {len(related):,} related lots ({missing:,} of addresses not in the file)", started)
    return related


def rows_by_id(rows, lines, repeats, related, dong_rank):
    """The OfficialRows of the ranked rows, whose low bits it takes off (they keep only the fields)."""
    extra = OfficialRows(len(rows))
    id_of = array.array("i", [-1]) * len(lines.lots)
    origin_mask, under_mask = (1 << ORIGIN_BITS) - 1, (1 << UNDER_BITS) - 1
    low_bits = UNDER_BITS + ORIGIN_BITS
    for i, value in enumerate(rows):
        origin = value & origin_mask
        id_of[origin] = i
        extra.lots[i] = lines.lots[origin]
        extra.buildings[i] = lines.buildings[origin]
        under = (value >> ORIGIN_BITS) & under_mask
        if under:
            extra.under[i] = under
        rows[i] = value >> low_bits
    for value, kept in repeats:  # a repeated line's related lots find the address it repeats
        id_of[value & origin_mask] = kept
    lines.lots, lines.buildings = None, None
    extra.codes = lines.codes
    extra.origin_ids = id_of
    for origin, dong_id, code in related:
        if id_of[origin] >= 0:
            extra.related.append((id_of[origin], dong_rank[dong_id], code))
    return extra
