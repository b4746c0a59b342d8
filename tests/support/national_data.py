"""The test oracle: docs/search.md computed by brute force, straight from kozip's new_zip.json.

Independent of the page and its generator: it reads the pinned wheel with zipfile, applies the
current names, drops repeated lines, sorts every address into the spec's order (which gives the
ids) and answers a query by testing every address. Two forms of the same rules:

- `match_rank(query, row)`: the spec for one address, in plain Python, easy to read;
- `NationalData.search(q)`: the same rules over all 6.3 million addresses at once with numpy
  (each rule is decided once per distinct road / area / 읍면동 and then looked up per address).
  Its tests check it against `match_rank` over every row of a sido.

Only the romanization comes from the page's code (demo_site/romanize.py): it is not under test.
"""
import bisect
import hashlib
import json
import os
import random
import re
import unicodedata
import zipfile
from array import array
from dataclasses import dataclass

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from romanize import area_english, road_english  # noqa: E402

WHEEL_NAME = "kozip-1.1.4-py3-none-any.whl"
WHEEL_SHA256 = "36b43c07219473454d42319b5361b057078b006bfd8348e5b9e9d1f1eb8482e7"
WHEEL_PATHS = (os.path.join(ROOT, ".cache", WHEEL_NAME), os.path.join("/tmp", WHEEL_NAME))
LINES, ADDRESSES = 6_367_365, 6_339_232

# Current name -> the words that also find it (docs/search.md, the sido table).
SIDO_ALIASES = {
    "서울특별시": ("서울", "서울시"), "부산광역시": ("부산", "부산시"), "대구광역시": ("대구", "대구시"),
    "인천광역시": ("인천", "인천시"), "광주광역시": ("광주",), "대전광역시": ("대전", "대전시"),
    "울산광역시": ("울산", "울산시"), "세종특별자치시": ("세종", "세종시"), "경기도": ("경기",),
    "강원특별자치도": ("강원", "강원도"), "충청북도": ("충북",), "충청남도": ("충남",),
    "전북특별자치도": ("전북", "전라북도"), "전라남도": ("전남",), "경상북도": ("경북",),
    "경상남도": ("경남",), "제주특별자치도": ("제주", "제주도"),
}
GUNWI = ("대구광역시", "군위군")
GUNWI_ALIASES = ("경북", "경상북도")
SIDO_ENGLISH = {
    "서울특별시": "Seoul", "부산광역시": "Busan", "대구광역시": "Daegu", "인천광역시": "Incheon",
    "광주광역시": "Gwangju", "대전광역시": "Daejeon", "울산광역시": "Ulsan", "세종특별자치시": "Sejong-si",
    "경기도": "Gyeonggi-do", "강원특별자치도": "Gangwon State", "충청북도": "Chungcheongbuk-do",
    "충청남도": "Chungcheongnam-do", "전북특별자치도": "Jeonbuk State", "전라남도": "Jeollanam-do",
    "경상북도": "Gyeongsangbuk-do", "경상남도": "Gyeongsangnam-do", "제주특별자치도": "Jeju-do",
}
RENAMED_SIDO = {"강원도": "강원특별자치도", "전라북도": "전북특별자치도"}

# JavaScript's \s (the page's), commas and parentheses.
SEPARATORS = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff,()]+")
NUMBER = re.compile(r"[0-9]+(-[0-9]+)?")
ZIP_OR_NUMBER = re.compile(r"[0-9]{5}")
# A building number glued to a road name: a word that ends in 로 or 길 and then a number.
GLUED_NUMBER = re.compile(r"(.+[로길])([0-9]+(?:-[0-9]+)?)")
LATIN = re.compile(r"[A-Za-z]")
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def eupmyeon_of(eupmyeondong):
    """The 읍/면 of a 읍면동/리 ('군남면 남창리' -> '군남면'), or ''."""
    first = eupmyeondong.split(" ")[0]
    return first if first[-1:] in ("읍", "면") else ""


def current_names(sido, sigungu):
    """The data's (sido, sigungu) under today's names."""
    if (sido, sigungu) == ("경상북도", "군위군"):
        return GUNWI
    return RENAMED_SIDO.get(sido, sido), sigungu


def split_words(text):
    """Words as a query is split (after NFC): at white space, commas and parentheses."""
    return [word for word in SEPARATORS.split(unicodedata.normalize("NFC", text)) if word]


def query_words(q):
    """A query's words: split_words, and a building number glued to a road name split off it."""
    words = []
    for word in split_words(q):
        glued = GLUED_NUMBER.fullmatch(word)
        words.extend(glued.groups() if glued else (word,))
    return words


