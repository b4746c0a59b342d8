"""The Ministry of the Interior and Safety's 도로명주소 한글 files: read, checked line by line, and kept
current with the ministry's change files.

    source = open_source("202603_도로명주소 한글_전체분.zip")    # or its directory, or a snapshot
    for address in source.addresses(): ...                      # Address, streaming
    for lot in source.related_lots(): ...                        # RelatedLot, streaming
    write_snapshot(source, "data/official-20260331")
    apply_changes(open_source("data/official-20260331"),
                  read_changes(["20260401_dailyjusukrdata.zip"]), "data/official-20260401")

The files are CP949 text, `|` between fields, one address per line: `rnaddrkor_<region>.txt` (24
fields) and `jibun_rnaddrkor_<region>.txt` (14 fields, the address's other lots). A line that is not
the layout stops the reading with an OfficialDataError naming the file and the line.

A snapshot is a directory holding the current data in the same layout (sorted by key, change code
empty) plus snapshot.json; it keeps the fields Address holds and leaves the others (행정동코드,
행정동명, 이전도로명주소, 공동주택구분, 비고) empty. Standard library only.
"""
import calendar
import collections
import io
import json
import os
import re
import zipfile
import zlib

# What callers use of the line layout and of snapshots, with the reading of the files here.
from official_lines import (ADDRESS_FILE, LOT_FILE, Address, OfficialDataError, RelatedLot,  # noqa: F401
                            building_name, parse_addresses, parse_lots)
from official_snapshot import SNAPSHOT_ADDRESSES, SNAPSHOT_LOTS, SNAPSHOT_META, apply_changes, write_snapshot  # noqa: F401

ChangeSet = collections.namedtuple("ChangeSet", "date name addresses lots")

DAILY_FILE = re.compile(r"AlterD\.JUSUKR\.(\d{8})\.TH_SGCO_RNADR_(MST|LNBR)\.TXT", re.IGNORECASE)
MONTHLY_ADDRESS_FILE = re.compile(r"r?naddrkor_mod\.txt", re.IGNORECASE)
MONTHLY_LOT_FILE = re.compile(r"jibun_r?naddrkor_mod\.txt", re.IGNORECASE)
DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(\d{2})?(?!\d)")


# --- where the files are --------------------------------------------------------------------

def _member_name(info):
    """A zip member's name as the ministry wrote it (CP949 without zip's UTF-8 flag, in some zips)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("cp949")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _open_zip(path):
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise OfficialDataError(path, None, f"not a readable zip ({error})") from error


class _Files:
    """The files of a zip or a directory whose base names match: (display name, opener) pairs."""

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise OfficialDataError(self.path, None, "does not exist")
        self.is_zip = os.path.isfile(self.path) and zipfile.is_zipfile(self.path)
        if os.path.isfile(self.path) and not self.is_zip and self.path.lower().endswith(".zip"):
            _open_zip(self.path)  # raises, naming the file
        if self.is_zip:
            with _open_zip(self.path) as archive:
                self.names = {_member_name(info): info.filename for info in archive.infolist() if not info.is_dir()}
        elif os.path.isdir(self.path):
            self.names = {}
            for folder, _, files in os.walk(self.path):
                for name in files:
                    full = os.path.join(folder, name)
                    self.names[os.path.relpath(full, self.path)] = full
        else:
            self.names = {os.path.basename(self.path): self.path}

    def matching(self, pattern):
        return sorted(name for name in self.names if pattern.fullmatch(os.path.basename(name.replace("\\", "/"))))

    def display(self, name):
        if self.is_zip:
            return f"{self.path}!{name}"
        return self.names[name]

    def read(self, names, parse):
        """Yields parse(binary stream, display name) for each name, in order."""
        if self.is_zip:
            with _open_zip(self.path) as archive:
                for name in names:
                    try:
                        raw = archive.open(self.names[name])
                    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
                        raise OfficialDataError(self.display(name), None, f"cannot be read ({error})") from error
                    with raw:
                        yield parse(raw, self.display(name))
        else:
            for name in names:
                with open(self.names[name], "rb") as raw:
                    yield parse(raw, self.display(name))


def iso_date(yyyymmdd):
    """'2026-04-01' for '20260401' (a base_date), None for none."""
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}" if yyyymmdd else None


def _date_in(text):
    """(YYYYMMDD or None, YYYYMM or None) from the last date in a file or folder name."""
    found = None
    for found in DATE_IN_NAME.finditer(text):
        pass
    if not found:
        return None, None
    year, month, day = found.groups()
    if day and 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        return year + month + day, year + month
    return None, year + month


class Source:
    """The official files at one path: a full file's zip or directory, or a snapshot.

    base_date ('YYYYMMDD') is the day the data is current to: a snapshot's recorded date; the date
    in the zip's or directory's name when it names a whole day; otherwise the latest 효력발생일 in
    the files (a name such as 202603_... does not say which day of the month), which is known once
    addresses() has been read to the end (asking for it earlier reads them).
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.files = _Files(self.path)
        self.address_names = [n for n in self.files.matching(ADDRESS_FILE) if not LOT_FILE.fullmatch(_base(n))]
        self.lot_names = self.files.matching(LOT_FILE)
        if not self.address_names:
            raise OfficialDataError(self.path, None, "no rnaddrkor_*.txt file in it")
        meta = os.path.join(self.path, SNAPSHOT_META)
        self.snapshot = None
        if os.path.isdir(self.path) and os.path.isfile(meta):
            with open(meta, encoding="utf-8") as handle:
                self.snapshot = json.load(handle)
            self._base_date = self.snapshot["base_date"]
            self.name = f"snapshot {self.path} ({self._base_date}, {self.snapshot['addresses']:,} addresses)"
        else:
            self._base_date = _date_in(os.path.basename(os.path.normpath(self.path)))[0]
            self.name = f"{self.path} ({len(self.address_names)} address files, {len(self.lot_names)} lot files)"
        self._latest = [""]

    @property
    def base_date(self):
        if self._base_date is None:
            if not self._latest[0]:
                for _ in self.addresses():
                    pass
            self._base_date = self._latest[0] or None
        return self._base_date

    def addresses(self):
        """Every address of every rnaddrkor file, files in name order, one line at a time."""
        latest = self._latest if self._base_date is None else None
        for rows in self.files.read(self.address_names, lambda raw, name: parse_addresses(raw, name, False, latest)):
            yield from rows

    def related_lots(self):
        for rows in self.files.read(self.lot_names, lambda raw, name: parse_lots(raw, name, False)):
            yield from rows

    def raw_lines(self, names):
        """The lines of a snapshot's own files, as written (it wrote them sorted and checked)."""
        for lines in self.files.read(names, lambda raw, name: raw):
            yield from lines


