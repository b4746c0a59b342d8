"""Addresses as packed ints while building: the bit layout of their fields, and the order they sort
into (docs/search.md, "The page's index")."""
import array
import itertools

from progress import log

# Bit layout of one address while building: fields in the order rows sort by within an entry.
ZIP_BITS, DONG_BITS, SUB_BITS, MAIN_BITS = 17, 15, 12, 15
DONG_SHIFT = ZIP_BITS
SUB_SHIFT = DONG_SHIFT + DONG_BITS
MAIN_SHIFT = SUB_SHIFT + SUB_BITS
ENTRY_SHIFT = MAIN_SHIFT + MAIN_BITS
ID_BITS = 23


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


def field_columns(rows):
    """(entry, main, sub, dong, zip) arrays of the packed rows (arrays: a tenth of a list's memory)."""
    dong_mask, sub_mask, main_mask = (1 << DONG_BITS) - 1, (1 << SUB_BITS) - 1, (1 << MAIN_BITS) - 1
    return (array.array("I", [v >> ENTRY_SHIFT for v in rows]),
            array.array("H", [(v >> MAIN_SHIFT) & main_mask for v in rows]),
            array.array("H", [(v >> SUB_SHIFT) & sub_mask for v in rows]),
            array.array("H", [(v >> DONG_SHIFT) & dong_mask for v in rows]),
            array.array("I", [v & ((1 << ZIP_BITS) - 1) for v in rows]))
