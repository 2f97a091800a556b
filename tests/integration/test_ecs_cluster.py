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
