"""HTTP spoken by hand over raw sockets, for requests no client library would send."""
import socket
import time
from dataclasses import dataclass


@dataclass
class RawAnswer:
    status: int            # 0: the server closed (or never answered) without a status line
    raw: bytes
    seconds: float
    timed_out: bool = False

    @property
    def head(self):
        return self.raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")

    @property
    def body(self):
        return self.raw.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.raw else b""

    def header(self, name):
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


def exchange(port, pieces, timeout=10.0, pause=0.0, read_all=False):
    """Send `pieces` (bytes each) with `pause` seconds between them; read the first answer.

    Reads until the server closes, or (unless read_all) until one full answer has arrived.
    """
    started = time.monotonic()
    data = b""
    timed_out = False
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            for number, piece in enumerate(pieces):
                if number and pause:
                    time.sleep(pause)
                sock.sendall(piece)
        except OSError:
            pass      # the server may refuse and close before we finished sending
        deadline = started + timeout
        while time.monotonic() < deadline:
            try:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(65536)
            except socket.timeout:
                timed_out = True
                break
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            if not read_all and _complete(data):
                break
        else:
            timed_out = True
    return RawAnswer(_status(data), data, time.monotonic() - started, timed_out)


def _status(data):
    line = data.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return 0


def _complete(data):
    if b"\r\n\r\n" not in data:
        return False
    head, body = data.split(b"\r\n\r\n", 1)
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value.strip())
    if b"transfer-encoding: chunked" in head.lower():
        return body.endswith(b"0\r\n\r\n")
    return _status(data) in (204, 304)
