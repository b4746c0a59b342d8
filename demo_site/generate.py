"""Generate demo_site/data/addresses.js: the bundled address data set (deterministic).

Real sido and sigungu names, real admin-code prefixes and zip ranges, a few real
landmarks; streets, numbers and buildings in between are made up but plausible.

    python3 demo_site/generate.py            # rewrite data/addresses.js
    python3 demo_site/generate.py --check    # exit 1 if the committed file is stale
"""
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from romanize import area_english, road_english  # noqa: E402

DATA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "addresses.js")
SEED = 20240517
FORMAT_VERSION = 1
GLOBAL_NAME = "SEARCHADDR_DATA"

# (name, English name, admin code prefix, zip prefix range, lat range, lng range)
SIDO = [
    ("서울특별시", "Seoul", "11", (1, 9), (37.46, 37.68), (126.82, 127.16)),
    ("부산광역시", "Busan", "26", (46, 49), (35.05, 35.30), (128.90, 129.22)),
    ("대구광역시", "Daegu", "27", (41, 43), (35.75, 36.15), (128.45, 128.75)),
    ("인천광역시", "Incheon", "28", (21, 23), (37.38, 37.72), (126.40, 126.78)),
    ("광주광역시", "Gwangju", "29", (61, 62), (35.08, 35.24), (126.75, 126.98)),
    ("대전광역시", "Daejeon", "30", (34, 35), (36.25, 36.45), (127.30, 127.50)),
    ("울산광역시", "Ulsan", "31", (44, 45), (35.42, 35.65), (129.05, 129.42)),
    ("세종특별자치시", "Sejong-si", "36", (30, 30), (36.47, 36.68), (127.18, 127.36)),
    ("경기도", "Gyeonggi-do", "41", (10, 18), (37.00, 38.10), (126.65, 127.70)),
    ("강원특별자치도", "Gangwon State", "51", (24, 26), (37.15, 38.45), (127.30, 129.25)),
    ("충청북도", "Chungcheongbuk-do", "43", (27, 29), (36.05, 37.15), (127.40, 128.40)),
    ("충청남도", "Chungcheongnam-do", "44", (31, 33), (36.05, 36.95), (126.35, 127.45)),
    ("전북특별자치도", "Jeonbuk State", "52", (54, 56), (35.40, 36.05), (126.55, 127.75)),
    ("전라남도", "Jeollanam-do", "46", (57, 60), (34.40, 35.35), (126.25, 127.70)),
    ("경상북도", "Gyeongsangbuk-do", "47", (36, 40), (35.70, 36.95), (128.10, 129.45)),
    ("경상남도", "Gyeongsangnam-do", "48", (50, 53), (34.80, 35.75), (127.70, 129.10)),
    ("제주특별자치도", "Jeju-do", "50", (63, 63), (33.25, 33.52), (126.20, 126.90)),
]

