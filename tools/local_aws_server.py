#!/usr/bin/env python
"""A local moto server that counts the AWS requests it receives.

Usage::

    python3 tools/local_aws_server.py --host 127.0.0.1 --port 0 --ready-file PATH

Once listening it writes ``{"endpoint_url": "http://127.0.0.1:PORT", "pid": PID}``
to the ready file (atomically).  Every AWS request is classified by service,
action and read/write before moto handles it.  Extra endpoints, not counted:

``GET /_seed/requests``
    ``{"total", "reads", "writes", "by_action": {"ec2:CreateVpc": n}, "writes_by_action"}``
``POST /_seed/requests/reset``
    zero the counters.

moto's own ``/moto-api/...`` endpoints (e.g. ``POST /moto-api/reset`` to wipe
all state) pass through to moto and are not counted either.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402  (path inserted above)
import moto_fidelity  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

SEED_PREFIX = "/_seed/"
READ_PREFIXES = (
    "Describe",
    "List",
    "Get",
    "Head",
    "Lookup",
    "Search",
    "Query",
    "Scan",
    "BatchGet",
)
READ_METHODS = frozenset({"GET", "HEAD"})

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class AwsCall:
    """One classified AWS request."""

    service: str
    action: str
    is_read: bool

    @property
    def key(self) -> str:
        """The counter key, e.g. ``ec2:CreateVpc``."""
        return f"{self.service}:{self.action}"


class RequestCounter:
    """Thread-safe counters of classified AWS requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_action: Counter[str] = Counter()
        self._writes_by_action: Counter[str] = Counter()
        self._reads = 0
        self._writes = 0

    def record(self, call: AwsCall) -> None:
        """Count one request."""
        with self._lock:
            self._by_action[call.key] += 1
            if call.is_read:
                self._reads += 1
            else:
                self._writes += 1
                self._writes_by_action[call.key] += 1

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._by_action.clear()
            self._writes_by_action.clear()
            self._reads = 0
            self._writes = 0

    def snapshot(self) -> dict[str, Any]:
        """Return the counters as the ``/_seed/requests`` JSON document."""
        with self._lock:
            return {
                "total": self._reads + self._writes,
                "reads": self._reads,
                "writes": self._writes,
                "by_action": dict(self._by_action),
                "writes_by_action": dict(self._writes_by_action),
            }


def buffer_body(environ: dict[str, Any]) -> bytes:
    """Read the whole request body and give the WSGI app a fresh copy of it."""
    stream = environ.get("wsgi.input")
    if stream is None:
        body = b""
    elif environ.get("wsgi.input_terminated"):  # chunked: the server de-chunks to EOF
        body = stream.read()
    else:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def request_operation(environ: dict[str, Any]) -> str | None:
    """Return the RPC operation name (query, JSON or RPCv2 protocols), if any."""
    operation = _common.target_operation(environ.get("HTTP_X_AMZ_TARGET"))
    if operation is None and environ.get("HTTP_SMITHY_PROTOCOL"):
        operation = _common.rpcv2_operation(environ.get("PATH_INFO", ""))
    if operation is None:
        content_type = environ.get("CONTENT_TYPE")
        body = buffer_body(environ) if _common.is_form_body(content_type) else b""
        params = _common.form_params(content_type, body, environ.get("QUERY_STRING", ""))
        operation = params.get("Action")
    return operation


def classify_request(environ: dict[str, Any]) -> AwsCall:
    """Classify a request: service, action and whether it is a read."""
    service = (
        _common.signing_service(environ.get("HTTP_AUTHORIZATION"), environ.get("QUERY_STRING", ""))
        or "unknown"
    )
    operation = request_operation(environ)
    if operation:
        return AwsCall(service, operation, operation.startswith(READ_PREFIXES))
    method = environ.get("REQUEST_METHOD", "GET").upper()
    return AwsCall(service, f"{method} {environ.get('PATH_INFO', '')}", method in READ_METHODS)


def is_moto_internal(path: str) -> bool:
    """Paths moto answers itself (``/moto-api/...``); never counted."""
    return path.startswith("/moto-api") or path == "/favicon.ico"


def json_response(start_response: StartResponse, status: str, payload: Any) -> list[bytes]:
    """Send ``payload`` as a JSON WSGI response."""
    body = _common.json_bytes(payload)
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


class CountingMiddleware:
    """WSGI middleware: count AWS requests, serve ``/_seed/*``, pass the rest on."""

    def __init__(self, app: WsgiApp, counter: RequestCounter | None = None) -> None:
        self.app = app
        self.counter = counter or RequestCounter()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(SEED_PREFIX):
            return self.seed_api(environ, start_response)
        if not is_moto_internal(path):
            self.counter.record(classify_request(environ))
        return self.app(environ, start_response)

    def seed_api(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """Answer ``GET /_seed/requests`` and ``POST /_seed/requests/reset``."""
        route = (environ.get("REQUEST_METHOD", "GET").upper(), environ.get("PATH_INFO", "").rstrip("/"))
        if route == ("GET", "/_seed/requests"):
            return json_response(start_response, "200 OK", self.counter.snapshot())
        if route == ("POST", "/_seed/requests/reset"):
            self.counter.reset()
            return json_response(start_response, "200 OK", self.counter.snapshot())
        return json_response(start_response, "404 Not Found", {"error": f"no route {route[0]} {route[1]}"})


def build_app() -> CountingMiddleware:
    """moto's multi-service WSGI app (with tools/moto_fidelity.py applied) wrapped in the counting middleware."""
    moto_fidelity.apply()
    return CountingMiddleware(DomainDispatcherApplication(create_backend_app))


def main(argv: list[str] | None = None) -> int:
    """Parse the CLI, bind, write the ready file and serve until signalled."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    _common.add_listen_arguments(parser)
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, build_app(), threaded=True, request_handler=MotoRequestHandler)
    # moto builds some self-referencing URLs (SQS queue URLs, Lambda env) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(server.server_address[1])
    _common.serve_until_signalled(server, args.ready_file, "local AWS (moto)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
