# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout-failure path of ecs_service, with recorded responses.

The local AWS runs no containers, so a failing rollout cannot happen there. These responses follow
the documented shapes of DescribeServices (deployments[].rolloutState/rolloutStateReason, events[])
and DescribeTasks (stoppedReason, startedBy, containers[].reason/exitCode), as ECS returns them when
the deployment circuit breaker stops a rollout whose tasks fail their health checks: with rollback
off the failed deployment stays primary (FAILED_SERVICE); with rollback on (the module's default) ECS
starts a new primary deployment of the previous task definition and the failed one drains, then goes
(ROLLING_BACK, ROLLED_BACK).
"""

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils import ecs
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.modules import ecs_service

FAILED_SERVICE = {
    "serviceName": "backend", "status": "ACTIVE", "desiredCount": 2, "runningCount": 0,
    "deployments": [
        {"id": "ecs-svc/2", "status": "PRIMARY", "rolloutState": "FAILED", "runningCount": 0, "desiredCount": 2,
         "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start."},
        {"id": "ecs-svc/1", "status": "ACTIVE", "rolloutState": "COMPLETED", "runningCount": 2, "desiredCount": 2},
    ],
    "events": [
        {"message": "(service backend) (deployment ecs-svc/2) deployment failed: tasks failed to start."},
        {"message": "(service backend) has started 2 tasks: (task 4f1) (task 9c2)."},
    ],
}
STOPPED_TASKS = [
    {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/it/4f1", "stoppedReason": "Task failed container health checks",
     "startedBy": "ecs-svc/2", "containers": [{"name": "backend", "exitCode": 137, "reason": None}]},
    {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/it/9c2",
     "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
     "startedBy": "ecs-svc/2", "containers": [{"name": "backend", "reason": "CannotPullContainerError: ref not found"}]},
]
OLD_TASK_STOPPED = {"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/it/0aa", "stoppedReason": "Scaling activity "
                    "initiated by (deployment ecs-svc/1)", "startedBy": "ecs-svc/1", "containers": []}
TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/it-backend:"
ROLLING_BACK = {
    "serviceName": "backend", "status": "ACTIVE", "desiredCount": 2, "runningCount": 1, "taskDefinition": TD + "6",
    "deployments": [
        {"id": "ecs-svc/3", "status": "PRIMARY", "taskDefinition": TD + "6", "rolloutState": "IN_PROGRESS",
         "runningCount": 1, "desiredCount": 2, "rolloutStateReason": "ECS deployment ecs-svc/3 in progress."},
        {"id": "ecs-svc/2", "status": "ACTIVE", "taskDefinition": TD + "7", "rolloutState": "FAILED",
         "runningCount": 0, "desiredCount": 0,
         "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start."},
    ],
    "events": [{"message": "(service backend) rolling back to deployment ecs-svc/3."},
               {"message": "(service backend) (deployment ecs-svc/2) deployment failed: tasks failed to start."}],
}
ROLLED_BACK = dict(ROLLING_BACK, runningCount=2, deployments=[
    dict(ROLLING_BACK["deployments"][0], rolloutState="COMPLETED", runningCount=2,
         rolloutStateReason="ECS deployment ecs-svc/3 completed.")])


def manager(deployment_id="ecs-svc/2", **params):
    m = ecs_service.ServiceManager.__new__(ecs_service.ServiceManager)
    m.ecs, m.cluster, m.name, m.check_mode, m.actions = object(), "it", "backend", False, []
    m.deployment_id = deployment_id
    m.params = dict({"wait_timeout": 60}, **params)
    return m


def test_a_rollback_under_way_is_a_failed_rollout(monkeypatch):
    """Rollback on: the failed deployment is no longer primary, the rollback's is: the wait must not
    report the rollback completing as the rollout completing."""
    monkeypatch.setattr(ecs, "describe_services", lambda client, cluster, names: [ROLLING_BACK])
    monkeypatch.setattr(ecs, "stopped_tasks", lambda client, cluster, name: [OLD_TASK_STOPPED] + STOPPED_TASKS)
    with pytest.raises(SeedAWSError) as e:
        manager()._wait_for_rollout()
    message = e.value.message
    assert ("Rollout of service backend failed: deployment ecs-svc/2 failed and ECS rolled the service back to "
            "deployment ecs-svc/3 (it-backend:6)") in message
    assert "Rollout: ECS deployment circuit breaker: tasks failed to start." in message
    assert "4f1: Task failed container health checks" in message
    assert "0aa" not in message  # stopped tasks of the deployment that failed, not older ones


@pytest.mark.parametrize("deployment_id", ["ecs-svc/2", None])
def test_a_rollback_under_way_fails_with_or_without_the_deployment_id(monkeypatch, deployment_id):
    monkeypatch.setattr(ecs, "describe_services", lambda client, cluster, names: [ROLLING_BACK])
    monkeypatch.setattr(ecs, "stopped_tasks", lambda client, cluster, name: STOPPED_TASKS)
    with pytest.raises(SeedAWSError) as e:
        manager(deployment_id=deployment_id)._wait_for_rollout()
    assert "deployment ecs-svc/2 failed and ECS rolled the service back" in e.value.message


def test_a_finished_rollback_is_a_failed_rollout_of_the_deployment_started(monkeypatch):
    """The failed deployment has drained and gone; the primary one (the rollback) has completed."""
    monkeypatch.setattr(ecs, "describe_services", lambda client, cluster, names: [ROLLED_BACK])
    monkeypatch.setattr(ecs, "stopped_tasks", lambda client, cluster, name: STOPPED_TASKS)
    with pytest.raises(SeedAWSError) as e:
        manager()._wait_for_rollout()
    assert ("deployment ecs-svc/2 is no longer the primary one: deployment ecs-svc/3 (it-backend:6) replaced it - "
            "a rollback by the deployment circuit breaker, or another deploy") in e.value.message
    assert "rolling back to deployment ecs-svc/3" in e.value.message


def test_the_deployment_started_completing_is_done_even_next_to_an_older_one(monkeypatch):
    service = dict(ROLLING_BACK, deployments=[
        dict(ROLLING_BACK["deployments"][1], id="ecs-svc/4", status="PRIMARY", rolloutState="COMPLETED",
             runningCount=2, desiredCount=2),
        dict(ROLLING_BACK["deployments"][0], status="ACTIVE", rolloutState="COMPLETED")])
    monkeypatch.setattr(ecs, "describe_services", lambda client, cluster, names: [service])
    assert manager(deployment_id="ecs-svc/4")._wait_for_rollout() is service


def test_failed_rollout_reports_events_and_stopped_task_reasons(monkeypatch):
    monkeypatch.setattr(ecs, "describe_services", lambda client, cluster, names: [FAILED_SERVICE])
    monkeypatch.setattr(ecs, "stopped_tasks", lambda client, cluster, name: STOPPED_TASKS)
    with pytest.raises(SeedAWSError) as e:
        manager()._wait_for_rollout()
    message = e.value.message
    assert "Rollout of service backend failed" in message
    assert "circuit breaker: tasks failed to start" in message
    assert "deployment failed: tasks failed to start" in message
    assert "4f1: Task failed container health checks (backend: exit 137)" in message
    assert "CannotPullContainerError: ref not found" in message


def test_rollout_timeout_says_where_it_stood(monkeypatch):
    in_progress = dict(FAILED_SERVICE, deployments=[dict(FAILED_SERVICE["deployments"][0], rolloutState="IN_PROGRESS",
                                                         rolloutStateReason="ECS deployment ecs-svc/2 in progress.")])
    monkeypatch.setattr(ecs, "describe_services", lambda client, cluster, names: [in_progress])
    monkeypatch.setattr(ecs, "stopped_tasks", lambda client, cluster, name: STOPPED_TASKS[:1])
    with pytest.raises(SeedAWSError) as e:
        manager(wait_timeout=0)._wait_for_rollout()
    message = e.value.message
    assert message.startswith("Timed out after 0s waiting for the rollout of service backend")
    assert "IN_PROGRESS (0/2 running)" in message and "Task failed container health checks" in message


def test_completed_rollout_returns_the_service(monkeypatch):
    done = dict(FAILED_SERVICE, runningCount=2, deployments=[dict(FAILED_SERVICE["deployments"][0],
                                                                  rolloutState="COMPLETED", runningCount=2)])
    monkeypatch.setattr(ecs, "describe_services", lambda client, cluster, names: [done])
    assert manager()._wait_for_rollout() is done


def params(**overrides):
    base = {"name": "web", "cluster": "production", "family": None, "state": "present", "subnets": ["subnet-1"],
            "load_balancers": [],
            "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1, "base": 0}],
            "deployment": {"minimum_healthy_percent": 100, "maximum_percent": 200, "alarms": []}, "autoscaling": None,
            "task": {"cpu": 256, "memory": 512, "containers": [{"name": "web", "image": "x", "ports": [8080]}]}}
    base.update(overrides)
    return base


@pytest.mark.parametrize("overrides, field", [
    (dict(task=None), "task"),
    (dict(subnets=[]), "subnets"),
    (dict(load_balancers=[{"target_group_arn": "arn:tg", "container_name": "api", "container_port": 8080}]),
     "load_balancers[0].container_name"),
    (dict(capacity_provider_strategy=[]), "capacity_provider_strategy"),
    (dict(task={"cpu": 256, "memory": 512, "cpu_architecture": "ARM64",
                "containers": [{"name": "web", "image": "x", "ports": [8080]}]},
          capacity_provider_strategy=[{"capacity_provider": "FARGATE", "weight": 1, "base": 1},
                                      {"capacity_provider": "FARGATE_SPOT", "weight": 3, "base": 0}]),
     "capacity_provider_strategy"),
    (dict(deployment={"minimum_healthy_percent": 150, "maximum_percent": 200}), "deployment.minimum_healthy_percent"),
    (dict(deployment={"minimum_healthy_percent": 100, "maximum_percent": 200, "alarms": [""]}), "deployment.alarms"),
    (dict(deployment={"minimum_healthy_percent": 100, "maximum_percent": 200, "alarms": ["a" * 256]}),
     "deployment.alarms"),
    (dict(deployment={"minimum_healthy_percent": 100, "maximum_percent": 200, "alarms": ["a", "b", "a"]}),
     "deployment.alarms"),
    (dict(autoscaling={"min_capacity": 1, "max_capacity": 3, "metric": "alb_requests", "target_value": 100}),
     "autoscaling.resource_label"),
])
def test_validation_names_the_field(overrides, field):
    with pytest.raises(ValidationError) as e:
        ecs_service.validate(params(**overrides))
    assert e.value.field == field


# -- s3_prefixes / efs_access_points: validated before any API call, passed to the task role's policy --------
ACCOUNT = "123456789012"
AP = f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:access-point/fsap-0123456789abcdef0"
FS = f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:file-system/fs-0123456789abcdef0"


@pytest.mark.parametrize("overrides, field", [
    (dict(s3_prefixes=["uploads/*"]), "s3_prefixes[0]"),
    (dict(s3_prefixes=["uploads/backend/", "reports/2024/*"]), "s3_prefixes[1]"),
    (dict(efs_access_points=[{"file_system_id": "vol-1", "access_point_arn": AP, "read_only": False}]),
     "efs_access_points[0].file_system_id"),
    (dict(efs_access_points=[{"file_system_id": "fs-0123456789abcdef0", "access_point_arn": "fsap-1",
                              "read_only": False}]), "efs_access_points[0].access_point_arn"),
    (dict(kms_keys=["alias/app"]), "kms_keys[0]"),
    # A partial secret ARN (no 6-character suffix): IAM would never match the policy naming it.
    (dict(task={"cpu": 256, "memory": 512, "containers": [
        {"name": "web", "image": "x", "ports": [8080],
         "secrets": {"DB": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db"}}]}),
     "task.containers[0].secrets.DB"),
    (dict(task={"cpu": 256, "memory": 512, "containers": [
        {"name": "web", "image": "x", "ports": [8080], "secrets": {"DB": "prod/db"}}]}),
     "task.containers[0].secrets.DB"),
])
def test_references_that_cannot_scope_a_policy_fail_before_any_call(overrides, field):
    with pytest.raises(ValidationError) as e:
        ecs_service.validate(params(**overrides))
    assert e.value.field == field


def test_valid_references_pass_validation():
    ecs_service.validate(params(s3_prefixes=["uploads/backend/", "s3://reports/2024/"], kms_keys=[
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
        efs_access_points=[{"file_system_id": "fs-0123456789abcdef0", "access_point_arn": AP, "read_only": True,
                            "container_path": "/data"}]))


MOUNT = {"file_system_id": "fs-0123456789abcdef0", "access_point_arn": AP, "container_path": "/data"}


@pytest.mark.parametrize("overrides, field, words", [
    (dict(efs_access_points=[dict(MOUNT, container_path="data")]), "efs_access_points[0].container_path",
     "absolute path"),
    (dict(efs_access_points=[dict(MOUNT, container_path="/")]), "efs_access_points[0].container_path", "not /"),
    (dict(efs_access_points=[dict(MOUNT, containers=["worker"])]), "efs_access_points[0].containers",
     "no container named 'worker'"),
    (dict(efs_access_points=[MOUNT, dict(MOUNT, container_path="/other")]), "efs_access_points[1].access_point_arn",
     "listed twice"),
    (dict(efs_access_points=[MOUNT, dict(MOUNT, access_point_arn=AP[:-1] + "1", container_path="/data/")]),
     "efs_access_points[1].container_path", "already mounts efs_access_points[0]"),
    (dict(efs_access_points=[dict(MOUNT, containers=[])]), "efs_access_points[0].containers", "is empty"),
    (dict(efs_access_points=[MOUNT], manage_roles=False), "efs_access_points", "task.task_role_arn"),
    (dict(efs_access_points=[MOUNT], platform_version="1.3.0"), "platform_version", "cannot mount EFS"),
    (dict(efs_access_points=[MOUNT], platform_version="one"), "platform_version", "not LATEST"),
])
def test_efs_mounts_are_validated_before_any_call(overrides, field, words):
    with pytest.raises(ValidationError) as e:
        ecs_service.validate(params(**overrides))
    assert e.value.field == field and words in e.value.message, e.value.message


def test_efs_mounts_on_a_recent_platform_version_pass():
    ecs_service.validate(params(efs_access_points=[MOUNT], platform_version="1.4.0"))
    ecs_service.validate(params(efs_access_points=[MOUNT], platform_version="LATEST"))


@pytest.mark.parametrize("current_volumes, asked", [
    (None, True),                                                              # a new service
    ([], True),                                                                # a volume to add
    ([{"name": "efs-fsap-0123456789abcdef0", "efsVolumeConfiguration": {       # the volume is there already
        "fileSystemId": "fs-0123456789abcdef0", "rootDirectory": "/", "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": "fsap-0123456789abcdef0", "iam": "ENABLED"}}}], False),
])
def test_access_points_of_new_volumes_are_checked_before_any_write(monkeypatch, current_volumes, asked):
    """Each in its file system; the volume already in use is not read again on every run."""
    m = manager(**params(efs_access_points=[MOUNT], kms_keys=[], s3_prefixes=[], s3_kms_keys=[]))
    m.module = _Module()
    m.module.seed_client = lambda service, region=None: None
    checker = _Checker(set())
    monkeypatch.setattr(ecs_service.references, "ReferenceChecker", lambda factory: checker)
    current = None if current_volumes is None else {"family": "f", "volumes": current_volumes,
                                                    "containerDefinitions": []}
    if asked:
        with pytest.raises(ValidationError) as e:
            m._check_volumes(current)
        assert e.value.field == "efs_access_points" and "so nothing was written" in e.value.message
        assert checker.asked == [("access point", f"{AP} (file system fs-0123456789abcdef0)")]
    else:
        m._check_volumes(current)
        assert checker.asked == []


class _Module:
    region = "eu-west-1"


def _roles_manager(**extra):
    m = manager(**dict(dict(manage_roles=True, tags={}, kms_keys=[], task_role_statements=[],
                            enable_execute_command=False, s3_prefixes=[], s3_kms_keys=[], efs_access_points=[]),
                       **extra))
    m.module, m.family, m._iam_client = _Module(), "it-backend", object()
    return m


def _task_policy(monkeypatch, **extra):
    policies = {}
    monkeypatch.setattr(ecs_service.iam_roles, "ensure_role",
                        lambda client, do, name, trust, policy, tags, description, **kw: policies.__setitem__(name,
                                                                                                              policy))
    monkeypatch.setattr(ecs_service.iam_roles, "observe_role", lambda client, name: (None, None))  # a new role
    service = {"serviceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/it/backend"}
    task = {"containers": [{"name": "web", "image": "x"}], "execution_role_arn": "arn:aws:iam::1:role/given"}
    m = _roles_manager(**extra)
    m._check_references = lambda task: None
    result = m._ensure_roles(task, service)
    assert result["task_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/seed/it-backend-task"
    return policies["it-backend-task"]


def test_s3_prefixes_and_efs_access_points_make_the_task_role_policy(monkeypatch):
    policy = _task_policy(monkeypatch, s3_prefixes=["uploads/backend/"], efs_access_points=[
        {"file_system_id": "fs-0123456789abcdef0", "access_point_arn": AP, "read_only": True}])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ObjectsUnderPrefixes"]["Resource"] == ["arn:aws:s3:::uploads/backend/*"]
    assert by_sid["ListPrefixes0"]["Condition"] == {"StringLike": {"s3:prefix": ["backend/*"]}}
    assert by_sid["MountAccessPoint0"]["Action"] == ["elasticfilesystem:ClientMount"]  # read_only: no ClientWrite
    assert by_sid["MountAccessPoint0"]["Resource"] == [FS]
    assert by_sid["MountAccessPoint0"]["Condition"] == {"ArnEquals": {"elasticfilesystem:AccessPointArn": AP}}


def test_s3_kms_keys_let_the_task_role_use_the_objects_keys(monkeypatch):
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    policy = _task_policy(monkeypatch, s3_prefixes=["uploads/backend/"], s3_kms_keys=[key])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["EncryptedObjects"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert by_sid["EncryptedObjects"]["Resource"] == [key]


@pytest.mark.parametrize("overrides, field", [
    (dict(s3_prefixes=["uploads/backend/"], s3_kms_keys=["alias/uploads"]), "s3_kms_keys[0]"),
    (dict(s3_kms_keys=[f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"]),
     "s3_kms_keys"),
])
def test_bad_s3_kms_keys_fail_before_any_call(overrides, field):
    with pytest.raises(ValidationError) as e:
        ecs_service.validate(params(**overrides))
    assert e.value.field == field


def test_without_references_the_task_role_has_no_policy(monkeypatch):
    assert _task_policy(monkeypatch) is None


class _Checker:
    """Stands in for references.ReferenceChecker: only the listed (kind, value) pairs exist."""

    def __init__(self, existing):
        self.existing, self.asked = set(existing), []

    def __call__(self, kind, value):
        self.asked.append((kind, value))
        return (kind, value) in self.existing


@pytest.mark.parametrize("observed, checked", [((None, None), True),                    # new role
                                               (({"RoleName": "r"}, {"old": 1}), True),  # policy to rewrite
                                               (({"RoleName": "r"}, "SAME"), False)])    # nothing to write
def test_references_are_checked_before_a_policy_is_written(monkeypatch, observed, checked):
    secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"
    task = {"containers": [{"name": "web", "image": "x", "secrets": {"DB": secret + ":password::"}}],
            "execution_role_arn": "arn:aws:iam::1:role/given"}
    m = _roles_manager(s3_prefixes=["uploads/backend/"])
    m.module.seed_client = lambda service, region=None: None  # never called: the checker below stands in
    policy = ecs_service.iam_roles.task_policy([], False, s3_prefixes=["uploads/backend/"])
    monkeypatch.setattr(ecs_service.iam_roles, "observe_role",
                        lambda client, name: (observed[0], policy if observed[1] == "SAME" else observed[1]))
    writes = []
    monkeypatch.setattr(ecs_service.iam_roles, "ensure_role", lambda *a, **kw: writes.append(a[2]))
    checker = _Checker({("secret", secret)})
    monkeypatch.setattr(ecs_service.references, "ReferenceChecker", lambda factory: checker)
    if checked:
        with pytest.raises(ValidationError) as e:
            m._ensure_roles(task, {"serviceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/it/backend"})
        assert e.value.field == "task" and "bucket uploads" in e.value.message and writes == []
        assert checker.asked == [("secret", secret), ("bucket", "uploads")]
    else:
        m._ensure_roles(task, {"serviceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/it/backend"})
        assert checker.asked == [] and writes == ["it-backend-task"]


# -- permissions_boundary: validated before any call, checked only when a role write is needed ---------------
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/seed-deployer/seed-workload-boundary"


def test_a_bad_permissions_boundary_fails_before_any_call():
    with pytest.raises(ValidationError) as e:
        ecs_service.validate(params(permissions_boundary="seed-workload-boundary"))
    assert e.value.field == "permissions_boundary"
    ecs_service.validate(params(permissions_boundary=BOUNDARY))


class _Iam:
    """An IAM client that answers GetPolicy (the boundary exists or not) and counts the requests."""

    def __init__(self, exists=True):
        self.exists, self.asked = exists, []

    def get_policy(self, PolicyArn):  # noqa: N803  (boto3's parameter name)
        self.asked.append(PolicyArn)
        if not self.exists:
            from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not found"}}, "GetPolicy")
        return {"Policy": {"Arn": PolicyArn}}


def _boundary_run(monkeypatch, observed, exists=True):
    task = {"containers": [{"name": "web", "image": "x"}], "execution_role_arn": "arn:aws:iam::1:role/given"}
    m = _roles_manager(permissions_boundary=BOUNDARY)
    m._iam_client = _Iam(exists)
    m.module.seed_client = lambda service, region=None: None
    monkeypatch.setattr(ecs_service.references, "ReferenceChecker", lambda factory: _Checker(set()))
    monkeypatch.setattr(ecs_service.iam_roles, "observe_role", lambda client, name: observed)
    m.actions = []
    m._do = lambda action, call, *args: m.actions.append(action)
    m._ensure_roles(task, {"serviceArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/it/backend"})
    return m


def test_a_new_role_gets_the_boundary_after_it_was_found(monkeypatch):
    m = _boundary_run(monkeypatch, (None, None))
    assert m._iam_client.asked == [BOUNDARY]
    assert m.actions == [f"create iam role it-backend-task with permissions boundary {BOUNDARY}"]


def test_a_changed_boundary_is_put_on_the_existing_role(monkeypatch):
    role = {"RoleName": "it-backend-task", "AssumeRolePolicyDocument": ecs_service.iam_roles.ecs_tasks_trust(
        "eu-west-1", ACCOUNT), "PermissionsBoundary": {"PermissionsBoundaryArn": BOUNDARY.replace("seed-w", "old-w")},
        "Tags": [{"Key": "seed:managed-by", "Value": "seed.aws_migration"}, {"Key": "seed:service", "Value": "it/backend"},
                 {"Key": "seed:component", "Value": "ecs-task-role"}]}
    m = _boundary_run(monkeypatch, (role, None))
    assert m._iam_client.asked == [BOUNDARY]
    assert m.actions == [f"set permissions boundary of iam role it-backend-task to {BOUNDARY}"]
    # no-op: the boundary is there, nothing written, the boundary policy not even looked up
    role["PermissionsBoundary"]["PermissionsBoundaryArn"] = BOUNDARY
    m = _boundary_run(monkeypatch, (role, None))
    assert m._iam_client.asked == [] and m.actions == []


def test_a_missing_boundary_policy_fails_naming_the_option_before_any_write(monkeypatch):
    with pytest.raises(ValidationError) as e:
        _boundary_run(monkeypatch, (None, None), exists=False)
    assert e.value.field == "permissions_boundary" and BOUNDARY in e.value.message


def test_the_diff_shows_the_boundary_of_each_derived_role(monkeypatch):
    m = _boundary_run(monkeypatch, (None, None))
    assert m._roles_diff == ({"it-backend-task": {"permissions_boundary": None}},
                             {"it-backend-task": {"permissions_boundary": BOUNDARY}})


@pytest.mark.parametrize("overrides, field", [
    ({"name": "bad name"}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"family": "app:1"}, "family"),
    ({"cluster": "my cluster"}, "cluster"),
])
def test_names_ecs_refuses_fail_before_any_call(overrides, field):
    params = {"name": "backend", "cluster": "production", "family": None, "state": "absent"}
    params.update(overrides)
    with pytest.raises(ValidationError) as e:
        ecs_service.validate(params)
    assert e.value.field == field


def test_a_cluster_arn_is_not_taken_for_a_family_name():
    ecs_service.validate({"name": "backend", "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
                          "family": None, "state": "absent"})


def test_an_access_point_of_another_region_is_refused_before_any_client():
    class _Fake:
        region, check_mode = "us-east-1", False
        params = dict(params(efs_access_points=[MOUNT]), manage_roles=True)  # AP is in eu-west-1

        def seed_client(self, service):
            raise AssertionError("a client was made before validation finished")

    with pytest.raises(ValidationError) as e:
        ecs_service.ServiceManager(_Fake())
    assert e.value.field == "efs_access_points[0].access_point_arn" and "is in eu-west-1" in e.value.message


# A deleted service whose tasks ECS is still stopping is DRAINING (DeleteService docs: "the service status
# moves from ACTIVE to DRAINING ... After all tasks have transitioned to either STOPPING or STOPPED status,
# the service status moves from DRAINING to INACTIVE"; a service of the same name cannot be created while
# one is ACTIVE or DRAINING). The local AWS runs no tasks, so its deleted services are INACTIVE at once:
# these responses follow the documented DescribeServices shape instead.
DRAINING = {"serviceName": "backend", "serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/it/backend",
            "status": "DRAINING", "desiredCount": 0, "runningCount": 1, "deployments": []}


def _described(monkeypatch, answers):
    calls = []

    def describe_service(client, cluster, name):
        calls.append(name)
        return answers[min(len(calls), len(answers)) - 1]

    monkeypatch.setattr(ecs_service.ecs, "describe_service", describe_service)
    return calls


@pytest.mark.parametrize("check_mode, described", [(False, 2), (True, 1)])
def test_a_draining_service_is_waited_out_then_counts_as_absent(monkeypatch, check_mode, described):
    """present(): ECS would refuse to update it or create another under its name until it is INACTIVE; the
    wait comes before any write. Check mode predicts the service created anew without waiting."""
    calls = _described(monkeypatch, [DRAINING, None])
    m = manager()
    m.check_mode = check_mode
    assert m._settled_service() is None
    assert len(calls) == described and m.actions == []


def test_an_active_service_is_taken_as_it_is(monkeypatch):
    active = dict(DRAINING, status="ACTIVE")
    calls = _described(monkeypatch, [active])
    assert manager()._settled_service() is active and len(calls) == 1


def test_a_service_draining_for_too_long_fails_naming_it(monkeypatch):
    _described(monkeypatch, [DRAINING])
    with pytest.raises(SeedAWSError) as e:
        manager(wait_timeout=0)._settled_service()
    assert e.value.message == ("Timed out after 0s waiting for service backend, deleted earlier and still draining "
                               "its tasks, to be gone before it is created again; last state: backend=DRAINING")


@pytest.mark.parametrize("wait, described", [(True, 2), (False, 1)])
def test_removing_a_draining_service_deletes_it_no_second_time(monkeypatch, wait, described):
    """absent() after a run whose wait timed out: ECS refuses a second DeleteService (ServiceNotActive), so
    the run only waits (with wait=true) and goes on with the task definitions; it changes nothing else."""
    calls = _described(monkeypatch, [DRAINING, None])
    deleted = []
    monkeypatch.setattr(ecs_service.ecs, "delete_service", lambda *args: deleted.append(args))
    monkeypatch.setattr(ecs_service.ecs, "list_task_definitions", lambda client, family: [])
    m = manager(wait=wait, delete_log_groups=False, manage_roles=False)
    m.family = "it-backend"
    m._ensure_autoscaling = lambda wanted: (None, None)
    before, after, service, _fields = m.absent()
    assert deleted == [] and m.actions == [] and len(calls) == described
    assert (before, after, service) == ({}, {}, {})


def test_removing_an_active_service_deletes_it_and_waits(monkeypatch):
    calls = _described(monkeypatch, [dict(DRAINING, status="ACTIVE"), None])
    deleted = []
    monkeypatch.setattr(ecs_service.ecs, "delete_service", lambda client, cluster, name: deleted.append(name))
    monkeypatch.setattr(ecs_service.ecs, "list_task_definitions", lambda client, family: [])
    m = manager(wait=True, delete_log_groups=False, manage_roles=False)
    m.family = "it-backend"
    m._ensure_autoscaling = lambda wanted: (None, None)
    before, _after, _service, _fields = m.absent()
    assert deleted == ["backend"] and m.actions == ["delete service backend"] and len(calls) == 2
    assert before["service"] is not None
