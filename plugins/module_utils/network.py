# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network layer's pure part: input validation, subnet layout and the managed view.

Nothing here calls AWS. ``build_spec`` validates everything that can be validated from the task's
options alone; ``resolve_layout`` finishes the job once the region's availability zones are known
(one read-only call); ``desired_view`` is the managed state a converged network has, in the same
shape that ``current_view`` (in vpc_network) builds from what AWS reports, so that the two compare
directly and form the ``--diff``.
"""

import ipaddress
import re

from ansible_collections.seed.aws_migration.plugins.module_utils import iam_roles
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.logs import RETENTION_DAYS as LOG_RETENTION_DAYS

TIERS = ("public", "private", "database")
NAT_MODES = ("per_az", "single", "none")
SG_TIERS = ("lb", "app", "db", "endpoints", "internal_lb", "vpc_link")

# Derived subnets: every tier owns 8 consecutive blocks, one per AZ letter (a..h), and the three
# tiers always reserve their room. A subnet's CIDR therefore depends only on its tier and AZ
# letter: adding an AZ or the database tier later never moves an existing subnet.
AZ_SLOTS = 8
DERIVED_NEWBITS = 5  # 3 tiers x 8 slots = 24 blocks, rounded up to 32
MIN_VPC_PREFIX, MAX_VPC_PREFIX = 16, 28
MIN_SUBNET_PREFIX, MAX_SUBNET_PREFIX = 16, 28

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
AZ_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+[a-h]$")
SERVICE_RE = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*$")

DEFAULT_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager")
ANY_IPV4 = "0.0.0.0/0"


def _network(field, value):
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as e:
        raise ValidationError(field, f"{value!r} is not a valid IPv4 CIDR block ({e})") from None
    if net.version != 4:
        raise ValidationError(field, f"{value!r} is not an IPv4 CIDR block")
    return net


def _check_name(field, value):
    if not value or not NAME_RE.match(value):
        raise ValidationError(field, f"{value!r} must be 1-32 lowercase letters, digits or '-', "
                                     "starting and ending with a letter or digit")


def _check_ports(field, ports):
    for index, port in enumerate(ports or []):
        if not 1 <= int(port) <= 65535:
            raise ValidationError(f"{field}[{index}]", f"port {port} is outside 1-65535")
    if len(set(ports or [])) != len(ports or []):
        raise ValidationError(field, "lists a port twice")


class NetworkSpec:
    """Validated options of one network. Built only by ``build_spec``."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    @property
    def tiers(self):
        return TIERS if self.database_tier else TIERS[:2]