def english_key(text):
    """An English road or area name compared without case, spaces or hyphens."""
    return re.sub(r"[\s-]", "", text).lower()


def sido_english_names(sido):
    """The English names of a sido: its name and, if it has two parts, the first (Sejong-si, Sejong)."""
    name = SIDO_ENGLISH[sido]
    parts = re.split(r"[- ]", name)
    return {name, " ".join(parts[:-1])} if len(parts) > 1 else {name}


def sido_names(sido, sigungu):
    """The names that find an address of this area as its sido: the sido's own and its short ones
    (and 경상북도's for 군위군)."""
    names = {sido, *SIDO_ALIASES[sido]}
    if (sido, sigungu) == GUNWI:
        names.update(GUNWI_ALIASES)
    return names


def english_area_names(sido, sigungu, eupmyeon):
    """english_key()s of the English names that find an address of this area: its sido's (and, for
    군위군, 경상북도's), each part of its sigungu's and its 읍/면's, as english_address writes them."""
    names = set(sido_english_names(sido))
    if (sido, sigungu) == GUNWI:
        names |= sido_english_names("경상북도")
    names.update(area_english(part) for part in sigungu.split())
    if eupmyeon:
        names.add(area_english(eupmyeon))
    return frozenset(english_key(name) for name in names)


def english_parts(name, areas):
    """An English name read from its end: (the road name before them, the area names (of `areas`)
    it ends with, each the longest that fits)."""
    found, at = [], 0
    while at < len(name):
        if name[at:] in areas:
            found.append(name[at:])
            name, at = name[:at], 0
        else:
            at += 1
    return name, found


@dataclass(frozen=True)
class Row:
    zip: str
    sido: str
    sigungu: str
    road: str
    number: str          # "110" or "12-6"
    eupmyeondong: str    # "태평로1가" or "군남면 육창리"

    @property
    def main(self):
        return int(self.number.split("-")[0])

    @property
    def sub(self):
        return int(self.number.split("-")[1]) if "-" in self.number else 0

    @property
    def eupmyeon(self):
        """The 읍/면 the address lies in, or ''."""
        return eupmyeon_of(self.eupmyeondong)

    def order_key(self):
        """docs/search.md: road name, sido, sigungu, main number, sub-number, 읍면동/리, zip."""
        return (self.road, self.sido, self.sigungu, self.main, self.sub, self.eupmyeondong, self.zip)

    def sido_names(self):
        return sido_names(self.sido, self.sigungu)

    def road_address(self):
        parts = [self.sido, self.sigungu, self.eupmyeon, self.road, self.number]
        return " ".join(part for part in parts if part)

    def english_areas(self):
        return english_area_names(self.sido, self.sigungu, self.eupmyeon)

    def english_address(self):
        areas = [area_english(self.eupmyeon)] if self.eupmyeon else []
        areas += [area_english(part) for part in reversed(self.sigungu.split())]
        return ", ".join([f"{self.number} {road_english(self.road)}", *areas, SIDO_ENGLISH[self.sido]])

    def address(self, position):
        """The ADDRESS a search result carries; a landmark's adds its building and lot number."""
        landmark = landmarks().get(self, {})
        return {"id": address_id(position), "road_address": self.road_address(),
                "jibun_address": landmark.get("jibun_address", ""),
                "english_address": self.english_address(), "zip": self.zip,
                "building": landmark.get("building", ""),
                "sido": self.sido, "sigungu": self.sigungu, "eupmyeondong": self.eupmyeondong}

    def detail(self, position):
        """What /searchaddr2 answers: lat, lng and admin_code are null unless a landmark has them."""
        landmark = landmarks().get(self, {})
        return dict(self.address(position), **{key: landmark.get(key) for key in ("lat", "lng", "admin_code")})


LANDMARKS_PATH = os.path.join(ROOT, "demo_site", "landmarks.json")
_LANDMARKS = None


def landmarks():
    """{Row: building, jibun_address, lat, lng, admin_code} of the well-known buildings the page
    attaches to their rows (demo_site/landmarks.json: public facts, taken as given)."""
    global _LANDMARKS
    if _LANDMARKS is None:
        with open(LANDMARKS_PATH, encoding="utf-8") as file:
            items = json.load(file)
        _LANDMARKS = {}
        for item in items:
            row = Row(item["zip"], item["sido"], item["sigungu"], item["road"], item["number"],
                      item["eupmyeondong"])
            jibun = " ".join(p for p in (item["sido"], item["sigungu"], item["eupmyeondong"], item["jibun"]) if p)
            _LANDMARKS[row] = {"building": item["building"], "jibun_address": jibun, "lat": item["lat"],
                               "lng": item["lng"], "admin_code": item["admin_code"]}
    return _LANDMARKS


