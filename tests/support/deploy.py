"""Real nginx (from the shipped examples in deploy/nginx/), a container engine and a Selenium Grid
for the deployment tests. Everything started here is stopped by PID, even when a test fails."""
import grp
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager

from tests.support.processes import TAG_ENV, free_port, stop_process, wait_until
from tests.support.servers import (ROOT, _port_open, http_request, install_nginx_includes, nginx_command,
                                   write_nginx_conf)

NGINX_EXAMPLES = os.path.join(ROOT, "deploy", "nginx")


def _load_healthcheck():
    """deploy/healthcheck.py (a script, not a package module: `deploy` here is tests/deploy)."""
    spec = importlib.util.spec_from_file_location("searchaddr_healthcheck",
                                                  os.path.join(ROOT, "deploy", "healthcheck.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = _load_healthcheck()
EXAMPLE_SOCKET = "unix:/srv/searchaddr/run/searchaddr.sock"


def nginx_group():
    """The group a host nginx runs as: www-data on Debian."""
    try:
        return grp.getgrnam("www-data").gr_name
    except KeyError:
        return grp.getgrgid(os.getgid()).gr_name


def shared_dir(prefix):
    """A fresh directory that nginx's workers (another user when we are root) can traverse."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def socket_dir(parent, owner_uid):
    """The production recipe: owned by the service, group nginx's, setgid, 2750."""
    path = os.path.join(parent, "run")
    os.mkdir(path)
    if os.geteuid() == 0:
        os.chown(path, owner_uid, grp.getgrnam(nginx_group()).gr_gid)
    os.chmod(path, 0o2750)
    return path


def app_answer_config(text):
    """The active lines of an nginx file that apply to the app's own answers: everything but
    comments, the generated CORS maps and the @searchaddr_* locations of nginx's own errors."""
    active = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    active = re.sub(r"\bmap\b[^{]*\{[^}]*\}", "", active)
    return re.sub(r"^( *)location @searchaddr_\w+ \{.*?\n\1\}", "", active, flags=re.DOTALL | re.MULTILINE)


def assert_no_cors_on_app_answers(name, text):
    """CORS headers belong to the app: nginx writes them (through searchaddr-error-headers.conf)
    only in the @searchaddr_* locations."""
    active = app_answer_config(text)
    assert "Access-Control" not in active and "searchaddr-error-headers" not in active, \
        f"{name}: CORS headers belong to the app, not nginx"


def render_example(name, port, sockets, root=None, enable_limit_req=True):
    """An example config from deploy/nginx/ with its socket(s), listen address and web root
    replaced, and the optional rate limit switched on (so its syntax is tested too). It includes
    the snippets from snippets/ next to the nginx.conf that `nginx()` writes."""
    with open(os.path.join(NGINX_EXAMPLES, name), encoding="utf-8") as file:
        text = file.read()
    assert_no_cors_on_app_answers(name, text)
    for snippet in ("searchaddr-server.conf", "searchaddr-location.conf"):
        with open(os.path.join(NGINX_EXAMPLES, "snippets", snippet), encoding="utf-8") as file:
            assert_no_cors_on_app_answers(snippet, file.read())
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    # The loopback monitoring servers (9180...): a free port each, not a fixed one.
    text = re.sub(r"listen 127\.0\.0\.1:918\d;", lambda _: f"listen 127.0.0.1:{free_port()};", text)
    examples = re.findall(r"unix:/srv/searchaddr[^;\s]*\.sock", text)
    assert examples, f"{name} has no unix socket to point at"
    for index, example in enumerate(dict.fromkeys(examples)):
        text = text.replace(example, "unix:" + sockets[index])
    if root:
        text = re.sub(r"root /srv/blog/_site;", f"root {root};", text)
    if enable_limit_req:
        text = re.sub(r"# (limit_req\S*) ", r"\1 ", text)
    return text


@contextmanager
def nginx(server_config, tag, edit_snippets=lambda text: text):
    """A real nginx (as the host would run it: workers as www-data when we are root) with the
    given http-level config, and what it includes where the host has it (snippets through
    `edit_snippets`). Yields (process, prefix dir)."""
    prefix = shared_dir("searchaddr-nginx-")
    install_nginx_includes(prefix, edit_snippets)
    conf = write_nginx_conf(prefix, f"""
    access_log {prefix}/access.log;
    include /etc/nginx/mime.types;
{server_config}""", user="www-data www-data" if os.geteuid() == 0 else "")
    check = subprocess.run(nginx_command(conf) + ["-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(nginx_command(conf), env=dict(os.environ, **{TAG_ENV: tag}),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process, prefix
    finally:
        stop_process(process, signal.SIGQUIT)
        shutil.rmtree(prefix, ignore_errors=True)


def wait_for_port(port, process, what, timeout=10):
    wait_until(lambda: _port_open(port) or process.poll() is not None, timeout, what)
    assert process.poll() is None, f"{what} exited with {process.returncode}"


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


class ContainerEngine:
    """podman (rootful, runc), or docker where its daemon runs: the commands differ a little."""

    def __init__(self, name):
        self.name = name
        self.base = [name] + (["--runtime", "runc"] if name == "podman" and shutil.which("runc") else [])
        # Limits runc can set in this kernel; podman's defaults cannot be raised here.
        self.limits = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]

    @classmethod
    def find(cls):
        """The engine to test with, or an AssertionError saying why there is none."""
        if shutil.which("podman"):
            return cls("podman")
        if shutil.which("docker"):
            info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
            if info.returncode == 0:
                return cls("docker")
        raise AssertionError("no container engine: install podman (apt-get install -y podman buildah "
                             "runc uidmap debootstrap containernetworking-plugins iptables) "
                             "or run a docker daemon")

    def run(self, *args, timeout=120, check=True):
        result = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"{self.name} {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    def build_command(self, tag, context, target=None):
        """The build of the Dockerfile in `context` (its stage `target`, or the whole), tagged `tag`."""
        stage = ["--target", target] if target else []
        if self.name == "podman":
            return self.base + ["build", "--jobs", "2", "--pull=never", "--network=host", "--format", "docker",
                                *self.limits, *stage, "-t", tag, context]
        return ["docker", "build", "--network=host", *stage, "-t", tag, context]

    def image_id(self, tag):
        """The id of the image `tag` names, or None when there is none."""
        found = self.run("image", "inspect", "--format", "{{.Id}}", tag, check=False)
        return found.stdout.strip() if found.returncode == 0 else None

    def base_image(self):
        """Make sure the Dockerfile's FROM image is present (debootstrap it where no registry is)."""
        if self.name != "podman":
            return
        script = os.path.join(ROOT, "deploy", "base-image.sh")
        result = subprocess.run([script], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr


def wait_until_warm(socket_path, timeout=90, answers=6):
    """Wait until /healthz, asked over the socket as a load balancer's check would, shows the
    warm-up over (a browser open, or its start failed and the first request will retry) in
    `answers` answers in a row: the requests spread over the workers."""
    streak = 0

    def settled():
        nonlocal streak
        try:
            status, body = healthcheck.get(socket_path, "/healthz")
            pool = json.loads(body)["pool"]
            done = status == 200 and pool["in_use"] == 0 and (pool["open"] >= 1 or pool["failed_starts"] >= 1)
        except (OSError, ValueError, KeyError):
            done = False
        streak = streak + 1 if done else 0
        return streak >= answers
    wait_until(settled, timeout, f"the warm-up behind {socket_path}")


def search_when_ready(port, path, headers, attempts=3):
    """The first search after start-up: a machine short of CPU may answer 503/504 (as the
    contract says) while browsers start; anything else fails at once."""
    for attempt in range(1, attempts + 1):
        status, response_headers, body = http_request(port, "GET", path, headers=headers)
        if status not in (503, 504) or attempt == attempts:
            return status, response_headers, body, attempt
        time.sleep(1)
