"""Container health check: GET /healthz over the service's own uWSGI socket (stdlib only).

Exit 0 when the service answers 200 with status "ok", else 1 with the reason on stderr.
The socket is $SEARCHADDR_SOCKET, else run/searchaddr.sock next to uwsgi.ini.
"""
import json
import os
import socket
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SOCKET = os.path.join(ROOT, "run", "searchaddr.sock")


def uwsgi_packet(variables):
    """A uwsgi protocol request: modifier1 0 (WSGI), the CGI variables, no body."""
    body = b"".join(struct.pack("<H", len(key)) + key + struct.pack("<H", len(value)) + value
                    for key, value in ((k.encode(), v.encode()) for k, v in variables.items()))
    return struct.pack("<BHB", 0, len(body), 0) + body


def get(socket_path, path, timeout=4.0):
    """(status, body) of GET path, answered by uWSGI on a unix socket."""
    request = uwsgi_packet({"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
                            "SERVER_NAME": "localhost", "SERVER_PORT": "80",
                            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
                            "HTTP_HOST": "localhost"})
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(timeout)
        client.connect(socket_path)
        client.sendall(request)
        chunks = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


def main():
    socket_path = os.environ.get("SEARCHADDR_SOCKET") or DEFAULT_SOCKET
    try:
        status, body = get(socket_path, "/healthz")
        state = json.loads(body).get("status")
    except (OSError, ValueError, IndexError) as error:
        print(f"unhealthy: {socket_path}: {error}", file=sys.stderr)
        return 1
    if status != 200 or state != "ok":
        print(f"unhealthy: /healthz answered {status} {state!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
