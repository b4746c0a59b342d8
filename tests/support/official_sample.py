"""A small file in the ministry's 도로명주소 한글 layout for tests of the page built from it: the real
lines of ../shared/OFFICIAL_DATA.md (tests/support/official.py), related lots and a repeated line
written here as test values, and optionally kozip's real addresses of a few areas with the made-up
fields of bench/official_file.py, some of them underground (지하) or 공중."""
import area_names
import official_file
from kozip_rows import DEFAULT_WHEEL, read_addresses
from tests.support.official import ABOLISHED, SEJONG, lot_of, text, with_code, with_fields, write_zip

# The real addresses: 세종특별자치시 한누리대로 1811 (반곡동 47-1) and 강원특별자치도 원주시 소초면
# 장작터길 77 (교항리 20-3), the latter an abolition in its daily file, here an address.
WONJU = with_code(ABOLISHED, "")
# Test values: related lots of the real addresses (one in another 읍면동, one a 산 lot).
RELATED_LOTS = {
    "sejong": [lot_of(SEJONG, 48), lot_of(SEJONG, 50, 2),
               with_fields(lot_of(SEJONG, 12), f1="3611010600", f4="대평동")],
    "gangwon": [with_fields(lot_of(WONJU, 21), f6="1"), lot_of(WONJU, 20, 5)],
}
# Test value: a later line that is the Sejong address again (same road, area, number, 읍면동 and zip,
# another key and building name): one address, the first line kept.
REPEATED = with_fields(SEJONG, f0="36110101200000300181100000", f9="361102000003", f22="시험중복상가")
# Test value: an underground building under the Sejong address (한누리대로 지하 1811): another address.
UNDERGROUND = with_fields(SEJONG, f0="36110101200000210181100000", f11="1", f22="수루배시험지하상가")

# Kozip's areas taken (current names): Sejong and one 구 of Daejeon, ~45,000 addresses.
KOZIP_AREAS = (("세종특별자치시", ""), ("대전광역시", "대덕구"))
UNDERGROUND_EVERY, AIR_EVERY = 97, 499


def kozip_lines(areas=KOZIP_AREAS):
    """{region: (address lines, related-lot lines)} from kozip's real rows of `areas`, in
    bench/official_file.py's made-up layout; every 97th address is underground (지하여부 1) and
    every 499th 공중 (지하여부 2)."""
    rows = (row for row in read_addresses(DEFAULT_WHEEL)
            if area_names.current_names(row[1], row[2]) in areas)
    codes, packed = official_file.read_rows(rows)
    regions = {code: region for code, region in official_file.REGIONS.values()}
    real_codes = sejong_codes(codes)
    lines = {}
    for n, value in enumerate(packed):
        fields, lots = official_file.address_fields(codes, value)
        fields, lots = real_codes(fields), [real_codes(lot) for lot in lots]
        if (fields[4], fields[10], fields[12], fields[13]) == ("반곡동", "한누리대로", "1811", "0"):
            continue  # the real line stands for this address
        addresses, related = lines.setdefault(regions[fields[0][:2]], ([], []))
        if n % UNDERGROUND_EVERY == 0 or n % AIR_EVERY == 0:
            fields[11] = "1" if n % UNDERGROUND_EVERY == 0 else "2"
            fields[0] = fields[0][:15] + fields[11] + fields[0][16:]
            lots = [[lot[0][:15] + fields[11] + lot[0][16:], *lot[1:10], fields[11], *lot[11:]] for lot in lots]
        addresses.append("|".join(fields))
        related.extend("|".join(lot) for lot in lots)
    return lines


def sejong_codes(codes):
    """A function giving a line's fields (an address's or a related lot's) Sejong's real codes where
    the real line has them (시군구 36110, 반곡동 101): one 읍면동 has one 법정동코드 in a file."""
    made_up = official_file.REGIONS["세종특별자치시"][0] + "010"
    banggok = codes.dong.get(made_up, {}).get("반곡동", made_up + "101")[5:8]
    swap = {banggok: "101", "101": banggok}

    def real(line):
        if line[0][:5] != made_up:
            return line
        line = list(line)
        for at in (0, 1):
            emd = line[at][5:8]
            line[at] = "36110" + swap.get(emd, emd) + line[at][8:]
        line[9] = "36110" + line[9][5:]
        return line
    return real


def write_sample(path, areas=KOZIP_AREAS, underground=False):
    """The zip at `path`: the real lines first in their files (and UNDERGROUND if asked), then kozip's
    of `areas` (none: only the real lines)."""
    files = {}
    generated = kozip_lines(areas) if areas else {}
    real = {"sejong": ([SEJONG, REPEATED] + [UNDERGROUND] * underground, RELATED_LOTS["sejong"]),
            "gangwon": ([WONJU], RELATED_LOTS["gangwon"])}
    for region in sorted(set(generated) | set(real)):
        addresses, related = real.get(region, ([], []))
        more_addresses, more_related = generated.get(region, ([], []))
        files[f"rnaddrkor_{region}.txt"] = text(addresses + more_addresses)
        files[f"jibun_rnaddrkor_{region}.txt"] = text(related + more_related)
    return write_zip(path, files)


# The two real addresses as the page shows them (fields of docs/search.md).
SEJONG_ADDRESS = {
    "road_address": "세종특별자치시 한누리대로 1811", "jibun_address": "세종특별자치시 반곡동 47-1",
    "english_address": "1811 Hannuri-daero, Sejong-si", "zip": "30145", "building": "수루배마을5단지 상가동",
    "sido": "세종특별자치시", "sigungu": "", "eupmyeondong": "반곡동"}
WONJU_ADDRESS = {
    "road_address": "강원특별자치도 원주시 소초면 장작터길 77", "jibun_address": "강원특별자치도 원주시 소초면 교항리 20-3",
    "english_address": "77 Jangjakteo-gil, Socho-myeon, Wonju-si, Gangwon State", "zip": "26304",
    "building": "", "sido": "강원특별자치도", "sigungu": "원주시", "eupmyeondong": "소초면 교항리"}
