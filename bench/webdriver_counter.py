"""A counting pass-through in front of chromedriver: how many WebDriver commands a query costs.

The service is pointed at it with `[scraper] remote_url`; every command is forwarded unchanged
to a chromedriver we start, and counted by method and path (session ids removed).
"""
import collections
import http.client
import http.server
import os
import re
import subprocess
import threading
import time

from harness import TAG_ENV, free_port, stop_process

SESSION_ID = re.compile(r"/session/[^/]+")


class CountingProxy:
    def __init__(self, tag):
        self.tag = tag
        self.driver_port = free_port()
        self.counts = collections.Counter()
        self.lock = threading.Lock()
        self.chromedriver = None
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        env = dict(os.environ, **{TAG_ENV: self.tag})
        self.chromedriver = subprocess.Popen(
            ["/usr/bin/chromedriver", f"--port={self.driver_port}"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                self._forward("GET", "/status", {}, None)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    proxy.counts[f"{self.command} {SESSION_ID.sub('/session/*', self.path)}"] += 1
                status, headers, data = proxy._forward(self.command, self.path,
                                                       {"Content-Type": "application/json"}, body)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def _forward(self, method, path, headers, body):
        connection = http.client.HTTPConnection("127.0.0.1", self.driver_port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def snapshot(self):
        with self.lock:
            return collections.Counter(self.counts)

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        stop_process(self.chromedriver, timeout=10)
