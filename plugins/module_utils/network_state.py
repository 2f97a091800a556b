# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What AWS holds of a network: discovery by identity tags, the managed view, the returned facts.

Shared by vpc_network (which updates an ``Observed`` as it converges, so the facts it returns are
those of the final state without describing everything again) and vpc_network_info.
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.seed.aws_migration.plugins.module_utils import ec2
from ansible_collections.seed.aws_migration.plugins.module_utils import logs
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.network import IGW_REF
from ansible_collections.seed.aws_migration.plugins.module_utils.network import TIERS
from ansible_collections.seed.aws_migration.plugins.module_utils.network import nat_ref
from ansible_collections.seed.aws_migration.plugins.module_utils.network import private_rt_key
from ansible_collections.seed.aws_migration.plugins.module_utils.network import rule
from ansible_collections.seed.aws_migration.plugins.module_utils.network import sg_ref
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import IDENTITY_KEYS
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_AZ
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_ENVIRONMENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_NAME
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import identity_tags
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_filters
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tags_of

LIVE_NAT_STATES = ("pending", "available")
# The optional parts of a network that vpc_network has set up, listed in this tag on the VPC, so that a
# network without them costs no request to look for them: "endpoints", "flow-logs".
TAG_FEATURES = "seed:features"
FEATURE_ENDPOINTS = "endpoints"
FEATURE_FLOW_LOGS = "flow-logs"
GONE_ENDPOINT_STATES = ("deleted", "deleting", "rejected", "failed", "expired")

# seed:component values
VPC = "vpc"
IGW = "internet-gateway"
NAT_EIP = "nat-eip"
NAT = "nat-gateway"
FLOW_LOG = "flow-log"
FLOW_LOG_GROUP = "flow-log-group"
FLOW_LOG_ROLE = "flow-log-role"


def subnet_component(tier):
    return f"subnet-{tier}"


def route_table_component(key):
    return "route-table-" + key.split(":")[0]


def sg_component(tier):
    return f"security-group-{tier}"


def endpoint_component(service):
    return f"vpc-endpoint-{service}"


def vpc_filters(environment=None, name=None):
    """Filters for the VPCs of seed networks (all of them, of an environment, or one)."""
    tags = {TAG_COMPONENT: VPC}
    if environment:
        tags[TAG_ENVIRONMENT] = environment
    if name:
        tags[TAG_NAME] = name
    return tag_filters(tags)


# A route table association in these states holds no subnet (going, gone, or never made).
GONE_ASSOCIATION_STATES = ("disassociating", "disassociated", "failed")


def live_associations(route_table):
    """The route table's associations that hold (or are about to hold) a subnet or a gateway."""
    return [a for a in route_table.get("Associations") or []
            if (a.get("AssociationState") or {}).get("State", "associated") not in GONE_ASSOCIATION_STATES]


def rt_key_of(route_table):
    tags = tags_of(route_table)
    component = tags.get(TAG_COMPONENT, "")
    if component == "route-table-private":
        return private_rt_key(tags.get(TAG_AZ))
    if component.startswith("route-table-"):
        return component[len("route-table-"):]
    return None