def _base(name):
    return os.path.basename(name.replace("\\", "/"))


def open_source(path):
    """A Source for a full file's zip as downloaded, the directory it unzips to, or a snapshot."""
    return Source(path)


# --- change files -----------------------------------------------------------------------------

def _read_all(raw, display):
    try:
        return raw.read()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise OfficialDataError(display, None, f"cannot be read ({error})") from error


def _change_rows(parse):
    """A parser of one change file that reads a file saying 'No Data' as no rows."""
    def read(raw, display):
        data = _read_all(raw, display)
        if data.strip() in (b"No Data", b""):
            return []
        return list(parse(io.BytesIO(data), display, True))
    return read


def read_changes(paths):
    """The change sets in the daily zips, daily files and monthly change files given, by date.

    A daily set's date is the day in its member's name. A monthly set's date is the day in its
    (or its zip's or folder's) name, or for a name with only YYYYMM the month's first day: a month's
    changes then sort before that month's daily files, which hold the same changes or later ones.
    """
    sets = []
    for path in paths:
        path = os.fspath(path)
        files = _Files(path)
        found = False
        days = collections.defaultdict(dict)
        for name in files.matching(DAILY_FILE):
            date, part = DAILY_FILE.fullmatch(_base(name)).groups()
            days[date][part.upper()] = name
        for date, parts in sorted(days.items()):
            found = True
            addresses = [r for rows in files.read([parts["MST"]] if "MST" in parts else [],
                                                   _change_rows(parse_addresses)) for r in rows]
            lots = [r for rows in files.read([parts["LNBR"]] if "LNBR" in parts else [],
                                              _change_rows(parse_lots)) for r in rows]
            label = os.path.basename(path) if files.is_zip or os.path.isdir(path) else _base(path)
            sets.append(ChangeSet(date, f"{label} ({date})", addresses, lots))
        monthly = files.matching(MONTHLY_ADDRESS_FILE), files.matching(MONTHLY_LOT_FILE)
        if monthly[0] or monthly[1]:
            found = True
            folders = {os.path.dirname(name.replace("\\", "/")) for name in monthly[0] + monthly[1]}
            for folder in sorted(folders):
                in_folder = [[n for n in names if os.path.dirname(n.replace("\\", "/")) == folder] for names in monthly]
                date = _monthly_date(path, folder)
                addresses = [r for rows in files.read(in_folder[0], _change_rows(parse_addresses)) for r in rows]
                lots = [r for rows in files.read(in_folder[1], _change_rows(parse_lots)) for r in rows]
                sets.append(ChangeSet(date, os.path.join(os.path.basename(path), folder).rstrip("/"),
                                      addresses, lots))
        if not found:
            raise OfficialDataError(path, None, "no change file in it (AlterD.JUSUKR.*.TXT, rnaddrkor_mod.txt,"
                                                " jibun_rnaddrkor_mod.txt)")
    return sorted(sets, key=lambda s: (s.date, s.name))


def _monthly_date(path, folder):
    """The date of monthly change files: from the nearest name that carries one."""
    names = [folder] if folder else []
    names += [os.path.basename(os.path.normpath(path))]
    if not os.path.isdir(path):
        names.append(os.path.basename(os.path.dirname(os.path.abspath(path))))
    for name in names:
        day, month = _date_in(name)
        if day or month:
            return day or month + "01"
    raise OfficialDataError(path, None, "no date (YYYYMM or YYYYMMDD) in its name: keep the downloaded file's"
                                        " name, which says which month the changes are")
