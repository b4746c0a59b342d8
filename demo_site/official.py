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
import heapq
import io
import json
import os
import re
import sys
import zipfile
import zlib

Address = collections.namedtuple(
    "Address", "key admin_code sido sigungu dong ri mountain lot_main lot_sub road_code road underground"
    " main sub zip effective change register_building sigungu_building")
RelatedLot = collections.namedtuple(
    "RelatedLot", "key admin_code sido sigungu dong ri mountain lot_main lot_sub road_code underground main sub change")
ChangeSet = collections.namedtuple("ChangeSet", "date name addresses lots")
ChangeSummary = collections.namedtuple(
    "ChangeSummary", "base_date addresses lots inserted updated deleted lots_inserted lots_deleted")

SIDO_NAMES = frozenset((
    "서울특별시", "부산광역시", "대구광역시", "인천광역시", "광주광역시", "대전광역시", "울산광역시",
    "세종특별자치시", "경기도", "강원특별자치도", "충청북도", "충청남도", "전북특별자치도", "전라남도",
    "경상북도", "경상남도", "제주특별자치도", "강원도", "전라북도"))
INSERT_CODES, UPDATE_CODES, DELETE_CODES = ("31", "33"), ("34", "35", "36"), ("63", "64")
CHANGE_CODES = INSERT_CODES + UPDATE_CODES + DELETE_CODES
SNAPSHOT_ADDRESSES = "rnaddrkor_current.txt"
SNAPSHOT_LOTS = "jibun_rnaddrkor_current.txt"
SNAPSHOT_META = "snapshot.json"
# Upper bounds of the numbers (exclusive): what the page's index packs into its bits.
MAIN_LIMIT, SUB_LIMIT, LOT_MAIN_LIMIT, LOT_SUB_LIMIT = 32768, 4096, 16384, 4096

# Bytes read at a time: a block's decoded text and parsed rows stay a few MB.
BLOCK = 1 << 20
KEY_LENGTH = 26

ADDRESS_FILE = re.compile(r"rnaddrkor_.*\.txt", re.IGNORECASE)
LOT_FILE = re.compile(r"jibun_rnaddrkor_.*\.txt", re.IGNORECASE)
DAILY_FILE = re.compile(r"AlterD\.JUSUKR\.(\d{8})\.TH_SGCO_RNADR_(MST|LNBR)\.TXT", re.IGNORECASE)
MONTHLY_ADDRESS_FILE = re.compile(r"r?naddrkor_mod\.txt", re.IGNORECASE)
MONTHLY_LOT_FILE = re.compile(r"jibun_r?naddrkor_mod\.txt", re.IGNORECASE)
DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(\d{2})?(?!\d)")


class OfficialDataError(ValueError):
    """A file that is not the official layout, or cannot be read; says which file and line."""

    def __init__(self, file, line, message):
        self.file, self.line, self.message = str(file), line, message
        super().__init__(f"{self.file}:{line}: {message}" if line else f"{self.file}: {message}")


def building_name(address):
    return address.sigungu_building or address.register_building or ""


# --- one line of each layout ------------------------------------------------------------------

_TEXT, _SKIP = r"([^|\r\n]*)", r"[^|\r\n]*"
_FULL_CODE, _CHANGE_CODE = "()", "(" + "|".join(CHANGE_CODES) + ")"


def _line_pattern(fields, code):
    return re.compile("^" + r"\|".join(code if f == "CODE" else f for f in fields) + r"\r?$", re.MULTILINE | re.ASCII)


# The captured fields, in Address order (the rest are reference fields the ministry also fills).
_ADDRESS_FIELDS = (r"(\d{26})", r"(\d{10})", _TEXT, _TEXT, _TEXT, _TEXT, "([01])", r"(\d{1,5})", r"(\d{1,4})",
                   r"(\d{12})", _TEXT, "([012])", r"(\d{1,5})", r"(\d{1,4})", _SKIP, _SKIP, r"(\d{5})", _SKIP,
                   r"(\d{8})", _SKIP, "CODE", _TEXT, _TEXT, _SKIP)
_LOT_FIELDS = (r"(\d{26})", r"(\d{10})", _TEXT, _TEXT, _TEXT, _TEXT, "([01])", r"(\d{1,5})", r"(\d{1,4})",
               r"(\d{12})", "([012])", r"(\d{1,5})", r"(\d{1,4})", "CODE")
_PATTERNS = {(kind, change): _line_pattern(fields, _CHANGE_CODE if change else _FULL_CODE)
             for kind, fields in (("address", _ADDRESS_FIELDS), ("lot", _LOT_FIELDS)) for change in (False, True)}

