"""Security checks: CORS mistakes stop the real uWSGI at start-up, requests cannot steer the browser
to another host, the app's limits hold, and the image runs as non-root with nothing secret in it.

(Size/time limits at nginx and slow clients: test_reliability_stack.py; the source page timeout
under load: test_reliability_faults.py; hostile queries in real Chromium: test_reliability_fuzz.py.)
"""
import fnmatch
import io
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from config import load_config
from scraper.browser import CHROMIUM_FLAGS
from answers.caches import MemoryCache
from tests.support.binaries import need
from tests.support.config import write_config
from tests.support.fakes import FakePool, FakeSource
from tests.support.processes import tagged_processes
from tests.support.stack import REPO, Stack
from wsgi_app import build_app

CORS_MISTAKES = [
    ({"origins": "*", "allow_credentials": "true"}, "[cors] origins"),
    ({"origins": "https://blog.example.com/"}, "[cors] origins"),
    ({"origins": "blog.example.com"}, "[cors] origins"),
    ({"origins": "https://blog.example.com:99999"}, "[cors] origins"),
    ({"origins": "https://user@blog.example.com"}, "[cors] origins"),
    ({"origins": ""}, "[cors] origins"),
    ({"paths": "/searchaddr1 /nope"}, "[cors] paths"),
    ({"/searchaddr3": "https://a.test"}, "[cors] /searchaddr3"),
    ({"allow_credentials": "maybe"}, "[cors] allow_credentials"),
    ({"max_age": "-1"}, "[cors] max_age"),
]


@pytest.mark.integration
@pytest.mark.parametrize("cors, names", CORS_MISTAKES, ids=[str(c) for c, _ in CORS_MISTAKES])
def test_cors_mistakes_stop_the_real_uwsgi_at_start_up(tmp_path, cors, names):
    """uWSGI (uwsgi.ini, need-app) exits non-zero, names the key, and serves nothing."""
    stack = Stack(tmp_path, cors=cors)
    try:
        stack.start_uwsgi()
        returncode = stack.uwsgi.wait(30)
    finally:
        left = stack.stop()
    log = stack.uwsgi_log.read_text(errors="replace")
    assert returncode != 0
    assert "ConfigError" in log and names in log, log[-2000:]
    assert not stack.socket.exists()
    assert not left and not tagged_processes(stack.tag)


def test_no_request_can_change_the_host_the_browser_visits():
    """The source URL comes from the config only: no parameter, header or body reaches it.

    The demo source passes queries to the page as script arguments (data, never script text), on
    either line, and never calls driver.get per query; real Chromium runs with hostile queries
    and a canary server in test_reliability_fuzz.py.
    """
    from scraper import browser, devtools
    from scraper.sources import demo
    source_text = Path(demo.__file__).read_text()
    assert source_text.count("driver.get(") == 1            # in open(), with self.url
    assert "driver.get(self.url)" in source_text
    assert re.search(r"driver\.run_async\(script, \*args\)", source_text)
    line_text = Path(browser.__file__).read_text()
    assert re.search(r"execute_async_script\(script, \*args\)", line_text)     # the WebDriver line
    devtools_text = Path(devtools.__file__).read_text()                          # the DevTools line
    assert re.search(r'\{"expression": as_function\(script\)\}', devtools_text)   # our own scripts
    assert re.search(r'"functionDeclaration": CALL, "arguments": \[\{"value": value\} for value in args\]',
                     devtools_text)
    # No handler or lookup code reads a URL, a Host header or forwards anything to the source.
    for path in list((REPO / "handlers").glob("*.py")) + [REPO / "answers" / "__init__.py", REPO / "wsgi_app.py"]:
        text = path.read_text()
        assert "HTTP_HOST" not in text and "driver.get" not in text and "source.url" not in text, path


def test_app_limits_hold_without_nginx(tmp_path):
    """Body size, parameter sizes and JSON depth are enforced by the app itself (no nginx in front)."""
    app = build_app(load_config(write_config(tmp_path / "c.ini")), FakePool(FakeSource(), 2),
                    MemoryCache(10, 10))

    def call(method, path, body=b"", content_type="application/json", length=None):
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path.split("?")[0],
                   "QUERY_STRING": path.partition("?")[2], "SERVER_NAME": "x", "SERVER_PORT": "80",
                   "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "CONTENT_TYPE": content_type,
                   "CONTENT_LENGTH": str(len(body) if length is None else length)}
        status = {}
        out = b"".join(app(environ, lambda s, h, e=None: status.setdefault("s", s)))
        return int(status["s"].split()[0]), out

    started = time.monotonic()
    assert call("POST", "/searchaddr1", b"{" + b" " * 16 * 1024 + b"}")[0] == 413
    # A declared 1 GB body is refused from the header: nothing is read.
    assert call("POST", "/searchaddr1", b"", length=2**30)[0] == 413
    assert call("GET", "/searchaddr1?q=" + "가" * 81)[0] == 400
    assert call("GET", "/searchaddr1?q=ab&per_page=51")[0] == 400
    assert call("GET", "/searchaddr1?q=ab&page=101")[0] == 400
    assert call("GET", "/searchaddr2?id=" + "a" * 65)[0] == 400
    assert call("POST", "/searchaddr1", b"[" * 16000 + b"]" * 16000, length=None)[0] == 413
    assert call("POST", "/searchaddr1", b"[" * 8000 + b"]" * 8000)[0] == 400
    assert time.monotonic() - started < 2


