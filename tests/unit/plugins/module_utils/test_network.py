# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network layer's pure part: validation, derived layout and the managed view."""

import ipaddress

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.network import build_spec
from ansible_collections.seed.aws_migration.plugins.module_utils.network import derived_subnet
from ansible_collections.seed.aws_migration.plugins.module_utils.network import desired_view
from ansible_collections.seed.aws_migration.plugins.module_utils.network import resolve_layout
from ansible_collections.seed.aws_migration.plugins.module_utils.network import security_group_rules

REGION = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def params(**overrides):
    base = dict(name="main", environment="test", state="present", cidr="10.0.0.0/16", availability_zones=None,
                az_count=2, public_subnets=None, private_subnets=None, database_subnets=None, database_tier=False,
                nat_mode="per_az", enable_dns_support=True, enable_dns_hostnames=True, security_groups={},
                vpc_endpoints={}, flow_logs={}, tags=None, purge_tags=True)
    base.update(overrides)
    return base


def field_of(**overrides):
    with pytest.raises(ValidationError) as e:
        spec = build_spec(params(**overrides))
        resolve_layout(spec, REGION)
    return e.value.field, e.value.message


@pytest.mark.parametrize("overrides, field", [
    (dict(cidr="10.0.0.0/15"), "cidr"),
    (dict(cidr="10.0.0.0/29"), "cidr"),
    (dict(cidr="10.0.0.1/16"), "cidr"),
    (dict(cidr="not-a-cidr"), "cidr"),
    (dict(cidr="10.0.0.0/25"), "cidr"),  # too small for derived subnets
    (dict(az_count=4), "az_count"),  # the region has three
    (dict(availability_zones=["eu-west-1a", "eu-west-1z"]), "availability_zones[1]"),
    (dict(availability_zones=["eu-west-1a", "eu-west-1a"]), "availability_zones"),
    (dict(public_subnets=["10.0.0.0/24", "10.0.0.128/25"]), "public_subnets[1]"),  # overlap
    (dict(public_subnets=["10.0.0.0/24", "10.1.0.0/24"]), "public_subnets[1]"),  # outside the VPC
    (dict(public_subnets=["10.0.0.0/24"]), "public_subnets"),  # one per zone
    (dict(public_subnets=["10.0.64.0/24", "10.0.1.0/24"]), "private_subnets[0]"),  # overlaps a derived one
    (dict(database_subnets=["10.0.0.0/24", "10.0.1.0/24"]), "database_subnets"),  # tier not enabled
    (dict(nat_mode="sometimes"), "nat_mode"),
    (dict(name="Main_Net"), "name"),
    (dict(environment=""), "environment"),
    (dict(tags={"seed:name": "x"}), "tags"),
    (dict(security_groups={"app_ports": [0]}), "security_groups.app_ports[0]"),
    (dict(security_groups={"lb_ingress_cidrs": ["0.0.0.0/33"]}), "security_groups.lb_ingress_cidrs[0]"),
    (dict(vpc_endpoints={"interface": ["s3"]}), "vpc_endpoints.interface"),
    (dict(vpc_endpoints={"interface": ["ECR API"]}), "vpc_endpoints.interface[0]"),
    (dict(flow_logs={"enabled": True, "retention_days": 10}), "flow_logs.retention_days"),
    (dict(enable_dns_support=False), "enable_dns_hostnames"),
])
def test_bad_input_names_the_field(overrides, field):
    assert field_of(**overrides)[0] == field


def test_overlap_message_names_both_subnets():
    _field, message = field_of(public_subnets=["10.0.0.0/24", "10.0.0.128/25"])
    assert "10.0.0.128/25 overlaps 10.0.0.0/24 (public_subnets[0])" in message


def test_derived_subnets_depend_only_on_tier_and_zone_letter():
    vpc = ipaddress.ip_network("10.0.0.0/16")
    two = resolve_layout(build_spec(params(az_count=2)), REGION)
    three = resolve_layout(build_spec(params(az_count=3, database_tier=True)), REGION)
    for tier in ("public", "private"):
        for az, cidr in two.subnets[tier].items():
            assert three.subnets[tier][az] == cidr  # adding a zone or a tier moves nothing
    assert two.subnets["public"]["eu-west-1a"] == "10.0.0.0/21"
    assert two.subnets["private"]["eu-west-1b"] == "10.0.72.0/21"
    assert str(derived_subnet(vpc, "database", "eu-west-1c")) == "10.0.144.0/21"
    every = [ipaddress.ip_network(c) for t in three.subnets.values() for c in t.values()]
    assert all(net.subnet_of(vpc) for net in every)
    assert not any(a.overlaps(b) for i, a in enumerate(every) for b in every[i + 1:])


def test_smallest_vpc_that_derives_is_a_23():
    layout = resolve_layout(build_spec(params(cidr="192.168.0.0/23", az_count=3, database_tier=True)), REGION)
    assert layout.subnets["database"]["eu-west-1c"] == "192.168.1.32/28"


def test_explicit_subnets_follow_zone_order():
    spec = build_spec(params(availability_zones=["eu-west-1c", "eu-west-1a"],
                             public_subnets=["10.0.1.0/24", "10.0.2.0/24"]))
    layout = resolve_layout(spec, REGION)
    assert layout.subnets["public"] == {"eu-west-1c": "10.0.1.0/24", "eu-west-1a": "10.0.2.0/24"}
    assert layout.subnets["private"]["eu-west-1c"] == str(derived_subnet(spec.vpc, "private", "eu-west-1c"))


