#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vpc_network
short_description: Converge a whole multi-AZ VPC network as one resource
version_added: 1.0.0
description:
  - Manages a VPC with its internet gateway, public, private and (optionally) database subnets in N availability
    zones, NAT gateways with one Elastic IP each, route tables, security groups for the load balancer, app and
    database tiers (chained by group reference), optional VPC endpoints and VPC flow logs, as one concept.
  - Every resource carries identity tags (C(seed:environment), C(seed:name), C(seed:component), C(seed:az)) written
    atomically at creation. A rerun, also after a run that was killed halfway, finds resources by these tags and never
    creates a second VPC, NAT gateway or Elastic IP.
  - Options are validated before any API call, except the zones - checked against the region's zones from
    C(DescribeAvailabilityZones), which runs together with the C(DescribeVpcs) lookup - and before any write.
  - Check mode makes no write call and reports in RV(actions) exactly the changes a real run would make.
  - O(state=absent) first waits for network interfaces of resources outside the network (a load balancer or ECS
    tasks deleted a moment ago) to leave its subnets and security groups. It then tears the network down in
    dependency order, waits for NAT gateways and interface endpoints to go, releases the Elastic IPs it allocated,
    and removes the flow-log group and role it created.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description:
      - Name of the network. With O(environment) it identifies the network.
      - 1-32 lowercase letters, digits or C(-).
    type: str
    required: true
  environment:
    description:
      - Environment the network belongs to (for example C(production)). Part of the identity.
    type: str
    required: true
  state:
    description: Whether the network should exist.
    type: str
    choices: [present, absent]
    default: present
  cidr:
    description:
      - IPv4 CIDR block of the VPC, prefix /16 to /28. Required when O(state=present).
      - It cannot change once the VPC exists.
    type: str
  availability_zones:
    description:
      - Zone names to use, in order. Mutually exclusive with O(az_count).
      - Zones must end in distinct letters.
    type: list
    elements: str
  az_count:
    description:
      - Number of zones to use, the first ones of the region in name order, when O(availability_zones) is not given.
    type: int
    default: 2
  public_subnets:
    description:
      - Explicit CIDRs of the public subnets, one per zone in zone order.
      - When not given they are derived from O(cidr) - each tier owns 8 blocks of 1/32 of the VPC, one per zone
        letter, so adding a zone or the database tier never moves an existing subnet.
    type: list
    elements: str
  private_subnets:
    description: Explicit CIDRs of the private subnets, one per zone in zone order (derived when not given).
    type: list
    elements: str
  database_subnets:
    description: Explicit CIDRs of the database subnets, one per zone in zone order (derived when not given).
    type: list
    elements: str
  database_tier:
    description: Whether to create an isolated database subnet tier (its route table has no route out).
    type: bool
    default: false
  nat_mode:
    description:
      - V(per_az) puts a NAT gateway in every zone and routes each private subnet through its own zone's one.
      - V(single) puts one NAT gateway in the first zone for all private subnets.
      - V(none) creates no NAT gateway; private subnets have no route out.
    type: str
    choices: [per_az, single, none]
    default: per_az
  enable_dns_support:
    description: Whether the VPC resolves DNS through the Amazon provided server.
    type: bool
    default: true
  enable_dns_hostnames:
    description: Whether instances get DNS hostnames. Needs O(enable_dns_support).
    type: bool
    default: true
  security_groups:
    description:
      - Security groups of the tiers, chained by group reference. C(lb) accepts O(security_groups.lb_ports) from
        O(security_groups.lb_ingress_cidrs) and may reach C(app) only; C(app) accepts O(security_groups.app_ports) from
        C(lb) and may reach anywhere; C(db) accepts O(security_groups.db_ports) from C(app) and reaches nothing.
      - When interface endpoints are enabled an C(endpoints) group accepts HTTPS from C(app).
      - Rules of these groups are managed exactly; rules added by hand are removed.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Whether to manage the tier security groups.
        type: bool
        default: true
      lb_ports:
        description: TCP ports the load balancer listens on.
        type: list
        elements: int
        default: [80, 443]
      lb_ingress_cidrs:
        description: IPv4 CIDRs allowed to reach the load balancer.
        type: list
        elements: str
        default: [0.0.0.0/0]
      app_ports:
        description: TCP ports the containers listen on.
        type: list
        elements: int
        default: [80, 8000, 8080]
      db_ports:
        description: TCP ports of the database tier.
        type: list
        elements: int
        default: [5432]
      internal_lb:
        description:
          - Whether to add the groups of an internal load balancer reached through an API Gateway VPC link
            (M(seed.aws_migration.http_api)) - C(vpc_link) may reach C(internal_lb) on O(security_groups.lb_ports)
            only, C(internal_lb) accepts those from C(vpc_link) and may reach C(app) on O(security_groups.app_ports),
            and C(app) also accepts those from C(internal_lb).
        type: bool
        default: false
  vpc_endpoints:
    description: VPC endpoints that keep AWS traffic off the NAT gateways.
    type: dict
    default: {}
    suboptions:
      s3:
        description: Whether to add the S3 gateway endpoint to the private and database route tables.
        type: bool
        default: false
      interface:
        description:
          - Service short names of interface endpoints in the private subnets with private DNS, for example
            V(ecr.api), V(ecr.dkr), V(logs), V(secretsmanager).
        type: list
        elements: str
        default: []
  flow_logs:
    description: VPC flow logs to a CloudWatch Logs group.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Whether the VPC has a flow log.
        type: bool
        default: false
      log_group_name:
        description: Log group name. Defaults to C(/seed/<environment>/<name>/vpc-flow-logs).
        type: str
      retention_days:
        description: Retention of the log group, one of the values CloudWatch Logs accepts.
        type: int
        default: 30
      traffic_type:
        description: Which traffic to log.
        type: str
        choices: [ALL, ACCEPT, REJECT]
        default: ALL
      iam_role_arn:
        description:
          - Role the flow log service assumes to write to the group. When not given the module creates one, allowed
            to write to that log group only.
        type: str
      permissions_boundary:
        description:
          - ARN of an IAM managed policy set as the permissions boundary of the flow-log role the module creates
            (O(flow_logs.iam_role_arn) not given), a ceiling on what its policies can grant, for example the
            C(seed-workload-boundary) policy C(playbooks/bootstrap.yml) creates.
          - Set when the role is created, and corrected (C(iam:PutRolePermissionsBoundary)) when the existing role
            has another one or none. Not set - the boundary is not managed (a boundary already on the role is left
            alone).
          - Checked to be a policy ARN before any API call, and to exist (one C(iam:GetPolicy)) only when the role is
            created or written, before any write of the run. Not allowed with O(flow_logs.iam_role_arn).
        type: str
  purge_routes:
    description:
      - Whether routes in the network's route tables that the network does not define (added by another team or
        tool - a peering connection, a transit gateway, a virtual private gateway) are deleted.
      - V(false) keeps them, and the diff shows them kept. The routes the network defines (C(0.0.0.0/0) to the
        internet gateway or a NAT gateway) are converged either way, and a route to its own internet gateway or
        NAT gateways goes when no longer wanted. Routes propagated from a virtual private gateway are never
        deleted (AWS refuses it). IPv6 and prefix-list routes are not managed.
    type: bool
    default: false
  defer_removals:
    description:
      - Make before break for security groups. With V(true), a tier group the options no longer want (for example
        C(internal_lb) and C(vpc_link) once O(security_groups.internal_lb) is off) is left as it is, with its rules and
        the rules of the other groups that name it, and is listed in RV(deferred_removals). What uses it - an internal
        load balancer, a VPC link - goes on working; a later run without it, once those are gone, removes the group.
      - Everything else converges as usual.
    type: bool
    default: false
  wait_timeout:
    description:
      - How long to wait, in seconds, for NAT gateways and endpoints to become available or to go.
      - Also how long to wait, before deleting subnets or security groups, for the network interfaces of
        resources outside the network (a load balancer, ECS tasks, Lambda functions deleted a moment ago) to be
        released from them. When some are still there, the run fails naming them and has deleted nothing.
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - Subnet CIDRs and the VPC CIDR cannot change in place; such a change fails naming the field and changes nothing.
  - Removing a zone deletes its subnets, route table and NAT gateway. Like O(state=absent), it first waits for
    network interfaces of other resources in those subnets to go (see O(wait_timeout)).
