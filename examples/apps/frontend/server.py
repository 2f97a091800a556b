#!/usr/bin/env python3
"""Serve the example frontend: a static site (standard library only).

    GET /health   200 {"status": "ok"} (load balancer and container health checks)
    GET /api/...  forwarded to BACKEND_URL when it is set (running locally, without a
                  load balancer); 404 otherwise: behind the load balancer, /api/* is
                  routed to the backend service and never reaches this server
    GET /...      files from static/ (index.html for directories; no listings)

Configuration, from environment variables:
    PORT          port to listen on (default 8080)
    BIND_ADDRESS  address to listen on (default 0.0.0.0)
    BACKEND_URL   optional, e.g. http://127.0.0.1:8000

Logs one JSON line per request on stdout; stops cleanly on SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

SERVICE = "frontend"
STATIC_DIR = Path(__file__).resolve().parent / "static"
PROXY_TIMEOUT = 10.0
# Never send the backend's traffic through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Handler(SimpleHTTPRequestHandler):
    """Static files, /health, and /api/* forwarded to the backend."""

    server_version = "seed-example-frontend"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    backend_url = ""
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".css": "text/css"}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        """Answer GET requests."""
        path = urlsplit(self.path).path
        if path == "/health":
            self.send_json(200, {"status": "ok"})
        elif path == "/api" or path.startswith("/api/"):
            self.forward()
        else:
            super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        """HEAD of /health and of static files."""
        path = urlsplit(self.path).path
        if path == "/health":
            self.send_json(200, {"status": "ok"})
        elif path == "/api" or path.startswith("/api/"):
            self.send_json(405, {"error": "method not allowed"})
        else:
            super().do_HEAD()

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        if not self.path.startswith(("/api", "/health")):
            self.send_header("Cache-Control", "public, max-age=60")
        super().end_headers()

    def list_directory(self, path: str | os.PathLike) -> None:
        """No directory listings."""
        self.send_error(404, "Not Found")

    def forward(self) -> None:
        """GET the same path and query from BACKEND_URL and relay the answer."""
        if not self.backend_url:
            self.send_json(404, {"error": "no backend configured (BACKEND_URL)"})
            return
        request = urllib.request.Request(self.backend_url.rstrip("/") + self.path, headers={"Accept": "application/json"})
        try:
            with _OPENER.open(request, timeout=PROXY_TIMEOUT) as response:
                status, body = response.status, response.read()
                content_type = response.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
            content_type = error.headers.get("Content-Type", "application/json")
        except (OSError, ValueError) as error:
            self.send_json(502, {"error": "backend unreachable", "detail": str(error)})
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: dict) -> None:
        """Send ``payload`` as a JSON response."""
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def version_string(self) -> str:
        """The Server header, without Python's version."""
        return self.server_version

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One JSON line per request on stdout."""
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "service": SERVICE,
            "method": self.command,
            "path": self.path,
            "status": int(code) if str(code).isdigit() else code,
            "client": self.client_address[0],
        }
        print(json.dumps(line), flush=True)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        """Errors go to stderr."""
        sys.stderr.write("%s: %s\n" % (SERVICE, format % args))


def serve() -> None:
    """Serve until SIGTERM or SIGINT."""
    Handler.backend_url = os.environ.get("BACKEND_URL", "")
    address = (os.environ.get("BIND_ADDRESS", "0.0.0.0"), int(os.environ.get("PORT", "8080")))
    server = ThreadingHTTPServer(address, partial(Handler, directory=str(STATIC_DIR)))
    server.daemon_threads = True

    def stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(json.dumps({"service": SERVICE, "listening": f"{address[0]}:{server.server_address[1]}"}), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    serve()
