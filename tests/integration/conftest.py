"""Fixtures for integration tests that talk HTTP to a private local AWS (moto) server.

``local_aws``    (session)  a :class:`support.servers.LocalAwsServer` of its own;
                            never the developer's ``tools/local_env.py`` server.
``clean_aws``    (function) ``local_aws`` after wiping moto state and counters.
``fault_proxy``  (function) a :class:`support.servers.FaultProxy` in front of
                            ``local_aws`` (rate 0.2, seed ``$SEED_FAULT_SEED`` or 1),
                            stopped after the test.
``ansible``      (function) a :class:`support.ansible.Ansible` that runs real
                            ansible-playbook processes against ``local_aws``.
``ansible_factory`` (function) the same for another endpoint (e.g. the proxy).

Container tests (mark them ``@pytest.mark.docker``; they fail, never skip, when
no Docker engine can be had):

``local_docker``   (session)  a :class:`support.servers.LocalDocker`: Docker engine and
                              registry from ``tools/local_env.py`` in a private state
                              directory, shared by the run's xdist workers; stopped and
                              its data deleted after the last one.
``base_image``     (session)  ``seed/base:bookworm-python3`` in that engine
                              (``tools/base_image.sh``), as an :class:`Image`.
``example_images`` (session)  ``examples/apps/{frontend,backend}`` built on ``base_image``:
                              ``{"frontend": Image, "backend": Image}``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import uuid
from pathlib import Path
from typing import Iterator, NamedTuple

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from support.ansible import Ansible  # noqa: E402
from support.servers import BASE_IMAGE, REPO_ROOT, FaultProxy, LocalAwsServer, LocalDocker  # noqa: E402

FAULT_RATE = 0.2


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAwsServer]:
    """A private local AWS server for the whole test session."""
    server = LocalAwsServer(workdir=tmp_path_factory.mktemp("local_aws"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clean_aws(local_aws: LocalAwsServer) -> LocalAwsServer:
    """``local_aws`` with all moto state wiped and the request counters zeroed."""
    local_aws.reset_state()
    return local_aws


@pytest.fixture
def fault_proxy(local_aws: LocalAwsServer, tmp_path: Path) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of ``local_aws``, stopped after the test."""
    seed = int(os.environ.get("SEED_FAULT_SEED", "1"))
    proxy = FaultProxy(local_aws.endpoint_url, rate=FAULT_RATE, seed=seed, workdir=tmp_path / "fault_proxy")
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def ansible_factory(tmp_path: Path):
    """Make an :class:`Ansible` runner for any endpoint (``local_aws``, or a proxy in front of it)."""
    return lambda endpoint_url: Ansible(endpoint_url, tmp_path / "ansible")


@pytest.fixture
def ansible(local_aws: LocalAwsServer, ansible_factory) -> Ansible:
    """ansible-playbook against the private local AWS."""
    return ansible_factory(local_aws.endpoint_url)


# --------------------------------------------------------------------------
# Containers: Docker engine, registry, images
# --------------------------------------------------------------------------

EXAMPLE_APPS = ("frontend", "backend")


class Image(NamedTuple):
    """An image in the ``local_docker`` engine: a reference (name:tag) and its ID."""

    ref: str
    id: str


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``docker`` marker (pytest runs with --strict-markers)."""
    config.addinivalue_line(
        "markers", "docker: needs a Docker engine and registry (local_docker); fails when they cannot start"
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``, shared by the xdist workers of a run."""
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def local_docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDocker]:
    """A Docker engine and a private registry, shared by the xdist workers of a run.

    State in ``<run's basetemp>/local_docker``: the first worker to need it brings it
    up, the last one to finish stops it and deletes its data (vfs copies every layer).
    """
    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent  # the workers' basetemps are popen-gwN below the run's
    env = LocalDocker(run_dir / "local_docker")
    lock, users = run_dir / "local_docker.lock", run_dir / "local_docker.users"
    with _file_lock(lock):
        env.up()  # idempotent: finds what another worker started
        users.write_text(str(int(users.read_text() or "0") + 1 if users.exists() else 1))
    try:
        yield env
    finally:
        with _file_lock(lock):
            left = int(users.read_text() or "1") - 1
            users.write_text(str(left))
            if left <= 0:
                env.down(purge=True)


@pytest.fixture(scope="session")
def base_image(local_docker: LocalDocker) -> Image:
    """``seed/base:bookworm-python3`` (tools/base_image.sh: cached rootfs, or debootstrap once)."""
    return Image(BASE_IMAGE, local_docker.base_image())


@pytest.fixture(scope="session")
def example_images(local_docker: LocalDocker, base_image: Image) -> Iterator[dict[str, Image]]:
    """The example apps built on ``base_image``, tagged ``seed-test/<app>:<unique>``."""
    tag = uuid.uuid4().hex[:12]
    images = {}
    try:
        for app in EXAMPLE_APPS:
            ref = f"seed-test/{app}:{tag}"
            image_id = local_docker.build(REPO_ROOT / "examples" / "apps" / app, ref, {"BASE_IMAGE": base_image.ref})
            images[app] = Image(ref, image_id)
        yield images
    finally:
        for image in images.values():  # the engine may be shared (workers, a developer's engine)
            local_docker.docker("image", "rm", image.ref, check=False)