def address_id(position):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        position, digit = divmod(position, 36)
        text = digits[digit] + text
        if position == 0:
            return "k" + text


def id_position(address_id_text):
    return int(address_id_text[1:], 36)


@dataclass(frozen=True)
class Query:
    words: tuple      # Hangul (or other) words
    english: tuple    # English road names, each already english_key()ed
    numbers: tuple    # "110", "110-1", "04524" (a 5-digit one may also be a zip)
    areas: tuple = ()  # English area names, each english_key()ed

    @property
    def finds_anything(self):
        return bool(self.words or self.english or self.areas
                    or any(ZIP_OR_NUMBER.fullmatch(n) for n in self.numbers))


def parse_query(q, english_areas=frozenset()):
    """`english_areas`: every english_key()ed area name of the data (NationalData.english_areas),
    which an English name may end with."""
    words, english, numbers, areas, run = [], [], [], [], []
    for word in query_words(q) + [None]:
        is_english = word is not None and LATIN.search(word) and not HANGUL.search(word)
        if is_english:
            run.append(word)
            continue
        if run:                            # a run of English words is one name: road, then areas
            road, found = english_parts(english_key("".join(run)), english_areas)
            english += [road] if road else []
            areas += found
            run = []
        if word is None:
            break
        (numbers if NUMBER.fullmatch(word) else words).append(word)
    return Query(tuple(words), tuple(english), tuple(numbers), tuple(areas))


def english_rank(query, road, areas):
    """How the English words of `query` find an address whose English road name (english_key()ed)
    is `road`: None when one does not, else True when one only started a name (loose), or False.
    `areas()` gives the address's english_area_names, asked for only when the query has an area."""
    loose = False
    known = areas() if query.areas else frozenset()
    for area in query.areas:       # as the area's Korean name: the area, or the start of a road name
        if area not in known:
            if not road.startswith(area):
                return None
            loose = True
    for name in query.english:
        if name != road and not (len(name) >= 2 and road.startswith(name)):
            return None
        loose = loose or name != road
    return loose


def match_rank(query, row):
    """docs/search.md for one address: None if `row` does not match `query`; else 0 when it
    matches exactly (first group) or 1 when some word only started a longer road name or some
    number matched only by its main part (second group)."""
    if not query.finds_anything:
        return None
    loose = False
    sigungu_parts = row.sigungu.split()
    dong_parts = split_words(row.eupmyeondong)
    for word in query.words:
        exact = (word in row.sido_names() or word in sigungu_parts or word in dong_parts
                 or word == row.road)
        prefix = len(word) >= 2 and row.road.startswith(word)
        if not (exact or prefix):
            return None
        loose = loose or not exact
    english_loose = english_rank(query, english_key(road_english(row.road)), row.english_areas)
    if english_loose is None:
        return None
    loose = loose or english_loose
    for number in query.numbers:
        if number == row.number or (ZIP_OR_NUMBER.fullmatch(number) and number == row.zip):
            continue
        if "-" not in number and row.number.startswith(number + "-"):
            loose = True
            continue
        return None
    return 1 if loose else 0


def wheel_path():
    for path in WHEEL_PATHS:
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{WHEEL_NAME} is in none of {WHEEL_PATHS}: run scripts/setup.sh")