# (field number, name, pattern) for the message when a line does not match.
_DIGITS = {"key": (r"\d{26}", "26 digits"), "admin": (r"\d{10}", "10 digits"), "road_code": (r"\d{12}", "12 digits"),
           "number": (r"\d{1,5}", "a number"), "zip": (r"\d{5}", "5 digits"), "date": (r"\d{8}", "a date YYYYMMDD")}
_ADDRESS_CHECKS = ((1, "도로명주소관리번호", "key"), (2, "법정동코드", "admin"), (7, "산여부", "01"),
                   (8, "지번본번", "number"), (9, "지번부번", "number"), (10, "도로명코드", "road_code"),
                   (12, "지하여부", "012"), (13, "건물본번", "number"), (14, "건물부번", "number"),
                   (17, "기초구역번호 (zip)", "zip"), (19, "효력발생일", "date"))
_LOT_CHECKS = ((1, "도로명주소관리번호", "key"), (2, "법정동코드", "admin"), (7, "산여부", "01"),
               (8, "지번본번", "number"), (9, "지번부번", "number"), (10, "도로명코드", "road_code"),
               (11, "지하여부", "012"), (12, "건물본번", "number"), (13, "건물부번", "number"))


def _diagnose(line, kind, change):
    """Why a line does not match its layout, in words."""
    fields = line.split("|")
    expected, checks, code_at = (24, _ADDRESS_CHECKS, 21) if kind == "address" else (14, _LOT_CHECKS, 14)
    if len(fields) != expected:
        return f"{len(fields)} fields, expected {expected}"
    for number, name, rule in checks:
        value = fields[number - 1]
        if rule in ("01", "012"):
            if value not in tuple(rule):
                return f"{name} {value!r} is not one of {', '.join(rule)}"
        elif not re.fullmatch(_DIGITS[rule][0], value, re.ASCII):
            return f"{name} {value!r} is not {_DIGITS[rule][1]}"
    code = fields[code_at - 1]
    if change and code not in CHANGE_CODES:
        return f"unknown change code {code!r} (expected one of {' '.join(CHANGE_CODES)})"
    if not change and code:
        return f"change code {code!r} in a full file (expected empty)"
    return "a character the layout does not allow (a carriage return inside a field?)"


def _refusal(fields, kind):
    """Why a line that matched the layout's shape still cannot be used, or None."""
    if kind == "address":
        key, admin, sido, lot_main, lot_sub, main, sub = (fields[i] for i in (0, 1, 2, 7, 8, 12, 13))
    else:
        key, admin, sido, lot_main, lot_sub, main, sub = (fields[i] for i in (0, 1, 2, 7, 8, 11, 12))
    for name, value, low, limit in (("건물본번", main, 1, MAIN_LIMIT), ("건물부번", sub, 0, SUB_LIMIT),
                                    ("지번본번", lot_main, 1, LOT_MAIN_LIMIT), ("지번부번", lot_sub, 0, LOT_SUB_LIMIT)):
        if not low <= int(value) < limit:
            return f"{name} {value} is outside {low}..{limit - 1}"
    if sido.strip() not in SIDO_NAMES:
        return f"시도명 {sido!r} is not a 시도"
    return None


class _LineReader:
    """The rows of one file as tuples of its captured fields, a block at a time, checked."""

    def __init__(self, display, kind, change):
        self.display, self.kind, self.change = display, kind, change
        self.pattern = _PATTERNS[kind, change]
        self.line = 1  # the number of the next block's first line
        self.blank_at = None  # an empty line is fine only if nothing but empty lines follows it

    def error(self, offset, message):
        return OfficialDataError(self.display, self.line + offset, message)

    def blocks(self, raw):
        """Yields (first line number, list of field tuples) for each block of the binary stream."""
        carry = b""
        while True:
            try:
                data = raw.read(BLOCK)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
                raise OfficialDataError(self.display, None,
                                        f"cannot be read after line {self.line - 1} ({error})") from error
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                yield self.line, self.rows(data[:cut])
                self.line += data.count(b"\n", 0, cut)
        if carry:
            yield self.line, self.rows(carry + b"\n")

    def rows(self, block):
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                first = next(i for i, line in enumerate(block.split(b"\n")) if not line.isascii())
                raise self.error(first, "UTF-8, expected CP949")
        try:
            text = block.decode("cp949")
        except UnicodeDecodeError as error:
            offset = block.count(b"\n", 0, error.start)
            line = block.split(b"\n")[offset]
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                raise self.error(offset, "not CP949 text") from error
            raise self.error(offset, "UTF-8, expected CP949") from error
        rows = self.pattern.findall(text)
        if len(rows) == text.count("\n") and self.blank_at is None:
            return rows
        return self.rows_one_by_one(text)

    def rows_one_by_one(self, text):
        """The slow way, for a block with an empty line or a fault: finds which line and why."""
        rows = []
        for offset, line in enumerate(text.split("\n")[:-1]):
            line = line[:-1] if line.endswith("\r") else line
            if not line.strip():
                if self.blank_at is None:
                    self.blank_at = self.line + offset
                continue
            if self.blank_at is not None:
                raise OfficialDataError(self.display, self.blank_at, "an empty line before the last line")
            match = self.pattern.fullmatch(line)
            if not match:
                raise self.error(offset, _diagnose(line, self.kind, self.change))
            rows.append(match.groups())
        return rows


