# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flow_logs.permissions_boundary of vpc_network: the boundary of the flow-log role the module creates.

Validated before any API call; set at CreateRole; corrected with PutRolePermissionsBoundary (before the
policy write) when the role has another one or none; the boundary policy looked up (GetPolicy) only when
the role is written, before any write of the run; a converged role costs GetRole + GetRolePolicy, as
without the option.
"""

import json
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import ec2
from ansible_collections.seed.aws_migration.plugins.module_utils import iam
from ansible_collections.seed.aws_migration.plugins.module_utils import iam_roles
from ansible_collections.seed.aws_migration.plugins.module_utils import network_state as ns
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.network import flow_log_role_policy
from ansible_collections.seed.aws_migration.plugins.module_utils.network import flow_log_role_trust
from ansible_collections.seed.aws_migration.plugins.modules import vpc_network

ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/seed-deployer/seed-workload-boundary"
OTHER = f"arn:aws:iam::{ACCOUNT}:policy/seed-deployer/old-boundary"
ROLE = "seed-test-main-vpc-flow-logs"
GROUP = "/seed/test/main/vpc-flow-logs"
POLICY = flow_log_role_policy("aws", "us-east-1", ACCOUNT, GROUP)
TRUST = flow_log_role_trust(ACCOUNT)
READS = {"GetRole", "GetRolePolicy", "GetPolicy"}


class FakeIam:
    """An IAM client holding at most the flow-log role; records every request (name, parameters)."""

    class exceptions:  # noqa: N801  (the shape of a boto3 client's)
        EntityAlreadyExistsException = type("EntityAlreadyExistsException", (Exception,), {})

    def __init__(self, role=None, policy=None, policies=(BOUNDARY,)):
        self.role, self.policy, self.policies, self.requests = role, policy, set(policies), []

    def _missing(self, operation):
        return ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not found"}}, operation)

    def get_role(self, **kwargs):
        self.requests.append(("GetRole", kwargs))
        if not self.role:
            raise self._missing("GetRole")
        return {"Role": self.role}

    def get_role_policy(self, **kwargs):
        self.requests.append(("GetRolePolicy", kwargs))
        if self.policy is None:
            raise self._missing("GetRolePolicy")
        return {"PolicyDocument": self.policy}

    def get_policy(self, **kwargs):
        self.requests.append(("GetPolicy", kwargs))
        if kwargs["PolicyArn"] not in self.policies:
            raise self._missing("GetPolicy")
        return {"Policy": {"Arn": kwargs["PolicyArn"]}}

    def create_role(self, **kwargs):
        self.requests.append(("CreateRole", kwargs))
        return {"Role": {"RoleName": kwargs["RoleName"]}}

    def put_role_permissions_boundary(self, **kwargs):
        self.requests.append(("PutRolePermissionsBoundary", kwargs))

    def put_role_policy(self, **kwargs):
        self.requests.append(("PutRolePolicy", kwargs))

    def update_assume_role_policy(self, **kwargs):
        self.requests.append(("UpdateAssumeRolePolicy", kwargs))

    def reads(self):
        return [name for name, _kwargs in self.requests if name in READS]

    def writes(self):
        return [(name, kwargs) for name, kwargs in self.requests if name not in READS]


def role(boundary=None, trust=None):
    found = {"RoleName": ROLE, "Path": "/seed/", "AssumeRolePolicyDocument": trust or TRUST}
    if boundary:
        found["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return found


def params(**flow_logs):
    return dict(name="main", environment="test", state="present", cidr="10.0.0.0/16", availability_zones=None,
                az_count=2, public_subnets=None, private_subnets=None, database_subnets=None, database_tier=False,
                nat_mode="per_az", enable_dns_support=True, enable_dns_hostnames=True, security_groups={},
                vpc_endpoints={}, flow_logs=dict({"enabled": True}, **flow_logs), tags=None, purge_tags=True,
                wait_timeout=900)


def converge(client, boundary=BOUNDARY, check_mode=False):
    """The flow-log role steps of ``present()`` on an existing VPC: observe, check, converge.
    Returns (manager, role ARN, diff before, diff after)."""
    module = SimpleNamespace(params=params(permissions_boundary=boundary), check_mode=check_mode,
                             region="us-east-1", seed_client=lambda service: client)
    manager = vpc_network.NetworkManager(module)
    manager.obs = ns.Observed("test", "main", "us-east-1")
    manager.obs.vpc = {"VpcId": "vpc-1", "OwnerId": ACCOUNT}
    manager.flow_log_role = manager._observe_flow_log_role()
    before, after = {}, {}
    manager._check_flow_log_boundary(before, after)
    arn = manager._ensure_flow_log_role(GROUP)
    return manager, arn, before, after


def test_a_new_role_is_created_with_the_boundary():
    client = FakeIam()
    manager, arn, before, after = converge(client)
    assert arn == f"arn:aws:iam::{ACCOUNT}:role/seed/{ROLE}"
    assert manager.actions == [f"create iam role {ROLE} with permissions boundary {BOUNDARY}",
                               f"put policy {vpc_network.FLOW_LOG_POLICY} on iam role {ROLE}"]
    # the boundary policy is looked up once, before the first write
    assert [name for name, _kwargs in client.requests] == ["GetRole", "GetPolicy", "CreateRole", "PutRolePolicy"]
    create = client.requests[2][1]
    assert create["PermissionsBoundary"] == BOUNDARY and create["Path"] == "/seed/"
    assert json.loads(create["AssumeRolePolicyDocument"]) == TRUST
    assert before == {"flow_log_role": {ROLE: {"permissions_boundary": None}}}
    assert after == {"flow_log_role": {ROLE: {"permissions_boundary": BOUNDARY}}}


@pytest.mark.parametrize("current", [None, OTHER])
def test_a_missing_or_other_boundary_is_corrected_before_the_policy(current):
    client = FakeIam(role(current), policy={"Version": "2012-10-17", "Statement": []})
    manager, _arn, before, _after = converge(client)
    assert manager.actions == [f"set permissions boundary of iam role {ROLE} to {BOUNDARY}",
                               f"put policy {vpc_network.FLOW_LOG_POLICY} on iam role {ROLE}"]
    assert client.writes() == [
        ("PutRolePermissionsBoundary", {"RoleName": ROLE, "PermissionsBoundary": BOUNDARY}),
        ("PutRolePolicy", {"RoleName": ROLE, "PolicyName": vpc_network.FLOW_LOG_POLICY,
                           "PolicyDocument": json.dumps(POLICY)})]
    assert client.reads() == ["GetRole", "GetRolePolicy", "GetPolicy"]
    assert before == {"flow_log_role": {ROLE: {"permissions_boundary": current}}}


def test_only_the_boundary_changed_is_one_write():
    client = FakeIam(role(OTHER), POLICY)
    manager, _arn, _before, _after = converge(client)
    assert manager.actions == [f"set permissions boundary of iam role {ROLE} to {BOUNDARY}"]
    assert [name for name, _kwargs in client.writes()] == ["PutRolePermissionsBoundary"]


def test_a_converged_role_is_no_write_and_no_extra_read():
    client = FakeIam(role(BOUNDARY), POLICY)
    manager, _arn, before, after = converge(client)
    assert manager.actions == [] and client.writes() == []
    # GetRole carries the boundary: the same two reads as without the option, no GetPolicy
    assert client.reads() == ["GetRole", "GetRolePolicy"]
    assert before == after == {"flow_log_role": {ROLE: {"permissions_boundary": BOUNDARY}}}
    without = FakeIam(role(BOUNDARY), POLICY)
    converge(without, boundary=None)
    assert without.reads() == client.reads()


def test_without_the_option_a_boundary_on_the_role_is_left_alone():
    client = FakeIam(role(OTHER), POLICY)
    manager, _arn, before, after = converge(client, boundary=None)
    assert manager.actions == [] and client.writes() == [] and before == after == {}
    created = FakeIam()
    converge(created, boundary=None)
    assert "PermissionsBoundary" not in created.writes()[0][1] and "GetPolicy" not in created.reads()


def test_check_mode_predicts_the_same_actions_and_writes_nothing():
    real, check = FakeIam(role(OTHER), POLICY), FakeIam(role(OTHER), POLICY)
    assert converge(check, check_mode=True)[0].actions == converge(real)[0].actions
    assert check.writes() == [] and check.reads() == ["GetRole", "GetRolePolicy", "GetPolicy"]


def test_a_missing_boundary_policy_fails_before_any_write():
    client = FakeIam(policies=())
    with pytest.raises(ValidationError) as e:
        converge(client)
    assert e.value.field == "flow_logs.permissions_boundary" and BOUNDARY in e.value.message
    assert "bootstrap.yml" in e.value.message and client.writes() == []


# -- through main() ---------------------------------------------------------------------------------------------
@pytest.fixture
def empty_account(monkeypatch):
    """No network, no role: every describe answers "nothing" and every write fails the test."""
    for name in dir(ec2):
        if name.startswith("describe_"):
            monkeypatch.setattr(ec2, name, lambda *a, _n=name, **k: (["us-east-1a", "us-east-1b"]
                                                                     if _n == "describe_availability_zones" else []))
        elif not name.startswith("_") and callable(getattr(ec2, name)) and name != "paginate_all":
            monkeypatch.setattr(ec2, name, lambda *a, _n=name, **k: pytest.fail(f"{_n} called in check mode"))
    client = FakeIam()
    monkeypatch.setattr(vpc_network.SeedAWSModule, "seed_client", lambda self, service: client)
    return client


def args(**flow_logs):
    return dict(name="main", environment="test", cidr="10.0.0.0/16", nat_mode="none",
                flow_logs=dict({"enabled": True}, **flow_logs))


def test_check_mode_plans_the_role_with_its_boundary(monkeypatch, empty_account):
    result = run_module(monkeypatch, vpc_network, args(permissions_boundary=BOUNDARY))
    assert not result.get("failed"), result.get("msg")
    assert f"create iam role {ROLE} with permissions boundary {BOUNDARY}" in result["actions"]
    assert result["diff"]["after"]["flow_log_role"] == {ROLE: {"permissions_boundary": BOUNDARY}}
    assert "permissions_boundary" not in result["diff"]["after"]["flow_logs"]
    assert empty_account.writes() == [] and empty_account.reads() == ["GetRole", "GetPolicy"]


@pytest.mark.parametrize("boundary", ["seed-workload-boundary", f"arn:aws:iam::{ACCOUNT}:role/seed/x"])
@pytest.mark.parametrize("enabled", [True, False])
def test_a_bad_boundary_fails_naming_the_option_before_any_client(monkeypatch, boundary, enabled):
    monkeypatch.setattr(vpc_network.SeedAWSModule, "seed_client",
                        lambda self, service: pytest.fail("a client was made before validation finished"))
    result = run_module(monkeypatch, vpc_network, args(permissions_boundary=boundary, enabled=enabled))
    assert result["failed"] and result["msg"].startswith("flow_logs.permissions_boundary:"), result["msg"]
    assert boundary in result["msg"]


def test_a_boundary_with_a_given_role_fails_before_any_client(monkeypatch):
    monkeypatch.setattr(vpc_network.SeedAWSModule, "seed_client",
                        lambda self, service: pytest.fail("a client was made before validation finished"))
    result = run_module(monkeypatch, vpc_network, args(permissions_boundary=BOUNDARY,
                                                       iam_role_arn=f"arn:aws:iam::{ACCOUNT}:role/mine"))
    assert result["failed"] and result["msg"].startswith("flow_logs.permissions_boundary:"), result["msg"]


def test_the_flow_log_role_policy_is_unchanged():
    """The documents moved to module_utils/network.py are the ones the module wrote before."""
    assert POLICY["Statement"][0]["Action"] == ["logs:CreateLogStream", "logs:DescribeLogStreams",
                                                "logs:PutLogEvents"]
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}"
    assert POLICY["Statement"][0]["Resource"] == [group_arn, f"{group_arn}:*"]
    assert TRUST["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert iam.policy_document(json.dumps(POLICY)) == POLICY and iam_roles.boundary_of(role(BOUNDARY)) == BOUNDARY
