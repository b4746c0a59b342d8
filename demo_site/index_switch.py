"""Switching a built index in place: a page never mixes two, and an unchanged one is not rebuilt."""
import json
import os
import shutil

from index_files import read_rows_version, write_script
from progress import log

# The page's second script: the changes applied since the index was built (official_changes.py).
CHANGES_SCRIPT = "changes.js"
NO_CHANGES = "searchaddrChanges(null);\n"


def is_current(out, stamp):
    path = out / "stamp.json"
    return path.is_file() and path.read_text(encoding="utf-8") == stamp_text_of(stamp)


def stamp_text_of(stamp):
    return json.dumps(stamp, sort_keys=True) + "\n"


def switch_to(out, staging, version, meta, deflated, stamp, about, snapshot, started):
    """Makes the new index the one `out` serves, so that a page never mixes two: its rows go to a
    directory of their own, then index.js (which names that directory) replaces the old one in one
    rename. A page that loaded the old index.js still reads the old rows, kept until the next build."""
    rows_dir = out / version
    if rows_dir.exists():
        shutil.rmtree(staging)  # the same rows are there already
    else:
        staging.rename(rows_dir)
    if snapshot is not None:
        fresh = out / "official.building"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
        snapshot(fresh)
        log("kept the data for the next update", started)
    # ASCII only (names escaped in the JSON, the rest base64): see Dictionary.
    write_script(out / "index.js.building", "searchaddrIndex("
                 + json.dumps(meta, ensure_ascii=True, separators=(",", ":")) + ',\n"' + deflated + '");\n')
    write_script(out / "about.json.building", json.dumps(about, ensure_ascii=False, sort_keys=True) + "\n")
    if snapshot is not None:
        replace_directory(out / "official.building", out / "official")
    elif (out / "official").exists():
        shutil.rmtree(out / "official")
    previous = read_rows_version(out)
    os.replace(out / "index.js.building", out / "index.js")
    write_script(out / "changes.js.building", NO_CHANGES)
    os.replace(out / "changes.js.building", out / CHANGES_SCRIPT)
    os.replace(out / "about.json.building", out / "about.json")
    write_script(out / "stamp.json", stamp_text_of(stamp))
    for path in out.iterdir():
        if path.is_dir() and path.name not in (version, previous, "official"):
            shutil.rmtree(path)


def replace_directory(fresh, target):
    old = target.with_name(target.name + ".previous")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def copy_contents(source, target):
    for path in source.iterdir():
        (shutil.copytree if path.is_dir() else shutil.copy2)(path, target / path.name)
