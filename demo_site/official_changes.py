"""Change files applied to an official index in seconds, without rebuilding it (docs/search.md,
"Daily changes").

The index built from a full file (the base) stays as it is. Every address a change file since then
touches (by its key, through its own line or a related lot's) becomes part of a small second index
of the same format, built from the touched addresses' current data; the base's rows of those
addresses are listed as removed. The page searches both and merges them: each row of the second
index carries the place it takes among the base's rows (basePositions), so an answer's order is the
one a full build would give. Each update starts again from the base with every change since it:
what the second index holds never depends on how the changes arrived.

What the official/ directory beside the index keeps for this:
  base/            the data the base was built from (the full file as given, or a snapshot)
  base-ids.bin     the base's id of each of its lines, by the line's position (-1: none)
  base-about.json  what the base holds (about.json, as it was built)
  changes/         the touched addresses as they are now: a snapshot (official_snapshot.py)
  changes.json     the touched keys, the positions of their lines in the base, and the base's
                   related lots of those keys
"""
import bisect
import io
import json
import os
import re
import shutil

import official
from index_files import (SHARD_ROWS, from_little_endian, little_endian, read_index, read_shard, rows_version_in,
                         write_script)
from index_layout import seal, write_index
from index_switch import CHANGES_SCRIPT, replace_directory
from official_lines import OfficialDataError
from official_rows import load_official_rows
from official_snapshot import KEY_LENGTH, address_line, encode_line, lot_line
from progress import log

BASE = "base"
BASE_IDS = "base-ids.bin"
BASE_ABOUT = "base-about.json"
CHANGES = "changes"
CHANGES_META = "changes.json"
# Bytes read at a time while looking for the touched addresses' lines in the base.
SCAN_BLOCK = 1 << 24
# The key of each line but a block's first: a newline is a literal the search skips to.
LINE_KEY = re.compile(rb"\n([0-9]{%d})" % KEY_LENGTH)
FIRST_KEY = re.compile(rb"[0-9]{%d}" % KEY_LENGTH)


def keep_base(kept, origin_ids, about):
    """Writes what an update needs of a freshly built base into the kept directory."""
    (kept / BASE_IDS).write_bytes(little_endian("i", origin_ids))
    write_script(kept / BASE_ABOUT, json.dumps(about, ensure_ascii=False, sort_keys=True) + "\n")


def touched_keys(changesets):
    return {item.key for changeset in changesets for item in (*changeset.addresses, *changeset.lots)}


def scan_base(source, keys):
    """The base's lines of these keys: ({key: Address}, [RelatedLot], {key: line position})."""
    wanted = {key.encode("ascii") for key in keys}
    found, lots = {}, []
    positions = {}

    def address(position, line):
        positions[line[:KEY_LENGTH].decode("ascii")] = position
        found[line[:KEY_LENGTH]] = line

    _scan(source, source.address_names, wanted, address)
    _scan(source, source.lot_names, wanted, lambda position, line: lots.append(line))
    addresses = {a.key: a for a in _parsed(official.parse_addresses, found.values(), source.name)}
    return addresses, list(_parsed(official.parse_lots, lots, source.name)), positions


def _parsed(parse, lines, display):
    return parse(io.BytesIO(b"".join(line.rstrip(b"\r") + b"\r\n" for line in lines)), display, False)


def _scan(source, names, wanted, found):
    """Calls found(position, line) for each line whose key is wanted (the position of a key's first
    line, for a key with several); a line's position counts the
    files' lines in order, as reading the source does (every line starts with its key; empty lines
    only end a file). The keys of a block are listed by one regular expression and looked up as a
    set: a loop over 8 million lines in Python would take most of a day's update."""
    position = 0

    def scan(raw, display):
        nonlocal position
        carry = b""
        while True:
            try:
                data = raw.read(SCAN_BLOCK)
            except (OSError, EOFError, ValueError) as error:
                raise OfficialDataError(display, None, f"cannot be read ({error})") from error
            if not data:
                data, carry = carry + b"\n", b""
                if data.strip():
                    position = _scan_block(data, position, wanted, found)
                break
            data = carry + data
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            position = _scan_block(data[:cut], position, wanted, found)

    for _ in source.files.read(names, scan):
        pass


def _scan_block(block, position, wanted, found):
    """The lines of a block (whole lines) whose key is wanted, to found(); returns the next position."""
    keys = LINE_KEY.findall(block)
    if FIRST_KEY.match(block):
        keys.insert(0, block[:KEY_LENGTH])
    for key in wanted.intersection(keys):
        start, lines = 0 if block.startswith(key) else block.find(b"\n" + key) + 1, keys.count(key)
        at = position + keys.index(key)
        for line in range(lines):  # a key has several lines in a file of related lots
            end = block.find(b"\n", start)
            found(at, block[start:end].rstrip(b"\r"))
            if line + 1 < lines:
                start = block.find(b"\n" + key, end) + 1
    return position + len(keys)


