"""Build the demo site's index (demo_site/data/) from Korea Post's address file in the pinned kozip wheel.

    python3 demo_site/build_index.py                          # into demo_site/data/, unless current
    python3 demo_site/build_index.py --sido 세종특별자치시 --out /tmp/index   # one sido, for tests

Standard library only: it runs in the set-up and in the image's build stage. What the index holds
and how a query uses it: docs/search.md ("The page's index").
"""
import argparse
import hashlib
import json
import pathlib
import shutil
import sys
import time
import zipfile

import official
import official_changes
from area_names import SIDO
# The index's readers, for tests and benchmarks.
from index_files import DEFAULT_OUT, read_blob, read_index, read_rows_version, read_shard  # noqa: F401
from index_layout import FORMAT, write_index
from index_switch import copy_contents, is_current
from kozip_rows import DEFAULT_WHEEL, WHEEL_SHA256, load_rows
from official_rows import load_official_rows
from progress import log

HERE = pathlib.Path(__file__).resolve().parent
LANDMARKS_PATH = HERE / "landmarks.json"
# The files whose content decides the index: a change to any of them rebuilds it.
GENERATOR_SOURCES = tuple(HERE / name for name in (
    "build_index.py", "area_names.py", "progress.py", "packed_rows.py", "kozip_rows.py", "official_rows.py",
    "official.py", "official_lines.py", "official_snapshot.py", "official_changes.py", "index_layout.py",
    "official_copies.py", "index_files.py", "index_switch.py", "romanize.py", "landmarks.json"))
SOURCE_NOTE = "Korea Post via kozip 1.1.4 (2021-11-03, MIT)"
KOZIP_DATE = "2021-11-03"
OFFICIAL_NOTE = "행정안전부 도로명주소 한글 (business.juso.go.kr)"


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def generator_hash():
    digest = hashlib.sha256()
    for path in GENERATOR_SOURCES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build(wheel, out, sido_filter=None):
    """The kozip index; returns False when `out` already holds it (wheel and generator unchanged)."""
    started = time.monotonic()
    wheel_sha256 = file_sha256(wheel)
    if wheel_sha256 != WHEEL_SHA256:
        raise ValueError(f"{wheel}: sha256 {wheel_sha256}, expected {WHEEL_SHA256}")
    stamp = {"format": FORMAT, "wheel_sha256": wheel_sha256, "generator": generator_hash(),
             "sido": sido_filter}
    if is_current(out, stamp):
        print(f"build_index: {out} is current (wheel and generator unchanged)", flush=True)
        return False
    landmarks = json.loads(LANDMARKS_PATH.read_text(encoding="utf-8"))
    if sido_filter and sido_filter not in {name for name, _, _ in SIDO}:
        raise ValueError(f"unknown sido {sido_filter!r}: one of {', '.join(sorted(n for n, _, _ in SIDO))}")
    rows, entries, dongs = load_rows(wheel, sido_filter, started)
    about = {"source": "kozip", "note": SOURCE_NOTE, "base_date": KOZIP_DATE, "related_lots": None}
    write_index(out, rows, entries, dongs, stamp, about, started,
                landmarks=[m for m in landmarks if not sido_filter or m["sido"] == sido_filter])
    return True


def build_official(source, out, started, keep):
    """The index of an official file (an official.Source); `keep(directory)` writes the data the
    next update starts from (the base, and changes kept since) into the new index's directory."""
    rows, entries, dongs, extra = load_official_rows(source, started)
    stamp = {"format": FORMAT, "generator": generator_hash(), "source": "official",
             "base_date": source.base_date}
    about = {"source": "official", "note": OFFICIAL_NOTE, "base_date": official.iso_date(source.base_date),
             "related_lots": len(extra.related)}
    write_index(out, rows, entries, dongs, stamp, about, started, official=extra, snapshot=keep)
    official_changes.keep_base(out / "official", extra.origin_ids,
                               json.loads((out / "about.json").read_text(encoding="utf-8")))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", type=pathlib.Path, default=DEFAULT_WHEEL, help="the kozip 1.1.4 wheel")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="the index directory")
    parser.add_argument("--sido", help="only this sido of kozip (its current name), for fast tests")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--data", type=pathlib.Path, metavar="PATH",
                      help="build from the official full file (the zip as downloaded, or its directory)")
    what.add_argument("--changes", type=pathlib.Path, nargs="+", metavar="FILE",
                      help="apply official change files to the official index in --out")
    what.add_argument("--kozip", action="store_true", help="build from kozip even if --out holds official data")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    started = time.monotonic()
    try:
        if args.data:
            build_official(official.open_source(args.data), out, started,
                           keep=lambda to: keep_full_file(args.data, to / official_changes.BASE))
        elif args.changes:
            update_official(out, args.changes, started)
        elif not args.kozip and not args.sido and (out / "official").is_dir():
            rebuild_official(out, started)
        else:
            build(args.wheel, out, args.sido)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        print(f"build_index: failed: {exc}", file=sys.stderr)
        return 1
    return 0


def update_official(out, changes, started):
    """Applies change files to the official index in `out`: the addresses they touch become a
    second index beside it (official_changes.py)."""
    kept = out / "official"
    if not kept.is_dir():
        raise ValueError(f"{out}: no official index to update (build one with --data first)")
    changesets = official.read_changes(changes)
    if not (kept / official_changes.BASE_IDS).is_file():  # kept by an older version: build it anew first
        rebuild_official(out, started, force=True)
    official_changes.apply(out, kept_source(out), changesets, started)


def rebuild_official(out, started, force=False):
    """An official index whose generator changed is rebuilt from the data it was built from, and
    the changes kept since."""
    source = kept_source(out)
    stamp = {"format": FORMAT, "generator": generator_hash(), "source": "official",
             "base_date": source.base_date}
    if not force and is_current(out, stamp):
        print(f"build_index: {out} is current (official data of {official.iso_date(source.base_date)}; "
              "--kozip builds the kozip index instead)", flush=True)
        return
    kept = out / "official"
    base = kept / official_changes.BASE if (kept / official_changes.BASE).exists() else kept

    def keep(to):
        (to / official_changes.BASE).mkdir()
        copy_contents(base, to / official_changes.BASE)
        for name in (official_changes.CHANGES, official_changes.CHANGES_META):
            if base is not kept and (kept / name).exists():
                (shutil.copytree if (kept / name).is_dir() else shutil.copy2)(kept / name, to / name)

    build_official(source, out, started, keep)
    official_changes.rebuild(out, started)


def keep_full_file(path, target):
    """The operator's full file, as given (zip or directory, under its own name, which may carry its
    date), is what the next update starts from: copying it costs far less than writing it anew."""
    path = pathlib.Path(path)
    target.mkdir()
    if path.is_dir():
        shutil.copytree(path, target / path.resolve().name)
    else:
        shutil.copy2(path, target / path.name)


def kept_source(out):
    """The data the official index in `out` was built from: a full file as given, or a snapshot
    (an index kept by an older version has it in official/ itself)."""
    kept = out / "official"
    if (kept / official_changes.BASE).is_dir():
        kept = kept / official_changes.BASE
    if (kept / official.SNAPSHOT_META).is_file():
        return official.open_source(kept)
    entries = list(kept.iterdir())
    if len(entries) != 1:
        raise ValueError(f"{kept}: expected the full file or a snapshot, found {len(entries)} entries")
    return official.open_source(entries[0])


if __name__ == "__main__":
    sys.exit(main())