def build_spec(params):
    """Validate a vpc_network task's options; raises ValidationError naming the field. No API call."""
    _check_name("name", params["name"])
    _check_name("environment", params["environment"])
    flow_logs = params.get("flow_logs") or {}
    iam_roles.validate_boundary(flow_logs.get("permissions_boundary"), "flow_logs.permissions_boundary")
    spec = NetworkSpec(name=params["name"], environment=params["environment"], state=params["state"],
                       tags=dict(params.get("tags") or {}), purge_tags=params.get("purge_tags", True),
                       purge_routes=bool(params.get("purge_routes", False)))
    for key in spec.tags:
        if key.startswith("seed:") or key.startswith("aws:"):
            raise ValidationError("tags", f"tag key {key!r} is reserved (seed:* identity tags, aws:* system tags)")
    if spec.state == "absent":
        return spec

    if not params.get("cidr"):
        raise ValidationError("cidr", "is required when state=present")
    vpc = _network("cidr", params["cidr"])
    if not MIN_VPC_PREFIX <= vpc.prefixlen <= MAX_VPC_PREFIX:
        raise ValidationError("cidr", f"VPC prefix /{vpc.prefixlen} is outside the /{MIN_VPC_PREFIX}-/{MAX_VPC_PREFIX} "
                                      "range AWS allows")
    spec.cidr = str(vpc)
    spec.vpc = vpc

    azs = list(params.get("availability_zones") or [])
    if azs:
        for index, az in enumerate(azs):
            if not AZ_RE.match(az or ""):
                raise ValidationError(f"availability_zones[{index}]", f"{az!r} is not an availability zone name "
                                                                      "(like eu-west-1a)")
        if len(set(azs)) != len(azs):
            raise ValidationError("availability_zones", "lists a zone twice")
        if len({az[-1] for az in azs}) != len(azs):
            raise ValidationError("availability_zones", "zones must end in distinct letters")
        az_count = len(azs)
        az_field = "availability_zones"
    else:
        az_count = params.get("az_count") or 2
        az_field = "az_count"
        if not 1 <= az_count <= AZ_SLOTS:
            raise ValidationError("az_count", f"{az_count} is outside 1-{AZ_SLOTS}")
    spec.requested_azs = azs
    spec.az_count = az_count
    spec.az_field = az_field

    spec.database_tier = bool(params.get("database_tier"))
    spec.explicit_subnets = {}
    for tier in TIERS:
        field = f"{tier}_subnets"
        given = params.get(field)
        if not given:
            continue
        if tier == "database" and not spec.database_tier:
            raise ValidationError(field, "is set but database_tier is false")
        if len(given) != az_count:
            raise ValidationError(field, f"has {len(given)} entries for {az_count} availability zones "
                                         "(one CIDR per zone, in zone order)")
        nets = []
        for index, value in enumerate(given):
            net = _network(f"{field}[{index}]", value)
            if not net.subnet_of(vpc):
                raise ValidationError(f"{field}[{index}]", f"{net} is outside the VPC CIDR {vpc}")
            if not MIN_SUBNET_PREFIX <= net.prefixlen <= MAX_SUBNET_PREFIX:
                raise ValidationError(f"{field}[{index}]", f"subnet prefix /{net.prefixlen} is outside the "
                                                           f"/{MIN_SUBNET_PREFIX}-/{MAX_SUBNET_PREFIX} range AWS allows")
            nets.append(net)
        spec.explicit_subnets[tier] = nets

    derived_tiers = [tier for tier in spec.tiers if tier not in spec.explicit_subnets]
    if derived_tiers and vpc.prefixlen + DERIVED_NEWBITS > MAX_SUBNET_PREFIX:
        raise ValidationError("cidr", f"a /{vpc.prefixlen} VPC is too small for the derived subnets "
                                      f"(/{vpc.prefixlen + DERIVED_NEWBITS} each, AWS needs /{MAX_SUBNET_PREFIX} or "
                                      f"larger): use /{MAX_SUBNET_PREFIX - DERIVED_NEWBITS} or larger, or give "
                                      f"{', '.join(t + '_subnets' for t in derived_tiers)} explicitly")
    _check_overlaps([(f"{tier}_subnets[{i}]", net) for tier, nets in spec.explicit_subnets.items()
                     for i, net in enumerate(nets)])

    spec.nat_mode = params.get("nat_mode") or "per_az"
    if spec.nat_mode not in NAT_MODES:
        raise ValidationError("nat_mode", f"{spec.nat_mode!r} is not one of {', '.join(NAT_MODES)}")
    spec.enable_dns_support = params.get("enable_dns_support", True)
    spec.enable_dns_hostnames = params.get("enable_dns_hostnames", True)
    if spec.enable_dns_hostnames and not spec.enable_dns_support:
        raise ValidationError("enable_dns_hostnames", "needs enable_dns_support")

    spec.security_groups = _security_group_spec(params.get("security_groups") or {})
    spec.vpc_endpoints = _endpoint_spec(params.get("vpc_endpoints") or {})
    spec.flow_logs = _flow_log_spec(params.get("flow_logs") or {}, spec)
    return spec


def _security_group_spec(options):
    options = dict(options)
    options.setdefault("enabled", True)
    options["internal_lb"] = bool(options.get("internal_lb"))
    for key, default in (("lb_ports", [80, 443]), ("app_ports", [80, 8000, 8080]), ("db_ports", [5432]),
                         ("lb_ingress_cidrs", [ANY_IPV4])):
        if options.get(key) is None:
            options[key] = default
    for key in ("lb_ports", "app_ports", "db_ports"):
        _check_ports(f"security_groups.{key}", options[key])
    for index, cidr in enumerate(options["lb_ingress_cidrs"]):
        _network(f"security_groups.lb_ingress_cidrs[{index}]", cidr)
    return options


def _endpoint_spec(options):
    options = dict(options)
    options["s3"] = bool(options.get("s3"))
    interface = options.get("interface")
    options["interface"] = list(interface or [])
    for index, service in enumerate(options["interface"]):
        if not SERVICE_RE.match(service or ""):
            raise ValidationError(f"vpc_endpoints.interface[{index}]", f"{service!r} is not a service short name "
                                                                       "(like ecr.api)")
    if len(set(options["interface"])) != len(options["interface"]):
        raise ValidationError("vpc_endpoints.interface", "lists a service twice")
    if "s3" in options["interface"]:
        raise ValidationError("vpc_endpoints.interface", "s3 is served by the gateway endpoint: set vpc_endpoints.s3")
    return options


