"""The demo source's parsers, without a browser: good answers and every malformed shape."""
import copy

import pytest

from scraper.errors import UpstreamError
from scraper.sources.demo import ADDRESS_KEYS, check_open, parse_detail, parse_search

# Real addresses as the page shows them: a landmark, and a Sejong address (no sigungu level) for
# which the data has no lot number, building name, coordinates or administrative code.
CITY_HALL = {
    "id": "k1wm84",
    "road_address": "서울특별시 중구 세종대로 110",
    "jibun_address": "서울특별시 중구 태평로1가 31",
    "english_address": "110 Sejong-daero, Jung-gu, Seoul",
    "zip": "04524",
    "building": "서울특별시청",
    "sido": "서울특별시",
    "sigungu": "중구",
    "eupmyeondong": "태평로1가",
}
SEJONG_HOUSE = dict(CITY_HALL, id="k3jexs", road_address="세종특별자치시 한누리대로 2130",
                    jibun_address="", english_address="2130 Hannuri-daero, Sejong-si",
                    zip="30151", building="", sido="세종특별자치시", sigungu="", eupmyeondong="보람동")


def search_raw(query="세종대로 110", page=1, per_page=10, items=None, **changes):
    raw = {"app": "demo", "kind": "search", "status": "ok", "seq": "7",
           "echo": {"query": query, "page": str(page), "per_page": str(per_page)},
           "total": "2", "elapsed_ms": "1.250", "message": "",
           "items": copy.deepcopy([CITY_HALL, SEJONG_HOUSE] if items is None else items)}
    raw.update(changes)
    return raw


def detail_raw(address_id=CITY_HALL["id"], **changes):
    # The page leaves out the admin_code it does not know (it knows none).
    item = dict(CITY_HALL, id=address_id, lat="37.5663", lng="126.9779")
    raw = {"app": "demo", "kind": "detail", "status": "ok", "seq": "8", "echo": {"id": address_id},
           "total": None, "elapsed_ms": "0.4", "message": "", "items": [item]}
    raw.update(changes)
    return raw


def test_search_good():
    parsed = parse_search(search_raw(), "세종대로 110", 1, 10)
    assert parsed["total"] == 2
    assert parsed["page_ms"] == 1.25
    assert parsed["results"] == [CITY_HALL, SEJONG_HOUSE]
    assert all(set(address) == set(ADDRESS_KEYS) for address in parsed["results"])


def test_search_empty_result():
    parsed = parse_search(search_raw("없는 주소", items=[], total="0"), "없는 주소", 1, 10)
    assert parsed == {"total": 0, "results": [], "page_ms": 1.25}


def test_search_page_past_the_end_keeps_total():
    parsed = parse_search(search_raw(page=5, items=[], total="12"), "세종대로 110", 5, 10)
    assert parsed["total"] == 12 and parsed["results"] == []


def test_search_ignores_extra_fields_and_trims_text():
    item = dict(CITY_HALL, lat="37.5", road_address="  서울특별시 중구 세종대로 110 ")
    parsed = parse_search(search_raw(items=[item], total="1"), "세종대로 110", 1, 10)
    assert parsed["results"] == [CITY_HALL]


def test_detail_good():
    parsed = parse_detail(detail_raw(), CITY_HALL["id"])
    assert parsed == dict(CITY_HALL, lat=37.5663, lng=126.9779, admin_code=None)


def test_detail_fields_the_data_lacks_are_empty_or_null():
    raw = detail_raw(SEJONG_HOUSE["id"], items=[dict(SEJONG_HOUSE)])
    parsed = parse_detail(raw, SEJONG_HOUSE["id"])
    assert parsed == dict(SEJONG_HOUSE, lat=None, lng=None, admin_code=None)
    assert parsed["jibun_address"] == parsed["building"] == parsed["sigungu"] == ""


def test_detail_not_found():
    assert parse_detail(detail_raw(status="not-found", items=[]), CITY_HALL["id"]) is None


def test_open_states():
    check_open({"app": "demo", "state": "ready", "records": "6339232", "title": "x"})
    for state in (None, "html", [], {"app": None, "title": "Directory listing"},
                  {"app": "demo", "state": "loading", "records": None},
                  {"app": "demo", "state": "error", "records": None},
                  {"app": "demo", "state": "ready", "records": "0"},
                  {"app": "demo", "state": "ready", "records": 12}):
        with pytest.raises(UpstreamError):
            check_open(state)


def _without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


