"""The network layer against the local AWS over HTTP, with requests counted at the server.

The rhythm of every step: check mode (prediction, zero writes), apply (the same actions, one write
request per action), re-apply (changed=false, zero writes), then a direct inventory of what exists.
"""

from __future__ import annotations

import threading
import time

import pytest

from support.aws import expected_network
from support.converge import converge
from support.aws import seed_inventory
from support.servers import REPO_ROOT
from support.servers import boto3_client

FULL = dict(name="itest", environment="it", cidr="10.40.0.0/16", az_count=2, nat_mode="per_az",
            database_tier=True, vpc_endpoints={"s3": True, "interface": ["ecr.api", "logs"]},
            flow_logs={"enabled": True, "retention_days": 14}, tags={"team": "platform"})


def test_full_lifecycle(clean_aws, ansible):
    applied = converge(ansible, clean_aws, FULL)
    assert seed_inventory(clean_aws.endpoint_url) == expected_network(azs=2, nat=2, tiers=3, endpoints=3,
                                                                      interface=True, flow_logs=True)
    net = applied["network"]
    assert net["availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert [s["cidr"] for s in net["subnets"]["private"]] == ["10.40.64.0/21", "10.40.72.0/21"]
    assert len(net["subnet_ids"]["database"]) == 2
    assert sorted(net["route_tables"]["private"]) == ["us-east-1a", "us-east-1b"]
    assert set(net["security_groups"]) == {"lb", "app", "db", "endpoints"}
    assert net["flow_log"]["log_group"] == "/seed/it/itest/vpc-flow-logs"
    assert net["tags"]["team"] == "platform"

    # The info module reads back the same IDs and a managed view equal to what was promised.
    info = ansible.module("vpc_network_info", {"environment": "it", "name": "itest"})
    assert len(info["networks"]) == 1
    found = info["networks"][0]
    assert found.pop("managed") == applied["diff"]["after"]
    assert found == net

    # Update: a third zone.
    converge(ansible, clean_aws, dict(FULL, az_count=3))
    assert seed_inventory(clean_aws.endpoint_url) == expected_network(azs=3, nat=3, tiers=3, endpoints=3,
                                                                      interface=True, flow_logs=True)
    # per_az -> single: routes move first, then two NAT gateways go and their EIPs are released.
    single = converge(ansible, clean_aws, dict(FULL, az_count=3, nat_mode="single"))
    assert seed_inventory(clean_aws.endpoint_url)["nat_gateway"] == 1
    assert seed_inventory(clean_aws.endpoint_url)["elastic_ip"] == 1
    routes = single["diff"]["after"]["route_tables"]
    assert {routes[f"private:us-east-1{z}"]["routes"]["0.0.0.0/0"] for z in "abc"} == {"nat_gateway:us-east-1a"}
    assert [a for a in single["actions"] if a.startswith("replace route")] == [
        "replace route private:us-east-1b 0.0.0.0/0 -> nat_gateway:us-east-1a",
        "replace route private:us-east-1c 0.0.0.0/0 -> nat_gateway:us-east-1a"]
    first_delete = min(i for i, a in enumerate(single["actions"]) if a.startswith("delete nat_gateway"))
    last_replace = max(i for i, a in enumerate(single["actions"]) if a.startswith("replace route"))
    assert last_replace < first_delete, "routes must leave a NAT gateway before it is deleted"
    # ... and back.
    converge(ansible, clean_aws, dict(FULL, az_count=3, nat_mode="per_az"))
    assert seed_inventory(clean_aws.endpoint_url)["nat_gateway"] == 3
    # Tags change in place, on every resource.
    retagged = converge(ansible, clean_aws, dict(FULL, az_count=3, tags={"team": "data"}))
    assert any(a.startswith("set tags team on ") for a in retagged["actions"])

    # Teardown leaves nothing, in dependency order, and a second teardown is a no-op.
    gone = converge(ansible, clean_aws, {"name": "itest", "environment": "it", "state": "absent"})
    assert gone["network"] == {}
    assert seed_inventory(clean_aws.endpoint_url) == {}

    def first(prefix):
        return min(i for i, action in enumerate(gone["actions"]) if action.startswith(prefix))

    assert first("delete vpc endpoints") < first("delete nat_gateway") < first("release elastic ip") \
        < first("delete security group") < first("delete subnet") < first("delete internet gateway") \
        < first("delete vpc vpc-")


def test_minimal_network_without_nat(clean_aws, ansible):
    args = dict(name="bare", environment="it", cidr="10.50.0.0/20", nat_mode="none",
                security_groups={"enabled": False})
    applied = converge(ansible, clean_aws, args)
    # converge's re-apply: a network that never had endpoints or flow logs is not searched for them.
    assert not {"ec2:DescribeVpcEndpoints", "ec2:DescribeFlowLogs"} & set(clean_aws.requests()["by_action"])
    assert seed_inventory(clean_aws.endpoint_url) == {"vpc": 1, "internet_gateway": 1, "subnet": 4,
                                                      "route_table": 3}
    assert applied["diff"]["after"]["route_tables"]["private:us-east-1a"]["routes"] == {}

    # Adding an optional part lists it on the VPC (seed:features) first - a run that fails after making it,
    # then one that no longer wants it, still looks for it; removing it removes both, the list last.
    with_s3 = converge(ansible, clean_aws, dict(args, vpc_endpoints={"s3": True}))
    assert with_s3["actions"] == ["set tags seed:features on vpc", "create vpc endpoint s3 (gateway)"]
    assert clean_aws.requests()["by_action"].get("ec2:DescribeVpcEndpoints") == 1
    without = converge(ansible, clean_aws, args)
    assert without["actions"][-1] == "remove tags seed:features from vpc"
    assert "ec2:DescribeVpcEndpoints" not in clean_aws.requests()["by_action"]
    assert seed_inventory(clean_aws.endpoint_url) == {"vpc": 1, "internet_gateway": 1, "subnet": 4,
                                                      "route_table": 3}

    converge(ansible, clean_aws, dict(args, state="absent"))
    assert seed_inventory(clean_aws.endpoint_url) == {}


def test_rules_added_by_hand_of_any_protocol_are_revoked(clean_aws, ansible):
    """ICMP rules (all types, or one type with all codes) added to a group by hand are read and revoked like
    any other rule the network does not declare; then nothing is left to do. (A protocol without ports, such
    as ESP, is covered by the unit tests: the local AWS fails to authorise one.)"""
    args = dict(name="icmp", environment="it", cidr="10.52.0.0/20", nat_mode="none")
    network = converge(ansible, clean_aws, args)["network"]
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    ec2.authorize_security_group_ingress(GroupId=network["security_groups"]["app"], IpPermissions=[
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "192.168.0.0/16"}]}])
    revoked = converge(ansible, clean_aws, args)
    assert revoked["actions"] == ["revoke ingress on security group app: icmp/-1 10.0.0.0/8, icmp/8--1 192.168.0.0/16"]
    group = ec2.describe_security_groups(GroupIds=[network["security_groups"]["app"]])["SecurityGroups"][0]
    assert not [p for p in group["IpPermissions"] if p["IpProtocol"] == "icmp"]
    converge(ansible, clean_aws, dict(args, state="absent"))


