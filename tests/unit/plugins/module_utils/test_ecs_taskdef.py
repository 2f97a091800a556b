# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task definition change detection: every field counts, ECS-filled defaults never do."""

import copy

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils.diff import changed_paths
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import canonical
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import render
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import validate_task
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"


def task(**overrides):
    base = {
        "cpu": 256, "memory": 512, "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
        "task_role_arn": "arn:aws:iam::123456789012:role/task",
        "containers": [{
            "name": "backend", "image": "123.dkr.ecr.eu-west-1.amazonaws.com/backend@sha256:" + "a" * 64,
            "ports": [8000], "environment": {"APP_GREETING": "hello", "LOG_LEVEL": "info"},
            "secrets": {"DATABASE_PASSWORD": SECRET + ":password::"},
            "health_check": {"command": ["CMD-SHELL", "python3 /app/health.py"]},
        }],
    }
    base.update(overrides)
    return base


def described(params):
    """What DescribeTaskDefinition returns for registered ``params``: ECS fills in defaults."""
    out = copy.deepcopy(params)
    out.update(taskDefinitionArn="arn:aws:ecs:eu-west-1:123456789012:task-definition/f:3", revision=3,
               status="ACTIVE", compatibilities=["EC2", "FARGATE"], registeredAt="2026-11-21T00:00:00Z",
               registeredBy="arn:aws:iam::123456789012:user/x", volumes=[], placementConstraints=[],
               requiresAttributes=[{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}])
    for container in out["containerDefinitions"]:
        container.update(cpu=0, mountPoints=[], volumesFrom=[], systemControls=[])
        for mapping in container["portMappings"]:
            mapping.pop("hostPort")  # ECS gives it back, sometimes; normalisation must not care
    return out


def view(t):
    return canonical(render("fam", t, "eu-west-1", "/seed/test/backend"))


def test_ecs_defaults_cause_no_change():
    params = render("fam", task(), "eu-west-1", "/seed/test/backend")
    assert changed_paths(canonical(described(params)), canonical(params)) == []


@pytest.mark.parametrize("change, path", [
    (lambda t: t["containers"][0].update(image=t["containers"][0]["image"][:-1] + "b"), "containers.backend.image"),
    # an env value changed with the same list length (community.aws misses this)
    (lambda t: t["containers"][0]["environment"].update(APP_GREETING="bonjour"),
     "containers.backend.environment.APP_GREETING"),
    (lambda t: t["containers"][0]["environment"].pop("LOG_LEVEL"), "containers.backend.environment.LOG_LEVEL"),
    # a changed secrets[].valueFrom (community.aws misses this too)
    (lambda t: t["containers"][0]["secrets"].update(DATABASE_PASSWORD=SECRET + ":username::"),
     "containers.backend.secrets.DATABASE_PASSWORD"),
    (lambda t: t.update(cpu=512, memory=1024), "cpu"),
    (lambda t: t.update(memory=1024), "memory"),
    (lambda t: t.update(execution_role_arn="arn:aws:iam::123456789012:role/other"), "executionRoleArn"),
    (lambda t: t.update(task_role_arn="arn:aws:iam::123456789012:role/other"), "taskRoleArn"),
    (lambda t: t["containers"][0].update(ports=[8001]), "containers.backend.portMappings.8000/tcp"),
    (lambda t: t["containers"][0]["health_check"].update(retries=5), "containers.backend.healthCheck.retries"),
    (lambda t: t["containers"][0]["health_check"].update(command=["CMD", "true"]),
     "containers.backend.healthCheck.command"),
    (lambda t: t.update(cpu_architecture="ARM64"), "runtimePlatform.cpuArchitecture"),
    (lambda t: t["containers"][0].update(command=["serve"]), "containers.backend.command"),
    (lambda t: t["containers"][0].update(log_group="/other"), "containers.backend.logConfiguration.options.awslogs-group"),
    (lambda t: t.update(ephemeral_storage_gib=50), "ephemeralStorage"),
    # the private registry's login (repositoryCredentials), set or changed
    (lambda t: t["containers"][0].update(repository_credentials=SECRET), "containers.backend.repositoryCredentials"),
])
def test_each_field_counts(change, path):
    changed = task()
    change(changed)
    paths = changed_paths(view(task()), view(changed))
    assert any(p == path or p.startswith(path + ".") for p in paths), paths


def test_fields_and_explicit_defaults_newer_aws_returns_cause_no_change():
    """DescribeTaskDefinition today adds enableFaultInjection=false and, per container, versionConsistency
    (and may add more response-only keys later): none of it is a change of what the module registers."""
    params = render("fam", task(), "eu-west-1", "/seed/test/backend")
    now = described(params)
    now.update(enableFaultInjection=False, deleteRequestedAt="2026-11-22T00:00:00Z", someFutureResponseKey={"x": 1})
    for container in now["containerDefinitions"]:
        container.update(versionConsistency="enabled", privileged=False, interactive=False,
                         linuxParameters={"initProcessEnabled": False, "capabilities": {"add": [], "drop": []}})
    assert changed_paths(canonical(now), canonical(params)) == []