class Observed:
    """Everything of one network that exists, keyed the way the view names it."""

    def __init__(self, environment, name, region):
        self.environment = environment
        self.name = name
        self.region = region
        self.vpc = None
        self.dns = {}
        self.igws = []
        self.subnets = {}  # (tier, az) -> subnet
        self.eips = {}  # az -> address
        self.stray_eips = []  # tagged addresses not tied to a zone we know
        self.nats = {}  # az -> live NAT gateway
        self.dead_nats = []  # failed NAT gateways (to clean up)
        self.deleting_nats = []  # NAT gateways an earlier run deleted, still letting go of their EIP and ENI
        self.gone_nat_ids = []  # IDs of ours deleted (AWS lists them for a while): never a new one's token
        self.route_tables = {}  # key -> route table
        self.foreign_associations = {}  # subnet id -> (association id, route table id) of a table not ours
        self.security_groups = {}  # tier -> group
        self.endpoints = {}  # service short name -> endpoint
        self.duplicates = []  # "<kind> <key> (<id>, <id>)": two resources carry the identity tags of one
        self.flow_logs = []
        self.log_group = None
        self.role = None
        self.role_policy = None

    @property
    def vpc_id(self):
        return self.vpc["VpcId"] if self.vpc else None

    @property
    def igw(self):
        return self.igws[0] if self.igws else None

    def identity(self, component=None, az=None):
        return identity_tags(self.environment, self.name, component, az)

    def sg_tier_by_id(self):
        return {group["GroupId"]: tier for tier, group in self.security_groups.items()}

    def rt_key_by_id(self):
        return {rt["RouteTableId"]: key for key, rt in self.route_tables.items()}

    def nat_az_by_id(self):
        return {nat["NatGatewayId"]: az for az, nat in self.nats.items()}

    def subnet_by_id(self):
        return {s["SubnetId"]: key for key, s in self.subnets.items()}


def discover_vpcs(client, environment=None, name=None):
    return [vpc for vpc in ec2.describe_vpcs(client, vpc_filters(environment, name))
            if vpc.get("State") != "deleted"]


def vpc_features(vpc):
    """The optional parts (FEATURE_*) the VPC's TAG_FEATURES lists."""
    return {f for f in tags_of(vpc or {}).get(TAG_FEATURES, "").split(",") if f}


def discover(client, vpc, environment, name, region, logs_client=None, log_group_name=None, features=None):
    """Describe everything of the network around ``vpc`` (None: only what can exist without one).

    ``features``: the optional parts (FEATURE_*) to look for; None looks for all of them.

    ``logs_client``: a callable returning a CloudWatch Logs client, called only when there is a
    flow-log group to look at (so a network without flow logs never loads that client).
    """
    obs = Observed(environment, name, region)
    obs.vpc = vpc
    ident = tag_filters(obs.identity())
    by_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}] if vpc else None
    calls = {
        "eips": lambda: ec2.describe_addresses(client, ident),
        "igws": lambda: ec2.describe_internet_gateways(client, ident),
    }
    if vpc:
        calls.update({
            "dns_support": lambda: ec2.describe_vpc_attribute(client, vpc["VpcId"], "enableDnsSupport"),
            "dns_hostnames": lambda: ec2.describe_vpc_attribute(client, vpc["VpcId"], "enableDnsHostnames"),
            "subnets": lambda: ec2.describe_subnets(client, by_vpc),
            "nats": lambda: ec2.describe_nat_gateways(client, by_vpc),
            "route_tables": lambda: ec2.describe_route_tables(client, by_vpc),
            "security_groups": lambda: ec2.describe_security_groups(client, by_vpc),
        })
        if features is None or FEATURE_ENDPOINTS in features:
            calls["endpoints"] = lambda: ec2.describe_vpc_endpoints(client, by_vpc)
        if features is None or FEATURE_FLOW_LOGS in features:
            calls["flow_logs"] = lambda: ec2.describe_flow_logs(client, [{"Name": "resource-id",
                                                                          "Values": [vpc["VpcId"]]}])
    # The describes are independent: run them together (boto3 clients are thread-safe).
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {key: pool.submit(call) for key, call in calls.items()}
        found = {key: future.result() for key, future in futures.items()}

    obs.igws = found["igws"]
    _sort_eips(obs, found["eips"])
    if not vpc:
        return obs
    obs.dns = {"enable_dns_support": found["dns_support"], "enable_dns_hostnames": found["dns_hostnames"]}
    for subnet in found["subnets"]:
        tags = tags_of(subnet)
        tier = tags.get(TAG_COMPONENT, "")[len("subnet-"):]
        if _ours(tags, obs) and tier in TIERS:
            _keep(obs, obs.subnets, (tier, subnet["AvailabilityZone"]), subnet, "subnet", "SubnetId")
    for nat in found["nats"]:
        tags = tags_of(nat)
        if not _ours(tags, obs):
            continue
        if nat["State"] in LIVE_NAT_STATES:
            _keep(obs, obs.nats, tags.get(TAG_AZ), nat, "NAT gateway", "NatGatewayId")
        elif nat["State"] == "failed":
            obs.dead_nats.append(nat)
        elif nat["State"] == "deleting":
            obs.deleting_nats.append(nat)
        if nat["State"] in ("deleting", "deleted"):
            obs.gone_nat_ids.append(nat["NatGatewayId"])
    for route_table in found["route_tables"]:
        key = rt_key_of(route_table)
        if key and _ours(tags_of(route_table), obs):
            _keep(obs, obs.route_tables, key, route_table, "route table", "RouteTableId")
        else:  # a subnet of ours may have been associated with it by hand: moved back, not "associated"
            for assoc in live_associations(route_table):
                if assoc.get("SubnetId"):
                    obs.foreign_associations[assoc["SubnetId"]] = (assoc["RouteTableAssociationId"],
                                                                   route_table["RouteTableId"])
    for group in found["security_groups"]:
        tags = tags_of(group)
        component = tags.get(TAG_COMPONENT, "")
        if _ours(tags, obs) and component.startswith("security-group-"):
            _keep(obs, obs.security_groups, component[len("security-group-"):], group, "security group", "GroupId")
    for endpoint in found.get("endpoints", []):
        tags = tags_of(endpoint)
        component = tags.get(TAG_COMPONENT, "")
        if _ours(tags, obs) and component.startswith("vpc-endpoint-") and \
                endpoint.get("State", "").lower() not in GONE_ENDPOINT_STATES:
            _keep(obs, obs.endpoints, component[len("vpc-endpoint-"):], endpoint, "VPC endpoint", "VpcEndpointId")
    obs.flow_logs = [fl for fl in found.get("flow_logs", []) if _ours(tags_of(fl), obs)]
    names = sorted(n for n in {fl.get("LogGroupName") for fl in obs.flow_logs} | {log_group_name} if n)
    if logs_client is not None and names:
        client_logs = logs_client()
        for group_name in names:
            groups = logs.describe_log_group(client_logs, group_name)
            if groups:
                obs.log_group = groups[0]
                break
    return obs