MALFORMED_SEARCH = {
    "not a dict": ["a", "list"],
    "none": None,
    "page script error": {"error": "not the demo site or not ready", "app": None},
    "another app": search_raw(app="other"),
    "detail view": search_raw(kind="detail"),
    "stale query": search_raw(echo={"query": "시청", "page": "1", "per_page": "10"}),
    "stale page": search_raw(echo={"query": "세종대로 110", "page": "2", "per_page": "10"}),
    "stale per_page": search_raw(echo={"query": "세종대로 110", "page": "1", "per_page": "5"}),
    "no echo": _without(search_raw(), "echo"),
    "page error": search_raw(status="error", message="검색어를 입력하세요."),
    "not-found status": search_raw(status="not-found"),
    "still loading": search_raw(status="loading"),
    "no status": _without(search_raw(), "status"),
    "items not a list": search_raw(items={"0": CITY_HALL}),
    "no items": _without(search_raw(), "items"),
    "item not a dict": search_raw(items=["서울특별시 중구 세종대로 110"], total="1"),
    "total missing": search_raw(total=None),
    "total negative": search_raw(total="-1"),
    "total not a number": search_raw(total="two"),
    "total as float text": search_raw(total="2.0"),
    "total below results": search_raw(total="1"),
    "more results than per_page": search_raw(per_page=1),
    "duplicate ids": search_raw(items=[CITY_HALL, CITY_HALL]),
    "elapsed missing": search_raw(elapsed_ms=None),
    "elapsed not a number": search_raw(elapsed_ms="fast"),
    "elapsed negative": search_raw(elapsed_ms="-3"),
    "elapsed infinite": search_raw(elapsed_ms="Infinity"),
}
for key in ADDRESS_KEYS:
    MALFORMED_SEARCH[f"missing {key}"] = search_raw(items=[_without(CITY_HALL, key)], total="1")
    MALFORMED_SEARCH[f"{key} not a string"] = search_raw(items=[dict(CITY_HALL, **{key: 5})],
                                                        total="1")
    MALFORMED_SEARCH[f"{key} too long"] = search_raw(items=[dict(CITY_HALL, **{key: "가" * 501})],
                                                    total="1")
for key in ("id", "road_address", "english_address", "zip", "sido", "eupmyeondong"):
    MALFORMED_SEARCH[f"{key} empty"] = search_raw(items=[dict(CITY_HALL, **{key: " "})], total="1")
for bad_id in ("a/b", "a b", "x" * 65, "아이디", "a.b"):
    MALFORMED_SEARCH[f"id {bad_id[:8]!r}"] = search_raw(items=[dict(CITY_HALL, id=bad_id)], total="1")
for bad_zip in ("4524", "045245", "0452a", "04-524", "０４５２４"):
    MALFORMED_SEARCH[f"zip {bad_zip!r}"] = search_raw(items=[dict(CITY_HALL, zip=bad_zip)], total="1")


@pytest.mark.parametrize("name", sorted(MALFORMED_SEARCH))
def test_search_malformed(name):
    with pytest.raises(UpstreamError):
        parse_search(MALFORMED_SEARCH[name], "세종대로 110", 1, 10)


def _detail_item(**changes):
    return detail_raw(items=[dict(detail_raw()["items"][0], **changes)])


MALFORMED_DETAIL = {
    "not a dict": "서울특별시청",
    "page script error": {"error": "not the demo site or not ready"},
    "another app": detail_raw(app=None),
    "search view": detail_raw(kind="search"),
    "stale id": detail_raw(echo={"id": SEJONG_HOUSE["id"]}),
    "page error": detail_raw(status="error"),
    "unknown status": detail_raw(status="done"),
    "no items": detail_raw(items=[]),
    "two items": detail_raw(items=detail_raw()["items"] * 2),
    "not-found with an item": detail_raw(status="not-found"),
    "other id shown": _detail_item(id=SEJONG_HOUSE["id"]),
    "lat not numeric": _detail_item(lat="north"),
    "lat out of range": _detail_item(lat="91"),
    "lat nan": _detail_item(lat="NaN"),
    "lat a number not text": _detail_item(lat=37.5),
    "lng out of range": _detail_item(lng="-180.5"),
    "lng infinite": _detail_item(lng="Infinity"),
    "admin_code short": _detail_item(admin_code="111401010"),
    "admin_code letters": _detail_item(admin_code="11140101OO"),
    "admin_code empty": _detail_item(admin_code=""),
    "admin_code a number": _detail_item(admin_code=1),
    "lat empty": _detail_item(lat=""),
    "zip malformed": _detail_item(zip="0452"),
    "road_address missing": detail_raw(items=[_without(detail_raw()["items"][0], "road_address")]),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_DETAIL))
def test_detail_malformed(name):
    with pytest.raises(UpstreamError):
        parse_detail(MALFORMED_DETAIL[name], CITY_HALL["id"])
