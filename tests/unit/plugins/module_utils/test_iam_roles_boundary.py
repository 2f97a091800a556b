# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permissions boundary of a derived role: set at CreateRole, corrected with PutRolePermissionsBoundary,
no write (and no extra read: it comes with GetRole) when it is already there."""

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils import iam
from ansible_collections.seed.aws_migration.plugins.module_utils import iam_roles
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError

BOUNDARY = "arn:aws:iam::123456789012:policy/seed-deployer/seed-workload-boundary"
OTHER = "arn:aws:iam::123456789012:policy/seed-deployer/old-boundary"
TRUST = iam_roles.ecs_tasks_trust("eu-west-1", "123456789012")
POLICY = iam_roles.task_policy(execute_command=True)
TAGS = {"seed:managed-by": "seed.aws_migration"}


class Recorder:
    """``do(action, call, *args)`` as the modules pass it: records the action, makes no call."""

    def __init__(self):
        self.actions, self.calls = [], []

    def __call__(self, action, call, *args):
        self.actions.append(action)
        self.calls.append((call.__name__, args))


def role(boundary=None):
    found = {"RoleName": "it-web-task", "AssumeRolePolicyDocument": TRUST,
             "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()]}
    if boundary:
        found["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return found


def converge(observed, boundary=BOUNDARY):
    do = Recorder()
    iam_roles.ensure_role(object(), do, "it-web-task", TRUST, POLICY, TAGS, "d", observed=observed, boundary=boundary)
    return do


def test_the_boundary_is_set_at_create():
    do = converge((None, None))
    assert do.actions == [f"create iam role it-web-task with permissions boundary {BOUNDARY}",
                          f"put policy {iam_roles.POLICY_NAME} on iam role it-web-task"]
    name, args = do.calls[0]
    assert name == "create_role" and args[-1] == BOUNDARY
    assert iam_roles.role_needs_policy_write((None, None), POLICY, BOUNDARY)


@pytest.mark.parametrize("current", [None, OTHER])
def test_a_missing_or_other_boundary_is_corrected_before_the_policy(current):
    do = converge((role(current), POLICY))
    assert do.actions == [f"set permissions boundary of iam role it-web-task to {BOUNDARY}"]
    assert do.calls[0] == ("put_role_permissions_boundary", (do.calls[0][1][0], "it-web-task", BOUNDARY))
    assert iam_roles.role_needs_policy_write((role(current), POLICY), POLICY, BOUNDARY)


def test_a_role_with_its_boundary_is_a_no_op():
    assert converge((role(BOUNDARY), POLICY)).actions == []
    assert not iam_roles.role_needs_policy_write((role(BOUNDARY), POLICY), POLICY, BOUNDARY)


def test_without_a_boundary_option_an_existing_one_is_left_alone():
    assert converge((role(OTHER), POLICY), boundary=None).actions == []
    assert converge((None, None), boundary=None).actions[0] == "create iam role it-web-task"


class _Client:
    class exceptions:  # noqa: N801  (the shape of a boto3 client's)
        EntityAlreadyExistsException = type("EntityAlreadyExistsException", (Exception,), {})

    def __init__(self):
        self.requests = []

    def create_role(self, **kwargs):
        self.requests.append(("CreateRole", kwargs))
        return {"Role": {"RoleName": kwargs["RoleName"]}}

    def put_role_permissions_boundary(self, **kwargs):
        self.requests.append(("PutRolePermissionsBoundary", kwargs))


def test_the_calls_carry_the_boundary():
    client = _Client()
    iam.create_role(client, "r", "/seed/", TRUST, "d", TAGS, BOUNDARY)
    iam_roles.put_role_permissions_boundary(client, "r", BOUNDARY)
    assert client.requests[0][1]["PermissionsBoundary"] == BOUNDARY and client.requests[0][1]["Path"] == "/seed/"
    assert client.requests[1] == ("PutRolePermissionsBoundary", {"RoleName": "r", "PermissionsBoundary": BOUNDARY})


@pytest.mark.parametrize("arn", ["seed-workload-boundary", "arn:aws:iam::123456789012:role/seed/x",
                                 "arn:aws:iam::12345:policy/x", "arn:aws:iam::123456789012:policy/"])
def test_a_boundary_that_is_not_a_policy_arn_fails_naming_the_option(arn):
    with pytest.raises(ValidationError) as e:
        iam_roles.validate_boundary(arn)
    assert e.value.field == "permissions_boundary" and arn in e.value.message


def test_policy_arns_are_valid_boundaries():
    iam_roles.validate_boundary(BOUNDARY)
    iam_roles.validate_boundary("arn:aws:iam::aws:policy/PowerUserAccess")
    iam_roles.validate_boundary(None)
