"""Every relative link in the README, docs/, bench/README.md and the examples' READMEs reaches a
file of the repository, and an #anchor into a markdown file one of its headings, as GitHub names
them."""
import collections
import os
import re
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md"),
                    *(ROOT / "examples").glob("**/README.md")])
FENCED = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$", re.MULTILINE)
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def prose(path):
    """The document without its fenced code blocks (line numbers kept)."""
    text = path.read_text(encoding="utf-8")
    return FENCED.sub(lambda block: "\n" * block.group(0).count("\n"), text)


def slug(heading):
    """GitHub's anchor for a heading: its text, lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)     # a link: its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path):
    """Every heading's anchor in a markdown file; a repeated one gets -1, -2... as on GitHub."""
    seen, found = collections.Counter(), set()
    for heading in HEADING.findall(prose(path)):
        base = slug(heading)
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return found


def broken_links(path):
    """(line, target, why) for each relative link of `path` that does not resolve."""
    text = prose(path)
    broken = []
    for match in LINK.finditer(text):
        target = match.group(1)
        if SCHEME.match(target):
            continue
        line = text.count("\n", 0, match.start()) + 1
        file_part, _, anchor = urllib.parse.unquote(target).partition("#")
        if not file_part:
            linked = path
        elif file_part.startswith("/"):
            linked = ROOT / file_part.lstrip("/")
        else:
            linked = Path(os.path.normpath(path.parent / file_part))
        if ROOT not in linked.parents and linked != ROOT:
            broken.append((line, target, "outside the repository"))
        elif not linked.exists():
            broken.append((line, target, "no such file"))
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append((line, target, f"no heading #{anchor} in {linked.relative_to(ROOT)}"))
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    assert broken_links(document) == []


def test_the_links_and_anchors_are_found():
    links = [m.group(1) for document in DOCUMENTS for m in LINK.finditer(prose(document))]
    assert len([link for link in links if not SCHEME.match(link)]) > 20
    assert {"stopping", "checking-it"} <= anchors(ROOT / "docs" / "deploy.md")
    assert slug("How to pick `processes`, `threads` and `browsers`") == "how-to-pick-processes-threads-and-browsers"
    assert slug("The lean flags, against the earlier ones (full chromium)") == \
        "the-lean-flags-against-the-earlier-ones-full-chromium"
    assert slug("Memory (`bench/memory.py`, `bench/chromium_flags.py`)") == "memory-benchmemorypy-benchchromium_flagspy"
    assert slug("The data: 주소 [kozip](https://pypi.org/project/kozip/)") == "the-data-주소-kozip"
