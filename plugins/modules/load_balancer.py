#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: load_balancer
short_description: Converge an Application Load Balancer with its listeners, rules and target groups
version_added: 1.0.0
description:
  - Manages an Application Load Balancer as one concept, in one module run - the load balancer and its attributes,
    an HTTP listener on port 80, an HTTPS listener on port 443 when O(certificate_arn) is given (the HTTP listener
    then redirects to HTTPS with a 301), the routing rules of the listener that serves traffic, and the target groups.
  - The load balancer is identified by O(name), target groups by their names. Target groups carry identity tags
    (C(seed:name) is the load balancer's name, C(seed:component), C(seed:managed-by)) written at creation; a target
    group that carries them and is no longer in O(target_groups) is deleted once nothing routes to it.
  - The module owns the load balancer's listeners - rules that are not in O(rules) are removed, and listeners other
    than HTTP:80 and HTTPS:443 are deleted.
  - Changes converge in place - listener default actions, rules (added, modified, re-prioritised or removed), target
    group health checks and attributes, subnets, security groups and tags. Nothing is deleted and recreated to apply
    a change. What cannot change in place (the scheme, a target group's port, protocol or target type) fails naming
    the field, before any write.
  - Options are validated before any API call.
  - Check mode makes no write call and reports in RV(actions) exactly the changes a real run would make.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description:
      - Name of the load balancer, which identifies it.
      - 1-32 letters, digits or C(-), not starting or ending with C(-), not starting with C(internal-).
    type: str
    required: true
  state:
    description: Whether the load balancer should exist.
    type: str
    choices: [present, absent]
    default: present
  scheme:
    description:
      - Whether the load balancer has public addresses (V(internet-facing)) or private ones only (V(internal)).
      - It cannot change once the load balancer exists.
    type: str
    choices: [internet-facing, internal]
    default: internet-facing
  subnets:
    description:
      - IDs of the subnets of the load balancer, at least two, in different availability zones. Required when
        O(state=present).
    type: list
    elements: str
  security_groups:
    description:
      - IDs of the security groups of the load balancer. When not given, the module leaves them as they are (AWS gives
        a new load balancer the VPC's default group).
    type: list
    elements: str
  ip_address_type:
    description: Address family of the load balancer's addresses (V(dualstack) needs IPv6 subnets).
    type: str
    choices: [ipv4, dualstack]
    default: ipv4
  idle_timeout:
    description: Idle timeout of connections, in seconds (1-4000).
    type: int
    default: 60
  deletion_protection:
    description:
      - Whether AWS refuses to delete the load balancer.
      - With O(state=absent) a protected load balancer (or O(deletion_protection=true) in the task) fails naming
        this option, unless O(force_absent=true), which turns the protection off and deletes. Once the load
        balancer is gone there is nothing to protect and O(state=absent) succeeds without a change.
    type: bool
    default: false
  force_absent:
    description: With O(state=absent), delete the load balancer even when deletion protection is on.
    type: bool
    default: false
  access_logs:
    description: Access logs to an S3 bucket (whose policy must let the load balancer write).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Whether the load balancer writes access logs.
        type: bool
        default: false
      bucket:
        description: Bucket name. Required when O(access_logs.enabled=true).
        type: str
      prefix:
        description:
          - Key prefix of the logs in the bucket (AWS writes them under C(<prefix>/AWSLogs/<account>/)).
          - It cannot start or end with C(/), nor contain C(AWSLogs).
        type: str
        default: ""
  certificate_arn:
    description:
      - ARN of an ACM (or IAM) certificate. When given, an HTTPS listener on port 443 serves the traffic with this
        certificate and the HTTP listener on port 80 redirects to it (HTTP 301); the rules are on the HTTPS listener.
      - When not given, an HTTP listener on port 80 serves the traffic and an HTTPS listener is deleted.
    type: str
  ssl_policy:
    description:
      - Security policy of the HTTPS listener, one of the predefined C(ELBSecurityPolicy-*) policies (Application Load
        Balancers take no custom policy), like V(ELBSecurityPolicy-TLS13-1-2-Res-2021-06).
    type: str
    default: ELBSecurityPolicy-TLS13-1-2-2021-06
  target_groups:
    description:
      - Target groups of the load balancer, identified by name (unique per account and region).
      - The port, protocol and target type of a target group cannot change; give it a new name to replace it.
      - A target group of that name that already exists is adopted; it must be in the VPC of O(subnets), checked
        before any write (for a new load balancer with one C(ec2:DescribeSubnets)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the target group, 1-32 letters, digits or C(-), not starting or ending with C(-).
        type: str
        required: true
      port:
        description: Port the targets receive traffic on (1-65535).
        type: int
        required: true
      protocol:
        description: Protocol to the targets.
        type: str
        choices: [HTTP, HTTPS]
        default: HTTP
      target_type:
        description: V(ip) for Fargate tasks and other IP targets, V(instance) for EC2 instances.
        type: str
        choices: [ip, instance]
        default: ip
      health_check:
        description: Health check of the targets, over the target group's protocol and the traffic port.
        type: dict
        default: {}
        suboptions:
          path:
            description: Path of the health check request; must start with C(/).
            type: str
            default: /
          interval:
            description: Seconds between checks (5-300), more than O(target_groups[].health_check.timeout).
            type: int
            default: 15
          timeout:
            description: Seconds without an answer that fail a check (2-120).
            type: int
            default: 5
          healthy_threshold:
            description: Consecutive successes that make a target healthy (2-10).
            type: int
            default: 2
          unhealthy_threshold:
            description: Consecutive failures that make a target unhealthy (2-10).
            type: int
            default: 3
          matcher:
            description: HTTP codes of a healthy answer, like V(200), V(200-399) or V(200,204).
            type: str
            default: 200-399
      deregistration_delay:
        description: Seconds a deregistering target keeps serving in-flight requests (0-3600).
        type: int
        default: 30
  default_target_group:
    description:
      - Name of the target group (in O(target_groups)) that receives requests no rule matches - the frontend.
      - When not given, such requests get a fixed 404 answer.
    type: str
  rules:
    description:
      - Routing rules of the listener that serves traffic, in evaluation order. Each forwards requests matching its
        path patterns and/or host headers (both must match when both are given) to a target group.
      - Rules on that listener that are not listed here are removed.
      - Two rules cannot claim the same path pattern, or the same host header, for the same requests.
    type: list
    elements: dict
    default: []
    suboptions:
      target_group:
        description: Name of the target group (in O(target_groups)) the rule forwards to.
        type: str
        required: true
      path_patterns:
        description:
          - Path patterns, like C(/api/*). At most 3 (AWS allows 3 values per condition, 5 per rule with
            O(rules[].host_headers)).
        type: list
        elements: str
        default: []
      host_headers:
        description:
          - Host names, like C(api.example.com) or C(*.example.com). At most 3 (see O(rules[].path_patterns)).
        type: list
        elements: str
        default: []
      priority:
        description:
          - Priority of the rule (1-50000, lower first).
          - When not given it is derived from the list order - the next multiple of 10 after the previous rule's
            priority that no rule claims - so the rules are evaluated in list order and a rerun derives the same.
        type: int
  defer_removals:
    description:
      - Make before break. With V(true), rules and target groups of this load balancer that are no longer wanted are
        left in place - they go on routing, and services may still be registered in those target groups - and are
        listed in RV(deferred_removals); a later run without it removes them. Everything else converges as usual.
      - A rule that sits on a priority a wanted rule takes is replaced all the same (two rules cannot share a
        priority).
      - For moving a service from one load balancer to another without a gap, for example
        C(playbooks/site.yml) when the HTTP API is switched on - the public C(/api/*) rule and its target group stay
        until the backend service runs behind the API's internal load balancer.
    type: bool
    default: false
  wait:
    description: Whether to wait for the load balancer to become active (and, with O(state=absent), to be gone).
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds, for the load balancer to become active or to be gone, and for a target group
        to be free to delete - one of a deleted load balancer, or one taken out of O(target_groups) whose rules
        just went (ELB answers ResourceInUse for a while). That wait happens with O(wait=false) too.
      - V(0) checks once without waiting, as in the other modules of this collection - the task fails if the load
        balancer is not active (or not gone) at that check. Negative values are refused before any API call.
        O(wait=false) does not wait for the load balancer at all.
    type: int
    default: 600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - O(tags) go on the load balancer and on its target groups.
  - Deleting the load balancer deletes its listeners and rules; its target groups are deleted after it.
"""

EXAMPLES = r"""
- name: A frontend and an API behind one load balancer, HTTPS with a redirect from HTTP
  seed.aws_migration.load_balancer:
    name: shop
    subnets: "{{ network.network.subnet_ids.public }}"
    security_groups: ["{{ network.network.security_groups.lb }}"]
    certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/0b8f4c3e-1111-2222-3333-444455556666
    target_groups:
      - name: shop-web
        port: 8080
        health_check: {path: /healthz}
      - name: shop-api
        port: 8000
        health_check: {path: /api/health, matcher: "200"}
    default_target_group: shop-web
    rules:
      - target_group: shop-api
        path_patterns: ["/api/*"]
      - target_group: shop-api
        host_headers: [api.example.com]
    tags:
      team: shop
  register: lb

- name: HTTP only, internal
  seed.aws_migration.load_balancer:
    name: metabase
    scheme: internal
    subnets: "{{ network.network.subnet_ids.private }}"
    target_groups:
      - name: metabase
        port: 3000
        health_check: {path: /api/health}
    default_target_group: metabase

- name: Tear it down, deletion protection or not
  seed.aws_migration.load_balancer:
    name: shop
    state: absent
    force_absent: true
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["create load balancer shop (internet-facing, 2 subnets)", "create target group shop-web (HTTP:8080, ip)",
           "create listener http (HTTP:80) -> forward to shop-web", "create rule 10 on http: path /api/* -> shop-api"]
deferred_removals:
  description: What O(defer_removals=true) left in place that a run without it removes (empty lists otherwise).
  returned: always
  type: dict
  contains:
    rules:
      description: "The rules left in place, as C(<listener> rule <priority>: <conditions> -> <target group>)."
      type: list
      elements: str
      sample: ["http rule 10: path /api/* -> shop-api"]
    target_groups:
      description: Names of the target groups left in place.
      type: list
      elements: str
      sample: ["shop-api"]
load_balancer:
  description: The load balancer as it is after the run (before it, in check mode). Empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the load balancer.
      type: str
      sample: shop
    arn:
      description: ARN of the load balancer.
      type: str
      sample: arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188
    dns_name:
      description: DNS name of the load balancer.
      type: str
      sample: shop-1234567890.eu-west-1.elb.amazonaws.com
    canonical_hosted_zone_id:
      description: Route 53 hosted zone of the DNS name (for alias records).
      type: str
      sample: Z32O12XQLNTSW2
    scheme:
      description: V(internet-facing) or V(internal).
      type: str
      sample: internet-facing
    type:
      description: Type of the load balancer.
      type: str
      sample: application
    state:
      description: State of the load balancer.
      type: str
      sample: active
    vpc_id:
      description: VPC of the load balancer.
      type: str
      sample: vpc-0123456789abcdef0
    ip_address_type:
      description: Address family of the load balancer.
      type: str
      sample: ipv4
    security_groups:
      description: Security group IDs.
      type: list
      elements: str
      sample: [sg-0123456789abcdef0]
    subnets:
      description: Subnet IDs.
      type: list
      elements: str
      sample: [subnet-0a, subnet-0b]
    availability_zones:
      description: Zones of the subnets.
      type: list
      elements: str
      sample: [eu-west-1a, eu-west-1b]
    listeners:
      description: Listener ARNs by key (C(http), C(https)).
      type: dict
      sample: {"http": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7"}
    target_groups:
      description: Target group ARNs by name.
      type: dict
      sample: {"shop-web": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/73e2d6bc24d8a067"}
    rules:
      description:
        - Rules of the listeners, each with C(arn), C(listener), C(priority), C(path_patterns), C(host_headers) and
          C(target_group) (or C(action) for a rule that does not forward to one target group).
      type: list
      elements: dict
      sample: [{"arn": "arn:aws:elasticloadbalancing:...:listener-rule/app/shop/50dc/f2f7/9683", "listener": "https",
                "priority": 10, "path_patterns": ["/api/*"], "host_headers": [], "target_group": "shop-api"}]
    tags:
      description: Tags of the load balancer.
      type: dict
      sample: {"team": "shop", "seed:name": "shop"}
"""

import re

from ansible_collections.seed.aws_migration.plugins.module_utils import ec2
from ansible_collections.seed.aws_migration.plugins.module_utils import elbv2
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.lb_routing import MAX_PRIORITY
from ansible_collections.seed.aws_migration.plugins.module_utils.lb_routing import check_name
from ansible_collections.seed.aws_migration.plugins.module_utils.lb_routing import in_range
from ansible_collections.seed.aws_migration.plugins.module_utils.lb_routing import routing_spec
from ansible_collections.seed.aws_migration.plugins.module_utils.lb_routing import unique
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import create_once
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import resource_tags
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import fail_wait
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_for

DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# The predefined policies (ALBs take no custom one): ELBSecurityPolicy-2016-08, ELBSecurityPolicy-TLS13-1-2-2021-06, ...
SSL_POLICY_RE = re.compile(r"^ELBSecurityPolicy-[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")
DEFAULT_WAIT_TIMEOUT = 600
REDIRECT_ACTION = {"Type": "redirect", "RedirectConfig": dict(elbv2.REDIRECT_DEFAULTS, Protocol="HTTPS", Port="443",
                                                              StatusCode="HTTP_301")}
NOT_FOUND_ACTION = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404",
                                                                      "ContentType": "text/plain"}}

# Load balancer attributes the module manages, by the short name actions use.
ATTRIBUTE_NAMES = {
    "idle_timeout.timeout_seconds": "idle_timeout",
    "deletion_protection.enabled": "deletion_protection",
    "access_logs.s3.enabled": "access_logs.enabled",
    "access_logs.s3.bucket": "access_logs.bucket",
    "access_logs.s3.prefix": "access_logs.prefix",
}
DEREGISTRATION_DELAY = "deregistration_delay.timeout_seconds"


# --- validation (no API call) --------------------------------------------------------------------
class LoadBalancerSpec:
    """Validated options of one load balancer. Built only by ``build_spec``."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def build_spec(params):
    """Validate a load_balancer task's options; raises ValidationError naming the field. No API call."""
    check_name("name", params["name"], "load balancer")
    if params["name"].startswith("internal-"):
        raise ValidationError("name", "a load balancer name cannot start with 'internal-'")
    spec = LoadBalancerSpec(name=params["name"], state=params.get("state") or "present",
                            tags=dict(params.get("tags") or {}), purge_tags=params.get("purge_tags", True),
                            deletion_protection=bool(params.get("deletion_protection")),
                            force_absent=bool(params.get("force_absent")), wait=params.get("wait", True),
                            defer_removals=bool(params.get("defer_removals")),
                            wait_timeout=params.get("wait_timeout"))
    if spec.wait_timeout is None:
        spec.wait_timeout = DEFAULT_WAIT_TIMEOUT
    if spec.wait_timeout < 0:
        raise ValidationError("wait_timeout", f"{spec.wait_timeout} is negative; give 0 or more seconds (0 checks "
                                              "once without waiting)")
    for key in spec.tags:
        if key.startswith("seed:") or key.startswith("aws:"):
            raise ValidationError("tags", f"tag key {key!r} is reserved (seed:* identity tags, aws:* system tags)")
    if spec.state == "absent":
        # deletion_protection: true with state=absent is refused by absent() when there is a load balancer to
        # protect; when it is already gone there is nothing to refuse (a teardown run again).
        return spec

    spec.subnets = list(params.get("subnets") or [])
    if len(spec.subnets) < 2:
        raise ValidationError("subnets", f"{len(spec.subnets)} given; an Application Load Balancer needs at least 2 "
                                         "subnets, in different availability zones")
    for index, subnet in enumerate(spec.subnets):
        if not str(subnet).startswith("subnet-"):
            raise ValidationError(f"subnets[{index}]", f"{subnet!r} is not a subnet ID")
    unique("subnets", spec.subnets, "subnet")
    groups = params.get("security_groups")
    spec.security_groups = None if groups is None else list(groups)
    for index, group in enumerate(spec.security_groups or []):
        if not str(group).startswith("sg-"):
            raise ValidationError(f"security_groups[{index}]", f"{group!r} is not a security group ID")
    unique("security_groups", spec.security_groups or [], "security group")
    spec.scheme = params.get("scheme") or "internet-facing"
    spec.ip_address_type = params.get("ip_address_type") or "ipv4"
    spec.idle_timeout = params.get("idle_timeout") if params.get("idle_timeout") is not None else 60
    in_range("idle_timeout", spec.idle_timeout, 1, 4000)
    spec.access_logs = _access_logs_spec(params.get("access_logs") or {})
    spec.certificate_arn = params.get("certificate_arn") or None
    if spec.certificate_arn and not spec.certificate_arn.startswith("arn:"):
        raise ValidationError("certificate_arn", f"{spec.certificate_arn!r} is not an ARN")
    spec.ssl_policy = params.get("ssl_policy") or DEFAULT_SSL_POLICY
    if not SSL_POLICY_RE.match(spec.ssl_policy):
        raise ValidationError("ssl_policy", f"{spec.ssl_policy!r} is not a predefined ELB security policy: "
                                            f"ELBSecurityPolicy-..., like {DEFAULT_SSL_POLICY}")

    spec.target_groups, spec.rules = routing_spec(params.get("target_groups"), params.get("rules"),
                                                  params.get("default_target_group"))
    spec.default_target_group = params.get("default_target_group") or None
    return spec


def _access_logs_spec(options):
    prefix = options.get("prefix") or ""
    if prefix.startswith("/") or prefix.endswith("/"):
        raise ValidationError("access_logs.prefix", f"{prefix!r} cannot start or end with '/' (AWS adds "
                                                    "/AWSLogs/<account>/ after it)")
    if "AWSLogs" in prefix:
        raise ValidationError("access_logs.prefix", f"{prefix!r} cannot contain AWSLogs (AWS adds /AWSLogs/<account>/ "
                                                    "after the prefix)")
    if not options.get("enabled"):
        return {"enabled": False}
    if not options.get("bucket"):
        raise ValidationError("access_logs.bucket", "is required when access_logs.enabled is true")
    return {"enabled": True, "bucket": options["bucket"], "prefix": prefix}


# --- the managed view ----------------------------------------------------------------------------
def default_action_text(spec):
    return f"forward to {spec.default_target_group}" if spec.default_target_group else \
        elbv2.action_view([NOT_FOUND_ACTION])


def desired_rule_view(rule):
    return {"priority": rule["priority"], "path_patterns": list(rule["path_patterns"]),
            "host_headers": list(rule["host_headers"]), "target_group": rule["target_group"]}


def desired_view(spec):
    """The managed state of a converged load balancer (what ``--diff`` shows as "after"); symbolic names only."""
    balancer = {
        "scheme": spec.scheme,
        "ip_address_type": spec.ip_address_type,
        "subnets": sorted(spec.subnets),
        "idle_timeout": spec.idle_timeout,
        "deletion_protection": spec.deletion_protection,
        "access_logs": dict(spec.access_logs),
    }
    if spec.security_groups is not None:
        balancer["security_groups"] = sorted(spec.security_groups)
    rules = [desired_rule_view(r) for r in sorted(spec.rules, key=lambda r: r["priority"])]
    http = {"protocol": "HTTP", "port": 80, "default_action": default_action_text(spec), "rules": rules}
    listeners = {elbv2.HTTP: http}
    if spec.certificate_arn:
        http.update(default_action=elbv2.action_view([REDIRECT_ACTION]), rules=[])
        listeners[elbv2.HTTPS] = {"protocol": "HTTPS", "port": 443, "default_action": default_action_text(spec),
                                  "certificate_arn": spec.certificate_arn, "ssl_policy": spec.ssl_policy,
                                  "rules": rules}
    target_groups = {tg["name"]: {"protocol": tg["protocol"], "port": tg["port"], "target_type": tg["target_type"],
                                  "health_check": dict(tg["health_check"]),
                                  "deregistration_delay": tg["deregistration_delay"]}
                     for tg in spec.target_groups}
    return {"load_balancer": balancer, "listeners": listeners, "target_groups": target_groups,
            "tags": dict(spec.tags)}


# --- rule planning (pure) ------------------------------------------------------------------------
def rule_label(paths, hosts, target):
    conditions = []
    if hosts:
        conditions.append("host " + ",".join(hosts))
    if paths:
        conditions.append("path " + ",".join(paths))
    return f"{' '.join(conditions) or 'any'} -> {target}"


def current_label(rule):
    view = elbv2.rule_view(rule)
    return rule_label(view["path_patterns"], view["host_headers"], view.get("target_group") or view.get("action"))


def desired_label(rule):
    return rule_label(rule["path_patterns"], rule["host_headers"], rule["target_group"])


def plan_rules(current, desired, keep=False):
    """Operations that turn a listener's ``current`` rules (described) into the ``desired`` ones (spec).

    Rules are matched by their conditions first (a match keeps its ARN: its target group and priority
    change in place), then, among the rest, by priority (conditions change in place); what is left is
    deleted or created. Order: deletes, modifications, priority moves (one rule at a time, each to a
    free priority; a cycle goes through a temporary one), creates. Returns a list of tuples:
    ``("delete", rule)``, ``("keep", rule)``, ``("modify", rule, want, conditions_changed, target_changed)``,
    ``("move", rule, want, old, new)``, ``("create", want)``.

    ``keep``: rules that are no longer wanted stay where they are (``("keep", rule)``), so they go on
    routing until a later run removes them; only one sitting on a priority a desired rule takes is
    deleted, since two rules cannot share a priority.
    """
    def key(paths, hosts, other=()):
        return tuple(paths), tuple(hosts), tuple(other)

    remaining = sorted(current, key=elbv2.rule_priority)
    pairs = []  # (current rule, desired rule, conditions changed)
    unmatched = []
    for want in sorted(desired, key=lambda r: r["priority"]):
        wanted = key(want["path_patterns"], want["host_headers"])
        found = next((r for r in remaining if key(*elbv2.rule_conditions(r)) == wanted), None)
        if found:
            remaining.remove(found)
            pairs.append((found, want, False))
        else:
            unmatched.append(want)
    creates = []
    for want in unmatched:
        found = next((r for r in remaining if elbv2.rule_priority(r) == want["priority"]), None)
        if found:
            remaining.remove(found)
            pairs.append((found, want, True))
        else:
            creates.append(want)

    reserved = {want["priority"] for want in desired}
    kept = [rule for rule in remaining if elbv2.rule_priority(rule) not in reserved] if keep else []
    ops = [("delete", rule) for rule in remaining if rule not in kept] + [("keep", rule) for rule in kept]
    for rule, want, conditions_changed in pairs:
        target_changed = elbv2.rule_view(rule).get("target_group") != want["target_group"]
        if conditions_changed or target_changed:
            ops.append(("modify", rule, want, conditions_changed, target_changed))

    position = {rule["RuleArn"]: elbv2.rule_priority(rule) for rule, _want, _changed in pairs}
    occupied = {priority: arn for arn, priority in position.items()}
    occupied.update({elbv2.rule_priority(rule): rule["RuleArn"] for rule in kept})  # never move targets
    pending = {rule["RuleArn"]: want["priority"] for rule, want, _changed in pairs
               if elbv2.rule_priority(rule) != want["priority"]}
    by_arn = {rule["RuleArn"]: (rule, want) for rule, want, _changed in pairs}
    while pending:
        ready = sorted((target, arn) for arn, target in pending.items() if target not in occupied)
        if ready:
            target, arn = ready[0]
            del pending[arn]
        else:  # a cycle (rules swapping priorities): one of them steps aside first
            arn = min(pending, key=lambda a: position[a])
            target = next(p for p in range(MAX_PRIORITY, 0, -1) if p not in occupied and p not in reserved)
        ops.append(("move", by_arn[arn][0], by_arn[arn][1], position[arn], target))
        del occupied[position[arn]]
        occupied[target] = arn
        position[arn] = target
    ops.extend(("create", want) for want in creates)
    return ops


def rule_conditions_payload(want):
    conditions = []
    if want["host_headers"]:
        conditions.append({"Field": "host-header", "HostHeaderConfig": {"Values": list(want["host_headers"])}})
    if want["path_patterns"]:
        conditions.append({"Field": "path-pattern", "PathPatternConfig": {"Values": list(want["path_patterns"])}})
    return conditions


# --- convergence ---------------------------------------------------------------------------------
class LoadBalancerManager:
    """Converges one load balancer. Every write goes through ``_do``, which records the action and, in check
    mode, skips the call: a check run and a real run walk the same code and report the same actions."""

    def __init__(self, module):
        self.module = module
        self.check_mode = module.check_mode
        self.spec = build_spec(module.params)  # raises ValidationError before any API call
        self.client = module.seed_client("elbv2")
        self.actions = []
        self.created = set()  # ARNs (and, in check mode, names) of what this run created, tagged at creation
        self.deferred = {"rules": [], "target_groups": []}  # removals left for a later run (defer_removals)
        self.kept_rules = set()  # ARNs of the rules in deferred["rules"]
        self.obs = None

    # -- plumbing -------------------------------------------------------------------------------
    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        if self.check_mode:
            return None
        return call(*args, **kwargs)

    def _create(self, action, create, find):
        """A create that runs at most once, even when a response is lost (see ``create_once``)."""
        return self._do(action, create_once, create, find)

    def _tags(self, component):
        return resource_tags(self.spec.tags, elbv2.identity(self.spec.name, component))

    def _tg_arn(self, name):
        return self.obs.target_groups.get(name, {}).get("TargetGroupArn")

    def _forward(self, name):
        return {"Type": "forward", "TargetGroupArn": self._tg_arn(name)}

    # -- entry points ---------------------------------------------------------------------------
    def present(self):
        spec = self.spec
        self.obs = obs = elbv2.discover(self.client, spec.name, [tg["name"] for tg in spec.target_groups])
        facts_before = elbv2.load_balancer_facts(obs)
        before = elbv2.observed_view(obs, security_groups=spec.security_groups is not None)
        after = desired_view(spec)
        if not spec.purge_tags and obs.lb:
            after["tags"] = {**elbv2.user_tags(obs.lb_tags), **spec.tags}
        self._check_immutable()

        self._ensure_load_balancer()
        self._ensure_target_groups()
        self._ensure_listeners()
        wanted = {tg["name"] for tg in spec.target_groups}
        for name in [n for n in obs.ours() if n not in wanted]:
            if spec.defer_removals:  # services may still be registered in it: a later run removes it
                self.deferred["target_groups"].append(name)
                after["target_groups"][name] = elbv2.target_group_view(obs.target_groups[name],
                                                                       obs.tg_attributes.get(name, {}))
            else:  # its rules went a moment ago: ELB may see it in use for a while (bounded by wait_timeout)
                self._delete_target_group(name)
        self._ensure_tags()
        self._wait_active()
        self._show_kept_rules(after)
        return facts_before, before, after

    def _show_kept_rules(self, after):
        """The diff's "after" holds the rules left in place by defer_removals, as they are."""
        for key, rules in self.obs.rules.items():
            listener = after["listeners"].get(key)
            kept = [elbv2.rule_view(r) for r in rules if r["RuleArn"] in self.kept_rules]
            if listener is not None and kept:
                listener["rules"] = sorted(listener["rules"] + kept, key=lambda r: r["priority"])

    def absent(self):
        spec = self.spec
        self.obs = obs = elbv2.discover(self.client, spec.name)
        facts_before = elbv2.load_balancer_facts(obs)
        before = elbv2.observed_view(obs)
        if obs.lb:
            if obs.lb.get("Type") != "application":
                raise ValidationError("name", f"{spec.name} is a {obs.lb.get('Type')} load balancer; this module "
                                              "manages Application Load Balancers only")
            protected = obs.attribute("deletion_protection.enabled") == "true"
            if (protected or spec.deletion_protection) and not spec.force_absent:
                why = "has deletion protection enabled" if protected else "is protected by deletion_protection: true"
                raise ValidationError("deletion_protection", f"load balancer {spec.name} {why}, so it is not deleted; "
                                                             "set force_absent: true to turn the protection off and "
                                                             "delete it")
            if protected:
                self._do(f"disable deletion protection on load balancer {spec.name}",
                         elbv2.modify_load_balancer_attributes, self.client, obs.arn,
                         {"deletion_protection.enabled": "false"})
            # Its listeners and rules go with it.
            self._do(f"delete load balancer {spec.name}", elbv2.delete_load_balancer, self.client, obs.arn)
            if not self.check_mode and spec.wait:
                self._wait_gone(obs.arn)
        for name in obs.ours():
            self._delete_target_group(name)
        return facts_before, before, None

    # -- the load balancer ----------------------------------------------------------------------
    def _check_immutable(self):
        obs, spec = self.obs, self.spec
        if obs.lb:
            if obs.lb.get("Type") != "application":
                raise ValidationError("name", f"{spec.name} is a {obs.lb.get('Type')} load balancer; this module "
                                              "manages Application Load Balancers only")
            if obs.lb.get("Scheme") != spec.scheme:
                raise ValidationError("scheme", f"load balancer {spec.name} is {obs.lb.get('Scheme')}; the scheme "
                                                f"cannot change to {spec.scheme} in place (delete the load balancer "
                                                "first)")
        vpc_id = obs.vpc_id
        if not obs.lb and any(tg["name"] in obs.target_groups for tg in spec.target_groups):
            vpc_id = self._subnets_vpc()  # a new load balancer with a target group that exists: compare VPCs
        for index, tg in enumerate(spec.target_groups):
            field, name = f"target_groups[{index}]", tg["name"]
            if name in obs.foreign:
                raise ValidationError(f"{field}.name", f"target group {name} belongs to load balancer "
                                                       f"{obs.foreign[name]} (seed:name tag)")
            current = obs.target_groups.get(name)
            if not current:
                continue
            for key, aws_key in (("protocol", "Protocol"), ("port", "Port"), ("target_type", "TargetType")):
                if current.get(aws_key) != tg[key]:
                    raise ValidationError(f"{field}.{key}", f"target group {name} has {key} {current.get(aws_key)}; "
                                                            f"it cannot change to {tg[key]} in place (give the "
                                                            "target group a new name to replace it)")
            if vpc_id and current.get("VpcId") != vpc_id:
                raise ValidationError(f"{field}.name", f"target group {name} is in {current.get('VpcId')} but the "
                                                       f"load balancer is in {vpc_id}; give it a new name")

    def _subnets_vpc(self):
        """The VPC of the load balancer's subnets (one DescribeSubnets), before the load balancer exists."""
        subnets = ec2.describe_subnets(self.module.seed_client("ec2"),
                                       [{"Name": "subnet-id", "Values": list(self.spec.subnets)}])
        vpcs = sorted({s["VpcId"] for s in subnets})
        if len(subnets) != len(set(self.spec.subnets)) or len(vpcs) != 1:
            found = ", ".join(f"{s['SubnetId']} in {s['VpcId']}" for s in subnets) or "none"
            raise ValidationError("subnets", f"must be existing subnets of one VPC (found: {found})")
        return vpcs[0]

    def _wanted_attributes(self):
        spec = self.spec
        wanted = {"idle_timeout.timeout_seconds": str(spec.idle_timeout),
                  "deletion_protection.enabled": str(spec.deletion_protection).lower(),
                  "access_logs.s3.enabled": str(spec.access_logs["enabled"]).lower()}
        if spec.access_logs["enabled"]:
            wanted.update({"access_logs.s3.bucket": spec.access_logs["bucket"],
                           "access_logs.s3.prefix": spec.access_logs["prefix"]})
        return wanted

    def _ensure_load_balancer(self):
        obs, spec = self.obs, self.spec
        if not obs.lb:
            lb = self._create(f"create load balancer {spec.name} ({spec.scheme}, {len(spec.subnets)} subnets)",
                              lambda: elbv2.create_load_balancer(
                                  self.client, spec.name, spec.subnets, spec.security_groups, spec.scheme,
                                  spec.ip_address_type, self._tags(elbv2.LOAD_BALANCER)),
                              lambda: elbv2.describe_load_balancer(self.client, spec.name))
            self.created.add(lb["LoadBalancerArn"] if lb else elbv2.LOAD_BALANCER)
            if lb:
                obs.lb = lb
                obs.lb_tags = self._tags(elbv2.LOAD_BALANCER)
            obs.attributes = {}  # a new load balancer has AWS's defaults
        else:
            self._ensure_placement()
        wanted = self._wanted_attributes()
        changes = {k: v for k, v in wanted.items() if obs.attribute(k) != v}
        # The action names what changes; the request carries the whole access-log setting, which AWS takes together.
        text = ", ".join(f"{ATTRIBUTE_NAMES[k]} {obs.attribute(k) or '-'} -> {v or '-'}"
                         for k, v in sorted(changes.items()))
        if changes and spec.access_logs["enabled"] and any(k.startswith("access_logs.") for k in changes):
            changes.update({k: v for k, v in wanted.items() if k.startswith("access_logs.")})
        if changes:
            self._do(f"set load balancer attributes: {text}", elbv2.modify_load_balancer_attributes, self.client,
                     obs.arn, changes)
            obs.attributes.update(changes)

    def _ensure_placement(self):
        obs, spec = self.obs, self.spec
        lb = obs.lb
        current = {z.get("SubnetId") for z in lb.get("AvailabilityZones") or []}
        if current != set(spec.subnets):
            add, remove = sorted(set(spec.subnets) - current), sorted(current - set(spec.subnets))
            answer = self._do(f"set load balancer subnets: add {', '.join(add) or 'none'}, remove "
                              f"{', '.join(remove) or 'none'}", elbv2.set_subnets, self.client, obs.arn, spec.subnets)
            if answer:
                lb["AvailabilityZones"] = answer.get("AvailabilityZones") or lb.get("AvailabilityZones")
        if spec.security_groups is not None and set(lb.get("SecurityGroups") or []) != set(spec.security_groups):
            current = set(lb.get("SecurityGroups") or [])
            add, remove = sorted(set(spec.security_groups) - current), sorted(current - set(spec.security_groups))
            self._do(f"set load balancer security groups: add {', '.join(add) or 'none'}, remove "
                     f"{', '.join(remove) or 'none'}", elbv2.set_security_groups, self.client, obs.arn,
                     spec.security_groups)
            lb["SecurityGroups"] = list(spec.security_groups)
        if lb.get("IpAddressType") != spec.ip_address_type:
            self._do(f"set load balancer ip_address_type {lb.get('IpAddressType')} -> {spec.ip_address_type}",
                     elbv2.set_ip_address_type, self.client, obs.arn, spec.ip_address_type)
            lb["IpAddressType"] = spec.ip_address_type

    def _wait_active(self):
        obs, spec = self.obs, self.spec
        if self.check_mode or not spec.wait or not obs.lb or (obs.lb.get("State") or {}).get("Code") == "active":
            return

        def poll():
            found = elbv2.describe_load_balancers(self.client, [obs.arn])
            state = (found[0].get("State") or {}) if found else {}
            if state.get("Code") == "failed":
                fail_wait(f"load balancer {spec.name} failed: {state.get('Reason')}")
            if found:
                obs.lb["State"] = found[0].get("State")
            return state.get("Code") in ("active", "active_impaired"), state.get("Code")

        wait_for(poll, f"load balancer {spec.name} to become active", spec.wait_timeout)

    def _wait_gone(self, arn):
        def poll():
            found = elbv2.describe_load_balancers(self.client, [arn])
            return not found, (found[0].get("State") or {}).get("Code") if found else "gone"

        wait_for(poll, f"load balancer {self.spec.name} to be deleted", self.spec.wait_timeout)

    # -- target groups --------------------------------------------------------------------------
    def _ensure_target_groups(self):
        obs = self.obs
        for tg in self.spec.target_groups:
            name = tg["name"]
            if name not in obs.target_groups:
                created = self._create(
                    f"create target group {name} ({tg['protocol']}:{tg['port']}, {tg['target_type']})",
                    lambda t=tg: elbv2.create_target_group(self.client, t["name"], obs.vpc_id, t["protocol"],
                                                           t["port"], t["target_type"], t["health_check"],
                                                           self._tags(elbv2.TARGET_GROUP)),
                    lambda n=name: next(iter(elbv2.describe_target_groups(self.client, [n])), None))
                self.created.add(name)
                if created:
                    obs.target_groups[name] = created
                    obs.tg_tags[name] = self._tags(elbv2.TARGET_GROUP)
                obs.tg_attributes[name] = {}  # a new target group has AWS's defaults
            else:
                current = elbv2.health_check_view(obs.target_groups[name])
                changed = [f"{k} {current.get(k)} -> {v}" for k, v in tg["health_check"].items()
                           if str(current.get(k)) != str(v)]
                if changed:
                    answer = self._do(f"modify target group {name} health check: {', '.join(changed)}",
                                      elbv2.modify_target_group, self.client, self._tg_arn(name), tg["health_check"])
                    if answer:
                        obs.target_groups[name] = answer
            attributes = obs.tg_attributes.setdefault(name, {})
            current_delay = attributes.get(DEREGISTRATION_DELAY, elbv2.DEFAULT_DEREGISTRATION_DELAY)
            if str(current_delay) != str(tg["deregistration_delay"]):
                self._do(f"set target group {name} deregistration_delay {current_delay} -> {tg['deregistration_delay']}",
                         elbv2.modify_target_group_attributes, self.client, self._tg_arn(name),
                         {DEREGISTRATION_DELAY: str(tg["deregistration_delay"])})
                attributes[DEREGISTRATION_DELAY] = str(tg["deregistration_delay"])

    def _delete_target_group(self, name):
        """Delete a target group whose rules, listeners or load balancer went a moment ago: AWS may see it in use
        for a while (ResourceInUse), so the delete is tried again until O(wait_timeout)."""
        self._do(f"delete target group {name}", self._delete_when_free, name, self._tg_arn(name))
        self.obs.target_groups.pop(name, None)

    def _delete_when_free(self, name, arn):
        def poll():
            try:
                elbv2.delete_target_group(self.client, arn)
            except SeedAWSError as e:
                if elbv2.error_code(e) != "ResourceInUse":
                    raise
                return False, "in use"
            return True, "deleted"

        wait_for(poll, f"target group {name} to be free to delete", self.spec.wait_timeout)

    # -- listeners and rules --------------------------------------------------------------------
    def _ensure_listeners(self):
        spec, obs = self.spec, self.obs
        default = self._forward(spec.default_target_group) if spec.default_target_group else NOT_FOUND_ACTION
        default_text = default_action_text(spec)
        if spec.certificate_arn:
            self._ensure_listener(elbv2.HTTPS, "HTTPS", [default], default_text)
            self._converge_rules(elbv2.HTTPS, spec.rules)
            self._ensure_listener(elbv2.HTTP, "HTTP", [REDIRECT_ACTION], elbv2.action_view([REDIRECT_ACTION]))
            self._converge_rules(elbv2.HTTP, [])
        else:
            self._ensure_listener(elbv2.HTTP, "HTTP", [default], default_text)
            self._converge_rules(elbv2.HTTP, spec.rules)
        for key in sorted(obs.listeners):
            if key == elbv2.HTTP or (key == elbv2.HTTPS and spec.certificate_arn):
                continue
            listener = obs.listeners.pop(key)
            obs.rules.pop(key, None)
            self._do(f"delete listener {key} ({listener.get('Protocol')}:{listener.get('Port')})",
                     elbv2.delete_listener, self.client, listener["ListenerArn"])

    def _ensure_listener(self, key, protocol, default_actions, default_text):
        spec, obs = self.spec, self.obs
        port = elbv2.LISTENER_PORTS[key]
        https = protocol == "HTTPS"
        current = obs.listeners.get(key)
        if not current:
            listener = self._create(
                f"create listener {key} ({protocol}:{port}) -> {default_text}",
                lambda: elbv2.create_listener(self.client, obs.arn, protocol, port, default_actions,
                                              spec.certificate_arn, spec.ssl_policy),
                lambda: next((item for item in elbv2.describe_listeners(self.client, obs.arn)
                              if int(item.get("Port") or 0) == port), None))
            if listener:
                obs.listeners[key] = listener
            obs.rules[key] = []
            return
        changes, texts = {}, []
        if current.get("Protocol") != protocol:
            changes["Protocol"] = protocol
            texts.append(f"protocol {current.get('Protocol')} -> {protocol}")
        current_text = elbv2.action_view(current.get("DefaultActions"))
        if current_text != default_text:
            changes["DefaultActions"] = default_actions
            texts.append(f"default action {current_text} -> {default_text}")
        if https:
            certificate = ((current.get("Certificates") or [{}])[0]).get("CertificateArn")
            if certificate != spec.certificate_arn or "Protocol" in changes:
                changes["Certificates"] = [{"CertificateArn": spec.certificate_arn}]
                texts.append(f"certificate {certificate or '-'} -> {spec.certificate_arn}")
            if current.get("SslPolicy") != spec.ssl_policy or "Protocol" in changes:
                changes["SslPolicy"] = spec.ssl_policy
                texts.append(f"ssl_policy {current.get('SslPolicy') or '-'} -> {spec.ssl_policy}")
        if changes:
            answer = self._do(f"modify listener {key}: {', '.join(texts)}", elbv2.modify_listener, self.client,
                              current["ListenerArn"], **changes)
            if answer:
                obs.listeners[key] = answer

    def _converge_rules(self, key, desired):
        obs = self.obs
        listener_arn = (obs.listeners.get(key) or {}).get("ListenerArn")
        rules = obs.rules.setdefault(key, [])
        for op in plan_rules(rules, desired, keep=self.spec.defer_removals):
            kind, rule = op[0], op[1]
            if kind == "keep":
                self.deferred["rules"].append(f"{key} rule {elbv2.rule_priority(rule)}: {current_label(rule)}")
                self.kept_rules.add(rule["RuleArn"])
            elif kind == "delete":
                self._do(f"delete rule {elbv2.rule_priority(rule)} on {key}: {current_label(rule)}",
                         elbv2.delete_rule, self.client, rule["RuleArn"])
                rules.remove(rule)
            elif kind == "modify":
                _kind, rule, want, conditions_changed, target_changed = op
                answer = self._do(
                    f"modify rule {elbv2.rule_priority(rule)} on {key}: {desired_label(want)} "
                    f"(was {current_label(rule)})", elbv2.modify_rule, self.client, rule["RuleArn"],
                    conditions=rule_conditions_payload(want) if conditions_changed else None,
                    actions=[self._forward(want["target_group"])] if target_changed else None)
                if answer:
                    rule.update({k: v for k, v in answer.items() if k != "Priority"})
            elif kind == "move":
                _kind, rule, want, old, new = op
                self._do(f"set priority of rule on {key} ({desired_label(want)}) {old} -> {new}",
                         elbv2.set_rule_priority, self.client, rule["RuleArn"], new)
                rule["Priority"] = str(new)
            else:
                want = rule
                created = self._create(
                    f"create rule {want['priority']} on {key}: {desired_label(want)}",
                    lambda w=want: elbv2.create_rule(self.client, listener_arn, w["priority"],
                                                     rule_conditions_payload(w), [self._forward(w["target_group"])]),
                    lambda w=want: next((r for r in elbv2.describe_rules(self.client, listener_arn)
                                         if elbv2.rule_priority(r) == w["priority"]), None))
                if created:
                    rules.append(created)
        rules.sort(key=elbv2.rule_priority)

    # -- tags -----------------------------------------------------------------------------------
    def _ensure_tags(self):
        obs, spec = self.obs, self.spec
        items = []
        if obs.lb and obs.arn not in self.created:
            items.append(("load balancer", spec.name, obs.arn, elbv2.LOAD_BALANCER, obs.lb_tags))
        for tg in spec.target_groups:
            name = tg["name"]
            if name in obs.target_groups and name not in self.created:
                items.append(("target group", name, self._tg_arn(name), elbv2.TARGET_GROUP, obs.tg_tags[name]))
        for kind, name, arn, component, current in items:
            to_set, to_unset = tag_delta(current, self._tags(component), spec.purge_tags)
            if to_set:
                self._do(f"set tags {', '.join(sorted(to_set))} on {kind} {name}", elbv2.add_tags, self.client, arn,
                         to_set)
                current.update(to_set)
            if to_unset:
                self._do(f"remove tags {', '.join(sorted(to_unset))} from {kind} {name}", elbv2.remove_tags,
                         self.client, arn, to_unset)
                for key in to_unset:
                    current.pop(key, None)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        scheme=dict(type="str", default="internet-facing", choices=["internet-facing", "internal"]),
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        ip_address_type=dict(type="str", default="ipv4", choices=["ipv4", "dualstack"]),
        idle_timeout=dict(type="int", default=60),
        deletion_protection=dict(type="bool", default=False),
        force_absent=dict(type="bool", default=False),
        access_logs=dict(type="dict", default={}, options=dict(
            enabled=dict(type="bool", default=False),
            bucket=dict(type="str"),
            prefix=dict(type="str", default=""),
        )),
        certificate_arn=dict(type="str"),
        ssl_policy=dict(type="str", default=DEFAULT_SSL_POLICY),
        target_groups=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            port=dict(type="int", required=True),
            protocol=dict(type="str", default="HTTP", choices=["HTTP", "HTTPS"]),
            target_type=dict(type="str", default="ip", choices=["ip", "instance"]),
            health_check=dict(type="dict", default={}, options=dict(
                path=dict(type="str", default="/"),
                interval=dict(type="int", default=15),
                timeout=dict(type="int", default=5),
                healthy_threshold=dict(type="int", default=2),
                unhealthy_threshold=dict(type="int", default=3),
                matcher=dict(type="str", default="200-399"),
            )),
            deregistration_delay=dict(type="int", default=30),
        )),
        default_target_group=dict(type="str"),
        rules=dict(type="list", elements="dict", default=[], options=dict(
            target_group=dict(type="str", required=True),
            path_patterns=dict(type="list", elements="str", default=[]),
            host_headers=dict(type="list", elements="str", default=[]),
            priority=dict(type="int"),
        )),
        defer_removals=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_converged(LoadBalancerManager, "load_balancer", lambda m: elbv2.load_balancer_facts(m.obs) if module.params["state"] == "present" else {},
                          extra=lambda m: {"deferred_removals": m.deferred})


if __name__ == "__main__":
    main()
