"""scripts/derived-settings.py: nginx's CORS maps written from searchaddr.ini, and the numbers of
nginx and uWSGI that follow from it checked, on the repo's own files and on copies made wrong."""
import contextlib
import functools
import importlib.util
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import load_config
from tests.support.config import write_config

REPO = Path(__file__).resolve().parent.parent
SNIPPETS = REPO / "deploy" / "nginx" / "snippets"


@functools.cache
def script():
    spec = importlib.util.spec_from_file_location("derived_settings", REPO / "scripts" / "derived-settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def derived_settings(*args):
    """What `python scripts/derived-settings.py ARGS` gives (exit status, stdout, stderr), from
    its main() in this process: a Python of its own per call is most of these tests' time."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = script().main([str(arg) for arg in args]) or 0
        except SystemExit as end:          # as the interpreter reports it
            status = end.code if isinstance(end.code, int) else end.code is not None
            if isinstance(end.code, str):
                print(end.code, file=sys.stderr)
    return subprocess.CompletedProcess(args, int(status), out.getvalue(), err.getvalue())


def test_the_repo_s_files_follow_its_config():
    # As the docs run it: a Python of its own, from the repo.
    check = subprocess.run([sys.executable, "scripts/derived-settings.py", "--check"], cwd=REPO,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and check.stderr == "", check.stderr
    config = load_config(str(REPO / "searchaddr.ini"))
    conf = (SNIPPETS / "searchaddr-http.conf").read_text()
    mapped = set(re.findall(r'"~\^(/\S+) [^"]+\$" "([^"]+)"', conf))
    expected = {(path, origin) for path in config.cors.paths
                for origin in config.cors.path_origins.get(path, config.cors.origins)}
    assert mapped == expected


def test_the_maps_follow_per_path_origins_and_wildcards(tmp_path):
    config = write_config(tmp_path / "searchaddr.ini", cors={
        "origins": "https://a.example", "/searchaddr2": "https://b.example:8443"})
    target = tmp_path / "site.conf"
    target.write_text("# BEGIN searchaddr CORS\n# END searchaddr CORS\nserver {}\n")
    run = derived_settings("--config", config, target)
    assert run.returncode == 0, run.stderr
    text = target.read_text()
    assert '"~^/searchaddr1 https://a\\.example$" "https://a.example";' in text
    assert '"~^/searchaddr2 https://b\\.example:8443$" "https://b.example:8443";' in text
    assert "/searchaddr2 https://a" not in text and text.endswith("server {}\n")
    stale = derived_settings("--check", target)
    assert stale.returncode == 1 and "CORS maps out of date" in stale.stderr
    anyone = write_config(tmp_path / "any.ini", cors={"origins": "*"})
    assert derived_settings("--config", anyone, target).returncode == 0
    assert '"~^/searchaddr1 ." "*";' in target.read_text()


def test_a_file_without_the_markers_is_refused(tmp_path):
    target = tmp_path / "site.conf"
    target.write_text("server {}\n")
    run = derived_settings(target)
    assert run.returncode != 0 and "no '# BEGIN searchaddr CORS'" in run.stderr


@pytest.fixture
def copies(tmp_path):
    """The repo's uwsgi.ini and nginx snippets in tmp_path, to be made wrong."""
    shutil.copy(REPO / "uwsgi.ini", tmp_path)
    for snippet in SNIPPETS.glob("*.conf"):
        shutil.copy(snippet, tmp_path)
    return tmp_path


def edit(path, pattern, replacement):
    """Replaces the one line of `path` matching `pattern`; returns 'path:line' for messages."""
    lines = path.read_text().splitlines(keepends=True)
    number, = [n for n, line in enumerate(lines) if re.match(pattern, line)]
    lines[number] = re.sub(pattern, replacement, lines[number])
    path.write_text("".join(lines))
    return f"{path}:{number + 1}"


def check_copies(copies, config=None):
    nginx = sorted(copies.glob("searchaddr-*.conf"))
    run = derived_settings("--check", "--uwsgi", copies / "uwsgi.ini",
                           *(["--config", config] if config else []), *nginx)
    return run.returncode, run.stderr.splitlines()


def test_the_copies_are_in_step_as_shipped(copies):
    assert check_copies(copies) == (0, [])


def test_cache2_items_must_be_the_cache_size_plus_one(copies):
    where = edit(copies / "uwsgi.ini", r"(cache2 = .*items=)\d+", r"\g<1>1000")
    assert check_copies(copies) == (1, [
        f"{where}: cache2 items=1000 should be items=1001 ([cache] size 1000 in searchaddr.ini, "
        "+ 1 slot cache2 keeps)"])


def test_the_read_timeout_must_cover_the_longest_answer(copies):
    where = edit(copies / "searchaddr-location.conf", r"uwsgi_read_timeout \w+;", "uwsgi_read_timeout 10s;")
    assert check_copies(copies) == (1, [
        f"{where}: uwsgi_read_timeout 10s must be above 11 s, the longest the app may take to answer "
        "([scraper] checkout_timeout 2 + page_timeout 8 + 1 s, searchaddr.ini); "
        f"it should be at least 12s, and below harakiri 30 ({copies / 'uwsgi.ini'})"])


def test_harakiri_must_be_above_the_read_timeout(copies):
    timeout = edit(copies / "searchaddr-location.conf", r"uwsgi_read_timeout \w+;", "uwsgi_read_timeout 1m;")
    where = edit(copies / "uwsgi.ini", r"harakiri = \d+", "harakiri = 30")
    assert check_copies(copies) == (1, [
        f"{where}: harakiri = 30 must be above uwsgi_read_timeout 60s at {timeout}; it should be at least 61"])


def test_a_longer_page_timeout_puts_both_timeouts_out_of_step(copies, tmp_path):
    config = write_config(tmp_path / "slow.ini", scraper={"page_timeout": "30"}, cache={"size": "1000"})
    status, (maps, timeout, harakiri) = check_copies(copies, config)
    assert status == 1 and maps.startswith("CORS maps out of date")      # they name their config
    assert "uwsgi_read_timeout 25s must be above 33 s, the longest the app may take" in timeout
    assert "page_timeout 30 + 1 s" in timeout and "it should be at least 34s" in timeout
    assert harakiri.endswith(": harakiri = 30 must be above uwsgi_read_timeout, which must be at least 34s; "
                             "it should be at least 35")


def test_without_a_read_timeout_harakiri_is_checked_against_the_app_alone(copies):
    where = edit(copies / "uwsgi.ini", r"harakiri = \d+", "harakiri = 10")
    run = derived_settings("--check", "--uwsgi", copies / "uwsgi.ini", copies / "searchaddr-http.conf")
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"no uwsgi_read_timeout in {copies / 'searchaddr-http.conf'}: not checked",
        f"{where}: harakiri = 10 must be above 11 s, the longest the app may take to answer "
        "([scraper] checkout_timeout 2 + page_timeout 8 + 1 s, searchaddr.ini); it should be at least 12"]


def test_without_a_cache_cache2_items_are_not_checked(copies, tmp_path):
    edit(copies / "uwsgi.ini", r"(cache2 = .*items=)\d+", r"\g<1>7")
    config = write_config(tmp_path / "nocache.ini", cache={"size": "0"})
    status, (maps, *others) = check_copies(copies, config)
    assert maps.startswith("CORS maps out of date") and others == []     # the maps name their config
