# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least-privilege IAM roles derived from what a service references, and their convergence.

The execution role of a task may pull exactly the ECR repositories of its images, write exactly its
log groups, read exactly its secrets and decrypt with exactly their KMS keys; the task role may use
exactly the S3 prefixes, EFS access points and KMS keys the service names. ``*`` appears only for
actions that have no resource-level permissions (``ecr:GetAuthorizationToken``, the ``ssmmessages:*``
channel actions of ECS Exec). A reference that is not an ARN or S3 location of the right kind fails
with a ``ValidationError`` before any API call (``validate_references``).

A permissions boundary (``permissions_boundary``: the ARN of a managed policy, the ceiling an
administrator created with playbooks/bootstrap.yml) is set when a role is created and corrected with
``PutRolePermissionsBoundary`` when an existing role has another one; it is read with the role
(``GetRole``), so a converged role costs no extra request. A role whose boundary should be removed is
left alone: removing a ceiling is an administrator's job (the deployer has no
``iam:DeleteRolePermissionsBoundary``).
"""

import re

from ansible_collections.seed.aws_migration.plugins.module_utils import iam
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedErrorHandler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

ECR_IMAGE_RE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
                          r"(?P<repo>[^:@]+)")
POLICY_NAME = "seed-least-privilege"
KMS_KEY_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
# A Secrets Manager ARN with the 6 characters Secrets Manager appends to the name (``db-AbCdEf``): IAM matches
# a request against that full ARN, so a policy naming the partial one (``secret:db``) would never allow it.
SECRET_RE = re.compile(r"^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+-[A-Za-z0-9]{6}|"
                       r"ssm:[a-z0-9-]+:\d{12}:parameter/.+)$")
ACCESS_POINT_RE = re.compile(r"^arn:(?P<partition>aws[a-z-]*):elasticfilesystem:(?P<region>[a-z0-9-]+):"
                             r"(?P<account>\d{12}):access-point/fsap-[0-9a-f]+$")
FILE_SYSTEM_RE = re.compile(r"^fs-[0-9a-f]+$")
S3_PREFIX_RE = re.compile(r"^(s3://)?(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/(?P<prefix>[^*?]*))?$")
# A customer managed policy (or an AWS managed one): arn:aws:iam::<account>:policy/<path/>name
POLICY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$")


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def secret_arn(value_from):
    """The secret or parameter ARN a ``valueFrom`` points at (JSON key, stage and version dropped)."""
    parts = value_from.split(":")
    if len(parts) > 7 and parts[2] == "secretsmanager":
        return ":".join(parts[:7])
    return value_from


def _statement(sid, actions, resources, condition=None):
    statement = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": sorted(set(resources))}
    if condition:
        statement["Condition"] = condition
    return statement


def validate_references(containers=(), kms_keys=(), s3_prefixes=(), efs_access_points=(), field="task"):
    """Raise ``ValidationError`` for a reference a policy cannot be scoped to (before any API call).

    ``s3_prefixes``: ``bucket/prefix`` (or ``s3://bucket/prefix``), no wildcards; ``efs_access_points``:
    ``{"file_system_id": "fs-...", "access_point_arn": "arn:...:access-point/fsap-...", "read_only": bool}``.
    """
    for index, container in enumerate(containers):
        for name, value in sorted((container.get("secrets") or {}).items()):
            if not SECRET_RE.match(secret_arn(value)):
                raise ValidationError(f"{field}.containers[{index}].secrets.{name}",
                                      f"{value!r} is not a Secrets Manager secret or SSM parameter ARN (a secret by "
                                      "its full ARN, with the 6 characters Secrets Manager adds to the name, as "
                                      "secret_info returns it: IAM does not match a partial one)")
    validate_kms_keys(kms_keys)
    for index, location in enumerate(s3_prefixes):
        if not S3_PREFIX_RE.match(location):
            raise ValidationError(f"s3_prefixes[{index}]", f"{location!r} is not bucket/prefix (no wildcards)")
    for index, mount in enumerate(efs_access_points):
        if not FILE_SYSTEM_RE.match(mount.get("file_system_id") or ""):
            raise ValidationError(f"efs_access_points[{index}].file_system_id",
                                  f"{mount.get('file_system_id')!r} is not a file system ID (fs-...)")
        if not ACCESS_POINT_RE.match(mount.get("access_point_arn") or ""):
            raise ValidationError(f"efs_access_points[{index}].access_point_arn",
                                  f"{mount.get('access_point_arn')!r} is not an EFS access point ARN")


def validate_kms_keys(keys, field="kms_keys"):
    """Raise ``ValidationError`` for a key a policy cannot be scoped to: a key ARN is needed, not an alias."""
    for index, key in enumerate(keys):
        if not KMS_KEY_RE.match(key):
            raise ValidationError(f"{field}[{index}]", f"{key!r} is not a KMS key ARN (arn:aws:kms:<region>:"
                                                       "<account>:key/<id>; aliases cannot scope a policy)")


def validate_boundary(arn, field="permissions_boundary"):
    """Raise ``ValidationError`` unless ``arn`` (when given) is an IAM managed policy ARN."""
    if arn and not POLICY_ARN_RE.match(arn):
        raise ValidationError(field, f"{arn!r} is not an IAM managed policy ARN "
                                     "(arn:aws:iam::<account>:policy/<path/>name)")


def missing_references(references, exists):
    """The references ``exists(kind, value)`` does not find, as ``"kind value"`` lines (empty: all there).

    ``references``: ``[(kind, value)]``, e.g. ``[("kms key", arn), ("secret", arn)]``; the caller turns a
    non-empty answer into a failure before creating anything.
    """
    return [f"{kind} {value}" for kind, value in references if not exists(kind, value)]


def secrets_manager_arns(containers):
    """The Secrets Manager secrets (whole-secret ARNs) the containers read, registry logins included."""
    arns = []
    for container in containers:
        arns += [arn for arn in map(secret_arn, (container.get("secrets") or {}).values()) if ":ssm:" not in arn]
        if container.get("repository_credentials"):
            arns.append(container["repository_credentials"])
    return list(dict.fromkeys(arns))


def execution_policy(containers, region, account, default_log_group=None, kms_keys=(), secret_keys=()):
    """Policy document of a task execution role for these containers (None when it needs nothing).

    ``kms_keys``: keys the role may decrypt with (the operator's, e.g. of SSM SecureString parameters);
    ``secret_keys``: the customer managed keys of its Secrets Manager secrets, usable through Secrets
    Manager only (``kms:ViaService``).
    """
    partition = partition_of(region)
    # the Secrets Manager secrets, the private registry's login included (ECS pulls with it)
    repos, groups, secrets, parameters = set(), set(), set(secrets_manager_arns(containers)), set()
    for container in containers:
        match = ECR_IMAGE_RE.match(container["image"])
        if match:
            repos.add(f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}")
        group = container.get("log_group") or default_log_group
        if group:
            groups.add(f"arn:{partition}:logs:{region}:{account}:log-group:{group}:*")
        parameters.update(arn for arn in map(secret_arn, (container.get("secrets") or {}).values()) if ":ssm:" in arn)
    statements = []
    if repos:
        statements.append(_statement("AuthenticateToEcr", ["ecr:GetAuthorizationToken"], ["*"]))
        statements.append(_statement("PullImages", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                                    "ecr:GetDownloadUrlForLayer"], repos))
    if groups:
        statements.append(_statement("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], groups))
    if secrets:
        statements.append(_statement("ReadSecrets", ["secretsmanager:GetSecretValue"], secrets))
    if parameters:
        statements.append(_statement("ReadParameters", ["ssm:GetParameters"], parameters))
    if kms_keys and (secrets or parameters):
        statements.append(_statement("DecryptSecrets", ["kms:Decrypt"], kms_keys))
    if secret_keys and secrets:
        # Secrets Manager of each secret's own region (a key is regional: it serves the secrets there)
        suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
        via = sorted({f"secretsmanager.{arn.split(':')[3]}.{suffix}" for arn in secrets if ":secretsmanager:" in arn})
        statements.append(_statement("DecryptSecretsViaSecretsManager", ["kms:Decrypt"], secret_keys,
                                     {"StringEquals": {"kms:ViaService": via}}))
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def s3_statements(s3_prefixes, partition="aws"):
    """Read/write objects under each ``bucket/prefix`` and list only those prefixes."""
    objects, listing = set(), {}
    for location in s3_prefixes:
        match = S3_PREFIX_RE.match(location)
        bucket, prefix = match["bucket"], (match["prefix"] or "")
        objects.add(f"arn:{partition}:s3:::{bucket}/{prefix}*")
        listing.setdefault(bucket, set()).add(f"{prefix}*")
    statements = [_statement("ObjectsUnderPrefixes", ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], objects)]
    for index, bucket in enumerate(sorted(listing)):
        statements.append(_statement(f"ListPrefixes{index}", ["s3:ListBucket"], [f"arn:{partition}:s3:::{bucket}"],
                                     {"StringLike": {"s3:prefix": sorted(listing[bucket])}}))
    return statements


def efs_statements(efs_access_points):
    """Mount each file system only through its access point (write unless ``read_only``)."""
    statements = []
    for index, mount in enumerate(efs_access_points):
        match = ACCESS_POINT_RE.match(mount["access_point_arn"])
        file_system = (f"arn:{match['partition']}:elasticfilesystem:{match['region']}:{match['account']}:"
                       f"file-system/{mount['file_system_id']}")
        actions = ["elasticfilesystem:ClientMount"]
        if not mount.get("read_only"):
            actions.append("elasticfilesystem:ClientWrite")
        condition = {"ArnEquals": {"elasticfilesystem:AccessPointArn": mount["access_point_arn"]}}
        statements.append(_statement(f"MountAccessPoint{index}", actions, [file_system], condition))
    return statements


def task_policy(extra_statements=(), execute_command=False, s3_prefixes=(), efs_access_points=(), kms_keys=(),
                partition="aws"):
    """Policy document of a task role (None when it needs nothing).

    ``kms_keys`` here are the keys of the S3 objects (SSE-KMS) the task reads and writes.
    """
    statements = [dict(s) for s in extra_statements]
    if s3_prefixes:
        statements.extend(s3_statements(s3_prefixes, partition))
        if kms_keys:
            statements.append(_statement("EncryptedObjects", ["kms:Decrypt", "kms:GenerateDataKey"], kms_keys))
    statements.extend(efs_statements(efs_access_points))
    if execute_command:
        statements.append(_statement("EcsExec", ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                                                 "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
                                     ["*"]))
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def ecs_tasks_trust(region, account):
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account},
                      "ArnLike": {"aws:SourceArn": f"arn:{partition_of(region)}:ecs:{region}:{account}:*"}}}]}


def role_arn(region, account, name, path="/seed/"):
    return f"arn:{partition_of(region)}:iam::{account}:role{path}{name}"


def observe_role(client, name):
    """(role or None, its inline policy or None): what ``ensure_role`` compares against.

    The role as ``GetRole`` returns it carries its permissions boundary: no extra read for it.
    """
    role = iam.get_role(client, name)
    return role, (iam.get_role_policy(client, name, POLICY_NAME) if role else None)


def boundary_of(role):
    """The permissions boundary ARN of a role (``GetRole``), None when it has none."""
    return ((role or {}).get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def role_needs_policy_write(observed, policy, boundary=None):
    """Whether ``ensure_role`` would create the role, write its policy or set its boundary (the references,
    the boundary included, then need checking)."""
    role, current = observed
    return role is None or (policy or None) != current or bool(boundary and boundary_of(role) != boundary)


@SeedErrorHandler.common_error_handler("set IAM role permissions boundary")
@retry
def put_role_permissions_boundary(client, name, boundary):
    client.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=boundary)


@SeedErrorHandler.list_error_handler("look up the permissions boundary policy", False)
@retry
def policy_exists(client, arn):
    client.get_policy(PolicyArn=arn)
    return True


def ensure_role(client, do, name, trust, policy, tags, description, path="/seed/", observed=None, boundary=None):
    """Converge a role with one inline policy (``policy`` None: none) through ``do(action, call, *args)``.

    ``observed``: ``observe_role``'s answer when the caller has read it already; ``boundary``: the ARN of
    its permissions boundary (None: not managed). Returns nothing; the ARN is predictable (``role_arn``),
    so check mode knows it too.
    """
    role, current = observed or observe_role(client, name)
    if not role:
        with_boundary = f" with permissions boundary {boundary}" if boundary else ""
        do(f"create iam role {name}{with_boundary}", iam.create_role, client, name, path, trust, description, tags,
           boundary)
    else:
        if boundary and boundary_of(role) != boundary:
            do(f"set permissions boundary of iam role {name} to {boundary}", put_role_permissions_boundary, client,
               name, boundary)
        if iam.policy_document(role.get("AssumeRolePolicyDocument")) != trust:
            do(f"update trust policy of iam role {name}", iam.update_assume_role_policy, client, name, trust)
        current_tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        to_set, _unset = tag_delta(current_tags, tags, purge_tags=False)
        if to_set:
            do(f"set tags {', '.join(sorted(to_set))} on iam role {name}", iam.tag_role, client, name, to_set)
    if policy and current != policy:
        do(f"put policy {POLICY_NAME} on iam role {name}", iam.put_role_policy, client, name, POLICY_NAME, policy)
    elif not policy and current:
        do(f"delete policy {POLICY_NAME} from iam role {name}", iam.delete_role_policy, client, name, POLICY_NAME)


def delete_role(client, do, name):
    role = iam.get_role(client, name)
    if not role:
        return
    if iam.get_role_policy(client, name, POLICY_NAME):
        do(f"delete policy {POLICY_NAME} from iam role {name}", iam.delete_role_policy, client, name, POLICY_NAME)
    do(f"delete iam role {name}", iam.delete_role, client, name)