# Every si/gun/gu; "수원시 장안구" style for the general-purpose gu inside a si.
SIGUNGU = {
    "서울특별시": "종로구 중구 용산구 성동구 광진구 동대문구 중랑구 성북구 강북구 도봉구 노원구 은평구 "
             "서대문구 마포구 양천구 강서구 구로구 금천구 영등포구 동작구 관악구 서초구 강남구 송파구 강동구",
    "부산광역시": "중구 서구 동구 영도구 부산진구 동래구 남구 북구 해운대구 사하구 금정구 강서구 연제구 "
             "수영구 사상구 기장군",
    "대구광역시": "중구 동구 서구 남구 북구 수성구 달서구 달성군 군위군",
    "인천광역시": "중구 동구 미추홀구 연수구 남동구 부평구 계양구 서구 강화군 옹진군",
    "광주광역시": "동구 서구 남구 북구 광산구",
    "대전광역시": "동구 중구 서구 유성구 대덕구",
    "울산광역시": "중구 남구 동구 북구 울주군",
    "세종특별자치시": "",
    "경기도": "수원시+장안구 수원시+권선구 수원시+팔달구 수원시+영통구 성남시+수정구 성남시+중원구 "
           "성남시+분당구 의정부시 안양시+만안구 안양시+동안구 부천시+원미구 부천시+소사구 부천시+오정구 "
           "광명시 평택시 동두천시 안산시+상록구 안산시+단원구 고양시+덕양구 고양시+일산동구 "
           "고양시+일산서구 과천시 구리시 남양주시 오산시 시흥시 군포시 의왕시 하남시 용인시+처인구 "
           "용인시+기흥구 용인시+수지구 파주시 이천시 안성시 김포시 화성시 광주시 양주시 포천시 여주시 "
           "연천군 가평군 양평군",
    "강원특별자치도": "춘천시 원주시 강릉시 동해시 태백시 속초시 삼척시 홍천군 횡성군 영월군 평창군 정선군 "
               "철원군 화천군 양구군 인제군 고성군 양양군",
    "충청북도": "청주시+상당구 청주시+서원구 청주시+흥덕구 청주시+청원구 충주시 제천시 보은군 옥천군 "
            "영동군 증평군 진천군 괴산군 음성군 단양군",
    "충청남도": "천안시+동남구 천안시+서북구 공주시 보령시 아산시 서산시 논산시 계룡시 당진시 금산군 "
            "부여군 서천군 청양군 홍성군 예산군 태안군",
    "전북특별자치도": "전주시+완산구 전주시+덕진구 군산시 익산시 정읍시 남원시 김제시 완주군 진안군 무주군 "
               "장수군 임실군 순창군 고창군 부안군",
    "전라남도": "목포시 여수시 순천시 나주시 광양시 담양군 곡성군 구례군 고흥군 보성군 화순군 장흥군 "
            "강진군 해남군 영암군 무안군 함평군 영광군 장성군 완도군 진도군 신안군",
    "경상북도": "포항시+남구 포항시+북구 경주시 김천시 안동시 구미시 영주시 영천시 상주시 문경시 경산시 "
            "의성군 청송군 영양군 영덕군 청도군 고령군 성주군 칠곡군 예천군 봉화군 울진군 울릉군",
    "경상남도": "창원시+의창구 창원시+성산구 창원시+마산합포구 창원시+마산회원구 창원시+진해구 진주시 "
            "통영시 사천시 김해시 밀양시 거제시 양산시 의령군 함안군 창녕군 고성군 남해군 하동군 "
            "산청군 함양군 거창군 합천군",
    "제주특별자치도": "제주시 서귀포시",
}

# Real sigungu codes and zip prefixes for Seoul; elsewhere codes and zip blocks are spread evenly.
SEOUL_CODES = {
    "종로구": ("11110", 30), "중구": ("11140", 45), "용산구": ("11170", 43), "성동구": ("11200", 47),
    "광진구": ("11215", 49), "동대문구": ("11230", 24), "중랑구": ("11260", 20), "성북구": ("11290", 27),
    "강북구": ("11305", 10), "도봉구": ("11320", 13), "노원구": ("11350", 15), "은평구": ("11380", 33),
    "서대문구": ("11410", 36), "마포구": ("11440", 39), "양천구": ("11470", 79), "강서구": ("11500", 75),
    "구로구": ("11530", 82), "금천구": ("11545", 84), "영등포구": ("11560", 72), "동작구": ("11590", 69),
    "관악구": ("11620", 87), "서초구": ("11650", 65), "강남구": ("11680", 60), "송파구": ("11710", 55),
    "강동구": ("11740", 51),
}

