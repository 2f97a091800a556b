"""ecs_cluster against the local AWS over HTTP."""

from __future__ import annotations

from support.converge import converge
from support.servers import boto3_client


def test_cluster_lifecycle(clean_aws, ansible):
    args = {"name": "it-cluster", "tags": {"team": "platform"}}
    created = converge(ansible, clean_aws, args, "ecs_cluster")
    assert created["actions"] == ["create cluster it-cluster"]
    assert created["cluster"]["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    described = ecs.describe_clusters(clusters=["it-cluster"], include=["SETTINGS", "TAGS"])["clusters"][0]
    assert {"name": "containerInsights", "value": "enabled"} in described["settings"]

    spot = dict(args, default_capacity_provider_strategy=[
        {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
        {"capacity_provider": "FARGATE_SPOT", "weight": 3}], container_insights="disabled",
        execute_command_logging={"log_group": "/seed/it/ecs-exec"}, tags={"team": "data"})
    updated = converge(ansible, clean_aws, spot, "ecs_cluster")
    assert updated["actions"] == ["set capacity providers of cluster it-cluster",
                                  "update cluster it-cluster: configuration, settings",
                                  "set tags team on cluster it-cluster"]

    gone = converge(ansible, clean_aws, {"name": "it-cluster", "state": "absent"}, "ecs_cluster")
    assert gone["actions"] == ["delete cluster it-cluster"]
    assert [c for c in ecs.describe_clusters(clusters=["it-cluster"])["clusters"] if c["status"] == "ACTIVE"] == []


def test_bad_input_creates_nothing(clean_aws, ansible):
    clean_aws.reset_counts()
    result = ansible.module("ecs_cluster", {"name": "bad name!"})
    assert result.get("failed") and result["msg"].startswith("name:")
    result = ansible.module("ecs_cluster", {"name": "ok", "default_capacity_provider_strategy": [
        {"capacity_provider": "EC2_ASG"}]})
    assert result.get("failed") and result["msg"].startswith("default_capacity_provider_strategy[0].capacity_provider:")
    assert clean_aws.requests()["total"] == 0


def test_tag_values_that_yaml_reads_as_numbers_or_booleans_are_tagged_as_text(clean_aws, ansible):
    """``cost_center: 1234`` or ``billable: true`` in YAML are an int and a bool: AWS tag values are strings,
    so every module sends them as text (booleans lower-case) and a rerun compares them as such."""
    args = {"name": "it-tags", "tags": {"cost_center": 1234, "billable": True, "ratio": 0.5}}
    converge(ansible, clean_aws, args, "ecs_cluster")
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    arn = ecs.describe_clusters(clusters=["it-tags"])["clusters"][0]["clusterArn"]
    tags = {t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert {k: tags[k] for k in ("cost_center", "billable", "ratio")} == {
        "cost_center": "1234", "billable": "true", "ratio": "0.5"}

    # Without tags the tags are left as they are (someone else's cost tag stays); tags given are purged to.
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "cost", "value": "shared"}])
    clean_aws.reset_counts()
    untouched = ansible.module("ecs_cluster", {"name": "it-tags"})
    assert untouched["changed"] is False and clean_aws.requests()["writes"] == 0, untouched.get("actions")
    purged = converge(ansible, clean_aws, {"name": "it-tags", "tags": {"team": "web"}}, "ecs_cluster")
    assert purged["actions"] == ["set tags team on cluster it-tags",
                                 "remove tags billable, cost, cost_center, ratio from cluster it-tags"]

    clean_aws.reset_counts()
    for bad, field in (({"team": ["a", "b"]}, "tags.team"), ({"team": {"a": 1}}, "tags.team"),
                       ({"aws:team": "x"}, "tags"), ({"team": "x" * 257}, "tags.team")):
        result = ansible.module("ecs_cluster", dict(args, tags=bad))
        assert result.get("failed") and result["msg"].startswith(field + ":"), result.get("msg")
    assert clean_aws.requests()["total"] == 0


def test_a_cluster_with_a_running_task_is_refused_before_the_delete(clean_aws, ansible):
    """A standalone task (a scheduled or one-off job) keeps a cluster: ECS refuses DeleteCluster, so the
    module says so before any write, in check mode too; once the task stops, the cluster goes. (The local
    AWS counts tasks as AWS does through tools/moto_fidelity.py.)"""
    converge(ansible, clean_aws, {"name": "it-jobs"}, "ecs_cluster")
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.46.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's task ENI needs a DNS name
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.46.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName="it-job", Description="it job")["GroupId"]
    ecs.register_task_definition(family="it-job", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                                 cpu="256", memory="512",
                                 # container memory: moto's RunTask adds it up (AWS takes the task's)
                                 containerDefinitions=[{"name": "job", "image": "registry.local/job:1", "memory": 512}])
    task = ecs.run_task(cluster="it-jobs", taskDefinition="it-job", launchType="FARGATE", networkConfiguration={
        "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}})["tasks"][0]
    for check in (True, False):
        clean_aws.reset_counts()
        refused = ansible.module("ecs_cluster", {"name": "it-jobs", "state": "absent"}, check=check)
        assert refused.get("failed") and refused["msg"] == (
            "name: cluster it-jobs still has 1 running or pending task(s); stop or deregister them first (ECS "
            "refuses to delete it; the tasks of a service deleted earlier stop on their own)"), refused.get("msg")
        assert clean_aws.requests()["writes"] == 0
    ecs.stop_task(cluster="it-jobs", task=task["taskArn"])
    gone = converge(ansible, clean_aws, {"name": "it-jobs", "state": "absent"}, "ecs_cluster")
    assert gone["actions"] == ["delete cluster it-jobs"]


def test_a_cluster_with_a_service_reports_it_and_is_refused_before_the_delete(clean_aws, ansible):
    """DescribeClusters' active service count (the local AWS keeps it as AWS does, tools/moto_fidelity.py):
    ecs_cluster returns it (playbooks/services.yml reads it to tell whether the cluster runs other services
    than its apps) and refuses to delete a cluster that still runs one, before any write."""
    converge(ansible, clean_aws, {"name": "it-svc"}, "ecs_cluster")
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    ecs.register_task_definition(family="it-web", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                                 cpu="256", memory="512",
                                 containerDefinitions=[{"name": "web", "image": "registry.local/web:1"}])
    ecs.create_service(cluster="it-svc", serviceName="web", taskDefinition="it-web", desiredCount=0)
    read = ansible.module("ecs_cluster", {"name": "it-svc"})
    assert read["changed"] is False and read["cluster"]["active_services_count"] == 1
    clean_aws.reset_counts()
    refused = ansible.module("ecs_cluster", {"name": "it-svc", "state": "absent"})
    assert refused.get("failed") and refused["msg"] == (
        "name: cluster it-svc still runs 1 service(s); delete them first (ecs_service state=absent)"), refused
    assert clean_aws.requests()["writes"] == 0
    ecs.delete_service(cluster="it-svc", service="web")
    assert ansible.module("ecs_cluster", {"name": "it-svc"})["cluster"]["active_services_count"] == 0
    gone = converge(ansible, clean_aws, {"name": "it-svc", "state": "absent"}, "ecs_cluster")
    assert gone["actions"] == ["delete cluster it-svc"]
