"""The oracle for official data (tests/support/official_oracle.py) on the real lines of the ministry's
file, their related lots and a repeated line, answers checked by hand; no browser."""
import pytest

from tests.support.official_oracle import OfficialData, base36, match_rank, parse_query
from tests.support.official_sample import SEJONG_ADDRESS as SEJONG, WONJU_ADDRESS as WONJU, write_sample



@pytest.fixture(scope="module")
def real(tmp_path_factory):
    return OfficialData(write_sample(tmp_path_factory.mktemp("official") / "real.zip", areas=()))


def test_two_addresses_in_the_specs_order_the_repeated_line_once(real):
    # 장작터길 sorts before 한누리대로 (code points); the second 한누리대로 1811 line is the same address.
    assert real.count == 2
    assert real.addresses[0].address("o0000" + base36(0)) == dict(WONJU, id="o00000")
    assert real.addresses[1].address("o00001") == dict(SEJONG, id="o00001")
    assert real.addresses[1].detail("o00001") == dict(SEJONG, id="o00001", lat=None, lng=None,
                                                      admin_code="3611010100")
    assert real.addresses[0].detail("x")["admin_code"] == "5113031026"
    assert [base36(n) for n in (0, 35, 36, 1297)] == ["0", "z", "10", "101"]


@pytest.mark.parametrize("q, found", [
    ("반곡동 47-1", [1]), ("세종 반곡동 47-1", [1]), ("세종시 반곡동 47-1", [1]), ("교항리 20-3", [0]),
    ("원주시 교항리 20-3", [0]), ("강원도 소초면 교항리 20-3", [0]), ("수루배", [1]), ("세종 수루배", [1]),
    ("수루배마을5단지 상가동", [1]), ("상가동", [1]), ("한누리대로 1811", [1]), ("한누리 1811", [1]),
    ("Hannuri-daero 1811", [1]), ("30145", [1]), ("30145 수루배", [1]), ("반곡동 한누리대로", [1]),
    # related lots (test values): 반곡동 48 and 50-2, 대평동 12; 교항리 산 21 and 20-5
    ("반곡동 48", [1]), ("반곡동 50-2", [1]), ("반곡동 50", [1]), ("대평동 12", [1]), ("세종 대평동 12", [1]),
    ("교항리 산 21", [0]), ("소초면 교항리 산21", [0]), ("교항리 20-5", [0]), ("교항리 20", [0]),
    # what finds nothing
    ("반곡동 12", []), ("교항리 21", []), ("교항리 산 20-3", []), ("소초면 교항리 산 20", []), ("반곡동 047-1", []),
    ("반곡동 47-0", []), ("47-1", []), ("반곡동 47-1 1811", []), ("한누리대로 지하 1811", []), ("지하 1811", []),
    ("시험중복상가", []), ("수", []), ("세종 원주", []), ("원주 반곡동 47-1", []), ("대평동 한누리대로 1811", []), ("원주 교항리 20-3", []),
    ("시드니블루", []), ("세종대로 지하 2", []),
])
def test_what_finds_the_real_addresses(real, q, found):
    assert real.search(q) == (len(found), found)


def test_ranks_of_the_ways(real):
    sejong, wonju = real.addresses[1], real.addresses[0]
    ranks = {q: match_rank(parse_query(q), sejong) for q in (
        "반곡동 47-1", "반곡동 47", "반곡동 48", "수루배", "수루배마을5단지", "한누리 1811", "한누리대로 1811",
        "반곡동 50", "반곡동 한누리대로")}
    assert ranks == {"반곡동 47-1": 0, "반곡동 47": 1, "반곡동 48": 0, "수루배": 1, "수루배마을5단지": 0,
                     "한누리 1811": 1, "한누리대로 1811": 0, "반곡동 50": 1, "반곡동 한누리대로": 0}
    assert match_rank(parse_query("교항리 20"), wonju) == 1          # 20-3 and 20-5: only the 본번
    assert match_rank(parse_query("소초 장작터길"), wonju) is None    # an area word is never a start


def test_a_query_is_read_as_the_spec_says():
    query = parse_query("소초면, 교항리(산 20-3) 지하")
    assert (query.words, query.underground, query.lot) == (("소초면", "교항리", "산"), True, None)
    assert parse_query("소초면 교항리 산 20-3").lot == (("소초면", "교항리"), True, "20-3")
    assert parse_query("교항리 산20").lot == (("교항리",), True, "20")
    assert parse_query("산 교항리 20").lot == (("산", "교항리"), False, "20")
    assert parse_query("반곡동 30145").lot is None and parse_query("반곡동 1 2").lot is None
    assert parse_query("Hannuri-daero 1811").lot is None


def test_an_underground_building_under_one_above_ground_is_another_address(tmp_path):
    data = OfficialData(write_sample(tmp_path / "underground.zip", areas=(), underground=True))
    assert [a.road_address() for a in data.addresses] == [
        WONJU["road_address"], SEJONG["road_address"], "세종특별자치시 한누리대로 지하 1811"]
    assert data.search("한누리대로 지하 1811") == (1, [2])
    assert data.search("한누리대로 1811") == (2, [1, 2])
    assert data.search("반곡동 47-1") == (2, [1, 2])
    assert data.search("지하 수루배") == (1, [2])
    assert data.search("반곡동 지하 47-1") == (0, [])      # 지하 is not a lot's
