# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Roles derived from what a service references: exactly those resources, '*' only where AWS has no
resource-level permission."""

from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import execution_policy
from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import secret_arn
from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import task_policy

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"
CONTAINERS = [
    {"name": "backend", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/seed/backend@sha256:" + "a" * 64,
     "secrets": {"DB_PASSWORD": SECRET + ":password::", "DB_USER": SECRET + ":username::",
                 "API_KEY": "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api-key"}},
    {"name": "sidecar", "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
     "log_group": "/seed/prod/otel"},
]


def statements(policy):
    return {s["Sid"]: s for s in policy["Statement"]}


def test_execution_policy_is_scoped_to_what_the_service_uses():
    policy = statements(execution_policy(CONTAINERS, "eu-west-1", "123456789012", "/seed/prod/backend"))
    assert policy["PullImages"]["Resource"] == ["arn:aws:ecr:eu-west-1:123456789012:repository/seed/backend"]
    assert policy["AuthenticateToEcr"] == {"Sid": "AuthenticateToEcr", "Effect": "Allow",
                                           "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]}
    assert policy["WriteLogs"]["Resource"] == ["arn:aws:logs:eu-west-1:123456789012:log-group:/seed/prod/backend:*",
                                               "arn:aws:logs:eu-west-1:123456789012:log-group:/seed/prod/otel:*"]
    assert policy["ReadSecrets"]["Resource"] == [SECRET]  # JSON keys dropped, one secret
    assert policy["ReadParameters"]["Resource"] == ["arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api-key"]
    every = [r for s in policy.values() for r in s["Resource"]]
    assert every.count("*") == 1  # only ecr:GetAuthorizationToken, which has no resource-level permission
    assert not any("*" in a for s in policy.values() for a in s["Action"])


def test_a_private_registry_login_is_one_more_secret_to_read():
    login = SECRET.replace("prod/db-", "prod/registry-")
    private = [{"name": "app", "image": "registry.example.com/seed/app@sha256:" + "b" * 64,
                "repository_credentials": login}]
    policy = statements(execution_policy(CONTAINERS + private, "eu-west-1", "123456789012"))
    assert policy["ReadSecrets"]["Resource"] == sorted([SECRET, login])
    only = statements(execution_policy(private, "eu-west-1", "123456789012"))
    assert list(only) == ["ReadSecrets"]  # no ECR statement: the image is not in ECR


def test_nothing_referenced_needs_no_policy():
    assert execution_policy([{"name": "a", "image": "nginx"}], "eu-west-1", "123456789012") is None
    assert task_policy() is None


def test_exec_adds_only_the_channel_actions():
    policy = task_policy([{"Sid": "ReadUploads", "Effect": "Allow", "Action": ["s3:GetObject"],
                           "Resource": ["arn:aws:s3:::uploads/*"]}], execute_command=True)
    sids = [s["Sid"] for s in policy["Statement"]]
    assert sids == ["ReadUploads", "EcsExec"]


def test_secret_arn_forms():
    assert secret_arn(SECRET) == SECRET
    assert secret_arn(SECRET + ":password:AWSCURRENT:") == SECRET
    assert secret_arn("arn:aws:ssm:eu-west-1:1:parameter/x") == "arn:aws:ssm:eu-west-1:1:parameter/x"
