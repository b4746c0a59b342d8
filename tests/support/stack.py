"""The real stack for reliability tests: a source site that can be broken on purpose, uWSGI on a
unix socket, nginx in front, bounded load over loopback, and process bookkeeping by tag.

Every process is started with SEARCHADDR_TEST_TAG=<tag> in its environment, so what it starts
(chromedriver, chromium) can be found and checked (and, as a last resort, killed) by PID.
"""
import functools
import http.client
import http.server
import json
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from scraper.owner import Owner, browser_dirs, reap_orphans
from tests.support.processes import CHROMIUM_NAMES, TAG_ENV, free_port, kill_tagged, stop_process, tagged_processes, tail
from tests.support.servers import install_nginx_includes, nginx_command, write_nginx_conf

REPO = Path(__file__).resolve().parents[2]
DEMO_SITE = REPO / "demo_site"
BROWSER_NAMES = CHROMIUM_NAMES + ("chromedriver", "chrome_crashpad", "chrome_crashpad_handler")

# Queries the demo site answers with results; pages and sizes vary so the cache can be defeated.
QUERIES = ("세종대로", "중구 세종대로", "강남구", "테헤란로", "해운대구", "수원시", "제주", "Sejong-daero",
           "Teheran-ro", "종로구", "부산", "마포구", "서초구", "대전", "광주", "전주")


# ---------------------------------------------------------------- processes by tag

def browsers_of(tag):
    return tagged_processes(tag, names=BROWSER_NAMES)


def zombies_of(tag):
    """Zombie processes whose parent is a live process of this tag: children nobody reaps."""
    return [p for p in tagged_processes(tag, zombies=True) if p.info["status"] == psutil.STATUS_ZOMBIE]


def orphans_of(tag, roots):
    """Tagged processes that are not descendants of `roots` (pids we started): nobody will stop them.

    Parents are followed within one snapshot, so a browser starting or exiting meanwhile is not
    mistaken for an orphan. chrome_crashpad_handler daemonizes itself by design: not counted.
    """
    found = tagged_processes(tag)
    parent = {p.pid: p.info["ppid"] for p in found}

    def descends_from_a_root(pid):
        while pid in parent and pid not in roots:
            pid = parent[pid]
        return pid in roots
    return [p for p in found if not descends_from_a_root(p.pid)
            and not p.info["name"].startswith("chrome_crashpad")]


# ---------------------------------------------------------------- a source site that fails on demand

class SourceSite:
    """demo_site/ over HTTP on loopback, with a switch: ok, hang, error (500), close, garbage;
    and `document_delay`, seconds the page itself (index.html) comes late."""

    MODES = ("ok", "hang", "error", "close", "garbage")
    HANG_LIMIT = 60     # seconds a hung request is held at most, so nothing waits forever

    def __init__(self, root=DEMO_SITE):
        self.mode = "ok"
        self.document_delay = 0.0
        self.release = threading.Event()
        self.counts = {}
        self._lock = threading.Lock()
        handler = functools.partial(_SourceHandler, self, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/index.html"
        self.thread = threading.Thread(target=self.server.serve_forever, name="source-site",
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def set_mode(self, mode):
        assert mode in self.MODES, mode
        with self._lock:
            if self.mode == "hang":
                self.release.set()
            self.release = threading.Event()
            self.mode = mode

    def count(self, mode):
        with self._lock:
            self.counts[mode] = self.counts.get(mode, 0) + 1

    def stop(self):
        self.set_mode("ok")
        self.server.shutdown()
        self.server.server_close()


class _SourceHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, site, *args, **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)

    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self):
        mode, release = self.site.mode, self.site.release
        self.site.count(mode)
        if mode == "hang":
            release.wait(self.site.HANG_LIMIT)
            self.close_connection = True
            return
        if mode == "error":
            body = b"<h1>500 Internal Server Error</h1>"
            self.send_response(500)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if mode == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "ok" and self.path.partition("?")[0] == "/index.html":
            time.sleep(self.site.document_delay)
        if mode == "garbage":
            body = random.randbytes(4096)
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if self.path.endswith(".html") or
                             self.path.endswith("/") else "application/javascript")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


# ---------------------------------------------------------------- uWSGI + nginx

DEPLOY_NGINX = REPO / "deploy" / "nginx" / "searchaddr-api.conf"

# Inside http{}, around the project's server block: client timeouts short enough for the
# slow-client test. Size limits come from the server block.
NGINX_HTTP = """\
    access_log {tmp}/nginx-access.log;
    server_tokens off;
    client_header_timeout {client_timeout}s;
    client_body_timeout {client_timeout}s;
    send_timeout 10s;
    keepalive_timeout 10s;

{server}"""