def _flow_log_spec(options, spec):
    if not options.get("enabled"):
        return None
    retention = options.get("retention_days") or 30
    if retention not in LOG_RETENTION_DAYS:
        raise ValidationError("flow_logs.retention_days", f"{retention} is not a CloudWatch Logs retention "
                                                          f"({', '.join(map(str, LOG_RETENTION_DAYS))})")
    traffic = options.get("traffic_type") or "ALL"
    if traffic not in ("ALL", "ACCEPT", "REJECT"):
        raise ValidationError("flow_logs.traffic_type", f"{traffic!r} is not one of ALL, ACCEPT, REJECT")
    role = options.get("iam_role_arn")
    if role and not role.startswith("arn:"):
        raise ValidationError("flow_logs.iam_role_arn", f"{role!r} is not an ARN")
    boundary = options.get("permissions_boundary") or None
    if boundary and role:
        raise ValidationError("flow_logs.permissions_boundary", "is the boundary of the role the module creates; "
                                                                "with flow_logs.iam_role_arn it creates none")
    return {
        "log_group": options.get("log_group_name") or f"/seed/{spec.environment}/{spec.name}/vpc-flow-logs",
        "retention_days": retention,
        "traffic_type": traffic,
        "iam_role_arn": role,
        "permissions_boundary": boundary,
    }


def flow_log_role_policy(partition, region, account, log_group):
    """The inline policy of the flow-log role vpc_network creates: delivery to that log group only."""
    group_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{log_group}"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "WriteFlowLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": [group_arn, f"{group_arn}:*"]}]}


def flow_log_role_trust(account):
    """The trust policy of that role: the VPC flow logs service, for this account's resources only."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}


def _check_overlaps(named_nets):
    for i, (field_a, net_a) in enumerate(named_nets):
        for field_b, net_b in named_nets[i + 1:]:
            if net_a.overlaps(net_b):
                raise ValidationError(field_b, f"{net_b} overlaps {net_a} ({field_a})")


def az_slot(az):
    return ord(az[-1]) - ord("a")


def derived_subnet(vpc, tier, az):
    """The derived CIDR of a tier's subnet in an AZ (see AZ_SLOTS)."""
    prefix = vpc.prefixlen + DERIVED_NEWBITS
    size = 2 ** (32 - prefix)
    index = TIERS.index(tier) * AZ_SLOTS + az_slot(az)
    return ipaddress.ip_network((int(vpc.network_address) + index * size, prefix))


class Layout:
    """Where everything goes once the zones are known."""

    def __init__(self, azs, subnets, nat_azs):
        self.azs = azs  # ordered zone names
        self.subnets = subnets  # {tier: {az: cidr}}
        self.nat_azs = nat_azs  # zones that hold a NAT gateway

    def nat_for(self, az):
        """The zone whose NAT gateway a private subnet in ``az`` routes through (None: no NAT)."""
        if not self.nat_azs:
            return None
        return az if az in self.nat_azs else self.nat_azs[0]


def resolve_layout(spec, region_azs, existing_azs=()):
    """Pick the zones and the subnet CIDRs. ``region_azs``: the region's zones, ``{name: state}`` (a list:
    all available); ``existing_azs``: the zones the network's subnets are in already.

    A zone the network already uses stays chosen whatever its state: a zone that is ``impaired`` or
    ``constrained`` for a while must not make a run tear down the subnets, NAT gateway and route table
    there. New subnets only go to ``available`` zones."""
    states = region_azs if isinstance(region_azs, dict) else {az: "available" for az in region_azs}
    existing = {az for az in existing_azs if az in states}
    available = sorted(az for az, state in states.items() if state == "available" or az in existing)
    if spec.requested_azs:
        for index, az in enumerate(spec.requested_azs):
            if az not in available:
                state = f" (it is {states[az]})" if az in states else ""
                raise ValidationError(f"availability_zones[{index}]", f"{az} is not an available zone of this "
                                                                      f"region{state} ({', '.join(available) or 'none'})")
        azs = list(spec.requested_azs)
    else:
        usable = [az for az in available if AZ_RE.match(az)]
        if spec.az_count > len(usable):
            raise ValidationError("az_count", f"{spec.az_count} availability zones requested but the region has "
                                              f"{len(usable)} ({', '.join(usable) or 'none'})")
        kept = sorted(az for az in existing if az in usable)[:spec.az_count]
        azs = sorted(kept + [az for az in usable if az not in kept][:spec.az_count - len(kept)])
    subnets = {}
    for tier in spec.tiers:
        explicit = spec.explicit_subnets.get(tier)
        subnets[tier] = {az: str(explicit[i] if explicit else derived_subnet(spec.vpc, tier, az))
                         for i, az in enumerate(azs)}
    _check_overlaps([(f"{tier}_subnets[{i}]", ipaddress.ip_network(subnets[tier][az]))
                     for tier in spec.tiers for i, az in enumerate(azs)])
    nat_azs = {"per_az": list(azs), "single": azs[:1], "none": []}[spec.nat_mode]
    return Layout(azs, subnets, nat_azs)


