#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service
short_description: An ECS Fargate service as users think of it - task definition, service, autoscaling, rollout
version_added: 1.0.0
description:
  - Owns one ECS service on Fargate - its task definition, the service, its autoscaling - and waits for the rollout.
  - The task definition is registered only when its normalised form differs from the one in use. Every field counts
    (image, environment values, C(secrets[].valueFrom), CPU, memory, roles, ports, health check, logging); defaults
    that ECS fills in never cause a change. Each registration names the fields that changed, in RV(actions) and in
    the C(--diff).
  - The service runs in the given (private) subnets with no public IP, uses a capacity provider strategy (Fargate and
    Fargate Spot), the deployment circuit breaker with rollback, min/max healthy percent and a health-check grace
    period. Every managed field is compared on each run and updated in place.
  - O(desired_count) is used when the service is created and then left to autoscaling (target tracking on CPU,
    memory or ALB requests per target) - a run never resets a scaled service.
  - After a change the module waits for the rollout to complete; when it fails or times out it reports the service
    events and the reasons the stopped tasks give.
author:
  - Seed platform team (@seed-platform)
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  name:
    description: Name of the service.
    type: str
    required: true
  state:
    description: Whether the service should exist. V(absent) deletes it and deregisters its task definitions.
    type: str
    choices: [present, absent]
    default: present
  family:
    description: Task definition family. Defaults to C(<cluster name>-<name>).
    type: str
  task:
    description: The task. Required when O(state=present).
    type: dict
    suboptions:
      cpu:
        description: Task CPU units (a Fargate size - 256, 512, 1024, 2048, 4096, 8192, 16384).
        type: int
        default: 256
      memory:
        description: Task memory in MiB; must be allowed with O(task.cpu) on Fargate.
        type: int
        default: 512
      cpu_architecture:
        description: CPU architecture.
        type: str
        choices: [X86_64, ARM64]
        default: X86_64
      execution_role_arn:
        description: Role ECS uses to pull the image, write logs and read the secrets.
        type: str
      task_role_arn:
        description: Role the containers run as.
        type: str
      ephemeral_storage_gib:
        description: Ephemeral storage in GiB (21-200); Fargate gives 20 when not set.
        type: int
      log_group:
        description: CloudWatch Logs group of the containers that do not name their own.
        type: str
      containers:
        description: The containers.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Container name.
            type: str
            required: true
          image:
            description: Image, preferably digest-pinned (C(repo@sha256:...)).
            type: str
            required: true
          essential:
            description: Whether the task stops when this container stops.
            type: bool
            default: true
          ports:
            description: TCP ports the container listens on.
            type: list
            elements: int
          environment:
            description:
              - Plain environment variables. Never put a credential here - use O(task.containers[].secrets).
              - A variable whose name looks like a credential (contains C(PASSWORD), C(PASSWD), C(SECRET), C(TOKEN),
                C(API_KEY), C(PRIVATE_KEY), C(CREDENTIAL) or C(ACCESS_KEY)) is refused before any API call, unless
                O(task.containers[].plaintext_allowed) names it (for example a setting called C(TOKEN_TTL)).
            type: dict
          plaintext_allowed:
            description: Names in O(task.containers[].environment) that look like credentials but are not.
            type: list
            elements: str
            default: []
          secrets:
            description:
              - Environment variables filled from Secrets Manager or SSM Parameter Store, name to ARN
                (C(arn:...:secret:name-AbCdEf:json-key::) picks a JSON key).
            type: dict
          repository_credentials:
            description:
              - ARN of the Secrets Manager secret holding the C(username) and C(password) of the private registry
                O(task.containers[].image) is pulled from (a self-hosted or third-party OCI registry; ECS private
                registry authentication). The derived execution role may read it (and decrypt it with O(kms_keys)).
              - Not for ECR images, which the execution role pulls with its own permissions.
            type: str
          command:
            description: Command.
            type: list
            elements: str
          entrypoint:
            description: Entry point.
            type: list
            elements: str
          user:
            description: User to run as.
            type: str
          working_directory:
            description: Working directory.
            type: str
          cpu:
            description: CPU units reserved for the container.
            type: int
          memory:
            description: Hard memory limit of the container, MiB.
            type: int
          memory_reservation:
            description: Soft memory limit of the container, MiB.
            type: int
          readonly_root_filesystem:
            description: Whether the root filesystem is read-only.
            type: bool
          init_process:
            description: Run an init process (reaps zombies, forwards signals).
            type: bool
          stop_timeout:
            description: Seconds between SIGTERM and SIGKILL.
            type: int
          depends_on:
            description: Containers this one waits for.
            type: list
            elements: dict
            suboptions:
              container:
                description: Name of the other container.
                type: str
                required: true
              condition:
                description: Condition.
                type: str
                choices: [START, COMPLETE, SUCCESS, HEALTHY]
                default: START
          health_check:
            description: Container health check.
            type: dict
            suboptions:
              command:
                description: Command, for example C(["CMD-SHELL", "curl -f http://localhost:8000/health"]).
                type: list
                elements: str
                required: true
              interval:
                description: Seconds between checks (5-300).
                type: int
                default: 30
              timeout:
                description: Seconds before a check fails (2-60).
                type: int
                default: 5
              retries:
                description: Failures before unhealthy (1-10).
                type: int
                default: 3
              start_period:
                description: Grace seconds after start (0-300).
                type: int
          log_group:
            description: CloudWatch Logs group of this container (default O(task.log_group)).
            type: str
          log_stream_prefix:
            description: Log stream prefix (default the container name).
            type: str
  subnets:
    description: Subnets of the tasks (the private ones). Required when O(state=present).
    type: list
    elements: str
  security_groups:
    description: Security groups of the tasks.
    type: list
    elements: str
    default: []
  assign_public_ip:
    description: Whether tasks get a public IP. Keep V(false) for tasks in private subnets.
    type: bool
    default: false
  load_balancers:
    description: Target groups the service registers its tasks with.
    type: list
    elements: dict
    default: []
    suboptions:
      target_group_arn:
        description: Target group ARN.
        type: str
        required: true
      container_name:
        description: Container that receives the traffic.
        type: str
        required: true
      container_port:
        description: Its port.
        type: int
        required: true
  desired_count:
    description: Number of tasks when the service is created. Never changed afterwards (autoscaling owns it).
    type: int
    default: 1
  capacity_provider_strategy:
    description: Capacity provider strategy.
    type: list
    elements: dict
    default: [{capacity_provider: FARGATE, weight: 1, base: 0}]
    suboptions:
      capacity_provider:
        description: Capacity provider, for example V(FARGATE) or V(FARGATE_SPOT).
        type: str
        required: true
      weight:
        description: Relative weight.
        type: int
        default: 1
      base:
        description: Tasks placed on this provider first.
        type: int
        default: 0
  platform_version:
    description: Fargate platform version.
    type: str
    default: LATEST
  deployment:
    description: Rolling deployment settings.
    type: dict
    default: {}
    suboptions:
      minimum_healthy_percent:
        description: Lower limit of running tasks during a deployment, percent of the desired count.
        type: int
        default: 100
      maximum_percent:
        description: Upper limit of tasks during a deployment.
        type: int
        default: 200
      circuit_breaker:
        description: Whether the deployment circuit breaker stops a deployment whose tasks keep failing.
        type: bool
        default: true
      rollback:
        description:
          - Whether a failed deployment - stopped by the circuit breaker or by one of O(deployment.alarms) - rolls
            back to the last completed deployment.
        type: bool
        default: true
      alarms:
        description:
          - CloudWatch alarms (names, in the service's region) that fail a deployment when one of them goes into
            C(ALARM) while it runs (ECS deployment alarms, rolling deployments) - for example the target group's
            5xx count or the service's error rate, which the circuit breaker does not see while tasks stay
            healthy.
          - Each must exist - checked before anything is written (one C(cloudwatch:DescribeAlarms) per run, only
            when alarms are named). An empty list turns deployment alarms off.
        type: list
        elements: str
        default: []
  health_check_grace_period:
    description:
      - Seconds the load balancer and container health checks are ignored after a task starts, so a slow start is
        not taken for a failure.
      - Sent when the service has O(load_balancers) or a container has a O(task.containers[].health_check); a
        service with neither does not use it.
    type: int
    default: 60
  enable_execute_command:
    description:
      - Whether ECS Exec is allowed into the tasks.
      - ECS applies a change of it to tasks started afterwards only, so changing it alone forces a new deployment.
    type: bool
    default: false
  propagate_tags:
    description: Where tasks take their tags from.
    type: str
    choices: [SERVICE, TASK_DEFINITION, NONE]
    default: SERVICE
  autoscaling:
    description:
      - Target-tracking autoscaling of the desired count. Not set - no autoscaling (an existing one this module set up
        is removed).
      - The module marks a service it set autoscaling up for with the tag C(seed:autoscaling), and reads Application
        Auto Scaling only when autoscaling is wanted or that tag is there (2 requests saved per run otherwise).
        Autoscaling set up by other tools on a service without the tag is left alone.
    type: dict
    suboptions:
      min_capacity:
        description: Fewest tasks.
        type: int
        required: true
      max_capacity:
        description: Most tasks.
        type: int
        required: true
      metric:
        description: What to track.
        type: str
        choices: [cpu, memory, alb_requests]
        default: cpu
      target_value:
        description: Target of the metric (percent, or requests per target per minute for V(alb_requests)).
        type: float
        default: 60
      resource_label:
        description:
          - For V(alb_requests), C(app/<alb name>/<id>/targetgroup/<tg name>/<id>) (the ALB and target group ARN
            suffixes).
          - Not given, it is read from the target group of the first of O(load_balancers) and the load balancer that
            forwards to it (one C(elasticloadbalancing:DescribeTargetGroups)); without O(load_balancers) it is
            required.
        type: str
      scale_in_cooldown:
        description: Seconds between scale-in steps.
        type: int
        default: 300
      scale_out_cooldown:
        description: Seconds between scale-out steps.
        type: int
        default: 60
  log_retention_days:
    description:
      - The module creates the log groups its containers write to, with this retention (days), and keeps it.
      - One of the periods CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
        1827, 2192, 2557, 2922, 3288, 3653).
    type: int
    default: 30
  delete_log_groups:
    description: With O(state=absent), also delete the service's log groups (their logs are lost).
    type: bool
    default: false
  manage_roles:
    description:
      - Create and keep the task execution role (C(<family>-execution)) and the task role (C(<family>-task)) of the
        service, with policies derived from what it references - the ECR repositories of its images, its log
        groups, its secrets - and nothing else. An ARN given in O(task.execution_role_arn) or
        O(task.task_role_arn) is used instead of the role the module would manage.
    type: bool
    default: true
  permissions_boundary:
    description:
      - ARN of an IAM managed policy set as the permissions boundary of the roles the module manages
        (O(manage_roles)), a ceiling on what their policies can grant, for example the
        C(seed-workload-boundary) policy C(playbooks/bootstrap.yml) creates.
      - Set when a role is created, and corrected (C(iam:PutRolePermissionsBoundary)) when an existing role has
        another one. Not set - the boundary is not managed (a boundary already on a role is left alone).
      - Checked to be a policy ARN before any API call, and to exist (one C(iam:GetPolicy)) only when a role is
        created or written.
    type: str
  task_role_statements:
    description: IAM policy statements the containers need (the task role's policy), for example S3 access.
    type: list
    elements: dict
    default: []
  kms_keys:
    description:
      - ARNs of KMS keys the derived execution role may decrypt with, for secrets whose key the module cannot
        find itself (SSM C(SecureString) parameters).
      - The customer managed keys of the Secrets Manager secrets in O(task.containers[].secrets) and
        O(task.containers[].repository_credentials) need not be listed - the module reads each secret's key
        (C(secretsmanager:DescribeSecret), C(kms:DescribeKey) for an alias) on every run and lets the execution
        role decrypt with it only through Secrets Manager of the secret's region (C(kms:ViaService)). A key ID or
        alias is the secret's account's. An alias of another account's key the caller may not look up needs that
        key's ARN here.
    type: list
    elements: str
    default: []
  s3_prefixes:
    description:
      - S3 locations the containers read and write, as C(bucket/prefix) (or C(s3://bucket/prefix)), no wildcards.
      - The task role the module manages may get, put and delete the objects under each prefix and list the
        bucket only under that prefix; nothing else in S3.
      - Checked before any API call. Not used when O(task.task_role_arn) is given or O(manage_roles=false).
    type: list
    elements: str
    default: []
  s3_kms_keys:
    description:
      - ARNs of the KMS keys that encrypt the objects under O(s3_prefixes) (SSE-KMS buckets). The task role the
        module manages may decrypt and generate data keys with them, nothing else.
      - Checked before any API call; each must exist before a role is written. Needs O(s3_prefixes).
    type: list
    elements: str
    default: []
  efs_access_points:
    description:
      - EFS access points the containers mount. Each becomes a task volume (C(efs-fsap-...)) mounted at
        O(efs_access_points[].container_path) in O(efs_access_points[].containers), over TLS and with the task role's
        IAM authorisation (the only way an access point's file system policy can tell tasks apart).
      - The task role the module manages may mount (and, unless O(efs_access_points[].read_only), write) the file
        system only through that access point; with O(task.task_role_arn) or O(manage_roles=false), that role must.
      - The tasks' security groups must reach the file system's mount targets on TCP 2049, and the platform version
        must be 1.4.0 or later (V(LATEST) is).
      - Checked before any API call; a missing access point fails before the first write.
    type: list
    elements: dict
    default: []
    suboptions:
      file_system_id:
        description: The file system ID (C(fs-...)).
        type: str
        required: true
      access_point_arn:
        description: The access point's ARN (C(arn:aws:elasticfilesystem:<region>:<account>:access-point/fsap-...)).
        type: str
        required: true
      read_only:
        description: Mount read-only (the mount point is read-only and the role gets no C(elasticfilesystem:ClientWrite)).
        type: bool
        default: false
      container_path:
        description: Absolute path the access point is mounted at in the containers.
        type: str
        required: true
      containers:
        description: Names of the containers (in O(task.containers)) that mount it. Every container when not given.
        type: list
        elements: str
  wait:
    description:
      - Whether to wait for the rollout to complete after a change.
      - With V(false) the module returns once the deployment has started (RV(rollout=started)); to deploy several
        services and wait for them together, pass V(false) here and then give their names to
        M(seed.aws_migration.ecs_service_info) with O(seed.aws_migration.ecs_service_info#module:wait=true).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the rollout (or for the deletion).
      - Also the longest wait for a service deleted earlier and still draining its tasks (status C(DRAINING)).
        ECS neither updates it nor creates another of its name until it is gone, so O(state=present) waits for that
        first (check mode predicts the service created anew), and O(state=absent) only waits, without a second
        delete.
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
"""

EXAMPLES = r"""
- name: The backend, behind the ALB, autoscaled on CPU
  seed.aws_migration.ecs_service:
    cluster: production
    name: backend
    task:
      cpu: 512
      memory: 1024
      execution_role_arn: "{{ roles.backend.execution_role_arn }}"
      task_role_arn: "{{ roles.backend.task_role_arn }}"
      log_group: /seed/production/backend
      containers:
        - name: backend
          image: "{{ images.backend.pinned }}"
          ports: [8000]
          environment:
            APP_GREETING: hello
          secrets:
            DATABASE_PASSWORD: "{{ db_secret_arn }}:password::"
          health_check:
            command: ["CMD", "python3", "/app/healthcheck.py"]
    subnets: "{{ network.subnet_ids.private }}"
    security_groups: ["{{ network.security_groups.app }}"]
    load_balancers:
      - target_group_arn: "{{ alb.target_groups.backend }}"
        container_name: backend
        container_port: 8000
    capacity_provider_strategy:
      - {capacity_provider: FARGATE, weight: 1, base: 1}
      - {capacity_provider: FARGATE_SPOT, weight: 3}
    deployment:
      alarms: [production-backend-5xx]   # an existing CloudWatch alarm: in ALARM during a deploy -> rollback
    autoscaling:
      min_capacity: 2
      max_capacity: 10
      metric: cpu
      target_value: 60
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["register task definition production-backend (changed: containers.backend.image)",
           "update service backend: taskDefinition"]
service:
  description: The service after the run (before it, in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    arn:
      description: Service ARN.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:service/production/backend
    name:
      description: Service name.
      type: str
      sample: backend
    cluster_arn:
      description: Cluster ARN.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:cluster/production
    status:
      description: C(ACTIVE), or C(DRAINING) for a service deleted and still stopping its tasks.
      type: str
      sample: ACTIVE
    task_definition:
      description: ARN of the task definition in use.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:task-definition/production-backend:7
    desired_count:
      description: Desired count.
      type: int
      sample: 2
    running_count:
      description: Running tasks.
      type: int
      sample: 2
    rollout_state:
      description: Rollout state of the primary deployment.
      type: str
      sample: COMPLETED
    deployment_alarms:
      description: The CloudWatch alarms that fail its deployments (empty when deployment alarms are off).
      type: list
      elements: str
      sample: ["production-backend-5xx"]
    events:
      description: The latest service events (newest first).
      type: list
      elements: str
      sample: ["(service backend) has reached a steady state."]
    tags:
      description: The service's tags (with the identity tags C(seed:managed-by) and C(seed:component)).
      type: dict
      sample: {"seed:managed-by": "seed.aws_migration", "seed:component": "ecs-service", "team": "web"}
created:
  description:
    - Whether the run created the service (in check mode, whether a real run would). C(playbooks/services.yml) counts
      the services of C(seed_apps) that existed before the run this way, to tell whether the cluster holds others.
  returned: when state is present
  type: bool
  sample: false
rollout:
  description:
    - V(none) when the run started no deployment.
    - V(completed) when it started one and waited for it (O(wait=true)).
    - V(started) when it started one and did not wait (O(wait=false)), or in check mode when a real run would start
      one.
  returned: always
  type: str
  sample: completed
deployment_id:
  description:
    - The ECS deployment the run started (when RV(rollout) is not V(none) and not in check mode). Pass it to
      M(seed.aws_migration.ecs_service_info)'s O(seed.aws_migration.ecs_service_info#module:deployments) when waiting
      later, so that a deployment the circuit breaker rolls back counts as a failure, not as the rollback completing.
  returned: when the run started a deployment
  type: str
  sample: ecs-svc/1234567890123456789
task_definition:
  description: The task definition in use (C(arn), C(family), C(revision)).
  returned: when state is present
  type: dict
  sample: {"arn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/production-backend:7",
           "family": "production-backend", "revision": 7}
"""

import copy
import hashlib

from ansible_collections.seed.aws_migration.plugins.module_utils import ecs
from ansible_collections.seed.aws_migration.plugins.module_utils import elbv2
from ansible_collections.seed.aws_migration.plugins.module_utils import iam
from ansible_collections.seed.aws_migration.plugins.module_utils import iam_roles
from ansible_collections.seed.aws_migration.plugins.module_utils import logs
from ansible_collections.seed.aws_migration.plugins.module_utils import references
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import build_diff
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import changed_paths
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import canonical
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import efs_mounts
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import render
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import validate_ecs_name
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import validate_efs_mounts
from ansible_collections.seed.aws_migration.plugins.module_utils.ecs_taskdef import validate_task
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_until_gone

# Marks a service whose autoscaling this module set up (see present()).
TAG_AUTOSCALING = "seed:autoscaling"

METRICS = {"cpu": "ECSServiceAverageCPUUtilization", "memory": "ECSServiceAverageMemoryUtilization",
           "alb_requests": "ALBRequestCountPerTarget"}
NEW_TASK_DEFINITION = "(new task definition)"


def _ecs_tags(tags):
    return {t["key"]: t["value"] for t in tags or []}


def _version_tuple(version):
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        raise ValidationError("platform_version", f"{version!r} is not LATEST or a version like 1.4.0") from None


def validate(params):
    """Everything that can be checked without AWS; raises ValidationError naming the field."""
    validate_ecs_name("name", params["name"], "ECS service name")
    if params.get("family"):
        validate_ecs_name("family", params["family"], "task definition family")
    elif not params["cluster"].startswith("arn:"):
        validate_ecs_name("cluster", params["cluster"], "cluster name (it also names the task definition family "
                                                        "<cluster>-<name>)")
    if params["state"] == "absent":
        return
    task = params.get("task")
    if not task:
        raise ValidationError("task", "is required when state=present")
    validate_task(task)
    days = params.get("log_retention_days")
    if days is not None and days not in logs.RETENTION_DAYS:
        raise ValidationError("log_retention_days", f"{days} is not a retention CloudWatch Logs accepts "
                                                    f"({', '.join(map(str, logs.RETENTION_DAYS))})")
    iam_roles.validate_kms_keys(params.get("s3_kms_keys") or [], "s3_kms_keys")
    if params.get("s3_kms_keys") and not params.get("s3_prefixes"):
        raise ValidationError("s3_kms_keys", "encrypt objects under s3_prefixes: give those too")
    iam_roles.validate_references(task["containers"], params.get("kms_keys") or [], params.get("s3_prefixes") or [],
                                  params.get("efs_access_points") or [])
    validate_efs_mounts(params.get("efs_access_points") or [], task["containers"])
    if params.get("efs_access_points") and not task.get("task_role_arn") and params.get("manage_roles") is False:
        raise ValidationError("efs_access_points", "are mounted with the task role's IAM authorisation: give "
                                                   "task.task_role_arn, or let the module derive the role "
                                                   "(manage_roles=true)")
    version = params.get("platform_version") or "LATEST"
    if params.get("efs_access_points") and version != "LATEST" and _version_tuple(version) < (1, 4):
        raise ValidationError("platform_version", f"{version} cannot mount EFS volumes (Fargate 1.4.0 or later can)")
    iam_roles.validate_boundary(params.get("permissions_boundary"))
    if not params.get("subnets"):
        raise ValidationError("subnets", "is required when state=present (the private subnets of the tasks)")
    ports = {c["name"]: c.get("ports") or [] for c in task["containers"]}
    for index, lb in enumerate(params["load_balancers"]):
        where = f"load_balancers[{index}]"
        if lb["container_name"] not in ports:
            raise ValidationError(f"{where}.container_name", f"no container named {lb['container_name']!r}")
        if lb["container_port"] not in ports[lb["container_name"]]:
            raise ValidationError(f"{where}.container_port", f"container {lb['container_name']} does not listen on "
                                                             f"{lb['container_port']} (its ports: "
                                                             f"{ports[lb['container_name']]})")
    if not params["capacity_provider_strategy"]:
        raise ValidationError("capacity_provider_strategy", "needs at least one capacity provider")
    spot = any(entry.get("capacity_provider") == "FARGATE_SPOT" for entry in params["capacity_provider_strategy"])
    if task.get("cpu_architecture") == "ARM64" and spot:
        raise ValidationError("capacity_provider_strategy", "FARGATE_SPOT runs X86_64 tasks only; with "
                                                            "task.cpu_architecture=ARM64 use FARGATE alone")
    deployment = params["deployment"]
    if not 0 <= deployment["minimum_healthy_percent"] <= 100:
        raise ValidationError("deployment.minimum_healthy_percent", "must be 0-100")
    if deployment["maximum_percent"] < 100:
        raise ValidationError("deployment.maximum_percent", "must be at least 100")
    alarms = deployment["alarms"]
    if any(not name or not name.strip() or len(name) > 255 for name in alarms):
        raise ValidationError("deployment.alarms", "alarm names must be 1-255 characters, not blank")
    if len(set(alarms)) != len(alarms):
        raise ValidationError("deployment.alarms", f"names an alarm twice: "
                                                   f"{', '.join(sorted({a for a in alarms if alarms.count(a) > 1}))}")
    scaling = params.get("autoscaling")
    if scaling:
        if not 0 <= scaling["min_capacity"] <= scaling["max_capacity"]:
            raise ValidationError("autoscaling.max_capacity", "must be at least min_capacity (and min_capacity >= 0)")
        if scaling["metric"] == "alb_requests" and not scaling.get("resource_label") and not params["load_balancers"]:
            raise ValidationError("autoscaling.resource_label", "is required for metric alb_requests when the service "
                                                                "has no load_balancers to read it from")
        if scaling["target_value"] <= 0:
            raise ValidationError("autoscaling.target_value", "must be positive")


class ServiceManager:
    """Converges one service; every write goes through ``_do`` (skipped in check mode, same actions)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        validate(self.params)  # before any client exists
        for index, mount in enumerate(self.params.get("efs_access_points") or []):
            region = mount["access_point_arn"].split(":")[3]
            if self.params["state"] == "present" and region != module.region:
                raise ValidationError(f"efs_access_points[{index}].access_point_arn",
                                      f"is in {region}; tasks in {module.region} mount file systems of their region")
        self.ecs = module.seed_client("ecs")
        self.actions = []
        self.rollout = "none"
        self.deployment_id = None
        self.created = False
        self.cluster = self.params["cluster"]
        self.name = self.params["name"]
        self.family = self.params["family"] or f"{self.cluster.split('/')[-1]}-{self.name}"
        self.resource_id = f"service/{self.cluster.split('/')[-1]}/{self.name}"

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        if self.check_mode:
            return None
        return call(*args, **kwargs)

    def _scaling(self):
        if not hasattr(self, "_scaling_client"):
            self._scaling_client = self.module.seed_client("application-autoscaling")
        return self._scaling_client

    def _tags(self):
        tags = dict(self.params.get("tags") or {})
        tags.update({TAG_MANAGED_BY: "seed.aws_migration", TAG_COMPONENT: "ecs-service"})
        if self.params.get("autoscaling"):
            tags[TAG_AUTOSCALING] = "true"
        return tags

    # -- the managed view -----------------------------------------------------------------------
    def _service_view(self, service):
        """The managed fields of a described service, or of the desired one (same shape)."""
        network = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        deployment = service.get("deploymentConfiguration") or {}
        breaker = deployment.get("deploymentCircuitBreaker") or {}
        alarms = deployment.get("alarms") or {}
        view = {
            "network": {"subnets": sorted(network.get("subnets") or []),
                        "security_groups": sorted(network.get("securityGroups") or []),
                        "assign_public_ip": network.get("assignPublicIp", "DISABLED") == "ENABLED"},
            "load_balancers": sorted(f"{lb.get('targetGroupArn')} -> {lb.get('containerName')}:"
                                     f"{lb.get('containerPort')}" for lb in service.get("loadBalancers") or []),
            "capacity_provider_strategy": ecs.strategy_view(service.get("capacityProviderStrategy")),
            "deployment": {"minimum_healthy_percent": deployment.get("minimumHealthyPercent"),
                           "maximum_percent": deployment.get("maximumPercent"),
                           "circuit_breaker": bool(breaker.get("enable")), "rollback": bool(breaker.get("rollback")),
                           # Off (not enabled) whatever names are kept; on, with its own rollback flag.
                           "alarms": ({"names": sorted(alarms.get("alarmNames") or []),
                                       "rollback": bool(alarms.get("rollback"))} if alarms.get("enable") else None)},
            "platform_version": service.get("platformVersion"),
            "enable_execute_command": bool(service.get("enableExecuteCommand")),
            "propagate_tags": service.get("propagateTags") or "NONE",
        }
        if service.get("loadBalancers") or self._graced():
            view["health_check_grace_period"] = service.get("healthCheckGracePeriodSeconds") or 0
        return view

    def _graced(self):
        """Whether the grace period applies: ECS ignores load balancer AND container health checks during it
        (and a service with neither does not use it)."""
        containers = (self.params.get("task") or {}).get("containers") or []
        return bool(self.params.get("load_balancers")) or any(c.get("health_check") for c in containers)

    def _desired_service(self, task_definition_arn):
        p = self.params
        deployment = p["deployment"]
        service = {
            "serviceName": self.name,
            "cluster": self.cluster,
            "taskDefinition": task_definition_arn,
            "desiredCount": p["desired_count"],
            "capacityProviderStrategy": ecs.strategy_to_api(p["capacity_provider_strategy"]),
            "platformVersion": p["platform_version"],
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": list(p["subnets"]), "securityGroups": list(p["security_groups"]),
                "assignPublicIp": "ENABLED" if p["assign_public_ip"] else "DISABLED"}},
            "loadBalancers": [{"targetGroupArn": lb["target_group_arn"], "containerName": lb["container_name"],
                               "containerPort": lb["container_port"]} for lb in p["load_balancers"]],
            "deploymentConfiguration": {
                "minimumHealthyPercent": deployment["minimum_healthy_percent"],
                "maximumPercent": deployment["maximum_percent"],
                "deploymentCircuitBreaker": {"enable": deployment["circuit_breaker"],
                                             "rollback": deployment["rollback"]}},
            "enableExecuteCommand": p["enable_execute_command"],
            "propagateTags": p["propagate_tags"],
            "schedulingStrategy": "REPLICA",
            "deploymentController": {"type": "ECS"},
        }
        if deployment["alarms"]:
            service["deploymentConfiguration"]["alarms"] = {"alarmNames": list(deployment["alarms"]), "enable": True,
                                                            "rollback": deployment["rollback"]}
        if self._graced():
            service["healthCheckGracePeriodSeconds"] = p["health_check_grace_period"]
        return service

    def _scaling_view(self, target, policies):
        if not target:
            return None
        view = {"min_capacity": target["MinCapacity"], "max_capacity": target["MaxCapacity"], "policies": {}}
        for policy in policies:
            config = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
            metric = config.get("PredefinedMetricSpecification") or {}
            view["policies"][policy["PolicyName"]] = {
                "metric": metric.get("PredefinedMetricType"), "resource_label": metric.get("ResourceLabel"),
                "target_value": float(config.get("TargetValue", 0)),
                "scale_in_cooldown": config.get("ScaleInCooldown"), "scale_out_cooldown": config.get("ScaleOutCooldown")}
        return view

    def _resource_label(self, scaling):
        """``app/<alb>/<id>/targetgroup/<tg>/<id>`` of the first load balancer mapping, unless given."""
        if scaling.get("resource_label"):
            return scaling["resource_label"]
        arn = self.params["load_balancers"][0]["target_group_arn"]
        group = elbv2.describe_target_group_by_arn(self.module.seed_client("elbv2"), arn)
        if not group:
            raise ValidationError("autoscaling.resource_label", f"target group {arn} (load_balancers[0]) does not "
                                                                "exist, so the ALB request metric cannot be named")
        if not group.get("LoadBalancerArns"):
            raise ValidationError("autoscaling.resource_label", f"target group {group['TargetGroupName']} receives "
                                                                "from no load balancer (no listener forwards to it), "
                                                                "so there are no ALB requests per target to track")
        return group["LoadBalancerArns"][0].split(":loadbalancer/", 1)[1] + "/" + arn.split(":", 5)[5]

    def _desired_scaling(self):
        scaling = self.params.get("autoscaling")
        if not scaling:
            return None
        return {"min_capacity": scaling["min_capacity"], "max_capacity": scaling["max_capacity"], "policies": {
            f"{self.name}-{scaling['metric']}": {
                "metric": METRICS[scaling["metric"]],
                "resource_label": self._resource_label(scaling) if scaling["metric"] == "alb_requests" else None,
                "target_value": float(scaling["target_value"]),
                "scale_in_cooldown": scaling["scale_in_cooldown"], "scale_out_cooldown": scaling["scale_out_cooldown"]}}}

    # -- present --------------------------------------------------------------------------------
    def present(self):
        # Before any write (and before waiting out a draining service): autoscaling on ALB requests may need
        # a read to name its metric, and may fail; deployment alarms must exist.
        wanted_scaling = self._desired_scaling()
        self._check_alarms()
        service = service_before = self._settled_service()
        self.created = not service_before
        current_td = ecs.describe_task_definition(self.ecs, service["taskDefinition"]) if service else None
        self._check_volumes(current_td)
        task = self._ensure_roles(dict(self.params["task"]), service)
        self._ensure_log_groups(task)
        desired_td = render(self.family, task, self.module.region, task.get("log_group"),
                            self.params["efs_access_points"])
        td_arn, td_changes = self._ensure_task_definition(desired_td, current_td)

        desired_service = self._desired_service(td_arn)
        current_alarms = ((service or {}).get("deploymentConfiguration") or {}).get("alarms") or {}
        if current_alarms.get("enable") and not self.params["deployment"]["alarms"]:
            # Turned off explicitly (the names stay, as AWS requires some): an update without them keeps them on.
            desired_service["deploymentConfiguration"]["alarms"] = dict(current_alarms, enable=False, rollback=False)
        before_service = self._service_view(service) if service else None
        after_service = self._service_view(desired_service)
        rollout = False
        if not service:
            params = dict(desired_service, tags=[{"key": k, "value": v} for k, v in self._tags().items()])
            service = self._do(f"create service {self.name} ({self.params['desired_count']} tasks)",
                               ecs.create_service, self.ecs, params)
            if service:
                service = dict(service, tags=params["tags"])
            rollout = True
        else:
            changes = self._service_changes(service, desired_service, before_service, after_service)
            if changes:
                fields = ", ".join(sorted(changes))
                updated = self._do(f"update service {self.name}: {fields}", ecs.update_service, self.ecs, self.cluster,
                                   self.name, changes)
                service = updated or service
                # The grace period alone starts no deployment (ECS: "doesn't trigger a new service deployment")
                rollout = set(changes) != {"healthCheckGracePeriodSeconds"}
            # Tags as DescribeServices gave them (include=TAGS): UpdateService's answer carries none.
            tags = self._ensure_tags(service_before)
            service = dict(service, tags=tags)

        # Application Auto Scaling is only read when autoscaling is wanted, or was set up by this module
        # (its marker tag, read with the service): a service that never had it costs no extra request.
        had_scaling = not service_before or TAG_AUTOSCALING in _ecs_tags(service_before.get("tags"))
        before_scaling, after_scaling = (self._ensure_autoscaling(wanted_scaling)
                                         if wanted_scaling is not None or had_scaling else (None, None))
        if service_before and wanted_scaling is None and TAG_AUTOSCALING in _ecs_tags(service_before.get("tags")):
            # The marker goes only once its autoscaling is gone: a teardown that fails leaves it, so the next
            # run reads Application Auto Scaling again instead of leaving its policies scaling the service.
            self._do(f"remove tags {TAG_AUTOSCALING} from service {self.name}", ecs.untag_resource, self.ecs,
                     service_before["serviceArn"], [TAG_AUTOSCALING])
            service = dict(service, tags=[t for t in service.get("tags") or [] if t.get("key") != TAG_AUTOSCALING])
        if rollout and not self.check_mode:
            self.deployment_id = ecs.started_deployment(service)
        if rollout and self.params["wait"] and not self.check_mode:
            service = self._wait_for_rollout()
            self.rollout = "completed"
        elif rollout:
            self.rollout = "started"
        before = {"task_definition": canonical(current_td) if current_td else None, "service": before_service,
                  "autoscaling": before_scaling}
        after = {"task_definition": canonical(desired_td), "service": after_service, "autoscaling": after_scaling}
        roles_diff = getattr(self, "_roles_diff", None)
        if roles_diff:
            before["roles"], after["roles"] = roles_diff
        return before, after, service, td_changes

    def _check_alarms(self):
        names = self.params["deployment"]["alarms"]
        if not names:
            return
        missing = sorted(set(names) - set(ecs.existing_alarm_names(self.module.seed_client("cloudwatch"), names)))
        if missing:
            raise ValidationError("deployment.alarms", f"no CloudWatch alarm named {', '.join(missing)} in "
                                                       f"{self.module.region}; nothing was changed")

    def _logs(self):
        if not hasattr(self, "_logs_client"):
            self._logs_client = self.module.seed_client("logs")
        return self._logs_client

    @staticmethod
    def _log_groups(task):
        return sorted({c.get("log_group") or task.get("log_group") for c in task["containers"]} - {None})

    def _ensure_log_groups(self, task):
        days = self.params["log_retention_days"]
        for group in self._log_groups(task):
            found = logs.describe_log_group(self._logs(), group)
            if not found:
                self._do(f"create log group {group}", logs.create_log_group, self._logs(), group,
                         dict(self.params.get("tags") or {}, **{TAG_MANAGED_BY: "seed.aws_migration"}))
            if not found or found[0].get("retentionInDays") != days:
                self._do(f"set log group {group} retention to {days} days", logs.put_retention_policy, self._logs(),
                         group, days)

    def _role_name(self, kind):
        name = f"{self.family}-{kind}"
        if len(name) > 64:
            name = name[:55] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
        return name

    def _iam(self):
        if not hasattr(self, "_iam_client"):
            self._iam_client = self.module.seed_client("iam")
        return self._iam_client

    def _ensure_roles(self, task, service):
        """Converge the derived roles the task does not name itself; returns the task with their ARNs."""
        if not self.params["manage_roles"] or (task.get("execution_role_arn") and task.get("task_role_arn")):
            return task
        region = self.module.region
        # The account is in the service's ARN once it exists; only a new service asks STS.
        account = service["serviceArn"].split(":")[4] if service else iam.caller_account(
            self.module.seed_client("sts"))
        trust = iam_roles.ecs_tasks_trust(region, account)
        tags = dict(self.params.get("tags") or {}, **{TAG_MANAGED_BY: "seed.aws_migration",
                                                      "seed:service": f"{self.cluster.split('/')[-1]}/{self.name}"})
        roles = []  # (arn key, name, policy, component, description)
        if not task.get("execution_role_arn"):
            roles.append(("execution_role_arn", self._role_name("execution"),
                          iam_roles.execution_policy(task["containers"], region, account, task.get("log_group"),
                                                     self.params["kms_keys"], self._secret_keys(task)),
                          "ecs-execution-role", f"ECS task execution role of {self.name} (seed.aws_migration)"))
        if not task.get("task_role_arn"):
            roles.append(("task_role_arn", self._role_name("task"),
                          iam_roles.task_policy(self.params["task_role_statements"],
                                                self.params["enable_execute_command"],
                                                s3_prefixes=self.params["s3_prefixes"],
                                                efs_access_points=self.params["efs_access_points"],
                                                kms_keys=self.params["s3_kms_keys"],
                                                partition=iam_roles.partition_of(region)),
                          "ecs-task-role", f"ECS task role of {self.name} (seed.aws_migration)"))
        boundary = self.params.get("permissions_boundary")
        observed = {name: iam_roles.observe_role(self._iam(), name) for _key, name, *_rest in roles}
        if any(iam_roles.role_needs_policy_write(observed[name], policy, boundary)
               for _key, name, policy, *_r in roles):
            self._check_references(task)  # before the first write: a missing reference creates nothing
        if boundary:  # the diff shows the boundary of each derived role (None: no role, or none yet)
            self._roles_diff = ({name: {"permissions_boundary": iam_roles.boundary_of(observed[name][0])}
                                 for _key, name, *_r in roles},
                                {name: {"permissions_boundary": boundary} for _key, name, *_r in roles})
        for key, name, policy, component, description in roles:
            iam_roles.ensure_role(self._iam(), self._do, name, trust, policy,
                                  dict(tags, **{TAG_COMPONENT: component}), description, observed=observed[name],
                                  boundary=boundary)
            task[key] = iam_roles.role_arn(region, account, name)
        return task

    def _secret_keys(self, task):
        """The customer managed keys of the Secrets Manager secrets the containers read (a DescribeSecret
        each, every run: a secret moved to another key changes the execution role's policy)."""
        arns = iam_roles.secrets_manager_arns(task["containers"])
        if not arns:
            return []
        try:
            keys, found = references.secret_kms_keys(self.module.seed_client, arns, self.params["kms_keys"])
        except references.KeyLookupError as e:
            raise ValidationError("task", f"{e.args[0]}; no role or policy was written") from None
        # found: no second read of these by the reference check
        self.__dict__.setdefault("_checked_references", set()).update(("secret", arn) for arn in found)
        return keys

    def _check_volumes(self, current_td):
        """Before any write: the access points of EFS volumes the task definition does not have yet must exist,
        each in its file system (a volume on a missing one would only fail when a task starts)."""
        mounts = self.params["efs_access_points"]
        if not mounts:
            return
        volumes = canonical({"volumes": efs_mounts(mounts, self.params["task"]["containers"])[0]}).get("volumes")
        if not current_td or canonical(current_td).get("volumes") != volumes:
            self._check_references(self.params["task"], kinds=("access point",))

    def _check_references(self, task, kinds=None):
        """Fail, naming them, when resources the derived policies point at do not exist (reads only, once each)."""
        refs = references.task_references(task["containers"], self.params["kms_keys"] + self.params["s3_kms_keys"],
                                          self.params["s3_prefixes"], self.params["efs_access_points"])
        checked = self.__dict__.setdefault("_checked_references", set())
        refs = [ref for ref in refs if ref not in checked and (kinds is None or ref[0] in kinds)]
        checked.update(refs)
        missing = iam_roles.missing_references(refs, references.ReferenceChecker(self.module.seed_client))
        if missing:
            raise ValidationError("task" if kinds is None else "efs_access_points",
                                  "the service references what does not exist, so "
                                  f"{'no role or policy' if kinds is None else 'nothing'} was written: "
                                  + "; ".join(missing))
        boundary = self.params.get("permissions_boundary")
        if kinds is None and boundary and not iam_roles.policy_exists(self._iam(), boundary):
            raise ValidationError("permissions_boundary", f"policy {boundary} does not exist, so no role or policy "
                                                          "was written (playbooks/bootstrap.yml creates it)")

    def _ensure_task_definition(self, desired, current):
        """ARN of the task definition to run: the current one, the family's latest if it matches, or a new one."""
        want = canonical(desired)
        if current and not changed_paths(canonical(current), want):
            return current["taskDefinitionArn"], []
        latest = ecs.describe_task_definition(self.ecs, self.family)
        if latest and latest.get("status") == "ACTIVE" and not changed_paths(canonical(latest), want):
            return latest["taskDefinitionArn"], []  # registered by an earlier run that did not finish
        base = current or latest
        fields = changed_paths(canonical(base), want) if base else []
        summary = f" (changed: {', '.join(fields)})" if fields else ""
        tags = [{"key": k, "value": v} for k, v in self._tags().items()]
        registered = self._do(f"register task definition {self.family}{summary}", ecs.register_task_definition,
                              self.ecs, desired, tags)
        return (registered["taskDefinitionArn"] if registered else NEW_TASK_DEFINITION), fields

    def _service_changes(self, service, desired, before, after):
        changes = {}
        if service.get("taskDefinition") != desired["taskDefinition"]:
            changes["taskDefinition"] = desired["taskDefinition"]
        mapping = {"network": "networkConfiguration", "load_balancers": "loadBalancers",
                   "capacity_provider_strategy": "capacityProviderStrategy", "deployment": "deploymentConfiguration",
                   "platform_version": "platformVersion", "enable_execute_command": "enableExecuteCommand",
                   "propagate_tags": "propagateTags", "health_check_grace_period": "healthCheckGracePeriodSeconds"}
        for key, api_key in mapping.items():
            if before.get(key) != after.get(key) and api_key in desired:
                changes[api_key] = desired[api_key]
        if "capacityProviderStrategy" in changes or ("enableExecuteCommand" in changes and
                                                     "taskDefinition" not in changes):
            # ECS requires it when the strategy changes; ECS Exec reaches only tasks started after the change.
            changes["forceNewDeployment"] = True
        return changes

    def _ensure_tags(self, service):
        """Bring the service's tags to the wanted ones; returns them as ECS lists them (key/value pairs)."""
        current = _ecs_tags(service.get("tags"))
        to_set, to_unset = tag_delta(current, self._tags(), self.params["purge_tags"])
        # The autoscaling marker (seed:*, never purged here) is removed by present() once autoscaling is gone.
        if to_set:
            self._do(f"set tags {', '.join(sorted(to_set))} on service {self.name}", ecs.tag_resource, self.ecs,
                     service["serviceArn"], to_set)
        if to_unset:
            self._do(f"remove tags {', '.join(sorted(to_unset))} from service {self.name}", ecs.untag_resource,
                     self.ecs, service["serviceArn"], to_unset)
        final = {k: v for k, v in dict(current, **to_set).items() if k not in to_unset}
        return [{"key": k, "value": v} for k, v in sorted(final.items())]

    def _ensure_autoscaling(self, wanted):
        target = ecs.describe_scalable_target(self._scaling(), self.resource_id)
        policies = ecs.describe_scaling_policies(self._scaling(), self.resource_id) if target else []
        current = self._scaling_view(target, policies)
        if wanted is None:
            if current:
                for name in sorted(current["policies"]):
                    self._do(f"delete scaling policy {name}", ecs.delete_scaling_policy, self._scaling(),
                             self.resource_id, name)
                self._do(f"deregister scalable target {self.resource_id}", ecs.deregister_scalable_target,
                         self._scaling(), self.resource_id)
            return current, None
        if not current or (current["min_capacity"], current["max_capacity"]) != (wanted["min_capacity"],
                                                                                 wanted["max_capacity"]):
            self._do(f"register scalable target {self.resource_id} {wanted['min_capacity']}-{wanted['max_capacity']} "
                     "tasks", ecs.register_scalable_target, self._scaling(), self.resource_id,
                     wanted["min_capacity"], wanted["max_capacity"])
        have = (current or {}).get("policies", {})
        for name, policy in wanted["policies"].items():
            if have.get(name) != policy:
                configuration = {"TargetValue": policy["target_value"], "ScaleInCooldown": policy["scale_in_cooldown"],
                                 "ScaleOutCooldown": policy["scale_out_cooldown"],
                                 "PredefinedMetricSpecification": {"PredefinedMetricType": policy["metric"]}}
                if policy["resource_label"]:
                    configuration["PredefinedMetricSpecification"]["ResourceLabel"] = policy["resource_label"]
                self._do(f"put scaling policy {name} ({policy['metric']} {policy['target_value']:g})",
                         ecs.put_scaling_policy, self._scaling(), self.resource_id, name, configuration)
        for name in sorted(set(have) - set(wanted["policies"])):
            self._do(f"delete scaling policy {name}", ecs.delete_scaling_policy, self._scaling(), self.resource_id,
                     name)
        return current, wanted

    def _wait_for_rollout(self):
        return ecs.wait_for_rollouts(self.ecs, self.cluster, [self.name], self.params["wait_timeout"],
                                     deployments={self.name: self.deployment_id})[self.name]

    # -- absent ---------------------------------------------------------------------------------
    def _wait_until_deleted(self, what):
        wait_until_gone(lambda: [s for s in [ecs.describe_service(self.ecs, self.cluster, self.name)] if s],
                        "serviceName", ("inactive",), what, self.params["wait_timeout"], state_key="status")

    def _settled_service(self):
        """The service, or None when there is none - also when it is being deleted (DRAINING until ECS has
        stopped its tasks): ECS neither updates it nor creates another under its name until it is INACTIVE,
        so that is waited for first (up to wait_timeout; check mode predicts the service created anew)."""
        service = ecs.describe_service(self.ecs, self.cluster, self.name)
        if service and service.get("status") == "DRAINING":
            if not self.check_mode:
                self._wait_until_deleted(f"service {self.name}, deleted earlier and still draining its tasks, to be "
                                         "gone before it is created again")
            return None
        return service

    def absent(self):
        service = ecs.describe_service(self.ecs, self.cluster, self.name)
        before_scaling, _after = self._ensure_autoscaling(None)
        draining = bool(service) and service.get("status") == "DRAINING"
        if service and not draining:
            self._do(f"delete service {self.name}", ecs.delete_service, self.ecs, self.cluster, self.name)
        # Deleted earlier (a run whose wait timed out): a second delete would change nothing, only the wait is left.
        if service and self.params["wait"] and not self.check_mode:
            self._wait_until_deleted(f"service {self.name} to be deleted")
        for arn in ecs.list_task_definitions(self.ecs, self.family):
            if arn.split("/")[-1].rsplit(":", 1)[0] == self.family:
                self._do(f"deregister task definition {arn.split('/')[-1]}", ecs.deregister_task_definition, self.ecs,
                         arn)
        if self.params["delete_log_groups"] and self.params.get("task"):
            for group in self._log_groups(self.params["task"]):
                if logs.describe_log_group(self._logs(), group):
                    self._do(f"delete log group {group}", logs.delete_log_group, self._logs(), group)
        if self.params["manage_roles"]:
            for kind in ("execution", "task"):
                iam_roles.delete_role(self._iam(), self._do, self._role_name(kind))
        if service and not draining:
            before = {"service": self._service_view(service), "autoscaling": before_scaling}
        else:  # a draining service: nothing this run changes about it
            before = {"autoscaling": before_scaling} if before_scaling else {}
        return before, {}, {}, []


def main():
    container_spec = dict(
        name=dict(type="str", required=True),
        image=dict(type="str", required=True),
        essential=dict(type="bool", default=True),
        ports=dict(type="list", elements="int"),
        environment=dict(type="dict"),
        plaintext_allowed=dict(type="list", elements="str", default=[]),
        secrets=dict(type="dict", no_log=False),
        repository_credentials=dict(type="str", no_log=False),
        command=dict(type="list", elements="str"),
        entrypoint=dict(type="list", elements="str"),
        user=dict(type="str"),
        working_directory=dict(type="str"),
        cpu=dict(type="int"),
        memory=dict(type="int"),
        memory_reservation=dict(type="int"),
        readonly_root_filesystem=dict(type="bool"),
        init_process=dict(type="bool"),
        stop_timeout=dict(type="int"),
        depends_on=dict(type="list", elements="dict", options=dict(
            container=dict(type="str", required=True),
            condition=dict(type="str", default="START", choices=["START", "COMPLETE", "SUCCESS", "HEALTHY"]))),
        health_check=dict(type="dict", options=dict(
            command=dict(type="list", elements="str", required=True),
            interval=dict(type="int", default=30),
            timeout=dict(type="int", default=5),
            retries=dict(type="int", default=3),
            start_period=dict(type="int"))),
        log_group=dict(type="str"),
        log_stream_prefix=dict(type="str"),
    )
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        family=dict(type="str"),
        task=dict(type="dict", options=dict(
            cpu=dict(type="int", default=256),
            memory=dict(type="int", default=512),
            cpu_architecture=dict(type="str", default="X86_64", choices=["X86_64", "ARM64"]),
            execution_role_arn=dict(type="str"),
            task_role_arn=dict(type="str"),
            ephemeral_storage_gib=dict(type="int"),
            log_group=dict(type="str"),
            containers=dict(type="list", elements="dict", required=True, options=container_spec),
        )),
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str", default=[]),
        assign_public_ip=dict(type="bool", default=False),
        load_balancers=dict(type="list", elements="dict", default=[], options=dict(
            target_group_arn=dict(type="str", required=True),
            container_name=dict(type="str", required=True),
            container_port=dict(type="int", required=True),
        )),
        desired_count=dict(type="int", default=1),
        capacity_provider_strategy=copy.deepcopy(ecs.STRATEGY_SPEC),
        platform_version=dict(type="str", default="LATEST"),
        deployment=dict(type="dict", default={}, options=dict(
            minimum_healthy_percent=dict(type="int", default=100),
            maximum_percent=dict(type="int", default=200),
            circuit_breaker=dict(type="bool", default=True),
            rollback=dict(type="bool", default=True),
            alarms=dict(type="list", elements="str", default=[]),
        )),
        health_check_grace_period=dict(type="int", default=60),
        enable_execute_command=dict(type="bool", default=False),
        propagate_tags=dict(type="str", default="SERVICE", choices=["SERVICE", "TASK_DEFINITION", "NONE"]),
        autoscaling=dict(type="dict", options=dict(
            min_capacity=dict(type="int", required=True),
            max_capacity=dict(type="int", required=True),
            metric=dict(type="str", default="cpu", choices=["cpu", "memory", "alb_requests"]),
            target_value=dict(type="float", default=60),
            resource_label=dict(type="str"),
            scale_in_cooldown=dict(type="int", default=300),
            scale_out_cooldown=dict(type="int", default=60),
        )),
        log_retention_days=dict(type="int", default=30),
        delete_log_groups=dict(type="bool", default=False),
        manage_roles=dict(type="bool", default=True),
        permissions_boundary=dict(type="str"),
        task_role_statements=dict(type="list", elements="dict", default=[]),
        kms_keys=dict(type="list", elements="str", default=[], no_log=False),
        s3_kms_keys=dict(type="list", elements="str", default=[], no_log=False),
        s3_prefixes=dict(type="list", elements="str", default=[]),
        efs_access_points=dict(type="list", elements="dict", default=[], options=dict(
            file_system_id=dict(type="str", required=True),
            access_point_arn=dict(type="str", required=True),
            read_only=dict(type="bool", default=False),
            container_path=dict(type="str", required=True),
            containers=dict(type="list", elements="str"),
        )),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        manager = ServiceManager(module)
        if module.params["state"] == "present":
            before, after, service, _fields = manager.present()
        else:
            before, after, service, _fields = manager.absent()
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    result = {"changed": bool(manager.actions), "actions": manager.actions, "service": ecs.service_facts(service),
              "rollout": manager.rollout}
    if manager.deployment_id:
        result["deployment_id"] = manager.deployment_id
    if module.params["state"] == "present":
        result["created"] = manager.created
    if module.params["state"] == "present" and service and service.get("taskDefinition"):
        arn = service["taskDefinition"]
        result["task_definition"] = {"arn": arn, "family": arn.split("/")[-1].rsplit(":", 1)[0],
                                     "revision": int(arn.rsplit(":", 1)[1]) if arn[-1].isdigit() else None}
    if module._diff:
        result["diff"] = build_diff(before, after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