# Places whose dong names, roads and position are known; elsewhere they are drawn from pools.
KNOWN_DONGS = {
    ("서울특별시", "중구"): "태평로1가 태평로2가 소공동 명동 회현동 을지로동 필동 장충동 신당동 황학동",
    ("서울특별시", "종로구"): "세종로 청운동 사직동 삼청동 가회동 종로1가 혜화동 이화동 창신동 평창동",
    ("서울특별시", "강남구"): "역삼동 삼성동 대치동 논현동 신사동 압구정동 청담동 개포동 도곡동 일원동 수서동 세곡동",
    ("서울특별시", "서초구"): "서초동 반포동 잠원동 방배동 양재동 내곡동",
    ("서울특별시", "송파구"): "잠실동 신천동 방이동 오금동 가락동 문정동 석촌동 송파동 풍납동 거여동",
    ("서울특별시", "영등포구"): "여의도동 영등포동 당산동 문래동 양평동 신길동 대림동 도림동",
    ("서울특별시", "용산구"): "동자동 한강로동 이태원동 한남동 용산동 후암동 이촌동 서빙고동",
    ("서울특별시", "마포구"): "서교동 합정동 망원동 연남동 상암동 공덕동 아현동 도화동",
    ("부산광역시", "연제구"): "연산동 거제동",
    ("부산광역시", "해운대구"): "우동 중동 좌동 송정동 반여동 재송동",
    ("대구광역시", "중구"): "동인동1가 동인동2가 삼덕동 대봉동 남산동 대신동 성내동",
    ("인천광역시", "남동구"): "구월동 간석동 만수동 논현동 고잔동 장수동",
    ("광주광역시", "서구"): "치평동 쌍촌동 화정동 농성동 광천동 금호동 풍암동",
    ("대전광역시", "서구"): "둔산동 월평동 갈마동 탄방동 관저동 도마동 만년동",
    ("울산광역시", "남구"): "신정동 달동 삼산동 야음동 무거동 옥동",
    ("세종특별자치시", ""): "한솔동 새롬동 도담동 아름동 종촌동 고운동 보람동 대평동 소담동 반곡동 어진동 나성동 "
                      "다정동 조치원읍 연기면 연동면 부강면 금남면 장군면 연서면 전의면 전동면 소정면",
    ("경기도", "수원시 영통구"): "이의동 영통동 매탄동 원천동 망포동 신동",
    ("제주특별자치도", "제주시"): "연동 노형동 이도동 일도동 삼도동 건입동 용담동 아라동 한림읍 애월읍 조천읍 구좌읍",
}
KNOWN_ROADS = {
    ("서울특별시", "중구"): "세종대로 을지로 퇴계로 남대문로 청계천로 소공로 명동길 다산로",
    ("서울특별시", "종로구"): "세종대로 종로 율곡로 사직로 자하문로 대학로 삼일대로 창경궁로",
    ("서울특별시", "강남구"): "테헤란로 강남대로 도산대로 봉은사로 영동대로 언주로 선릉로 논현로 삼성로 학동로",
    ("서울특별시", "서초구"): "반포대로 서초대로 강남대로 효령로 사평대로 양재대로",
    ("서울특별시", "송파구"): "올림픽로 송파대로 백제고분로 오금로 위례성대로 양재대로",
    ("서울특별시", "영등포구"): "여의대로 국제금융로 의사당대로 영중로 당산로 선유로",
    ("서울특별시", "용산구"): "한강대로 이태원로 녹사평대로 서빙고로 후암로",
    ("서울특별시", "마포구"): "월드컵로 양화로 마포대로 독막로 와우산로",
    ("부산광역시", "연제구"): "중앙대로 월드컵대로 과정로 연제로",
    ("부산광역시", "해운대구"): "해운대로 센텀중앙로 달맞이길 해운대해변로",
    ("대구광역시", "중구"): "공평로 동성로 국채보상로 달구벌대로 중앙대로",
    ("인천광역시", "중구"): "공항로 영종대로 제물량로 신포로",
    ("인천광역시", "남동구"): "정각로 인하로 남동대로 예술로",
    ("광주광역시", "서구"): "내방로 상무대로 무진대로 상무중앙로",
    ("대전광역시", "서구"): "둔산로 대덕대로 한밭대로 계룡로",
    ("울산광역시", "남구"): "중앙로 삼산로 문수로 번영로",
    ("세종특별자치시", ""): "한누리대로 도움로 갈매로 다솜로 노을로 조치원로",
    ("경기도", "수원시 영통구"): "도청로 광교중앙로 월드컵로 매영로",
    ("제주특별자치도", "제주시"): "문연로 연삼로 노형로 중앙로 동광로",
}
ROAD_OVERRIDES_EN = {"올림픽로": "Olympic-ro", "테헤란로": "Teheran-ro", "월드컵로": "World Cup-ro",
                     "월드컵대로": "World Cup-daero", "센텀중앙로": "Centum jungang-ro"}

