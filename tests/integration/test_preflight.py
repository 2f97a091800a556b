"""playbooks/preflight.yml stops site.yml on bad application input before any layer runs: the local AWS
sees no request at all (requests counted at the server)."""

from __future__ import annotations

import copy
import socket

import pytest
import yaml

from support.servers import REPO_ROOT

LOCAL_APPS = yaml.safe_load((REPO_ROOT / "inventories" / "local" / "group_vars" / "all" / "apps.yml").read_text())


def apps(index, **changes):
    """The local inventory's seed_apps with ``changes`` to one app (templates left for Ansible to render)."""
    changed = copy.deepcopy(LOCAL_APPS["seed_apps"])
    changed[index].update(changes)
    return changed


@pytest.mark.parametrize("seed_apps, problem", [
    (apps(1, cpu=256, memory=4096), "seed_apps[1].memory: Fargate does not run 256 CPU units with 4096 MiB"),
    (apps(1, port=70000), "seed_apps[1].port: container port 70000 is outside 1-65535"),
    (apps(0, health_check_path="health"), "seed_apps[0].health_check_path: 'health' must start with '/'"),
    (apps(1, target_group="{{ seed_environment }}-frontend"),
     "seed_apps[1].target_group: 'local-frontend' is also the target group of seed_apps[0]"),
    (apps(1, image="seed/unknown"), "seed_apps[1].image: 'seed/unknown' is not one of the images"),
    (apps(1, env={"DB_PASSWORD": "hunter2"}), "seed_apps[1].env.DB_PASSWORD: looks like a credential"),
])
def test_bad_apps_stop_site_before_any_request(clean_aws, ansible, seed_apps, problem):
    result = ansible.playbook("playbooks/site.yml", extra_vars={"seed_apps": seed_apps})
    assert result.failed
    messages = [str(t.get("msg")) for t in result.task_results() if t.get("failed")]
    assert any(problem in m and "Nothing was deployed" in m for m in messages), messages
    assert clean_aws.requests()["total"] == 0


@pytest.mark.docker
def test_the_inventories_apps_pass_preflight(clean_aws, ansible, local_docker):
    """With the local registry answering (a real one), the local inventory passes every check."""
    ansible.extra_env.update(SEED_REGISTRY_URL=local_docker.registry_url)
    result = ansible.playbook("playbooks/preflight.yml")
    assert not result.failed, result.failures()
    assert clean_aws.requests()["total"] == 0


@pytest.mark.parametrize("check", [False, True])
def test_an_unreachable_registry_stops_site_before_any_request(clean_aws, ansible, check):
    """Nothing listens on the registry's port: the run (or its check mode) stops in preflight, naming
    registry_target.url."""
    with socket.socket() as probe:  # a port that was free a moment ago, and that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ansible.extra_env.update(SEED_REGISTRY_URL=f"127.0.0.1:{port}")
    result = ansible.playbook("playbooks/site.yml", check=check)
    assert result.failed
    (msg,) = [str(t.get("msg")) for t in result.task_results() if t.get("failed") and not t.get("ignore_errors")
              and t.get("_task") == "Fail when the image registry is not there"]
    assert msg.startswith(f"registry_target.url: registry http://127.0.0.1:{port} does not answer"), msg
    assert "make local-up" in msg and msg.endswith("Nothing was deployed.")
    assert clean_aws.requests()["total"] == 0


@pytest.mark.parametrize("extra_vars, problem", [
    # Two apps claiming one route (the API is off, so the backend is routed by the public load balancer).
    ({"seed_api_enabled": False,
      "platform_rules": [{"target_group": "local-backend", "path_patterns": ["/api/*"]},
                         {"target_group": "local-frontend", "path_patterns": ["/api/*"], "host_headers": []}]},
     "platform_rules[1]: claims path pattern /api/*, already claimed by platform_rules[0]"),
    ({"platform_target_groups": [{"name": "local-frontend", "port": 8080, "health_check": {"path": "health"}}]},
     "platform_target_groups[0].health_check.path: 'health' must start with '/'"),
])
def test_bad_routes_stop_site_before_any_request(clean_aws, ansible, extra_vars, problem):
    result = ansible.playbook("playbooks/site.yml", extra_vars=extra_vars)
    assert result.failed
    messages = [str(t.get("msg")) for t in result.task_results() if t.get("failed")]
    assert any(problem in m and "Nothing was deployed" in m for m in messages), messages
    assert clean_aws.requests()["total"] == 0
