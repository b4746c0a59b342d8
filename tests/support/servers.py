"""Real uWSGI and nginx processes for integration tests, always stopped (by PID) afterwards; a
loopback HTTP server in a thread; and a plain HTTP client."""
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import free_port, stop_process, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def uwsgi_binary():
    venv = os.path.join(ROOT, ".venv", "bin", "uwsgi")
    return venv if os.access(venv, os.X_OK) else shutil.which("uwsgi")


def _port_open(port):
    with socket.socket() as client:
        return client.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def uwsgi_server(section="", env=None, log_path=None, processes=None, threads=None):
    """`uwsgi --ini uwsgi.ini[:section]` from the repo root, with `processes` workers and
    `threads` threads each instead of the file's when given; yields the Popen."""
    ini = "uwsgi.ini" + (f":{section}" if section else "")
    log = open(log_path or os.devnull, "ab")
    command = ([uwsgi_binary(), "--ini", ini] + (["--processes", str(processes)] if processes else [])
               + (["--threads", str(threads)] if threads else []))
    process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, **(env or {})),
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop_process(process)
        log.close()


def write_nginx_conf(directory, http, user="", error_level="warn", connections=256):
    """DIRECTORY/nginx.conf for a real nginx in the foreground, its pid, error log
    (nginx-error.log) and temp files all under DIRECTORY; `http` is the inside of http {}.
    Returns the file's path."""
    directory = Path(directory)
    (directory / "nginx-temp").mkdir(exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(f"""{f"user {user};" if user else ""}
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log {error_level};
events {{ worker_connections {connections}; }}
http {{
    client_body_temp_path {directory}/nginx-temp/body;
    proxy_temp_path {directory}/nginx-temp/proxy;
    fastcgi_temp_path {directory}/nginx-temp/fastcgi;
    uwsgi_temp_path {directory}/nginx-temp/uwsgi;
    scgi_temp_path {directory}/nginx-temp/scgi;
{http}
}}
""", encoding="utf-8")
    return conf


NGINX_SNIPPETS = Path(ROOT) / "deploy" / "nginx" / "snippets"


def install_nginx_includes(directory, edit=lambda text: text):
    """What the examples in deploy/nginx/ include, where nginx finds it when DIRECTORY holds its
    nginx.conf, as in /etc/nginx/ on Debian: uwsgi_params, and the snippets in snippets/ (each
    through `edit`). Returns the snippets' texts by file name."""
    directory = Path(directory)
    shutil.copy("/etc/nginx/uwsgi_params", directory)
    (directory / "snippets").mkdir(exist_ok=True)
    texts = {}
    for snippet in sorted(NGINX_SNIPPETS.glob("*.conf")):
        texts[snippet.name] = edit(snippet.read_text(encoding="utf-8"))
        (directory / "snippets" / snippet.name).write_text(texts[snippet.name], encoding="utf-8")
    return texts


def nginx_command(conf):
    """nginx on `conf`; errors from before it reads the config go to the same log."""
    directory = Path(conf).parent
    return ["nginx", "-e", str(directory / "nginx-error.log"), "-c", str(conf), "-p", str(directory)]


@contextmanager
def nginx_server(socket_path, port):
    """A real nginx on 127.0.0.1:port passing every request to the uWSGI socket."""
    prefix = tempfile.mkdtemp(prefix="searchaddr-nginx-")
    # As root, nginx's workers would run as nobody, who may not use the 660 socket.
    conf = write_nginx_conf(prefix, f"""
    access_log off;
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 16k;
        location / {{
            include /etc/nginx/uwsgi_params;
            uwsgi_param HTTP_X_REQUEST_START "t=$msec";
            uwsgi_pass unix:{socket_path};
            uwsgi_read_timeout 60s;
        }}
    }}""", user="root" if os.geteuid() == 0 else "")
    process = subprocess.Popen(nginx_command(conf), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _port_open(port) or process.poll() is not None, 10, "nginx")
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {open(os.path.join(prefix, 'nginx-error.log')).read()}")
        yield process
    finally:
        stop_process(process, signal.SIGQUIT)
        shutil.rmtree(prefix, ignore_errors=True)


@contextmanager
def local_http_server(handler):
    """An HTTP server for `handler` on 127.0.0.1 (a free port), in a thread; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def http_request(port, method, path, body=None, headers=None, timeout=60):
    """(status, headers list, parsed JSON or raw bytes) from 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return response.status, response.getheaders(), parsed
    finally:
        connection.close()


def header_values(headers, name):
    return [value for key, value in headers if key.lower() == name.lower()]


@contextmanager
def prometheus_server(targets, directory, interval="1s"):
    """A real Prometheus (Debian's package) on a loopback port, scraping `targets` (host:port,
    path /metrics) every `interval`, its storage under `directory`; yields its base URL."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    config.write_text(f"""global:
  scrape_interval: {interval}
  scrape_timeout: {interval}
scrape_configs:
  - job_name: searchaddr
    static_configs:
      - targets: {json.dumps(list(targets))}
""", encoding="utf-8")
    port = free_port()
    log = open(directory / "prometheus.log", "ab")
    process = subprocess.Popen(["prometheus", f"--config.file={config}",
                                f"--storage.tsdb.path={directory / 'data'}",
                                f"--web.listen-address=127.0.0.1:{port}"],
                               cwd=directory, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def ready():
        if process.poll() is not None:
            return True
        try:
            return http_request(port, "GET", "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, 60, "prometheus")
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {(directory / 'prometheus.log').read_text()}")
        yield url
    finally:
        stop_process(process)
        log.close()


def prometheus_query(url, query):
    """The instant vector of `query` at the latest samples, as [(labels, float value)]."""
    from urllib.parse import urlencode
    from urllib.request import urlopen
    with urlopen(f"{url}/api/v1/query?{urlencode({'query': query})}", timeout=10) as answer:
        body = json.load(answer)
    assert body["status"] == "success", body
    return [(item["metric"], float(item["value"][1])) for item in body["data"]["result"]]
