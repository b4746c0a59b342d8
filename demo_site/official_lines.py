"""One line of the ministry's 도로명주소 한글 layout: rnaddrkor files (24 fields, an address) and
jibun_rnaddrkor files (14 fields, an address's other lot), read a block at a time, checked line by
line (a line that is not the layout raises an OfficialDataError naming the file and the line)."""
import collections
import re
import sys
import zipfile
import zlib

Address = collections.namedtuple(
    "Address", "key admin_code sido sigungu dong ri mountain lot_main lot_sub road_code road underground"
    " main sub zip effective change register_building sigungu_building")
RelatedLot = collections.namedtuple(
    "RelatedLot", "key admin_code sido sigungu dong ri mountain lot_main lot_sub road_code underground main sub change")
SIDO_NAMES = frozenset((
    "서울특별시", "부산광역시", "대구광역시", "인천광역시", "광주광역시", "대전광역시", "울산광역시",
    "세종특별자치시", "경기도", "강원특별자치도", "충청북도", "충청남도", "전북특별자치도", "전라남도",
    "경상북도", "경상남도", "제주특별자치도", "강원도", "전라북도"))
INSERT_CODES, UPDATE_CODES, DELETE_CODES = ("31", "33"), ("34", "35", "36"), ("63", "64")
CHANGE_CODES = INSERT_CODES + UPDATE_CODES + DELETE_CODES
# Upper bounds of the numbers (exclusive): what the page's index packs into its bits.
MAIN_LIMIT, SUB_LIMIT, LOT_MAIN_LIMIT, LOT_SUB_LIMIT = 32768, 4096, 16384, 4096
# Bytes read at a time: a block's decoded text and parsed rows stay a few MB.
BLOCK = 1 << 20
ADDRESS_FILE = re.compile(r"rnaddrkor_.*\.txt", re.IGNORECASE)
LOT_FILE = re.compile(r"jibun_rnaddrkor_.*\.txt", re.IGNORECASE)


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


def parse_addresses(raw, display, change, latest=None):
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


def parse_lots(raw, display, change):
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
