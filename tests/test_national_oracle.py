"""The oracle (tests/support/national_data.py) itself, on known facts of the national data; no browser."""
import random

import numpy as np
import pytest

from tests.support.national_data import (ADDRESSES, LINES, QUERY_KINDS, Query, Row, address_id, id_position,
                                         landmarks, load, match_rank, parse_query, random_queries)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def national():
    return load()


def rows_of(national, q):
    total, positions = national.search(q)
    return total, [national.row(p) for p in positions]


def test_every_line_read_and_repeats_dropped(national):
    assert national.lines == LINES
    assert national.count == ADDRESSES


def test_current_names_replace_old_ones(national):
    sidos = {sido for sido, _ in national.areas}
    assert len(sidos) == 17
    assert {"강원도", "전라북도"}.isdisjoint(sidos) and {"강원특별자치도", "전북특별자치도"} <= sidos
    assert ("경상북도", "군위군") not in national.areas and ("대구광역시", "군위군") in national.areas
    assert [a for a in national.areas if a[0] == "세종특별자치시"] == [("세종특별자치시", "")]


def test_ids_follow_the_order(national):
    assert [address_id(p) for p in (0, 35, 36, 36 ** 2 + 1)] == ["k0", "kz", "k10", "k101"]
    assert all(id_position(address_id(p)) == p for p in (0, 1, 12345, national.count - 1))
    # Strictly increasing (road, sido, sigungu, main, sub, 읍면동/리, zip) from each address to
    # the next, so the order (and every id) is fully determined. Area and dong codes are ranks
    # of their sorted names, so comparing codes compares names by code point.
    keys = [national.road, national.area, national.main, national.sub, national.dong, national.zip]
    before = np.zeros(national.count - 1, dtype=bool)
    same = np.ones(national.count - 1, dtype=bool)
    for column in keys:
        before |= same & (column[:-1] < column[1:])
        same &= column[:-1] == column[1:]
    assert before.all()
    rng = random.Random(7)
    for position in rng.sample(range(national.count - 1), 200):
        assert national.row(position).order_key() < national.row(position + 1).order_key()


def test_zip_finds_seoul_city_hall(national):
    total, rows = rows_of(national, "04524")
    assert total == 1
    assert rows[0].road_address() == "서울특별시 중구 세종대로 110"
    assert rows[0].eupmyeondong == "태평로1가"
    position = national.search("04524")[1][0]
    assert national.address(position) == {       # a landmark: building and lot number added
        "id": address_id(position), "road_address": "서울특별시 중구 세종대로 110",
        "jibun_address": "서울특별시 중구 태평로1가 31", "english_address": "110 Sejong-daero, Jung-gu, Seoul",
        "zip": "04524", "building": "서울특별시청", "sido": "서울특별시", "sigungu": "중구",
        "eupmyeondong": "태평로1가"}
    assert national.detail(position)["lat"] == 37.5663


def test_landmarks_are_real_rows(national):
    assert len(landmarks()) == 13
    for row in landmarks():
        assert national.position_of(row) is not None, row


def test_teheran_ro_152(national):
    total, rows = rows_of(national, "테헤란로 152")
    assert total == 1
    assert (rows[0].zip, rows[0].sido, rows[0].sigungu, rows[0].eupmyeondong) == (
        "06236", "서울특별시", "강남구", "역삼동")
    position = national.search("테헤란로 152")[1][0]
    assert national.detail(position) == {
        "id": address_id(position), "road_address": "서울특별시 강남구 테헤란로 152", "jibun_address": "",
        "english_address": "152 Teheran-ro, Gangnam-gu, Seoul", "zip": "06236", "building": "",
        "sido": "서울특별시", "sigungu": "강남구", "eupmyeondong": "역삼동",
        "lat": None, "lng": None, "admin_code": None}
    assert rows_of(national, "서울 강남구 테헤란로 152")[1] == rows


def test_gangwon_by_old_and_short_names(national):
    gangwon = national.area_rows("강원특별자치도")
    for word in ("강원도", "강원", "강원특별자치도"):
        total, positions = national.search(word)
        found = set(positions.tolist())
        assert gangwon <= found, word
        others = [national.row(p) for p in found - gangwon]
        assert all(row.road.startswith(word) and row.road != word for row in others), word
    total, rows = rows_of(national, "강원도 춘천시 중앙로")
    assert total > 100
    assert all(r.sido == "강원특별자치도" and r.sigungu == "춘천시" and r.road.startswith("중앙로")
               for r in rows)
    assert rows[0].road_address() == "강원특별자치도 춘천시 중앙로 1"
    assert rows_of(national, "전라북도 전주시")[0] == rows_of(national, "전북 전주시")[0] > 10000


