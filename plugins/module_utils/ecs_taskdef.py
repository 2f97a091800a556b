# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fargate task definitions: validation, rendering, and a canonical view for change detection.

``canonical()`` turns a task definition, whether rendered from the task's options or described by
ECS, into one comparable shape: only the keys RegisterTaskDefinition takes, the defaults ECS fills in (hostPort,
protocol, essential, health-check timings, empty lists) made explicit, name/value lists turned into
dicts, numbers as strings where ECS gives strings. Every field counts: an environment value changed
with the same list length, or a changed ``secrets[].valueFrom``, is a change; a default ECS added is
not. ``changed_paths`` (diff.py) on two canonical views names the fields that changed.
"""

import re

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import ECR_IMAGE_RE

# Fargate's task-level CPU (units) -> allowed memory (MiB).
FARGATE_SIZES = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}

# What RegisterTaskDefinition takes (but tags, compared apart, and the retired inferenceAccelerators):
# a described definition is compared on these keys only, so what DescribeTaskDefinition adds now or
# later (revision, status, registeredAt, deleteRequestedAt, ...) can never look like a change.
REGISTER_KEYS = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
                 "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
                 "proxyConfiguration", "ephemeralStorage", "runtimePlatform", "enableFaultInjection")
# Settings whose default ECS may write back explicitly: the default and "not set" are the same.
TASK_DEFAULTS = {"enableFaultInjection": False}
CONTAINER_DEFAULTS = {"versionConsistency": "enabled", "privileged": False, "interactive": False,
                      "pseudoTerminal": False, "disableNetworking": False, "readonlyRootFilesystem": False}
HEALTH_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3}
HEALTH_RANGES = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "start_period": (0, 300)}
CONTAINER_LIST_KEYS = ("mountPoints", "volumesFrom", "systemControls", "dependsOn", "ulimits", "environmentFiles",
                       "entryPoint", "command", "dnsServers", "links", "extraHosts")


def validate_size(cpu, memory, field="task"):
    cpu, memory = int(cpu), int(memory)
    if cpu not in FARGATE_SIZES:
        raise ValidationError(f"{field}.cpu", f"{cpu} is not a Fargate CPU size ({', '.join(map(str, FARGATE_SIZES))})")
    if memory not in FARGATE_SIZES[cpu]:
        allowed = FARGATE_SIZES[cpu]
        raise ValidationError(f"{field}.memory", f"Fargate does not run {cpu} CPU units with {memory} MiB; with "
                                                 f"{cpu} it takes {allowed[0]}-{allowed[-1]} MiB "
                                                 f"({', '.join(map(str, allowed))})")


def validate_port(port, field):
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationError(field, f"container port {port!r} is outside 1-65535")


def _pairs_to_dict(items, key="name", value="value"):
    # An environment variable without a value is one set to "" (and still a variable).
    return {item[key]: item.get(value) or "" for item in items or []}


def _drop_empty(value):
    if isinstance(value, dict):
        cleaned = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def canonical_container(container):
    c = {k: v for k, v in container.items() if CONTAINER_DEFAULTS.get(k, ()) != v}
    c.setdefault("essential", True)
    if c.get("cpu") == 0:
        c.pop("cpu")
    c["portMappings"] = {
        f"{p['containerPort']}/{p.get('protocol', 'tcp')}": _drop_empty({
            "hostPort": p.get("hostPort", p["containerPort"]),
            "name": p.get("name"), "appProtocol": p.get("appProtocol"),
            "containerPortRange": p.get("containerPortRange"),
        }) for p in c.get("portMappings") or []}
    # Kept out of _drop_empty: FOO="" is a variable, and adding or removing it is a change.
    pairs = {"environment": _pairs_to_dict(c.pop("environment", None)),
             "secrets": _pairs_to_dict(c.pop("secrets", None), value="valueFrom")}
    if c.get("healthCheck"):
        c["healthCheck"] = dict(HEALTH_DEFAULTS, **c["healthCheck"])
    if c.get("dockerLabels") == {}:
        c.pop("dockerLabels")
    for key in CONTAINER_LIST_KEYS:
        if not c.get(key):
            c.pop(key, None)
    if c.get("mountPoints"):  # by path; ECS may leave readOnly out when it is false
        c["mountPoints"] = {m.get("containerPath"): {"sourceVolume": m.get("sourceVolume"),
                                                     "readOnly": bool(m.get("readOnly"))} for m in c["mountPoints"]}
    if (c.get("linuxParameters") or {}).get("initProcessEnabled") is False:
        c["linuxParameters"] = {k: v for k, v in c["linuxParameters"].items() if k != "initProcessEnabled"}
    c = _drop_empty(c)
    c.update({key: value for key, value in pairs.items() if value})
    return c


def _canonical_volume(volume):
    """A volume without its name, the EFS defaults ECS fills in made explicit."""
    # configuredAtLaunch false is how ECS describes every volume set in the definition itself
    volume = {k: v for k, v in volume.items() if k != "name" and not (k == "configuredAtLaunch" and v is False)}
    efs = volume.get("efsVolumeConfiguration")
    if efs:
        efs = dict({"transitEncryption": "DISABLED", "rootDirectory": "/"}, **efs)
        efs["authorizationConfig"] = dict({"iam": "DISABLED"}, **(efs.get("authorizationConfig") or {}))
        volume["efsVolumeConfiguration"] = efs
    return volume


def canonical(taskdef):
    """The comparable view of a task definition (register params or a described one)."""
    t = {k: v for k, v in taskdef.items() if k in REGISTER_KEYS and TASK_DEFAULTS.get(k, ()) != v}
    containers = {c["name"]: canonical_container(c) for c in t.pop("containerDefinitions", [])}
    for key in ("cpu", "memory"):
        if t.get(key) is not None:
            t[key] = str(t[key])
    t.setdefault("networkMode", "awsvpc")
    t["requiresCompatibilities"] = sorted(t.get("requiresCompatibilities") or ["FARGATE"])
    if t.get("runtimePlatform"):
        t["runtimePlatform"] = dict({"operatingSystemFamily": "LINUX"}, **t["runtimePlatform"])
    if t.get("ephemeralStorage", {}).get("sizeInGiB") == 20:
        t.pop("ephemeralStorage")  # Fargate's default
    for key in ("volumes", "placementConstraints"):
        if not t.get(key):
            t.pop(key, None)
    if t.get("volumes"):
        t["volumes"] = {v.get("name"): _canonical_volume(v) for v in t["volumes"]}
    t = _drop_empty(t)
    t["containers"] = containers  # each one cleaned already (an environment value may be "")
    return t


# Environment variable names that hold credentials (matched case-insensitively anywhere in the name).
# ECS service names and task definition families: up to 255 letters, digits, hyphens and underscores.
ECS_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def validate_ecs_name(field, value, what):
    if not isinstance(value, str) or not ECS_NAME.match(value):
        raise ValidationError(field, f"{value!r} is not a valid {what}: 1-255 letters, digits, '-' or '_'")


# A whole Secrets Manager secret (what repositoryCredentials.credentialsParameter takes).
REGISTRY_SECRET = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+-[A-Za-z0-9]{6}$")

CREDENTIAL_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY",
                             re.IGNORECASE)


def validate_task(task, field="task"):
    """Validate an ecs_service ``task`` option before any API call."""
    validate_size(task["cpu"], task["memory"], field)
    storage = task.get("ephemeral_storage_gib")
    if storage is not None and not 21 <= storage <= 200:
        raise ValidationError(f"{field}.ephemeral_storage_gib", f"{storage} GiB is outside 21-200 (Fargate's range; "
                                                                "leave it unset for the default 20 GiB)")
    containers = task.get("containers") or []
    if not containers:
        raise ValidationError(f"{field}.containers", "needs at least one container")
    names = [c["name"] for c in containers]
    if len(set(names)) != len(names):
        raise ValidationError(f"{field}.containers", "container names must be unique")
    for index, container in enumerate(containers):
        where = f"{field}.containers[{index}]"
        if not container.get("image"):
            raise ValidationError(f"{where}.image", "is required")
        for pindex, port in enumerate(container.get("ports") or []):
            validate_port(port, f"{where}.ports[{pindex}]")
        allowed = set(container.get("plaintext_allowed") or [])
        for key in sorted(container.get("environment") or {}):
            if CREDENTIAL_NAME.search(key) and key not in allowed:
                raise ValidationError(f"{where}.environment.{key}", "looks like a credential: pass it in secrets "
                                      "(a Secrets Manager or SSM ARN), never as a plain environment variable "
                                      f"(or list it in {where}.plaintext_allowed if it is not one)")
        for key, value in (container.get("secrets") or {}).items():
            if not str(value).startswith("arn:"):
                raise ValidationError(f"{where}.secrets.{key}", "must be the ARN of a Secrets Manager secret (or a "
                                                                "JSON key of one) or of an SSM parameter")
        credentials = container.get("repository_credentials")
        if credentials:
            if not REGISTRY_SECRET.match(credentials):
                raise ValidationError(f"{where}.repository_credentials", f"{credentials!r} is not the ARN of a "
                                      "Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-"
                                      "<6 characters>: the full ARN, the whole secret, no JSON key)")
            if ECR_IMAGE_RE.match(container.get("image") or ""):
                raise ValidationError(f"{where}.repository_credentials", "is for images of other registries; ECS "
                                      f"pulls the ECR image {container['image']} with the execution role")
        check = container.get("health_check") or {}
        if check and not check.get("command"):
            raise ValidationError(f"{where}.health_check.command", "is required when health_check is set")
        for key, (low, high) in HEALTH_RANGES.items():
            if check.get(key) is not None and not low <= check[key] <= high:
                raise ValidationError(f"{where}.health_check.{key}", f"{check[key]} is outside {low}-{high} "
                                                                     "(what ECS accepts)")
        for dindex, dep in enumerate(container.get("depends_on") or []):
            if dep.get("container") not in names:
                raise ValidationError(f"{where}.depends_on[{dindex}]", f"unknown container {dep.get('container')!r}")


def efs_volume_name(access_point_arn):
    """The task volume of an EFS access point: ``efs-fsap-...``."""
    return "efs-" + access_point_arn.rsplit("/", 1)[-1]


def validate_efs_mounts(efs_access_points, containers, field="efs_access_points"):
    """Each access point once, at an absolute path, in containers the task has, one volume per path."""
    names = [c["name"] for c in containers]
    seen, paths = set(), {}
    for index, mount in enumerate(efs_access_points):
        where = f"{field}[{index}]"
        if mount["access_point_arn"] in seen:
            raise ValidationError(f"{where}.access_point_arn", f"{mount['access_point_arn']} is listed twice (mount "
                                                               "one access point once, in every container that needs "
                                                               "it)")
        seen.add(mount["access_point_arn"])
        if mount.get("containers") is not None and not mount["containers"]:
            raise ValidationError(f"{where}.containers", "is empty: name the containers that mount it, or leave it "
                                                         "out for every container")
        path = mount.get("container_path") or ""
        if not path.startswith("/") or path.rstrip("/") == "" or ":" in path:
            raise ValidationError(f"{where}.container_path", f"{path!r} is not an absolute path in the container "
                                                             "(and not / itself)")
        for name in mount.get("containers") or names:
            if name not in names:
                raise ValidationError(f"{where}.containers", f"no container named {name!r} (the task's: "
                                                             f"{', '.join(names)})")
            other = paths.setdefault((name, path.rstrip("/")), index)
            if other != index:
                raise ValidationError(f"{where}.container_path", f"container {name} already mounts "
                                                                 f"efs_access_points[{other}] at {path}")


def efs_mounts(efs_access_points, containers):
    """``(volumes, {container name: mountPoints})`` of the access points, mounted over TLS with the task role."""
    volumes, mount_points = [], {}
    for mount in efs_access_points:
        name = efs_volume_name(mount["access_point_arn"])
        volumes.append({"name": name, "efsVolumeConfiguration": {
            "fileSystemId": mount["file_system_id"], "transitEncryption": "ENABLED",
            "authorizationConfig": {"accessPointId": mount["access_point_arn"].rsplit("/", 1)[-1], "iam": "ENABLED"}}})
        for container in mount.get("containers") or [c["name"] for c in containers]:
            mount_points.setdefault(container, []).append({"sourceVolume": name, "containerPath": mount["container_path"],
                                                           "readOnly": bool(mount.get("read_only"))})
    return volumes, mount_points


def render_container(container, region, default_log_group):
    """A container definition in the API's shape from an ecs_service container option."""
    definition = {
        "name": container["name"],
        "image": container["image"],
        "essential": container.get("essential", True),
        "portMappings": [{"containerPort": p, "hostPort": p, "protocol": "tcp"} for p in container.get("ports") or []],
        "environment": [{"name": k, "value": str(v)} for k, v in sorted((container.get("environment") or {}).items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted((container.get("secrets") or {}).items())],
    }
    for option, key in (("command", "command"), ("entrypoint", "entryPoint"), ("user", "user"),
                        ("working_directory", "workingDirectory"), ("cpu", "cpu"), ("memory", "memory"),
                        ("memory_reservation", "memoryReservation"), ("stop_timeout", "stopTimeout"),
                        ("readonly_root_filesystem", "readonlyRootFilesystem")):
        if container.get(option) is not None:
            definition[key] = container[option]
    if container.get("repository_credentials"):
        definition["repositoryCredentials"] = {"credentialsParameter": container["repository_credentials"]}
    if container.get("depends_on"):
        definition["dependsOn"] = [{"containerName": d["container"], "condition": d.get("condition", "START")}
                                   for d in container["depends_on"]]
    if container.get("init_process"):
        definition["linuxParameters"] = {"initProcessEnabled": True}
    check = container.get("health_check")
    if check:
        definition["healthCheck"] = {"command": check["command"], "interval": check.get("interval", 30),
                                     "timeout": check.get("timeout", 5), "retries": check.get("retries", 3)}
        if check.get("start_period") is not None:
            definition["healthCheck"]["startPeriod"] = check["start_period"]
    log_group = container.get("log_group") or default_log_group
    if log_group:
        definition["logConfiguration"] = {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": region,
            "awslogs-stream-prefix": container.get("log_stream_prefix") or container["name"]}}
    return definition


def render(family, task, region, default_log_group=None, efs_access_points=()):
    """register_task_definition parameters (without tags) for a Fargate task (with its EFS volumes)."""
    params = {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": str(task["cpu"]),
        "memory": str(task["memory"]),
        "runtimePlatform": {"cpuArchitecture": task.get("cpu_architecture") or "X86_64",
                            "operatingSystemFamily": "LINUX"},
        "containerDefinitions": [render_container(c, region, default_log_group) for c in task["containers"]],
    }
    for option, key in (("execution_role_arn", "executionRoleArn"), ("task_role_arn", "taskRoleArn")):
        if task.get(option):
            params[key] = task[option]
    if task.get("ephemeral_storage_gib"):
        params["ephemeralStorage"] = {"sizeInGiB": task["ephemeral_storage_gib"]}
    if efs_access_points:
        params["volumes"], mount_points = efs_mounts(efs_access_points, task["containers"])
        for definition in params["containerDefinitions"]:
            if definition["name"] in mount_points:
                definition["mountPoints"] = mount_points[definition["name"]]
    return params