"""

EXAMPLES = r"""
- name: A production network over three zones with a NAT gateway per zone
  seed.aws_migration.vpc_network:
    name: main
    environment: production
    cidr: 10.20.0.0/16
    az_count: 3
    nat_mode: per_az
    database_tier: true
    vpc_endpoints:
      s3: true
      interface: [ecr.api, ecr.dkr, logs, secretsmanager]
    flow_logs:
      enabled: true
      retention_days: 90
      permissions_boundary: arn:aws:iam::123456789012:policy/seed-deployer/seed-workload-boundary
    tags:
      team: platform
  register: network

- name: A cheap staging network with one NAT gateway
  seed.aws_migration.vpc_network:
    name: main
    environment: staging
    cidr: 10.30.0.0/16
    nat_mode: single

- name: Explicit subnets
  seed.aws_migration.vpc_network:
    name: legacy
    environment: production
    cidr: 172.16.0.0/20
    availability_zones: [eu-west-1a, eu-west-1b]
    public_subnets: [172.16.0.0/24, 172.16.1.0/24]
    private_subnets: [172.16.8.0/23, 172.16.10.0/23]

- name: The API is switched off - keep its security groups while its load balancer still uses them
  seed.aws_migration.vpc_network:
    name: main
    environment: staging
    cidr: 10.30.0.0/16
    security_groups:
      internal_lb: false
    defer_removals: true
  register: network

- name: Tear it down
  seed.aws_migration.vpc_network:
    name: main
    environment: staging
    state: absent
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["create vpc 10.20.0.0/16", "create subnet public/eu-west-1a 10.20.0.0/21"]
deferred_removals:
  description: What O(defer_removals=true) left in place that a run without it removes (empty lists without it, and
    with O(state=absent), which removes everything).
  returned: success
  type: dict
  contains:
    security_groups:
      description: Tiers of the security groups kept.
      type: list
      elements: str
      sample: [internal_lb, vpc_link]
network:
  description: The network as it is after the run (before it, in check mode). Empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the network.
      type: str
      sample: main
    environment:
      description: Environment of the network.
      type: str
      sample: production
    region:
      description: Region of the network.
      type: str
      sample: eu-west-1
    vpc_id:
      description: ID of the VPC.
      type: str
      sample: vpc-0123456789abcdef0
    cidr:
      description: CIDR block of the VPC.
      type: str
      sample: 10.20.0.0/16
    owner_id:
      description: Account that owns the VPC.
      type: str
      sample: "123456789012"
    availability_zones:
      description: Zones the network spans.
      type: list
      elements: str
      sample: [eu-west-1a, eu-west-1b]
    internet_gateway_id:
      description: ID of the internet gateway.
      type: str
      sample: igw-0123456789abcdef0
    subnets:
      description: Subnets by tier (C(public), C(private), C(database)), each a list of C(az), C(id), C(cidr).
      type: dict
      sample: {"public": [{"az": "eu-west-1a", "id": "subnet-0a", "cidr": "10.20.0.0/21"}], "private": [],
               "database": []}
    subnet_ids:
      description: Subnet IDs by tier, in zone order.
      type: dict
      sample: {"public": ["subnet-0a", "subnet-0b"], "private": ["subnet-1a", "subnet-1b"], "database": []}
    nat_gateways:
      description: NAT gateways with C(az), C(id), C(state), C(allocation_id) and C(public_ip).
      type: list
      elements: dict
      sample: [{"az": "eu-west-1a", "id": "nat-0a", "state": "available", "allocation_id": "eipalloc-0a",
                "public_ip": "203.0.113.10"}]
    route_tables:
      description: Route table IDs - C(public), C(private) by zone, C(database).
      type: dict
      sample: {"public": "rtb-0p", "private": {"eu-west-1a": "rtb-0a"}, "database": null}
    security_groups:
      description: Security group IDs by tier (C(lb), C(app), C(db), C(endpoints), C(internal_lb), C(vpc_link)).
      type: dict
      sample: {"lb": "sg-0l", "app": "sg-0a", "db": "sg-0d"}
    vpc_endpoints:
      description: VPC endpoint IDs by service short name.
      type: dict
      sample: {"s3": "vpce-0s"}
    flow_log:
      description: The flow log (C(id), C(log_group), C(iam_role_arn)), or null.
      type: dict
      sample: {"id": "fl-0f", "log_group": "/seed/production/main/vpc-flow-logs",
               "iam_role_arn": "arn:aws:iam::123456789012:role/seed/seed-production-main-vpc-flow-logs"}
    tags:
      description: Tags of the VPC.
      type: dict
      sample: {"Name": "production-main", "team": "platform"}
