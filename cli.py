"""Command line: `python cli.py search Q | detail ID | doctor`.

search and detail print exactly the JSON the API returns, by calling the WSGI app in-process.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from urllib.parse import urlencode


def _version(path):
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True,
                                timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, str(error)
    match = re.search(r"(\d+\.\d+\.\d+)\.\d+", output)
    return (match.group(1) if match else None), output.strip()


def _is_script(path):
    try:
        with open(path, "rb") as file:
            return file.read(2) == b"#!"
    except OSError:
        return False


def doctor(config_path):
    """Check that this machine can run the configured scraper; True when everything is fine."""
    from config import ConfigError, load_config
    from scraper.browser import CHROMIUM, is_headless_shell, start_browser
    from scraper.sources import SOURCES

    def report(ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        return ok

    try:
        config = load_config(config_path)
    except ConfigError as error:
        return report(False, f"config: {error}")
    report(True, f"config: {config.path}")
    settings = config.scraper
    healthy = check_index(SOURCES[settings.source](settings.url or None), report)
    if not settings.remote_url:
        versions = {}
        for name in ("chromium", "chromedriver"):
            path = getattr(settings, name)
            versions[name], text = _version(path) if os.access(path, os.X_OK) else (None, "missing")
            healthy &= report(versions[name] is not None, f"{name} at {path}: {text}")
        if is_headless_shell(settings.chromium) and _is_script(settings.chromium):
            # Its shell would stay between chromedriver and the browser: a killed worker's
            # browser would then live on until the next worker reaps it.
            healthy &= report(False, f"chromium at {settings.chromium} is a script, not the "
                                     f"headless shell itself: set [scraper] chromium = {CHROMIUM}")
        if all(versions.values()):
            healthy &= report(versions["chromium"] == versions["chromedriver"],
                              f"versions match: chromium {versions['chromium']}, "
                              f"chromedriver {versions['chromedriver']}")
        healthy &= report(shutil.which("setpriv") is not None,
                          "setpriv (util-linux) found: browsers die with their worker")
    if not healthy:
        return False
    source = SOURCES[settings.source](settings.url or None)
    started = time.monotonic()
    try:
        browser = start_browser(settings.chromium, settings.chromedriver, settings.remote_url or None,
                                line=settings.line)
    except Exception as error:
        return report(False, f"browser start: {error}")
    try:
        browser.driver.set_page_load_timeout(settings.page_timeout)
        browser.driver.set_script_timeout(settings.page_timeout)
        source.open(browser.driver)
        opened = time.monotonic()
        found = source.search(browser.driver, "세종대로 110", 1, 1)
        queried = time.monotonic()
        return report(found["total"] >= 1,
                      f"{source.name} page renders at {source.url}: browser + page "
                      f"{opened - started:.2f} s, query {1000 * (queried - opened):.0f} ms"
                      f" on the {browser.line} line, "
                      f"{found['total']} result(s) for 세종대로 110")
    except Exception as error:
        return report(False, f"{source.name} page at {source.url}: {type(error).__name__}: {error}")
    finally:
        browser.quit()


def check_index(source, report):
    """One line on what the page's index holds; False when the page has no index."""
    from scraper.sources.demo_index import INDEX_FILE, describe, index_dir

    directory = index_dir(source.url)
    if directory is None:
        return report(True, f"index: the page at {source.url} is not on this machine, not checked")
    if not (directory / INDEX_FILE).is_file():
        return report(False, f"index: {directory / INDEX_FILE} is missing (scripts/setup.sh builds it)")
    try:
        about = source.index()
    except ValueError as error:
        return report(False, f"index: {error}")
    return report(True, f"index: {describe(about)}" + ("" if about["source"] else f" in {directory}"))


def call_api(path, params, config_path):
    from webob import Request
    from wsgi_app import create_app

    app = create_app(config_path)
    try:
        response = Request.blank(f"{path}?{urlencode(params)}").get_response(app)
    finally:
        app.pool.close()
    print(json.dumps(response.json, ensure_ascii=False, indent=2))
    return response.status_code == 200


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python cli.py", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config file (default: $SEARCHADDR_CONFIG, else searchaddr.ini)")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="search addresses by keyword")
    search.add_argument("q")
    search.add_argument("--page", type=int, default=1)
    search.add_argument("--per-page", type=int, default=10)
    detail = commands.add_parser("detail", help="one address by the id a search result carried")
    detail.add_argument("id")
    commands.add_parser("doctor", help="check the browser, chromedriver and the source page")
    args = parser.parse_args(argv)

    import logging
    logging.basicConfig(level=logging.WARNING)
    if args.command == "doctor":
        ok = doctor(args.config)
    elif args.command == "search":
        ok = call_api("/searchaddr1", {"q": args.q, "page": args.page, "per_page": args.per_page},
                      args.config)
    else:
        ok = call_api("/searchaddr2", {"id": args.id}, args.config)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