# --- the managed view -------------------------------------------------------------------------
# Symbolic references keep the view free of IDs, so check mode can build the "after" side too.
IGW_REF = "internet_gateway"


def nat_ref(az):
    return f"nat_gateway:{az}"


def sg_ref(tier):
    return f"sg:{tier}"


def private_rt_key(az):
    return f"private:{az}"


def rule(protocol, port, peer):
    """One security-group rule as the view spells it: ``tcp/443 <- 0.0.0.0/0``."""
    ports = "all" if protocol == "-1" else f"{protocol}/{port}"
    return f"{ports} {peer}"


def security_group_rules(spec):
    """{tier: {"ingress": [...], "egress": [...]}} of the security groups the network owns."""
    sgs = spec.security_groups
    if not sgs["enabled"]:
        return {}
    groups = {
        "lb": {
            "ingress": [rule("tcp", p, cidr) for p in sgs["lb_ports"] for cidr in sgs["lb_ingress_cidrs"]],
            "egress": [rule("tcp", p, sg_ref("app")) for p in sgs["app_ports"]],
        },
        "app": {
            "ingress": [rule("tcp", p, sg_ref("lb")) for p in sgs["app_ports"]],
            "egress": [rule("-1", None, ANY_IPV4)],
        },
        "db": {
            "ingress": [rule("tcp", p, sg_ref("app")) for p in sgs["db_ports"]],
            "egress": [],
        },
    }
    if spec.vpc_endpoints["interface"]:
        groups["endpoints"] = {"ingress": [rule("tcp", 443, sg_ref("app"))], "egress": []}
    if sgs["internal_lb"]:
        # API Gateway's VPC link -> internal load balancer -> app: the backend's only way in from outside.
        groups["vpc_link"] = {"ingress": [], "egress": [rule("tcp", p, sg_ref("internal_lb")) for p in sgs["lb_ports"]]}
        groups["internal_lb"] = {"ingress": [rule("tcp", p, sg_ref("vpc_link")) for p in sgs["lb_ports"]],
                                 "egress": [rule("tcp", p, sg_ref("app")) for p in sgs["app_ports"]]}
        groups["app"]["ingress"] += [rule("tcp", p, sg_ref("internal_lb")) for p in sgs["app_ports"]]
    return {tier: {k: sorted(v) for k, v in g.items()} for tier, g in groups.items()}


def route_table_keys(spec, layout):
    keys = ["public"] + [private_rt_key(az) for az in layout.azs]
    if spec.database_tier:
        keys.append("database")
    return keys


def desired_view(spec, layout):
    """The managed state of a converged network (what ``--diff`` shows as "after")."""
    route_tables = {"public": {"routes": {ANY_IPV4: IGW_REF}, "subnets": sorted(layout.azs)}}
    for az in layout.azs:
        nat_az = layout.nat_for(az)
        route_tables[private_rt_key(az)] = {"routes": {ANY_IPV4: nat_ref(nat_az)} if nat_az else {},
                                            "subnets": [az]}
    if spec.database_tier:
        route_tables["database"] = {"routes": {}, "subnets": sorted(layout.azs)}
    endpoints = {}
    if spec.vpc_endpoints["s3"]:
        endpoints["s3"] = {"type": "Gateway",
                           "route_tables": sorted(k for k in route_tables if k != "public")}
    for service in spec.vpc_endpoints["interface"]:
        endpoints[service] = {"type": "Interface", "subnets": sorted(layout.azs)}
    view = {
        "vpc": {"cidr": spec.cidr, "enable_dns_support": spec.enable_dns_support,
                "enable_dns_hostnames": spec.enable_dns_hostnames},
        "availability_zones": sorted(layout.azs),
        "internet_gateway": True,
        "subnets": {tier: dict(layout.subnets[tier]) for tier in spec.tiers},
        "nat_gateways": sorted(layout.nat_azs),
        "route_tables": route_tables,
        "security_groups": security_group_rules(spec),
        "vpc_endpoints": endpoints,
        "flow_logs": ({k: v for k, v in spec.flow_logs.items() if k not in ("iam_role_arn", "permissions_boundary")}
                      if spec.flow_logs else None),
        "tags": dict(spec.tags),
    }
    return view