@pytest.mark.parametrize("mode, nat_azs, route_b", [
    ("per_az", ["eu-west-1a", "eu-west-1b"], {"0.0.0.0/0": "nat_gateway:eu-west-1b"}),
    ("single", ["eu-west-1a"], {"0.0.0.0/0": "nat_gateway:eu-west-1a"}),
    ("none", [], {}),
])
def test_nat_modes(mode, nat_azs, route_b):
    spec = build_spec(params(nat_mode=mode))
    view = desired_view(spec, resolve_layout(spec, REGION))
    assert view["nat_gateways"] == nat_azs
    assert view["route_tables"]["private:eu-west-1b"]["routes"] == route_b
    assert view["route_tables"]["public"]["routes"] == {"0.0.0.0/0": "internet_gateway"}


def test_security_groups_are_chained_by_reference():
    rules = security_group_rules(build_spec(params(vpc_endpoints={"interface": ["logs"]})))
    assert rules["lb"]["ingress"] == ["tcp/443 0.0.0.0/0", "tcp/80 0.0.0.0/0"]
    assert all(r.endswith("sg:app") for r in rules["lb"]["egress"])
    assert all(r.endswith("sg:lb") for r in rules["app"]["ingress"])
    assert rules["db"] == {"ingress": ["tcp/5432 sg:app"], "egress": []}
    assert rules["endpoints"] == {"ingress": ["tcp/443 sg:app"], "egress": []}
    assert not any("0.0.0.0/0" in r for tier in ("app", "db") for r in rules[tier]["ingress"])


def test_internal_load_balancer_groups_chain_vpc_link_to_app():
    rules = security_group_rules(build_spec(params(security_groups={"internal_lb": True})))
    assert rules["vpc_link"] == {"ingress": [], "egress": ["tcp/443 sg:internal_lb", "tcp/80 sg:internal_lb"]}
    assert rules["internal_lb"]["ingress"] == ["tcp/443 sg:vpc_link", "tcp/80 sg:vpc_link"]
    assert all(r.endswith("sg:app") for r in rules["internal_lb"]["egress"])
    assert sorted({r.split()[1] for r in rules["app"]["ingress"]}) == ["sg:internal_lb", "sg:lb"]
    assert "internal_lb" not in security_group_rules(build_spec(params()))


def test_view_of_endpoints_and_database_tier():
    spec = build_spec(params(database_tier=True, vpc_endpoints={"s3": True, "interface": ["ecr.api"]}))
    view = desired_view(spec, resolve_layout(spec, REGION))
    assert view["vpc_endpoints"]["s3"] == {"type": "Gateway", "route_tables": [
        "database", "private:eu-west-1a", "private:eu-west-1b"]}
    assert view["vpc_endpoints"]["ecr.api"] == {"type": "Interface", "subnets": ["eu-west-1a", "eu-west-1b"]}
    assert view["route_tables"]["database"] == {"routes": {}, "subnets": ["eu-west-1a", "eu-west-1b"]}


def test_absent_needs_only_identity():
    spec = build_spec(params(state="absent", cidr=None))
    assert (spec.name, spec.environment) == ("main", "test")


def test_flow_log_defaults():
    spec = build_spec(params(flow_logs={"enabled": True}))
    assert spec.flow_logs == {"log_group": "/seed/test/main/vpc-flow-logs", "retention_days": 30,
                              "traffic_type": "ALL", "iam_role_arn": None, "permissions_boundary": None}


def test_a_zone_the_network_uses_stays_chosen_when_it_is_impaired():
    """An AWS incident (a zone ``impaired``) must not make a run move the network out of that zone - which
    would delete its subnets, NAT gateway and route table - while new subnets only go to available zones."""
    spec = build_spec(params(az_count=2))
    zones = {"eu-west-1a": "available", "eu-west-1b": "impaired", "eu-west-1c": "available"}
    assert resolve_layout(spec, zones, {"eu-west-1a", "eu-west-1b"}).azs == ["eu-west-1a", "eu-west-1b"]
    assert resolve_layout(spec, zones).azs == ["eu-west-1a", "eu-west-1c"]  # a new network avoids it
    # One more zone: the existing ones stay, the new one is an available one.
    grown = resolve_layout(build_spec(params(az_count=3)), dict(zones, **{"eu-west-1d": "available"}),
                           {"eu-west-1a", "eu-west-1b"})
    assert grown.azs == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    # Fewer zones: the first ones of those in use stay (as before, with every zone available).
    assert resolve_layout(build_spec(params(az_count=1)), zones, {"eu-west-1a", "eu-west-1b"}).azs == ["eu-west-1a"]
    # A zone named explicitly must be available, unless the network is already there.
    with pytest.raises(ValidationError) as e:
        resolve_layout(build_spec(params(availability_zones=["eu-west-1a", "eu-west-1b"])), zones)
    assert e.value.field == "availability_zones[1]" and "(it is impaired)" in e.value.message
    kept = resolve_layout(build_spec(params(availability_zones=["eu-west-1a", "eu-west-1b"])), zones,
                          {"eu-west-1a", "eu-west-1b"})
    assert kept.azs == ["eu-west-1a", "eu-west-1b"]