def _keep(obs, found, key, item, kind, id_key):
    """``found[key] = item``, or a duplicate noted when ``key`` already has one (see ``check_duplicates``)."""
    if key in found:
        name = "/".join(key) if isinstance(key, tuple) else key
        obs.duplicates.append(f"{kind} {name} ({found[key][id_key]}, {item[id_key]})")
    else:
        found[key] = item


def check_duplicates(obs):
    """Refuse (before any write) a network where two resources carry the identity tags of one: which of them is
    the network's is not known, and either may be in use."""
    if obs.duplicates:
        raise SeedAWSError(message=f"Network {obs.environment}/{obs.name} has resources tagged as the same part: "
                                   f"{'; '.join(sorted(obs.duplicates))}. Delete the extra one (the one not in "
                                   "use), then run again; nothing was changed")


def _ours(tags, obs):
    return tags.get(TAG_ENVIRONMENT) == obs.environment and tags.get(TAG_NAME) == obs.name


def _sort_eips(obs, addresses):
    for address in addresses:
        tags = tags_of(address)
        if tags.get(TAG_COMPONENT) == NAT_EIP and tags.get(TAG_AZ) and tags[TAG_AZ] not in obs.eips:
            obs.eips[tags[TAG_AZ]] = address
        elif tags.get(TAG_COMPONENT) == NAT_EIP:
            obs.stray_eips.append(address)


# --- the managed view of what exists -------------------------------------------------------------
def user_tags(tags):
    return {k: v for k, v in tags.items() if k not in IDENTITY_KEYS and k not in ("Name", TAG_FEATURES)}


