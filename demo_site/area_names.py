"""The names of Korea's areas as the index holds them: current names for old ones, the sido table
(docs/search.md) and the English forms of a sigungu and a 읍/면."""
import re

from romanize import area_english

# Current names for the data's old ones (docs/search.md).
SIDO_RENAMES = {"강원도": "강원특별자치도", "전라북도": "전북특별자치도"}
SIGUNGU_MOVES = {("경상북도", "군위군"): ("대구광역시", "군위군")}
# (current name, English name, the other words that find it): docs/search.md's table.
SIDO = (
    ("서울특별시", "Seoul", ("서울", "서울시")),
    ("부산광역시", "Busan", ("부산", "부산시")),
    ("대구광역시", "Daegu", ("대구", "대구시")),
    ("인천광역시", "Incheon", ("인천", "인천시")),
    ("광주광역시", "Gwangju", ("광주",)),
    ("대전광역시", "Daejeon", ("대전", "대전시")),
    ("울산광역시", "Ulsan", ("울산", "울산시")),
    ("세종특별자치시", "Sejong-si", ("세종", "세종시")),
    ("경기도", "Gyeonggi-do", ("경기",)),
    ("강원특별자치도", "Gangwon State", ("강원", "강원도")),
    ("충청북도", "Chungcheongbuk-do", ("충북",)),
    ("충청남도", "Chungcheongnam-do", ("충남",)),
    ("전북특별자치도", "Jeonbuk State", ("전북", "전라북도")),
    ("전라남도", "Jeollanam-do", ("전남",)),
    ("경상북도", "Gyeongsangbuk-do", ("경북",)),
    ("경상남도", "Gyeongsangnam-do", ("경남",)),
    ("제주특별자치도", "Jeju-do", ("제주", "제주도")),
)
# Words that also find one sigungu outside its current sido (it moved from 경상북도 in 2023).
MOVED_SIGUNGU_WORDS = {("대구광역시", "군위군"): ("경북", "경상북도")}
# How a query splits into words (docs/search.md), also used to split 읍면동/리 names into parts.
WORD_SEPARATORS = re.compile(r"[\s,()]+")


def current_names(sido, sigungu):
    sido = SIDO_RENAMES.get(sido, sido)
    return SIGUNGU_MOVES.get((sido, sigungu), (sido, sigungu))


def sigungu_english(sigungu):
    """'성남시 분당구' -> 'Bundang-gu, Seongnam-si': smallest unit first, as English addresses go."""
    return ", ".join(area_english(part) for part in reversed(sigungu.split()))


def eupmyeon_of(dong):
    """'군남면 육창리' -> '군남면': the 읍/면 of a two-part 읍면동/리; '' for a 동 or 가."""
    return dong.split(" ")[0] if " " in dong else ""