def test_defer_removals_keeps_groups_in_use_until_a_run_without_it(clean_aws, ansible):
    """The internal_lb tier switched off while an internal load balancer still uses its group: with
    defer_removals the groups stay with every rule (the app group's ingress from internal_lb too) and are
    listed; without it, the network would delete them under the load balancer (the local AWS refuses that,
    as AWS does: the load balancer's interfaces). Once the load balancer is gone, a run without it removes
    the groups and the rules that name them."""
    args = dict(name="defer", environment="it", cidr="10.53.0.0/20", nat_mode="none",
                security_groups={"internal_lb": True})
    network = converge(ansible, clean_aws, args)["network"]
    groups = network["security_groups"]
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)
    lb = elbv2.create_load_balancer(Name="defer-internal", Scheme="internal", Type="application",
                                    Subnets=network["subnet_ids"]["private"],
                                    SecurityGroups=[groups["internal_lb"]])["LoadBalancers"][0]
    off = dict(args, security_groups={"internal_lb": False})

    kept = converge(ansible, clean_aws, dict(off, defer_removals=True))
    assert kept["actions"] == [] and kept["deferred_removals"] == {"security_groups": ["internal_lb", "vpc_link"]}
    assert kept["network"]["security_groups"] == groups
    app_rules = kept["diff"]["after"]["security_groups"]["app"]["ingress"]
    assert "tcp/8000 sg:internal_lb" in app_rules and "tcp/8000 sg:lb" in app_rules

    # Without defer_removals while the load balancer is there: its interfaces (the local AWS has them, as
    # AWS does) are waited for, then the run fails naming them, with nothing deleted.
    clean_aws.reset_counts()
    refused = ansible.module("vpc_network", dict(off, wait_timeout=2))
    assert refused.get("failed") and "nothing was deleted" in refused["msg"], refused.get("msg")
    assert "security group internal_lb" in refused["msg"] and "'ELB app/defer-internal/" in refused["msg"]
    assert clean_aws.requests()["writes"] == 0

    elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    pruned = converge(ansible, clean_aws, off)
    assert pruned["deferred_removals"] == {"security_groups": []}
    deletes = sorted(a for a in pruned["actions"] if a.startswith("delete"))
    assert deletes == ["delete security group internal_lb", "delete security group vpc_link"]
    assert set(pruned["network"]["security_groups"]) == {"lb", "app", "db"}
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    (app,) = ec2.describe_security_groups(GroupIds=[groups["app"]])["SecurityGroups"]
    assert {p["GroupId"] for perm in app["IpPermissions"] for p in perm["UserIdGroupPairs"]} == {groups["lb"]}
    converge(ansible, clean_aws, dict(args, state="absent"))


