"""The demo site's data file: reproducible from its generator, large, and right where it is real."""
import collections
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_DIR = os.path.join(ROOT, "demo_site")
sys.path.insert(0, DEMO_DIR)

import generate  # noqa: E402

# Autonomous si/gun/gu per sido (the first word of the sigungu); Sejong has none.
SIGUNGU_COUNTS = {
    "서울특별시": 25, "부산광역시": 16, "대구광역시": 9, "인천광역시": 10, "광주광역시": 5,
    "대전광역시": 5, "울산광역시": 5, "세종특별자치시": 0, "경기도": 31, "강원특별자치도": 18,
    "충청북도": 11, "충청남도": 15, "전북특별자치도": 14, "전라남도": 22, "경상북도": 22,
    "경상남도": 18, "제주특별자치도": 2,
}
# Loose boxes (lat_min, lat_max, lng_min, lng_max) around each sido, islands included.
SIDO_BOXES = {
    "서울특별시": (37.41, 37.72, 126.76, 127.19), "부산광역시": (34.98, 35.40, 128.75, 129.32),
    "대구광역시": (35.60, 36.30, 128.30, 128.95), "인천광역시": (37.00, 37.85, 124.60, 126.85),
    "광주광역시": (35.05, 35.27, 126.64, 127.02), "대전광역시": (36.18, 36.50, 127.24, 127.56),
    "울산광역시": (35.32, 35.73, 128.95, 129.47), "세종특별자치시": (36.40, 36.74, 127.13, 127.41),
    "경기도": (36.89, 38.30, 126.35, 127.86), "강원특별자치도": (37.02, 38.62, 127.08, 129.37),
    "충청북도": (35.98, 37.27, 127.26, 128.66), "충청남도": (35.97, 37.07, 125.97, 127.65),
    "전북특별자치도": (35.28, 36.16, 125.98, 127.91), "전라남도": (33.85, 35.50, 125.00, 127.91),
    "경상북도": (35.56, 37.56, 127.79, 131.00), "경상남도": (34.45, 35.92, 127.55, 129.24),
    "제주특별자치도": (33.10, 33.60, 126.10, 127.00),
}
SIDO_CODES = {"서울특별시": "11", "부산광역시": "26", "대구광역시": "27", "인천광역시": "28",
              "광주광역시": "29", "대전광역시": "30", "울산광역시": "31", "세종특별자치시": "36",
              "경기도": "41", "강원특별자치도": "51", "충청북도": "43", "충청남도": "44",
              "전북특별자치도": "52", "전라남도": "46", "경상북도": "47", "경상남도": "48",
              "제주특별자치도": "50"}
# Published addresses of well-known buildings.
LANDMARKS = {
    "서울특별시청": ("서울특별시 중구 세종대로 110", "04524", "서울특별시 중구 태평로1가 31",
                "110 Sejong-daero, Jung-gu, Seoul", 37.5663, 126.9779),
    "부산광역시청": ("부산광역시 연제구 중앙대로 1001", "47545", "부산광역시 연제구 연산동 1000",
                "1001 Jungang-daero, Yeonje-gu, Busan", 35.1798, 129.0750),
    "정부서울청사": ("서울특별시 종로구 세종대로 209", "03171", None, None, 37.5752, 126.9754),
    "국회의사당": ("서울특별시 영등포구 의사당대로 1", "07233", None, None, 37.5319, 126.9146),
    "롯데월드타워": ("서울특별시 송파구 올림픽로 300", "05551", None, None, 37.5126, 127.1025),
    "대전광역시청": ("대전광역시 서구 둔산로 100", "35242", None, None, 36.3504, 127.3845),
    "제주특별자치도청": ("제주특별자치도 제주시 문연로 6", "63122", None, None, 33.4890, 126.4983),
}


@pytest.fixture(scope="module")
def addresses():
    data = generate.load()
    return [generate.expand(data, record) for record in data["records"]]


