"""The demo page built from files in the official layout, opened in a real Chromium, for tests."""
import contextlib
import os
import re
import shutil
import subprocess
import sys

from scraper.sources.demo import DemoSource
from tests.support.browsers import real_browser
from tests.support.servers import ROOT

PER_PAGE = 50
ID = re.compile(r"(o[0-9A-Za-z_-]{4})([0-9a-z]+)")


def build_index(*arguments):
    """demo_site/build_index.py with these arguments (e.g. "--data", PATH, "--out", DIR)."""
    return subprocess.run([sys.executable, os.path.join(ROOT, "demo_site", "build_index.py"), *map(str, arguments)],
                          capture_output=True, text=True, timeout=600)


def build_site(site, data):
    """demo_site's page in `site` with a data/ built from the official file `data` by the generator's
    command line."""
    for name in ("index.html", "app.js", "style.css"):
        shutil.copy(os.path.join(ROOT, "demo_site", name), site / name)
    built = build_index("--data", data, "--out", site / "data")
    assert built.returncode == 0, built.stderr
    return site


@contextlib.contextmanager
def opened_page(site):
    """search(q, page) and detail(id) on the page in `site`, in a real Chromium stopped at the end."""
    with real_browser(60) as driver:
        source = DemoSource((site / "index.html").as_uri())
        source.open(driver)

        class Page:
            prefix = None
            mixed = False  # ids of two indexes: one built from a full file, one of the changes since

            @staticmethod
            def search(q, page=1):
                found = source.search(driver, q, page, PER_PAGE)
                for result in found["results"]:
                    Page.check_id(result["id"])
                return found

            @staticmethod
            def detail(address_id):
                return source.detail(driver, address_id)

            @staticmethod
            def check_id(address_id):
                """Every id is one build's prefix and a position in base 36."""
                match = ID.fullmatch(address_id)
                assert match, address_id
                Page.prefix = Page.prefix or match.group(1)
                assert match.group(1) == Page.prefix or Page.mixed, (address_id, Page.prefix)

        yield Page