DONG_STEMS = ("중앙 신흥 대신 명륜 신촌 송정 화정 용두 신평 남산 북문 동문 서문 효자 신안 문화 교동 "
              "평화 봉명 청룡 신정 수정 덕천 백운 장안 만덕 구암 신월 상동 하동 용정 금곡 석남 "
              "옥산 두정 산성 학산 연화 보문 성내 월곡 운암 신기 대명 내동 오정 도원 송림 회룡").split()
RI_STEMS = ("신기 내동 송정 용강 상촌 하촌 대곡 원당 덕산 도평 장평 구산 월산 석교 신평 오산 "
            "지동 평촌 학동 죽전 고성 매곡 사기 금천 용암 봉산 화산 도림").split()
ROAD_STEMS = ("중앙 시청 문화 번영 평화 희망 새마을 대학 공원 역전 시장 신흥 충효 효자 동산 솔밭 "
              "은행 매화 벚꽃 소나무 푸른 하늘 한마음 꽃동산 무궁화 느티 산업 강변 호수 통일 "
              "광장 향교 청춘 구름 별빛 달빛 햇살 버들 샘골 장터").split()
BUILDING_KINDS = ("빌딩 타워 프라자 상가 오피스텔 아파트 빌라 주택 센터 초등학교 중학교 우체국 "
                  "보건소 도서관 문화센터 주민센터").split()

PER_SIGUNGU = 78   # addresses generated per sigungu (plus more for the capital, below)
PER_SEOUL_GU = 120


# Real landmarks: road address parts, jibun number, zip, building, lat, lng (published values).
LANDMARKS = [
    ("서울특별시", "중구", "태평로1가", "세종대로", "110", "31", "04524", "서울특별시청", 37.5663, 126.9779),
    ("서울특별시", "종로구", "세종로", "세종대로", "209", "77-6", "03171", "정부서울청사", 37.5752, 126.9754),
    ("서울특별시", "종로구", "세종로", "사직로", "161", "1-1", "03045", "경복궁", 37.5796, 126.9770),
    ("서울특별시", "영등포구", "여의도동", "의사당대로", "1", "1", "07233", "국회의사당", 37.5319, 126.9146),
    ("서울특별시", "송파구", "신천동", "올림픽로", "300", "29", "05551", "롯데월드타워", 37.5126, 127.1025),
    ("서울특별시", "강남구", "삼성동", "영동대로", "513", "159", "06164", "코엑스", 37.5116, 127.0594),
    ("부산광역시", "연제구", "연산동", "중앙대로", "1001", "1000", "47545", "부산광역시청", 35.1798, 129.0750),
    ("대구광역시", "중구", "동인동1가", "공평로", "88", "2-1", "41911", "대구광역시청", 35.8714, 128.6014),
    ("인천광역시", "남동구", "구월동", "정각로", "29", "1138", "21554", "인천광역시청", 37.4563, 126.7052),
    ("광주광역시", "서구", "치평동", "내방로", "111", "1200", "61945", "광주광역시청", 35.1601, 126.8514),
    ("대전광역시", "서구", "둔산동", "둔산로", "100", "1420", "35242", "대전광역시청", 36.3504, 127.3845),
    ("울산광역시", "남구", "신정동", "중앙로", "201", "646-4", "44675", "울산광역시청", 35.5396, 129.3115),
    ("제주특별자치도", "제주시", "연동", "문연로", "6", "312-1", "63122", "제주특별자치도청", 33.4890, 126.4983),
]


# Where a sigungu lies, when a random point inside its sido would be too far off.
SIGUNGU_CENTERS = {
    ("경상북도", "울릉군"): (37.49, 130.88),
    ("인천광역시", "옹진군"): (37.45, 126.40),
    ("인천광역시", "강화군"): (37.70, 126.47),
    ("제주특별자치도", "서귀포시"): (33.27, 126.56),
    ("제주특별자치도", "제주시"): (33.49, 126.52),
    ("대구광역시", "군위군"): (36.15, 128.62),
}


def english_road(road):
    return ROAD_OVERRIDES_EN.get(road) or road_english(road)


