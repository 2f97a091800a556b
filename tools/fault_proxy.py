#!/usr/bin/env python
"""A fault-injecting HTTP proxy to put in front of the local AWS server in tests.

Usage::

    python3 tools/fault_proxy.py --upstream http://127.0.0.1:PORT --rate 0.2 --seed 1 \
        --host 127.0.0.1 --port 0 --ready-file PATH

Requests are forwarded verbatim (method, path, headers, body) to the upstream
and its answer is relayed back.  With probability ``rate`` (seeded, so runs are
repeatable) the proxy answers by itself instead, WITHOUT forwarding: half of
the faults are throttling, half server errors (HTTP 500 or 503).  The error is
rendered in the protocol the client expects, so botocore parses its code:

=============  ==========================  =================  ===========================
protocol       throttling                  HTTP 500           HTTP 503
=============  ==========================  =================  ===========================
EC2 query      400 RequestLimitExceeded    InternalError      Unavailable
other query    400 Throttling              InternalFailure    ServiceUnavailable
JSON           400 ThrottlingException     InternalFailure    ServiceUnavailableException
REST-JSON      400 ThrottlingException     InternalFailure    ServiceUnavailableException
S3 (REST-XML)  503 SlowDown                InternalError      ServiceUnavailable
=============  ==========================  =================  ===========================

(RPCv2-CBOR services such as CloudWatch get the JSON codes in a CBOR body;
Route 53 / CloudFront get the "other query" codes in the same XML form.)

With ``--lost-rate`` (default 0) a request is forwarded and carried out, and its
answer is then replaced by a 500 InternalError: the response was "lost", the hard
case for creates that have no idempotency token.  Counted as ``lost-response``.

With ``--drop-rate`` (default 0) the connection is closed without any answer, as when a
connection is reset or times out: half of the drops after the request was forwarded and carried
out (``dropped-after-forward``), half before (``dropped-before-forward``).  The client cannot
tell the two apart (botocore raises ConnectionClosedError).

Never faulted: ``/_seed/*``, ``/moto-api/*`` and the proxy's own endpoints:

``GET /_proxy/stats``
    ``{"forwarded": n, "injected": n, "injected_by_code": {...}, "rate": r, "lost_rate": l, "drop_rate": d}``
``POST /_proxy/config``
    JSON ``{"rate": 0.0}`` (optionally ``"lost_rate"``, ``"drop_rate"`` and ``"seed": n``) changes
    the settings; answers with the new ``{"rate": r, "lost_rate": l, "drop_rate": d}``.
    ``"lose_once"``: a list of regular expressions over ``"METHOD /path"``; the first request matching
    each one is carried out and its answer lost (deterministic, for a test that every create of a kind
    survives it). ``"drop_once"``: the same, but the connection is closed with no answer at all.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common  # noqa: E402  (path inserted above)

EC2_API_VERSION = "2016-11-15"
PASSTHROUGH_PREFIXES = ("/_seed/", "/moto-api")
CONTROL_PREFIX = "/_proxy/"
QUERY_STYLE_REST_XML = frozenset({"route53", "cloudfront"})
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
UPSTREAM_TIMEOUT = 120

# FAULTS[protocol][kind] = (HTTP status, error code)
FAULTS: dict[str, dict[str, tuple[int, str]]] = {
    "ec2": {
        "throttle": (400, "RequestLimitExceeded"),
        "internal": (500, "InternalError"),
        "unavailable": (503, "Unavailable"),
    },
    "query": {
        "throttle": (400, "Throttling"),
        "internal": (500, "InternalFailure"),
        "unavailable": (503, "ServiceUnavailable"),
    },
    "json": {
        "throttle": (400, "ThrottlingException"),
        "internal": (500, "InternalFailure"),
        "unavailable": (503, "ServiceUnavailableException"),
    },
    "s3": {
        "throttle": (503, "SlowDown"),
        "internal": (500, "InternalError"),
        "unavailable": (503, "ServiceUnavailable"),
    },
}
FAULTS["rest-json"] = FAULTS["json"]
FAULTS["rpcv2-cbor"] = FAULTS["json"]


class FaultPlan:
    """Seeded, thread-safe decision of which requests get a fault."""

    def __init__(self, rate: float, seed: int | None, lost_rate: float = 0.0, drop_rate: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.rate = rate
        self.lost_rate = lost_rate
        self.drop_rate = drop_rate
        self.once: dict[str, list[re.Pattern[str]]] = {"lost": [], "drop-after": []}

    def configure(self, rate: float | None = None, seed: int | None = None, lost_rate: float | None = None,
                  lose_once: list[str] | None = None, drop_rate: float | None = None,
                  drop_once: list[str] | None = None) -> None:
        """Change the rates and/or re-seed the generator; ``lose_once``/``drop_once`` replace their patterns."""
        with self._lock:
            for kind, patterns in (("lost", lose_once), ("drop-after", drop_once)):
                if patterns is not None:
                    self.once[kind] = [re.compile(p) for p in patterns]
            if rate is not None:
                self.rate = rate
            if lost_rate is not None:
                self.lost_rate = lost_rate
            if drop_rate is not None:
                self.drop_rate = drop_rate
            if seed is not None:
                self._random.seed(seed)

    def once_now(self, request: str) -> str | None:
        """``lost`` or ``drop-after`` (once per pattern) when ``request`` ("METHOD /path") matches a
        ``lose_once`` or ``drop_once`` pattern, else None."""
        with self._lock:
            for kind, patterns in self.once.items():
                found = next((p for p in patterns if p.fullmatch(request)), None)
                if found is not None:
                    patterns.remove(found)
                    return kind
            return None

    def draw(self) -> str | None:
        """Return a fault kind (throttle/internal/unavailable/lost/drop-after/drop-before) or None to forward.

        ``lost``: the request IS forwarded and carried out, then its answer is replaced by a 500,
        as when a response is lost on the way back: the hard case for creates without a token.
        ``drop-after``/``drop-before``: the connection is closed with no answer, after or before forwarding.
        """
        with self._lock:
            if self._random.random() < self.lost_rate:
                return "lost"
            # Only drawn when dropping is on, so the sequence of the other faults stays the same for a seed.
            if self.drop_rate and self._random.random() < self.drop_rate:
                return "drop-after" if self._random.random() < 0.5 else "drop-before"
            if self._random.random() >= self.rate:
                return None
            if self._random.random() < 0.5:
                return "throttle"
            return self._random.choice(("internal", "unavailable"))


class ProxyStats:
    """Thread-safe counters of forwarded and injected requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forwarded = 0
        self._injected: Counter[str] = Counter()

    def forwarded(self) -> None:
        """Count one request relayed to the upstream."""
        with self._lock:
            self._forwarded += 1

    def injected(self, code: str) -> None:
        """Count one fault answered by the proxy."""
        with self._lock:
            self._injected[code] += 1

    def snapshot(self) -> dict[str, Any]:
        """The ``/_proxy/stats`` document (without the rate)."""
        with self._lock:
            return {
                "forwarded": self._forwarded,
                "injected": sum(self._injected.values()),
                "injected_by_code": dict(self._injected),
            }


