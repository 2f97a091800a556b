"""playbooks/teardown.yml with the local inventory, against the local AWS over HTTP: what it removes (every
service of the stack, in the platform's cluster, also one dropped from seed_apps since it was deployed),
what it leaves (services that are not the stack's), and how it treats a load balancer with deletion
protection (it stops before removing anything unless -e seed_teardown_force=true). No container runs: the
network and platform come from their playbooks, the services from seed.aws_migration.ecs_service."""

from __future__ import annotations

import pytest

from support.aws import seed_inventory
from support.servers import boto3_client

CONFIRM = {"seed_confirm_teardown": "local", "seed_teardown_delete_logs": True}
IMAGE = "registry.local/seed/{}@sha256:" + "1" * 64


@pytest.fixture
def network(clean_aws, ansible):
    """The local inventory's network (playbooks/network.yml), read back."""
    result = ansible.playbook("playbooks/network.yml")
    assert not result.failed, result.failures()
    return ansible.module("vpc_network_info", {"environment": "local", "name": "main"})["networks"][0]


def platform(ansible, **extra_vars):
    result = ansible.playbook("playbooks/platform.yml", extra_vars=extra_vars)
    assert not result.failed, result.failures()
    return result


def deploy(ansible, network, cluster, name):
    """A service as the service role deploys it (ecs_service: identity tags, roles, log group)."""
    result = ansible.module("ecs_service", {
        "cluster": cluster, "name": name,
        "task": {"log_group": f"/seed/local/{name}",
                 "containers": [{"name": name, "image": IMAGE.format(name), "ports": [8080]}]},
        "subnets": network["subnet_ids"]["private"], "security_groups": [network["security_groups"]["app"]],
        "desired_count": 1, "wait_timeout": 60})
    assert not result.get("failed"), result.get("msg")
    return result["service"]