def test_a_subnet_moved_by_hand_to_another_route_table_is_moved_back(clean_aws, ansible):
    """A private subnet associated by hand with a route table the network does not own (its NAT route
    bypassed): the run sees the association and moves the subnet back (ReplaceRouteTableAssociation), not
    an "associate" that AWS refuses as AlreadyAssociated on every run; then nothing is left to do."""
    args = dict(name="moved", environment="it", cidr="10.56.0.0/20", nat_mode="none",
                security_groups={"enabled": False})
    network = converge(ansible, clean_aws, args)["network"]
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    subnet = ec2.describe_subnets(SubnetIds=[network["subnet_ids"]["private"][0]])["Subnets"][0]
    az = subnet["AvailabilityZone"]
    ours = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}])[
        "RouteTables"][0]
    (association,) = [a for a in ours["Associations"] if a.get("SubnetId") == subnet["SubnetId"]]
    foreign = ec2.create_route_table(VpcId=network["vpc_id"])["RouteTable"]["RouteTableId"]
    ec2.replace_route_table_association(AssociationId=association["RouteTableAssociationId"], RouteTableId=foreign)

    moved = converge(ansible, clean_aws, args)
    assert moved["actions"] == [f"move subnet private/{az} to route table private:{az} (from {foreign}, not ours)"]
    assert moved["writes_by_action"] == {"ec2:ReplaceRouteTableAssociation": 1}
    now = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}])[
        "RouteTables"]
    assert [t["RouteTableId"] for t in now] == [ours["RouteTableId"]]
    ec2.delete_route_table(RouteTableId=foreign)  # the operator's, not the network's
    converge(ansible, clean_aws, dict(args, state="absent"))


def release_once_seen(aws, ec2, eni_id):
    """Delete a network interface once the module has looked at it (the server counted a
    DescribeNetworkInterfaces), as AWS releases a deleted load balancer's or stopped task's interface a while
    after the delete: the run must have waited for it, whatever the machine's load."""

    def release():
        deadline = time.monotonic() + 120
        while not aws.requests()["by_action"].get("ec2:DescribeNetworkInterfaces") and time.monotonic() < deadline:
            time.sleep(0.05)
        ec2.delete_network_interface(NetworkInterfaceId=eni_id)

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def test_teardown_waits_for_interfaces_it_does_not_own_before_deleting_anything(clean_aws, ansible):
    """An interface left in the network by something outside it (here: as an ECS task's or a deleted load
    balancer's, in a private subnet with the app group) makes AWS refuse DeleteSubnet and DeleteSecurityGroup
    (DependencyViolation; the local AWS refuses them too, tools/moto_fidelity_ec2.py). The teardown waits for
    it to go before its first write: when it does not go in time, the run fails naming it and nothing has been
    deleted; when it goes, the teardown finishes. The NAT gateway's own interface is not waited for: it goes
    with the NAT gateway."""
    args = dict(name="busy", environment="it", cidr="10.57.0.0/20", nat_mode="single")
    network = converge(ansible, clean_aws, args)["network"]
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    subnet = network["subnet_ids"]["private"][0]
    app = network["security_groups"]["app"]
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[app], Description="ELB app/gone/0123")[
        "NetworkInterface"]["NetworkInterfaceId"]
    before = seed_inventory(clean_aws.endpoint_url)
    absent = dict(name="busy", environment="it", state="absent")

    clean_aws.reset_counts()
    check = ansible.module("vpc_network", absent, check=True)
    assert not check.get("failed"), check.get("msg")
    assert any(eni in w and "wait" in w for w in check.get("warnings", [])), check.get("warnings")
    assert clean_aws.requests()["writes"] == 0

    clean_aws.reset_counts()
    refused = ansible.module("vpc_network", dict(absent, wait_timeout=2))
    assert refused.get("failed"), refused.get("actions")
    assert eni in refused["msg"] and "ELB app/gone/0123" in refused["msg"], refused["msg"]
    assert f"private/{network['availability_zones'][0]}" in refused["msg"] and "security group app" in refused["msg"]
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    assert seed_inventory(clean_aws.endpoint_url) == before

    clean_aws.reset_counts()
    releaser = release_once_seen(clean_aws, ec2, eni)
    try:
        gone = ansible.module("vpc_network", absent)
    finally:
        releaser.join()
    assert not gone.get("failed"), gone.get("msg")
    assert clean_aws.requests()["by_action"]["ec2:DescribeNetworkInterfaces"] >= 2  # it waited
    assert seed_inventory(clean_aws.endpoint_url) == {}


