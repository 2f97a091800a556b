# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least-privilege IAM roles derived from what a service references, and their convergence.

The execution role of a task may pull exactly the ECR repositories of its images, write exactly its
log groups and read exactly its secrets; ``*`` appears only for actions that have no resource-level
permissions (``ecr:GetAuthorizationToken``, the ``ssmmessages:*`` channel actions of ECS Exec).
"""

import re

from ansible_collections.seed.aws_migration.plugins.module_utils import iam
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

ECR_IMAGE_RE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
                          r"(?P<repo>[^:@]+)")
POLICY_NAME = "seed-least-privilege"


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


def _statement(sid, actions, resources):
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": sorted(set(resources))}


def execution_policy(containers, region, account, default_log_group=None, kms_keys=()):
    """Policy document of a task execution role for these containers (None when it needs nothing)."""
    partition = partition_of(region)
    repos, groups, secrets, parameters = set(), set(), set(), set()
    for container in containers:
        match = ECR_IMAGE_RE.match(container["image"])
        if match:
            repos.add(f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['repo']}")
        group = container.get("log_group") or default_log_group
        if group:
            groups.add(f"arn:{partition}:logs:{region}:{account}:log-group:{group}:*")
        for value in (container.get("secrets") or {}).values():
            arn = secret_arn(value)
            (parameters if ":ssm:" in arn else secrets).add(arn)
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
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def task_policy(extra_statements=(), execute_command=False):
    statements = [dict(s) for s in extra_statements]
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


def ensure_role(client, do, name, trust, policy, tags, description, path="/seed/"):
    """Converge a role with one inline policy (``policy`` None: none) through ``do(action, call, *args)``.

    Returns nothing; the ARN is predictable (``role_arn``), so check mode knows it too.
    """
    role = iam.get_role(client, name)
    if not role:
        do(f"create iam role {name}", iam.create_role, client, name, path, trust, description, tags)
    else:
        if iam.policy_document(role.get("AssumeRolePolicyDocument")) != trust:
            do(f"update trust policy of iam role {name}", iam.update_assume_role_policy, client, name, trust)
        current_tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        to_set, _unset = tag_delta(current_tags, tags, purge_tags=False)
        if to_set:
            do(f"set tags {', '.join(sorted(to_set))} on iam role {name}", iam.tag_role, client, name, to_set)
    current = iam.get_role_policy(client, name, POLICY_NAME) if role else None
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