def _addresses(raw, display, change, latest=None):
    """Address for each line of one rnaddrkor file (a binary stream)."""
    reader = _LineReader(display, "address", change)
    intern, new, sido_names = sys.intern, tuple.__new__, SIDO_NAMES
    for first, rows in reader.blocks(raw):
        for offset, (key, admin, sido, sigungu, dong, ri, mountain, lot_main, lot_sub, road_code, road,
                     underground, main, sub, zip_code, effective, code, register, own) in enumerate(rows):
            lot_main, lot_sub, main, sub = int(lot_main), int(lot_sub), int(main), int(sub)
            sido = intern(sido.strip())
            if not (0 < main < MAIN_LIMIT and sub < SUB_LIMIT and 0 < lot_main < LOT_MAIN_LIMIT
                    and lot_sub < LOT_SUB_LIMIT and sido in sido_names):
                raise OfficialDataError(display, first + offset, _refusal(rows[offset], "address"))
            if latest is not None and effective > latest[0]:
                latest[0] = effective
            yield new(Address, (key, intern(admin), sido, intern(sigungu.strip()), intern(dong.strip()),
                                intern(ri.strip()), 1 if mountain == "1" else 0, lot_main, lot_sub, intern(road_code),
                                intern(road.strip()), int(underground), main, sub, intern(zip_code), effective, code,
                                register.strip(), own.strip()))


def _lots(raw, display, change):
    """RelatedLot for each line of one jibun_rnaddrkor file (a binary stream)."""
    reader = _LineReader(display, "lot", change)
    intern, new, sido_names = sys.intern, tuple.__new__, SIDO_NAMES
    for first, rows in reader.blocks(raw):
        for offset, (key, admin, sido, sigungu, dong, ri, mountain, lot_main, lot_sub, road_code,
                     underground, main, sub, code) in enumerate(rows):
            lot_main, lot_sub, main, sub = int(lot_main), int(lot_sub), int(main), int(sub)
            sido = intern(sido.strip())
            if not (0 < main < MAIN_LIMIT and sub < SUB_LIMIT and 0 < lot_main < LOT_MAIN_LIMIT
                    and lot_sub < LOT_SUB_LIMIT and sido in sido_names):
                raise OfficialDataError(display, first + offset, _refusal(rows[offset], "lot"))
            yield new(RelatedLot, (key, intern(admin), sido, intern(sigungu.strip()), intern(dong.strip()),
                                   intern(ri.strip()), 1 if mountain == "1" else 0, lot_main, lot_sub,
                                   intern(road_code), int(underground), main, sub, code))


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
        for rows in self.files.read(self.address_names, lambda raw, name: _addresses(raw, name, False, latest)):
            yield from rows

    def related_lots(self):
        for rows in self.files.read(self.lot_names, lambda raw, name: _lots(raw, name, False)):
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
                                                   _change_rows(_addresses)) for r in rows]
            lots = [r for rows in files.read([parts["LNBR"]] if "LNBR" in parts else [],
                                              _change_rows(_lots)) for r in rows]
            label = os.path.basename(path) if files.is_zip or os.path.isdir(path) else _base(path)
            sets.append(ChangeSet(date, f"{label} ({date})", addresses, lots))
        monthly = files.matching(MONTHLY_ADDRESS_FILE), files.matching(MONTHLY_LOT_FILE)
        if monthly[0] or monthly[1]:
            found = True
            folders = {os.path.dirname(name.replace("\\", "/")) for name in monthly[0] + monthly[1]}
            for folder in sorted(folders):
                in_folder = [[n for n in names if os.path.dirname(n.replace("\\", "/")) == folder] for names in monthly]
                date = _monthly_date(path, folder)
                addresses = [r for rows in files.read(in_folder[0], _change_rows(_addresses)) for r in rows]
                lots = [r for rows in files.read(in_folder[1], _change_rows(_lots)) for r in rows]
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