def nginx_server_block(port, socket_path):
    """The project's nginx example, moved to 127.0.0.1:port and the test's socket. It includes
    what install_nginx_includes() puts next to the nginx.conf."""
    text = DEPLOY_NGINX.read_text()
    text = re.sub(r"^\s*listen\s+[^;\n]+;", f"    listen 127.0.0.1:{port};", text, flags=re.MULTILINE)
    text = re.sub(r"uwsgi_pass\s+unix:[^;\n]+;", f"uwsgi_pass unix:{socket_path};", text)
    return re.sub(r"^(\s*)server_name\s+[^;\n]+;", r"\1server_name _;", text, flags=re.MULTILINE)


class Stack:
    """nginx -> uWSGI socket -> wsgi_app, on loopback, with its own config and process tag."""

    def __init__(self, tmp, scraper=None, cache=None, cors=None, client_timeout=5, processes=2):
        from tests.support.config import write_config
        self.tmp = Path(tmp)
        # Two workers, as a 2 GB box runs it: faults in one worker must not reach the other.
        self.processes = processes
        self.tag = uuid.uuid4().hex
        self.socket = self.tmp / "searchaddr.sock"
        # Roomy by default: these tests are about answers, and a busy 2-core machine can take
        # several seconds to start a browser. Fault tests set their own, tight page_timeout.
        scraper = {"page_timeout": "20", **(scraper or {})}
        self.config = write_config(self.tmp / "searchaddr.ini", cors=cors, scraper=scraper,
                                   cache=cache)
        self.port = free_port()
        self.client_timeout = client_timeout
        self.uwsgi_log = self.tmp / "uwsgi.log"
        self.uwsgi = None
        self.nginx = None
        # Where its browsers keep their files, and those the stop found left by dead workers.
        self.temp_dir = os.environ.get("TMPDIR") or tempfile.gettempdir()
        self.browser_dirs_left = []

    def env(self):
        return {**os.environ, TAG_ENV: self.tag, "SEARCHADDR_SOCKET": str(self.socket),
                "SEARCHADDR_CONFIG": self.config, "PYTHONUNBUFFERED": "1"}

    def uwsgi_command(self):
        return ["uwsgi", "--ini", str(REPO / "uwsgi.ini"), "--processes", str(self.processes)]

    def start(self, timeout=60):
        self.start_uwsgi()
        self.start_nginx()
        self.wait_healthy(timeout)
        return self

    def start_uwsgi(self):
        with open(self.uwsgi_log, "ab") as log:
            self.uwsgi = subprocess.Popen(self.uwsgi_command(), cwd=REPO, env=self.env(),
                                          stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)

    def start_nginx(self):
        install_nginx_includes(self.tmp)
        conf = write_nginx_conf(self.tmp, NGINX_HTTP.format(
            tmp=self.tmp, client_timeout=self.client_timeout,
            server=nginx_server_block(self.port, self.socket)),
            user="root root" if os.geteuid() == 0 else "", connections=1024)
        self.nginx = subprocess.Popen(nginx_command(conf), env=self.env(), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    def wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, process in (("uwsgi", self.uwsgi), ("nginx", self.nginx)):
                if process is not None and process.poll() is not None:
                    raise AssertionError(f"{name} exited with {process.returncode}:\n"
                                         f"{tail(self.uwsgi_log)}\n{tail(self.tmp / 'nginx-error.log')}")
            last = request(self.port, "GET", "/healthz", timeout=5)
            if last.status == 200:
                return last
            time.sleep(0.2)
        raise AssertionError(f"no healthy /healthz within {timeout} s: {last}\n{tail(self.uwsgi_log)}")

    def workers(self):
        try:
            return [child for child in psutil.Process(self.uwsgi.pid).children()
                    if child.name() == "uwsgi"]
        except psutil.Error:
            return []

    def roots(self):
        return [p.pid for p in (self.uwsgi, self.nginx) if p is not None and p.poll() is None]

    def stop(self):
        """Stop nginx and uWSGI; return what outlived them (killed by PID). The browser
        directories a killed worker left (`browser_dirs_left`) are then removed, as the next
        start of this instance would."""
        from wsgi_app import instance_id
        stop_process(self.nginx, signal.SIGQUIT)
        stop_process(self.uwsgi, signal.SIGTERM, timeout=30)
        left = kill_tagged(self.tag, grace=12)
        instance = instance_id(self.config)
        self.browser_dirs_left = [path for path, marker in browser_dirs(self.temp_dir)
                                  if getattr(Owner.parse(marker), "instance", None) == instance]
        reap_orphans(instance, temp_dir=self.temp_dir)
        return left


class Stacks:
    """Stacks a test makes, each in a directory of its own under `tmp`: make(**scraper) calls
    new(directory, scraper) for one (not yet started); stop_all() stops every one made, after
    before_stop(stack), and fails when any left a process (killed by then)."""

    def __init__(self, tmp, new):
        self.tmp = Path(tmp)
        self.new = new
        self.made = []

    def make(self, **scraper):
        directory = self.tmp / f"stack{len(self.made)}"
        directory.mkdir()
        stack = self.new(directory, scraper)
        self.made.append(stack)
        return stack

    def stop_all(self, before_stop=None):
        left = []
        for stack in self.made:
            if before_stop:
                before_stop(stack)
            left += stack.stop()
        assert not left, f"processes outlived the stack (killed now): {left}"


# ---------------------------------------------------------------- one request, and bounded load

@dataclass
class Outcome:
    method: str
    path: str
    started: float
    ended: float = 0.0
    status: int = 0            # 0: no HTTP answer
    code: str = ""             # the contract's error code, "html" for a non-JSON error page
    failure: str = ""          # "timeout", "reset", ... when there was no HTTP answer
    body: bytes = b""
    headers: dict = field(default_factory=dict)

    @property
    def seconds(self):
        return self.ended - self.started

    @property
    def label(self):
        if not self.status:
            return f"no-answer:{self.failure}"
        return f"{self.status}" + (f" {self.code}" if self.code else "")

    def json(self):
        return json.loads(self.body)


def request(port, method, path, body=None, headers=None, timeout=30):
    """One HTTP request to 127.0.0.1:port on its own connection; never raises for I/O errors."""
    outcome = Outcome(method, path, time.monotonic())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        outcome.body = response.read()
        outcome.status = response.status
        outcome.headers = {k.lower(): v for k, v in response.getheaders()}
        if outcome.status >= 400:
            if outcome.headers.get("content-type", "").startswith("application/json"):
                try:
                    outcome.code = json.loads(outcome.body)["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    outcome.code = "bad-json"
            else:
                outcome.code = "html"
    except socket.timeout:
        outcome.failure = "timeout"
    except (OSError, http.client.HTTPException) as error:
        outcome.failure = type(error).__name__
    finally:
        connection.close()
        outcome.ended = time.monotonic()
    return outcome


def search_path(rng, cacheable=False):
    """A search the demo site answers; without `cacheable` it is unlikely to repeat."""
    q = rng.choice(QUERIES)
    if cacheable:
        return f"/searchaddr1?q={_quote(q)}"
    return f"/searchaddr1?q={_quote(q)}&page={rng.randint(1, 20)}&per_page={rng.randint(1, 50)}"


def _quote(text):
    from urllib.parse import quote
    return quote(text)


@dataclass
class Load:
    """`clients` threads sending requests made by `next_request(rng)` until stop() or the limits.

    Bounded twice: at most `max_requests` in all and at most `max_seconds` of wall time.
    """
    port: int
    clients: int
    next_request: object        # rng -> (method, path, body, headers)
    max_requests: int = 100_000
    max_seconds: float = 120
    timeout: float = 30
    seed: int = 1
    outcomes: list = field(default_factory=list, init=False)
    _lock: object = field(default_factory=threading.Lock, init=False, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _threads: list = field(default_factory=list, init=False, repr=False)

    def start(self):
        self.deadline = time.monotonic() + self.max_seconds
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(random.Random(self.seed * 1000 + number),),
                                      name=f"load-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _client(self, rng):
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            with self._lock:
                if len(self.outcomes) >= self.max_requests:
                    return
            method, path, body, headers = self.next_request(rng)
            outcome = request(self.port, method, path, body, headers, self.timeout)
            with self._lock:
                self.outcomes.append(outcome)
            if outcome.status == 503:
                # As a well-behaved client does: back off as Retry-After says (at most 1 s here),
                # rather than spin on the CPU the browsers need.
                self._stop.wait(min(1.0, float(outcome.headers.get("retry-after", "1") or 1)))
            elif outcome.status >= 500 or not outcome.status:
                # Clients run on this same 2-core machine: retrying an instant 502 at once would
                # measure the clients' CPU, not the service. A short pause, as a real client makes.
                self._stop.wait(0.1)

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        return self.outcomes

    def since(self, moment):
        with self._lock:
            return [o for o in self.outcomes if o.ended >= moment]

    def snapshot(self):
        with self._lock:
            return list(self.outcomes)


def tally(outcomes):
    counts = {}
    for outcome in outcomes:
        counts[outcome.label] = counts.get(outcome.label, 0) + 1
    return dict(sorted(counts.items()))