def test_a_zone_is_removed_once_the_interfaces_in_it_are_gone(clean_aws, ansible):
    """Taking a zone out: its subnets go only when no interface outside the network is left in them (an ECS
    task of a service still placed there, say). The run waits for that before its first write - the endpoints
    keep the zone until then - and fails naming the interface when it stays. The interface endpoint's own
    interface in that zone is not waited for: the run takes the endpoint out of the zone itself."""
    args = dict(name="shrink", environment="it", cidr="10.58.0.0/20", az_count=3, nat_mode="none",
                vpc_endpoints={"s3": True, "interface": ["logs"]})
    network = converge(ansible, clean_aws, args)["network"]
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    third = network["availability_zones"][2]
    subnet = network["subnet_ids"]["private"][2]
    eni = ec2.create_network_interface(SubnetId=subnet, Description="task in the zone")["NetworkInterface"][
        "NetworkInterfaceId"]

    clean_aws.reset_counts()
    refused = ansible.module("vpc_network", dict(args, az_count=2, wait_timeout=2))
    assert refused.get("failed") and eni in refused["msg"] and f"private/{third}" in refused["msg"], refused
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    assert seed_inventory(clean_aws.endpoint_url)["subnet"] == 6

    ec2.delete_network_interface(NetworkInterfaceId=eni)
    shrunk = converge(ansible, clean_aws, dict(args, az_count=2))
    assert any(a.startswith(f"delete subnet private/{third} ") for a in shrunk["actions"]), shrunk["actions"]
    assert f"update vpc endpoint logs: add nothing, remove ['{third}']" in shrunk["actions"], shrunk["actions"]
    assert seed_inventory(clean_aws.endpoint_url)["subnet"] == 4
    converge(ansible, clean_aws, dict(args, state="absent"))


def test_two_resources_tagged_as_one_part_are_refused_before_any_write(clean_aws, ansible):
    """A route table and a security group copied with the network's identity tags (by hand, or by another
    tool): which one is the network's is not known and either may be in use, so neither a run nor a teardown
    touches anything; both name the pair (the info module warns). Once the extra ones are deleted, both work
    again."""
    args = dict(name="twice", environment="it", cidr="10.59.0.0/20", nat_mode="none")
    network = converge(ansible, clean_aws, args)["network"]
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    az = network["availability_zones"][0]
    ours_rt = ec2.describe_route_tables(Filters=[{"Name": "tag:seed:name", "Values": ["twice"]},
                                                 {"Name": "tag:seed:az", "Values": [az]}])["RouteTables"][0]
    copy_rt = ec2.create_route_table(VpcId=network["vpc_id"], TagSpecifications=[
        {"ResourceType": "route-table", "Tags": ours_rt["Tags"]}])["RouteTable"]["RouteTableId"]
    app = ec2.describe_security_groups(GroupIds=[network["security_groups"]["app"]])["SecurityGroups"][0]
    copy_sg = ec2.create_security_group(VpcId=network["vpc_id"], GroupName="copy", Description="copy",
                                        TagSpecifications=[{"ResourceType": "security-group", "Tags": app["Tags"]}])[
        "GroupId"]
    for state in ("present", "absent"):
        clean_aws.reset_counts()
        refused = ansible.module("vpc_network", dict(args, state=state))
        assert refused.get("failed"), refused.get("actions")
        assert f"route table private:{az} ({ours_rt['RouteTableId']}, {copy_rt})" in refused["msg"] or \
            f"route table private:{az} ({copy_rt}, {ours_rt['RouteTableId']})" in refused["msg"], refused["msg"]
        assert "security group app (" in refused["msg"] and copy_sg in refused["msg"], refused["msg"]
        assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    info = ansible.module("vpc_network_info", {"environment": "it", "name": "twice"})
    assert any(copy_rt in w and copy_sg in w for w in info.get("warnings", [])), info.get("warnings")
    ec2.delete_route_table(RouteTableId=copy_rt)
    ec2.delete_security_group(GroupId=copy_sg)
    assert converge(ansible, clean_aws, args)["actions"] == []
    converge(ansible, clean_aws, dict(args, state="absent"))


