"""The Docker image, built and run for real, as the README deploys it: the container runs with
--user 1000, its socket and log directories bind-mounted from the host, and the host's nginx
(the shipped example config) passes requests to the mounted socket.

Needs root and podman (or a running docker daemon): without them this test fails, never skips."""
import grp
import os
import shutil
import stat
import subprocess
import time
import uuid
from urllib.parse import quote

import pytest

from tests.support.deploy import (ContainerEngine, nginx, nginx_group, render_example, shared_dir, socket_dir,
                                  search_when_ready, wait_for_port, wait_until_warm)
from tests.support.processes import (CHROMIUM_NAMES, TAG_ENV, free_port, kill_tagged, tagged_processes, tail,
                                     wait_for_no_processes, wait_until)
from tests.support.servers import ROOT, header_values, http_request

pytestmark = pytest.mark.integration

IMAGE = "localhost/searchaddr:test"
# The build stage that makes the index, tagged so that it is no untagged image left behind (it
# stays as the next build's cache).
INDEX_STAGE = ("localhost/searchaddr-index:test", "index")
SERVICE_UID = 1000
ORIGIN = "https://blog.example.com"


@pytest.fixture(scope="module")
def engine():
    assert os.geteuid() == 0, "the container test runs as root (rootful podman, host dirs owned by uid 1000)"
    return ContainerEngine.find()


@pytest.fixture(scope="module")
def image(engine, progress):
    progress(f"container: making sure {engine.name} has the base image (the first time: a pull or a debootstrap)")
    engine.base_image()
    progress("container: building the image")
    started = time.monotonic()
    replaced = {tag: engine.image_id(tag) for tag in (INDEX_STAGE[0], IMAGE)}
    for tag, target in (INDEX_STAGE, (IMAGE, None)):
        build = subprocess.run(engine.build_command(tag, ROOT, target), capture_output=True, text=True,
                               timeout=900)
        assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    # The images these tags named before: this test's own, of an earlier run; none is left untagged.
    for tag, previous in replaced.items():
        if previous and engine.image_id(tag) != previous:
            engine.run("rmi", previous, check=False)
    size = int(engine.run("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
    progress(f"container: image built in {time.monotonic() - started:.1f} s, {size / 1e6:.0f} MB")
    return IMAGE


@pytest.fixture
def host_dirs():
    """The host side of the two volumes, set up as the README says."""
    base = shared_dir("searchaddr-container-")
    run = socket_dir(base, SERVICE_UID)
    logs = os.path.join(base, "logs")
    os.mkdir(logs)
    os.chown(logs, SERVICE_UID, SERVICE_UID)
    try:
        yield base, run, logs
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_container_behind_host_nginx(engine, image, host_dirs, progress):
    _, run, logs = host_dirs
    sock = os.path.join(run, "searchaddr.sock")
    tag = uuid.uuid4().hex
    name = f"searchaddr-test-{tag[:12]}"
    nginx_port = free_port()
    progress("container: starting it, then waiting for the socket and the browsers' warm-up")
    started = time.monotonic()
    engine.run("run", "-d", "--name", name, "--user", str(SERVICE_UID), "--network=none",
               *engine.limits, "-e", f"{TAG_ENV}={tag}",
               "-v", f"{run}:/app/run", "-v", f"{logs}:/app/logs", image)
    try:
        wait_until(lambda: os.path.exists(sock) or not running(engine, name), 60, "the container's socket")
        assert running(engine, name), engine.run("logs", name, check=False).stderr
        socket_mode = os.stat(sock)
        assert stat.S_IMODE(socket_mode.st_mode) == 0o660 and socket_mode.st_uid == SERVICE_UID
        assert socket_mode.st_gid == grp.getgrnam(nginx_group()).gr_gid
        wait_until_warm(sock)
        progress(f"container: warm {time.monotonic() - started:.1f} s after start; searching through the host's nginx")

        config = render_example("searchaddr-api.conf", nginx_port, [sock])
        with nginx(config, tag) as (nginx_process, _):
            wait_for_port(nginx_port, nginx_process, "nginx")
            status, headers, body, attempts = search_when_ready(
                nginx_port, "/searchaddr1?q=" + quote("세종대로 110"), {"Origin": ORIGIN})
            progress(f"container: first answer {time.monotonic() - started:.1f} s after start ({attempts} tries)")
            assert status == 200, (body, tail(os.path.join(logs, "searchaddr.log")))
            assert header_values(headers, "Access-Control-Allow-Origin") == [ORIGIN]
            assert header_values(headers, "Content-Type")[0].startswith("application/json")
            assert body["total"] == 1 and body["results"][0]["zip"] == "04524"
            assert body["results"][0]["building"] == "서울특별시청"
            status, headers, body = http_request(nginx_port, "POST", "/searchaddr2",
                                                 {"id": body["results"][0]["id"]},
                                                 {"Origin": ORIGIN, "Content-Type": "application/json"})
            assert status == 200 and body["result"]["lat"] == 37.5663 and body["result"]["admin_code"] is None
            assert header_values(headers, "Access-Control-Allow-Origin") == [ORIGIN]
            status, headers, body = http_request(nginx_port, "GET", "/searchaddr1?q=ab",
                                                 headers={"Origin": "https://evil.example"})
            assert status == 403 and header_values(headers, "Access-Control-Allow-Origin") == []

        health = engine.run("healthcheck", "run", name, check=False) if engine.name == "podman" else \
            engine.run("exec", name, "python3", "/app/deploy/healthcheck.py", check=False)
        assert health.returncode == 0, health.stdout + health.stderr

        log_file = os.path.join(logs, "searchaddr.log")
        assert os.path.exists(log_file) and os.stat(log_file).st_uid == SERVICE_UID
        with open(log_file, errors="replace") as file:
            assert "GET /searchaddr1 200" in file.read()
        browsers = tagged_processes(tag, names=CHROMIUM_NAMES + ("chromedriver",))
        assert browsers, "no browser ran in the container"

        progress("container: stopping it")
        stop_started = time.monotonic()
        engine.run("stop", "-t", "10", name, timeout=60)
        stopped_in = time.monotonic() - stop_started
        progress(f"container: stopped in {stopped_in:.1f} s")
        exit_code = engine.run("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        assert stopped_in < 10 and exit_code == "0", f"stop took {stopped_in:.1f} s, exit code {exit_code}"
        assert not os.path.exists(sock), "the socket was left behind"
        assert wait_for_no_processes(tag, timeout=5) == []
        with open(log_file, errors="replace") as file:
            assert "goodbye to uWSGI" in file.read()
    finally:
        engine.run("rm", "-f", "-t", "0", name, check=False)
        kill_tagged(tag)


def running(engine, name):
    state = engine.run("inspect", "--format", "{{.State.Running}}", name, check=False)
    return state.stdout.strip() == "true"
