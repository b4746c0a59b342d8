"""Snapshots of the official data: the current addresses and related lots sorted by key in the
files' own layout (change code empty) plus snapshot.json, written from a full file or from an
older snapshot with change files applied (official.py's docstring)."""
import collections
import heapq
import itertools
import json
import os

from official_lines import ADDRESS_FILE, DELETE_CODES, INSERT_CODES, OfficialDataError, parse_addresses, parse_lots

ChangeSummary = collections.namedtuple(
    "ChangeSummary", "base_date addresses lots inserted updated deleted lots_inserted lots_deleted")
SNAPSHOT_ADDRESSES = "rnaddrkor_current.txt"
SNAPSHOT_LOTS = "jibun_rnaddrkor_current.txt"
SNAPSHOT_META = "snapshot.json"
KEY_LENGTH = 26


def address_line(a):
    return "|".join((a.key, a.admin_code, a.sido, a.sigungu, a.dong, a.ri, str(a.mountain), str(a.lot_main),
                     str(a.lot_sub), a.road_code, a.road, str(a.underground), str(a.main), str(a.sub), "", "",
                     a.zip, "", a.effective, "", "", a.register_building, a.sigungu_building, "")) + "\r\n"


def lot_line(lot):
    return "|".join((lot.key, lot.admin_code, lot.sido, lot.sigungu, lot.dong, lot.ri, str(lot.mountain),
                     str(lot.lot_main), str(lot.lot_sub), lot.road_code, str(lot.underground), str(lot.main),
                     str(lot.sub), "")) + "\r\n"


def encode_line(line, what):
    try:
        return line.encode("cp949")
    except UnicodeEncodeError as error:
        raise OfficialDataError(what, None, f"{line.strip()!r} has a character CP949 cannot hold") from error


def _sorted_lines(groups, encode, temp_prefix):
    """The encoded lines of every group, sorted, without holding more than one group at a time.

    Each group (one input file) is sorted and kept in a temporary run; runs that do not overlap
    (one file per 시도, whose keys start with the 시도's code) are read back one after another.
    """
    runs = []
    try:
        for number, group in enumerate(groups):
            lines = sorted(encode(item) for item in group)
            if not lines:
                continue
            run = f"{temp_prefix}.run{number}"
            with open(run, "wb") as handle:
                handle.writelines(lines)
            runs.append((lines[0], lines[-1], run))
            del lines
        runs.sort()
        disjoint = all(a[1][:KEY_LENGTH] < b[0][:KEY_LENGTH] for a, b in zip(runs, runs[1:]))
        handles = [open(run, "rb") for _, _, run in runs]
        try:
            merged = (line for handle in handles for line in handle) if disjoint else heapq.merge(*handles)
            previous = None
            for line in merged:
                if line != previous:  # a repeated line is one row
                    yield line
                previous = line
        finally:
            for handle in handles:
                handle.close()
    finally:
        for _, _, run in runs:
            os.remove(run)


def _unique_keys(lines, display):
    previous = b""
    for line in lines:
        key = line[:KEY_LENGTH]
        if key == previous:
            raise OfficialDataError(display, None, f"도로명주소관리번호 {key.decode()} appears twice")
        previous = key
        yield line


def write_snapshot(source, out_dir):
    """Writes the source's current data into out_dir (which must hold no snapshot) as a snapshot."""
    return apply_changes(source, [], out_dir)


