# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecs_cluster state=absent on clusters ECS refuses to delete, with DescribeClusters answers shaped as AWS
gives them: pending tasks and container instances, which the local AWS cannot show (it starts tasks
RUNNING and registers no container instance for Fargate; the running-task case is also an integration
test, tests/integration/test_ecs_cluster.py)."""

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils import ecs
from ansible_collections.seed.aws_migration.plugins.modules import ecs_cluster
from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module

CLUSTER = {"clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/jobs", "clusterName": "jobs",
           "status": "ACTIVE", "registeredContainerInstancesCount": 0, "runningTasksCount": 0,
           "pendingTasksCount": 0, "activeServicesCount": 0, "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
           "defaultCapacityProviderStrategy": [], "settings": [{"name": "containerInsights", "value": "enabled"}],
           "tags": []}


def run(monkeypatch, cluster, check_mode):
    deleted = []
    monkeypatch.setattr(ecs_cluster.SeedAWSModule, "seed_client", lambda self, service: object())
    monkeypatch.setattr(ecs, "describe_clusters", lambda client, names: [cluster])
    monkeypatch.setattr(ecs, "delete_cluster", lambda client, name: deleted.append(name))
    return run_module(monkeypatch, ecs_cluster, {"name": "jobs", "state": "absent"}, check_mode), deleted


@pytest.mark.parametrize("check_mode", [True, False])
@pytest.mark.parametrize("counts, held", [
    ({"runningTasksCount": 1}, "1 running or pending task(s)"),
    ({"pendingTasksCount": 2, "runningTasksCount": 1}, "3 running or pending task(s)"),
    ({"registeredContainerInstancesCount": 2}, "2 container instance(s)"),
    ({"runningTasksCount": 1, "registeredContainerInstancesCount": 1},
     "1 running or pending task(s), 1 container instance(s)"),
])
def test_a_cluster_holding_tasks_or_instances_is_refused_before_the_delete(monkeypatch, check_mode, counts, held):
    """DeleteCluster refuses a cluster with tasks (a standalone job) or container instances: the module
    says what holds it before any write, and check mode predicts the same failure."""
    result, deleted = run(monkeypatch, dict(CLUSTER, **counts), check_mode)
    assert result["failed"] and result["msg"] == (f"name: cluster jobs still has {held}; stop or deregister them "
                                                  "first (ECS refuses to delete it; the tasks of a service deleted "
                                                  "earlier stop on their own)")
    assert deleted == []


def test_an_idle_cluster_is_deleted(monkeypatch):
    result, deleted = run(monkeypatch, CLUSTER, check_mode=False)
    assert not result.get("failed") and result["actions"] == ["delete cluster jobs"] and deleted == ["jobs"]


def sequence(monkeypatch, answers):
    """DescribeClusters answering ``answers`` one after the other (the last one for ever); sleeps are free."""
    from ansible_collections.seed.aws_migration.plugins.module_utils import waiting

    calls, writes = [], []
    monkeypatch.setattr(ecs_cluster.SeedAWSModule, "seed_client", lambda self, service: object())
    monkeypatch.setattr(ecs, "describe_clusters", lambda client, names: (
        calls.append(names), answers[min(len(calls), len(answers)) - 1])[1])
    monkeypatch.setattr(waiting.time, "sleep", lambda seconds: None)
    for name in ("create_cluster", "update_cluster", "put_cluster_capacity_providers", "tag_resource",
                 "untag_resource", "delete_cluster"):
        monkeypatch.setattr(ecs, name, lambda *a, _n=name, **k: writes.append(_n) or dict(CLUSTER))
    return calls, writes


TAGGED = dict(CLUSTER, tags=[{"key": "seed:managed-by", "value": "seed.aws_migration"},
                             {"key": "seed:component", "value": "ecs-cluster"}],
              defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 0}])


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_cluster_being_deleted_is_waited_for_then_created_again(monkeypatch, check_mode):
    """site.yml a moment after a teardown: the cluster is DEPROVISIONING (capacity providers being detached);
    UpdateCluster or CreateCluster on it would fail. A run waits for it to go, then creates it; check mode
    predicts that creation without waiting."""
    calls, writes = sequence(monkeypatch, [[dict(TAGGED, status="DEPROVISIONING")],
                                           [dict(TAGGED, status="DEPROVISIONING")], []])
    result = run_module(monkeypatch, ecs_cluster, {"name": "jobs"}, check_mode)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["create cluster jobs"]
    assert writes == ([] if check_mode else ["create_cluster"])
    assert len(calls) == (1 if check_mode else 3)


def test_a_cluster_being_provisioned_is_waited_for_then_compared(monkeypatch):
    calls, writes = sequence(monkeypatch, [[dict(TAGGED, status="PROVISIONING")], [TAGGED]])
    result = run_module(monkeypatch, ecs_cluster, {"name": "jobs"}, False)
    assert not result.get("failed") and result["actions"] == [] and writes == [] and len(calls) == 2


def test_a_failed_cluster_is_reported_not_updated(monkeypatch):
    _calls, writes = sequence(monkeypatch, [[dict(TAGGED, status="FAILED", attachmentsStatus="UPDATE_FAILED")]])
    result = run_module(monkeypatch, ecs_cluster, {"name": "jobs", "container_insights": "disabled"}, False)
    assert result["failed"] and result["msg"].startswith("name: cluster jobs is FAILED (UPDATE_FAILED)")
    assert writes == []


def test_a_cluster_being_deleted_is_left_to_go(monkeypatch):
    _calls, writes = sequence(monkeypatch, [[dict(TAGGED, status="DEPROVISIONING")]])
    result = run_module(monkeypatch, ecs_cluster, {"name": "jobs", "state": "absent"}, False)
    assert not result.get("failed") and result["actions"] == [] and writes == []


def test_a_cluster_that_stays_deprovisioning_times_out_naming_it(monkeypatch):
    sequence(monkeypatch, [[dict(TAGGED, status="DEPROVISIONING")]])
    result = run_module(monkeypatch, ecs_cluster, {"name": "jobs", "wait_timeout": 0}, False)
    assert result["failed"] and "ECS cluster jobs to finish provisioning or deprovisioning" in result["msg"]
    assert "DEPROVISIONING" in result["msg"]


def test_a_negative_wait_timeout_fails_before_any_client(monkeypatch):
    monkeypatch.setattr(ecs_cluster.SeedAWSModule, "seed_client",
                        lambda self, service: pytest.fail("a client was made before validation finished"))
    result = run_module(monkeypatch, ecs_cluster, {"name": "jobs", "wait_timeout": -1}, False)
    assert result["failed"] and result["msg"].startswith("wait_timeout: must be 0 or more")