def cidr_routes(route_table):
    """{destination: route} of the IPv4 routes a view shows: not the local route (nor prefix-list or IPv6 ones).
    A static route wins over a propagated one of the same destination, as in AWS's route priority."""
    routes = {}
    for route in route_table.get("Routes", []):
        destination = route.get("DestinationCidrBlock")
        if destination and route.get("GatewayId") != "local" and (destination not in routes or is_static(route)):
            routes[destination] = route
    return routes


def is_static(route):
    """A route made with CreateRoute (one the module may replace or delete), not propagated from a virtual
    private gateway (AWS refuses DeleteRoute on those)."""
    return route.get("Origin", "CreateRoute") == "CreateRoute"


def own_target(route, obs):
    """True for a route to the network's own internet gateway or one of its NAT gateways (live, failed or
    going): the network's route, removed when no longer wanted whatever ``purge_routes`` says."""
    ids = {g.get("InternetGatewayId") for g in obs.igws}
    ids |= {n.get("NatGatewayId") for n in list(obs.nats.values()) + obs.dead_nats + obs.deleting_nats}
    ids |= set(obs.gone_nat_ids)
    ids.discard(None)
    return bool({route.get("GatewayId"), route.get("NatGatewayId")} & ids)


def kept_routes(obs, purge_routes):
    """{route table key: {destination: target}} of the routes a run keeps besides its own: propagated ones
    always, others' static ones unless ``purge_routes`` (the view's spelling, for the diff's "after")."""
    return {key: {destination: _route_target(route, obs) for destination, route in cidr_routes(table).items()
                  if not is_static(route) or not (purge_routes or own_target(route, obs))}
            for key, table in obs.route_tables.items()}


def _route_target(route, obs):
    if route.get("GatewayId") and route["GatewayId"] == (obs.igw or {}).get("InternetGatewayId"):
        target = IGW_REF
    elif route.get("NatGatewayId"):
        az = obs.nat_az_by_id().get(route["NatGatewayId"])
        target = nat_ref(az) if az else route["NatGatewayId"]
    else:
        target = next((route[k] for k in ("GatewayId", "NatGatewayId", "TransitGatewayId", "VpcPeeringConnectionId",
                                          "NetworkInterfaceId", "LocalGatewayId", "CarrierGatewayId",
                                          "CoreNetworkArn", "InstanceId") if route.get(k)), "?")
    return target if route.get("State", "active") == "active" else f"{target} (blackhole)"


def rules_view(group, obs):
    """The rules of a described security group (its IpPermissions), as the view spells them."""
    tiers = obs.sg_tier_by_id()
    view = {"ingress": [], "egress": []}
    for direction, key in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
        for permission in group.get(key) or []:
            port = permission.get("FromPort")
            if permission.get("ToPort") not in (None, port):
                port = f"{port}-{permission['ToPort']}"
            peers = [sg_ref(tiers[p["GroupId"]]) if p.get("GroupId") in tiers else p.get("GroupId")
                     for p in permission.get("UserIdGroupPairs") or []]
            peers += [r["CidrIp"] for r in permission.get("IpRanges") or []]
            peers += [r["CidrIpv6"] for r in permission.get("Ipv6Ranges") or []]
            peers += [r["PrefixListId"] for r in permission.get("PrefixListIds") or []]
            view[direction].extend(rule(permission["IpProtocol"], port, peer) for peer in peers)
    return {k: sorted(v) for k, v in view.items()}


