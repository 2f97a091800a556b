"""Helpers shared by the local test servers in tools/.

Both ``local_aws_server.py`` and ``fault_proxy.py`` are started as processes
that announce themselves through a *ready file*, stop on SIGTERM/SIGINT and
look at AWS requests in the same way.  Those pieces live here so the two
servers do not duplicate them.  Standard library only.

Import it from a sibling script with::

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _common
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import tempfile
import threading
from typing import Any
from urllib.parse import parse_qs

LOOPBACK = "127.0.0.1"
SHUTDOWN_POLL_INTERVAL = 0.05  # seconds; how quickly serve_forever notices shutdown()

_CREDENTIAL_RE = re.compile(r"Credential=([^,\s]+)")
_RPCV2_PATH_RE = re.compile(r"^/service/[^/]+/operation/([^/]+)$")


# --------------------------------------------------------------------------
# Process plumbing
# --------------------------------------------------------------------------


def add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``--host``, ``--port`` and ``--ready-file`` options."""
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to bind, 0 = any free port")
    parser.add_argument(
        "--ready-file",
        help='write {"endpoint_url": ..., "pid": ...} here once listening',
    )


def write_ready_file(path: str, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON to ``path`` atomically (temp file + rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".ready-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
            handle.write("\n")
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise


def read_ready_file(path: str) -> dict[str, Any] | None:
    """Return the JSON in a ready file, or None if it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def endpoint_url_of(server: Any) -> str:
    """Return ``http://HOST:PORT`` for a bound socketserver-style server."""
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def serve_until_signalled(server: Any, ready_file: str | None, banner: str) -> None:
    """Announce ``server``, serve until SIGTERM/SIGINT, then close it.

    The signal handler asks ``serve_forever`` to stop from a helper thread
    (``shutdown()`` blocks until the loop exits, so it cannot run in the
    thread that is serving), which lets the loop finish cleanly.
    """
    endpoint_url = endpoint_url_of(server)

    def _stop(signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if ready_file:
        write_ready_file(ready_file, {"endpoint_url": endpoint_url, "pid": os.getpid()})
    print(f"{banner} listening on {endpoint_url} (pid {os.getpid()})", flush=True)
    try:
        server.serve_forever(poll_interval=SHUTDOWN_POLL_INTERVAL)
    finally:
        server.server_close()
    print(f"{banner} stopped", flush=True)


def json_bytes(payload: Any) -> bytes:
    """Serialise ``payload`` as compact, key-sorted JSON bytes."""
    return json.dumps(payload, sort_keys=True).encode("utf-8")


# --------------------------------------------------------------------------
# Looking at AWS requests
# --------------------------------------------------------------------------


def signing_service(authorization: str | None, query_string: str = "") -> str | None:
    """Return the SigV4 service name from the credential scope, if any.

    The scope is ``AKID/DATE/REGION/SERVICE/aws4_request``; it is taken from
    the ``Authorization`` header or, for presigned URLs, ``X-Amz-Credential``.
    SigV2 (``Authorization: AWS ...`` or ``?AWSAccessKeyId=...&Signature=...``,
    botocore's default for presigned S3 URLs) is only used by S3.
    """
    query = parse_qs(query_string or "")
    credential = None
    match = _CREDENTIAL_RE.search(authorization or "")
    if match:
        credential = match.group(1)
    elif "X-Amz-Credential" in query:
        credential = query["X-Amz-Credential"][0]
    elif (authorization or "").startswith("AWS ") or {"AWSAccessKeyId", "Signature"} <= query.keys():
        return "s3"
    parts = (credential or "").split("/")
    if len(parts) >= 5 and parts[-1] == "aws4_request":
        return parts[-2].lower()
    return None


def is_form_body(content_type: str | None) -> bool:
    """True for ``application/x-www-form-urlencoded`` bodies (query protocol)."""
    return (content_type or "").lower().startswith("application/x-www-form-urlencoded")


def form_params(content_type: str | None, body: bytes, query_string: str = "") -> dict[str, str]:
    """Merge query-string and form-body parameters (first value of each wins)."""
    params = {k: v[0] for k, v in parse_qs(query_string or "").items()}
    if body and is_form_body(content_type):
        text = body.decode("utf-8", errors="replace")
        for key, values in parse_qs(text).items():
            params.setdefault(key, values[0])
    return params


def target_operation(amz_target: str | None) -> str | None:
    """``Logs_20140328.CreateLogGroup`` -> ``CreateLogGroup``."""
    if not amz_target:
        return None
    return amz_target.rsplit(".", 1)[-1]


def rpcv2_operation(path: str) -> str | None:
    """``/service/X/operation/GetMetricData`` (Smithy RPC v2 CBOR) -> ``GetMetricData``."""
    match = _RPCV2_PATH_RE.match(path or "")
    return match.group(1) if match else None
