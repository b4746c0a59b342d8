"""The index's files, written and read back: shard scripts and the dictionary of index.js
(docs/search.md, "The page's index")."""
import array
import base64
import itertools
import json
import pathlib
import re
import sys
import zlib

from progress import log

DEFAULT_OUT = pathlib.Path(__file__).resolve().parent / "data"
# Rows per shard file: most queries read a few rows, and Chromium holds a loaded script's text
# until it next collects garbage.
SHARD_ROWS = 2048


def offsets(lists):
    """[0, len(a), len(a) + len(b), ...]: where each list starts in their concatenation."""
    starts = [0]
    for listed in lists:
        starts.append(starts[-1] + len(listed))
    return starts

def counted_starts(values, count):
    """For values in [0, count): where each value's run starts once they are sorted, and the end."""
    starts = [0] * (count + 1)
    for value in values:
        starts[value + 1] += 1
    for i in range(count):
        starts[i + 1] += starts[i]
    return starts


def little_endian(typecode, values):
    data = values if isinstance(values, array.array) and values.typecode == typecode else array.array(typecode, values)
    if sys.byteorder != "little":
        data = array.array(typecode, data)
        data.byteswap()
    return data.tobytes()


class Dictionary:
    """The binary part of index.js: named little-endian arrays, each starting on a 4-byte boundary.

    Names are kept as UTF-8 bytes with offsets rather than as JavaScript strings: the page then
    loads a one-byte (ASCII) script, which Chromium does not keep after it ran, and holds no
    string object per name.
    """

    TYPES = {"B": "u8", "H": "u16", "I": "u32"}

    def __init__(self):
        self.parts, self.sections, self.size = [], {}, 0

    def add(self, name, typecode, values):
        data = little_endian(typecode, values)
        self.sections[name] = [self.TYPES[typecode], self.size, len(data) // array.array(typecode).itemsize]
        padding = -len(data) % 4
        self.parts.append(data + b"\0" * padding)
        self.size += len(data) + padding

    def add_names(self, name, names):
        """`name`Text: the names' UTF-8 bytes end to end; `name`Offsets: where each starts, and the end."""
        encoded = [n.encode("utf-8") for n in names]
        self.add(name + "Text", "B", b"".join(encoded))
        self.add(name + "Offsets", "I", offsets(encoded))

    def deflated_base64(self):
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        return base64.b64encode(deflater.compress(b"".join(self.parts)) + deflater.flush()).decode("ascii")


def delta_ids(ids):
    """Ids as differences from the previous one (modulo 2**32): runs of near ids shrink to almost nothing."""
    return array.array("I", [(b - a) & 0xFFFFFFFF for a, b in zip(itertools.chain((0,), ids), ids)])


def write_script(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_shards(staging, copy, order, columns, started, files, by_position=False):
    """One script per SHARD_ROWS rows of a copy (rows `order`): its columns as little-endian ints
    (docs/search.md); returns the files' mean size in bytes. A column given as None is the rows'
    ids, each written as its difference from the previous row's (modulo 2**32): runs of near ids
    shrink to almost nothing. Columns hold a value per id, or per position in `order`."""
    (staging / copy).mkdir()
    total = 0
    for shard, first in enumerate(range(0, len(order), SHARD_ROWS)):
        rows = order[first:first + SHARD_ROWS]
        parts = []
        for typecode, values in columns:
            if values is None:
                parts.append(little_endian(typecode, delta_ids(rows)))
            elif by_position:
                parts.append(little_endian(typecode, values[first:first + SHARD_ROWS]))
            else:
                parts.append(little_endian(typecode, [values[i] for i in rows]))
        total += write_blob(staging / copy / f"{shard}.js", copy, shard, b"".join(parts), files)
    log(f"wrote the {copy} copy", started)
    return round(total / max(1, (len(order) + SHARD_ROWS - 1) // SHARD_ROWS))


def write_blob(path, copy, shard, data, files):
    """One shard file: `data` as raw DEFLATE in base64, in the comment of a function the page reads
    back with toString(): V8 then slices the script's own text instead of copying a string literal
    into its heap. Returns the file's size."""
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
    encoded = base64.b64encode(deflater.compress(data) + deflater.flush()).decode("ascii")
    text = f'searchaddrShard("{copy}",{shard},function(){{/*{encoded}*/}});\n'
    write_script(path, text)
    files.update(text.encode("ascii"))
    return len(text)


def from_little_endian(typecode, data):
    values = array.array(typecode)
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


# The columns of each copy's shards, in file order (docs/search.md); "id" is written as differences.
SHARD_COLUMNS = {"road": (("main", "H"), ("sub", "H"), ("pair", "H")),
                 "dong": (("id", "I"), ("main", "H"), ("sub", "H")),
                 "ri": (("id", "I"), ("main", "H"), ("sub", "H")),
                 "main": (("id", "I"), ("sub", "H"), ("pair", "H")),
                 "lot": (("id", "I"), ("lot", "H"), ("lotSub", "H"))}
# An official index's road copy also has each address's lot: 산 << 15 | 본번, and 부번.
OFFICIAL_ROAD_COLUMNS = SHARD_COLUMNS["road"] + (("lot", "H"), ("lotSub", "H"))


def read_rows_version(out):
    """The rows directory the current index.js names, or None."""
    try:
        text = (out / "index.js").read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    return rows_version_in(text)


def rows_version_in(text):
    """The rows directory an index script (index.js, changes.js) names, or None."""
    found = re.search(r'"rows":"(rows-[0-9a-f]+)"', text)
    return found.group(1) if found else None


def read_index(out=DEFAULT_OUT):
    """index.js back as a dict: its JSON part, each dictionary section as a list (names as str), and
    pairDong: the 읍면동/리 of each (읍면동/리, zip) pair, as pairZip has its zip."""
    text = (pathlib.Path(out) / "index.js").read_text(encoding="ascii")
    split = text.rindex(',\n"')
    index = json.loads(text[len("searchaddrIndex("):split])
    data = zlib.decompress(base64.b64decode(text[split + 3:text.rindex('"')]), -15)
    typecodes = {"u8": "B", "u16": "H", "u32": "I"}
    for name, (kind, at, count) in index.pop("sections").items():
        typecode = typecodes[kind]
        index[name] = from_little_endian(typecode, data[at:at + count * array.array(typecode).itemsize])
    for name in ("roads", "roadsEnglish", "dongs", "dongEnglish", "dongParts", "bldFirst"):
        if name + "Text" not in index:
            continue
        text_bytes, starts = bytes(index.pop(name + "Text")), index.pop(name + "Offsets")
        index[name] = [text_bytes[a:b].decode("utf-8") for a, b in zip(starts, starts[1:])]
    index["zips"] = [f"{z:05d}" for z in index["zips"]]
    index["pairDong"] = [d for d in range(len(index["dongs"]))
                         for _ in range(index["dongPairStart"][d], index["dongPairStart"][d + 1])]
    return index


def read_blob(out, copy, number):
    """The bytes of one shard file of the index in `out`."""
    text = (pathlib.Path(out) / read_rows_version(pathlib.Path(out)) / copy / f"{number}.js").read_text(
        encoding="ascii")
    return zlib.decompress(base64.b64decode(text[text.index("/*") + 2:text.rindex("*/")]), -15)


def read_shard(out, copy, number, records, official_index=False):
    """One shard's columns by name (SHARD_COLUMNS), ids summed back from their differences;
    `records`: the rows of the copy."""
    data = read_blob(out, copy, number)
    rows = min(SHARD_ROWS, records - number * SHARD_ROWS)
    columns, at = {}, 0
    layout = OFFICIAL_ROAD_COLUMNS if official_index and copy == "road" else SHARD_COLUMNS[copy]
    for name, typecode in layout:
        width = array.array(typecode).itemsize
        columns[name] = from_little_endian(typecode, data[at:at + width * rows])
        at += width * rows
    if at != len(data):
        raise ValueError(f"{copy}/{number}.js: {len(data)} bytes for {rows} rows")
    if "id" in columns:
        columns["id"] = array.array("I", itertools.accumulate(columns["id"], lambda a, b: (a + b) & 0xFFFFFFFF))
    return columns
