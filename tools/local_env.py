#!/usr/bin/env python
"""Start, stop and inspect the local default environment.

Usage::

    python3 tools/local_env.py up       # start what is not running yet (idempotent)
    python3 tools/local_env.py down     # stop what `up` started (idempotent)
    python3 tools/local_env.py status   # show what runs (exit 3 if something does not)
    python3 tools/local_env.py env      # print `export VAR=value` lines for a shell
    eval "$(python3 tools/local_env.py env)"

State lives in ``<repo>/.local/`` (override with ``$SEED_LOCAL_STATE_DIR``), one
sub-directory per service.  The local AWS server (``tools/local_aws_server.py``)
keeps ``aws/server.json`` (its ready file: endpoint URL and pid),
``aws/server.log`` and ``aws/endpoint_url``.

Services are entries of :data:`SERVICES`; a new kind of service (a Docker engine,
a registry, ...) implements the small :class:`Service` interface and is added
to :func:`build_services`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

TOOLS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TOOLS_DIR.parent
sys.path.insert(0, str(TOOLS_DIR))

import _common  # noqa: E402  (path inserted above)

STATE_DIR_ENV = "SEED_LOCAL_STATE_DIR"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
EXIT_NOT_RUNNING = 3

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


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


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


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=COMMANDS)
    args = parser.parse_args(argv)
    return COMMANDS[args.command](build_services(state_root()))


if __name__ == "__main__":
    sys.exit(main())
