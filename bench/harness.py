"""Starting, measuring and stopping the servers the benchmarks compare, all under one uWSGI setup."""
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import psutil

from repo import REPO  # first: it puts the repo's modules on the path
# Finding and stopping processes is shared with the test suite.
from tests.support import processes as shared_processes  # noqa: E402
from tests.support.processes import free_port, stop_process, tail  # noqa: E402

# uWSGI is started by name: the one installed beside this Python (the virtualenv's).
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

PEERS = REPO / "bench" / "peers"
DEMO_URL = (REPO / "demo_site" / "index.html").as_uri()
# Every process a benchmark starts (uWSGI, chromedriver, Chromium) inherits this marker.
TAG_ENV = "SEARCHADDR_BENCH_TAG"
ORIGIN = "https://blog.example.com"
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"     # uwsgi.ini makes one per instance

# Options that say which app runs and where it listens; everything else is shared by all servers.
APP_KEYS = {"module", "eval", "wsgi-file", "wsgi", "callable", "mount", "file", "app",
            "http-socket", "http11-socket", "socket", "uwsgi-socket", "http", "https", "shared-socket",
            "chmod-socket", "chown-socket", "pidfile", "pidfile2", "daemonize", "daemonize2",
            "logto", "logto2", "req-logger", "logger", "stats", "touch-reload", "touch-chain-reload",
            "show-config",
            "ini", "inherit", "exec-asap", "exec-in-jail"}
# uWSGI's --show-config keeps the (already evaluated) if-env blocks as empty markers.
LOGIC_KEYS = {"if-env", "if-not-env", "if-exists", "if-not-exists", "if-file", "if-not-file",
              "if-dir", "if-not-dir", "if-opt", "if-not-opt", "endif", "for", "for-readline", "endfor"}


def tagged_processes(tag):
    """Live processes of a benchmark's tag, with their descendants (Chromium's zygote and
    renderers overwrite their environment)."""
    return shared_processes.tagged_processes(tag, TAG_ENV, descendants=True)


def kill_tagged(tag, grace=5.0):
    """SIGKILL, by PID, what is left of a benchmark's tag after `grace` seconds; returns 'name:pid' of each."""
    return shared_processes.kill_tagged(tag, grace, TAG_ENV, descendants=True)


LOG_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - ")