def test_gunwi_is_in_daegu_and_found_by_gyeongbuk(national):
    gunwi = national.area_rows("대구광역시", "군위군")
    for q in ("경상북도 군위군", "경북 군위군", "대구 군위군", "대구광역시 군위군", "군위군"):
        total, positions = national.search(q)
        assert set(positions.tolist()) == gunwi, q
    assert len(gunwi) > 10000
    row = national.row(min(gunwi))
    assert row.road_address().startswith("대구광역시 군위군 ")
    # 경북 finds 군위군 and all of 경상북도, but not the rest of 대구.
    found = set(national.search("경북")[1].tolist())
    assert gunwi <= found and national.area_rows("경상북도") <= found
    assert found.isdisjoint(national.area_rows("대구광역시", "중구"))


def test_road_address_with_eupmyeon(national):
    total, rows = rows_of(national, "전라남도 영광군 육창로 442-24")
    assert total == 1
    row = rows[0]
    assert row.road_address() == "전라남도 영광군 군남면 육창로 442-24"
    assert row.eupmyeondong == "군남면 남창리"
    assert row.english_address() == "442-24 Yukchang-ro, Gunnam-myeon, Yeonggwang-gun, Jeollanam-do"
    assert rows_of(national, "남창리 442-24")[1] == [row]
    assert rows_of(national, "군남면 육창로 442-24")[1] == [row]


def test_sejong_has_no_sigungu(national):
    sejong = [national.row(p) for p in sorted(national.area_rows("세종특별자치시"))[:2000:50]]
    for row in sejong:
        assert row.sigungu == ""
        expected = " ".join(p for p in ("세종특별자치시", row.eupmyeon, row.road, row.number) if p)
        assert row.road_address() == expected
        assert row.english_address().endswith(", Sejong-si")


def test_exact_road_and_number_come_first(national):
    total, rows = rows_of(national, "세종대로 7")
    assert [(r.road, r.number) for r in rows] == [
        ("세종대로", "7"),                                           # exact
        ("세종대로", "7-1"), ("세종대로1길", "7"), ("세종대로23길", "7"),  # then by road, number ...
        ("세종대로4길", "7"), ("세종대로7길", "7-1")]
    assert [match_rank(parse_query("세종대로 7"), r) for r in rows] == [0, 1, 1, 1, 1, 1]
    total, rows = rows_of(national, "종로 33")
    exact = [r for r in rows if (r.road, r.number) == ("종로", "33")]
    assert rows[:len(exact)] == exact == sorted(exact, key=Row.order_key) and len(exact) == 3
    assert [r.order_key() for r in rows[3:]] == sorted(r.order_key() for r in rows[3:])


def test_prefix_search_for_typing(national):
    total, rows = rows_of(national, "세종대")
    roads = {row.road for row in rows}
    assert "세종대로" in roads and len(roads) > 10
    assert all(road.startswith("세종대") for road in roads)
    assert rows_of(national, "세")[0] == 0     # one character is no prefix
    assert [r.road for r in rows] == sorted(r.road for r in rows)   # all loose: road name order


def test_english_road_names(national):
    assert rows_of(national, "Sejong-daero 110")[1][0].road_address() == "서울특별시 중구 세종대로 110"
    for spelling in ("sejong-daero 110", "SEJONG DAERO 110", "sejongdaero 110"):
        assert rows_of(national, spelling)[0] == rows_of(national, "Sejong-daero 110")[0]
    total, rows = rows_of(national, "teheran-ro 4-gil")
    assert total > 0 and {r.road for r in rows} == {"테헤란로4길"}
    total4, rows4 = rows_of(national, "teheran-ro4")     # a prefix: 테헤란로4길, 테헤란로40길, ...
    assert total4 > total and {"테헤란로4길", "테헤란로43길"} <= {r.road for r in rows4}


def test_parse_query(national):
    areas = national.english_areas
    assert parse_query("서울, 중구(태평로1가) 세종대로 110") == Query(
        ("서울", "중구", "태평로1가", "세종대로"), (), ("110",))
    assert parse_query("teheran-ro 4-gil 12 Seoul", areas) == Query((), ("teheranro4gil",), ("12",), ("seoul",))
    assert parse_query("teheran-ro 4-gil 12 Seoul") == Query((), ("teheranro4gil", "seoul"), ("12",))
    assert parse_query("teheran ro 4 gil", areas) == Query((), ("teheranro", "gil"), ("4",))
    assert parse_query("110 Sejong-daero, Jung-gu, Seoul", areas) == Query(
        (), ("sejongdaero",), ("110",), ("seoul", "junggu"))
    assert parse_query("Haeundae-gu Busan", areas).areas == ("busan", "haeundaegu")   # not daegu
    assert parse_query("Sejong", areas) == Query((), (), (), ("sejong",))
    assert parse_query("세종대로110 테헤란로152-1") == Query(("세종대로", "테헤란로"), (), ("110", "152-1"))
    assert parse_query("세종대로23길 4.19로 태평로1가") == Query(("세종대로23길", "4.19로", "태평로1가"), (), ())
    assert parse_query("APEC로 1") == Query(("APEC로",), (), ("1",))
    assert not parse_query("110 12-3").finds_anything
    assert parse_query("04524").finds_anything and not parse_query("0452").finds_anything


