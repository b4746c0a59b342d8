"""Korea Post's addresses in the pinned kozip wheel, read as packed rows."""
import io
import json
import pathlib
import zipfile

from area_names import current_names
from packed_rows import DONG_SHIFT, ENTRY_SHIFT, MAIN_SHIFT, SUB_SHIFT, ranked_rows
from progress import log

HERE = pathlib.Path(__file__).resolve().parent
WHEEL_NAME = "kozip-1.1.4-py3-none-any.whl"
WHEEL_SHA256 = "36b43c07219473454d42319b5361b057078b006bfd8348e5b9e9d1f1eb8482e7"
WHEEL_MEMBER = "kozip/new_zip.json"
DEFAULT_WHEEL = HERE.parent / ".cache" / WHEEL_NAME


def read_addresses(wheel):
    """Yields (zip, sido, sigungu, "ROAD NUMBER|DONG") for every line of new_zip.json, streaming.

    The file is json.dump(indent=4) output: one key or one string value per line.
    """
    keys = []
    with zipfile.ZipFile(wheel) as archive, archive.open(WHEEL_MEMBER) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            text = line.strip()
            if text.endswith(","):
                text = text[:-1]
            if text.startswith('"'):
                if text.endswith(('{', '[')):
                    keys.append(json.loads(text[:text.rindex(":")]))
                elif text.endswith(('{}', '[]')):
                    continue
                else:
                    value = json.loads(text) if "\\" in text else text[1:-1]
                    if len(keys) != 3:
                        raise ValueError(f"{WHEEL_MEMBER}: a value outside zip/sido/sigungu: {text!r}")
                    yield keys[0], keys[1], keys[2], value
            elif text in ("}", "]"):
                if keys:
                    keys.pop()
            elif text != "{":
                raise ValueError(f"{WHEEL_MEMBER}: unexpected line {text!r}")


def parse_number(number, line):
    main, _, sub = number.partition("-")
    if not main.isdigit() or (sub and not sub.isdigit()) or main.startswith("0") or sub.startswith("0"):
        raise ValueError(f"{WHEEL_MEMBER}: malformed building number in {line!r}")
    return int(main), int(sub or 0)


def load_rows(wheel, sido_filter, started):
    """Every distinct address of kozip as a packed int, in id order, plus the tables the ints refer to."""
    entry_ids, dong_ids, packed = {}, {}, []
    lines = 0
    for zip_code, sido, sigungu, value in read_addresses(wheel):
        lines += 1
        if lines % 1000000 == 0:
            log(f"read {lines:,} lines", started)
        sido, sigungu = current_names(sido, sigungu)
        if sido_filter and sido != sido_filter:
            continue
        left, bar, dong = value.partition("|")
        road, space, number = left.rpartition(" ")
        if not bar or not space or not road or not dong or len(zip_code) != 5 or not zip_code.isdigit():
            raise ValueError(f"{WHEEL_MEMBER}: malformed address {zip_code} {sido} {sigungu} {value!r}")
        main, sub = parse_number(number, value)
        entry = entry_ids.setdefault((road, sido, sigungu), len(entry_ids))
        dong_id = dong_ids.setdefault(dong, len(dong_ids))
        packed.append((entry << ENTRY_SHIFT) | (main << MAIN_SHIFT) | (sub << SUB_SHIFT)
                      | (dong_id << DONG_SHIFT) | int(zip_code))
    log(f"read {lines:,} lines, {len(packed):,} in scope", started)
    if not packed:
        raise ValueError(f"no address in scope (sido {sido_filter!r})")
    rows, entries, dongs, _, _ = ranked_rows(packed, entry_ids, dong_ids, 0, 0, started)
    return rows, entries, dongs
