#!/usr/bin/env python
"""Start, stop and inspect the local default environment.

Usage::

    python3 tools/local_env.py up       # start what is not running yet (idempotent)
    python3 tools/local_env.py down     # stop what `up` started (idempotent)
    python3 tools/local_env.py status   # show what runs (exit 3 if something does not)
    python3 tools/local_env.py env      # print `export VAR=value` lines for a shell
    eval "$(python3 tools/local_env.py env)"
    python3 tools/local_env.py up aws   # only some services (also: $SEED_LOCAL_SERVICES=aws,registry)

State lives in ``<repo>/.local/`` (override with ``$SEED_LOCAL_STATE_DIR``), one
sub-directory per service:

``aws/``       the local AWS server (``tools/local_aws_server.py``): ``server.json`` (its
               ready file: endpoint URL and pid), ``server.log``, ``endpoint_url``.
               Exports ``SEED_AWS_ENDPOINT_URL``.
``docker/``    a Docker engine.  One that already answers (``$DOCKER_HOST``, else
               ``/var/run/docker.sock``) is used as it is and never stopped; otherwise
               Debian's ``dockerd`` is started with the vfs storage driver
               (``$SEED_DOCKER_STORAGE_DRIVER`` to choose another, e.g. overlay2), no
               bridge (containers use ``--network host``) and no iptables, with
               everything of its own under this directory:
               ``docker.sock``, ``data/`` (data root: images, kept by ``down``),
               ``exec/`` (exec root), ``dockerd.pid``, ``dockerd.log``,
               ``daemon.json`` (empty: the machine's /etc/docker/daemon.json is not read).
               ``server.json`` records what ``up`` did and ``docker_host`` holds the
               ``DOCKER_HOST`` value (``unix://...``).  Exports ``DOCKER_HOST``.
``registry/``  a Docker registry (Debian's ``docker-registry``, distribution 2.8) on
               127.0.0.1 with filesystem storage in ``data/`` (kept by ``down``), deletes
               enabled; ``config.yml``, ``registry.log``, ``server.json`` and ``url``
               (``http://127.0.0.1:PORT``; the port is kept across restarts while it is
               free).  Exports ``SEED_REGISTRY_URL``.  The engine treats loopback
               registries as insecure (plain HTTP), so ``docker push 127.0.0.1:PORT/x:y``
               works without configuration.

``down`` stops only what ``up`` started, in reverse order.  Services are the
entries of :func:`build_services`; a new kind of service implements the small
:class:`Service` interface and is added there.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

TOOLS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TOOLS_DIR.parent
sys.path.insert(0, str(TOOLS_DIR))

import _common  # noqa: E402  (path inserted above)

STATE_DIR_ENV = "SEED_LOCAL_STATE_DIR"
SERVICES_ENV = "SEED_LOCAL_SERVICES"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
EXIT_NOT_RUNNING = 3

DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
# vfs works on any file system (also inside containers), at the price of a full copy of
# the image per layer and per container; overlay2 is far faster where the kernel and the
# file system of the data root allow it (SEED_DOCKER_STORAGE_DRIVER=overlay2).
STORAGE_DRIVER_ENV = "SEED_DOCKER_STORAGE_DRIVER"
DEFAULT_STORAGE_DRIVER = "vfs"
DOCKER_START_TIMEOUT = 60.0
# dockerd stops running containers first (--shutdown-timeout, 15 s by default).
DOCKER_STOP_TIMEOUT = 45.0
# A unix socket path must fit in sun_path (108 bytes with its NUL).
UNIX_PATH_MAX = 107
SYSTEM_CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
REGISTRY_BINARIES = ("docker-registry", "registry")

# Loopback health checks must never go through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def state_root() -> Path:
    """The state directory: ``$SEED_LOCAL_STATE_DIR`` or ``<repo>/.local``."""
    return Path(os.environ.get(STATE_DIR_ENV) or REPO_ROOT / ".local")


# --------------------------------------------------------------------------
# Process helpers
# --------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """True if ``pid`` is a live process (zombies count as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (e.g. macOS): trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def process_cmdline(pid: int) -> str | None:
    """The command line of ``pid``, or None if it cannot be read."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        pass
    try:
        result = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout.strip() or None


def is_process_running(pid: int, marker: str) -> bool:
    """True if ``pid`` is alive and (when its command line is readable) mentions ``marker``.

    Guards against signalling an unrelated process that reused a recorded pid.
    """
    if not pid_alive(pid):
        return False
    cmdline = process_cmdline(pid)
    return cmdline is None or marker in cmdline


def terminate(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM ``pid``, wait up to ``timeout`` s, then SIGKILL. True if it had to be killed."""
    os.kill(pid, signal.SIGTERM)
    if wait_for(lambda: not pid_alive(pid), timeout):
        return False
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 5.0)
    return True


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True if ``GET url`` answers 2xx."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (OSError, ValueError):
        return False


