"""Run real ansible-playbook processes against a local AWS endpoint and read their results.

Every run is a separate ``ansible-playbook`` process (the collection comes from this checkout
through ``.collections``), with the JSON callback, so tests see exactly what a user's run returns.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
RUN_TIMEOUT = 300
LINK = REPO_ROOT / ".collections" / "ansible_collections" / "seed" / "aws_migration"


def ensure_collection_link() -> None:
    """``make collection-link``, for test runs that did not go through make."""
    if not LINK.exists():
        LINK.parent.mkdir(parents=True, exist_ok=True)
        LINK.symlink_to(Path("../../.."), target_is_directory=True)


class PlayResult:
    def __init__(self, returncode: int, data: dict, stderr: str, stdout: str = "") -> None:
        self.returncode = returncode
        self.data = data
        self.stderr = stderr
        self.stdout = stdout  # everything ansible-playbook printed on stdout (the JSON and any -v lines)

    def task_results(self) -> list[dict]:
        """Every task's result on localhost, in order (loops flattened to their items)."""
        out = []
        for play in self.data.get("plays", []):
            for task in play["tasks"]:
                result = task["hosts"].get("localhost")
                if result is None:
                    continue
                result = dict(result, _task=task["task"]["name"])
                out.extend([dict(r, _task=result["_task"]) for r in result["results"]] if "results" in result
                           and isinstance(result["results"], list) and result["results"]
                           and isinstance(result["results"][0], dict) and "item" in result["results"][0] else [result])
        return out

    def failures(self) -> list[tuple[str, object]] | str:
        """(task name, msg) of every failed task, or the tail of stderr when no task result says why."""
        return [(t["_task"], t.get("msg")) for t in self.task_results() if t.get("failed")] or self.stderr[-2000:]

    def stats(self) -> dict:
        return self.data.get("stats", {}).get("localhost", {})

    @property
    def changed(self) -> int:
        return self.stats().get("changed", 0)

    @property
    def failed(self) -> bool:
        return self.returncode != 0


class Ansible:
    """ansible-playbook against ``endpoint_url`` with the local inventory's throwaway credentials."""

    def __init__(self, endpoint_url: str, workdir: Path) -> None:
        ensure_collection_link()
        self.endpoint_url = endpoint_url
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.runs = 0
        self.extra_env: dict[str, str] = {}

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
            ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
            ANSIBLE_CALLBACK_RESULT_FORMAT="json",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCAL_TEMP=str(self.workdir / "tmp"),
            SEED_AWS_ENDPOINT_URL=self.endpoint_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            NO_PROXY="127.0.0.1,localhost",
        )
        env.pop("AWS_PROFILE", None)
        env.update(self.extra_env)
        return env

    def command(self, playbook: Path | str, check: bool = False, diff: bool = False,
                extra_vars: dict | None = None, verbosity: int = 0) -> list[str]:
        cmd = ["ansible-playbook", "-i", str(REPO_ROOT / "inventories" / "local"), str(playbook)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if extra_vars:
            path = self.workdir / f"vars-{self.runs}.json"
            path.write_text(json.dumps(extra_vars))
            cmd += ["-e", f"@{path}"]
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        return cmd

    def playbook(self, playbook: Path | str, **kwargs: Any) -> PlayResult:
        """Run a playbook of the repository (or any path) with the local inventory."""
        self.runs += 1
        proc = subprocess.Popen(self.command(REPO_ROOT / playbook, **kwargs), cwd=REPO_ROOT, env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill(proc)  # the module too: an orphan would keep writing into later tests
            raise AssertionError(f"ansible-playbook {playbook} ran over {RUN_TIMEOUT}s") from None
        try:
            data = json.loads(stdout[stdout.index("{"):]) if "{" in stdout else {}
        except ValueError:
            data = {}
            if "\n{" in stdout:  # -v lines before the JSON document
                try:
                    data = json.loads(stdout[stdout.index("\n{") + 1:])
                except ValueError:
                    pass
        return PlayResult(proc.returncode, data, stderr + stdout[:2000] * (not data), stdout)

    def write_play(self, tasks: list[dict]) -> Path:
        self.runs += 1
        play = [{
            "name": "Test play",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/seed.aws_migration.aws": "{{ seed_aws }}"},
            "tasks": tasks,
        }]
        path = self.workdir / f"play-{self.runs}.yml"
        path.write_text(yaml.safe_dump(play, sort_keys=False))
        return path

    def tasks(self, tasks: list[dict], **kwargs: Any) -> PlayResult:
        return self.playbook(self.write_play(tasks), **kwargs)

    def module(self, name: str, args: dict, **kwargs: Any) -> dict:
        """Run one module task; return its result (``failed``, ``msg``... included)."""
        result = self.tasks([{"name": "Module under test", f"seed.aws_migration.{name}": args}], **kwargs)
        tasks = result.task_results()
        if not tasks:
            raise AssertionError(f"ansible-playbook produced no task result:\n{result.stderr[-3000:]}")
        return tasks[0]

    def start(self, tasks: list[dict], **kwargs: Any) -> subprocess.Popen:
        """Start a play in its own process group (to be killed halfway by a test)."""
        return subprocess.Popen(self.command(self.write_play(tasks), **kwargs), cwd=REPO_ROOT, env=self.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        """SIGKILL ansible-playbook and every process under it.

        Ansible's workers call setsid(), so the module runs outside the playbook's process group:
        the tree is walked through /proc instead.
        """
        for pid in [proc.pid] + descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.communicate(timeout=30)


def descendants(pid: int) -> list[int]:
    """PIDs of every live process below ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
