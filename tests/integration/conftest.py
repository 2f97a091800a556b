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
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from support.ansible import Ansible  # noqa: E402
from support.servers import FaultProxy, LocalAwsServer  # noqa: E402

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
