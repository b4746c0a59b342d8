"""The edge under faults: many connections at once, slow clients, and the dev server, for
tests/test_edge_faults.py and bench/edge_faults.py. Loopback only; every load bounded in count
and time; every socket closed."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.support.processes import free_port, kill_tagged, stop_process, tail
from tests.support.processes import tagged_processes as tagged
from tests.support.stack import REPO

ORIGIN = "https://blog.example.com"


@dataclass
class Answer:
    status: int = 0                 # 0: no HTTP answer at all
    failure: str = ""
    headers: list = field(default_factory=list)
    body: bytes = b""
    seconds: float = 0.0

    def header(self, name):
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def is_json(self):
        if not self.status:
            return False
        if self.status == 204:
            return True
        if not any(v.split(";")[0].strip() == "application/json" for v in self.header("Content-Type")):
            return False
        try:
            json.loads(self.body)
        except ValueError:
            return False
        return True

    @property
    def label(self):
        if not self.status:
            return f"no answer ({self.failure})"
        return f"{self.status} {'json' if self.is_json else 'NOT JSON: ' + ','.join(self.header('Content-Type'))}"

    @property
    def made_by_nginx(self):
        """nginx's own JSON answer (deploy/nginx: @searchaddr_* locations), not the app's."""
        return self.is_json and b"the service is restarting or overloaded" in self.body


def raw_request(method, path, headers=None, body=b""):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return status, headers, body


async def _one(port, request, timeout):
    started = time.monotonic()
    answer = Answer()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
        if data:
            answer.status, answer.headers, answer.body = parse_response(data)
        else:
            answer.failure = "closed"
    except asyncio.TimeoutError:
        answer.failure = "timeout"
    except (OSError, ValueError, IndexError) as error:
        answer.failure = type(error).__name__
    finally:
        if writer is not None:
            writer.close()
    answer.seconds = time.monotonic() - started
    return answer


def burst(port, requests, timeout=30):
    """Every request in `requests` (bytes) on its own connection, all at once; their Answers."""
    async def run():
        return await asyncio.gather(*(_one(port, request, timeout) for request in requests))
    return asyncio.run(run())


def waves(port, connections, make_request, seconds, timeout=30):
    """`connections` clients, each sending one request after another (a new connection each)
    until `seconds` have passed; every Answer. Bounded: seconds + timeout of wall time."""
    async def client(number, deadline, answers):
        sent = 0
        while time.monotonic() < deadline:
            answer = await _one(port, make_request(number, sent), timeout)
            answers.append(answer)
            sent += 1
            if answer.status == 503 or not answer.status:
                # As the widget does: wait as Retry-After says (here at most 1 s).
                await asyncio.sleep(min(1.0, float((answer.header("Retry-After") or ["1"])[0])))

    async def run():
        answers = []
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(client(number, deadline, answers) for number in range(connections)))
        return answers
    return asyncio.run(run())


@contextmanager
def slow_clients(port, count, kind):
    """`count` connections that stay open mid-request: "headers" (slowloris: the headers never
    end) or "body" (a 1,000-byte JSON body of which one byte was sent)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sockets.append(sock)
            if kind == "headers":
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
            else:
                sock.sendall(b"POST /searchaddr1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def timed_health(port, timeout=5):
    """(status or 0, seconds) of one GET /healthz on a new connection."""
    answer = burst(port, [raw_request("GET", "/healthz")], timeout)[0]
    return answer.status, answer.seconds


class DevServer:
    """`uwsgi --ini uwsgi.ini:dev` (the README's first command) on 127.0.0.1:port, in a process
    group of its own (as a terminal starts it), watching a chain-reload file of its own."""

    def __init__(self, tmp, tag, config=None):
        self.tmp = tmp
        self.tag = tag
        self.port = free_port()
        self.log = tmp / "uwsgi-dev.log"
        self.chain_reload = tmp / "chain-reload"
        self.config = config
        self.process = None

    def launch(self):
        """Start it and return at once."""
        env = {**os.environ, "SEARCHADDR_TEST_TAG": self.tag, "SEARCHADDR_HTTP": f"127.0.0.1:{self.port}",
               "SEARCHADDR_CHAIN_RELOAD": str(self.chain_reload)}
        if self.config is not None:
            env["SEARCHADDR_CONFIG"] = str(self.config)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(["uwsgi", "--ini", "uwsgi.ini:dev"], cwd=REPO, env=env,
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        return self

    def start(self, timeout=60):
        """Start it and wait until /healthz answers 200."""
        self.launch()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"uwsgi dev exited: {tail(self.log)}")
            if timed_health(self.port, 5)[0] == 200:
                return self
            time.sleep(0.2)
        raise AssertionError(f"uwsgi dev not answering: {tail(self.log)}")

    def stop(self):
        """Stop it; return what outlived it (killed by PID)."""
        stop_process(self.process, signal.SIGTERM, timeout=30)
        deadline = time.monotonic() + 10
        while tagged(self.tag) and time.monotonic() < deadline:
            time.sleep(0.2)
        return kill_tagged(self.tag)
