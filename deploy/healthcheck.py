"""Container health check: GET /livez over the service's own uWSGI socket (stdlib only).

    python3 deploy/healthcheck.py [/livez | /readyz | /healthz]

Exit 0 when the service answers 200, else 1 with the reason on stderr. The Docker HEALTHCHECK
asks /livez (the service answers): a container whose browsers are down is not restarted for it,
since a restart would only start them again; /readyz (a browser can serve) is for whatever sends
traffic to it. The socket is $SEARCHADDR_SOCKET, else run/searchaddr.sock next to uwsgi.ini.
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


def main(argv):
    path = argv[1] if len(argv) > 1 else "/livez"
    socket_path = os.environ.get("SEARCHADDR_SOCKET") or DEFAULT_SOCKET
    try:
        status, body = get(socket_path, path)
        answer = json.loads(body)
    except (OSError, ValueError, IndexError) as error:
        print(f"unhealthy: {socket_path}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: {path} answered {status} {answer.get('error', answer)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
