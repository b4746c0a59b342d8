"""How long the service takes to stop, and how long a rolling restart leaves no worker accepting,
on `uwsgi --ini uwsgi.ini:dev` with the shipped searchaddr.ini and real Chromium:

  sigterm   SIGTERM to the master of a service that has answered a search
  stuck     SIGTERM while a search waits on a stopped browser (its renderer stopped first, so
            that the search takes the browser, then all of it)
  ctrl-c    SIGINT to the whole process group, as a terminal sends it
  reload    a chain reload (a touch of the reload file) while two clients ask /healthz without
            pause, each on a new connection: the longest answer is how long requests waited
            for the successor

Seconds from the signal until the master has exited (reload: the longest answer), median and
maximum over --rounds, with the load average (the machine is shared; uwsgi.ini promises a stop
within 2 s, so these are absolute figures). Loopback only; every process carries a tag of its
own and whatever outlives a round is killed by PID.

    .venv/bin/python bench/stops.py [--rounds 5] [--only sigterm,stuck,ctrl-c,reload]
"""
import argparse
import contextlib
import os
import shutil
import signal
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psutil

from repo import REPO   # first: it puts the repo's modules on the path

os.environ["PATH"] = str(REPO / ".venv" / "bin") + os.pathsep + os.environ.get("PATH", "")

from tests.support.processes import CHROMIUM_NAMES, kill_tagged, tagged_processes, wait_until   # noqa: E402
from tests.support.edge import DevServer   # noqa: E402
from tests.support.stack import request   # noqa: E402


def search(port, page=1):
    return request(port, "GET", f"/searchaddr1?q={quote('세종대로')}&page={page}", timeout=30)


def served(directory):
    """A dev server that has answered a search, its browser files under a TMPDIR of its own."""
    server = DevServer(directory, uuid.uuid4().hex).launch()
    if not wait_until(lambda: request(server.port, "GET", "/healthz", timeout=5).status == 200, 60):
        raise RuntimeError(f"the dev server did not start: {server.log}")
    assert search(server.port).status == 200
    return server


def until_exit(server, send):
    started = time.monotonic()
    send()
    server.process.wait(60)
    return time.monotonic() - started


def sigterm(server):
    return until_exit(server, lambda: server.process.send_signal(signal.SIGTERM))


def ctrl_c(server):
    return until_exit(server, lambda: os.killpg(server.process.pid, signal.SIGINT))


def stuck(server):
    chromium = [p for p in tagged_processes(server.tag, descendants=True) if p.info["name"] in CHROMIUM_NAMES]
    for process in chromium:
        if "--type=renderer" in " ".join(process.cmdline()):
            process.send_signal(signal.SIGSTOP)
    client = threading.Thread(target=search, args=(server.port, 2), daemon=True)
    client.start()
    time.sleep(1.0)         # the search has the browser and waits for its renderer
    for process in chromium:
        process.send_signal(signal.SIGSTOP)
    return until_exit(server, lambda: server.process.send_signal(signal.SIGTERM))


def reload(server):
    answers = []
    done = threading.Event()

    def ask():
        while not done.is_set():
            answers.append(request(server.port, "GET", "/healthz", timeout=30))

    clients = [threading.Thread(target=ask, daemon=True) for _ in range(2)]
    for client in clients:
        client.start()
    time.sleep(0.5)
    touched = time.monotonic()
    server.chain_reload.touch()
    wait_until(lambda: "chain reloading complete" in server.log.read_text(errors="replace"), 30)
    time.sleep(0.5)
    done.set()
    for client in clients:
        client.join(35)
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(60)
    during = [answer for answer in answers if answer.ended >= touched]
    failed = [answer.label for answer in during if answer.status != 200]
    if failed:
        raise RuntimeError(f"answers other than 200 during the reload: {failed}")
    return max(answer.seconds for answer in during)


MEASURES = {"sigterm": sigterm, "stuck": stuck, "ctrl-c": ctrl_c, "reload": reload}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(MEASURES))
    args = parser.parse_args()
    print("measure | median s | max s | rounds | load average", flush=True)
    for name in args.only.split(","):
        figures = []
        for _ in range(args.rounds):
            directory = Path(tempfile.mkdtemp(prefix="sa-stops-", dir="/tmp"))
            os.environ["TMPDIR"] = str(directory)
            server = None
            try:
                server = served(directory)
                figures.append(MEASURES[name](server))
            finally:
                if server is not None:
                    for process in tagged_processes(server.tag, descendants=True):
                        with contextlib.suppress(psutil.Error):
                            process.send_signal(signal.SIGCONT)
                    kill_tagged(server.tag, grace=5)
                del os.environ["TMPDIR"]
                shutil.rmtree(directory, ignore_errors=True)
        print(f"{name} | {statistics.median(figures):.2f} | {max(figures):.2f} | {len(figures)} | "
              f"{os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
