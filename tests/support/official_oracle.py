"""The test oracle for the page built from the ministry's 도로명주소 한글 files: docs/search.md ("What a
query finds" and "Official data") by brute force, one address at a time, in plain Python.

Independent of the page and its generator: demo_site/official.py reads the files (it has its own
tests); this module applies the current names, keeps the first of two lines that are one address,
sorts the addresses into the spec's order (which gives the ids) and answers a query by testing every
address with `match_rank`. Only the romanization comes from the page's code (demo_site/romanize.py),
as in tests/support/national_data.py, whose rules for kozip this extends.
"""
import os
import random
import re
from dataclasses import dataclass, field
from functools import cached_property

from tests.support.national_data import (NUMBER, SIDO_ENGLISH, ZIP_OR_NUMBER, current_names, english_area_names,
                                         english_area_words, english_key, english_rank, english_road_written,
                                         parse_query as parse_road_query, query_words, road_query, sido_names,
                                         split_words)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import official  # noqa: E402
from romanize import area_english, road_english  # noqa: E402

UNDERGROUND_WORD = "지하"
MOUNTAIN_WORD = "산"
MOUNTAIN_NUMBER = re.compile(r"산([0-9]+(?:-[0-9]+)?)")
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def written(main, sub):
    """A number as the data writes it: `47`, `47-1` (a 부번 of 0 is none)."""
    return f"{main}-{sub}" if sub else str(main)


def base36(position):
    text = ""
    while True:
        position, digit = divmod(position, 36)
        text = DIGITS[digit] + text
        if position == 0:
            return text


def number_rank(query_number, address_number):
    """0 when a number matches exactly, 1 when only by its main part, None when not at all
    (numbers compare as written: `047` and `47-0` match nothing)."""
    if query_number == address_number:
        return 0
    if "-" not in query_number and address_number.startswith(query_number + "-"):
        return 1
    return None


@dataclass(frozen=True)
class Lot:
    """One lot of an address: its own (representative) lot or a related one."""
    dong: str            # 법정읍면동
    ri: str              # 법정리, or ''
    mountain: bool
    number: str          # "47" or "47-1"

    @property
    def eupmyeondong(self):
        return f"{self.dong} {self.ri}" if self.ri else self.dong

    @cached_property
    def parts(self):
        return frozenset(split_words(self.eupmyeondong))


@dataclass
class Address:
    sido: str
    sigungu: str
    dong: str
    ri: str
    road: str
    underground: int     # 지하여부: 0 지상, 1 지하, 2 공중
    main: int
    sub: int
    zip: str
    admin_code: str
    building: str
    lot: Lot
    related: list = field(default_factory=list)

    @property
    def eupmyeondong(self):
        return f"{self.dong} {self.ri}" if self.ri else self.dong

    @property
    def number(self):
        return written(self.main, self.sub)

    @property
    def eupmyeon(self):
        """The 읍/면 the address lies in (the first part of a two-part 읍면동/리), or ''."""
        first = self.eupmyeondong.split(" ")[0]
        return first if first[-1:] in ("읍", "면") else ""

    def order_key(self):
        """Road name, sido, sigungu, main number, sub-number, 읍면동/리, zip, then 지하여부."""
        return (self.road, self.sido, self.sigungu, self.main, self.sub, self.eupmyeondong, self.zip,
                self.underground)

    def sido_names(self):
        return sido_names(self.sido, self.sigungu)

    def lots(self):
        return [self.lot, *self.related]

    # The names a word is compared with, worked out once per address.
    @cached_property
    def area_names(self):
        """The sido's names and the sigungu's parts."""
        return frozenset(self.sido_names() | set(self.sigungu.split()))

    @cached_property
    def exact_names(self):
        """What a word of a road search equals to match exactly: area, 읍면동/리 part, road, building part."""
        return self.area_names | self.lot.parts | {self.road} | set(self.building_parts)

    @cached_property
    def building_parts(self):
        return split_words(self.building)

    @cached_property
    def english_road(self):
        return english_key(road_english(self.road))

    @cached_property
    def english_areas(self):
        return english_area_names(self.sido, self.sigungu, self.eupmyeon)

    def road_address(self):
        number = f"지하 {self.number}" if self.underground == 1 else self.number
        return " ".join(part for part in (self.sido, self.sigungu, self.eupmyeon, self.road, number) if part)

    def jibun_address(self):
        number = f"산 {self.lot.number}" if self.lot.mountain else self.lot.number
        return " ".join(part for part in (self.sido, self.sigungu, self.eupmyeondong, number) if part)

    def english_address(self):
        areas = [area_english(self.eupmyeon)] if self.eupmyeon else []
        areas += [area_english(part) for part in reversed(self.sigungu.split())]
        return ", ".join([f"{self.number} {road_english(self.road)}", *areas, SIDO_ENGLISH[self.sido]])

    def address(self, address_id):
        """The ADDRESS a search result carries."""
        return {"id": address_id, "road_address": self.road_address(), "jibun_address": self.jibun_address(),
                "english_address": self.english_address(), "zip": self.zip, "building": self.building,
                "sido": self.sido, "sigungu": self.sigungu, "eupmyeondong": self.eupmyeondong}

    def detail(self, address_id):
        """What /searchaddr2 answers: no coordinates in the files; the 법정동코드."""
        return dict(self.address(address_id), lat=None, lng=None, admin_code=self.admin_code)


