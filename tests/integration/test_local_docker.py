"""Containers on the local default environment: a real Docker engine and a real registry.

``local_docker`` brings both up with ``tools/local_env.py`` in a private state
directory (``conftest.py``); ``base_image`` makes ``seed/base:bookworm-python3`` with
``tools/base_image.sh`` (debootstrap once per machine, then a cached tarball);
``example_images`` builds ``examples/apps/frontend`` and ``examples/apps/backend`` on it.
The apps run with host networking (the engine has no bridge) on free ports given
through ``PORT``, and go through the registry and back by digest.

Tests marked ``docker`` fail, never skip, when the engine or the registry cannot start.
The first tests run the apps as plain processes: their HTTP contract without Docker.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from email.message import Message
from pathlib import Path
from typing import Any, Iterator

import pytest
from support.servers import BASE_IMAGE, REPO_ROOT, LocalDocker, http_json

APPS_DIR = REPO_ROOT / "examples" / "apps"
HEALTHY_TIMEOUT = 60.0
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
APP_UID = "10001"

# Loopback requests never go through an HTTP(S)_PROXY from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on all addresses right now (the apps bind 0.0.0.0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 5.0, method: str = "GET") -> tuple[int, Message, bytes]:
    """``(status, headers, body)`` of one request (headers case-insensitive); HTTP errors are answers too."""
    request = urllib.request.Request(url, method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_http(url: str, timeout: float = 20.0, diagnose: Any = None) -> bytes:
    """Poll ``url`` until it answers 200; return the body."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            status, _headers, body = http_get(url, timeout=2.0)
            if status == 200:
                return body
            last = status
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    details = diagnose() if diagnose else ""
    raise AssertionError(f"{url} did not answer 200 within {timeout}s (last: {last!r})\n{details}")