# --- snapshots --------------------------------------------------------------------------------

def _address_line(a):
    return "|".join((a.key, a.admin_code, a.sido, a.sigungu, a.dong, a.ri, str(a.mountain), str(a.lot_main),
                     str(a.lot_sub), a.road_code, a.road, str(a.underground), str(a.main), str(a.sub), "", "",
                     a.zip, "", a.effective, "", "", a.register_building, a.sigungu_building, "")) + "\r\n"


def _lot_line(lot):
    return "|".join((lot.key, lot.admin_code, lot.sido, lot.sigungu, lot.dong, lot.ri, str(lot.mountain),
                     str(lot.lot_main), str(lot.lot_sub), lot.road_code, str(lot.underground), str(lot.main),
                     str(lot.sub), "")) + "\r\n"


def _encode(line, what):
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
                address_ops[key].append((kind, _encode(_address_line(a), changeset.name)))
        for lot in changeset.lots:
            kind = "remove" if lot.change in DELETE_CODES else "add"
            lot_ops[lot.key.encode()].append((kind, _encode(_lot_line(lot), changeset.name)))
    counts = collections.Counter()
    address_path = os.path.join(out_dir, "." + SNAPSHOT_ADDRESSES + ".partial")
    lot_path = os.path.join(out_dir, "." + SNAPSHOT_LOTS + ".partial")
    if source.snapshot is not None:
        address_lines = source.raw_lines(source.address_names)
        lot_lines = source.raw_lines(source.lot_names)
    else:
        address_lines = _unique_keys(_sorted_lines(
            source.files.read(source.address_names, lambda raw, name: _addresses(raw, name, False, source._latest)),
            lambda a: _encode(_address_line(a), source.path), address_path), source.path)
        lot_lines = _sorted_lines(source.files.read(source.lot_names, lambda raw, name: _lots(raw, name, False)),
                                  lambda lot: _encode(_lot_line(lot), source.path), lot_path)
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


_END = b"\xff"  # sorts after every key


def _merge_addresses(lines, ops, out, counts):
    """Copies the sorted lines to out with the keys in ops replaced; returns the lines written."""
    pending = sorted(ops)
    pending.append(_END)
    at, next_key, written, write = 0, pending[0], 0, out.write

    def settle(key, line):
        for kind, new in ops[key]:
            if kind == "delete":
                counts["deleted"] += line is not None
            else:
                counts["inserted" if kind == "insert" else "updated"] += 1
            line = new
        return line

    for line in lines:
        if line[:KEY_LENGTH] < next_key:
            write(line)
            written += 1
            continue
        key = line[:KEY_LENGTH]
        while next_key < key:
            result = settle(next_key, None)
            if result is not None:
                write(result)
                written += 1
            at += 1
            next_key = pending[at]
        if key == next_key:
            line = settle(key, line)
            at += 1
            next_key = pending[at]
        if line is not None:
            write(line)
            written += 1
    while next_key is not _END:
        result = settle(next_key, None)
        if result is not None:
            write(result)
            written += 1
        at += 1
        next_key = pending[at]
    return written


def _merge_lots(lines, ops, out, counts):
    """Copies the sorted lot lines to out with the lots of the keys in ops changed; returns the count."""
    pending = sorted(ops)
    pending.append(_END)
    at, next_key, written, write = 0, pending[0], 0, out.write

    def settle(key, group):
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
        out.writelines(sorted(group))
        return len(group)

    lines = iter(lines)
    line = next(lines, None)
    while line is not None:
        key = line[:KEY_LENGTH]
        if key < next_key:
            write(line)
            written += 1
            line = next(lines, None)
            continue
        while next_key < key:
            written += settle(next_key, set())
            at += 1
            next_key = pending[at]
        if key == next_key:
            group = set()
            while line is not None and line[:KEY_LENGTH] == key:
                group.add(line)
                line = next(lines, None)
            written += settle(key, group)
            at += 1
            next_key = pending[at]
        else:
            write(line)
            written += 1
            line = next(lines, None)
    while next_key is not _END:
        written += settle(next_key, set())
        at += 1
        next_key = pending[at]
    return written