def log_tail(path: Path, lines: int = 20, skip: str | None = None) -> str:
    """The last ``lines`` lines of a log file (without those containing ``skip``)."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    if skip:
        text = [line for line in text if skip not in line]
    return "\n".join(text[-lines:])


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def port_free(port: int, host: str = _common.LOOPBACK) -> bool:
    """True if ``host:port`` can be bound now (as servers bind: TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = _common.LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (the Docker API), standard library only."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def docker_ping(docker_host: str, timeout: float = 2.0) -> bool:
    """True if the Docker engine at ``docker_host`` answers ``GET /_ping`` with OK.

    ``unix://`` and plain ``tcp://`` are asked directly; anything else (ssh://, TLS)
    through ``docker version`` with that ``DOCKER_HOST``.
    """
    parsed = urlsplit(docker_host)
    if parsed.scheme == "unix":
        connection: http.client.HTTPConnection = _UnixHTTPConnection(parsed.path, timeout)
    elif parsed.scheme in ("tcp", "http") and not os.environ.get("DOCKER_TLS_VERIFY"):
        connection = http.client.HTTPConnection(parsed.hostname or "localhost", parsed.port or 2375, timeout=timeout)
    else:
        return _docker_cli_answers(docker_host, timeout)
    try:
        connection.request("GET", "/_ping")
        response = connection.getresponse()
        return response.status == 200 and response.read().strip() == b"OK"
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _docker_cli_answers(docker_host: str, timeout: float) -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        result = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            env=dict(os.environ, DOCKER_HOST=docker_host),
            capture_output=True,
            timeout=max(timeout, 5.0),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


# --------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------


class Service:
    """One piece of the local environment.  Subclasses implement all methods.

    ``start``/``stop``/``status`` return a one-line message for the user;
    ``start`` and ``stop`` must be idempotent; ``start`` raises RuntimeError
    when it fails.
    """

    name = "service"

    def alive(self) -> bool:
        """True if the service is up and answering."""
        raise NotImplementedError

    def start(self) -> str:
        """Start the service unless it already runs."""
        raise NotImplementedError

    def stop(self) -> str:
        """Stop what ``start`` started; a no-op if nothing is recorded."""
        raise NotImplementedError

    def status(self) -> str:
        """Describe what runs."""
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        """Environment variables for clients (empty when not running)."""
        raise NotImplementedError


class ReadyFileService(Service):
    """A ``tools/`` server process that announces itself through a ready file.

    Started detached (own session, output to ``server.log``) with
    ``--host 127.0.0.1 --port 0 --ready-file <dir>/server.json``; alive when the
    recorded pid runs and ``GET <endpoint><health_path>`` answers.
    """

    def __init__(self, name: str, script: str, health_path: str, env_var: str, root: Path) -> None:
        self.name = name
        self.script = script
        self.health_path = health_path
        self.env_var = env_var
        self.dir = root / name
        self.ready_file = self.dir / "server.json"
        self.log_file = self.dir / "server.log"
        self.endpoint_file = self.dir / "endpoint_url"

    def record(self) -> dict | None:
        """The recorded ``{"endpoint_url", "pid"}``, if any."""
        record = _common.read_ready_file(str(self.ready_file))
        if record and isinstance(record.get("pid"), int) and record.get("endpoint_url"):
            return record
        return None

    def _answers(self, record: dict) -> bool:
        return http_ok(record["endpoint_url"] + self.health_path)

    def alive(self) -> bool:
        record = self.record()
        return bool(record) and is_process_running(record["pid"], self.script) and self._answers(record)

    def start(self) -> str:
        if self.alive():
            record = self.record()
            return f"{self.name}: already running, pid {record['pid']} at {record['endpoint_url']}"
        self._forget()
        record = self._launch()
        self.endpoint_file.write_text(record["endpoint_url"] + "\n", encoding="utf-8")
        return f"{self.name}: started pid {record['pid']} at {record['endpoint_url']} (log {self.log_file})"

    def _launch(self) -> dict:
        """Start the process detached and wait until it answers."""
        self.dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            str(TOOLS_DIR / self.script),
            "--host",
            _common.LOOPBACK,
            "--port",
            "0",
            "--ready-file",
            str(self.ready_file),
        ]
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def ready() -> bool:
            record = self.record()
            return process.poll() is not None or bool(record and self._answers(record))

        wait_for(ready, START_TIMEOUT)
        record = self.record()
        if process.poll() is None and record and record["pid"] == process.pid and self._answers(record):
            return record
        if process.poll() is None:
            terminate(process.pid)
        self._remove_state()
        raise RuntimeError(
            f"{self.name}: {self.script} did not become ready within {START_TIMEOUT:.0f}s"
            f" (exit code {process.poll()}); last log lines:\n{log_tail(self.log_file)}"
        )

    def _forget(self) -> None:
        """Stop a recorded but unhealthy process of ours and drop stale state."""
        record = self.record()
        if record and is_process_running(record["pid"], self.script):
            terminate(record["pid"])
        self._remove_state()

    def _remove_state(self) -> None:
        for path in (self.ready_file, self.endpoint_file):
            path.unlink(missing_ok=True)

    def stop(self) -> str:
        record = self.record()
        if not record:
            self._remove_state()
            return f"{self.name}: nothing recorded, nothing to stop"
        pid = record["pid"]
        if is_process_running(pid, self.script):
            killed = terminate(pid)
            message = f"{self.name}: stopped pid {pid}" + (" (SIGKILL)" if killed else "")
        else:
            message = f"{self.name}: recorded pid {pid} was not running; state cleaned up"
        self._remove_state()
        return message

    def status(self) -> str:
        record = self.record()
        if not record:
            return f"{self.name}: not running"
        if self.alive():
            return (
                f"{self.name}: running, pid {record['pid']} at {record['endpoint_url']} (log {self.log_file})"
            )
        return (
            f"{self.name}: NOT answering (recorded pid {record['pid']} at {record['endpoint_url']}); run `up`"
        )

    def env(self) -> dict[str, str]:
        record = self.record()
        return {self.env_var: record["endpoint_url"]} if record and self.alive() else {}