def write_lines(folder, base_date, addresses, lots):
    """A snapshot of these Address and RelatedLot records."""
    folder.mkdir(parents=True)
    address_bytes = sorted(encode_line(address_line(a), str(folder)) for a in addresses)
    lot_bytes = sorted(set(encode_line(lot_line(lot), str(folder)) for lot in lots))
    (folder / official.SNAPSHOT_ADDRESSES).write_bytes(b"".join(address_bytes))
    (folder / official.SNAPSHOT_LOTS).write_bytes(b"".join(lot_bytes))
    write_script(folder / official.SNAPSHOT_META, json.dumps(
        {"base_date": base_date, "addresses": len(address_bytes), "lots": len(lot_bytes)}) + "\n")


def apply(out, base_source, changesets, started):
    """Applies change sets to the official index in `out` as a second index beside its base."""
    kept = out / "official"
    state = _read_state(kept)
    new_keys = touched_keys(changesets) - set(state["keys"])
    addresses, lots, positions = scan_base(base_source, new_keys)
    log(f"found {len(addresses):,} of {len(new_keys):,} newly changed addresses in the base data "
        f"({len(lots):,} related lots)", started)
    before = out / "official.changes.before"
    after = out / "official.changes.building"
    for folder in (before, after):
        shutil.rmtree(folder, ignore_errors=True)
    try:
        current = official.open_source(kept / CHANGES) if state["keys"] else None
        write_lines(before, state["base_date"],
                    [*addresses.values(), *(current.addresses() if current else ())],
                    [*lots, *(current.related_lots() if current else ())])
        summary = official.apply_changes(official.open_source(before), changesets, after)
        log(f"applied {len(changesets)} change file(s) up to {summary.base_date}: {summary.inserted:,} new, "
            f"{summary.updated:,} changed, {summary.deleted:,} removed addresses; "
            f"{summary.lots_inserted:,} new and {summary.lots_deleted:,} removed related lots", started)
        state = {"base_date": summary.base_date, "keys": sorted({*state["keys"], *new_keys}),
                 "positions": sorted({*state["positions"], *positions.values()}),
                 "base_lots": state["base_lots"] + len(lots)}

        def keep():  # before the page sees the changes: an update cut short here loses none
            replace_directory(after, kept / CHANGES)
            write_script(kept / (CHANGES_META + ".building"), json.dumps(state) + "\n")
            os.replace(kept / (CHANGES_META + ".building"), kept / CHANGES_META)

        write_changes_index(out, official.open_source(after), state, started, keep)
    finally:
        for folder in (before, after):
            shutil.rmtree(folder, ignore_errors=True)


def _read_state(kept):
    """What changes.json says, or none yet (the base's date from when it was built: a full file's
    name may not say it, and reading it again to find out takes as long as the build did)."""
    path = kept / CHANGES_META
    if path.is_file() and (kept / CHANGES).is_dir():
        return json.loads(path.read_text(encoding="utf-8"))
    base_date = json.loads((kept / BASE_ABOUT).read_text(encoding="utf-8"))["base_date"]
    return {"base_date": (base_date or "").replace("-", ""), "keys": [], "positions": [], "base_lots": 0}


def rebuild(out, started):
    """The second index again, from the kept changes (after the base was rebuilt)."""
    kept = out / "official"
    if (kept / CHANGES_META).is_file() and (kept / CHANGES).is_dir():
        state = json.loads((kept / CHANGES_META).read_text(encoding="utf-8"))
        write_changes_index(out, official.open_source(kept / CHANGES), state, started)


