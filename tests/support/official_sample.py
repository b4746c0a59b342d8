"""A small file in the ministry's 도로명주소 한글 layout for tests of the page built from it: the real
lines of ../shared/OFFICIAL_DATA.md (tests/support/official.py), related lots and a repeated line
written here as test values, and optionally kozip's real addresses of a few areas with the made-up
fields of bench/official_file.py, some of them underground (지하) or 공중."""
import os
import sys

from tests.support.official import ABOLISHED, SEJONG, lot_of, text, with_code, with_fields, write_zip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "demo_site"))
import build_index  # noqa: E402
import official_file  # noqa: E402

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

# Kozip's areas taken (current names): Sejong and one 구 of Daejeon, ~45,000 addresses.
KOZIP_AREAS = (("세종특별자치시", ""), ("대전광역시", "대덕구"))
UNDERGROUND_EVERY, AIR_EVERY = 97, 499


def kozip_lines(areas=KOZIP_AREAS):
    """{region: (address lines, related-lot lines)} from kozip's real rows of `areas`, in
    bench/official_file.py's made-up layout; every 97th address also has an underground twin
    (지하여부 1, same road, number and 읍면동) and every 499th is 공중 (지하여부 2)."""
    rows = (row for row in build_index.read_addresses(build_index.DEFAULT_WHEEL)
            if build_index.current_names(row[1], row[2]) in areas)
    codes, packed = official_file.read_rows(rows)
    regions = {code: region for code, region in official_file.REGIONS.values()}
    lines = {}
    for n, value in enumerate(packed):
        fields, lots = official_file.address_fields(codes, value)
        if (fields[4], fields[10], fields[12], fields[13]) == ("반곡동", "한누리대로", "1811", "0"):
            continue  # the real line stands for this address
        addresses, related = lines.setdefault(regions[fields[0][:2]], ([], []))
        if n % AIR_EVERY == 0:
            fields[11] = "2"
        addresses.append("|".join(fields))
        related.extend("|".join(lot) for lot in lots)
        if n % UNDERGROUND_EVERY == 0:
            twin = list(fields)
            twin[0] = fields[0][:15] + "1" + fields[0][16:]
            twin[11], twin[21], twin[22] = "1", "", ""
            addresses.append("|".join(twin))
    return lines


def write_sample(path, areas=KOZIP_AREAS):
    """The zip at `path`: the real lines first in their files, then kozip's of `areas` (none: only
    the real lines)."""
    files = {}
    generated = kozip_lines(areas) if areas else {}
    real = {"sejong": ([SEJONG, REPEATED], RELATED_LOTS["sejong"]),
            "gangwon": ([WONJU], RELATED_LOTS["gangwon"])}
    for region in sorted(set(generated) | set(real)):
        addresses, related = real.get(region, ([], []))
        more_addresses, more_related = generated.get(region, ([], []))
        files[f"rnaddrkor_{region}.txt"] = text(addresses + more_addresses)
        files[f"jibun_rnaddrkor_{region}.txt"] = text(related + more_related)
    return write_zip(path, files)