def english_sigungu(sigungu):
    """'수원시 팔달구' -> 'Paldal-gu, Suwon-si' (smallest unit first, as English addresses go)."""
    return ", ".join(area_english(part) for part in reversed(sigungu.split()))


def address_id(road_addr):
    """Opaque and stable: derived from the road address, which is unique by construction."""
    return "a" + hashlib.sha256(road_addr.encode("utf-8")).hexdigest()[:15]


def join_words(*parts):
    return " ".join(part for part in parts if part)


def expand(data, record):
    """One record of the data file as a full address; app.js expands records the same way."""
    rec_id, dong_index, road_index, number, jibun, ri_index, zip_code, building, lat, lng = record
    sigungu_index, dong, dong_en, admin_code = data["dongs"][dong_index]
    sido_index, sigungu, sigungu_en = data["sigungu"][sigungu_index]
    sido, sido_en = data["sido"][sido_index]
    road, road_en = data["roads"][road_index]
    ri = data["ri"][ri_index] if ri_index >= 0 else ""
    english = ", ".join(p for p in (f"{number} {road_en}", dong_en, sigungu_en, sido_en) if p)
    return {
        "id": rec_id,
        "road_address": join_words(sido, sigungu, road, number),
        "jibun_address": join_words(sido, sigungu, dong, ri, jibun),
        "english_address": english,
        "zip": zip_code,
        "building": building,
        "sido": sido,
        "sigungu": sigungu,
        "eupmyeondong": dong,
        "lat": lat,
        "lng": lng,
        "admin_code": admin_code,
    }


class Tables:
    """Lookup tables of the data file: each distinct string is stored once."""

    def __init__(self):
        self.sido, self.sigungu, self.dongs, self.roads, self.ri = [], [], [], [], []
        self._road_index, self._ri_index = {}, {}

    def road(self, name):
        if name not in self._road_index:
            self._road_index[name] = len(self.roads)
            self.roads.append([name, english_road(name)])
        return self._road_index[name]

    def ri_name(self, name):
        if name not in self._ri_index:
            self._ri_index[name] = len(self.ri)
            self.ri.append(name)
        return self._ri_index[name]


def sigungu_stem(sigungu):
    last = sigungu.split()[-1]
    return last[:-1] if len(last) > 2 else last


def make_dong_names(rng, sido, sigungu):
    known = KNOWN_DONGS.get((sido, sigungu))
    if known:
        return known.split()
    stems = rng.sample(DONG_STEMS, 12)
    kind = sigungu.split()[-1][-1] if sigungu else "시"
    if kind == "구":
        names = [f"{stem}동" for stem in stems[:rng.randint(7, 10)]]
        # Large dongs are split into numbered administrative dongs, as 역삼1동 and 역삼2동.
        return [f"{names[0][:-1]}1동", f"{names[0][:-1]}2동"] + names[1:]
    if kind == "군":
        return [f"{sigungu_stem(sigungu)}읍"] + [f"{stem}면" for stem in stems[:rng.randint(5, 8)]]
    return ([f"{stem}동" for stem in stems[:rng.randint(5, 7)]]
            + [f"{stems[8]}읍"] + [f"{stem}면" for stem in stems[9:12]])


def make_road_names(rng, sido, sigungu):
    roads = (KNOWN_ROADS.get((sido, sigungu)) or "").split()
    for stem in rng.sample(ROAD_STEMS, 9):
        roads.append(stem + rng.choice(("로", "로", "로", "길", "대로")))
    side_roads = []
    for main in rng.sample(roads, 4):
        if main.endswith("로"):
            for number in sorted(rng.sample(range(2, 60), 2)):
                side_roads.append(f"{main}{number}번길")
        else:
            side_roads.append(f"{main[:-1]}{rng.randint(1, 9)}길")
    return list(dict.fromkeys(roads + side_roads))


def building_number(rng):
    main = rng.randint(1, 420)
    return f"{main}-{rng.randint(1, 30)}" if rng.random() < 0.15 else str(main)