def observed_view(obs):
    """The managed view (same shape as ``network.desired_view``) of what exists; None without a VPC."""
    if not obs.vpc:
        return None
    subnet_keys = obs.subnet_by_id()
    rt_keys = obs.rt_key_by_id()
    route_tables = {}
    for key, route_table in obs.route_tables.items():
        routes = {destination: _route_target(r, obs) for destination, r in cidr_routes(route_table).items()}
        azs = sorted(subnet_keys[a["SubnetId"]][1] for a in live_associations(route_table)
                     if a.get("SubnetId") in subnet_keys)
        route_tables[key] = {"routes": routes, "subnets": azs}
    endpoints = {}
    for service, endpoint in obs.endpoints.items():
        if endpoint.get("VpcEndpointType") == "Gateway":
            endpoints[service] = {"type": "Gateway", "route_tables": sorted(
                rt_keys.get(i, i) for i in endpoint.get("RouteTableIds", []))}
        else:
            endpoints[service] = {"type": "Interface", "subnets": sorted(
                subnet_keys[i][1] if i in subnet_keys else i for i in endpoint.get("SubnetIds", []))}
    subnets = {}
    for (tier, az), subnet in obs.subnets.items():
        subnets.setdefault(tier, {})[az] = subnet["CidrBlock"]
    flow_log = obs.flow_logs[0] if obs.flow_logs else None
    return {
        "vpc": {"cidr": obs.vpc["CidrBlock"], **obs.dns},
        "availability_zones": sorted({az for (_tier, az) in obs.subnets}),
        "internet_gateway": bool(obs.igw and igw_attached(obs.igw, obs.vpc_id)),
        "subnets": subnets,
        "nat_gateways": sorted(obs.nats),
        "route_tables": route_tables,
        "security_groups": {tier: rules_view(g, obs) for tier, g in obs.security_groups.items()},
        "vpc_endpoints": endpoints,
        "flow_logs": {"log_group": flow_log.get("LogGroupName"),
                      "retention_days": (obs.log_group or {}).get("retentionInDays"),
                      "traffic_type": flow_log.get("TrafficType")} if flow_log else None,
        "tags": user_tags(tags_of(obs.vpc)),
    }


def igw_attached(igw, vpc_id):
    return any(a.get("VpcId") == vpc_id and a.get("State") in ("available", "attached")
               for a in igw.get("Attachments", []))


# --- the facts both modules return ---------------------------------------------------------------
def network_facts(obs):
    """IDs structured by tier and AZ (see the RETURN docs of vpc_network)."""
    if not obs.vpc:
        return {}
    subnets = {tier: [] for tier in TIERS}
    for (tier, az), subnet in sorted(obs.subnets.items()):
        subnets[tier].append({"az": az, "id": subnet["SubnetId"], "cidr": subnet["CidrBlock"]})
    azs = sorted({az for (_tier, az) in obs.subnets})
    route_tables = {"public": None, "private": {}, "database": None}
    for key, route_table in obs.route_tables.items():
        if key.startswith("private:"):
            route_tables["private"][key.split(":", 1)[1]] = route_table["RouteTableId"]
        else:
            route_tables[key] = route_table["RouteTableId"]
    nats = []
    for az, nat in sorted(obs.nats.items()):
        address = (nat.get("NatGatewayAddresses") or [{}])[0]
        nats.append({"az": az, "id": nat["NatGatewayId"], "state": nat["State"],
                     "allocation_id": address.get("AllocationId"), "public_ip": address.get("PublicIp")})
    flow_log = obs.flow_logs[0] if obs.flow_logs else None
    return {
        "name": obs.name,
        "environment": obs.environment,
        "region": obs.region,
        "vpc_id": obs.vpc_id,
        "cidr": obs.vpc["CidrBlock"],
        "owner_id": obs.vpc.get("OwnerId"),
        "availability_zones": azs,
        "internet_gateway_id": (obs.igw or {}).get("InternetGatewayId"),
        "subnets": subnets,
        "subnet_ids": {tier: [s["id"] for s in items] for tier, items in subnets.items()},
        "nat_gateways": nats,
        "route_tables": route_tables,
        "security_groups": {tier: g["GroupId"] for tier, g in sorted(obs.security_groups.items())},
        "vpc_endpoints": {service: e["VpcEndpointId"] for service, e in sorted(obs.endpoints.items())},
        "flow_log": {"id": flow_log["FlowLogId"], "log_group": flow_log.get("LogGroupName"),
                     "iam_role_arn": flow_log.get("DeliverLogsPermissionArn")} if flow_log else None,
        "tags": tags_of(obs.vpc),
    }