# ---------------------------------------------------------------- the container image

SECRET_NAMES = ("*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*", "id_ed25519*", ".env", ".env.*",
                ".netrc", ".npmrc", ".pypirc", "*.kdbx", "credentials*", "*secret*", ".git-credentials")
SECRET_TEXT = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|"
                         rb"(?i:(password|passwd|secret|api[_-]?key|token)\s*[=:]\s*['\"][^'\"]{6,})")


def dockerignore_patterns():
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def _pattern_regex(pattern):
    """A .dockerignore pattern as a regex: * and ? stay within one path part, **/ spans parts."""
    regex = ""
    for index, piece in enumerate(pattern.split("**/")):
        if index:
            regex += "(?:.*/)?"
        regex += re.escape(piece).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    return re.compile(regex + r"\Z")


def ignored(relative, patterns):
    """Whether Docker leaves `relative` (or a folder above it) out of the build context."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    return any(_pattern_regex(pattern).match(prefix) for pattern in patterns for prefix in prefixes)


def build_context_files():
    patterns = dockerignore_patterns()
    found = []
    for root, dirs, files in os.walk(REPO):
        relative_root = os.path.relpath(root, REPO)
        dirs[:] = [d for d in dirs if not ignored(os.path.normpath(os.path.join(relative_root, d)), patterns)]
        for name in files:
            relative = os.path.normpath(os.path.join(relative_root, name))
            if not ignored(relative, patterns):
                found.append(relative)
    return found


def test_the_image_runs_as_non_root_with_nothing_secret_in_it():
    dockerfile = (REPO / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users, "the Dockerfile sets no USER: the service would run as root"
    assert users[-1].split(":")[0] not in ("0", "root"), users[-1]
    assert not re.search(r"^\s*(ENV|ARG)\s+\S*(PASSWORD|SECRET|TOKEN|API_KEY)", dockerfile,
                         re.MULTILINE | re.IGNORECASE)
    patterns = dockerignore_patterns()
    for must_stay_out in (".git", "tests", ".venv"):
        assert ignored(must_stay_out, patterns), f".dockerignore lets {must_stay_out} into the image"
    context = build_context_files()
    secret_named = [f for f in context if any(fnmatch.fnmatch(Path(f).name, p) for p in SECRET_NAMES)]
    assert not secret_named, secret_named
    secret_text = [f for f in context if (REPO / f).stat().st_size < 5_000_000
                   and SECRET_TEXT.search((REPO / f).read_bytes())]
    assert not secret_text, secret_text


@pytest.mark.integration
def test_the_built_image_user_is_not_root_when_an_image_exists():
    """Checks a locally built image (podman) if there is one; the static check above always runs."""
    need("podman", "apt-get install -y podman")
    images = subprocess.run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True, timeout=60).stdout.split()
    ours = [name for name in images if name.split("/")[-1].startswith("searchaddr:")]
    if not ours:
        pytest.skip("no searchaddr image built on this machine")
    inspected = json.loads(subprocess.run(["podman", "image", "inspect", ours[0]], capture_output=True,
                                          text=True, timeout=60, check=True).stdout)[0]
    user = inspected["Config"].get("User", "")
    assert user and user.split(":")[0] not in ("0", "root"), f"{ours[0]} runs as {user or 'root'}"
    env = " ".join(inspected["Config"].get("Env", []))
    assert not re.search(r"(PASSWORD|SECRET|TOKEN|API_KEY)=", env, re.IGNORECASE), env


def test_the_chromium_sandbox_decision_is_written_down():
    """--no-sandbox is a deliberate choice; the README explains it (section "Security")."""
    assert "--no-sandbox" in CHROMIUM_FLAGS
    readme = (REPO / "README.md").read_text()
    assert "sandbox" in readme.lower(), "README.md does not explain the Chromium sandbox decision"