"""

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.seed.aws_migration.plugins.module_utils import ec2
from ansible_collections.seed.aws_migration.plugins.module_utils import iam
from ansible_collections.seed.aws_migration.plugins.module_utils import iam_roles
from ansible_collections.seed.aws_migration.plugins.module_utils import logs
from ansible_collections.seed.aws_migration.plugins.module_utils import network_state as ns
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.network import ANY_IPV4
from ansible_collections.seed.aws_migration.plugins.module_utils.network import build_spec
from ansible_collections.seed.aws_migration.plugins.module_utils.network import desired_view
from ansible_collections.seed.aws_migration.plugins.module_utils.network import flow_log_role_policy
from ansible_collections.seed.aws_migration.plugins.module_utils.network import flow_log_role_trust
from ansible_collections.seed.aws_migration.plugins.module_utils.network import resolve_layout
from ansible_collections.seed.aws_migration.plugins.module_utils.network import route_table_keys
from ansible_collections.seed.aws_migration.plugins.module_utils.network import security_group_rules
from ansible_collections.seed.aws_migration.plugins.module_utils.network import sg_ref
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import create_once
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import resource_tags
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_filters
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_specifications
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tags_of
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import fail_wait
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_for
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_until_gone

FLOW_LOG_POLICY = "flow-log-delivery"


def _permission(rule_text, sg_ids):
    """IpPermissions entry of a view rule (``tcp/443 0.0.0.0/0``, ``all sg:app``)."""
    ports, peer = rule_text.split(" ", 1)
    permission = {"IpProtocol": "-1"}
    if ports != "all":
        protocol, _sep, port_range = ports.partition("/")
        permission = {"IpProtocol": protocol}
        # "443", "1000-2000", ICMP "-1" (all types) or "8--1" (type 8, all codes); a protocol without
        # ports (ESP, "50/None") has none.
        found = re.match(r"^(-?\d+)(?:-(-?\d+))?$", port_range)
        if found:
            low = int(found.group(1))
            permission.update(FromPort=low, ToPort=low if found.group(2) is None else int(found.group(2)))
    if peer.startswith("sg:") or peer.startswith("sg-"):
        permission["UserIdGroupPairs"] = [{"GroupId": sg_ids.get(peer, peer)}]
    elif peer.startswith("pl-"):
        permission["PrefixListIds"] = [{"PrefixListId": peer}]
    elif ":" in peer:
        permission["Ipv6Ranges"] = [{"CidrIpv6": peer}]
    else:
        permission["IpRanges"] = [{"CidrIp": peer}]
    return permission


def _partition(region):
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


class NetworkManager:
    """Converges one network. Every write goes through ``_do``, which records the action and, in check
    mode, skips the call: a check run and a real run walk the same code and report the same actions."""

    def __init__(self, module):
        self.module = module
        self.check_mode = module.check_mode
        self.spec = build_spec(module.params)  # raises ValidationError before any API call
        self.ec2 = module.seed_client("ec2")
        self.region = module.region
        self.actions = []
        self.created = set()  # IDs of resources this run created, tagged at creation
        self.obs = None
        self.flow_log_role = (None, None)  # (role or None, its policy or None), read when the module manages it
        self.endpoint_interfaces_released = False  # a ModifyVpcEndpoint of this run took an endpoint out of a subnet
        self.wanted_groups = {}  # {tier: rules} the run converges the security groups to (_wanted_security_groups)
        self.deferred_groups = []  # tiers kept by defer_removals

    # -- plumbing -------------------------------------------------------------------------------
    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        if self.check_mode:
            return None
        return call(*args, **kwargs)

    def _prefix(self):
        return f"{self.spec.environment}-{self.spec.name}"

    def _tags(self, component, display, az=None):
        tags = resource_tags(self.spec.tags, self.obs.identity(component, az), f"{self._prefix()}-{display}")
        if component == ns.VPC and self._features():
            tags[ns.TAG_FEATURES] = ",".join(sorted(self._features()))
        return tags

    def _features(self):
        """The optional parts (endpoints, flow logs) the spec wants: listed on the VPC (ns.TAG_FEATURES)."""
        spec = self.spec
        wanted = {ns.FEATURE_FLOW_LOGS} if spec.flow_logs else set()
        if spec.vpc_endpoints["s3"] or spec.vpc_endpoints["interface"]:
            wanted.add(ns.FEATURE_ENDPOINTS)
        return wanted

    def _tagspec(self, resource_type, component, display, az=None):
        return tag_specifications(resource_type, self._tags(component, display, az))

    def _find(self, describe, component, az=None, scope=None, live=None):
        """The resource of a component, looked up by identity tags (``scope``: extra filters)."""
        filters = tag_filters(self.obs.identity(component, az)) + (scope or [])
        found = [item for item in describe(self.ec2, filters) if live is None or live(item)]
        return found[0] if found else None

    def _create(self, action, create, describe, component, id_key, az=None, scope=None, live=None):
        """A tagged create that runs at most once, even when a response is lost (see ``create_once``)."""
        if scope is None and self.obs.vpc_id and describe not in (ec2.describe_addresses,
                                                                  ec2.describe_internet_gateways, ec2.describe_vpcs):
            scope = [{"Name": "vpc-id", "Values": [self.obs.vpc_id]}]
        resource = self._do(action, create_once, create, lambda: self._find(describe, component, az, scope, live))
        if resource:
            self.created.add(resource[id_key])
        return resource

    # -- entry points ---------------------------------------------------------------------------
    def present(self):
        spec = self.spec
        with ThreadPoolExecutor(max_workers=2) as pool:  # two independent reads, one round trip
            zones = pool.submit(ec2.describe_availability_zones, self.ec2)
            found = pool.submit(ns.discover_vpcs, self.ec2, spec.environment, spec.name)
            region_azs, vpcs = zones.result(), found.result()
        if not vpcs:  # a new network: bad zone options fail before any other read (the real pick is below)
            resolve_layout(spec, region_azs)
        if len(vpcs) > 1:
            raise SeedAWSError(message=f"Found {len(vpcs)} VPCs tagged as network {spec.environment}/{spec.name} "
                                       f"({', '.join(v['VpcId'] for v in vpcs)}); delete the extra ones")
        # Endpoints and flow logs are looked for when wanted, or when the VPC says it has them.
        vpc = vpcs[0] if vpcs else None
        with ThreadPoolExecutor(max_workers=1) as pool:  # the flow-log role's reads, beside the describes
            role_reads = None
            if self._manages_flow_log_role():
                self._iam()  # the client is made here, not in the worker
                role_reads = pool.submit(self._observe_flow_log_role)
            self.obs = ns.discover(self.ec2, vpc, spec.environment, spec.name, self.region,
                                   logs_client=self._logs,
                                   log_group_name=spec.flow_logs and spec.flow_logs["log_group"],
                                   features=self._features() | ns.vpc_features(vpc))
            if role_reads:
                self.flow_log_role = role_reads.result()
        ns.check_duplicates(self.obs)
        # Zones of the subnets the network has stay chosen, whatever state AWS gives them today.
        layout = resolve_layout(spec, region_azs, {az for (_tier, az) in self.obs.subnets})
        facts_before = ns.network_facts(self.obs)
        before = ns.observed_view(self.obs)
        self.wanted_groups = self._wanted_security_groups()
        after = desired_view(spec, layout)
        after["security_groups"] = self.wanted_groups
        if not spec.purge_tags and before:
            after["tags"] = {**before["tags"], **spec.tags}
        for key, kept in ns.kept_routes(self.obs, spec.purge_routes).items():
            if key in after["route_tables"]:
                table = after["route_tables"][key]
                table["routes"] = {**{d: t for d, t in kept.items() if d not in table["routes"]}, **table["routes"]}
        self._check_immutable(layout)
        self._check_flow_log_boundary(before, after)
        removals = self._removals(layout)
        self._wait_interfaces_released(removals[2], removals[3], self._own_interfaces(removals[1]))

        self._ensure_vpc()
        self._list_new_features()
        self._ensure_internet_gateway()
        self._ensure_subnets(layout)
        new_nats = self._start_nat_gateways(layout)
        sg_ids = self._ensure_security_groups()
        self._ensure_flow_logs()
        self._wait_nat_gateways(new_nats)
        rt_ids = self._ensure_route_tables(spec, layout)
        self._ensure_endpoints(layout, rt_ids, sg_ids)
        self._remove_unwanted(layout, removals)
        self._ensure_tags()
        return facts_before, before, after

    def absent(self):
        spec = self.spec
        befores, facts_before = [], {}
        vpcs = ns.discover_vpcs(self.ec2, spec.environment, spec.name)
        found = [ns.discover(self.ec2, vpc, spec.environment, spec.name, self.region, logs_client=self._logs,
                             log_group_name=self._default_log_group()) for vpc in vpcs or [None]]
        for obs in found:
            ns.check_duplicates(obs)
        for obs in found:  # every VPC clear of other resources' interfaces before the first delete
            self.obs = obs
            self._wait_interfaces_released(list(obs.subnets), list(obs.security_groups),
                                           self._own_interfaces(list(obs.nats)))
        for obs in found:
            self.obs = obs
            befores.append(ns.observed_view(self.obs))
            facts_before = facts_before or ns.network_facts(self.obs)
            self._teardown()
        self._delete_flow_log_role()
        before = befores[0] if len(befores) == 1 else {"vpcs": befores}
        return facts_before, before, None

    # -- present: one step per resource kind ----------------------------------------------------
    def _check_immutable(self, layout):
        obs, spec = self.obs, self.spec
        if obs.vpc and obs.vpc["CidrBlock"] != spec.cidr:
            raise ValidationError("cidr", f"the VPC {obs.vpc_id} has {obs.vpc['CidrBlock']}; a VPC CIDR cannot "
                                          f"change to {spec.cidr} (delete the network first)")
        for tier in spec.tiers:
            for az, cidr in layout.subnets[tier].items():
                subnet = obs.subnets.get((tier, az))
                if subnet and subnet["CidrBlock"] != cidr:
                    raise ValidationError(f"{tier}_subnets", f"the {tier} subnet {subnet['SubnetId']} in {az} has "
                                                             f"{subnet['CidrBlock']}; a subnet CIDR cannot change "
                                                             f"to {cidr} in place")

    def _ensure_vpc(self):
        obs, spec = self.obs, self.spec
        if not obs.vpc:
            vpc = self._create(f"create vpc {spec.cidr}",
                               lambda: ec2.create_vpc(self.ec2, spec.cidr,
                                                      self._tagspec("vpc", ns.VPC, "vpc")),
                               ec2.describe_vpcs, ns.VPC, "VpcId")
            obs.vpc = vpc
            obs.dns = {"enable_dns_support": True, "enable_dns_hostnames": False}  # AWS defaults of a new VPC
        for attribute, wanted in (("enableDnsSupport", spec.enable_dns_support),
                                  ("enableDnsHostnames", spec.enable_dns_hostnames)):
            key = "enable_dns_" + attribute[len("enableDns"):].lower()
            if obs.dns.get(key) != wanted:
                self._do(f"set vpc {key}={str(wanted).lower()}", ec2.modify_vpc_attribute, self.ec2, obs.vpc_id,
                         attribute, wanted)
                obs.dns[key] = wanted

    def _list_new_features(self):
        """An optional part the existing VPC does not list yet (an endpoint, flow logs) is listed before it is
        made: a run that fails after making it, followed by one that no longer wants it, would otherwise not look
        for it (a run looks only for the parts wanted or listed) and leave it. The list loses a part only once it
        is gone (``_ensure_tags``, last)."""
        obs = self.obs
        if not obs.vpc or obs.vpc_id in self.created:
            return  # a new VPC lists them from its creation
        listed = ns.vpc_features(obs.vpc)
        if self._features() - listed:
            value = ",".join(sorted(listed | self._features()))
            self._do(f"set tags {ns.TAG_FEATURES} on vpc", ec2.create_tags, self.ec2, [obs.vpc_id],
                     {ns.TAG_FEATURES: value})
            tags = [t for t in obs.vpc.get("Tags") or [] if t.get("Key") != ns.TAG_FEATURES]
            obs.vpc["Tags"] = tags + [{"Key": ns.TAG_FEATURES, "Value": value}]

    def _ensure_internet_gateway(self):
        obs = self.obs
        if not obs.igw:
            igw = self._create("create internet gateway",
                               lambda: ec2.create_internet_gateway(
                                   self.ec2, self._tagspec("internet-gateway", ns.IGW, "igw")),
                               ec2.describe_internet_gateways, ns.IGW, "InternetGatewayId")
            obs.igws = [igw or {"Attachments": []}]
        if not ns.igw_attached(obs.igw, obs.vpc_id):
            self._do("attach internet gateway", ec2.attach_internet_gateway, self.ec2,
                     obs.igw.get("InternetGatewayId"), obs.vpc_id)
            obs.igw["Attachments"] = [{"VpcId": obs.vpc_id, "State": "available"}]

    def _ensure_subnets(self, layout):
        obs = self.obs
        for tier in self.spec.tiers:
            for az, cidr in layout.subnets[tier].items():
                if (tier, az) in obs.subnets:
                    continue
                component = ns.subnet_component(tier)
                subnet = self._create(
                    f"create subnet {tier}/{az} {cidr}",
                    lambda c=cidr, a=az, comp=component, t=tier: ec2.create_subnet(
                        self.ec2, obs.vpc_id, c, a, self._tagspec("subnet", comp, f"{t}-{a}", a)),
                    ec2.describe_subnets, component, "SubnetId", az)
                if subnet:
                    obs.subnets[(tier, az)] = subnet

    def _start_nat_gateways(self, layout):
        """Create missing NAT gateways (and their Elastic IPs) without waiting: they come up together."""
        obs, started = self.obs, []
        if any(az not in obs.nats for az in layout.nat_azs):
            self._wait_nats_deleted([])  # one still deleting may hold the Elastic IP a new one takes
        for az in layout.nat_azs:
            if az in obs.nats:
                continue
            if az not in obs.eips:
                eip = self._create(f"allocate elastic ip for nat_gateway:{az}",
                                   lambda a=az: ec2.allocate_address(
                                       self.ec2, self._tagspec("elastic-ip", ns.NAT_EIP, f"nat-eip-{a}", a)),
                                   ec2.describe_addresses, ns.NAT_EIP, "AllocationId", az)
                if eip:
                    obs.eips[az] = eip
            allocation_id = obs.eips.get(az, {}).get("AllocationId")
            subnet_id = obs.subnets.get(("public", az), {}).get("SubnetId")
            # The token ties the request to this exact EIP and to the NAT gateways gone before (failed, deleted):
            # a repeat is a no-op, and a NAT gateway deleted on this EIP is never handed back for a new one.
            token = hashlib.sha256("|".join([self._prefix(), az, str(allocation_id), str(subnet_id)] +
                                            [n["NatGatewayId"] for n in obs.dead_nats] +
                                            sorted(obs.gone_nat_ids)).encode()).hexdigest()[:40]
            nat = self._do(f"create nat_gateway:{az}", ec2.create_nat_gateway, self.ec2, subnet_id, allocation_id,
                           token, self._tagspec("natgateway", ns.NAT, f"nat-{az}", az))
            if nat:
                obs.nats[az] = nat
                started.append(nat["NatGatewayId"])
                self.created.add(nat["NatGatewayId"])
        return started

    def _wait_nat_gateways(self, nat_ids):
        if not nat_ids:
            return
        filters = [{"Name": "nat-gateway-id", "Values": nat_ids}]

        def poll():
            nats = ec2.describe_nat_gateways(self.ec2, filters)
            for nat in nats:
                if nat["State"] == "failed":
                    fail_wait(f"NAT gateway {nat['NatGatewayId']} failed: {nat.get('FailureCode')}: "
                              f"{nat.get('FailureMessage')}")
            pending = [f"{n['NatGatewayId']}={n['State']}" for n in nats if n["State"] != "available"]
            if not pending:
                for nat in nats:
                    self.obs.nats[tags_of(nat).get("seed:az")] = nat
            return not pending, ", ".join(pending)

        wait_for(poll, f"NAT gateways {', '.join(nat_ids)} to become available", self.module.params["wait_timeout"])

    def _ensure_route_tables(self, spec, layout):
        obs = self.obs
        subnet_rt = dict(obs.foreign_associations)  # subnet id -> (association id, route table id)
        for route_table in obs.route_tables.values():
            for assoc in ns.live_associations(route_table):
                if assoc.get("SubnetId"):
                    subnet_rt[assoc["SubnetId"]] = (assoc["RouteTableAssociationId"], route_table["RouteTableId"])
        rt_ids = {}
        for key in route_table_keys(spec, layout):
            tier, _sep, az = key.partition(":")
            route_table = obs.route_tables.get(key)
            if not route_table:
                component = ns.route_table_component(key)
                route_table = self._create(
                    f"create route table {key}",
                    lambda comp=component, a=az, k=key: ec2.create_route_table(
                        self.ec2, obs.vpc_id, self._tagspec("route-table", comp, "rt-" + k.replace(":", "-"),
                                                            a or None)),
                    ec2.describe_route_tables, component, "RouteTableId", az or None) or {"RouteTableId": None}
                obs.route_tables[key] = route_table
            rt_id = rt_ids[key] = route_table["RouteTableId"]
            self._converge_routes(key, route_table, self._wanted_routes(tier, az, layout))
            subnet_azs = [az] if az else layout.azs
            for subnet_az in subnet_azs:
                subnet_id = obs.subnets.get((tier, subnet_az), {}).get("SubnetId")
                current = subnet_rt.get(subnet_id) if subnet_id else None
                if current and current[1] == rt_id:
                    continue
                if current:
                    foreign = f" (from {current[1]}, not ours)" if subnet_id in obs.foreign_associations else ""
                    self._do(f"move subnet {tier}/{subnet_az} to route table {key}{foreign}",
                             ec2.replace_route_table_association, self.ec2, current[0], rt_id)
                else:
                    self._do(f"associate subnet {tier}/{subnet_az} with route table {key}",
                             ec2.associate_route_table, self.ec2, rt_id, subnet_id)
        return rt_ids

    def _wanted_routes(self, tier, az, layout):
        if tier == "public":
            return {ANY_IPV4: ("internet_gateway", self.obs.igw.get("InternetGatewayId"))}
        nat_az = layout.nat_for(az) if tier == "private" else None
        if nat_az:
            return {ANY_IPV4: (f"nat_gateway:{nat_az}", self.obs.nats.get(nat_az, {}).get("NatGatewayId"))}
        return {}

    def _converge_routes(self, key, route_table, wanted):
        # propagated routes (a virtual private gateway's) are never replaced nor deleted: AWS refuses that
        current = {d: r for d, r in ns.cidr_routes(route_table).items() if ns.is_static(r)}
        rt_id = route_table["RouteTableId"]
        for destination, (name, target_id) in wanted.items():
            route = current.get(destination)
            if not route:
                self._do(f"create route {key} {destination} -> {name}", ec2.create_route, self.ec2, rt_id,
                         destination, target_id)
            elif target_id not in (route.get("GatewayId"), route.get("NatGatewayId")) or \
                    route.get("State", "active") != "active" or target_id is None:
                self._do(f"replace route {key} {destination} -> {name}", ec2.replace_route, self.ec2, rt_id,
                         destination, target_id)
        for destination in sorted(set(current) - set(wanted)):
            # the network's own routes go when no longer wanted (nat_mode none, say); others' static routes
            # (peering, transit gateway) only when asked
            if self.spec.purge_routes or ns.own_target(current[destination], self.obs):
                self._do(f"delete route {key} {destination}", ec2.delete_route, self.ec2, rt_id, destination)

    def _wanted_security_groups(self):
        """{tier: rules} of the groups the run converges. With defer_removals, a group the spec no longer wants
        stays as it is, and so do the rules of the wanted groups that name it (see the option)."""
        wanted, obs = security_group_rules(self.spec), self.obs
        if not self.module.params["defer_removals"]:
            return wanted
        self.deferred_groups = sorted(t for t in obs.security_groups if t not in wanted)
        refs = {sg_ref(t) for t in self.deferred_groups}
        for tier in self.deferred_groups:
            wanted[tier] = ns.rules_view(obs.security_groups[tier], obs)
        for tier in set(wanted) - set(self.deferred_groups):
            if tier in obs.security_groups and refs:
                have = ns.rules_view(obs.security_groups[tier], obs)
                for direction in ("ingress", "egress"):
                    kept = [r for r in have[direction] if r.rsplit(" ", 1)[-1] in refs]
                    wanted[tier][direction] = sorted(set(wanted[tier][direction]) | set(kept))
        return wanted

    def _ensure_security_groups(self):
        obs, wanted = self.obs, self.wanted_groups
        sg_ids = {f"sg:{tier}": g["GroupId"] for tier, g in obs.security_groups.items()}
        current = {tier: ns.rules_view(g, obs) for tier, g in obs.security_groups.items()}
        for tier in wanted:
            if tier in obs.security_groups:
                continue
            component = ns.sg_component(tier)
            group = self._create(
                f"create security group {tier}",
                lambda t=tier, comp=component: ec2.create_security_group(
                    self.ec2, obs.vpc_id, f"{self._prefix()}-{t}", f"{self._prefix()} {t} tier (seed.aws_migration)",
                    self._tagspec("security-group", comp, t)),
                ec2.describe_security_groups, component, "GroupId") or {"GroupId": None}
            group_id = group.get("GroupId")
            obs.security_groups[tier] = group
            sg_ids[f"sg:{tier}"] = group_id
            current[tier] = {"ingress": [], "egress": [f"all {ANY_IPV4}"]}  # what AWS gives a new group
        for tier, rules in wanted.items():
            group_id = sg_ids[f"sg:{tier}"]
            for direction in ("ingress", "egress"):
                have, want = set(current[tier][direction]), set(rules[direction])
                if want - have:
                    self._do(f"authorize {direction} on security group {tier}: {', '.join(sorted(want - have))}",
                             ec2.authorize_rules, self.ec2, group_id, direction,
                             [_permission(r, sg_ids) for r in sorted(want - have)])
                if have - want:
                    self._do(f"revoke {direction} on security group {tier}: {', '.join(sorted(have - want))}",
                             ec2.revoke_rules, self.ec2, group_id, direction,
                             [_permission(r, sg_ids) for r in sorted(have - want)])
        return sg_ids

    # -- flow logs ------------------------------------------------------------------------------
    def _logs(self):
        if not hasattr(self, "_logs_client"):
            self._logs_client = self.module.seed_client("logs")
        return self._logs_client

    def _iam(self):
        if not hasattr(self, "_iam_client"):
            self._iam_client = self.module.seed_client("iam")
        return self._iam_client

    def _default_log_group(self):
        given = (self.module.params.get("flow_logs") or {}).get("log_group_name")
        return given or f"/seed/{self.spec.environment}/{self.spec.name}/vpc-flow-logs"

    def _flow_log_role_name(self):
        name = f"seed-{self._prefix()}-vpc-flow-logs"
        if len(name) > 64:
            name = name[:55] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
        return name

    def _ensure_flow_logs(self):
        obs, wanted = self.obs, self.spec.flow_logs
        if not wanted:
            if obs.flow_logs:
                self._do("delete flow log", ec2.delete_flow_logs, self.ec2, [f["FlowLogId"] for f in obs.flow_logs])
                obs.flow_logs = []
            return
        group = wanted["log_group"]
        if not obs.log_group or obs.log_group["logGroupName"] != group:
            self._do(f"create log group {group}", logs.create_log_group, self._logs(), group,
                     self._tags(ns.FLOW_LOG_GROUP, "vpc-flow-logs"))
            obs.log_group = {"logGroupName": group}
        if obs.log_group.get("retentionInDays") != wanted["retention_days"]:
            self._do(f"set log group {group} retention to {wanted['retention_days']} days",
                     logs.put_retention_policy, self._logs(), group, wanted["retention_days"])
            obs.log_group["retentionInDays"] = wanted["retention_days"]
        role_arn = wanted["iam_role_arn"] or self._ensure_flow_log_role(group)
        current = obs.flow_logs[0] if obs.flow_logs else None
        if current and (current.get("LogGroupName"), current.get("TrafficType"),
                        current.get("DeliverLogsPermissionArn")) == (group, wanted["traffic_type"], role_arn):
            return
        if current:
            self._do("delete flow log (replaced)", ec2.delete_flow_logs, self.ec2, [f["FlowLogId"] for f in obs.flow_logs])
        flow_log = self._create(
            f"create flow log {wanted['traffic_type']} -> {group}",
            lambda: ec2.create_flow_log(self.ec2, obs.vpc_id, group, role_arn, wanted["traffic_type"],
                                        self._tagspec("vpc-flow-log", ns.FLOW_LOG, "flow-log")),
            ec2.describe_flow_logs, ns.FLOW_LOG, "FlowLogId", scope=[{"Name": "resource-id", "Values": [obs.vpc_id]}])
        obs.flow_logs = [flow_log] if flow_log else []

    def _manages_flow_log_role(self):
        """Whether the run converges the flow-log role (flow logs wanted, no ``iam_role_arn`` given)."""
        return bool(self.spec.flow_logs and not self.spec.flow_logs["iam_role_arn"])

    def _observe_flow_log_role(self):
        """(role or None, its policy or None): GetRole (which carries the permissions boundary), and
        GetRolePolicy when the role exists - the same reads the role always cost, made before any write."""
        name = self._flow_log_role_name()
        role = iam.get_role(self._iam(), name)
        return role, (iam.get_role_policy(self._iam(), name, FLOW_LOG_POLICY) if role else None)

    def _flow_log_role_documents(self, group):
        """(trust, policy, owner) the flow-log role should have (the owner: the VPC's account)."""
        owner = (self.obs.vpc or {}).get("OwnerId")
        return (flow_log_role_trust(owner), flow_log_role_policy(_partition(self.region), self.region, owner, group),
                owner)

    def _flow_log_role_writes(self):
        """Whether converging the flow-log role writes anything (create, boundary, trust or policy)."""
        role, current = self.flow_log_role
        trust, policy, _owner = self._flow_log_role_documents(self.spec.flow_logs["log_group"])
        return (iam_roles.role_needs_policy_write((role, current), policy, self.spec.flow_logs["permissions_boundary"])
                or iam.policy_document(role.get("AssumeRolePolicyDocument")) != trust)

    def _check_flow_log_boundary(self, before, after):
        """With ``flow_logs.permissions_boundary``: the diff shows the role's boundary (``before``: None when
        there is no network yet), and before the run's first write the boundary policy must exist (one
        GetPolicy, only when the role is written: a converged role costs no request more)."""
        boundary = self.spec.flow_logs and self.spec.flow_logs["permissions_boundary"]
        if not boundary or not self._manages_flow_log_role():
            return
        name = self._flow_log_role_name()
        if before is not None:
            before["flow_log_role"] = {name: {"permissions_boundary": iam_roles.boundary_of(self.flow_log_role[0])}}
        after["flow_log_role"] = {name: {"permissions_boundary": boundary}}
        if self._flow_log_role_writes() and not iam_roles.policy_exists(self._iam(), boundary):
            raise ValidationError("flow_logs.permissions_boundary",
                                  f"policy {boundary} does not exist, so nothing was written "
                                  "(playbooks/bootstrap.yml creates it)")

    def _ensure_flow_log_role(self, group):
        name, boundary = self._flow_log_role_name(), self.spec.flow_logs["permissions_boundary"]
        trust, policy, owner = self._flow_log_role_documents(group)
        role, current = self.flow_log_role
        if not role:
            with_boundary = f" with permissions boundary {boundary}" if boundary else ""
            self._do(f"create iam role {name}{with_boundary}", iam.create_role, self._iam(), name, "/seed/",
                     trust, f"VPC flow logs of {self._prefix()} (seed.aws_migration)",
                     self._tags(ns.FLOW_LOG_ROLE, "vpc-flow-logs"), boundary)
        else:
            # the boundary first: the deployer may write a role's policy only once it carries the boundary
            if boundary and iam_roles.boundary_of(role) != boundary:
                self._do(f"set permissions boundary of iam role {name} to {boundary}",
                         iam_roles.put_role_permissions_boundary, self._iam(), name, boundary)
            if iam.policy_document(role.get("AssumeRolePolicyDocument")) != trust:
                self._do(f"update trust policy of iam role {name}", iam.update_assume_role_policy, self._iam(), name,
                         trust)
        if not role or current != policy:
            self._do(f"put policy {FLOW_LOG_POLICY} on iam role {name}", iam.put_role_policy, self._iam(), name,
                     FLOW_LOG_POLICY, policy)
        return f"arn:{_partition(self.region)}:iam::{owner}:role/seed/{name}"

    def _delete_flow_log_role(self):
        name = self._flow_log_role_name()
        role = iam.get_role(self._iam(), name)
        if not role or not _is_ours(tags_of(role), self.spec):
            return
        self._do(f"delete policy {FLOW_LOG_POLICY} from iam role {name}", iam.delete_role_policy, self._iam(), name,
                 FLOW_LOG_POLICY)
        self._do(f"delete iam role {name}", iam.delete_role, self._iam(), name)

    # -- VPC endpoints --------------------------------------------------------------------------
    def _wanted_endpoints(self, layout):
        spec, wanted = self.spec, {}
        if spec.vpc_endpoints["s3"]:
            wanted["s3"] = ("Gateway", [k for k in route_table_keys(spec, layout) if k != "public"])
        for service in spec.vpc_endpoints["interface"]:
            wanted[service] = ("Interface", list(layout.azs))
        return wanted

    def _ensure_endpoints(self, layout, rt_ids, sg_ids):
        obs = self.obs
        rt_keys, subnet_keys = obs.rt_key_by_id(), obs.subnet_by_id()
        for service, (kind, names) in self._wanted_endpoints(layout).items():
            ids = {n: rt_ids.get(n) if kind == "Gateway" else obs.subnets.get(("private", n), {}).get("SubnetId")
                   for n in names}
            endpoint = obs.endpoints.get(service)
            if not endpoint:
                params = {"VpcId": obs.vpc_id, "ServiceName": f"com.amazonaws.{self.region}.{service}",
                          "VpcEndpointType": kind}
                if kind == "Gateway":
                    params["RouteTableIds"] = [ids[n] for n in names]
                else:
                    params.update(SubnetIds=[ids[n] for n in names], SecurityGroupIds=[sg_ids.get("sg:endpoints")],
                                  PrivateDnsEnabled=True)
                component = ns.endpoint_component(service)
                endpoint = self._create(
                    f"create vpc endpoint {service} ({kind.lower()})",
                    lambda p=params, comp=component, s=service: ec2.create_vpc_endpoint(
                        self.ec2, self._tagspec("vpc-endpoint", comp, s), **p),
                    ec2.describe_vpc_endpoints, component, "VpcEndpointId",
                    live=lambda e: e.get("State", "").lower() not in ns.GONE_ENDPOINT_STATES)
                if endpoint:
                    obs.endpoints[service] = endpoint
                continue
            field, names_of = ("RouteTable", rt_keys) if kind == "Gateway" else ("Subnet", {
                i: az for i, (tier, az) in subnet_keys.items() if tier == "private"})
            have = {names_of.get(i, i) for i in endpoint.get(f"{field}Ids", [])}
            add, remove = sorted(set(names) - have), sorted(have - set(names))
            if add or remove:
                by_name = {v: k for k, v in names_of.items()}
                changes = {}
                if add:
                    changes[f"Add{field}Ids"] = [ids.get(n) for n in add]
                if remove:
                    changes[f"Remove{field}Ids"] = [by_name.get(n, n) for n in remove]
                self._do(f"update vpc endpoint {service}: add {add or 'nothing'}, remove {remove or 'nothing'}",
                         ec2.modify_vpc_endpoint, self.ec2, endpoint["VpcEndpointId"], **changes)
                if remove and field == "Subnet" and not self.check_mode:
                    self.endpoint_interfaces_released = True

    def _delete_endpoints(self, services):
        ids = [self.obs.endpoints[s]["VpcEndpointId"] for s in services]
        if not ids:
            return
        rt_keys = self.obs.rt_key_by_id()
        for service in services:
            endpoint = self.obs.endpoints[service]
            if endpoint.get("RouteTableIds"):
                # Route tables leave a gateway endpoint first, so that a failed delete never leaves it
                # half-routed. (Also what moto needs: it adds no routes for route tables added by
                # ModifyVpcEndpoint, then fails to delete the endpoint over them.)
                names = sorted(rt_keys.get(i, i) for i in endpoint["RouteTableIds"])
                self._do(f"detach route tables {', '.join(names)} from vpc endpoint {service}",
                         ec2.modify_vpc_endpoint, self.ec2, endpoint["VpcEndpointId"],
                         RemoveRouteTableIds=endpoint["RouteTableIds"])
        self._do(f"delete vpc endpoints {', '.join(sorted(services))}", ec2.delete_vpc_endpoints, self.ec2, ids)
        for service in services:
            del self.obs.endpoints[service]
        if not self.check_mode:
            wait_until_gone(lambda: ec2.describe_vpc_endpoints(self.ec2, ids=ids), "VpcEndpointId",
                            ("deleted", "rejected", "failed", "expired"),
                            f"VPC endpoints {', '.join(ids)} to be deleted", self.module.params["wait_timeout"])

    # -- removal of what is no longer wanted ----------------------------------------------------
    def _delete_nat_gateways(self, azs):
        obs = self.obs
        nats = [obs.nats.pop(az) for az in azs] + obs.dead_nats
        obs.dead_nats = []
        for nat in nats:
            self._do(f"delete nat_gateway:{tags_of(nat).get('seed:az')} {nat['NatGatewayId']}",
                     ec2.delete_nat_gateway, self.ec2, nat["NatGatewayId"])
        self._wait_nats_deleted(nats)

    def _wait_nats_deleted(self, nats):
        """Wait for these and for those an interrupted run left ``deleting``: until a NAT gateway is deleted
        its Elastic IP cannot be released or reused, nor its subnet deleted."""
        nats = nats + self.obs.deleting_nats
        self.obs.deleting_nats = []
        if nats and not self.check_mode:
            ids = [n["NatGatewayId"] for n in nats]
            filters = [{"Name": "nat-gateway-id", "Values": ids}]
            wait_until_gone(lambda: ec2.describe_nat_gateways(self.ec2, filters), "NatGatewayId", ("deleted", "failed"),
                            f"NAT gateways {', '.join(ids)} to be deleted", self.module.params["wait_timeout"])

    def _release_eips(self, azs):
        obs = self.obs
        addresses = [obs.eips.pop(az) for az in azs] + obs.stray_eips
        obs.stray_eips = []
        for address in addresses:
            self._do(f"release elastic ip {address.get('PublicIp')} (nat_gateway:{tags_of(address).get('seed:az')})",
                     ec2.release_address, self.ec2, address["AllocationId"])

    def _delete_route_tables(self, keys):
        for key in keys:
            route_table = self.obs.route_tables.pop(key)
            for assoc in ns.live_associations(route_table):
                if not assoc.get("Main") and assoc.get("RouteTableAssociationId"):
                    self._do(f"disassociate route table {key} from {assoc.get('SubnetId')}",
                             ec2.disassociate_route_table, self.ec2, assoc["RouteTableAssociationId"])
            self._do(f"delete route table {key}", ec2.delete_route_table, self.ec2, route_table["RouteTableId"])

    def _delete_subnets(self, keys):
        for tier, az in keys:
            subnet = self.obs.subnets.pop((tier, az))
            self._do(f"delete subnet {tier}/{az} {subnet['CidrBlock']}", ec2.delete_subnet, self.ec2,
                     subnet["SubnetId"])

    def _delete_security_groups(self, tiers):
        obs = self.obs
        sg_ids = {f"sg:{t}": g["GroupId"] for t, g in obs.security_groups.items()}
        views = {tier: ns.rules_view(obs.security_groups[tier], obs) for tier in tiers}
        groups = {tier: obs.security_groups.pop(tier) for tier in tiers}
        # Groups that reference each other cannot go before the references do.
        for tier, group in groups.items():
            rules = views[tier]
            for direction in ("ingress", "egress"):
                referencing = [r for r in rules[direction] if " sg" in r]
                if referencing:
                    self._do(f"revoke {direction} on security group {tier}: {', '.join(referencing)}",
                             ec2.revoke_rules, self.ec2, group["GroupId"], direction,
                             [_permission(r, sg_ids) for r in referencing])
        for tier, group in groups.items():
            self._do(f"delete security group {tier}", ec2.delete_security_group, self.ec2, group["GroupId"])

    def _removals(self, layout):
        """What the run takes out of the network: endpoint services, NAT zones, subnet keys, security group tiers."""
        obs, spec = self.obs, self.spec
        wanted_endpoints = self._wanted_endpoints(layout)
        wanted_groups = self.wanted_groups
        return ([s for s in obs.endpoints if s not in wanted_endpoints],
                [az for az in obs.nats if az not in layout.nat_azs],
                [key for key in obs.subnets if key[0] not in spec.tiers or key[1] not in layout.azs],
                [t for t in obs.security_groups if t not in wanted_groups])

    def _remove_unwanted(self, layout, removals):
        obs, spec = self.obs, self.spec
        endpoints, nat_azs, subnets, groups = removals
        self._delete_endpoints(endpoints)
        self._delete_nat_gateways(nat_azs)
        self._release_eips([az for az in obs.eips if az not in layout.nat_azs])
        self._delete_route_tables([k for k in obs.route_tables if k not in route_table_keys(spec, layout)])
        if self.endpoint_interfaces_released:
            # ModifyVpcEndpoint releases an endpoint's interface in a subnet it leaves a while later
            self._wait_interfaces_released(subnets, groups, nothing_deleted=False)
        self._delete_subnets(subnets)
        self._delete_security_groups(groups)

    def _own_interfaces(self, nat_azs):
        """(interface IDs, owner IDs) of the network interfaces that go with what the run deletes or changes itself:
        the NAT gateways of ``nat_azs`` and those failed or going, and the network's endpoints. A NAT gateway or
        endpoint still pending may not list its interface yet: AWS names the owner in the interface's description."""
        obs = self.obs
        nats = [obs.nats[az] for az in nat_azs] + obs.dead_nats + obs.deleting_nats
        interfaces = {a.get("NetworkInterfaceId") for nat in nats for a in nat.get("NatGatewayAddresses") or []}
        interfaces.update(i for e in obs.endpoints.values() for i in e.get("NetworkInterfaceIds") or [])
        owners = {n["NatGatewayId"] for n in nats} | {e["VpcEndpointId"] for e in obs.endpoints.values()}
        return interfaces, owners

    def _wait_interfaces_released(self, subnets, groups, own=(frozenset(), frozenset()), nothing_deleted=True):
        """Before deleting ``subnets`` ((tier, az) keys) or ``groups`` (tiers): wait until no network interface
        is left in those subnets or uses those groups, except ``own`` (see ``_own_interfaces``).

        AWS refuses DeleteSubnet and DeleteSecurityGroup (DependencyViolation) while an interface is there. Those
        left by a load balancer, ECS tasks or Lambda functions deleted a moment ago are released minutes later;
        an instance's, a database's or an EFS mount target's stay until their owner goes. Called before the first
        write (``nothing_deleted``), a run that times out has changed nothing. Check mode warns instead of waiting.
        """
        obs = self.obs
        if not obs.vpc_id or not (subnets or groups):
            return
        subnet_names = {obs.subnets[key]["SubnetId"]: f"{key[0]}/{key[1]}" for key in subnets}
        group_names = {obs.security_groups[tier]["GroupId"]: tier for tier in groups}
        own_interfaces, owners = own
        vpc_filter = [{"Name": "vpc-id", "Values": [obs.vpc_id]}]

        def ours(eni):
            return eni["NetworkInterfaceId"] in own_interfaces or (
                eni.get("InterfaceType") in ("nat_gateway", "vpc_endpoint")
                and any(owner in (eni.get("Description") or "") for owner in owners))

        def in_the_way():
            found = []
            for eni in ec2.describe_network_interfaces(self.ec2, vpc_filter):
                where = [f"subnet {subnet_names[eni['SubnetId']]}"] if eni.get("SubnetId") in subnet_names else []
                where += [f"security group {group_names[g['GroupId']]}" for g in eni.get("Groups") or []
                          if g.get("GroupId") in group_names]
                if where and not ours(eni):
                    found.append(_interface_text(eni, where))
            return sorted(found)

        what = (f"network interfaces to leave the subnets and security groups to be deleted "
                f"({'nothing was deleted' if nothing_deleted else 'those were kept'}: AWS refuses to delete them while "
                "an interface is there. These belong to resources outside this network - load balancers, ECS "
                "tasks, Lambda functions, databases, EFS mount targets or instances: delete those, then run again)")
        if self.check_mode:
            left = in_the_way()
            if left:
                self.module.warn(f"A real run would first wait up to {self.module.params['wait_timeout']}s for "
                                 f"these network interfaces to be released: {'; '.join(left)}")
            return

        def poll():
            left = in_the_way()
            return not left, "; ".join(left[:10]) + (f"; and {len(left) - 10} more" if len(left) > 10 else "")

        wait_for(poll, what, self.module.params["wait_timeout"])

    # -- tags -----------------------------------------------------------------------------------
    def _tagged_resources(self):
        """(resource id, component, display name, az, current tags) of everything the network owns."""
        obs = self.obs
        items = [(obs.vpc, "VpcId", ns.VPC, "vpc", None)]
        items += [(igw, "InternetGatewayId", ns.IGW, "igw", None) for igw in obs.igws]
        items += [(s, "SubnetId", ns.subnet_component(t), f"{t}-{az}", az) for (t, az), s in obs.subnets.items()]
        items += [(a, "AllocationId", ns.NAT_EIP, f"nat-eip-{az}", az) for az, a in obs.eips.items()]
        items += [(n, "NatGatewayId", ns.NAT, f"nat-{az}", az) for az, n in obs.nats.items()]
        items += [(r, "RouteTableId", ns.route_table_component(k), "rt-" + k.replace(":", "-"),
                   k.partition(":")[2] or None) for k, r in obs.route_tables.items()]
        items += [(g, "GroupId", ns.sg_component(t), t, None) for t, g in obs.security_groups.items()]
        items += [(e, "VpcEndpointId", ns.endpoint_component(s), s, None) for s, e in obs.endpoints.items()]
        items += [(f, "FlowLogId", ns.FLOW_LOG, "flow-log", None) for f in obs.flow_logs]
        return [(item[key], component, display, az, tags_of(item))
                for item, key, component, display, az in items if item and item.get(key)]

    def _ensure_tags(self):
        batches = {}
        for resource_id, component, display, az, current in self._tagged_resources():
            if resource_id in self.created:
                continue  # tagged at creation
            wanted = self._tags(component, display, az)
            to_set, to_unset = tag_delta(current, wanted, self.spec.purge_tags)
            if ns.TAG_FEATURES in current and ns.TAG_FEATURES not in wanted and ns.TAG_FEATURES not in to_unset:
                to_unset.append(ns.TAG_FEATURES)  # the module's own list: it goes whatever purge_tags says
            if to_set or to_unset:
                key = (tuple(sorted(to_set.items())), tuple(sorted(to_unset)))
                batches.setdefault(key, []).append((resource_id, f"{component}{'/' + az if az else ''}"))
        for (to_set, to_unset), resources in sorted(batches.items()):
            names = ", ".join(sorted(name for _id, name in resources))
            ids = [resource_id for resource_id, _name in resources]
            if to_set:
                self._do(f"set tags {', '.join(k for k, _v in to_set)} on {names}", ec2.create_tags, self.ec2, ids,
                         dict(to_set))
            if to_unset:
                self._do(f"remove tags {', '.join(to_unset)} from {names}", ec2.delete_tags, self.ec2, ids,
                         list(to_unset))

    # -- absent ---------------------------------------------------------------------------------
    def _teardown(self):
        obs = self.obs
        if obs.flow_logs:
            self._do("delete flow log", ec2.delete_flow_logs, self.ec2, [f["FlowLogId"] for f in obs.flow_logs])
        self._delete_endpoints(list(obs.endpoints))
        self._delete_nat_gateways(list(obs.nats))
        self._release_eips(list(obs.eips))
        self._delete_security_groups(list(obs.security_groups))
        self._delete_route_tables(list(obs.route_tables))
        self._delete_subnets(list(obs.subnets))
        for igw in obs.igws:
            for attachment in igw.get("Attachments", []):
                self._do(f"detach internet gateway {igw['InternetGatewayId']}", ec2.detach_internet_gateway,
                         self.ec2, igw["InternetGatewayId"], attachment["VpcId"])
            self._do(f"delete internet gateway {igw['InternetGatewayId']}", ec2.delete_internet_gateway, self.ec2,
                     igw["InternetGatewayId"])
        if obs.vpc:
            self._do(f"delete vpc {obs.vpc_id} {obs.vpc['CidrBlock']}", ec2.delete_vpc, self.ec2, obs.vpc_id)
        if obs.log_group and _is_ours(logs.list_log_group_tags(self._logs(), obs.log_group["logGroupName"]),
                                      self.spec):
            self._do(f"delete log group {obs.log_group['logGroupName']}", logs.delete_log_group, self._logs(),
                     obs.log_group["logGroupName"])


def _interface_text(eni, where):
    """One network interface in a message: its ID, where it is, and what it says it belongs to."""
    facts = list(where)
    if eni.get("InterfaceType") not in (None, "interface"):
        facts.append(f"type {eni['InterfaceType']}")
    if eni.get("Description"):
        facts.append(repr(eni["Description"]))
    if eni.get("RequesterManaged"):
        facts.append(f"managed by {eni.get('RequesterId', 'AWS')}")
    instance = (eni.get("Attachment") or {}).get("InstanceId")
    if instance:
        facts.append(f"attached to {instance}")
    facts.append(eni.get("Status", "?"))
    return f"{eni['NetworkInterfaceId']} ({', '.join(facts)})"


def _is_ours(tags, spec):
    return tags.get("seed:environment") == spec.environment and tags.get("seed:name") == spec.name


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        environment=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        cidr=dict(type="str"),
        availability_zones=dict(type="list", elements="str"),
        az_count=dict(type="int", default=2),
        public_subnets=dict(type="list", elements="str"),
        private_subnets=dict(type="list", elements="str"),
        database_subnets=dict(type="list", elements="str"),
        database_tier=dict(type="bool", default=False),
        nat_mode=dict(type="str", default="per_az", choices=["per_az", "single", "none"]),
        enable_dns_support=dict(type="bool", default=True),
        enable_dns_hostnames=dict(type="bool", default=True),
        security_groups=dict(type="dict", default={}, options=dict(
            enabled=dict(type="bool", default=True),
            lb_ports=dict(type="list", elements="int", default=[80, 443]),
            lb_ingress_cidrs=dict(type="list", elements="str", default=["0.0.0.0/0"]),
            app_ports=dict(type="list", elements="int", default=[80, 8000, 8080]),
            db_ports=dict(type="list", elements="int", default=[5432]),
            internal_lb=dict(type="bool", default=False),
        )),
        vpc_endpoints=dict(type="dict", default={}, options=dict(
            s3=dict(type="bool", default=False),
            interface=dict(type="list", elements="str", default=[]),
        )),
        flow_logs=dict(type="dict", default={}, options=dict(
            enabled=dict(type="bool", default=False),
            log_group_name=dict(type="str"),
            retention_days=dict(type="int", default=30),
            traffic_type=dict(type="str", default="ALL", choices=["ALL", "ACCEPT", "REJECT"]),
            iam_role_arn=dict(type="str"),
            permissions_boundary=dict(type="str"),
        )),
        wait_timeout=dict(type="int", default=900),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        purge_routes=dict(type="bool", default=False),
        defer_removals=dict(type="bool", default=False),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[("state", "present", ["cidr"])])
    module.exit_converged(NetworkManager, "network",
                          lambda m: ns.network_facts(m.obs) if module.params["state"] == "present" else {},
                          extra=lambda m: {"deferred_removals": {"security_groups": m.deferred_groups}})


if __name__ == "__main__":
    main()
