"""Direct reads of the local AWS with boto3, to check what a run really left there."""

from __future__ import annotations

from collections import Counter

from support.servers import boto3_client


def seed_inventory(endpoint_url: str, environment: str | None = None) -> Counter:
    """Counts of every live resource the network layer can make, outside moto's default VPC.

    Resources are counted whether or not they carry our tags, so a duplicate or a leftover without
    tags shows up too.
    """
    ec2 = boto3_client("ec2", endpoint_url)
    default_vpcs = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault")}

    def outside_default(items, key="VpcId"):
        return [i for i in items if i.get(key) not in default_vpcs]

    count = Counter()
    count["vpc"] = len(outside_default(ec2.describe_vpcs()["Vpcs"]))
    count["subnet"] = len(outside_default(ec2.describe_subnets()["Subnets"]))
    count["internet_gateway"] = len([g for g in ec2.describe_internet_gateways()["InternetGateways"]
                                     if not any(a.get("VpcId") in default_vpcs for a in g.get("Attachments", []))])
    count["elastic_ip"] = len(ec2.describe_addresses()["Addresses"])
    count["nat_gateway"] = len([n for n in ec2.describe_nat_gateways()["NatGateways"]
                                if n["State"] in ("pending", "available")])
    count["route_table"] = len([r for r in outside_default(ec2.describe_route_tables()["RouteTables"])
                                if not any(a.get("Main") for a in r.get("Associations", []))])
    count["security_group"] = len([g for g in outside_default(ec2.describe_security_groups()["SecurityGroups"])
                                   if g["GroupName"] != "default"])
    count["vpc_endpoint"] = len([e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                                 if e.get("State", "").lower() not in ("deleted", "deleting")])
    count["flow_log"] = len(ec2.describe_flow_logs()["FlowLogs"])
    logs = boto3_client("logs", endpoint_url)
    count["log_group"] = len([g for g in logs.describe_log_groups()["logGroups"]
                              if g["logGroupName"].startswith("/seed/")])
    iam = boto3_client("iam", endpoint_url)
    count["iam_role"] = len(iam.list_roles(PathPrefix="/seed/")["Roles"])
    return +count  # drop zeros


def expected_network(azs: int, nat: int, tiers: int = 2, endpoints: int = 0, interface: bool = False,
                     flow_logs: bool = False) -> Counter:
    """What one converged network holds."""
    count = Counter(vpc=1, internet_gateway=1, subnet=azs * tiers, elastic_ip=nat, nat_gateway=nat,
                    route_table=1 + azs + (1 if tiers == 3 else 0), security_group=3 + (1 if interface else 0),
                    vpc_endpoint=endpoints)
    if flow_logs:
        count.update(flow_log=1, log_group=1, iam_role=1)
    return +count
