# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vpc_network's main() with the API wrappers replaced: check mode plans without writing."""

import json

import pytest


from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import ec2
from ansible_collections.seed.aws_migration.plugins.modules import vpc_network

READS = {"describe_availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"]}


@pytest.fixture
def empty_account(monkeypatch):
    """Every describe answers "nothing"; every write fails the test."""
    writes = []
    for name in dir(ec2):
        if name.startswith("describe_"):
            monkeypatch.setattr(ec2, name, lambda *a, _n=name, **k: READS.get(_n, []))
        elif not name.startswith("_") and callable(getattr(ec2, name)) and name not in ("paginate_all",):
            def write(*args, _n=name, **kwargs):
                writes.append(_n)
                raise AssertionError(f"{_n} called in check mode")
            monkeypatch.setattr(ec2, name, write)
    monkeypatch.setattr(vpc_network.SeedAWSModule, "seed_client", lambda self, service: object())
    return writes


def run(monkeypatch, args, check_mode=True):
    return run_module(monkeypatch, vpc_network, args, check_mode)


def test_check_mode_on_an_empty_account_plans_everything_and_writes_nothing(monkeypatch, empty_account):
    result = run(monkeypatch, dict(name="main", environment="test", cidr="10.0.0.0/16", nat_mode="single"))
    assert result["changed"] is True and empty_account == []
    actions = result["actions"]
    assert actions[0] == "create vpc 10.0.0.0/16"
    assert sum(a.startswith("create subnet") for a in actions) == 4
    assert sum(a.startswith("create nat_gateway") for a in actions) == 1
    assert "create route private:us-east-1b 0.0.0.0/0 -> nat_gateway:us-east-1a" in actions
    assert result["diff"]["before"] == {} and result["diff"]["after"]["nat_gateways"] == ["us-east-1a"]
    assert result["network"] == {}
    json.dumps(result)  # what Ansible will serialise


def test_bad_input_fails_before_any_client(monkeypatch, empty_account):
    monkeypatch.setattr(vpc_network.SeedAWSModule, "seed_client",
                        lambda self, service: pytest.fail("a client was made before validation finished"))
    result = run(monkeypatch, dict(name="main", environment="test", cidr="10.0.0.0/16",
                                   public_subnets=["10.0.0.0/24", "10.0.0.0/25"]))
    assert result["failed"] and result["msg"].startswith("public_subnets[1]:")


@pytest.mark.parametrize("rule, permission", [
    ("tcp/443 0.0.0.0/0", {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}),
    ("tcp/8080 sg:app", {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                         "UserIdGroupPairs": [{"GroupId": "sg-app"}]}),
    ("all 0.0.0.0/0", {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}),
    ("tcp/1000-2000 ::/0", {"IpProtocol": "tcp", "FromPort": 1000, "ToPort": 2000, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}),
    ("tcp/443 pl-123", {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": "pl-123"}]}),
    # Rules added by hand that the module revokes: ICMP (all types; one type, all codes), a protocol without ports.
    ("icmp/-1 0.0.0.0/0", {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}),
    ("icmp/8--1 10.0.0.0/8", {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}),
    ("50/None 10.0.0.0/8", {"IpProtocol": "50", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}),
])
def test_rules_become_ip_permissions(rule, permission):
    assert vpc_network._permission(rule, {"sg:app": "sg-app"}) == permission
