#!/usr/bin/env python3
"""Write or check the settings of nginx and uWSGI that follow from searchaddr.ini.

When nginx cannot get the app's answer (the socket refuses, its queue is full, a worker dies, the
app does not answer in time) it answers in the app's place: JSON, with the CORS headers the app
would have sent that origin on that path, so the page can read the error and retry. nginx needs
the policy for that, and it must be the app's. This script writes it between the markers of
deploy/nginx/snippets/searchaddr-http.conf (or of the files named), as nginx `map`s, from the
same config the app reads.

It also checks the numbers that nginx and uWSGI take from [scraper] and [cache], and for each
one out of step prints the file, the line and the value it should have:
  uwsgi.ini cache2 items       = [cache] size + 1 (cache2 keeps one slot to itself)
  nginx's uwsgi_read_timeout   > the longest the app takes to answer: two lookups of
                                 checkout_timeout + page_timeout + 1 s (a request that waited
                                 for the same lookup in another worker, which failed, makes its own)
  uwsgi.ini harakiri           > uwsgi_read_timeout: nginx answers before uWSGI kills the worker
                                 (a killed worker leaves its browsers to the next one)
It writes none of those; without --check it reports them and exits 0 once the maps are written.

    .venv/bin/python scripts/derived-settings.py            # the repo's searchaddr.ini -> deploy/nginx/snippets/searchaddr-http.conf
    .venv/bin/python scripts/derived-settings.py --config /srv/searchaddr/searchaddr.ini /etc/nginx/snippets/searchaddr-*.conf
    .venv/bin/python scripts/derived-settings.py --check    # change nothing; exit 1 when anything is out of step
"""
import argparse
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import load_config          # noqa: E402  (the repo's modules, after the path is set)
from cors import EXPOSE_HEADERS, CorsPolicy  # noqa: E402
from uwsgi_host import CACHE_NAME       # noqa: E402

BEGIN = "# BEGIN searchaddr CORS"
END = "# END searchaddr CORS"
BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)
NGINX_FILES = sorted((ROOT / "deploy" / "nginx").glob("**/*.conf"))
UWSGI_INI = ROOT / "uwsgi.ini"
# A request's answer comes within checkout_timeout + page_timeout + 1 s of its arrival, its own
# lookup's or an identical one's (answers/admission.py; scraper/watchdog.py: the watchdog's grace and
# kill).
ANSWER_SLACK = 1.0
NGINX_UNITS = {"ms": 0.001, "": 1, "s": 1, "m": 60, "h": 3600}


def _exact(text):
    """A case-sensitive nginx regex matching exactly `text` (map's plain strings ignore case)."""
    return "~^" + re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text) + "$"


def render(config):
    """The nginx maps for `config` (a loaded config.Config), markers included."""
    policy = CorsPolicy(config.cors)
    settings = config.cors
    origin_lines, vary_lines = [], []
    for path, rule in policy.rules.items():
        vary_lines.append(f'    "{_exact(path)}" "Origin";')
        if rule.any_origin:
            origin_lines.append(f'    "~^{_exact(path)[2:-1]} ." "*";')
            continue
        for origin in sorted(rule.origins):
            origin_lines.append(f'    "{_exact(path + " " + origin)}" "{origin}";')
    retry_after = max(1, round(config.scraper.checkout_timeout))
    credentials = '"true"' if settings.allow_credentials else '""'
    return f"""{BEGIN} (for nginx's own error answers; the app's answers pass untouched).
# Generated from {_shown(config.path)} by scripts/derived-settings.py: run it again after changing [cors].
map "$uri $http_origin" $searchaddr_error_origin {{
    default "";
{chr(10).join(origin_lines)}
}}
map $uri $searchaddr_error_vary {{
    default "";
{chr(10).join(vary_lines)}
}}
map $searchaddr_error_origin $searchaddr_error_expose {{
    "" "";
    default "{EXPOSE_HEADERS[1]}";
}}
map $searchaddr_error_origin $searchaddr_error_credentials {{
    "" "";
    default {credentials};
}}
# A preflight nginx answers while the app cannot: what the app would allow, so the request
# itself goes out and gets the JSON 503 it can retry after.
map "$request_method $http_access_control_request_method $searchaddr_error_origin" $searchaddr_error_preflight {{
    default "";
    "~^OPTIONS \\S+ \\S" "1";
}}
map $searchaddr_error_preflight $searchaddr_error_allow_methods {{
    default "";
    "1" "GET, POST";
}}
map $searchaddr_error_preflight $searchaddr_error_allow_headers {{
    default "";
    "1" "{", ".join(settings.allow_headers)}";
}}
map $searchaddr_error_preflight $searchaddr_error_max_age {{
    default "";
    "1" "{settings.max_age}";
}}
map $uri $searchaddr_retry_after {{
    default "{retry_after}";
}}
{END}
"""


def _shown(path):
    """A path as the messages show it: relative to the repository when it is inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _seconds(number):
    return f"{number:g}"


def settings_in(path, pattern):
    """(line number, match) of each active line of `path` that matches `pattern`."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = re.match(pattern, line)
        if match:
            found.append((number, match))
    return found


