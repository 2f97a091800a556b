"""playbooks/site.yml with the local inventory, the way `make demo` runs it: network, images (real
builds on the local Docker engine, real pushes to the local registry), cluster, load balancer and
services, against the local AWS over HTTP."""

from __future__ import annotations

import shutil

import pytest

from support.aws import expected_network
from support.aws import seed_inventory
from support.servers import REPO_ROOT
from support.servers import boto3_client

pytestmark = pytest.mark.docker


@pytest.fixture
def stack(clean_aws, ansible, local_docker, base_image, tmp_path):
    """The runner wired to the local Docker engine and registry, building copies of the example apps."""
    apps = tmp_path / "apps"
    shutil.copytree(REPO_ROOT / "examples" / "apps", apps)
    ansible.extra_env.update(DOCKER_HOST=local_docker.docker_host, SEED_REGISTRY_URL=local_docker.registry_url)
    ansible.stack_vars = {"seed_examples": str(apps)}
    return apps


def actions(result):
    return [(t["_task"], t["actions"]) for t in result.task_results() if t.get("actions")]


def registry_writes(local_docker):
    """Write requests the registry has logged (blob uploads, manifest puts)."""
    log = (local_docker.state_dir / "registry" / "registry.log").read_text(encoding="utf-8", errors="replace")
    return sum(log.count(f'"{method} ') for method in ("PUT", "POST", "PATCH"))


def test_site_converges_is_idempotent_and_check_mode_is_exact(stack, clean_aws, ansible, local_docker):
    extra = dict(ansible.stack_vars)
    first = ansible.playbook("playbooks/site.yml", extra_vars=extra)
    assert not first.failed, first.stderr[-3000:]
    assert seed_inventory(clean_aws.endpoint_url)["vpc"] == 1
    facts = {k: v for t in first.task_results() for k, v in t.get("ansible_facts", {}).items()}
    images = facts["registry_outputs"]
    assert set(images) == {"seed/frontend", "seed/backend"}

    # The images are in the registry: pulled back by digest, they are the same images.
    client = local_docker.client()
    for image in images.values():
        assert image["pinned"].startswith(local_docker.registry + "/")
        if client.images.list(name=image["repository"]):
            client.images.remove(image["pinned"], force=True)
        pulled = client.images.pull(image["pinned"])
        assert image["digest"] in [d.split("@")[1] for d in pulled.attrs["RepoDigests"]]

    # Services run the digest-pinned images, behind the load balancer.
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    services = ecs.describe_services(cluster="local", services=["frontend", "backend"])["services"]
    for service in services:
        td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        assert td["containerDefinitions"][0]["image"] == images[f"seed/{service['serviceName']}"]["pinned"]
        assert service["loadBalancers"] and service["networkConfiguration"]["awsvpcConfiguration"][
            "assignPublicIp"] == "DISABLED"
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)
    listener = elbv2.describe_listeners(LoadBalancerArn=elbv2.describe_load_balancers(
        Names=["local-public"])["LoadBalancers"][0]["LoadBalancerArn"])["Listeners"][0]
    rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    assert any(c.get("Values") == ["/api/*"] or c.get("PathPatternConfig", {}).get("Values") == ["/api/*"]
               for r in rules for c in r["Conditions"])

    # Re-run: nothing changes, no AWS write, nothing pushed.
    clean_aws.reset_counts()
    pushes = registry_writes(local_docker)
    again = ansible.playbook("playbooks/site.yml", extra_vars=extra)
    assert not again.failed and again.changed == 0, actions(again)
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    assert registry_writes(local_docker) == pushes, "an unchanged rebuild must push nothing"

    # One file of the backend changes: check mode predicts exactly what the real run does, which is a
    # new image tag, a new task definition revision and a rolling update of that service only.
    with open(stack / "backend" / "app.py", "a", encoding="utf-8") as handle:
        handle.write("\n# a one-line change\n")
    clean_aws.reset_counts()
    check = ansible.playbook("playbooks/site.yml", extra_vars=extra, check=True)
    assert not check.failed, check.stderr[-3000:]
    assert clean_aws.requests()["writes"] == 0
    changed = ansible.playbook("playbooks/site.yml", extra_vars=extra)
    assert not changed.failed, changed.stderr[-3000:]
    assert actions(changed) == actions(check)
    names = [a for _task, task_actions in actions(changed) for a in task_actions]
    assert names[0].startswith("build ") and "seed/backend:ctx-" in names[0]
    assert "register task definition local-backend (changed: containers.backend.image)" in names
    assert "update service backend: taskDefinition" in names
    assert not any("frontend" in a for a in names)
    new_images = {k: v for t in changed.task_results() for k, v in t.get("ansible_facts", {}).items()}
    assert new_images["registry_outputs"]["seed/backend"]["tag"] != images["seed/backend"]["tag"]

    # Teardown, named explicitly, leaves nothing.
    gone = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(
        extra, seed_confirm_teardown="local", registry_force_absent=True, seed_teardown_delete_logs=True))
    assert not gone.failed, gone.stderr[-3000:]
    assert seed_inventory(clean_aws.endpoint_url) == {}
    assert [s for s in ecs.describe_services(cluster="local", services=["frontend", "backend"])["services"]
            if s["status"] != "INACTIVE"] == []
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert boto3_client("ecr", clean_aws.endpoint_url).describe_repositories()["repositories"] == []


def test_teardown_needs_the_environment_named(stack, clean_aws, ansible):
    result = ansible.playbook("playbooks/teardown.yml", extra_vars=ansible.stack_vars)
    assert result.failed
    assert any("seed_confirm_teardown=local" in str(t.get("msg")) for t in result.task_results())
    assert clean_aws.requests()["total"] == 0


def test_network_layer_check_mode_on_an_empty_account(clean_aws, ansible):
    check = ansible.playbook("playbooks/network.yml", check=True)
    assert not check.failed and clean_aws.requests()["writes"] == 0
    applied = ansible.playbook("playbooks/network.yml")
    assert [t["actions"] for t in applied.task_results() if t.get("actions")] == \
        [t["actions"] for t in check.task_results() if t.get("actions")]
    # inventories/local: one network, 2 zones, NAT per zone, database tier, 4 interface + S3 endpoints, flow logs
    assert seed_inventory(clean_aws.endpoint_url) == expected_network(azs=2, nat=2, tiers=3, endpoints=5,
                                                                      interface=True, flow_logs=True)


def test_preflight_explains_a_stopped_local_aws(ansible):
    result = ansible.playbook("playbooks/site.yml", extra_vars={"seed_aws_endpoint_url": ""})
    assert result.failed
    assert any("make local-up" in str(t.get("msg")) for t in result.task_results())
