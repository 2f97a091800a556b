#!/usr/bin/env python3
"""A small JSON API: the example backend service (standard library only).

Endpoints:
    GET /health      200 {"status": "ok"} (load balancer and container health checks)
    GET /api/hello   200 {"message": "<APP_GREETING>, <name>!", ...}; ?name=... (default "world")
    GET /api/info    200 the service's configuration (no secrets)

Configuration, from environment variables:
    PORT          port to listen on (default 8000)
    BIND_ADDRESS  address to listen on (default 0.0.0.0)
    APP_GREETING  greeting of /api/hello (default "Hello")
    APP_VERSION   reported version (default "dev")
    DATABASE_URL  optional, e.g. postgresql://user:secret@host:5432/app; only its
                  scheme, host, port and database name are reported, never the
                  credentials; no connection is made (this example has no driver)

Logs one JSON line per request on stdout; stops cleanly on SIGTERM (ECS stops tasks
with SIGTERM, and PID 1 in a container ignores signals it does not handle).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SERVICE = "backend"


def database_info(url: str | None) -> dict:
    """What may be told about DATABASE_URL: never user or password."""
    if not url:
        return {"configured": False}
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return {
        "configured": True,
        "scheme": parts.scheme,
        "host": parts.hostname,
        "port": port,
        "name": parts.path.lstrip("/") or None,
    }


def settings(environ: Mapping[str, str]) -> dict:
    """The service's configuration from the environment."""
    return {
        "greeting": environ.get("APP_GREETING", "Hello"),
        "version": environ.get("APP_VERSION", "dev"),
        "database": database_info(environ.get("DATABASE_URL")),
    }


class Handler(BaseHTTPRequestHandler):
    """Routes GET requests; everything else is 405, unknown paths 404."""

    server_version = "seed-example-backend"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    config: dict = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        """Answer GET requests."""
        url = urlsplit(self.path)
        if url.path == "/health":
            self.send_json(200, {"status": "ok"})
        elif url.path == "/api/hello":
            name = (parse_qs(url.query).get("name") or ["world"])[0][:100]
            self.send_json(
                200,
                {
                    "message": f"{self.config['greeting']}, {name}!",
                    "service": SERVICE,
                    "version": self.config["version"],
                    "database": self.config["database"]["configured"],
                },
            )
        elif url.path == "/api/info":
            self.send_json(200, {"service": SERVICE, **self.config})
        else:
            self.send_json(404, {"error": "not found", "path": url.path})

    def do_POST(self) -> None:  # noqa: N802
        """Not allowed."""
        self.send_json(405, {"error": "method not allowed"})

    do_PUT = do_DELETE = do_PATCH = do_POST

    def send_json(self, status: int, payload: dict) -> None:
        """Send ``payload`` as a JSON response."""
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
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


def serve(environ: Mapping[str, str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT (configuration from ``environ``, default the process's)."""
    environ = os.environ if environ is None else environ
    Handler.config = settings(environ)
    address = (environ.get("BIND_ADDRESS", "0.0.0.0"), int(environ.get("PORT", "8000")))
    server = ThreadingHTTPServer(address, Handler)
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
