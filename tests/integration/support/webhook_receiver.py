"""A local HTTP receiver for webhook tests: records every POSTed JSON document, answers errors on demand.

    with WebhookReceiver() as hook:
        hook.url                      # http://127.0.0.1:PORT/hook
        hook.fail_keys[finding_id] = 503   # answer 503 to posts with that Idempotency-Key
        hook.fail_all = 500                # answer 500 to every post (None: off)
        hook.requests                 # [{"path", "headers", "json"}] in order
        hook.tickets()                # {idempotency key: ticket id} of the posts answered 201

Successful posts are answered ``201 {"ticket": "T-<n>"}``. A post with an Idempotency-Key that already got a
ticket is answered ``200`` with the same ticket (as receivers that honour the header do) and counted in
``duplicates``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_keys: dict[str, int] = {}
        self.fail_all: int | None = None
        self.duplicates = 0
        self._tickets: dict[str, str] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                status, answer = receiver._answer(self.path, dict(self.headers), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://{host}:{self._server.server_address[1]}/hook"

    def _answer(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        key = {k.lower(): v for k, v in headers.items()}.get("idempotency-key")
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "json": body})
            status = self.fail_keys.get(key) if key in self.fail_keys else self.fail_all
            if status:
                return status, {"error": f"receiver told to answer {status}"}
            if key and key in self._tickets:
                self.duplicates += 1
                return 200, {"ticket": self._tickets[key], "duplicate": True}
            ticket = f"T-{len(self._tickets) + 1}"
            if key:
                self._tickets[key] = ticket
            return 201, {"ticket": ticket}

    def tickets(self) -> dict[str, str]:
        with self._lock:
            return dict(self._tickets)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "WebhookReceiver":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