def read_lines(path=None):
    """Every line of new_zip.json as (zip, sido, sigungu, road, number, eupmyeondong), current names."""
    path = path or wheel_path()
    with open(path, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()
    assert digest == WHEEL_SHA256, f"{path} is not the pinned kozip 1.1.4 wheel"
    with zipfile.ZipFile(path) as wheel:
        data = json.loads(wheel.read("kozip/new_zip.json"))
    for zip_code, by_sido in data.items():
        for data_sido, by_sigungu in by_sido.items():
            for data_sigungu, lines in by_sigungu.items():
                sido, sigungu = current_names(data_sido, data_sigungu)
                for line in lines:
                    road_number, _, dong = line.partition("|")
                    road, number = road_number.split(" ")
                    yield zip_code, sido, sigungu, road, number, dong


class NationalData:
    """All addresses in the spec's order; position i has id address_id(i).

    Columns of codes: `road` indexes `roads` (sorted, so a code's order is the name's),
    `area` indexes `areas` (sorted (sido, sigungu)), `dong` indexes `dongs` (sorted)."""

    def __init__(self, lines):
        road_codes, area_codes, dong_codes = {}, {}, {}
        columns = {name: array("i") for name in ("road", "area", "dong", "zip", "main", "sub")}
        self.lines = 0
        for zip_code, sido, sigungu, road, number, dong in lines:
            self.lines += 1
            main, _, sub = number.partition("-")
            columns["road"].append(road_codes.setdefault(road, len(road_codes)))
            columns["area"].append(area_codes.setdefault((sido, sigungu), len(area_codes)))
            columns["dong"].append(dong_codes.setdefault(dong, len(dong_codes)))
            columns["zip"].append(int(zip_code))
            columns["main"].append(int(main))
            columns["sub"].append(int(sub or 0))
        self.roads, road = _ranked(road_codes, columns.pop("road"))
        self.areas, area = _ranked(area_codes, columns.pop("area"))
        self.dongs, dong = _ranked(dong_codes, columns.pop("dong"))
        zip_column, main, sub = (np.frombuffer(columns.pop(n), dtype=np.int32) for n in ("zip", "main", "sub"))
        order = np.lexsort((zip_column, dong, sub, main, area, road))   # last key sorts first
        keys = [column[order] for column in (road, area, main, sub, dong, zip_column)]
        repeated = np.ones(len(order), dtype=bool)
        repeated[0] = False
        for column in keys:
            repeated[1:] &= column[1:] == column[:-1]
        self.road, self.area, self.main, self.sub, self.dong, self.zip = (c[~repeated] for c in keys)
        self.count = len(self.road)
        self.sido_of_area = [sido for sido, _ in self.areas]
        self.area_names = [self._names_of_area(sido, sigungu) for sido, sigungu in self.areas]
        self.dong_parts = [set(split_words(name)) for name in self.dongs]
        self.english_roads = [english_key(road_english(name)) for name in self.roads]
        by_english = sorted((key, code) for code, key in enumerate(self.english_roads))
        self.english_keys = [key for key, _ in by_english]
        self.english_codes = np.array([code for _, code in by_english], dtype=np.int32)
        self._road_index = {name: code for code, name in enumerate(self.roads)}
        self.area_english = [english_area_names(sido, sigungu, "") for sido, sigungu in self.areas]
        self.dong_english = [english_key(area_english(eupmyeon_of(name))) for name in self.dongs]
        self.english_areas = frozenset().union(*self.area_english, self.dong_english) - {""}

    # -- one address

    def row(self, position):
        sido, sigungu = self.areas[self.area[position]]
        main, sub = int(self.main[position]), int(self.sub[position])
        return Row(f"{int(self.zip[position]):05d}", sido, sigungu, self.roads[self.road[position]],
                   f"{main}-{sub}" if sub else str(main), self.dongs[self.dong[position]])

    def address(self, position):
        return self.row(position).address(position)

    def detail(self, position):
        return self.row(position).detail(position)

    def position_of(self, row):
        """The position (id) of a Row, or None."""
        code = self._road_index.get(row.road)
        if code is None:
            return None
        candidates = np.flatnonzero((self.road == code) & (self.main == row.main) & (self.sub == row.sub))
        for position in candidates:
            if self.row(position) == row:
                return int(position)
        return None

    # -- a query

    def search(self, q):
        """(total, positions of every match in the spec's result order)."""
        query = parse_query(q, self.english_areas)
        if not query.finds_anything:
            return 0, np.zeros(0, dtype=np.int64)
        rows = np.arange(self.count)                 # the addresses that match every term so far
        loose = np.zeros(self.count, dtype=bool)     # ... and whether one matched only loosely
        road_words = [word for word in query.words if not self._names_an_area_or_dong(word)]
        # Any order of terms gives the same answer; this one narrows the rows soonest.
        terms = ([(self._word_match, word) for word in road_words]
                 + [(self._number_match, number) for number in query.numbers]
                 + [(self._english_match, name) for name in query.english]
                 + [(self._area_match, area) for area in query.areas]
                 + [(self._word_match, word) for word in query.words if word not in road_words])
        for match, term in terms:
            if match == self._word_match and term in road_words:
                # Only road names can match it, and rows sort by road first: skip to those roads' run.
                run = _starting_with(self.roads, term)
                start, stop = np.searchsorted(self.road, [run.start, run.stop])
                inside = slice(np.searchsorted(rows, start), np.searchsorted(rows, stop))
                rows, loose = rows[inside], loose[inside]
            exact, only_loosely = match(term, rows)
            keep = exact | only_loosely
            loose = (loose | only_loosely)[keep]
            rows = rows[keep]
        return len(rows), np.concatenate([rows[~loose], rows[loose]])   # each group in id order

    def _names_an_area_or_dong(self, word):
        return any(word in names for names in self.area_names) or any(word in parts for parts in self.dong_parts)

    def _word_match(self, word, rows):
        """(exact, only as the start of a longer road name) for each of `rows`."""
        area_has = np.array([word in names for names in self.area_names])
        dong_has = np.array([word in parts for parts in self.dong_parts])
        road_is = np.zeros(len(self.roads), dtype=bool)
        if word in self._road_index:
            road_is[self._road_index[word]] = True
        road_starts = np.zeros(len(self.roads), dtype=bool)
        if len(word) >= 2:
            road_starts[_starting_with(self.roads, word)] = True
        road = self.road[rows]
        exact = area_has[self.area[rows]] | dong_has[self.dong[rows]] | road_is[road]
        return exact, road_starts[road] & ~exact

    def _english_match(self, name, rows):
        """(equal, only the start of a longer romanized road name) for each of `rows`."""
        road_is = np.array([key == name for key in self.english_roads])
        road_starts = np.zeros(len(self.roads), dtype=bool)
        if len(name) >= 2:
            road_starts[self.english_codes[_starting_with(self.english_keys, name)]] = True
        road = self.road[rows]
        return road_is[road], road_starts[road] & ~road_is[road]

    def _area_match(self, area, rows):
        """(in an area of that English name, only its romanized road name starting with it) for
        each of `rows`."""
        area_has = np.array([area in names for names in self.area_english])
        dong_has = np.array([area == name for name in self.dong_english])
        road_starts = np.zeros(len(self.roads), dtype=bool)
        road_starts[self.english_codes[_starting_with(self.english_keys, area)]] = True
        exact = area_has[self.area[rows]] | dong_has[self.dong[rows]]
        return exact, road_starts[self.road[rows]] & ~exact

    def _number_match(self, number, rows):
        """(this building number or zip, only the building number's main part) for each of `rows`."""
        main, _, sub = number.partition("-")
        exact = np.zeros(len(rows), dtype=bool)
        main_only = np.zeros(len(rows), dtype=bool)
        if ZIP_OR_NUMBER.fullmatch(number):
            exact |= self.zip[rows] == int(number)
        # Numbers are compared as written: the data's have no leading zeros and no sub-number 0,
        # so "0110" and "110-0" find none.
        if main == str(int(main)) and (not sub or (sub == str(int(sub)) and sub != "0")) and int(main) < 2 ** 31:
            same_main = self.main[rows] == int(main)
            if sub:
                exact |= same_main & (self.sub[rows] == int(sub))
            else:
                exact |= same_main & (self.sub[rows] == 0)
                main_only = same_main & (self.sub[rows] != 0)
        return exact, main_only & ~exact

    @staticmethod
    def _names_of_area(sido, sigungu):
        """The words that find an area exactly: its sido's names and its sigungu's parts."""
        names = {sido, *SIDO_ALIASES[sido], *sigungu.split()}
        if (sido, sigungu) == GUNWI:
            names.update(GUNWI_ALIASES)
        return names

    def area_rows(self, sido, sigungu=None):
        """Positions of every address in a sido (or one of its sigungu), as a set."""
        codes = [c for c, area in enumerate(self.areas) if area[0] == sido and sigungu in (None, area[1])]
        return set(np.flatnonzero(np.isin(self.area, codes)).tolist())

    def road_rows(self, road):
        return set(np.flatnonzero(self.road == self._road_index[road]).tolist())


def _starting_with(names, prefix):
    """The slice of sorted `names` that start with `prefix` (they are next to each other)."""
    first = bisect.bisect_left(names, prefix)
    last = first
    while last < len(names) and names[last].startswith(prefix):
        last += 1
    return slice(first, last)


def _ranked(codes, column):
    """Names sorted by code point, and the column recoded so that a code's order is its name's."""
    names = sorted(codes)
    rank = np.empty(len(codes), dtype=np.int32)
    for new, name in enumerate(names):
        rank[codes[name]] = new
    return names, rank[np.frombuffer(column, dtype=np.int32)]


_LOADED = None


def load():
    """The national data, read once per process (~40 s, ~0.5 GB kept)."""
    global _LOADED
    if _LOADED is None:
        _LOADED = NationalData(read_lines())
    return _LOADED


# -- random queries drawn from the data

QUERY_KINDS = ("road number", "area road number", "road", "sigungu road", "road prefix", "zip",
               "dong road", "dong number", "english road", "english road number", "area number",
               "area dong", "glued road number", "english address", "english area road")


def area_words(rng, row):
    """A way a person writes the sido and/or sigungu: full, short or old sido names."""
    sido_names = sorted(row.sido_names())
    choices = [[rng.choice(sido_names)]]
    if row.sigungu:
        sigungu_parts = row.sigungu.split()
        choices += [[row.sigungu], [rng.choice(sido_names), row.sigungu], [rng.choice(sigungu_parts)]]
    return " ".join(rng.choice(choices))


def area_word(rng, row):
    """One word of the row's area: a name of its sido or a part of its sigungu."""
    return rng.choice(sorted(row.sido_names()) + row.sigungu.split())


def english_road_written(rng, road):
    """The road's English name as a person may type it."""
    english = road_english(road)
    return rng.choice([english, english.lower(), english.upper(), english.replace("-", "")])


def road_query(rng, address, kind, dong_part, english):
    """A query of `kind` by road, number, zip or 읍면동 word, the kinds every oracle draws (its
    own kinds: None); `address` has road, number, zip and english_address()."""
    if kind == "road number":
        return f"{address.road} {address.number}"
    if kind == "road":
        return address.road
    if kind == "road prefix":
        return address.road[:rng.randint(2, max(2, len(address.road) - 1))]
    if kind == "zip":
        return address.zip
    if kind == "dong road":
        return f"{dong_part} {address.road}"
    if kind == "dong number":          # a building number that may also be a lot number
        return f"{dong_part} {address.number}"
    if kind == "english road":
        return english
    if kind == "english road number":
        return f"{english} {address.number}"
    if kind == "glued road number":
        return f"{address.road}{address.number}"
    if kind == "english address":  # as the service writes it, or as people paste it
        text = address.english_address()
        return rng.choice([text, text.lower(), text.replace(",", ""), f"{text} {address.zip}"])
    return None


def make_query(rng, row, kind):
    """A query of `kind` built from `row` (the row is among its matches)."""
    dong_part = rng.choice(split_words(row.eupmyeondong))
    english = english_road_written(rng, row.road)
    query = road_query(rng, row, kind, dong_part, english)
    if query is not None:
        return query
    if kind == "area road number":
        return f"{area_words(rng, row)} {row.road} {row.number}"
    if kind == "sigungu road":
        area = rng.choice(row.sigungu.split()) if row.sigungu else rng.choice(sorted(row.sido_names()))
        return f"{area} {row.road}"
    if kind == "area number":  # broad: every address of a sido or sigungu with that number
        return f"{area_word(rng, row)} {row.number}"
    if kind == "area dong":
        return f"{area_word(rng, row)} {dong_part}"
    if kind == "english area road":
        area = rng.choice(sorted(english_area_words(row)))
        return f"{english} {area}"
    raise ValueError(kind)


def english_area_words(row):
    """The English area names of a row as english_address writes them (not yet english_key()ed)."""
    names = sido_english_names(row.sido) | {area_english(part) for part in row.sigungu.split()}
    return names | ({area_english(row.eupmyeon)} if row.eupmyeon else set())


def random_queries(data, seed, count, among=None):
    """`count` (kind, query, source position) drawn with `seed`, every kind in turn, from the
    addresses at positions `among` (default: all)."""
    rng = random.Random(seed)
    drawn = []
    for index in range(count):
        position = rng.choice(among) if among else rng.randrange(data.count)
        kind = QUERY_KINDS[index % len(QUERY_KINDS)]
        query = make_query(rng, data.row(position), kind)
        if len(query.strip()) < 2:
            query = data.row(position).road
        drawn.append((kind, query[:80], position))
    return drawn


def random_positions(data, seed, count):
    rng = random.Random(seed)
    return [rng.randrange(data.count) for _ in range(count)]


def first_difference(got, wanted):
    """(index, got's, wanted's) where two lists of answers first differ, or None if equal."""
    for index, (a, b) in enumerate(zip(got, wanted)):
        if a != b:
            return index, a, b
    if len(got) != len(wanted):
        index = min(len(got), len(wanted))
        return index, got[index] if index < len(got) else None, wanted[index] if index < len(wanted) else None
    return None