@dataclass(frozen=True)
class Query:
    words: tuple         # every word that is not a number, an English word or 지하
    english: tuple       # English road names, each english_key()ed
    areas: tuple         # English area names, each english_key()ed
    numbers: tuple       # "110", "110-1", "30145"
    underground: bool    # 지하 was given
    lot: tuple           # (words, mountain, number) when the query can name a lot, else None

    @cached_property
    def finds_by_road(self):
        """A road search needs a word, an English road name or a 5-digit number (not numbers alone)."""
        return bool(self.words or self.english or self.areas
                    or any(ZIP_OR_NUMBER.fullmatch(n) for n in self.numbers))


def parse_query(q, english_areas=frozenset()):
    """`english_areas`: every english_key()ed area name of the data (OfficialData.english_areas)."""
    tokens = query_words(q)
    road = parse_road_query(q, english_areas)
    underground = UNDERGROUND_WORD in road.words
    words = tuple(w for w in road.words if w != UNDERGROUND_WORD)
    return Query(words, road.english, road.areas, road.numbers, underground, lot_reading(tokens, road, underground))


def lot_reading(tokens, road, underground):
    """(words, mountain, number) for a query of words and exactly one number, `산` before it (`산 20`
    or `산20`) for a 산 lot; None when the query has an English word, a 5-digit number or 지하."""
    if road.english or road.areas or underground:
        return None
    numbered = [i for i, t in enumerate(tokens) if NUMBER.fullmatch(t) or MOUNTAIN_NUMBER.fullmatch(t)]
    if len(numbered) != 1:
        return None
    at = numbered[0]
    token = tokens[at]
    glued = MOUNTAIN_NUMBER.fullmatch(token)
    number = glued.group(1) if glued else token
    if ZIP_OR_NUMBER.fullmatch(number):
        return None
    mountain = bool(glued) or (at > 0 and tokens[at - 1] == MOUNTAIN_WORD)
    skip = {at} if glued or not mountain else {at, at - 1}
    return tuple(t for i, t in enumerate(tokens) if i not in skip), mountain, number


def road_way_rank(query, address):
    """A road search (with building names): None, or 0 exact / 1 when a word only started a name or
    a number matched only by its main part."""
    if not query.finds_by_road:
        return None
    if query.underground and address.underground != 1:
        return None
    loose = False
    for word in query.words:
        if word in address.exact_names:
            continue
        if not (len(word) >= 2 and (address.road.startswith(word)
                                    or any(part.startswith(word) for part in address.building_parts))):
            return None
        loose = True
    english_loose = english_rank(query, address.english_road, lambda: address.english_areas)
    if english_loose is None:
        return None
    loose = loose or english_loose
    for number in query.numbers:
        if ZIP_OR_NUMBER.fullmatch(number) and number == address.zip:
            continue
        rank = number_rank(number, address.number)
        if rank is None:
            return None
        loose = loose or rank == 1
    return 1 if loose else 0


def lot_way_rank(query, address):
    """A lot search over the address's own lot and its related lots: the best rank, or None."""
    if query.lot is None:
        return None
    words, mountain, number = query.lot
    areas = address.area_names
    best = None
    for lot in address.lots():
        if lot.mountain != mountain:
            continue
        rank = number_rank(number, lot.number)
        if rank is None:
            continue
        dong_parts = lot.parts
        if all(w in areas or w in dong_parts for w in words) and any(w in dong_parts for w in words):
            best = rank if best is None else min(best, rank)
    return best


def match_rank(query, address):
    """docs/search.md for one address: None if no way finds it, else the best rank of the ways that do."""
    road = road_way_rank(query, address)
    if road == 0 or query.lot is None:
        return road
    lot = lot_way_rank(query, address)
    return lot if road is None else min(road, lot if lot is not None else 1)


def address_of(line):
    """The Address of one line of the files (an official.Address), without its related lots."""
    sido, sigungu = current_names(line.sido, line.sigungu)
    return Address(sido, sigungu, line.dong, line.ri, line.road, line.underground, line.main, line.sub,
                   line.zip, line.admin_code, official.building_name(line),
                   Lot(line.dong, line.ri, bool(line.mountain), written(line.lot_main, line.lot_sub)))


def read_addresses(path):
    """Every address of the official files at `path` in the spec's order, the first of two lines that
    are one address kept (files in name order, lines in file order), related lots attached."""
    source = official.open_source(path)
    by_order, by_key = {}, {}
    for line in source.addresses():
        address = address_of(line)
        by_key[line.key] = by_order.setdefault(address.order_key(), address)
    for lot in source.related_lots():
        if lot.key in by_key:
            by_key[lot.key].related.append(Lot(lot.dong, lot.ri, bool(lot.mountain), written(lot.lot_main, lot.lot_sub)))
    return [by_order[key] for key in sorted(by_order)]


