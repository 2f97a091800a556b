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


def _tags(**tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


OURS = {"seed:environment": "test", "seed:name": "main", "seed:managed-by": "seed.aws_migration"}


@pytest.mark.parametrize("state, wanted_nat", [("absent", False), ("present", True)])
def test_a_nat_gateway_left_deleting_is_waited_for_before_its_elastic_ip_is_touched(monkeypatch, state, wanted_nat):
    _nat_rerun(monkeypatch, state, wanted_nat)


def test_a_new_nat_gateway_on_the_elastic_ip_of_a_deleted_one_has_its_own_token(monkeypatch):
    """EC2 answers a CreateNatGateway whose client token it has seen with the gateway it made then: the
    token of the gateway replacing a deleted one on the same Elastic IP and subnet must differ, or the
    deleted one would come back (and the wait for it to become available would never end)."""
    with_gone = _nat_rerun(monkeypatch, "present", True)
    fresh = _nat_rerun(monkeypatch, "present", True, existing_nat=False)
    assert with_gone and fresh and with_gone != fresh


def _nat_rerun(monkeypatch, state, wanted_nat, existing_nat=True):
    """A run interrupted while its NAT gateway was being deleted: the rerun finds it ``deleting``. Until it
    is deleted its Elastic IP can be neither released (teardown) nor given to a new NAT gateway (the zone
    wanted again), so the rerun waits for it first."""
    calls = []
    nat = {"NatGatewayId": "nat-1", "State": "deleting", "Tags": _tags(**OURS, **{"seed:az": "us-east-1a"})}
    vpc = {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "Tags": _tags(**OURS, **{"seed:component": "vpc"})}
    eip = {"AllocationId": "eipalloc-1", "PublicIp": "203.0.113.1",
           "Tags": _tags(**OURS, **{"seed:component": "nat-eip", "seed:az": "us-east-1a"})}

    def describe_nat_gateways(client, filters):
        calls.append("describe_nat_gateways")
        seen = calls.count("describe_nat_gateways")
        return [dict(nat, State="deleting" if seen == 1 else "deleted")] if existing_nat else []

    tokens = []

    def create_nat_gateway(client, subnet_id, allocation_id, token, tagspec):
        calls.append("create_nat_gateway")
        tokens.append(token)
        return {"NatGatewayId": "nat-2", "State": "pending"}

    def record(name, answer=None):
        def call(*args, **kwargs):
            calls.append(name)
            return answer
        return call

    for name in dir(ec2):
        if name.startswith("describe_"):
            monkeypatch.setattr(ec2, name, lambda *a, _n=name, **k: READS.get(_n, []))
        elif not name.startswith("_") and callable(getattr(ec2, name)) and name != "paginate_all":
            monkeypatch.setattr(ec2, name, record(name))
    monkeypatch.setattr(ec2, "describe_vpcs", lambda client, filters=None: [vpc])
    monkeypatch.setattr(ec2, "describe_vpc_attribute", lambda client, vpc_id, attribute: True)
    monkeypatch.setattr(ec2, "describe_addresses", lambda client, filters=None: [eip])
    monkeypatch.setattr(ec2, "describe_nat_gateways", describe_nat_gateways)
    monkeypatch.setattr(ec2, "create_nat_gateway", create_nat_gateway)
    monkeypatch.setattr(vpc_network.logs, "describe_log_group", lambda *a, **k: [])
    monkeypatch.setattr(vpc_network.iam, "get_role", lambda *a, **k: None)
    monkeypatch.setattr(vpc_network.SeedAWSModule, "seed_client", lambda self, service: object())
    monkeypatch.setattr(vpc_network.NetworkManager, "_wait_nat_gateways", lambda self, ids: None)
    args = dict(name="main", environment="test", cidr="10.0.0.0/16", state=state, nat_mode="single",
                security_groups={"enabled": False})
    result = run(monkeypatch, args, check_mode=False)
    assert not result.get("failed"), result.get("msg")
    touched = "create_nat_gateway" if wanted_nat else "release_address"
    if existing_nat:  # discovery saw it deleting; the wait's describe saw it deleted; then the EIP is touched
        assert [c for c in calls if c in ("describe_nat_gateways", touched)] == [
            "describe_nat_gateways", "describe_nat_gateways", touched], calls
    return tokens[0] if tokens else None


@pytest.mark.parametrize("ours_state, foreign, expected", [
    # moved by hand to another table: the old association is still disassociating when the run reads it
    ("disassociating", True, "move subnet private/us-east-1a to route table private:us-east-1a "
                             "(from rtb-foreign, not ours)"),
    # an association that failed holds nothing: the subnet is associated again
    ("failed", False, "associate subnet private/us-east-1a with route table private:us-east-1a"),
    ("associated", False, None),
])
def test_associations_going_or_failed_hold_no_subnet(monkeypatch, ours_state, foreign, expected):
    """A route table association that is disassociating, disassociated or failed is not where the subnet is:
    the plan follows the live association (here another table's) or associates the subnet again."""
    args = dict(name="main", environment="test", cidr="10.0.0.0/16", nat_mode="none",
                security_groups={"enabled": False})
    vpc = {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "Tags": _tags(**OURS, **{"seed:component": "vpc"})}
    subnets, route_tables = [], []
    layout_cidrs = _derived_cidrs()
    for tier in ("public", "private"):
        for az in ("us-east-1a", "us-east-1b"):
            subnets.append({"SubnetId": f"subnet-{tier}-{az[-1]}", "AvailabilityZone": az, "VpcId": "vpc-1",
                            "CidrBlock": layout_cidrs[tier][az],
                            "Tags": _tags(**OURS, **{"seed:component": f"subnet-{tier}", "seed:az": az})})

    def assoc(subnet, state="associated", n=0):
        return {"SubnetId": subnet, "RouteTableAssociationId": f"rtbassoc-{subnet}-{n}",
                "AssociationState": {"State": state}}

    route_tables.append({"RouteTableId": "rtb-public", "VpcId": "vpc-1", "Routes": [],
                         "Associations": [assoc("subnet-public-a"), assoc("subnet-public-b")],
                         "Tags": _tags(**OURS, **{"seed:component": "route-table-public"})})
    for az in ("a", "b"):
        state = ours_state if az == "a" else "associated"
        route_tables.append({"RouteTableId": f"rtb-private-{az}", "VpcId": "vpc-1", "Routes": [],
                             "Associations": [assoc(f"subnet-private-{az}", state)],
                             "Tags": _tags(**OURS, **{"seed:component": "route-table-private",
                                                      "seed:az": f"us-east-1{az}"})})
    if foreign:
        route_tables.append({"RouteTableId": "rtb-foreign", "VpcId": "vpc-1", "Routes": [],
                             "Associations": [assoc("subnet-private-a", n=1)], "Tags": []})
    for name in dir(ec2):
        if name.startswith("describe_"):
            monkeypatch.setattr(ec2, name, lambda *a, _n=name, **k: READS.get(_n, []))
    monkeypatch.setattr(ec2, "describe_vpcs", lambda client, filters=None: [vpc])
    monkeypatch.setattr(ec2, "describe_vpc_attribute", lambda client, vpc_id, attribute: True)
    monkeypatch.setattr(ec2, "describe_subnets", lambda client, filters=None: subnets)
    monkeypatch.setattr(ec2, "describe_route_tables", lambda client, filters=None: route_tables)
    monkeypatch.setattr(vpc_network.SeedAWSModule, "seed_client", lambda self, service: object())
    result = run(monkeypatch, args)
    assert not result.get("failed"), result.get("msg")
    touching = [a for a in result["actions"] if "subnet private/us-east-1a" in a]
    assert touching == ([expected] if expected else []), result["actions"]
    view = result["diff"]["before"]["route_tables"]["private:us-east-1a"]["subnets"]
    assert view == ([] if expected else ["us-east-1a"])


def _derived_cidrs():
    """The subnet CIDRs vpc_network derives for 10.0.0.0/16 in zones a and b, by tier and zone."""
    from ansible_collections.seed.aws_migration.plugins.module_utils import network

    spec = network.build_spec(dict(name="main", environment="test", cidr="10.0.0.0/16", nat_mode="none",
                                   state="present"))
    layout = network.resolve_layout(spec, {"us-east-1a": "available", "us-east-1b": "available",
                                           "us-east-1c": "available"})
    return layout.subnets


def test_propagated_routes_are_never_replaced_or_deleted(monkeypatch):
    """Routes a virtual private gateway propagates (Origin EnableVgwRoutePropagation) cannot be deleted or
    replaced (AWS refuses): even with purge_routes they stay, and the network's own 0.0.0.0/0 is created beside
    a propagated one (a static route wins over a propagated one of the same prefix)."""
    from types import SimpleNamespace

    from ansible_collections.seed.aws_migration.plugins.module_utils import network_state as ns

    manager = object.__new__(vpc_network.NetworkManager)
    manager.check_mode, manager.actions, manager.ec2 = True, [], None
    manager.spec = SimpleNamespace(purge_routes=True)
    manager.obs = ns.Observed("test", "main", "us-east-1")
    table = {"RouteTableId": "rtb-1", "Routes": [
        {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable"},
        {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "vgw-1", "Origin": "EnableVgwRoutePropagation"},
        {"DestinationCidrBlock": "172.16.0.0/12", "GatewayId": "vgw-1", "Origin": "EnableVgwRoutePropagation"},
        {"DestinationCidrBlock": "192.168.0.0/16", "VpcPeeringConnectionId": "pcx-1", "Origin": "CreateRoute"}]}
    manager._converge_routes("private:us-east-1a", table, {"0.0.0.0/0": ("nat_gateway:us-east-1a", "nat-1")})
    assert manager.actions == ["create route private:us-east-1a 0.0.0.0/0 -> nat_gateway:us-east-1a",
                               "delete route private:us-east-1a 192.168.0.0/16"]
    manager.actions, manager.spec.purge_routes = [], False
    manager._converge_routes("private:us-east-1a", table, {"0.0.0.0/0": ("nat_gateway:us-east-1a", "nat-1")})
    assert manager.actions == ["create route private:us-east-1a 0.0.0.0/0 -> nat_gateway:us-east-1a"]
    # once made, the static one is the destination's route in the view (it wins over the propagated one)
    table["Routes"].insert(1, {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "Origin": "CreateRoute"})
    assert ns.cidr_routes(table)["0.0.0.0/0"]["NatGatewayId"] == "nat-1"
    manager.actions = []
    manager._converge_routes("private:us-east-1a", table, {"0.0.0.0/0": ("nat_gateway:us-east-1a", "nat-1")})
    assert manager.actions == []


def _group(group_id, ingress=(), egress=()):
    """A described security group with TCP rules given as (port, peer group id or CIDR)."""
    def permissions(rules):
        return [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                 **({"UserIdGroupPairs": [{"GroupId": peer}]} if peer.startswith("sg-")
                    else {"IpRanges": [{"CidrIp": peer}]})} for port, peer in rules]
    return {"GroupId": group_id, "IpPermissions": permissions(ingress), "IpPermissionsEgress": permissions(egress)}


@pytest.mark.parametrize("defer", [True, False])
def test_deferred_groups_keep_their_rules_and_the_rules_that_name_them(defer):
    """internal_lb switched off and the app ports changed in the same run: with defer_removals the API's groups
    keep every rule as it is, and app keeps its ingress from internal_lb next to its new rules; without it they
    are simply not wanted."""
    from ansible_collections.seed.aws_migration.plugins.module_utils import network_state as ns
    from ansible_collections.seed.aws_migration.plugins.module_utils.network import build_spec

    params = dict(name="main", environment="test", state="present", cidr="10.0.0.0/16", az_count=2,
                  security_groups={"internal_lb": False, "app_ports": [9000]}, defer_removals=defer)
    manager = object.__new__(vpc_network.NetworkManager)
    manager.module = type("Module", (), {"params": params})()
    manager.spec = build_spec(params)
    manager.deferred_groups = []
    manager.obs = obs = ns.Observed("test", "main", "us-east-1")
    obs.security_groups = {
        "lb": _group("sg-lb", ingress=[(80, "0.0.0.0/0")], egress=[(8000, "sg-app")]),
        "app": _group("sg-app", ingress=[(8000, "sg-lb"), (8000, "sg-ilb")]),
        "db": _group("sg-db", ingress=[(5432, "sg-app")]),
        "internal_lb": _group("sg-ilb", ingress=[(80, "sg-link")], egress=[(8000, "sg-app")]),
        "vpc_link": _group("sg-link", egress=[(80, "sg-ilb")]),
    }
    wanted = manager._wanted_security_groups()
    assert wanted["app"]["ingress"] == (["tcp/8000 sg:internal_lb", "tcp/9000 sg:lb"] if defer else ["tcp/9000 sg:lb"])
    assert wanted["lb"]["egress"] == ["tcp/9000 sg:app"]  # nothing of lb names a deferred group
    if defer:
        assert manager.deferred_groups == ["internal_lb", "vpc_link"]
        assert wanted["internal_lb"] == {"ingress": ["tcp/80 sg:vpc_link"], "egress": ["tcp/8000 sg:app"]}
        assert wanted["vpc_link"] == {"ingress": [], "egress": ["tcp/80 sg:internal_lb"]}
    else:
        assert manager.deferred_groups == [] and set(wanted) == {"lb", "app", "db"}