def read_timeouts(paths):
    """[(where, seconds)] of every uwsgi_read_timeout the nginx files set."""
    found = []
    for path in paths:
        for number, match in settings_in(path, r"\s*uwsgi_read_timeout\s+(\d+)(ms|s|m|h|)\s*;"):
            found.append((f"{_shown(path)}:{number}", int(match[1]) * NGINX_UNITS[match[2]]))
    return found


def cache2_items(uwsgi_ini):
    """[(where, items)] of the cache2 the app uses for its answers, as uwsgi.ini declares it."""
    found = []
    for number, match in settings_in(uwsgi_ini, r"\s*cache2\s*=\s*(\S+)"):
        options = dict(part.partition("=")[::2] for part in match[1].split(","))
        if options.get("name") == CACHE_NAME:
            found.append((f"{_shown(uwsgi_ini)}:{number}", int(options.get("items", 0))))
    return found


def harakiris(uwsgi_ini):
    return [(f"{_shown(uwsgi_ini)}:{number}", int(match[1]))
            for number, match in settings_in(uwsgi_ini, r"\s*harakiri\s*=\s*(\d+)\s*$")]


def longest_answer(config):
    """(seconds, the reason in words): the longest the app may take to answer one request."""
    scraper = config.scraper
    seconds = scraper.checkout_timeout + scraper.page_timeout + ANSWER_SLACK
    return seconds, (f"{_seconds(seconds)} s, the longest the app may take to answer ([scraper] checkout_timeout "
                     f"{_seconds(scraper.checkout_timeout)} + page_timeout {_seconds(scraper.page_timeout)} + "
                     f"{_seconds(ANSWER_SLACK)} s, {_shown(config.path)})")


def cache_problems(config, uwsgi_ini):
    size = config.cache.size
    if size == 0:
        return []       # no cache: the app uses no cache2
    return [f"{where}: cache2 items={items} should be items={size + 1} "
            f"([cache] size {size} in {_shown(config.path)}, + 1 slot cache2 keeps)"
            for where, items in cache2_items(uwsgi_ini) if items != size + 1]


def timeout_problems(config, nginx_files, uwsgi_ini):
    longest, answer = longest_answer(config)
    least_read = math.floor(longest) + 1       # the shortest read timeout that waits for the app
    timeouts = read_timeouts(nginx_files)
    kills = harakiris(uwsgi_ini)
    problems = []
    for where, seconds in timeouts:
        if seconds <= longest:
            below = min((harakiri for _, harakiri in kills), default=None)
            limit = f", and below harakiri {below} ({_shown(uwsgi_ini)})" if below else ""
            problems.append(f"{where}: uwsgi_read_timeout {_seconds(seconds)}s must be above {answer}; "
                            f"it should be at least {least_read}s{limit}")
    # harakiri: above every read timeout, as it is or as it must become.
    bound, what = longest, answer
    if timeouts:
        where, seconds = max(timeouts, key=lambda found: found[1])
        bound, what = ((seconds, f"uwsgi_read_timeout {_seconds(seconds)}s at {where}") if seconds > longest
                       else (least_read, f"uwsgi_read_timeout, which must be at least {least_read}s"))
    problems += [f"{where}: harakiri = {harakiri} must be above {what}; it should be at least {math.floor(bound) + 1}"
                 for where, harakiri in kills if harakiri <= bound]
    return problems


def out_of_step(config, nginx_files, uwsgi_ini):
    """One sentence per derived setting that does not follow `config`: where, what, what it should be."""
    return cache_problems(config, uwsgi_ini) + timeout_problems(config, nginx_files, uwsgi_ini)


def fill(paths, block, check):
    """Writes `block` between the markers of each file that has them (with `check`, only says
    which differ). Returns (the files out of date, the files that have the markers)."""
    stale, targets = [], []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if BEGIN not in text:
            continue
        targets.append(path)
        new = BLOCK.sub(lambda _: block, text, count=1)
        if new != text:
            stale.append(_shown(path))
            if not check:
                path.write_text(new, encoding="utf-8")
    return stale, targets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="the service's config (default: as the app finds it)")
    parser.add_argument("--uwsgi", type=Path, default=UWSGI_INI, help="uWSGI's ini (default: the repo's uwsgi.ini)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of step")
    parser.add_argument("files", nargs="*", type=Path,
                        help="nginx files: the one with the markers gets the maps, any uwsgi_read_timeout "
                             "is checked (default: deploy/nginx/ and its snippets/)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    files = args.files or NGINX_FILES
    stale, targets = fill(files, render(config), args.check)
    if not targets:
        raise SystemExit(f"no '{BEGIN}' ... '{END}' block to fill in {' '.join(map(str, files))}")
    problems = out_of_step(config, files, args.uwsgi)
    if args.check and stale:
        problems.insert(0, "CORS maps out of date with the config (run scripts/derived-settings.py): "
                        + " ".join(stale))
    elif not args.check:
        for name in stale:
            print(f"updated {name}")
    if not read_timeouts(files):
        print(f"no uwsgi_read_timeout in {' '.join(map(_shown, files))}: not checked", file=sys.stderr)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