def test_routes_added_by_other_teams_are_kept_unless_purge_routes(clean_aws, ansible):
    """A route another team adds to a network's route table (a peering connection, a transit gateway to the
    offices) is kept - it is in the diff's before and after alike - and goes only with purge_routes=true.
    The route the network owns (0.0.0.0/0) is converged either way."""
    args = dict(name="routes", environment="it", cidr="10.60.0.0/20", nat_mode="single",
                security_groups={"enabled": False})
    network = converge(ansible, clean_aws, args)["network"]
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    az = network["availability_zones"][0]
    peer_vpc = ec2.create_vpc(CidrBlock="192.168.0.0/16")["Vpc"]["VpcId"]
    peering = ec2.create_vpc_peering_connection(VpcId=network["vpc_id"], PeerVpcId=peer_vpc)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    table = ec2.describe_route_tables(Filters=[{"Name": "tag:seed:name", "Values": ["routes"]},
                                               {"Name": "tag:seed:az", "Values": [az]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="192.168.0.0/16",
                     VpcPeeringConnectionId=peering)

    kept = converge(ansible, clean_aws, args)
    assert kept["actions"] == []
    assert kept["diff"]["after"]["route_tables"][f"private:{az}"]["routes"]["192.168.0.0/16"] == peering
    # the network's own routes still go when no longer wanted: no NAT gateway, no route to it (no blackhole)
    no_nat = converge(ansible, clean_aws, dict(args, nat_mode="none"))
    assert [a for a in no_nat["actions"] if a.startswith("delete route")] == [
        f"delete route private:{zone} 0.0.0.0/0" for zone in network["availability_zones"]], no_nat["actions"]
    routes = ec2.describe_route_tables(RouteTableIds=[table["RouteTableId"]])["RouteTables"][0]["Routes"]
    assert sorted(r["DestinationCidrBlock"] for r in routes) == ["10.60.0.0/20", "192.168.0.0/16"]
    purged = converge(ansible, clean_aws, dict(args, nat_mode="none", purge_routes=True))
    assert purged["actions"] == [f"delete route private:{az} 192.168.0.0/16"]
    converge(ansible, clean_aws, dict(args, state="absent"))


def test_tags_not_given_leave_other_tags_alone(clean_aws, ansible):
    """Without ``tags`` the tags other tools set (cost allocation, backup) stay; ``tags: {}`` purges them."""
    args = dict(name="tagged", environment="it", cidr="10.54.0.0/20", nat_mode="none",
                security_groups={"enabled": False})
    network = converge(ansible, clean_aws, args)["network"]
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    ec2.create_tags(Resources=[network["vpc_id"]], Tags=[{"Key": "backup", "Value": "daily"}])

    def vpc_tags():
        vpc = ec2.describe_vpcs(VpcIds=[network["vpc_id"]])["Vpcs"][0]
        return {t["Key"]: t["Value"] for t in vpc.get("Tags", [])}

    clean_aws.reset_counts()
    kept = ansible.module("vpc_network", args, diff=True)
    assert kept["changed"] is False and clean_aws.requests()["writes"] == 0, kept.get("actions")
    assert kept["diff"]["before"] == kept["diff"]["after"] and vpc_tags()["backup"] == "daily"
    purged = converge(ansible, clean_aws, dict(args, tags={}))
    assert purged["actions"] == ["remove tags backup from vpc"] and "backup" not in vpc_tags()
    converge(ansible, clean_aws, dict(args, state="absent"))


def test_two_networks_do_not_touch_each_other(clean_aws, ansible):
    one = dict(name="one", environment="it", cidr="10.60.0.0/16", nat_mode="single")
    two = dict(name="two", environment="it", cidr="10.61.0.0/16", nat_mode="single")
    converge(ansible, clean_aws, one)
    converge(ansible, clean_aws, two)
    converge(ansible, clean_aws, dict(one, state="absent"))
    assert seed_inventory(clean_aws.endpoint_url) == expected_network(azs=2, nat=1)
    info = ansible.module("vpc_network_info", {"environment": "it"})
    assert [n["name"] for n in info["networks"]] == ["two"]


@pytest.mark.parametrize("args, field", [
    (dict(public_subnets=["10.70.0.0/24", "10.70.0.128/25"]), "public_subnets[1]"),
    (dict(private_subnets=["10.71.0.0/24", "10.71.1.0/24"]), "private_subnets[0]"),
    (dict(cidr="10.70.0.0/12"), "cidr"),
    (dict(cidr="10.70.0.0/29"), "cidr"),
    (dict(cidr="10.70.0.0/25"), "cidr"),
    (dict(nat_mode="twice"), "nat_mode"),
    (dict(availability_zones=["us-east-1a", "us-east-1a"]), "availability_zones"),
])
def test_bad_input_fails_before_any_request(clean_aws, ansible, args, field):
    clean_aws.reset_counts()
    result = ansible.module("vpc_network", dict(dict(name="bad", environment="it", cidr="10.70.0.0/16"), **args))
    assert result.get("failed"), result
    assert field in result["msg"], result["msg"]
    assert clean_aws.requests()["total"] == 0, clean_aws.requests()["by_action"]


@pytest.mark.parametrize("args, field", [
    (dict(az_count=7), "az_count"),  # us-east-1 has six zones
    (dict(availability_zones=["us-east-1a", "us-east-1h"]), "availability_zones[1]"),
])
def test_zone_checks_read_the_region_and_write_nothing(clean_aws, ansible, args, field):
    clean_aws.reset_counts()
    result = ansible.module("vpc_network", dict(dict(name="bad", environment="it", cidr="10.70.0.0/16"), **args))
    assert result.get("failed") and field in result["msg"], result.get("msg")
    counts = clean_aws.requests()
    # The zones are checked against the region's: the two first reads run together, nothing is written.
    assert counts["writes"] == 0 and set(counts["by_action"]) <= {"ec2:DescribeAvailabilityZones", "ec2:DescribeVpcs"}


def test_changing_a_cidr_in_place_is_refused(clean_aws, ansible):
    args = dict(name="fixed", environment="it", cidr="10.80.0.0/16", nat_mode="none")
    converge(ansible, clean_aws, args)
    clean_aws.reset_counts()
    result = ansible.module("vpc_network", dict(args, cidr="10.81.0.0/16"))
    assert result.get("failed") and result["msg"].startswith("cidr:")
    result = ansible.module("vpc_network", dict(args, public_subnets=["10.80.100.0/24", "10.80.101.0/24"]))
    assert result.get("failed") and result["msg"].startswith("public_subnets:")
    assert clean_aws.requests()["writes"] == 0


def test_duplicate_network_names_in_one_play_fail_before_any_request(clean_aws, ansible):
    clean_aws.reset_counts()
    result = ansible.playbook("playbooks/network.yml", extra_vars={"network_networks": [
        {"name": "dup", "cidr": "10.90.0.0/16"}, {"name": "dup", "cidr": "10.91.0.0/16"}]})
    assert result.failed
    failed = [t for t in result.task_results() if t.get("failed")]
    assert "network_networks" in failed[0]["msg"] and "dup" in failed[0]["msg"]
    assert clean_aws.requests()["total"] == 0


def test_run_killed_halfway_then_rerun_makes_no_duplicates(clean_aws, ansible):
    """SIGKILL ansible and its module in the middle of a cold run, then converge again."""
    args = dict(FULL, name="killed", az_count=3)
    clean_aws.reset_counts()
    proc = ansible.start([{"name": "Converge", "seed.aws_migration.vpc_network": args}])
    deadline = time.monotonic() + 60
    while clean_aws.requests()["writes"] < 14:  # past the subnets, into the EIPs and NAT gateways
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    ansible.kill(proc)
    partial = seed_inventory(clean_aws.endpoint_url)
    assert partial["vpc"] == 1 and partial.get("route_table", 0) < 5, partial  # really halfway

    converge(ansible, clean_aws, args)
    assert seed_inventory(clean_aws.endpoint_url) == expected_network(azs=3, nat=3, tiers=3, endpoints=3,
                                                                      interface=True, flow_logs=True)
    converge(ansible, clean_aws, dict(args, state="absent"))
    assert seed_inventory(clean_aws.endpoint_url) == {}


def converge_through_faults(clean_aws, fault_proxy, ansible_factory, name, faults_on_rerun=True):
    """Build a full network through ``fault_proxy`` (the faults it is set to), check it has exactly the wanted
    resources, then a re-run (with the faults still on, unless ``faults_on_rerun`` is false) changes nothing
    and a teardown leaves nothing; returns the proxy's stats of the first run."""
    flaky = ansible_factory(fault_proxy.endpoint_url)
    args = dict(FULL, name=name, az_count=3)
    applied = flaky.module("vpc_network", args)
    assert not applied.get("failed"), applied.get("msg")
    stats = fault_proxy.stats()
    assert seed_inventory(clean_aws.endpoint_url) == expected_network(azs=3, nat=3, tiers=3, endpoints=3,
                                                                      interface=True, flow_logs=True)
    if not faults_on_rerun:
        fault_proxy.set_rate(0.0, lost_rate=0.0, drop_rate=0.0)
    again = flaky.module("vpc_network", args)
    assert again["changed"] is False, again["actions"]
    gone = flaky.module("vpc_network", dict(name=name, environment="it", state="absent"))
    assert not gone.get("failed"), gone.get("msg")
    assert seed_inventory(clean_aws.endpoint_url) == {}
    return stats


def test_converges_through_throttling_and_server_errors(clean_aws, fault_proxy, ansible_factory):
    """20 % of requests answered with throttling or 5xx by a proxy: same network, no duplicates."""
    stats = converge_through_faults(clean_aws, fault_proxy, ansible_factory, "flaky")
    assert stats["injected"] >= 5, stats


def test_lost_responses_to_creates_make_no_duplicates(clean_aws, fault_proxy, ansible_factory):
    """10 % of requests are carried out but answered with a 500 (the response is lost), plus 10 %
    plain faults: creates without an idempotency token must still happen exactly once."""
    fault_proxy.set_rate(0.1, lost_rate=0.1)
    stats = converge_through_faults(clean_aws, fault_proxy, ansible_factory, "lossy", faults_on_rerun=False)
    assert stats["injected_by_code"].get("lost-response", 0) >= 5, stats


def test_dropped_connections_are_retried_without_duplicates(clean_aws, fault_proxy, ansible_factory):
    """8 % of connections are closed with no answer (half of them after the request was carried out):
    botocore's own retries are off in our clients, so the wrappers retry them (and creates without a
    token look for the resource first). Before, the first dropped connection failed the run."""
    fault_proxy.set_rate(0.0, drop_rate=0.08)
    stats = converge_through_faults(clean_aws, fault_proxy, ansible_factory, "dropped")
    assert stats["injected"] >= 1, stats  # about 5 with the default seed; at least one with any


def test_local_aws_nat_gateway_create_is_idempotent_on_its_client_token(clean_aws):
    """tools/moto_fidelity_ec2.py: as on AWS, a CreateNatGateway repeated with its ClientToken (the retry after a
    dropped answer) returns the first NAT gateway; the token with other parameters is refused."""
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.0.0/24")["Subnet"]["SubnetId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    first = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip, ClientToken="t-1")["NatGateway"]
    again = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip, ClientToken="t-1")["NatGateway"]
    assert again["NatGatewayId"] == first["NatGatewayId"]
    assert len(ec2.describe_nat_gateways()["NatGateways"]) == 1
    with pytest.raises(Exception, match="IdempotentParameterMismatch"):
        ec2.create_nat_gateway(SubnetId=other, AllocationId=eip, ClientToken="t-1")


