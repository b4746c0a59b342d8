"""Files in the ministry's 도로명주소 한글 layout for tests: CP949, `|`, CRLF, in zips or folders."""
import os
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import official  # noqa: E402,F401

# Real lines (../shared/OFFICIAL_DATA.md): an address in Sejong, and an abolition from a daily file.
SEJONG = ("36110101200000200181100000|3611010100|세종특별자치시||반곡동||0|47|1|361102000002|한누리대로|0|1811|0"
          "|3611055600|반곡동|30145||20181204|0|||수루배마을5단지 상가동|")
ABOLISHED = ("51130310445753400007700000|5113031026|강원특별자치도|원주시|소초면|교항리|0|20|3|511304457534|장작터길"
             "|0|77|0|5113031000|소초면|26304||20230611|0|63|||")
ADDRESS_CODE, LOT_CODE = 20, 13  # the change code's field index in each layout


def with_fields(line, **changes):
    """The line with fields replaced, by index: with_fields(SEJONG, f16="3014")."""
    fields = line.split("|")
    for name, value in changes.items():
        fields[int(name[1:])] = value
    return "|".join(fields)


def with_code(line, code):
    fields = line.split("|")
    fields[ADDRESS_CODE if len(fields) == 24 else LOT_CODE] = code
    return "|".join(fields)


def lot_of(line, lot_main, lot_sub=0, code=""):
    """A related-lot line (14 fields) for the address line, on another lot."""
    f = line.split("|")
    return "|".join(f[:7] + [str(lot_main), str(lot_sub), f[9], f[11], f[12], f[13], code])


def text(lines, encoding="cp949"):
    return "".join(line + "\r\n" for line in lines).encode(encoding)


def write_folder(folder, files):
    """files: {relative name: bytes}."""
    for name, data in files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    return folder


def write_zip(path, files, cp949_names=False):
    """A zip of {member name: bytes}; cp949_names stores names as CP949 bytes without the UTF-8 flag,
    as some of the ministry's zips do (zipfile itself would write UTF-8 and set the flag)."""
    placeholders = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (name, data) in enumerate(files.items()):
            stored = name
            if cp949_names and not name.isascii():
                raw = name.encode("cp949")
                stored = f"{number:04d}".ljust(len(raw), "#")
                placeholders[stored.encode()] = raw
            archive.writestr(stored, data)
    if placeholders:
        with open(path, "rb") as handle:
            data = handle.read()
        for stored, raw in placeholders.items():
            assert data.count(stored) == 2  # the local header and the central directory
            data = data.replace(stored, raw)
        with open(path, "wb") as handle:
            handle.write(data)
    return path


def snapshot_files(folder):
    """The bytes of a snapshot's data files."""
    return {name: open(os.path.join(folder, name), "rb").read()
            for name in (official.SNAPSHOT_ADDRESSES, official.SNAPSHOT_LOTS)}


def kozip_rows(count):
    """Made-up rows in kozip's shape (zip, sido, sigungu, "ROAD NUMBER|DONG [RI]") in two 시도."""
    rows = []
    for n in range(count):
        if n % 3:
            sido, sigungu = "세종특별자치시", ""
            dong = ("반곡동", "조치원읍 신안리", "연기면 세종리")[n % 3]
        else:
            sido, sigungu = "강원도", ("원주시", "춘천시")[n % 2]
            dong = ("소초면 교항리", "무실동")[n // 3 % 2]
        road = ("한누리대로", "장작터길", "시험로12번길", "갈매로")[n % 4]
        number = f"{1 + n // 4}" if n % 5 else f"{1 + n // 4}-{n % 7 + 1}"
        rows.append((f"{30100 + n % 50:05d}", sido, sigungu, f"{road} {number}|{dong}"))
    return rows