def apply_changes(source, changesets, out_dir):
    """Writes source + changesets (in date order) into out_dir as a snapshot; returns a ChangeSummary.

    31/33 and 34/35/36 put the line's address in place of the key's (inserted or updated, by the
    code), 63/64 remove it and its related lots (a key already gone counts nothing). A related lot
    is its whole line but the code: 31-36 add it, 63/64 remove it. Within a day addresses go before
    lots. Applying a day again changes nothing. The snapshot's base_date is the latest of the
    source's and the change sets'. lots_deleted counts lots removed, also with their address.
    """
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(out_dir, SNAPSHOT_META)) or any(
            ADDRESS_FILE.fullmatch(name) for name in os.listdir(out_dir)):
        raise OfficialDataError(out_dir, None, "already holds data: write a snapshot into a new directory")
    changesets = sorted(changesets, key=lambda s: (s.date, s.name))
    address_ops, lot_ops = collections.defaultdict(list), collections.defaultdict(list)
    for changeset in changesets:
        for a in changeset.addresses:
            key = a.key.encode()
            if a.change in DELETE_CODES:
                address_ops[key].append(("delete", None))
                lot_ops[key].append(("clear", None))
            else:
                kind = "insert" if a.change in INSERT_CODES else "update"
                address_ops[key].append((kind, encode_line(address_line(a), changeset.name)))
        for lot in changeset.lots:
            kind = "remove" if lot.change in DELETE_CODES else "add"
            lot_ops[lot.key.encode()].append((kind, encode_line(lot_line(lot), changeset.name)))
    counts = collections.Counter()
    address_path = os.path.join(out_dir, "." + SNAPSHOT_ADDRESSES + ".partial")
    lot_path = os.path.join(out_dir, "." + SNAPSHOT_LOTS + ".partial")
    if source.snapshot is not None:
        address_lines = source.raw_lines(source.address_names)
        lot_lines = source.raw_lines(source.lot_names)
    else:
        address_lines = _unique_keys(_sorted_lines(
            source.files.read(source.address_names, lambda raw, name: parse_addresses(raw, name, False, source._latest)),
            lambda a: encode_line(address_line(a), source.path), address_path), source.path)
        lot_lines = _sorted_lines(source.files.read(source.lot_names, lambda raw, name: parse_lots(raw, name, False)),
                                  lambda lot: encode_line(lot_line(lot), source.path), lot_path)
    with open(address_path, "wb") as out:
        counts["addresses"] = _merge_addresses(address_lines, address_ops, out, counts)
    with open(lot_path, "wb") as out:
        counts["lots"] = _merge_lots(lot_lines, lot_ops, out, counts)
    base_date = max([source.base_date or ""] + [s.date for s in changesets])
    summary = ChangeSummary(base_date, counts["addresses"], counts["lots"], counts["inserted"], counts["updated"],
                            counts["deleted"], counts["lots_inserted"], counts["lots_deleted"])
    os.replace(address_path, os.path.join(out_dir, SNAPSHOT_ADDRESSES))
    os.replace(lot_path, os.path.join(out_dir, SNAPSHOT_LOTS))
    meta = os.path.join(out_dir, "." + SNAPSHOT_META + ".partial")
    with open(meta, "w", encoding="utf-8") as handle:
        json.dump({"base_date": base_date, "addresses": summary.addresses, "lots": summary.lots}, handle)
    os.replace(meta, os.path.join(out_dir, SNAPSHOT_META))
    return summary


def _merge_addresses(lines, ops, out, counts):
    """Copies the sorted lines to out with the keys in ops replaced; returns the lines written."""
    def settle(key, group):
        line = group[0] if group else None
        for kind, new in ops[key]:
            if kind == "delete":
                counts["deleted"] += line is not None
            else:
                counts["inserted" if kind == "insert" else "updated"] += 1
            line = new
        return [] if line is None else [line]

    return _merged(lines, ops, settle, out)


def _merge_lots(lines, ops, out, counts):
    """Copies the sorted lot lines to out with the lots of the keys in ops changed; returns the count."""
    def settle(key, group):
        group = set(group)
        for kind, line in ops[key]:
            if kind == "clear":
                counts["lots_deleted"] += len(group)
                group = set()
            elif kind == "add":
                counts["lots_inserted"] += 1
                group.add(line)
            elif line in group:
                counts["lots_deleted"] += 1
                group.discard(line)
        return sorted(group)

    return _merged(lines, ops, settle, out)


def _merged(lines, ops, settle, out):
    """Copies sorted lines to out, the lines of each key in ops (none, for a key the lines lack)
    replaced by settle(key, its lines); returns the lines written."""
    pending, written = sorted(ops), 0
    at = 0
    for key, group in itertools.groupby(lines, key=lambda line: line[:KEY_LENGTH]):
        group = list(group)
        while at < len(pending) and pending[at] < key:
            written += _write(out, settle(pending[at], []))
            at += 1
        if at < len(pending) and pending[at] == key:
            group = settle(key, group)
            at += 1
        written += _write(out, group)
    for key in pending[at:]:
        written += _write(out, settle(key, []))
    return written


def _write(out, lines):
    out.writelines(lines)
    return len(lines)