def uwsgi_settings_of_service(section="dev", ini=REPO / "uwsgi.ini"):
    """The effective options of `uwsgi --ini uwsgi.ini:<section>`, as (key, value) pairs.

    uWSGI itself expands the file (inherit, includes, placeholders) and prints it with
    --show-config; it is stopped as soon as the configuration has been printed.
    """
    ini = Path(ini)
    if not ini.exists():
        raise FileNotFoundError(f"{ini} does not exist yet")
    tag = uuid.uuid4().hex
    probe_dir = tempfile.mkdtemp(prefix="bench-showconfig-")
    # SEARCHADDR_SOCKET: the file's unix socket goes to a temp dir (and is dropped below).
    env = dict(os.environ, **{TAG_ENV: tag, "SEARCHADDR_CONFIG": write_service_config(probe_dir),
                              "SEARCHADDR_SOCKET": os.path.join(probe_dir, "probe.sock")})
    # A socket that cannot clash with anything, so a fixed port in the file never matters here.
    process = subprocess.Popen(
        ["uwsgi", "--ini", f"{ini}:{section}", "--show-config",
         "--http-socket", f"127.0.0.1:{free_port()}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 30
        inside = False
        for line in process.stdout:
            # uwsgi.ini's log-date puts the date before each line uWSGI logs.
            line = LOG_DATE.sub("", line.rstrip("\n"))
            if line.startswith(";uWSGI instance configuration"):
                inside = True
                continue
            if line.startswith(";end of configuration"):
                break
            if inside:
                lines.append(line)
            if time.monotonic() > deadline:
                raise TimeoutError("uwsgi --show-config printed no configuration in 30 s")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        kill_tagged(tag)
        process.stdout.close()
        shutil.rmtree(probe_dir, ignore_errors=True)
    pairs = []
    for line in lines:
        if line.startswith("[") or not line.strip() or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if key.strip() not in LOGIC_KEYS:
            pairs.append((key.strip(), value.strip()))
    # The file makes a metrics directory when it is read (and removes it when uWSGI exits, which
    # a killed probe never does): that one is the probe's. Each server gets its own (UwsgiServer).
    for key, value in pairs:
        if key == "env" and value.startswith(METRICS_ENV + "="):
            shutil.rmtree(value.partition("=")[2], ignore_errors=True)
    return pairs


# Options of the service's file that must not apply to a benchmark run: where it listens, logs, pidfiles.
PLACE_KEYS = APP_KEYS - {"module", "eval", "wsgi-file", "wsgi", "callable", "mount", "file", "app"}


def service_settings(service_pairs):
    """The service's own effective options, listening where the benchmark says, with our config."""
    pairs = [(key, value) for key, value in service_pairs
             if key not in PLACE_KEYS and not (key == "env" and value.startswith("SEARCHADDR_CONFIG="))]
    if not any(key in ("module", "eval", "wsgi-file", "wsgi", "mount") for key, _ in pairs):
        pairs.append(("eval", "import uwsgi_host; stops = uwsgi_host.watch_stops(); "
                              "import worker; application = worker.serve(stops)"))
    if not any(key == "chdir" for key, _ in pairs):
        pairs.append(("chdir", str(REPO)))
    return pairs


def shared_settings(service_pairs):
    """The service's uWSGI options minus those that pick the app and the socket."""
    return [(key, value) for key, value in service_pairs
            if key not in APP_KEYS and key != "env"]


def setting(pairs, key, default=None):
    values = [value for name, value in pairs if name == key]
    return values[-1] if values else default


def write_service_config(directory, browsers=2, checkout_timeout=2, page_timeout=8,
                         recycle_after=200, cache_size=2000, ttl=300, origins=None,
                         remote_url_override="", line="devtools"):
    """A searchaddr INI (CONTRACT.md "Configuration") for one benchmark run; returns its path."""
    origins = origins or f"{ORIGIN} http://localhost:4000"
    path = Path(directory) / "searchaddr.ini"
    path.write_text(f"""[cors]
origins = {origins}
paths = /searchaddr1 /searchaddr2
max_age = 600
allow_headers = Content-Type

[scraper]
source = demo
url =
browsers = {browsers}
checkout_timeout = {checkout_timeout}
page_timeout = {page_timeout}
recycle_after = {recycle_after}
remote_url = {remote_url_override}
line = {line}
chromium = /usr/lib/chromium/chromium-headless-shell
chromedriver = /usr/bin/chromedriver

[cache]
ttl = {ttl}
size = {cache_size}
""", encoding="utf-8")
    return str(path)


class UwsgiServer:
    """One uWSGI instance on 127.0.0.1:<free port>, stopped (with every tagged child) on exit."""

    def __init__(self, name, pairs, env=None, ready_path="/"):
        self.name = name
        self.pairs = pairs
        self.env = env or {}
        self.ready_path = ready_path
        self.tag = uuid.uuid4().hex
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        self.log_path = Path(self.workdir) / "uwsgi.log"
        self._log_text = None           # the log, kept once stop() removed the workdir
        self.process = None

    @classmethod
    def service(cls, service_pairs, config_path, name="service"):
        """searchaddr itself, with the settings uwsgi.ini:dev gives it (see service_settings)."""
        return cls(name, service_pairs, env={"SEARCHADDR_CONFIG": config_path}, ready_path="/healthz")

    @classmethod
    def peer(cls, shared, wsgi_file, name, env=None):
        pairs = shared + [("chdir", str(REPO)), ("wsgi-file", str(wsgi_file)),
                          ("callable", "application")]
        return cls(name, pairs, env=env)

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=60):
        ini = Path(self.workdir) / "uwsgi.ini"
        lines = ["[uwsgi]", f"http-socket = 127.0.0.1:{self.port}"]
        # Values come expanded from --show-config: a literal % is written %% so it stays one.
        # A metrics directory of this server's own: the service removes its directory at exit.
        metrics_dir = Path(self.workdir) / "metrics"
        metrics_dir.mkdir(exist_ok=True)
        pairs = [(key, f"{METRICS_ENV}={metrics_dir}"
                  if key == "env" and value.startswith(METRICS_ENV + "=") else value)
                 for key, value in self.pairs]
        lines += [f"{key} = {value.replace('%', '%%')}" for key, value in pairs]
        ini.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = dict(os.environ, **self.env, **{TAG_ENV: self.tag})
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(["uwsgi", "--ini", str(ini)], cwd=REPO, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = tail(self.log_path)
                self.stop()
                raise RuntimeError(f"{self.name}: uwsgi exited with {self.process.returncode}:\n{log}")
            with contextlib.suppress(OSError):
                status = http_status(self.port, self.ready_path)
                if status < 500:
                    return
            time.sleep(0.1)
        log = tail(self.log_path)
        self.stop()
        raise TimeoutError(f"{self.name}: not answering after {timeout} s:\n{log}")

    def stop(self):
        """SIGINT makes the uWSGI master shut down at once; anything tagged left is killed by PID.
        Its directory goes too; its log stays readable (log_text())."""
        stop_process(self.process, signal.SIGINT, timeout=20)
        self.leftovers = kill_tagged(self.tag)
        if getattr(self, "_log", None):
            self._log.close()
        self._log_text = self.log_text()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_text(self):
        if self._log_text is not None:
            return self._log_text
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def workers(self):
        """The uWSGI worker processes (children of the master that run uwsgi)."""
        master = psutil.Process(self.process.pid)
        return [child for child in master.children() if child.name().startswith("uwsgi")]

    def processes(self):
        return tagged_processes(self.tag)

    def cpu_seconds(self):
        """CPU used so far by the master and its workers, including workers already replaced.

        A replaced worker's time moves into the master's children_* counters when it is reaped,
        so deltas of this figure stay right across max-requests respawns. Live browsers are not
        counted (idle during the non-scrape benchmarks).
        """
        total = 0.0
        master = psutil.Process(self.process.pid)
        for process in [master] + master.children():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
        return total


def browser_processes(processes):
    """(chromedriver, chromium) processes among `processes`."""
    drivers, browsers = [], []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            name = process.name()
            if name == "chromedriver":
                drivers.append(process)
            elif "chrom" in name or "setpriv" in name:
                browsers.append(process)
    return drivers, browsers


def rss_mb(processes):
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total / 2**20


def pss_mb(processes):
    """Proportional set size: shared pages counted once across the processes."""
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error, AttributeError):
            total += process.memory_full_info().pss
    return total / 2**20


def http_status(port, path, timeout=5):
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def search_path(q, page=None, per_page=None):
    params = {"q": q}
    if page is not None:
        params["page"] = page
    if per_page is not None:
        params["per_page"] = per_page
    return "/searchaddr1?" + urllib.parse.urlencode(params)


def cpu_load():
    """The 1-minute load average and how many cores: recorded with each run to show the noise."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


TIMING = re.compile(r"(\w+);(?:desc=(\w+)|dur=([0-9.]+))")


def server_timing(header):
    """'cache;desc=miss, wait;dur=0.1, scrape;dur=31.2' -> {'cache': 'miss', 'wait': 0.1, ...}."""
    parsed = {}
    for name, desc, duration in TIMING.findall(header or ""):
        parsed[name] = desc if desc else float(duration)
    return parsed