@pytest.fixture
def app_process(tmp_path: Path) -> Iterator[Any]:
    """Start an example app as a plain Python process: ``start(app, **env) -> base URL``."""
    processes: list[subprocess.Popen] = []

    def start(app: str, **env: str) -> str:
        script = {"frontend": APPS_DIR / "frontend" / "server.py", "backend": APPS_DIR / "backend" / "app.py"}[app]
        port = free_port()
        log = open(tmp_path / f"{app}-{port}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [sys.executable, str(script)],
            env=dict(os.environ, PORT=str(port), BIND_ADDRESS="127.0.0.1", **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/health", diagnose=lambda: (tmp_path / f"{app}-{port}.log").read_text(errors="replace"))
        return url

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        # SIGTERM is handled: a clean exit, quickly.
        assert process.wait(10) == 0


# --------------------------------------------------------------------------
# The apps' HTTP contract, as plain processes (no Docker)
# --------------------------------------------------------------------------


def test_backend_answers_health_and_hello_from_its_env(app_process) -> None:
    url = app_process(
        "backend", APP_GREETING="Hej", APP_VERSION="1.2.3", DATABASE_URL="postgresql://app:s3cret@db.internal:5432/orders"
    )
    assert http_json("GET", url + "/health") == {"status": "ok"}
    assert http_json("GET", url + "/api/hello?name=ecs") == {
        "message": "Hej, ecs!",
        "service": "backend",
        "version": "1.2.3",
        "database": True,
    }
    status, headers, body = http_get(url + "/api/info")
    assert status == 200 and headers["Content-Type"] == "application/json"
    info = json.loads(body)
    assert info["database"] == {"configured": True, "scheme": "postgresql", "host": "db.internal", "port": 5432, "name": "orders"}
    assert b"s3cret" not in body and b"app:" not in body
    status, _headers, body = http_get(url + "/nope")
    assert status == 404 and json.loads(body)["error"] == "not found"


def test_backend_defaults_without_database(app_process) -> None:
    url = app_process("backend")
    assert http_json("GET", url + "/api/hello")["message"] == "Hello, world!"
    assert http_json("GET", url + "/api/info")["database"] == {"configured": False}


def test_frontend_serves_static_files_health_and_forwards_api(app_process) -> None:
    backend = app_process("backend", APP_GREETING="Hi")
    url = app_process("frontend", BACKEND_URL=backend)
    status, headers, body = http_get(url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"seed example frontend" in body and b"/style.css" in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _body = http_get(url + "/style.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert http_json("GET", url + "/health") == {"status": "ok"}
    assert http_get(url + "/health", method="HEAD")[0] == 200
    assert http_json("GET", url + "/api/hello?name=web")["message"] == "Hi, web!"
    assert http_get(url + "/static/")[0] == 404  # no directory listings
    assert http_get(url + "/../backend/app.py")[0] == 404


def test_frontend_without_backend_answers_api_with_404_and_502(app_process) -> None:
    alone = app_process("frontend")
    assert http_get(alone + "/api/hello")[0] == 404
    unreachable = app_process("frontend", BACKEND_URL=f"http://127.0.0.1:{free_port()}")
    status, _headers, body = http_get(unreachable + "/api/hello")
    assert status == 502 and json.loads(body)["error"] == "backend unreachable"


# --------------------------------------------------------------------------
# Engine and registry
# --------------------------------------------------------------------------


@pytest.mark.docker
def test_local_env_brings_up_engine_and_registry_idempotently(local_docker: LocalDocker) -> None:
    again = local_docker.local_env("up", "docker", "registry")
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(r"^docker: (already running|using the running engine)", again.stdout, re.M), again.stdout
    assert re.search(r"^registry: already running", again.stdout, re.M), again.stdout
    assert (local_docker.state_dir / "docker" / "docker_host").read_text().strip() == local_docker.docker_host
    assert (local_docker.state_dir / "registry" / "url").read_text().strip() == local_docker.registry_url

    env = local_docker.local_env("env", "docker", "registry")
    assert env.returncode == 0, env.stderr
    assert env.stdout.splitlines() == [
        f"export DOCKER_HOST={local_docker.docker_host}",
        f"export SEED_REGISTRY_URL={local_docker.registry_url}",
    ]
    assert local_docker.local_env("status", "docker", "registry").returncode == 0

    # The CLI and the SDK both work with nothing but DOCKER_HOST.
    assert local_docker.docker("version", "--format", "{{.Server.Version}}").stdout.strip()
    assert local_docker.client().ping() is True
    assert http_json("GET", local_docker.registry_url + "/v2/") == {}
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", local_docker.registry_url)

    if local_docker.owns_engine:
        assert local_docker.docker_host == f"unix://{local_docker.state_dir}/docker/docker.sock"
        info = local_docker.client().info()
        assert info["Driver"] == (os.environ.get("SEED_DOCKER_STORAGE_DRIVER") or "vfs")
        assert info["DockerRootDir"] == str(local_docker.state_dir / "docker" / "data")


# --------------------------------------------------------------------------
# Base image
# --------------------------------------------------------------------------


@pytest.mark.docker
def test_base_image_is_small_runs_python_and_is_made_once(local_docker: LocalDocker, base_image) -> None:
    image = local_docker.client().images.get(BASE_IMAGE)
    assert image.id == base_image.id
    assert image.attrs["Config"]["Cmd"] == ["python3"]
    assert image.attrs["Size"] < 200_000_000, image.attrs["Size"]

    probe = (
        "import os, sys, ssl, sqlite3, json, urllib.request; "
        "print(sys.version_info[:2], len(os.listdir('/var/lib/apt/lists')), len(os.listdir('/usr/share/doc')))"
    )
    out = local_docker.docker("run", "--rm", "--network", "host", BASE_IMAGE, "python3", "-c", probe).stdout
    assert out.strip() == "(3, 11) 0 0"

    started = time.monotonic()
    assert local_docker.base_image() == base_image.id  # idempotent: the image exists, nothing is rebuilt
    assert time.monotonic() - started < 15


# --------------------------------------------------------------------------
# The example apps in containers
# --------------------------------------------------------------------------


def wait_healthy(container: Any, timeout: float = HEALTHY_TIMEOUT) -> None:
    """Wait for the image's HEALTHCHECK to report healthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        if state["Status"] != "running":
            break
        if state.get("Health", {}).get("Status") == "healthy":
            return
        time.sleep(0.3)
    container.reload()
    raise AssertionError(
        f"{container.name} not healthy: {json.dumps(container.attrs['State'], indent=1)}\n"
        + container.logs().decode(errors="replace")
    )


@pytest.fixture
def run_container(local_docker: LocalDocker) -> Iterator[Any]:
    """``run(image_ref, **env) -> container`` on the host network; removed afterwards."""
    containers = []

    def run(image_ref: str, **env: str) -> Any:
        container = local_docker.client().containers.run(
            image_ref,
            detach=True,
            name=f"seed-test-{uuid.uuid4().hex[:10]}",
            network_mode="host",
            environment=env,
            # The image's HEALTHCHECK command, probed every second instead of every 15 s.
            healthcheck={"interval": 1_000_000_000, "start_period": 0},
        )
        containers.append(container)
        return container

    yield run
    for container in containers:
        container.remove(force=True)


@pytest.mark.docker
def test_example_apps_run_healthy_on_the_host_network(example_images, run_container) -> None:
    backend_port, frontend_port = free_port(), free_port()
    backend = run_container(
        example_images["backend"].ref,
        PORT=str(backend_port),
        APP_GREETING="Hallo",
        DATABASE_URL="postgresql://app:s3cret@db.internal:5432/orders",
    )
    frontend = run_container(
        example_images["frontend"].ref, PORT=str(frontend_port), BACKEND_URL=f"http://127.0.0.1:{backend_port}"
    )
    for container in (backend, frontend):
        wait_healthy(container)

    backend_url, frontend_url = f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{frontend_port}"
    assert http_json("GET", backend_url + "/health") == {"status": "ok"}
    assert http_json("GET", backend_url + "/api/hello?name=fargate")["message"] == "Hallo, fargate!"
    assert b"s3cret" not in http_get(backend_url + "/api/info")[2]
    assert http_json("GET", frontend_url + "/health") == {"status": "ok"}
    status, _headers, body = http_get(frontend_url + "/")
    assert status == 200 and b"seed example frontend" in body
    assert http_json("GET", frontend_url + "/api/hello?name=web")["message"] == "Hallo, web!"

    for container in (backend, frontend):
        assert container.attrs["Config"]["User"] == f"{APP_UID}:{APP_UID}"
        assert container.exec_run(["python3", "-c", "import os; print(os.getuid())"]).output.strip() == APP_UID.encode()
        # ECS stops tasks with SIGTERM: the apps exit at once, cleanly.
        started = time.monotonic()
        container.stop(timeout=10)
        assert time.monotonic() - started < 5
        container.reload()
        assert container.attrs["State"]["ExitCode"] == 0, container.logs().decode(errors="replace")


# --------------------------------------------------------------------------
# Registry round trip
# --------------------------------------------------------------------------


def manifest_digest(registry_url: str, repository: str, reference: str) -> str | None:
    """The registry's Docker-Content-Digest of a manifest (HEAD), None when it has none."""
    request = urllib.request.Request(
        f"{registry_url}/v2/{repository}/manifests/{reference}", method="HEAD", headers={"Accept": MANIFEST_V2}
    )
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.headers.get("Docker-Content-Digest")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def push(local_docker: LocalDocker, ref: str) -> str:
    """``docker push ref``; the digest it reports."""
    out = local_docker.docker("push", ref).stdout
    match = re.search(r"digest: (sha256:[0-9a-f]{64})", out)
    assert match, out
    return match.group(1)


def image_gone(local_docker: LocalDocker, image_id: str) -> bool:
    return local_docker.docker("image", "inspect", image_id, check=False).returncode != 0


@pytest.mark.docker
@pytest.mark.parametrize("app", ["frontend", "backend"])
def test_push_pull_by_digest_round_trip(local_docker: LocalDocker, example_images, app: str) -> None:
    image = example_images[app]
    repository = f"seed-test/{app}"
    tag = uuid.uuid4().hex[:12]
    remote = f"{local_docker.registry}/{repository}:{tag}"

    local_docker.docker("tag", image.ref, remote)
    digest = push(local_docker, remote)
    assert manifest_digest(local_docker.registry_url, repository, tag) == digest
    assert manifest_digest(local_docker.registry_url, repository, digest) == digest
    by_digest = f"{local_docker.registry}/{repository}@{digest}"
    assert by_digest in local_docker.client().images.get(image.id).attrs["RepoDigests"]

    # Pull back by digest: the same image.
    local_docker.docker("pull", by_digest)
    assert local_docker.client().images.get(by_digest).id == image.id

    # Delete our local names of the image, then pull it again.  Other names of the same
    # image (another xdist worker's build in the shared engine) keep it alive.
    others = set(local_docker.client().images.get(image.id).tags) - {remote, image.ref}
    local_docker.docker("image", "rm", remote, image.ref)
    local_docker.docker("image", "rm", by_digest, check=False)  # usually gone with the last tag
    if not others:
        assert image_gone(local_docker, image.id)
    pulled = local_docker.docker("pull", by_digest).stdout
    assert f"Digest: {digest}" in pulled, pulled
    pulled_image = local_docker.client().images.get(by_digest)
    assert pulled_image.id == image.id
    assert by_digest in pulled_image.attrs["RepoDigests"]
    local_docker.docker("tag", image.id, image.ref)  # leave the session's image as it was


@pytest.mark.docker
def test_registry_deletes_manifests(local_docker: LocalDocker, example_images) -> None:
    repository = f"seed-test/deleted-{uuid.uuid4().hex[:8]}"
    remote = f"{local_docker.registry}/{repository}:{uuid.uuid4().hex[:12]}"
    local_docker.docker("tag", example_images["backend"].ref, remote)
    digest = push(local_docker, remote)
    local_docker.docker("image", "rm", remote)

    request = urllib.request.Request(f"{local_docker.registry_url}/v2/{repository}/manifests/{digest}", method="DELETE")
    with _OPENER.open(request, timeout=10) as response:
        assert response.status == 202
    assert manifest_digest(local_docker.registry_url, repository, digest) is None
    gone = local_docker.docker("pull", f"{local_docker.registry}/{repository}@{digest}", check=False)
    assert gone.returncode != 0 and "manifest unknown" in (gone.stdout + gone.stderr).lower()
