#!/usr/bin/env python3
"""Write searchaddr.ini's CORS policy into the nginx examples, for the answers nginx makes itself.

When nginx cannot get the app's answer (the socket refuses, its queue is full, a worker dies, the
app does not answer in time) it answers in the app's place: JSON, with the CORS headers the app
would have sent that origin on that path, so the page can read the error and retry. nginx needs
the policy for that, and it must be the app's. This script writes it between the markers in each
file, as nginx `map`s, from the same config the app reads:

    .venv/bin/python scripts/nginx-origins.py                  # the repo's searchaddr.ini -> deploy/nginx/*.conf
    .venv/bin/python scripts/nginx-origins.py --config /srv/searchaddr/searchaddr.ini /etc/nginx/conf.d/searchaddr.conf
    .venv/bin/python scripts/nginx-origins.py --check          # exit 1 when a file is out of date
"""
import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import load_config          # noqa: E402  (the repo's modules, after the path is set)
from cors import EXPOSE_HEADERS, CorsPolicy  # noqa: E402

BEGIN = "# BEGIN searchaddr CORS"
END = "# END searchaddr CORS"
BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.DOTALL)
EXAMPLES = sorted((ROOT / "deploy" / "nginx").glob("*.conf"))


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
    source = os.path.relpath(config.path, ROOT) if str(config.path).startswith(str(ROOT)) else config.path
    return f"""{BEGIN} (for nginx's own error answers; the app's answers pass untouched).
# Generated from {source} by scripts/nginx-origins.py: run it again after changing [cors].
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


def updated(text, block, name):
    if BEGIN not in text:
        raise SystemExit(f"{name}: no '{BEGIN}' ... '{END}' block to fill")
    return BLOCK.sub(lambda _: block, text, count=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="the service's config (default: as the app finds it)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    parser.add_argument("files", nargs="*", type=Path, help="nginx files (default: deploy/nginx/*.conf)")
    args = parser.parse_args(argv)
    block = render(load_config(args.config))
    stale = []
    for path in args.files or EXAMPLES:
        text = path.read_text(encoding="utf-8")
        if BEGIN not in text and not args.files:
            continue
        new = updated(text, block, path)
        if new != text:
            stale.append(str(path))
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and stale:
        print("out of date with the config (run scripts/nginx-origins.py): " + " ".join(stale),
              file=sys.stderr)
        return 1
    for name in stale:
        print(f"updated {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