def run_generator(*args, hash_seed):
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
    return subprocess.run([sys.executable, os.path.join(DEMO_DIR, "generate.py"), *args],
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_committed_file_is_what_the_generator_writes():
    # Two interpreters with different hash seeds: no set or dict ordering leaks into the output.
    for hash_seed in (1, 2):
        result = run_generator("--check", hash_seed=hash_seed)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == "up to date"


@pytest.mark.slow
def test_render_is_byte_for_byte_stable():
    with open(generate.DATA_PATH, encoding="utf-8", newline="") as handle:
        committed = handle.read()
    assert generate.render(generate.generate()) == committed
    assert generate.render(generate.generate()) == committed


def test_data_file_is_small_enough_to_commit():
    assert os.path.getsize(generate.DATA_PATH) < 6 * 1024 * 1024


def test_size_and_sido(addresses):
    assert len(addresses) >= 20_000
    by_sido = collections.Counter(address["sido"] for address in addresses)
    assert set(by_sido) == set(SIGUNGU_COUNTS)
    assert min(by_sido.values()) >= 100


def test_real_sigungu_lists(addresses):
    first_words = collections.defaultdict(set)
    for address in addresses:
        if address["sigungu"]:
            first_words[address["sido"]].add(address["sigungu"].split()[0])
    assert {sido: len(first_words[sido]) for sido in SIGUNGU_COUNTS} == SIGUNGU_COUNTS
    assert {"강남구", "종로구", "중구", "송파구"} <= first_words["서울특별시"]
    assert {"수원시", "고양시", "용인시", "연천군"} <= first_words["경기도"]
    assert "군위군" in first_words["대구광역시"] and "군위군" not in first_words["경상북도"]
    assert "울릉군" in first_words["경상북도"]
    sigungu = {(a["sido"], a["sigungu"]) for a in addresses}
    assert ("경기도", "수원시 팔달구") in sigungu and ("경상남도", "창원시 마산합포구") in sigungu


def test_landmarks(addresses):
    by_building = {address["building"]: address for address in addresses}
    for building, (road, zip_code, jibun, english, lat, lng) in LANDMARKS.items():
        address = by_building[building]
        assert address["road_address"] == road
        assert address["zip"] == zip_code
        if jibun:
            assert address["jibun_address"] == jibun
        if english:
            assert address["english_address"] == english
        assert (address["lat"], address["lng"]) == (lat, lng)
    city_hall = by_building["서울특별시청"]
    assert (city_hall["sido"], city_hall["sigungu"], city_hall["eupmyeondong"]) == \
        ("서울특별시", "중구", "태평로1가")


def test_fields(addresses):
    ids = [address["id"] for address in addresses]
    assert len(set(ids)) == len(ids)
    assert len({address["road_address"] for address in addresses}) == len(addresses)
    for address in addresses:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", address["id"])
        assert re.fullmatch(r"[0-9]{5}", address["zip"])
        assert re.fullmatch(r"[0-9]{10}", address["admin_code"])
        assert address["admin_code"][:2] == SIDO_CODES[address["sido"]]
        assert address["road_address"].startswith(f"{address['sido']} ")
        assert address["jibun_address"].startswith(f"{address['sido']} ")
        assert address["eupmyeondong"] in address["jibun_address"]
        assert address["english_address"].isascii() and re.match(r"[0-9-]+ [A-Z]", address["english_address"])
        lat_min, lat_max, lng_min, lng_max = SIDO_BOXES[address["sido"]]
        assert lat_min <= address["lat"] <= lat_max and lng_min <= address["lng"] <= lng_max, address


def test_zips_follow_their_area(addresses):
    prefixes = collections.defaultdict(set)
    zips_of_street = collections.defaultdict(set)
    for address in addresses:
        prefixes[address["sido"]].add(address["zip"][:2])
        street = address["road_address"].rsplit(" ", 1)[0]
        zips_of_street[(street, address["eupmyeondong"])].add(address["zip"])
    assert prefixes["서울특별시"] <= {f"{n:02d}" for n in range(1, 10)}
    assert prefixes["부산광역시"] <= {"46", "47", "48", "49"}
    assert prefixes["제주특별자치도"] == {"63"}
    assert prefixes["세종특별자치시"] == {"30"}
    # One zip for each street within one eupmyeondong.
    assert all(len(zips) == 1 for zips in zips_of_street.values())
    all_prefixes = [p for sido_prefixes in prefixes.values() for p in sido_prefixes]
    assert len(all_prefixes) == len(set(all_prefixes)), "two sido share a zip prefix"