def jibun_number(rng, rural):
    main = rng.randint(1, 1500 if rural else 900)
    number = f"{main}-{rng.randint(1, 40)}" if rng.random() < 0.35 else str(main)
    return f"산 {number}" if rural and rng.random() < 0.05 else number


def road_stem(road):
    """'효자대로' -> '효자', '중앙로12번길' -> '중앙', '문화1길' -> '문화'."""
    stem = road.split("번길")[0].rstrip("0123456789")
    for suffix in ("대로", "로", "길"):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)].rstrip("0123456789")
    return stem


def sort_key(number):
    main, _, sub = number.partition("-")
    return int(main), int(sub or 0)


def zip_blocks(sido_name, zip_range, sigungu_names):
    """First zip of each sigungu and the size of its block."""
    if sido_name == "서울특별시":
        return [(SEOUL_CODES[name][1] * 1000 // 10, 200) for name in sigungu_names]
    first, last = zip_range
    size = (last - first + 1) * 1000 // len(sigungu_names)
    return [(first * 1000 + i * size, size) for i in range(len(sigungu_names))]


def generate():
    rng = random.Random(SEED)
    tables = Tables()
    records = []
    landmarks_by_sigungu = {}
    for landmark in LANDMARKS:
        landmarks_by_sigungu.setdefault((landmark[0], landmark[1]), []).append(landmark)

    for sido_index, (sido, sido_en, sido_code, zip_range, lat_range, lng_range) in enumerate(SIDO):
        tables.sido.append([sido, sido_en])
        sigungu_names = [name.replace("+", " ") for name in SIGUNGU[sido].split()] or [""]
        blocks = zip_blocks(sido, zip_range, sigungu_names)
        for position, sigungu in enumerate(sigungu_names):
            sigungu_index = len(tables.sigungu)
            tables.sigungu.append([sido_index, sigungu, english_sigungu(sigungu)])
            if sido == "서울특별시":
                sigungu_code = SEOUL_CODES[sigungu][0]
            else:
                sigungu_code = f"{sido_code}{110 + 20 * position:03d}"

            dong_indexes = {}
            eup_count = myeon_count = 0
            for offset, dong in enumerate(make_dong_names(rng, sido, sigungu)):
                if dong.endswith("읍"):
                    eup_count += 1
                    code, dong_en = f"{250 + eup_count:03d}", area_english(dong)
                elif dong.endswith("면"):
                    myeon_count += 1
                    code, dong_en = f"{300 + 10 * myeon_count:03d}", area_english(dong)
                else:
                    code, dong_en = f"{101 + offset:03d}", ""
                dong_indexes[dong] = len(tables.dongs)
                tables.dongs.append([sigungu_index, dong, dong_en, f"{sigungu_code}{code}00"])
            dong_names = list(dong_indexes)
            ri_names = {dong: [tables.ri_name(f"{stem}리") for stem in rng.sample(RI_STEMS, 4)]
                        for dong in dong_names if dong.endswith(("읍", "면"))}

            road_names = make_road_names(rng, sido, sigungu)
            # Known major roads carry more buildings than the side streets.
            known_roads = (KNOWN_ROADS.get((sido, sigungu)) or "").split()
            road_weights = [8 if road in known_roads else 1 for road in road_names]
            if (sido, sigungu) in SIGUNGU_CENTERS:
                center = SIGUNGU_CENTERS[(sido, sigungu)]
            elif (sido, sigungu) in landmarks_by_sigungu:
                center = landmarks_by_sigungu[(sido, sigungu)][0][8:10]
            else:
                center = (rng.uniform(lat_range[0] + 0.03, lat_range[1] - 0.03),
                          rng.uniform(lng_range[0] + 0.03, lng_range[1] - 0.03))
            spread = 0.015 if sido_code in ("11", "26", "27", "28", "29", "30", "31") else 0.03

            block_start, block_size = blocks[position]
            zips = {}  # (dong, road) -> zip: one zip per street segment of a dong
            taken = set()

            for landmark in landmarks_by_sigungu.get((sido, sigungu), []):
                _, _, dong, road, number, jibun, zip_code, building, lat, lng = landmark
                zips[(dong, road)] = zip_code
                taken.add((road, number))
                records.append(make_record(tables, sido, sigungu, dong_indexes[dong], dong, road,
                                           number, jibun, -1, zip_code, building, lat, lng))

            count = PER_SEOUL_GU if sido == "서울특별시" else PER_SIGUNGU
            if not sigungu:
                count *= 3  # Sejong has no sigungu level: one city for the whole sido
            centers_named = set()
            while count > 0:
                dong = rng.choice(dong_names)
                road = rng.choices(road_names, road_weights)[0]
                number = building_number(rng)
                if (road, number) in taken:
                    continue
                taken.add((road, number))
                count -= 1
                if (dong, road) not in zips:
                    zips[(dong, road)] = f"{block_start + len(zips) % block_size:05d}"
                rural = dong.endswith(("읍", "면"))
                ri_index = rng.choice(ri_names[dong]) if rural else -1
                if dong not in centers_named:
                    centers_named.add(dong)
                    building = f"{dong} 행정복지센터"
                elif rng.random() < 0.35:
                    stem = rng.choice((dong.rstrip("0123456789동읍면가"), road_stem(road)))
                    building = stem + rng.choice(BUILDING_KINDS)
                else:
                    building = ""
                lat = min(max(center[0] + rng.uniform(-spread, spread), lat_range[0]), lat_range[1])
                lng = min(max(center[1] + rng.uniform(-spread, spread), lng_range[0]), lng_range[1])
                if (sido, sigungu) in SIGUNGU_CENTERS:
                    lat, lng = center[0] + rng.uniform(-0.02, 0.02), center[1] + rng.uniform(-0.02, 0.02)
                records.append(make_record(tables, sido, sigungu, dong_indexes[dong], dong, road,
                                           number, jibun_number(rng, rural), ri_index,
                                           zips[(dong, road)], building, lat, lng))

    records.sort(key=lambda r: (r[0], r[1], sort_key(r[2])))
    rows = [row for *_, row in records]
    ids = [row[0] for row in rows]
    if len(set(ids)) != len(ids):
        raise RuntimeError("address ids are not unique")
    return {
        "version": FORMAT_VERSION,
        "sido": tables.sido,
        "sigungu": tables.sigungu,
        "dongs": tables.dongs,
        "roads": tables.roads,
        "ri": tables.ri,
        "fields": ["id", "dong", "road", "number", "jibun", "ri", "zip", "building", "lat", "lng"],
        "records": rows,
    }


def make_record(tables, sido, sigungu, dong_index, dong, road, number, jibun, ri_index,
                zip_code, building, lat, lng):
    """(sort key parts..., row): rows sort by sido order, sigungu order, road, building number."""
    road_index = tables.road(road)
    rec_id = address_id(join_words(sido, sigungu, road, number))
    sigungu_index = tables.dongs[dong_index][0]
    row = [rec_id, dong_index, road_index, number, jibun, ri_index, zip_code, building,
           round(lat, 6), round(lng, 6)]
    return (sigungu_index, road, number, row)


def render(data):
    """The data file: a script that assigns one global, so it loads from file:// as well."""
    head = {key: value for key, value in data.items() if key != "records"}
    dump = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # noqa: E731
    lines = ["// Generated by demo_site/generate.py; do not edit by hand.",
             f"window.{GLOBAL_NAME} = {dump(head)[:-1]},\"records\":["]
    lines.append(",\n".join(dump(row) for row in data["records"]))
    lines.append("]};")
    return "\n".join(lines) + "\n"


def load(path=DATA_PATH):
    """Read a data file back (for tests and tools)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    prefix = f"window.{GLOBAL_NAME} = "
    body = text[text.index(prefix) + len(prefix):].rstrip().rstrip(";")
    return json.loads(body)


def main(argv):
    text = render(generate())
    if "--check" in argv:
        with open(DATA_PATH, encoding="utf-8") as handle:
            stale = handle.read() != text
        print("stale" if stale else "up to date")
        return 1 if stale else 0
    os.makedirs(os.path.dirname(DATA_PATH), exist_ok=True)
    with open(DATA_PATH, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    print(f"wrote {DATA_PATH}: {len(text.encode('utf-8'))} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