def test_non_default_values_of_those_fields_are_changes():
    params = render("fam", task(), "eu-west-1", "/seed/test/backend")
    now = described(params)
    now["enableFaultInjection"] = True
    now["containerDefinitions"][0]["versionConsistency"] = "disabled"
    assert set(changed_paths(canonical(now), canonical(params))) == {
        "enableFaultInjection", "containers.backend.versionConsistency"}


@pytest.mark.parametrize("before, after", [
    ({"APP_GREETING": "hello"}, {"APP_GREETING": "hello", "FEATURE_FLAG": ""}),  # a variable set to "" added
    ({"APP_GREETING": "hello", "FEATURE_FLAG": ""}, {"APP_GREETING": "hello"}),  # ... or removed
    ({"APP_GREETING": ""}, {"APP_GREETING": "hello"}),
])
def test_an_empty_environment_value_is_still_a_variable(before, after):
    one, two = task(), task()
    one["containers"][0]["environment"] = before
    two["containers"][0]["environment"] = after
    assert changed_paths(view(one), view(two)) != []


def test_a_described_variable_without_value_equals_an_empty_one():
    params = render("fam", task(containers=[dict(task()["containers"][0], environment={"EMPTY": ""})]),
                    "eu-west-1", "/seed/test/backend")
    now = described(params)
    now["containerDefinitions"][0]["environment"] = [{"name": "EMPTY"}]
    assert changed_paths(canonical(now), canonical(params)) == []


def test_order_of_environment_does_not_matter():
    one = task()
    two = task()
    two["containers"][0]["environment"] = dict(reversed(list(one["containers"][0]["environment"].items())))
    assert changed_paths(view(one), view(two)) == []


def test_a_private_registry_login_is_rendered_and_survives_describe():
    private = task()
    private["containers"][0].update(image="registry.example.com/backend@sha256:" + "a" * 64,
                                    repository_credentials=SECRET)
    params = render("fam", private, "eu-west-1", "/seed/test/backend")
    assert params["containerDefinitions"][0]["repositoryCredentials"] == {"credentialsParameter": SECRET}
    assert changed_paths(canonical(described(params)), canonical(params)) == []
    other = copy.deepcopy(private)
    other["containers"][0]["repository_credentials"] = SECRET.replace("db-", "registry-")
    assert changed_paths(view(private), view(other)) == ["containers.backend.repositoryCredentials.credentialsParameter"]