class OfficialData:
    """The addresses of an official file; position i is the i-th in the spec's order."""

    def __init__(self, path):
        self.addresses = read_addresses(path)
        self.count = len(self.addresses)
        self.english_areas = frozenset().union(*(address.english_areas for address in self.addresses))

    def search(self, q):
        """(total, positions of every match in the spec's result order: exact ones first, by id)."""
        query = parse_query(q, self.english_areas)
        exact, loose = [], []
        for position, address in enumerate(self.addresses):
            rank = match_rank(query, address)
            if rank is not None:
                (exact if rank == 0 else loose).append(position)
        return len(exact) + len(loose), exact + loose

    def position_of(self, **fields):
        """The position of the one address with these attribute values."""
        found = [p for p, a in enumerate(self.addresses) if all(getattr(a, k) == v for k, v in fields.items())]
        assert len(found) == 1, (fields, found)
        return found[0]


# -- random queries drawn from the data

QUERY_KINDS = ("road number", "area road number", "road", "road prefix", "zip", "dong road", "english road",
               "english road number", "lot", "area lot", "lot main", "mountain lot", "related lot",
               "building", "building prefix", "area building", "building number", "underground",
               "underground road", "dong number", "area lot number", "nothing", "glued road number",
               "english address", "english area building")


def make_query(rng, data, address, kind):
    """A query of `kind` built from `address` (most kinds find it)."""
    dong_part = rng.choice(split_words(address.eupmyeondong))
    area = rng.choice(sorted(address.sido_names()) + address.sigungu.split())
    english = english_road_written(rng, address.road)
    query = road_query(rng, address, kind, dong_part, english)
    if query is not None:
        return query
    lot = address.lot
    if kind == "area road number":
        return f"{area} {address.road} {address.number}"
    if kind in ("lot", "area lot", "lot main", "mountain lot", "related lot"):
        if kind == "related lot" and address.related:
            lot = rng.choice(address.related)
        lot_part = rng.choice(split_words(lot.eupmyeondong))
        number = lot.number.split("-")[0] if kind == "lot main" else lot.number
        mountain = rng.choice(["산 ", "산"]) if lot.mountain else ""
        if kind == "mountain lot":          # 산 given or left out, whatever the lot is
            mountain = rng.choice(["산 ", "산", ""])
        prefix = f"{area} " if kind == "area lot" else ""
        return f"{prefix}{lot_part} {mountain}{number}"
    parts = split_words(address.building)
    if kind.startswith("building") or kind in ("area building", "english area building"):
        if not parts:
            return address.road
        part = rng.choice(parts)
        if kind == "building":
            return " ".join(parts) if rng.random() < 0.5 else part
        if kind == "building prefix":
            return part[:rng.randint(2, max(2, len(part) - 1))]
        if kind == "area building":
            return f"{rng.choice([area, dong_part])} {part}"
        if kind == "english area building":     # an English area name with a building name, then a lot
            english_area = rng.choice(sorted(english_area_words(address)))
            return f"{part} {english_area}" + (f" {lot.number}" if rng.random() < 0.5 else "")
        return f"{part} {address.number}"
    if kind == "area lot number":      # no 읍면동: a lot cannot be meant, a building number can
        return f"{area} {lot.number}"
    if kind == "underground":
        return f"{address.road} 지하 {address.number}"
    if kind == "underground road":
        return f"{address.road} 지하" if rng.random() < 0.5 else f"지하 {area} {address.road[:2]}"
    if kind == "nothing":
        return rng.choice([f"{address.road} 9999", f"{dong_part} 산 9999", f"{address.road}없음",
                           f"{address.zip[:4]}9 없는말", f"{dong_part} 0{address.number}",
                           f"{address.road} {address.main}-0"])
    raise ValueError(kind)


def random_queries(data, seed, count, among=None):
    """`count` (kind, query) drawn with `seed`, every kind in turn, from the positions `among` (default:
    all); lot, building and underground kinds draw from the addresses that have one."""
    rng = random.Random(seed)
    pools = {
        "related lot": [p for p in range(data.count) if data.addresses[p].related],
        "mountain lot": [p for p in range(data.count) if data.addresses[p].lot.mountain],
        "underground": [p for p in range(data.count) if data.addresses[p].underground == 1],
    }
    pools["underground road"] = pools["underground"]
    with_building = [p for p in range(data.count) if data.addresses[p].building]
    for kind in ("building", "building prefix", "area building", "building number", "english area building"):
        pools[kind] = with_building
    drawn = []
    for index in range(count):
        kind = QUERY_KINDS[index % len(QUERY_KINDS)]
        pool = pools.get(kind) or among or range(data.count)
        if kind == "mountain lot" and rng.random() < 0.5:
            pool = among or range(data.count)
        position = rng.choice(pool)
        drawn.append((kind, make_query(rng, data, data.addresses[position], kind)))
    return drawn
