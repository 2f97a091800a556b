# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small function per IAM call our modules make.

Each carries an error handler (raising SeedAWSError with what was being done) and the ``retry``
policy; creates tolerate "already exists", so a retry after a lost response is harmless.
"""

import json
from urllib.parse import unquote

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedErrorHandler as H
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry


@H.list_error_handler("get IAM role", None)
@retry
def get_role(client, name):
    return client.get_role(RoleName=name)["Role"]


@H.list_error_handler("get IAM role policy", None)
@retry
def get_role_policy(client, role, policy):
    return policy_document(client.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"])


def policy_document(document):
    """A policy document as a dict, whether the API gave it parsed or URL-encoded JSON."""
    if isinstance(document, str):
        return json.loads(unquote(document))
    return document


@H.common_error_handler("create IAM role")
@retry
def create_role(client, name, path, trust_policy, description, tags, boundary=None):
    """A role with its trust policy and tags, and its permissions boundary when one is given (same call)."""
    extra = {"PermissionsBoundary": boundary} if boundary else {}
    try:
        return client.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust_policy),
                                  Description=description,
                                  Tags=[{"Key": k, "Value": v} for k, v in tags.items()], **extra)["Role"]
    except client.exceptions.EntityAlreadyExistsException:
        return client.get_role(RoleName=name)["Role"]  # a lost response to an earlier attempt


@H.common_error_handler("update IAM role trust policy")
@retry
def update_assume_role_policy(client, role, trust_policy):
    client.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust_policy))


@H.common_error_handler("put IAM role policy")
@retry
def put_role_policy(client, role, policy, document):
    client.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))


@H.deletion_error_handler("delete IAM role policy")
@retry
def delete_role_policy(client, role, policy):
    client.delete_role_policy(RoleName=role, PolicyName=policy)
    return True


@H.deletion_error_handler("delete IAM role")
@retry
def delete_role(client, name):
    client.delete_role(RoleName=name)
    return True


@H.common_error_handler("tag IAM role")
@retry
def tag_role(client, name, tags):
    client.tag_role(RoleName=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


@H.common_error_handler("get caller identity")
@retry
def caller_account(sts_client):
    return sts_client.get_caller_identity()["Account"]