@pytest.mark.parametrize("credentials, image, message", [
    ("registry-login", "registry.example.com/a:1", "is not the ARN of a Secrets Manager secret"),
    (SECRET + ":password::", "registry.example.com/a:1", "no JSON key"),
    ("arn:aws:ssm:eu-west-1:123456789012:parameter/login", "registry.example.com/a:1", "Secrets Manager"),
    (SECRET, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/a:1", "pulls the ECR image"),
])
def test_repository_credentials_name_a_whole_secret_for_another_registry(credentials, image, message):
    with pytest.raises(ValidationError) as e:
        validate_task(task(containers=[{"name": "a", "image": image, "repository_credentials": credentials}]))
    assert e.value.field == "task.containers[0].repository_credentials" and message in e.value.message


@pytest.mark.parametrize("overrides, field", [
    (dict(cpu=256, memory=4096), "task.memory"),
    (dict(cpu=300, memory=512), "task.cpu"),
    (dict(containers=[]), "task.containers"),
    (dict(containers=[{"name": "a", "image": "x", "ports": [70000]}]), "task.containers[0].ports[0]"),
    (dict(containers=[{"name": "a", "image": "x", "secrets": {"P": "plain"}}]), "task.containers[0].secrets.P"),
    (dict(containers=[{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]), "task.containers"),
    (dict(containers=[{"name": "a", "image": ""}]), "task.containers[0].image"),
    (dict(containers=[{"name": "a", "image": "x", "environment": {"DB_PASSWORD": "hunter2"}}]),
     "task.containers[0].environment.DB_PASSWORD"),
    (dict(containers=[{"name": "a", "image": "x", "environment": {"MB_ENCRYPTION_SECRET_KEY": "k"}}]),
     "task.containers[0].environment.MB_ENCRYPTION_SECRET_KEY"),
    (dict(containers=[{"name": "a", "image": "x", "environment": {"github_token": "t", "LEVEL": "1"}}]),
     "task.containers[0].environment.github_token"),
    (dict(ephemeral_storage_gib=10), "task.ephemeral_storage_gib"),
    (dict(ephemeral_storage_gib=201), "task.ephemeral_storage_gib"),
    (dict(containers=[{"name": "a", "image": "x", "health_check": {"command": ["CMD", "true"], "interval": 1}}]),
     "task.containers[0].health_check.interval"),
    (dict(containers=[{"name": "a", "image": "x", "health_check": {"command": ["CMD", "true"], "timeout": 61}}]),
     "task.containers[0].health_check.timeout"),
    (dict(containers=[{"name": "a", "image": "x", "health_check": {"command": ["CMD", "true"], "retries": 11}}]),
     "task.containers[0].health_check.retries"),
    (dict(containers=[{"name": "a", "image": "x",
                       "health_check": {"command": ["CMD", "true"], "start_period": 301}}]),
     "task.containers[0].health_check.start_period"),
])
def test_bad_task_names_the_field(overrides, field):
    with pytest.raises(ValidationError) as e:
        validate_task(task(**overrides))
    assert e.value.field == field
    if field == "task.memory":
        assert "512-2048" in e.value.message


def test_credential_looking_names_can_be_allowed_one_by_one():
    container = {"name": "a", "image": "x", "environment": {"TOKEN_TTL": "300", "LOG_LEVEL": "info"},
                 "plaintext_allowed": ["TOKEN_TTL"]}
    validate_task(task(containers=[container]))
    container["environment"]["API_KEY"] = "k"
    with pytest.raises(ValidationError) as e:
        validate_task(task(containers=[container]))
    assert e.value.field == "task.containers[0].environment.API_KEY" and "secrets" in e.value.message


# -- EFS access points: volumes and mount points ---------------------------------------------------------
AP = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0"
MOUNT = {"file_system_id": "fs-0123456789abcdef0", "access_point_arn": AP, "container_path": "/data/packages",
         "read_only": False}


def with_sidecar():
    t = task()
    t["containers"].append({"name": "sidecar", "image": "registry.local/sidecar@sha256:" + "c" * 64})
    return t


def test_an_access_point_is_a_volume_over_tls_with_iam_mounted_in_every_container():
    params = render("fam", with_sidecar(), "eu-west-1", "/seed/test/backend", [MOUNT])
    assert params["volumes"] == [{"name": "efs-fsap-0123456789abcdef0", "efsVolumeConfiguration": {
        "fileSystemId": "fs-0123456789abcdef0", "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": "fsap-0123456789abcdef0", "iam": "ENABLED"}}}]
    for container in params["containerDefinitions"]:
        assert container["mountPoints"] == [{"sourceVolume": "efs-fsap-0123456789abcdef0",
                                             "containerPath": "/data/packages", "readOnly": False}]
    only_backend = render("fam", with_sidecar(), "eu-west-1", None, [dict(MOUNT, containers=["backend"])])
    assert [bool(c.get("mountPoints")) for c in only_backend["containerDefinitions"]] == [True, False]


def test_what_ecs_fills_in_on_efs_volumes_causes_no_change():
    params = render("fam", task(), "eu-west-1", "/seed/test/backend", [MOUNT])
    out = described(params)
    out["volumes"] = copy.deepcopy(params["volumes"])
    out["volumes"][0]["efsVolumeConfiguration"]["rootDirectory"] = "/"  # ECS (and moto) add the default
    out["volumes"][0]["configuredAtLaunch"] = False  # ECS describes every volume so (moto does not)
    for container in out["containerDefinitions"]:
        container["mountPoints"] = [{k: v for k, v in m.items() if k != "readOnly"}  # false may come back unset
                                    for m in params["containerDefinitions"][0]["mountPoints"]]
    assert changed_paths(canonical(out), canonical(params)) == []


@pytest.mark.parametrize("change, paths", [
    (dict(read_only=True), ["containers.backend.mountPoints./data/packages.readOnly"]),
    (dict(container_path="/srv"), ["containers.backend.mountPoints./data/packages", "containers.backend.mountPoints./srv"]),
    (dict(file_system_id="fs-1"), ["volumes.efs-fsap-0123456789abcdef0.efsVolumeConfiguration.fileSystemId"]),
])
def test_each_efs_field_counts(change, paths):
    before = canonical(render("fam", task(), "eu-west-1", None, [MOUNT]))
    after = canonical(render("fam", task(), "eu-west-1", None, [dict(MOUNT, **change)]))
    assert changed_paths(before, after) == paths


def test_adding_and_removing_a_mount_is_a_change():
    without = canonical(render("fam", task(), "eu-west-1", None))
    with_mount = canonical(render("fam", task(), "eu-west-1", None, [MOUNT]))
    assert changed_paths(without, with_mount) == ["containers.backend.mountPoints", "volumes"]
    assert changed_paths(with_mount, without) == ["containers.backend.mountPoints", "volumes"]