def test_local_aws_load_balancers_and_vpc_links_have_network_interfaces(clean_aws):
    """tools/moto_fidelity_ec2.py: as on AWS, a load balancer and a VPC link have an interface in each of their
    subnets with their security groups, moved by SetSubnets/SetSecurityGroups and gone with them; a group or
    subnet they use cannot be deleted; a VPC link refused for an unknown subnet leaves nothing behind."""
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)
    apigw = boto3_client("apigatewayv2", clean_aws.endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.41.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
        "Subnet"]["SubnetId"] for i, z in enumerate("abc")]
    sg, other = (ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc)["GroupId"] for n in ("a", "b"))

    def interfaces():
        return sorted((e["Description"].split("/")[0], e["SubnetId"], tuple(g["GroupId"] for g in e["Groups"]))
                      for e in ec2.describe_network_interfaces()["NetworkInterfaces"])

    lb = elbv2.create_load_balancer(Name="eni", Subnets=subnets[:2], SecurityGroups=[sg])["LoadBalancers"][0]
    assert interfaces() == sorted([("ELB app", subnets[0], (sg,)), ("ELB app", subnets[1], (sg,))])
    with pytest.raises(Exception, match="DependencyViolation"):
        ec2.delete_security_group(GroupId=sg)
    elbv2.set_subnets(LoadBalancerArn=lb["LoadBalancerArn"], Subnets=subnets[1:])
    elbv2.set_security_groups(LoadBalancerArn=lb["LoadBalancerArn"], SecurityGroups=[other])
    assert interfaces() == sorted([("ELB app", subnets[1], (other,)), ("ELB app", subnets[2], (other,))])
    elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert interfaces() == []

    link = apigw.create_vpc_link(Name="eni", SubnetIds=subnets[:2], SecurityGroupIds=[sg])
    assert interfaces() == sorted([("VPC Link " + link["VpcLinkId"], subnets[0], (sg,)),
                                   ("VPC Link " + link["VpcLinkId"], subnets[1], (sg,))])
    with pytest.raises(Exception, match="DependencyViolation"):
        ec2.delete_subnet(SubnetId=subnets[0])
    apigw.delete_vpc_link(VpcLinkId=link["VpcLinkId"])
    assert interfaces() == []
    with pytest.raises(Exception, match="BadRequestException"):
        apigw.create_vpc_link(Name="bad", SubnetIds=[subnets[0], "subnet-0000000000000000"], SecurityGroupIds=[sg])
    assert apigw.get_vpc_links()["Items"] == [] and interfaces() == []
    ec2.delete_security_group(GroupId=sg)