def write_changes_index(out, source, state, started, keep=lambda: None):
    """The second index of the touched addresses (`source`), the base's removed rows, changes.js
    and about.json; keep() runs once they are written, before they replace those in use."""
    kept = out / "official"
    base_ids = from_little_endian("i", (kept / BASE_IDS).read_bytes())
    removed = sorted({base_ids[p] for p in state["positions"]} - {-1})
    base = read_index(out)
    base_about = json.loads((kept / BASE_ABOUT).read_text(encoding="utf-8"))
    about_note = {"note": base_about["note"], "base_date": official.iso_date(state["base_date"])}
    if source.snapshot["addresses"] == 0:
        meta = {"records": 0, "baseDate": about_note["base_date"], "rows": None}
        related, version = 0, None
    else:
        rows, entries, dongs, extra = load_official_rows(source, started)
        related = len(extra.related)
        finish = _Finish(out, base)
        write_index(out, rows, entries, dongs, None, about_note, started, official=extra, finish=finish)
        meta, version = finish.meta, finish.meta["rows"]
    meta["changes"] = {"base": base["rows"], "removed": removed}
    if version is not None:
        meta["changes"]["basePositions"] = finish.positions
    write_script(out / (CHANGES_SCRIPT + ".building"), "searchaddrChanges("
                 + json.dumps(meta, ensure_ascii=True, separators=(",", ":"))
                 + (',\n"' + finish.deflated + '");\n' if version else ");\n"))
    about = dict(base_about, base_date=about_note["base_date"],
                 addresses=base_about["addresses"] - len(removed) + meta["records"],
                 related_lots=base_about["related_lots"] - state["base_lots"] + related,
                 version=base["rows"] + ("+" + version if version else ""))
    write_script(out / "about.json.building", json.dumps(about, ensure_ascii=False, sort_keys=True) + "\n")
    previous = _changes_version(out)
    keep()
    os.replace(out / (CHANGES_SCRIPT + ".building"), out / CHANGES_SCRIPT)
    os.replace(out / "about.json.building", out / "about.json")
    for path in out.iterdir():  # a page that loaded the previous changes.js still reads its rows
        if path.is_dir() and path.name.startswith("rows-") and path.name not in (base["rows"], version, previous):
            shutil.rmtree(path)
    log(f"wrote {out / CHANGES_SCRIPT}: {meta['records']:,} changed addresses, {len(removed):,} rows of the "
        f"base replaced or removed", started)


def _changes_version(out):
    try:
        text = (out / CHANGES_SCRIPT).read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    return rows_version_in(text)


class _Finish:
    """Puts the second index's rows beside the base's and keeps what changes.js needs."""

    def __init__(self, out, base):
        self.out, self.base = out, base
        self.meta = self.deflated = self.positions = None

    def __call__(self, staging, dictionary, meta, files, tables):
        self.positions = BaseOrder(self.out, self.base).positions(*tables)
        files.update(json.dumps(self.positions).encode("ascii"))
        self.deflated, version = seal(dictionary, meta, files)
        prefix = next("o" + version[i:i + 4] for i in (5, 9) if "o" + version[i:i + 4] != self.base["idPrefix"])
        meta["idPrefix"] = prefix
        if (self.out / version).exists():
            shutil.rmtree(staging)
        else:
            staging.rename(self.out / version)
        self.meta = meta


class BaseOrder:
    """Where rows of another index fall among the base's rows, in the order the base's rows are
    sorted in (packed_rows.py): entry (road, sido, sigungu), building number, 읍면동/리, zip, 지하."""

    def __init__(self, out, base):
        self.out, self.base = out, base
        sido, sigungu = base["sido"], base["sigungu"]
        roads, road_entries, entry_sigungu = base["roads"], base["roadEntries"], base["entrySigungu"]
        self.entries = []
        for road_number, road in enumerate(roads):
            for e in range(road_entries[road_number], road_entries[road_number + 1]):
                area = sigungu[entry_sigungu[e]]
                self.entries.append((road, sido[area[0]][0], area[1]))
        self.under = dict(zip(base.get("underIds", ()), base.get("underKinds", ())))
        self.zips = [int(z) for z in base["zips"]]
        self.shards = {}

    def row_key(self, row_id):
        number = row_id // SHARD_ROWS
        shard = self.shards.get(number)
        if shard is None:
            shard = self.shards[number] = read_shard(self.out, "road", number, self.base["records"], True)
        at, base = row_id - number * SHARD_ROWS, self.base
        pair = shard["pair"][at]
        return (shard["main"][at], shard["sub"][at], base["dongs"][base["pairDong"][pair]],
                self.zips[base["pairZip"][pair]], self.under.get(row_id, 0))

    def positions(self, columns, entries, dongs, extra):
        """For each row of the other index (its field columns, tables and OfficialRows), how many
        of the base's rows sort before it."""
        entry_column, mains, subs, dong_column, zip_column = columns
        starts, out = self.base["entryStart"], []
        for i in range(len(mains)):
            entry = entries[entry_column[i]]
            e = bisect.bisect_left(self.entries, entry)
            if e == len(self.entries) or self.entries[e] != entry:
                out.append(starts[e])
                continue
            key = (mains[i], subs[i], dongs[dong_column[i]], zip_column[i], extra.under.get(i, 0))
            lo, hi = starts[e], starts[e + 1]
            while lo < hi:
                mid = (lo + hi) // 2
                if self.row_key(mid) < key:
                    lo = mid + 1
                else:
                    hi = mid
            out.append(lo)
        return out
