"""Run the local test servers from ``tools/`` as subprocesses.

``LocalAwsServer`` starts ``tools/local_aws_server.py`` (moto with request
counting), ``FaultProxy`` starts ``tools/fault_proxy.py`` in front of an
endpoint.  ``LocalDocker`` brings up a Docker engine and a registry with
``tools/local_env.py`` in a state directory of its own.  Both bind 127.0.0.1 on a free port and are found through the ready
file they write.  Use them directly, as context managers, or through the
fixtures in ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import json
import os
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


def boto3_client(service: str, endpoint_url: str, region: str = "us-east-1", **config: Any) -> Any:
    """A boto3 client for ``service`` at ``endpoint_url`` (us-east-1 unless ``region``, dummy credentials).

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
        region_name=region,
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

    def lose_once(self, *patterns: str) -> None:
        """Lose the answer of the first request matching each regular expression over "METHOD /path"."""
        self.call("POST", "/_proxy/config", {"lose_once": list(patterns)})

    def drop_once(self, *patterns: str) -> None:
        """Carry out the first request matching each regular expression over "METHOD /path", then close
        its connection without an answer."""
        self.call("POST", "/_proxy/config", {"drop_once": list(patterns)})

    def set_rate(self, rate: float, lost_rate: float | None = None, drop_rate: float | None = None) -> None:
        """Change the fault rate (and the lost-response and dropped-connection rates) at runtime."""
        config = {"rate": rate, "lost_rate": lost_rate, "drop_rate": drop_rate}
        self.call("POST", "/_proxy/config", {k: v for k, v in config.items() if v is not None})


# --------------------------------------------------------------------------
# Docker engine and registry (tools/local_env.py) for container tests
# --------------------------------------------------------------------------

DOCKER_START_TIMEOUT = 120.0  # `up` of the engine and the registry, without the AWS server
BASE_IMAGE = "seed/base:bookworm-python3"
BASE_IMAGE_TIMEOUT = 900.0  # a first debootstrap on a slow mirror; seconds from the cached tarball


class LocalDocker:
    """A Docker engine and a registry brought up by ``tools/local_env.py up docker registry``
    with ``SEED_LOCAL_STATE_DIR=state_dir``.

    The engine is a private ``dockerd`` (socket under ``state_dir``) unless one already
    answers at ``$DOCKER_HOST`` or /var/run/docker.sock, which is then used and never
    stopped (:attr:`owns_engine` tells which).  The registry is always private.
    :meth:`up` raises RuntimeError with the tool's output when something does not start.
    """

    def __init__(self, state_dir: Path | str) -> None:
        self.state_dir = Path(state_dir)
        self.docker_host = ""
        self.registry_url = ""
        self.owns_engine = False

    # -- lifecycle --------------------------------------------------------

    def local_env(self, *args: str, timeout: float = DOCKER_START_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run ``tools/local_env.py ARGS`` on this state directory."""
        env = dict(os.environ, SEED_LOCAL_STATE_DIR=str(self.state_dir))
        env.pop("SEED_LOCAL_SERVICES", None)
        return subprocess.run(
            [sys.executable, str(TOOLS_DIR / "local_env.py"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def up(self) -> "LocalDocker":
        """Start (or find) the engine and start the registry; read their addresses."""
        result = self.local_env("up", "docker", "registry")
        if result.returncode != 0:
            raise RuntimeError(
                f"tools/local_env.py up docker registry failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
        self.docker_host = (self.state_dir / "docker" / "docker_host").read_text(encoding="utf-8").strip()
        self.registry_url = (self.state_dir / "registry" / "url").read_text(encoding="utf-8").strip()
        record = json.loads((self.state_dir / "docker" / "server.json").read_text(encoding="utf-8"))
        self.owns_engine = bool(record.get("owned"))
        return self

    def down(self, purge: bool = True) -> str:
        """Stop what :meth:`up` started; with ``purge``, delete the engine's and registry's data."""
        result = self.local_env("down", "docker", "registry")
        if purge:
            for path in (self.state_dir / "docker" / "data", self.state_dir / "registry" / "data"):
                shutil.rmtree(path, ignore_errors=True)
        return result.stdout + result.stderr

    # -- clients ------------------------------------------------------------

    @property
    def registry(self) -> str:
        """``127.0.0.1:PORT``: the registry as image names spell it."""
        return self.registry_url.split("://", 1)[-1]

    @property
    def env(self) -> dict[str, str]:
        """The environment for docker clients: ``DOCKER_HOST`` and ``SEED_REGISTRY_URL`` set."""
        env = dict(os.environ, DOCKER_HOST=self.docker_host, SEED_REGISTRY_URL=self.registry_url)
        env.pop("DOCKER_CONTEXT", None)
        return env

    def client(self) -> Any:
        """A Docker SDK client for the engine."""
        import docker

        return docker.DockerClient(base_url=self.docker_host, timeout=300)

    def docker(self, *args: str, check: bool = True, timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against the engine; raise with its output when ``check`` fails."""
        return self._run(["docker", *args], self.env, check, timeout)

    @staticmethod
    def _run(argv: list[str], env: dict[str, str], check: bool, timeout: float) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def base_image(self) -> str:
        """Make sure ``seed/base:bookworm-python3`` exists (``tools/base_image.sh``); return its ID."""
        result = subprocess.run(
            ["bash", str(TOOLS_DIR / "base_image.sh")],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=BASE_IMAGE_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"tools/base_image.sh failed (exit {result.returncode}):\n{result.stderr}")
        return result.stdout.strip().splitlines()[-1]

    def buildkit_command(self) -> tuple[list[str], dict[str, str]] | None:
        """A docker CLI command that builds with BuildKit here, or None.

        ``docker buildx build --load`` when the buildx plugin is there; else a CLI older
        than 23 (Debian's docker.io) with ``DOCKER_BUILDKIT=1``.  A newer CLI without
        buildx only has the legacy builder.
        """
        for cli in dict.fromkeys(filter(None, [shutil.which("docker"), "/usr/bin/docker"])):
            if not os.path.exists(cli):
                continue
            probe = subprocess.run([cli, "buildx", "version"], env=self.env, capture_output=True, check=False)
            if probe.returncode == 0:
                return [cli, "buildx", "build", "--load"], self.env
            version = subprocess.run(
                [cli, "version", "--format", "{{.Client.Version}}"], env=self.env, capture_output=True, text=True, check=False
            ).stdout.strip()
            try:
                major = int(version.split(".", 1)[0])
            except ValueError:
                continue
            if major < 23:
                return [cli, "build"], dict(self.env, DOCKER_BUILDKIT="1")
        return None

    def build(self, context: Path | str, tag: str, build_args: dict[str, str] | None = None) -> str:
        """Build ``context`` as ``tag`` (host network); return the image ID.

        BuildKit when a CLI offers it (see :meth:`buildkit_command`), else the engine's
        legacy builder through the SDK.  On the vfs storage driver the legacy builder
        copies the whole image for every Dockerfile instruction (seconds each).
        """
        build_args = build_args or {}
        command = self.buildkit_command()
        if command:
            argv, env = command
            for key, value in build_args.items():
                argv = [*argv, "--build-arg", f"{key}={value}"]
            self._run([*argv, "--network", "host", "-t", tag, str(context)], env, True, 600.0)
        else:
            self.client().images.build(
                path=str(context), tag=tag, buildargs=build_args, network_mode="host", rm=True, forcerm=True
            )
        return self.client().images.get(tag).id