def test_a_number_glued_to_a_road_name_is_its_building_number(national):
    assert rows_of(national, "세종대로110") == rows_of(national, "세종대로 110")
    assert rows_of(national, "테헤란로152")[1][0].road_address() == "서울특별시 강남구 테헤란로 152"
    total, rows = rows_of(national, "세종대로23길")      # digits inside a road name stay in it
    assert total > 0 and {r.road for r in rows} == {"세종대로23길"}
    roads = [r.road for r in rows_of(national, "4.19로")[1]]
    assert roads[0] == "4.19로" and all(road.startswith("4.19로") for road in roads)


def test_english_addresses_and_area_names(national):
    city_hall = rows_of(national, "110 Sejong-daero, Jung-gu, Seoul")
    assert [r.road_address() for r in city_hall[1]] == ["서울특별시 중구 세종대로 110"]
    for spelling in ("110 sejong-daero jung-gu seoul", "110 Sejong-daero, Jung-gu, Seoul 04524",
                     "110 SEJONG-DAERO, JUNG-GU, SEOUL", "110 Sejong-daero, 중구, 서울특별시"):
        assert rows_of(national, spelling) == city_hall, spelling
    # An area name finds its area first, then (as 서울 finds 서울대학로) the roads it starts.
    for names, area in ((("Seoul",), national.area_rows("서울특별시")),
                        (("Sejong", "Sejong-si"), national.area_rows("세종특별자치시")),
                        (("Gyeonggi-do", "Gyeonggi"), national.area_rows("경기도")),
                        (("Gyeongsangbuk-do",), national.area_rows("경상북도") | national.area_rows("대구광역시", "군위군")),
                        (("Gwangju-si",), national.area_rows("경기도", "광주시"))):
        for name in names:
            total, positions = national.search(name)
            assert set(positions[:len(area)].tolist()) == area, name
            key = name.lower().replace("-", "")
            assert all(national.english_roads[national.road[p]].startswith(key) for p in positions[len(area):]), name
    assert national.search("Seoul")[0] == len(national.area_rows("서울특별시")) + 60    # 서울대학로 of 시흥시
    total, rows = rows_of(national, "Gunnam-myeon")
    assert total > 0 and {r.eupmyeon for r in rows} == {"군남면"}
    # An English name that ends in no area name is a road name, as before.
    roads = [r.road for r in rows_of(national, "Seouldaehak-ro")[1]]
    assert roads[0] == "서울대학로" and all(road.startswith("서울대학로") for road in roads)


def test_numbers_alone_find_nothing_but_a_five_digit_one_does(national):
    assert national.search("110 12")[0] == 0
    assert national.search("110-1")[0] == 0
    total, rows = rows_of(national, "20316")   # a zip? no: a building number of 5 digits
    assert total >= 1 and all(r.zip == "20316" or r.main == 20316 for r in rows)
    assert national.search("0110 세종대로")[0] == 0   # numbers compare as written


def test_dong_parts_split_like_a_query(national):
    total, rows = rows_of(national, "평사리")
    dongs = {row.eupmyeondong for row in rows}
    assert {"진량읍 평사리(平沙)", "진량읍 평사리(坪沙)"} <= dongs
    assert rows_of(national, "平沙")[0] == sum(r.eupmyeondong == "진량읍 평사리(平沙)" for r in rows)


def test_fast_search_equals_the_plain_rules(national, seed=1):
    """NationalData.search (numpy) and match_rank (one row, plain Python) agree: on every row of
    the roads the queries came from, and on random rows of 세종 and of the whole country."""
    rng = random.Random(seed)
    sejong = sorted(national.area_rows("세종특별자치시"))
    sample = set(rng.sample(sejong, 2000)) | set(rng.sample(range(national.count), 10000))
    sample = {p: national.row(p) for p in sample}
    queries = random_queries(national, seed, 3 * len(QUERY_KINDS))
    for kind, q, source in queries:
        road = national.road_rows(national.row(source).road)
        rows = {**sample, **{p: national.row(p) for p in road}}
        total, positions = national.search(q)
        rank = {int(p): i for i, p in enumerate(positions)}
        query = parse_query(q, national.english_areas)
        expected = {p: match_rank(query, row) for p, row in rows.items()}
        expected = {p: r for p, r in expected.items() if r is not None}
        assert source in rank, (kind, q)
        assert set(rank).intersection(rows) == set(expected), (kind, q)
        order = sorted(expected, key=lambda p: (expected[p], p))
        assert sorted(expected, key=rank.get) == order, (kind, q)


def test_random_queries_are_reproducible(national):
    assert random_queries(national, 5, 30) == random_queries(national, 5, 30)
    assert {kind for kind, _, _ in random_queries(national, 5, 30)} == set(QUERY_KINDS)
    assert all(2 <= len(q) <= 80 for _, q, _ in random_queries(national, 6, 200))


def test_row_helpers():
    row = Row("57020", "전라남도", "영광군", "육창로", "442-24", "군남면 남창리")
    assert (row.main, row.sub, row.eupmyeon) == (442, 24, "군남면")
    city = Row("04524", "서울특별시", "중구", "세종대로", "110", "태평로1가")
    assert (city.main, city.sub, city.eupmyeon) == (110, 0, "")