BOUNDARY = "arn:aws:iam::123456789012:policy/seed-deployer/seed-workload-boundary"
FLOW_ROLE = "seed-it-bounded-vpc-flow-logs"


def create_boundary(endpoint_url):
    """The boundary playbooks/bootstrap.yml creates (an administrator's: made here with boto3)."""
    document = (REPO_ROOT / "policies" / "workload-boundary.json").read_text(encoding="utf-8")
    boto3_client("iam", endpoint_url).create_policy(PolicyName="seed-workload-boundary", Path="/seed-deployer/",
                                                    PolicyDocument=document)


def boundary_of(endpoint_url, role=FLOW_ROLE):
    found = boto3_client("iam", endpoint_url).get_role(RoleName=role)["Role"]
    return (found.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def test_the_flow_log_role_carries_the_permissions_boundary(clean_aws, ansible):
    args = dict(name="bounded", environment="it", cidr="10.95.0.0/20", nat_mode="none",
                security_groups={"enabled": False}, flow_logs={"enabled": True, "permissions_boundary": BOUNDARY})

    # the boundary policy is not there yet (bootstrap.yml not run): refused naming the option, nothing written
    clean_aws.reset_counts()
    refused = ansible.module("vpc_network", args)
    assert refused.get("failed") and refused["msg"].startswith("flow_logs.permissions_boundary:"), refused.get("msg")
    assert BOUNDARY in refused["msg"] and clean_aws.requests()["writes"] == 0
    assert clean_aws.requests()["by_action"].get("iam:GetPolicy") == 1

    create_boundary(clean_aws.endpoint_url)
    created = converge(ansible, clean_aws, args)
    # converge's re-apply was the no-op: GetRole carries the boundary, no GetPolicy, the same requests as
    # the same network without the option
    noop = clean_aws.requests()
    assert "iam:GetPolicy" not in noop["by_action"] and noop["by_action"]["iam:GetRole"] == 1, noop["by_action"]
    assert f"create iam role {FLOW_ROLE} with permissions boundary {BOUNDARY}" in created["actions"]
    assert created["diff"]["after"]["flow_log_role"] == {FLOW_ROLE: {"permissions_boundary": BOUNDARY}}
    assert boundary_of(clean_aws.endpoint_url) == BOUNDARY
    clean_aws.reset_counts()
    without = ansible.module("vpc_network", dict(args, flow_logs={"enabled": True}))
    assert without["changed"] is False and clean_aws.requests()["total"] == noop["total"], (
        clean_aws.requests()["by_action"], noop["by_action"])

    # a role without its boundary (made before it existed) gets it, and nothing else is written
    boto3_client("iam", clean_aws.endpoint_url).delete_role_permissions_boundary(RoleName=FLOW_ROLE)
    corrected = converge(ansible, clean_aws, args)
    assert corrected["actions"] == [f"set permissions boundary of iam role {FLOW_ROLE} to {BOUNDARY}"]
    assert corrected["diff"]["before"]["flow_log_role"] == {FLOW_ROLE: {"permissions_boundary": None}}
    assert boundary_of(clean_aws.endpoint_url) == BOUNDARY

    converge(ansible, clean_aws, {"name": "bounded", "environment": "it", "state": "absent"})
    assert seed_inventory(clean_aws.endpoint_url) == {}


@pytest.mark.parametrize("flow_logs", [
    {"enabled": True, "permissions_boundary": "seed-workload-boundary"},
    {"enabled": True, "permissions_boundary": BOUNDARY, "iam_role_arn": "arn:aws:iam::123456789012:role/mine"},
])
def test_a_bad_flow_log_boundary_fails_before_any_request(clean_aws, ansible, flow_logs):
    clean_aws.reset_counts()
    result = ansible.module("vpc_network", dict(name="bad", environment="it", cidr="10.70.0.0/16",
                                                flow_logs=flow_logs))
    assert result.get("failed") and result["msg"].startswith("flow_logs.permissions_boundary:"), result.get("msg")
    assert clean_aws.requests()["total"] == 0, clean_aws.requests()["by_action"]


def test_the_role_passes_its_boundary_to_each_flow_log_role(clean_aws, ansible):
    """roles/network: network_flow_logs_permissions_boundary for every network's flow-log role, unless the
    network gives its own (or its own role)."""
    create_boundary(clean_aws.endpoint_url)
    base = dict(nat_mode="none", security_groups={"enabled": False})
    networks = [dict(base, name="first", cidr="10.96.0.0/20", flow_logs={"enabled": True}),
                dict(base, name="second", cidr="10.97.0.0/20")]
    result = ansible.playbook("playbooks/network.yml", extra_vars={
        "network_environment": "it", "network_networks": networks,
        "network_flow_logs_permissions_boundary": BOUNDARY})
    assert not result.failed, [t.get("msg") for t in result.task_results() if t.get("failed")]
    assert boundary_of(clean_aws.endpoint_url, "seed-it-first-vpc-flow-logs") == BOUNDARY
    for name in ("first", "second"):
        gone = ansible.module("vpc_network", {"name": name, "environment": "it", "state": "absent"})
        assert not gone.get("failed"), gone.get("msg")
    assert seed_inventory(clean_aws.endpoint_url) == {}