# --------------------------------------------------------------------------
# Rendering faults in the client's protocol
# --------------------------------------------------------------------------


def detect_protocol(headers: Any, body: bytes, query_string: str) -> str:
    """Guess the AWS protocol of a request: ec2, query, json, rpcv2-cbor, s3 or rest-json."""
    if headers.get("X-Amz-Target"):
        return "json"
    if headers.get("Smithy-Protocol"):
        return "rpcv2-cbor"
    params = _common.form_params(headers.get("Content-Type"), body, query_string)
    if "Action" in params:
        return "ec2" if params.get("Version") == EC2_API_VERSION else "query"
    service = _common.signing_service(headers.get("Authorization"), query_string)
    if service == "s3":
        return "s3"
    if service in QUERY_STYLE_REST_XML:
        return "query"
    return "rest-json"


def cbor_text_map(items: dict[str, str]) -> bytes:
    """Encode a flat ``{str: str}`` map as CBOR (enough for an error body)."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")

    out = bytearray(head(5, len(items)))
    for text in (part for pair in items.items() for part in pair):
        data = text.encode("utf-8")
        out += head(3, len(data)) + data
    return bytes(out)


def render_fault(
    protocol: str, status: int, code: str, request_id: str, request_content_type: str
) -> tuple[str, bytes, dict[str, str]]:
    """Return (content type, body, extra headers) of an error in ``protocol``."""
    message = f"Fault injected by fault_proxy ({code})"
    headers = {"x-amzn-RequestId": request_id}
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return "text/xml;charset=UTF-8", body.encode("utf-8"), headers
    if protocol in ("query", "s3"):
        fault_type = "Sender" if status < 500 else "Receiver"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error>'
            f"<Type>{fault_type}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        if protocol == "s3":
            headers["x-amz-request-id"] = request_id
        return "text/xml", body.encode("utf-8"), headers
    if protocol == "json":
        content_type = (
            request_content_type if "amz-json" in request_content_type else "application/x-amz-json-1.1"
        )
        return content_type, _common.json_bytes({"__type": code, "message": message}), headers
    if protocol == "rpcv2-cbor":
        headers["smithy-protocol"] = "rpc-v2-cbor"
        return "application/cbor", cbor_text_map({"__type": code, "message": message}), headers
    headers["x-amzn-ErrorType"] = code
    return "application/json", _common.json_bytes({"message": message}), headers


# --------------------------------------------------------------------------
# The HTTP side
# --------------------------------------------------------------------------


def read_chunked(stream: Any) -> bytes:
    """Read a ``Transfer-Encoding: chunked`` body (trailers are discarded)."""
    data = bytearray()
    while True:
        size = int(stream.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline().strip():
                pass
            return bytes(data)
        data += stream.read(size)
        stream.readline()


class FaultProxyServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the upstream address, fault plan and stats."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], upstream: str, plan: FaultPlan) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be http://HOST:PORT, got {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.plan = plan
        self.stats = ProxyStats()
        super().__init__(address, ProxyHandler)


class ProxyHandler(BaseHTTPRequestHandler):
    """Forward each request, or answer it with an injected fault."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: FaultProxyServer

    def handle_any(self) -> None:
        """Entry point for every HTTP method."""
        body = self.read_body()
        path, _sep, query = self.path.partition("?")
        if path.startswith(CONTROL_PREFIX):
            self.control(path, body)
            return
        kind = None if path.startswith(PASSTHROUGH_PREFIXES) else (
            self.server.plan.once_now(f"{self.command} {path}") or self.server.plan.draw())
        if kind == "lost":
            if self.forward(body, relay=False):
                self.inject("internal", body, query, label="lost-response")
        elif kind == "drop-after":
            if self.forward(body, relay=False):
                self.drop("dropped-after-forward")
        elif kind == "drop-before":
            self.drop("dropped-before-forward")
        elif kind:
            self.inject(kind, body, query)
        else:
            self.forward(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = handle_any

    def read_body(self) -> bytes:
        """Read the request body (Content-Length or chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def has_body(self) -> bool:
        """Whether the client framed a body (possibly empty)."""
        return "Content-Length" in self.headers or "Transfer-Encoding" in self.headers

    def forward(self, body: bytes, relay: bool = True) -> bool:
        """Relay the request to the upstream and (unless ``relay`` is false) its answer back; False (and a
        502 sent to the client) when the upstream could not be reached."""
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    conn.putheader(name, value)
            if body or self.has_body():
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
        except OSError as exc:
            self.send_bytes(
                502, _common.json_bytes({"message": f"upstream error: {exc}"}), "application/json"
            )
            return False
        finally:
            conn.close()
        self.server.stats.forwarded()
        if relay:
            self.relay(response, data)
        return True

    def relay(self, response: http.client.HTTPResponse, data: bytes) -> None:
        """Send the upstream's status, headers and body to the client."""
        keep_length = self.command == "HEAD" or response.status in (204, 304)
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            lowered = name.lower()
            if lowered in HOP_BY_HOP or (lowered == "content-length" and not keep_length):
                continue
            self.send_header(name, value)
        if not keep_length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.log_request(response.status)

    def drop(self, label: str) -> None:
        """Close the connection without sending anything (the client sees it closed before any answer)."""
        self.server.stats.injected(label)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def inject(self, kind: str, body: bytes, query: str, label: str | None = None) -> None:
        """Answer with a fault of ``kind``, rendered in the request's protocol (counted as ``label``)."""
        protocol = detect_protocol(self.headers, body, query)
        status, code = FAULTS[protocol][kind]
        content_type, payload, headers = render_fault(
            protocol, status, code, str(uuid.uuid4()), self.headers.get("Content-Type", "")
        )
        self.server.stats.injected(label or code)
        self.send_bytes(status, payload, content_type, headers)

    def control(self, path: str, body: bytes) -> None:
        """``GET /_proxy/stats`` and ``POST /_proxy/config``."""
        route = (self.command, path.rstrip("/"))
        if route == ("GET", "/_proxy/stats"):
            stats = self.server.stats.snapshot() | self.rates()
            self.send_json(200, stats)
        elif route == ("POST", "/_proxy/config"):
            self.configure(body)
        else:
            self.send_json(404, {"error": f"no route {route[0]} {route[1]}"})

    def configure(self, body: bytes) -> None:
        """Apply a ``/_proxy/config`` document."""
        try:
            config = json.loads(body or b"{}")
            rates = {key: config.get(key) for key in ("rate", "lost_rate", "drop_rate")}
            for value in rates.values():
                if value is not None and not 0.0 <= float(value) <= 1.0:
                    raise ValueError("rates must be between 0 and 1")
            seed = config.get("seed")
            for key in ("lose_once", "drop_once"):
                if config.get(key) is not None and not all(isinstance(p, str) for p in config[key]):
                    raise ValueError(f"{key} must be a list of regular expressions")
            self.server.plan.configure(
                None if rates["rate"] is None else float(rates["rate"]), None if seed is None else int(seed),
                None if rates["lost_rate"] is None else float(rates["lost_rate"]), config.get("lose_once"),
                None if rates["drop_rate"] is None else float(rates["drop_rate"]), config.get("drop_once"),
            )
        except (ValueError, TypeError, AttributeError, re.error) as exc:
            self.send_json(400, {"error": str(exc)})
            return
        self.send_json(200, self.rates())

    def rates(self) -> dict[str, float]:
        """The plan's current rates."""
        plan = self.server.plan
        return {"rate": plan.rate, "lost_rate": plan.lost_rate, "drop_rate": plan.drop_rate}

    def send_json(self, status: int, payload: Any) -> None:
        """Send a JSON response."""
        self.send_bytes(status, _common.json_bytes(payload), "application/json")

    def send_bytes(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        """Send a complete response generated by the proxy itself."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def main(argv: list[str] | None = None) -> int:
    """Parse the CLI, bind, write the ready file and serve until signalled."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--upstream", required=True, help="http://HOST:PORT to forward to")
    parser.add_argument("--rate", type=float, default=0.2, help="fault probability (default %(default)s)")
    parser.add_argument("--lost-rate", type=float, default=0.0,
                        help="probability that a request is carried out but its answer replaced by a 500")
    parser.add_argument("--drop-rate", type=float, default=0.0,
                        help="probability that the connection is closed without an answer")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: unseeded)")
    _common.add_listen_arguments(parser)
    args = parser.parse_args(argv)
    for option, value in (("--rate", args.rate), ("--lost-rate", args.lost_rate), ("--drop-rate", args.drop_rate)):
        if not 0.0 <= value <= 1.0:
            parser.error(f"{option} must be between 0 and 1")
    try:
        server = FaultProxyServer((args.host, args.port), args.upstream,
                                  FaultPlan(args.rate, args.seed, args.lost_rate, args.drop_rate))
    except ValueError as exc:
        parser.error(str(exc))
    _common.serve_until_signalled(server, args.ready_file, f"fault proxy -> {args.upstream}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