class DaemonService(Service):
    """A long-running binary started by ``up`` itself (not a ``tools/`` script).

    Started detached (own session, output to the service's log); ``server.json``
    records ``{"pid": ..., "owned": true, ...}``.  Subclasses give the command, the
    health check and what to write for clients.
    """

    marker = ""  # must occur in the process's command line (pid reuse guard)
    start_timeout = START_TIMEOUT
    stop_timeout = STOP_TIMEOUT

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root
        self.dir = root / name
        self.record_file = self.dir / "server.json"

    # -- state ------------------------------------------------------------

    def record(self) -> dict | None:
        """What ``up`` recorded, if anything."""
        return read_json(self.record_file)

    def _write_record(self, record: dict) -> None:
        write_text_atomic(self.record_file, json.dumps(record, sort_keys=True) + "\n")

    def _remove_state(self) -> None:
        self.record_file.unlink(missing_ok=True)

    def _owned_pid_running(self, record: dict | None) -> bool:
        return bool(
            record
            and record.get("owned")
            and isinstance(record.get("pid"), int)
            and is_process_running(record["pid"], self.marker)
        )

    # -- health -------------------------------------------------------------

    def _answers(self, record: dict) -> bool:
        raise NotImplementedError

    def _describe(self, record: dict) -> str:
        raise NotImplementedError

    def alive(self) -> bool:
        record = self.record()
        if not record:
            return False
        if record.get("owned") and not self._owned_pid_running(record):
            return False
        return self._answers(record)

    # -- start/stop ---------------------------------------------------------

    def _spawn(self, command: list[str], log_file: Path) -> subprocess.Popen:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as log:
            log.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} {shlex.join(command)}\n".encode())
            log.flush()
            return subprocess.Popen(
                command,
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_answering(self, process: subprocess.Popen, record: dict, timeout: float) -> bool:
        """Wait until ``record`` answers; False if the process exits or time runs out."""
        wait_for(lambda: process.poll() is not None or self._answers(record), timeout, interval=0.2)
        return process.poll() is None and self._answers(record)

    def _forget(self) -> None:
        """Stop a recorded but unhealthy process of ours and drop stale state."""
        record = self.record()
        if self._owned_pid_running(record):
            terminate(record["pid"], self.stop_timeout)
        self._after_stop(record)
        self._remove_state()

    def _after_stop(self, record: dict | None) -> None:
        """Clean-up once our process is gone (subclasses)."""

    def stop(self) -> str:
        record = self.record()
        if not record:
            self._remove_state()
            return f"{self.name}: nothing recorded, nothing to stop"
        if not record.get("owned"):
            self._remove_state()
            return f"{self.name}: {self._describe(record)} was not started here; left running"
        pid = record.get("pid")
        if self._owned_pid_running(record):
            killed = terminate(pid, self.stop_timeout)
            message = f"{self.name}: stopped pid {pid}" + (" (SIGKILL)" if killed else "")
        else:
            message = f"{self.name}: recorded pid {pid} was not running; state cleaned up"
        self._after_stop(record)
        self._remove_state()
        return message

    def status(self) -> str:
        record = self.record()
        if not record:
            return f"{self.name}: not running"
        if self.alive():
            owner = f"pid {record['pid']}" if record.get("owned") else "not started here"
            return f"{self.name}: running, {owner}, {self._describe(record)}"
        return f"{self.name}: NOT answering ({self._describe(record)}); run `up`"


class DockerEngineService(DaemonService):
    """A Docker engine: the one that already answers, else a private ``dockerd``.

    Ours listens on ``unix://<state>/docker/docker.sock`` only, never on the default
    socket, so it cannot fight a system Docker (or another state directory's engine).
    """

    marker = "dockerd"
    start_timeout = DOCKER_START_TIMEOUT
    stop_timeout = DOCKER_STOP_TIMEOUT

    def __init__(self, root: Path) -> None:
        super().__init__("docker", root)
        self.socket = self.dir / "docker.sock"
        self.docker_host_file = self.dir / "docker_host"
        self.log_file = self.dir / "dockerd.log"
        self.pid_file = self.dir / "dockerd.pid"
        self.config_file = self.dir / "daemon.json"
        self.data_root = self.dir / "data"
        self.exec_root = self.dir / "exec"

    @property
    def own_docker_host(self) -> str:
        """``unix://`` URL of the socket a dockerd started here listens on."""
        return f"unix://{self.socket}"

    def _answers(self, record: dict) -> bool:
        return docker_ping(record["docker_host"])

    def _describe(self, record: dict) -> str:
        where = f"DOCKER_HOST={record['docker_host']}"
        return f"{where} (log {self.log_file})" if record.get("owned") else where

    def env(self) -> dict[str, str]:
        record = self.record()
        return {"DOCKER_HOST": record["docker_host"]} if record and self.alive() else {}

    def _existing_engine(self) -> str | None:
        """The DOCKER_HOST of an engine that answers without us, if any."""
        candidates = [os.environ.get("DOCKER_HOST") or "", f"unix://{DEFAULT_DOCKER_SOCKET}"]
        for docker_host in candidates:
            if docker_host and docker_host != self.own_docker_host and docker_ping(docker_host):
                return docker_host
        return None

    def _remove_state(self) -> None:
        super()._remove_state()
        self.docker_host_file.unlink(missing_ok=True)

    def start(self) -> str:
        record = self.record()
        if record and self.alive():
            if record.get("owned"):
                return f"{self.name}: already running, pid {record['pid']}, DOCKER_HOST={record['docker_host']}"
            return f"{self.name}: using the running engine at DOCKER_HOST={record['docker_host']} (not ours)"
        self._forget()
        existing = self._existing_engine()
        if existing:
            record = {"docker_host": existing, "owned": False}
            self._write_record(record)
            write_text_atomic(self.docker_host_file, existing + "\n")
            return (
                f"{self.name}: using the running engine at DOCKER_HOST={existing}"
                " (not started here, never stopped here)"
            )
        record = self._launch()
        write_text_atomic(self.docker_host_file, record["docker_host"] + "\n")
        return (
            f"{self.name}: started dockerd pid {record['pid']} in {record['seconds']:.1f}s,"
            f" DOCKER_HOST={record['docker_host']} (log {self.log_file})"
        )

    def command(self) -> list[str]:
        """The dockerd command line."""
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        command = [
            dockerd,
            f"--storage-driver={os.environ.get(STORAGE_DRIVER_ENV) or DEFAULT_STORAGE_DRIVER}",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            f"--data-root={self.data_root}",
            f"--exec-root={self._exec_root()}",
            f"--pidfile={self.pid_file}",
            f"--config-file={self.config_file}",
            "-H",
            self.own_docker_host,
        ]
        if os.path.exists(SYSTEM_CONTAINERD_SOCKET):
            # dockerd would share the system containerd (and a system Docker's "moby"
            # namespace): keep our containers in a namespace of their own.
            namespace = "seed-" + hashlib.sha256(str(self.dir).encode()).hexdigest()[:10]
            command += [f"--containerd-namespace={namespace}", f"--containerd-plugins-namespace={namespace}-plugins"]
        return command

    def _exec_root(self) -> Path:
        """``<state>/docker/exec``, or a short path in /tmp when sockets below it would not fit."""
        longest = self.exec_root / "containerd" / "containerd.sock.ttrpc"
        if len(str(longest)) <= UNIX_PATH_MAX - 4:
            return self.exec_root
        digest = hashlib.sha256(str(self.dir).encode()).hexdigest()[:12]
        return Path("/tmp") / f"seed-docker-{digest}"

    def _preflight(self) -> None:
        if not (shutil.which("dockerd") or os.path.exists("/usr/sbin/dockerd")):
            raise RuntimeError(f"{self.name}: no Docker engine answers and dockerd is not installed (apt-get install docker.io)")
        if os.geteuid() != 0:
            raise RuntimeError(
                f"{self.name}: no Docker engine answers and dockerd needs root;"
                " run as root, or start an engine yourself and set DOCKER_HOST"
            )
        if len(str(self.socket)) > UNIX_PATH_MAX:
            raise RuntimeError(f"{self.name}: socket path too long for a unix socket: {self.socket}")

    def _launch(self) -> dict:
        self._preflight()
        try:
            for path in (self.data_root, self._exec_root()):
                path.mkdir(parents=True, exist_ok=True, mode=0o710)
            if not self.config_file.exists():
                write_text_atomic(self.config_file, "{}\n")
        except OSError as exc:
            raise RuntimeError(f"{self.name}: cannot prepare {self.dir}: {exc}") from exc
        # dockerd refuses to start while its pid file names a live process (any process).
        self.pid_file.unlink(missing_ok=True)
        started = time.monotonic()
        process = self._spawn(self.command(), self.log_file)
        record = {"docker_host": self.own_docker_host, "owned": True, "pid": process.pid}
        if self._wait_answering(process, record, self.start_timeout):
            record["seconds"] = round(time.monotonic() - started, 2)
            self._write_record(record)
            return record
        code = process.poll()
        if code is None:
            terminate(process.pid, self.stop_timeout)
            why = f"did not answer on {self.own_docker_host} within {self.start_timeout:.0f}s (stopped it)"
        else:
            why = f"exited with code {code} before answering on {self.own_docker_host}"
        self._after_stop(record)
        raise RuntimeError(
            f"{self.name}: dockerd {why}; last log lines of {self.log_file}:\n"
            + log_tail(self.log_file, 30, skip="module=grpc")
        )

    def _after_stop(self, record: dict | None) -> None:
        """dockerd stops its containerd on a clean exit; after a SIGKILL, do it ourselves."""
        if not record or not record.get("owned"):
            return
        exec_root = self._exec_root()
        containerd_pid_file = exec_root / "containerd" / "containerd.pid"
        try:
            pid = int(containerd_pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid and is_process_running(pid, str(exec_root)):
            terminate(pid)
        self.socket.unlink(missing_ok=True)
        unmount_below([self.data_root, exec_root])


def mount_points_below(roots: list[Path]) -> list[str]:
    """Mount points at or below any of ``roots`` (deepest first), from /proc/self/mountinfo."""
    prefixes = [str(root.resolve()) for root in roots]
    points = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if len(fields) < 5:
            continue
        point = fields[4].encode().decode("unicode_escape")  # octal escapes such as \040
        if any(point == prefix or point.startswith(prefix + "/") for prefix in prefixes):
            points.append(point)
    return sorted(set(points), key=len, reverse=True)


def unmount_below(roots: list[Path]) -> None:
    """Lazily unmount what a killed dockerd left mounted below ``roots`` (its data and exec roots)."""
    for point in mount_points_below(roots):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


class RegistryService(DaemonService):
    """A Docker registry (distribution 2.8, Debian's ``docker-registry``) on loopback."""

    start_timeout = START_TIMEOUT
    attempts = 3  # a free port can be taken between choosing it and binding it

    def __init__(self, root: Path) -> None:
        super().__init__("registry", root)
        self.config_path = self.dir / "config.yml"
        self.data_dir = self.dir / "data"
        self.log_file = self.dir / "registry.log"
        self.url_file = self.dir / "url"
        self.marker = str(self.config_path)

    def _answers(self, record: dict) -> bool:
        return http_ok(record["url"] + "/v2/")

    def _describe(self, record: dict) -> str:
        return f"{record['url']} (log {self.log_file})"

    def _remove_state(self) -> None:
        super()._remove_state()
        self.url_file.unlink(missing_ok=True)

    def env(self) -> dict[str, str]:
        record = self.record()
        return {"SEED_REGISTRY_URL": record["url"]} if record and self.alive() else {}

    def start(self) -> str:
        record = self.record()
        if record and self.alive():
            return f"{self.name}: already running, pid {record['pid']} at {record['url']}"
        self._forget()
        record = self._launch()
        write_text_atomic(self.url_file, record["url"] + "\n")
        return f"{self.name}: started pid {record['pid']} at {record['url']} (log {self.log_file})"

    @staticmethod
    def binary() -> str | None:
        """Path of the registry binary."""
        for name in REGISTRY_BINARIES:
            path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
            if path:
                return path
        return None

    def _previous_port(self) -> int | None:
        config = read_json(self.config_path) or {}
        try:
            return int(str(config["http"]["addr"]).rsplit(":", 1)[1])
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def write_config(self, port: int) -> None:
        """Generate ``config.yml`` for ``127.0.0.1:port``."""
        config = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "fields": {"service": "registry"}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.data_dir)},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": f"{_common.LOOPBACK}:{port}",
                "secret": secrets.token_hex(16),
                "headers": {"X-Content-Type-Options": ["nosniff"]},
            },
        }
        # JSON is YAML: the registry reads it, and so does _previous_port, without a YAML library.
        write_text_atomic(self.config_path, json.dumps(config, indent=2) + "\n")

    def _launch(self) -> dict:
        binary = self.binary()
        if not binary:
            raise RuntimeError(f"{self.name}: docker-registry is not installed (apt-get install docker-registry)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        previous = self._previous_port()
        failures = []
        for attempt in range(self.attempts):
            port = previous if attempt == 0 and previous and port_free(previous) else free_port()
            self.write_config(port)
            process = self._spawn([binary, "serve", str(self.config_path)], self.log_file)
            record = {"owned": True, "pid": process.pid, "url": f"http://{_common.LOOPBACK}:{port}"}
            if self._wait_answering(process, record, self.start_timeout):
                self._write_record(record)
                return record
            if process.poll() is None:
                terminate(process.pid)
            failures.append(f"port {port}: exit code {process.poll()}")
        raise RuntimeError(
            f"{self.name}: {binary} did not answer GET /v2/ ({'; '.join(failures)}); last log lines:\n"
            + log_tail(self.log_file, 20)
        )


def build_services(root: Path) -> list[Service]:
    """The services of the local environment, in start order."""
    return [
        ReadyFileService(
            name="aws",
            script="local_aws_server.py",
            health_path="/_seed/requests",
            env_var="SEED_AWS_ENDPOINT_URL",
            root=root,
        ),
        DockerEngineService(root),
        RegistryService(root),
    ]


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------


def cmd_up(services: list[Service]) -> int:
    """Start every service that does not run yet."""
    for service in services:
        try:
            print(service.start(), flush=True)
        except RuntimeError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    return 0


def cmd_down(services: list[Service]) -> int:
    """Stop every service, in reverse start order."""
    for service in reversed(services):
        print(service.stop(), flush=True)
    return 0


def cmd_status(services: list[Service]) -> int:
    """Print what runs; exit 3 if something does not."""
    running = True
    for service in services:
        print(service.status())
        running = running and service.alive()
    return 0 if running else EXIT_NOT_RUNNING


def cmd_env(services: list[Service]) -> int:
    """Print ``export VAR=value`` lines for the running services."""
    missing = []
    for service in services:
        variables = service.env()
        if not variables:
            missing.append(service.name)
        for key, value in variables.items():
            print(f"export {key}={shlex.quote(value)}")
    if missing:
        print(f"not running: {', '.join(missing)} (run: tools/local_env.py up)", file=sys.stderr)
        return 1
    return 0


COMMANDS = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "env": cmd_env}


def select_services(services: list[Service], names: list[str]) -> list[Service]:
    """The services named in ``names`` (all when empty), in start order."""
    known = [service.name for service in services]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SystemExit(f"unknown service(s): {', '.join(unknown)} (known: {', '.join(known)})")
    return [service for service in services if not names or service.name in names]


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument(
        "services",
        nargs="*",
        metavar="SERVICE",
        help=f"only these services (default: ${SERVICES_ENV}, comma-separated, else all)",
    )
    args = parser.parse_args(argv)
    names = args.services or [name for name in os.environ.get(SERVICES_ENV, "").replace(",", " ").split() if name]
    return COMMANDS[args.command](select_services(build_services(state_root()), names))


if __name__ == "__main__":
    sys.exit(main())
