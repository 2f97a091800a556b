"""Run the local test servers from ``tools/`` as subprocesses.

``LocalAwsServer`` starts ``tools/local_aws_server.py`` (moto with request
counting), ``FaultProxy`` starts ``tools/fault_proxy.py`` in front of an
endpoint.  Both bind 127.0.0.1 on a free port and are found through the ready
file they write.  Use them directly, as context managers, or through the
fixtures in ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
TOOLS_DIR = REPO_ROOT / "tools"
HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# Never send loopback traffic through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(method: str, url: str, payload: Any = None, timeout: float = 10.0) -> Any:
    """Send an HTTP request with an optional JSON body; return the decoded JSON answer."""
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with _OPENER.open(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body.strip() else None


def boto3_client(service: str, endpoint_url: str, **config: Any) -> Any:
    """A boto3 client for ``service`` at ``endpoint_url`` (us-east-1, dummy credentials).

    Keyword arguments go to ``botocore.config.Config``, e.g.
    ``retries={"total_max_attempts": 1}``.  Proxies from the environment are
    ignored unless ``proxies`` is given.
    """
    import boto3
    from botocore.config import Config

    config.setdefault("proxies", {})

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config),
    )


class ToolProcess:
    """A ``tools/`` server running as a subprocess, announced by its ready file.

    ``workdir`` receives ``ready.json`` and ``server.log``; without one a
    temporary directory is made and removed again by :meth:`stop`.
    """

    script = ""

    def __init__(self, args: list[str], workdir: Path | str | None = None) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="seed-local-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "server.log"
        ready_file = self.workdir / "ready.json"
        ready_file.unlink(missing_ok=True)
        command = [
            sys.executable,
            str(TOOLS_DIR / self.script),
            "--host",
            HOST,
            "--port",
            "0",
            "--ready-file",
            str(ready_file),
            *args,
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self.endpoint_url = self._wait_ready(ready_file)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, ready_file: Path) -> str:
        """Wait for the ready file and return its endpoint URL."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.script} exited with {self.process.returncode}:\n{self.log_tail()}")
            if ready_file.exists():
                return json.loads(ready_file.read_text(encoding="utf-8"))["endpoint_url"]
            time.sleep(0.05)
        raise RuntimeError(f"{self.script} not ready after {READY_TIMEOUT}s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        """Call one of the server's own JSON endpoints."""
        return http_json(method, self.endpoint_url + path, payload)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and drop a temporary workdir."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "ToolProcess":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


class LocalAwsServer(ToolProcess):
    """``tools/local_aws_server.py``: moto plus request counters."""

    script = "local_aws_server.py"

    def __init__(self, workdir: Path | str | None = None) -> None:
        super().__init__([], workdir)

    def requests(self) -> dict[str, Any]:
        """The ``GET /_seed/requests`` counters."""
        return self.call("GET", "/_seed/requests")

    def reset_counts(self) -> None:
        """Zero the request counters."""
        self.call("POST", "/_seed/requests/reset")

    def reset_state(self) -> None:
        """Wipe all moto state (``POST /moto-api/reset``), then zero the counters."""
        self.call("POST", "/moto-api/reset")
        self.reset_counts()


class FaultProxy(ToolProcess):
    """``tools/fault_proxy.py`` in front of ``upstream``."""

    script = "fault_proxy.py"

    def __init__(
        self, upstream: str, rate: float = 0.2, seed: int = 1, workdir: Path | str | None = None
    ) -> None:
        self.upstream = upstream
        super().__init__(["--upstream", upstream, "--rate", str(rate), "--seed", str(seed)], workdir)

    def stats(self) -> dict[str, Any]:
        """The ``GET /_proxy/stats`` counters."""
        return self.call("GET", "/_proxy/stats")

    def set_rate(self, rate: float, lost_rate: float | None = None) -> None:
        """Change the fault rate (and the lost-response rate) at runtime."""
        config = {"rate": rate} if lost_rate is None else {"rate": rate, "lost_rate": lost_rate}
        self.call("POST", "/_proxy/config", config)
