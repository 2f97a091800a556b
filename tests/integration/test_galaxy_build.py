"""`ansible-galaxy collection build` makes a tarball that installs and runs (module, role, action group)."""

from __future__ import annotations

import os
import subprocess

from support.servers import REPO_ROOT

PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/seed.aws_migration.aws: {region: us-east-1, endpoint_url: "%s", access_key: testing, secret_key: testing}
  tasks:
    - seed.aws_migration.vpc_network: {name: built, environment: galaxy, cidr: 10.77.0.0/16, nat_mode: none}
      register: net
    - ansible.builtin.include_role: {name: seed.aws_migration.network}
      vars: {network_environment: galaxy, network_networks: [{name: role, cidr: 10.78.0.0/16, nat_mode: none}]}
    - ansible.builtin.assert:
        that: [net.network.vpc_id is match('vpc-'), network_outputs.role.vpc_id is match('vpc-')]
"""


def test_built_tarball_installs_and_runs(clean_aws, tmp_path):
    env_cfg = tmp_path / "ansible.cfg"
    env_cfg.write_text(f"[defaults]\ncollections_path = {tmp_path / 'collections'}\n")
    env = {"ANSIBLE_CONFIG": str(env_cfg), "PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "NO_PROXY": "127.0.0.1"}
    subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path)], cwd=REPO_ROOT, env=env,
                   check=True, capture_output=True)
    tarball = tmp_path / "seed-aws_migration-1.0.0.tar.gz"
    subprocess.run(["ansible-galaxy", "collection", "install", str(tarball), "-p", str(tmp_path / "collections"),
                    "--no-deps"], cwd=tmp_path, env=env, check=True, capture_output=True)
    installed = tmp_path / "collections" / "ansible_collections" / "seed" / "aws_migration"
    assert (installed / "plugins" / "modules" / "vpc_network.py").exists()
    assert not (installed / ".local").exists() and not (installed / "build").exists()
    (tmp_path / "play.yml").write_text(PLAY % clean_aws.endpoint_url)
    run = subprocess.run(["ansible-playbook", "play.yml"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert clean_aws.requests()["writes_by_action"].get("ec2:CreateVpc") == 2