def foreign_service(endpoint_url, cluster, name):
    """An untagged service that is not the stack's, made directly (like another team's)."""
    ecs = boto3_client("ecs", endpoint_url)
    ecs.create_cluster(clusterName=cluster)
    family = ecs.register_task_definition(
        family=f"{cluster}-{name}", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
        memory="512", containerDefinitions=[{"name": name, "image": "nginx", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    return ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=family, desiredCount=1,
                              launchType="FARGATE")["service"]


def live_services(endpoint_url, cluster, names):
    ecs = boto3_client("ecs", endpoint_url)
    try:
        found = ecs.describe_services(cluster=cluster, services=names)["services"]
    except ecs.exceptions.ClusterNotFoundException:
        return []
    return sorted(s["serviceName"] for s in found if s["status"] != "INACTIVE")


def removed_services(result):
    return sorted(a.split()[-1] for t in result.task_results() for a in t.get("actions") or []
                  if a.startswith("delete service "))


def test_teardown_removes_the_services_from_the_platforms_cluster_and_leaves_others(clean_aws, ansible, network):
    """The cluster has a custom name (platform_cluster_name, the one services.yml deploys to): the teardown
    removes the services there and everything under them; a service of the same name in another cluster,
    without the stack's tags, is left as it is."""
    stack = {"platform_cluster_name": "itest-apps"}
    built = platform(ansible, **stack)
    cluster = next(t for t in built.task_results() if t["_task"].endswith(" : Keep the ECS cluster"))["cluster"]
    assert cluster["name"] == "itest-apps"
    for name in ("frontend", "backend"):
        deploy(ansible, network, "itest-apps", name)
    other = foreign_service(clean_aws.endpoint_url, "other-team", "frontend")

    gone = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(CONFIRM, **stack))
    assert not gone.failed, gone.failures()
    # Deleted service by service (moto's DeleteCluster would also take a cluster that still has services).
    assert removed_services(gone) == ["backend", "frontend"]
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    assert live_services(clean_aws.endpoint_url, "itest-apps", ["frontend", "backend"]) == []
    assert [c["status"] for c in ecs.describe_clusters(clusters=["itest-apps"])["clusters"]] in ([], ["INACTIVE"])
    active = ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
    assert [arn for arn in active if "/itest-apps-" in arn] == []
    assert boto3_client("elbv2", clean_aws.endpoint_url).describe_load_balancers()["LoadBalancers"] == []
    assert seed_inventory(clean_aws.endpoint_url) == {}  # network, the services' /seed/ roles and log groups

    # Not the stack's: untouched.
    (kept,) = ecs.describe_services(cluster="other-team", services=["frontend"])["services"]
    assert kept["status"] == "ACTIVE" and kept["serviceArn"] == other["serviceArn"]
    assert kept["taskDefinition"] == other["taskDefinition"] and kept["desiredCount"] == 1
    assert other["taskDefinition"] in active


def test_teardown_removes_a_service_dropped_from_seed_apps(clean_aws, ansible, network):
    """legacy was deployed, then dropped from seed_apps: it carries ecs_service's identity tags, so the
    teardown removes it with the others (and its roles and log group)."""
    platform(ansible)
    for name in ("frontend", "backend", "legacy"):
        deploy(ansible, network, "local", name)

    gone = ansible.playbook("playbooks/teardown.yml", extra_vars=CONFIRM)
    assert not gone.failed, gone.failures()
    assert removed_services(gone) == ["backend", "frontend", "legacy"]
    assert live_services(clean_aws.endpoint_url, "local", ["frontend", "backend", "legacy"]) == []
    assert seed_inventory(clean_aws.endpoint_url) == {}


def test_teardown_of_a_protected_load_balancer_needs_seed_teardown_force(clean_aws, ansible, network):
    """inventories/production turns deletion protection on: without -e seed_teardown_force=true the teardown
    stops before removing anything, naming the variable; with it, it turns the protection off and deletes."""
    platform(ansible, platform_deletion_protection=True)
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)
    (lb,) = elbv2.describe_load_balancers(Names=["local-public"])["LoadBalancers"]
    attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]
    assert {a["Key"]: a["Value"] for a in attributes}["deletion_protection.enabled"] == "true"

    # The inventory says protected, or only AWS does (the inventory changed since): refused either way.
    for extra in ({"platform_deletion_protection": True}, {}):
        clean_aws.reset_counts()
        refused = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(CONFIRM, **extra))
        assert refused.failed
        (msg,) = [t["msg"] for t in refused.task_results() if t.get("failed")]
        assert "Load balancer local-public of local is protected against deletion (its deletion protection is on)" \
            in msg, msg
        assert "-e seed_teardown_force=true" in msg and "Nothing was removed" in msg, msg
        assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    assert [b["LoadBalancerName"] for b in elbv2.describe_load_balancers()["LoadBalancers"]] == ["local-public"]

    forced = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(
        CONFIRM, platform_deletion_protection=True, seed_teardown_force=True))
    assert not forced.failed, forced.failures()
    (removal,) = [t for t in forced.task_results() if t["_task"].endswith(" : Keep the public load balancer")]
    assert removal["actions"][:2] == ["disable deletion protection on load balancer local-public",
                                      "delete load balancer local-public"]
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert seed_inventory(clean_aws.endpoint_url) == {}


def test_teardown_refuses_when_the_inventory_protects_the_load_balancer(clean_aws, ansible, network):
    """platform_deletion_protection=true is enough while the load balancer exists, even if AWS's flag is off
    (the load balancer module would refuse it anyway): no write. Once the load balancer is gone (a forced
    teardown, then a run again), there is nothing to protect: the same command goes through."""
    platform(ansible)
    clean_aws.reset_counts()
    refused = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(CONFIRM, platform_deletion_protection=True))
    assert refused.failed
    (msg,) = [t["msg"] for t in refused.task_results() if t.get("failed")]
    assert "platform_deletion_protection is true" in msg and "-e seed_teardown_force=true" in msg, msg
    assert clean_aws.requests()["writes"] == 0

    forced = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(
        CONFIRM, platform_deletion_protection=True, seed_teardown_force=True))
    assert not forced.failed, forced.failures()
    clean_aws.reset_counts()
    again = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(CONFIRM, platform_deletion_protection=True))
    assert not again.failed, again.failures()
    assert again.changed == 0 and clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]


@pytest.mark.parametrize("extra", [{}, {"seed_api_enabled": False, "api_name": ""}],
                         ids=["local inventory", "an inventory without the API"])
def test_teardown_of_an_empty_account_changes_nothing(clean_aws, ansible, extra):
    """What a second teardown meets (the first one was cut off after the network went, say): nothing of the
    stack. Every layer must find nothing to do - none may need what an earlier layer would have read. An
    inventory that never had the HTTP API (no api_name) skips the API layer."""
    clean_aws.reset_counts()
    result = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(CONFIRM, **extra))
    assert not result.failed, result.failures()
    assert result.changed == 0, [(t["_task"], t.get("actions")) for t in result.task_results() if t.get("changed")]
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
