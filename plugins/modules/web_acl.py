#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: web_acl
short_description: An AWS WAF web ACL - managed rule groups, a per-IP rate limit, associations, logging, tags
version_added: 1.0.0
description:
  - Manages one AWS WAF (wafv2) web ACL in one run - its rules (AWS managed rule groups and a rate-based rule per
    client IP), default action, CloudWatch metrics and sampled requests, the resources it protects, its logging
    and its tags. By default it protects against malicious requests with the AWS managed common rule set and known
    bad inputs rule set, and against excessive requests with a limit of 2000 requests per client IP in 5 minutes.
  - Options are validated before any API call; a bad option fails naming the field and changes nothing.
  - The rules are compared in a canonical form (sorted by priority, with the defaults AWS fills in filled in on
    both sides), so values AWS adds never cause a change. An update replaces the rules with the ones the options
    describe - a rule added outside this module is removed (the diff shows it).
  - Updates and deletion use the lock token of the web ACL; when someone changed it in between
    (C(WAFOptimisticLockException)) the module reads it again and retries, three attempts in all.
  - Check mode makes no write call and reports in RV(actions) exactly the writes a real run would make.
  - O(state=absent) disassociates the web ACL from every resource (of every type), deletes its logging
    configuration, then deletes it. A V(CLOUDFRONT) web ACL must first be removed from the distributions that
    use it (their settings name it); AWS refuses to delete it before.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description: Name of the web ACL (1-128 letters, digits, C(_) and C(-)). Unique per scope and region.
    type: str
    required: true
  state:
    description: Whether the web ACL should exist.
    type: str
    choices: [present, absent]
    default: present
  scope:
    description:
      - V(REGIONAL) for Application Load Balancers and API Gateway REST API stages of the region.
      - V(CLOUDFRONT) for CloudFront distributions; such a web ACL is managed in C(us-east-1) only (other regions
        are refused) and is attached in the distribution's settings, so O(associations) is refused with it.
    type: str
    choices: [REGIONAL, CLOUDFRONT]
    default: REGIONAL
  description:
    description:
      - Description (3-256 letters, digits, spaces and C(+=:#@/-,._)). Not given - kept as it is. An empty string
        removes it.
    type: str
  default_action:
    description: What happens to a request that no rule blocks or allows.
    type: str
    choices: [allow, block]
    default: allow
  managed_rule_groups:
    description:
      - The managed rule groups to evaluate, each one rule of the web ACL.
      - The default is the AWS common rule set (C(AWSManagedRulesCommonRuleSet), priority 10) and the known bad
        inputs rule set (C(AWSManagedRulesKnownBadInputsRuleSet), priority 20). An empty list uses none.
    type: list
    elements: dict
    default:
      - {name: AWSManagedRulesCommonRuleSet, vendor: AWS, priority: 10, override_action: none}
      - {name: AWSManagedRulesKnownBadInputsRuleSet, vendor: AWS, priority: 20, override_action: none}
    suboptions:
      name:
        description: Name of the rule group, for example C(AWSManagedRulesCommonRuleSet).
        type: str
        required: true
      vendor:
        description: Vendor of the rule group.
        type: str
        default: AWS
      version:
        description: Version of the rule group. Not given - the vendor's default version.
        type: str
      priority:
        description:
          - Priority of the rule (lower runs first); unique among all rules of the web ACL.
          - Not given - 10 times the position in the list (10, 20, ...).
        type: int
      rule_name:
        description: Name of the web ACL rule that runs the group. Not given - the group's name.
        type: str
      override_action:
        description: V(none) applies the group's actions; V(count) only counts its matches (to try a group out).
        type: str
        choices: [none, count]
        default: none
      excluded_rules:
        description:
          - Rules of the group whose matches are only counted. The same as O(managed_rule_groups[].rule_action_overrides)
            with C(action=count), and stored as such.
        type: list
        elements: str
        default: []
      rule_action_overrides:
        description: Actions that replace the action of single rules of the group.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Name of the rule in the group, for example C(SizeRestrictions_BODY).
            type: str
            required: true
          action:
            description: The action to use instead.
            type: str
            required: true
            choices: [allow, block, count, captcha, challenge]
  rate_limit:
    description: A rate-based rule that limits the requests of each client IP address.
    type: dict
    suboptions:
      enabled:
        description: Whether the web ACL has the rate-based rule.
        type: bool
        default: true
      limit:
        description:
          - Requests one client may make in O(rate_limit.evaluation_window_seconds) before the rule applies, from
            10 (the AWS minimum since 2024) to 2000000000.
        type: int
        default: 2000
      evaluation_window_seconds:
        description: The window the requests are counted over.
        type: int
        choices: [60, 120, 300, 600]
        default: 300
      action:
        description: What happens to the requests of a client over the limit.
        type: str
        choices: [block, count]
        default: block
      aggregate_key_type:
        description:
          - V(IP) counts by the IP address the request comes from; V(FORWARDED_IP) by the address in
            O(rate_limit.forwarded_ip_header) (behind a proxy or CDN).
        type: str
        choices: [IP, FORWARDED_IP]
        default: IP
      forwarded_ip_header:
        description: Header that carries the client address with O(rate_limit.aggregate_key_type=FORWARDED_IP).
        type: str
        default: X-Forwarded-For
      forwarded_ip_fallback:
        description: Whether a request without a valid address in the header counts as a match.
        type: str
        choices: [MATCH, NO_MATCH]
        default: MATCH
      priority:
        description: Priority of the rule; unique among all rules of the web ACL.
        type: int
        default: 0
      name:
        description: Name of the rule.
        type: str
        default: RateLimitPerIP
  visibility:
    description: CloudWatch metrics and sampled requests of the web ACL and of every rule.
    type: dict
    suboptions:
      cloudwatch_metrics:
        description: Whether metrics are sent to CloudWatch.
        type: bool
        default: true
      sampled_requests:
        description: Whether AWS WAF keeps samples of the requests that match the rules.
        type: bool
        default: true
      metric_name:
        description:
          - Metric name of the web ACL; each rule's is this name, C(-) and the rule name. Not given - the name of the
            web ACL.
        type: str
  associations:
    description:
      - ARNs of the resources the web ACL protects - Application Load Balancers
        (C(arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>)) and API Gateway REST API
        stages (C(arn:aws:apigateway:<region>::/restapis/<id>/stages/<stage>)) of the module's region.
      - HTTP APIs (API Gateway v2, C(arn:aws:apigateway:<region>::/apis/<id>/stages/<stage>)) cannot be protected by
        AWS WAF; their ARNs are refused, naming the field. Network and Gateway Load Balancers are refused too.
      - Not given - the associations are neither read nor changed.
    type: list
    elements: str
  purge_associations:
    description:
      - Whether Application Load Balancers and REST API stages associated with the web ACL but not in
        O(associations) are disassociated.
    type: bool
    default: true
  logging:
    description:
      - Logging of the requests. Not given - left as it is.
    type: dict
    suboptions:
      enabled:
        description: Whether requests are logged; V(false) deletes the logging configuration.
        type: bool
        default: true
      destination_arn:
        description:
          - Where the logs go - the ARN of a CloudWatch Logs log group (without C(:*)), an S3 bucket or a Firehose
            delivery stream whose name starts with C(aws-waf-logs-) (AWS WAF's rule; other names are refused).
          - Required when O(logging.enabled=true).
        type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - Tag keys C(Name) and C(seed:*) are never removed by O(purge_tags).
  - The rules are replaced as a whole on every change (UpdateWebACL); fields the module does not manage (custom
    response bodies, CAPTCHA and challenge settings, token domains, body size limits) are sent back unchanged.
  - Only Application Load Balancer and REST API stage associations are listed (ListResourcesForWebACL) and purged
    while O(state=present); O(state=absent) lists and disassociates every resource type.
"""

EXAMPLES = r"""
- name: Protect the public load balancer (common rule set, known bad inputs, 2000 requests per IP in 5 minutes)
  seed.aws_migration.web_acl:
    name: production-public
    associations:
      - "{{ load_balancer.load_balancer.arn }}"
    logging:
      destination_arn: arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-production
    tags:
      team: platform

- name: Try a stricter limit and count, not block, one noisy rule of the common rule set
  seed.aws_migration.web_acl:
    name: production-public
    rate_limit:
      limit: 500
    managed_rule_groups:
      - name: AWSManagedRulesCommonRuleSet
        priority: 10
        rule_action_overrides:
          - {name: SizeRestrictions_BODY, action: count}
      - name: AWSManagedRulesKnownBadInputsRuleSet
        priority: 20
    associations:
      - "{{ load_balancer.load_balancer.arn }}"
      - arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/prod

- name: Remove the web ACL (disassociated from everything first)
  seed.aws_migration.web_acl:
    name: production-public
    state: absent
"""

RETURN = r"""
actions:
  description: The writes made (or, in check mode, that a real run would make), in order, one per API call.
  returned: always
  type: list
  elements: str
  sample: ["create web ACL production-public (REGIONAL, default action allow, rules: RateLimitPerIP,
            AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet)",
           "associate web ACL production-public with arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/public/0123456789abcdef"]
web_acl:
  description: The web ACL after the run (before it, in check mode); empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the web ACL.
      type: str
      sample: production-public
    id:
      description: ID of the web ACL.
      type: str
      sample: a1b2c3d4-5678-90ab-cdef-EXAMPLE11111
    arn:
      description: ARN of the web ACL.
      type: str
      sample: arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/production-public/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111
    scope:
      description: C(REGIONAL) or C(CLOUDFRONT).
      type: str
      sample: REGIONAL
    capacity:
      description: Web ACL capacity units the rules use, as read at the start of the run; null when the run
        created the web ACL or changed its rules.
      type: int
      sample: 1400
    description:
      description: Description, or null.
      type: str
      sample: Public entry point
    default_action:
      description: C(allow) or C(block).
      type: str
      sample: allow
    rules:
      description: The rules, by priority.
      type: list
      elements: dict
      sample: [{"name": "RateLimitPerIP", "priority": 0}, {"name": "AWSManagedRulesCommonRuleSet", "priority": 10}]
    associations:
      description: ARNs of the Application Load Balancers and REST API stages the web ACL protects; null when
        O(associations) was not given (then they are not read).
      type: list
      elements: str
      sample: ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/public/0123456789abcdef"]
    logging:
      description: The logging destination (C(destination_arn), null when logging is off); null when O(logging)
        was not given (then it is not read).
      type: dict
      sample: {"destination_arn": "arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-production"}
    tags:
      description: Tags of the web ACL.
      type: dict
      sample: {"team": "platform", "seed:managed-by": "seed.aws_migration"}
diff:
  description:
    - The managed fields before and after - description, default action, visibility, the rules by name (priority,
      rule group and overrides, or limit and action), associations, logging and tags.
  returned: in diff mode
  type: dict
  sample: {"before": {"rules": {"RateLimitPerIP": {"limit": 2000}}}, "after": {"rules": {"RateLimitPerIP": {"limit": 5000}}}}
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import wafv2
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import changed_paths
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import create_once
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

# UpdateWebACL replaces every mutable field: these, which the module does not manage, are sent back as read.
UNMANAGED_FIELDS = ("DataProtectionConfig", "CustomResponseBodies", "CaptchaConfig", "ChallengeConfig",
                    "TokenDomains", "AssociationConfig", "OnSourceDDoSProtectionConfig", "ApplicationConfig")
_UNSET = object()


class WebAclManager:
    """Converges one web ACL. Every write goes through ``_do``, which records the action and, in check mode,
    skips the call: a check run and a real run walk the same code and report the same actions."""

    def __init__(self, module):
        self.module = module
        self.spec = wafv2.build_spec(module.params, module.region)  # ValidationError before any client
        self.waf = module.seed_client("wafv2")
        self.actions = []
        self.facts = {}

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.module.check_mode else call(*args, **kwargs)

    def _tags(self):
        return dict(self.spec.tags or {}, **{TAG_MANAGED_BY: "seed.aws_migration", TAG_COMPONENT: "web-acl"})

    # -- reads ----------------------------------------------------------------------------------
    def _find(self):
        return wafv2.find_web_acl(self.waf, self.spec.name, self.spec.scope)

    def _get(self, summary):
        return wafv2.get_web_acl(self.waf, self.spec.name, self.spec.scope, summary["Id"])

    def _read(self, resource_types, read_logging):
        """The web ACL and what the run manages of it, or None."""
        summary = self._find()
        if not summary:
            return None
        acl, token = self._get(summary)
        if acl is None:
            return None
        current = {"acl": acl, "token": token, "canonical": wafv2.canonical_acl(acl), "associations": None,
                   "logging": _UNSET, "tags": wafv2.list_tags(self.waf, acl["ARN"])}
        if resource_types is not None:
            found = set()
            for kind in resource_types:
                found.update(wafv2.list_resources(self.waf, acl["ARN"], kind))
            current["associations"] = sorted(found)
        if read_logging:
            config = wafv2.get_logging_configuration(self.waf, acl["ARN"]) or {}
            current["logging"] = config or None
        return current

    # -- views ----------------------------------------------------------------------------------
    def _view(self, canonical, associations, logging, tags):
        view = wafv2.acl_view(canonical, self.spec.scope)
        if self.spec.state == "absent" or self.spec.associations is not None:
            view["associations"] = associations
        if self.spec.state == "absent" or self.spec.logging is not None:
            view["logging"] = {"destination_arn": logging}
        view["tags"] = tags
        return view

    @staticmethod
    def _destination(config):
        destinations = (config or {}).get("LogDestinationConfigs") or []
        return destinations[0] if destinations else None

    def _facts(self, acl_id, arn, canonical, capacity, associations, logging, tags):
        facts = {"name": self.spec.name, "id": acl_id, "arn": arn, "scope": self.spec.scope, "capacity": capacity,
                 "description": canonical["Description"],
                 "default_action": wafv2.acl_view(canonical, self.spec.scope)["default_action"],
                 "rules": wafv2.rules_summary(canonical["Rules"]), "associations": associations,
                 "logging": None if logging is _UNSET else {"destination_arn": logging}, "tags": tags}
        return facts

    # -- entry points ---------------------------------------------------------------------------
    def present(self):
        spec = self.spec
        types = None
        if spec.associations is not None:
            types = wafv2.MANAGED_RESOURCE_TYPES if spec.purge_associations else \
                sorted({wafv2.resource_type(arn) for arn in spec.associations})
        current = self._read(types, spec.logging is not None)
        wanted = wafv2.desired_acl(spec, current and current["acl"])

        current_tags = current["tags"] if current else {}
        to_set, to_unset = tag_delta(current_tags, self._tags(), spec.purge_tags and spec.tags is not None)
        tags_after = dict(current_tags, **to_set)
        for key in to_unset:
            tags_after.pop(key, None)

        associations_before = current["associations"] if current else ([] if types is not None else None)
        associations_after = None
        if spec.associations is not None:
            kept = [] if spec.purge_associations else (associations_before or [])
            associations_after = sorted(set(spec.associations) | set(kept))
        logging_before = self._destination(current["logging"]) if current and spec.logging is not None else None
        logging_after = spec.logging["destination"] if spec.logging is not None else None

        before = self._view(current["canonical"], associations_before, logging_before, current_tags) \
            if current else None
        after = self._view(wanted, associations_after, logging_after, tags_after)
        if current:
            facts_before = self._facts(current["acl"]["Id"], current["acl"]["ARN"], current["canonical"],
                                       current["acl"].get("Capacity"), associations_before,
                                       logging_before if spec.logging is not None else _UNSET, current_tags)
        else:
            facts_before = {}

        if current:
            acl_id, arn = current["acl"]["Id"], current["acl"]["ARN"]
            capacity = current["acl"].get("Capacity")
            if current["canonical"] != wanted:
                capacity = None
                self._update(current, wanted, before, after)
        else:
            acl_id, arn, capacity = self._create(wanted)

        if spec.associations is not None:
            before_set = set(associations_before or [])
            for resource in associations_after:
                if resource not in before_set:
                    self._do(f"associate web ACL {spec.name} with {resource}", wafv2.associate, self.waf, arn,
                             resource)
            for resource in sorted(before_set - set(associations_after)):
                self._do(f"disassociate {resource} from web ACL {spec.name}", wafv2.disassociate, self.waf,
                         resource)

        if spec.logging is not None and logging_before != logging_after:
            if logging_after:
                config = {"ResourceArn": arn, "LogDestinationConfigs": [logging_after]}
                for key in ("RedactedFields", "LoggingFilter"):  # kept as they are
                    if current and (current["logging"] or {}).get(key):
                        config[key] = current["logging"][key]
                self._do(f"send the logs of web ACL {spec.name} to {logging_after}",
                         wafv2.put_logging_configuration, self.waf, config)
            else:
                self._do(f"delete the logging configuration of web ACL {spec.name}",
                         wafv2.delete_logging_configuration, self.waf, arn)

        if current:
            if to_set:
                self._do(f"set tags {', '.join(sorted(to_set))} on web ACL {spec.name}", wafv2.tag_resource,
                         self.waf, arn, to_set)
            if to_unset:
                self._do(f"remove tags {', '.join(sorted(to_unset))} from web ACL {spec.name}",
                         wafv2.untag_resource, self.waf, arn, to_unset)

        self.facts = self._facts(acl_id, arn, wanted, capacity, associations_after,
                                 logging_after if spec.logging is not None else _UNSET, tags_after)
        return facts_before, before, after

    def _create(self, wanted):
        spec = self.spec
        params = {"Name": spec.name, "Scope": spec.scope, "DefaultAction": wanted["DefaultAction"],
                  "VisibilityConfig": wanted["VisibilityConfig"], "Rules": wanted["Rules"],
                  "Tags": [{"Key": k, "Value": v} for k, v in sorted(self._tags().items())]}
        if wanted["Description"]:
            params["Description"] = wanted["Description"]
        rules = ", ".join(r["Name"] for r in wanted["Rules"]) or "none"
        action = (f"create web ACL {spec.name} ({spec.scope}, default action "
                  f"{wafv2.acl_view(wanted, spec.scope)['default_action']}, rules: {rules})")

        def create():
            return wafv2.create_web_acl(self.waf, params) or self._find()  # None: made by a lost attempt

        summary = self._do(action, create_once, create, self._find)
        if not summary:
            return None, None, None  # check mode
        return summary["Id"], summary["ARN"], None

    def _update(self, current, wanted, before, after):
        spec = self.spec
        parts = [field.replace("_", " ") for field in ("description", "default_action", "visibility")
                 if before[field] != after[field]]
        names = sorted(set(before["rules"]) | set(after["rules"]),
                       key=lambda n: (after["rules"].get(n) or before["rules"][n])["priority"])
        for name in names:
            if name not in before["rules"]:
                parts.append(f"add rule {name}")
            elif name not in after["rules"]:
                parts.append(f"remove rule {name}")
            elif before["rules"][name] != after["rules"][name]:
                changed = changed_paths(before["rules"][name], after["rules"][name])
                parts.append(f"change rule {name} ({', '.join(changed)})")
        if not parts:  # a difference the views do not show (never expected): still say what is written
            parts.append("rules")

        def write(acl, token):
            params = {"Name": spec.name, "Scope": spec.scope, "Id": acl["Id"], "LockToken": token,
                      "DefaultAction": wanted["DefaultAction"], "VisibilityConfig": wanted["VisibilityConfig"],
                      "Rules": wanted["Rules"]}
            if wanted["Description"]:
                params["Description"] = wanted["Description"]
            for key in UNMANAGED_FIELDS:
                if acl.get(key) not in (None, [], {}):
                    params[key] = acl[key]
            return wafv2.update_web_acl(self.waf, params)

        self._do(f"update web ACL {spec.name}: {'; '.join(parts)}", wafv2.with_lock_token, write,
                 lambda: self._get(current["acl"]), current["acl"], current["token"])

    def absent(self):
        spec = self.spec
        # ListResourcesForWebACL is for regional resources only: CloudFront distributions name their web ACL.
        current = self._read(wafv2.ALL_RESOURCE_TYPES if spec.scope == "REGIONAL" else (), True)
        if not current:
            return {}, None, None
        acl, logging = current["acl"], self._destination(current["logging"])
        before = self._view(current["canonical"], current["associations"], logging, current["tags"])
        facts_before = self._facts(acl["Id"], acl["ARN"], current["canonical"], acl.get("Capacity"),
                                   current["associations"], logging, current["tags"])
        for resource in current["associations"]:
            self._do(f"disassociate {resource} from web ACL {spec.name}", wafv2.disassociate, self.waf, resource)
        if current["logging"]:
            self._do(f"delete the logging configuration of web ACL {spec.name}",
                     wafv2.delete_logging_configuration, self.waf, acl["ARN"])
        delete = wafv2.delete_web_acl_after_disassociation if current["associations"] else wafv2.delete_web_acl
        self._do(f"delete web ACL {spec.name}", wafv2.with_lock_token,
                 lambda a, token: delete(self.waf, spec.name, spec.scope, a["Id"], token),
                 lambda: self._get(acl), acl, current["token"])
        self.facts = {}
        return facts_before, before, None


def main():
    group_spec = dict(
        name=dict(type="str", required=True),
        vendor=dict(type="str", default="AWS"),
        version=dict(type="str"),
        priority=dict(type="int"),
        rule_name=dict(type="str"),
        override_action=dict(type="str", default="none", choices=["none", "count"]),
        excluded_rules=dict(type="list", elements="str", default=[]),
        rule_action_overrides=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            action=dict(type="str", required=True, choices=list(wafv2.ACTIONS)),
        )),
    )
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        scope=dict(type="str", default="REGIONAL", choices=["REGIONAL", "CLOUDFRONT"]),
        description=dict(type="str"),
        default_action=dict(type="str", default="allow", choices=["allow", "block"]),
        managed_rule_groups=dict(type="list", elements="dict", options=group_spec, default=[
            {"name": "AWSManagedRulesCommonRuleSet", "vendor": "AWS", "priority": 10, "override_action": "none"},
            {"name": "AWSManagedRulesKnownBadInputsRuleSet", "vendor": "AWS", "priority": 20,
             "override_action": "none"},
        ]),
        rate_limit=dict(type="dict", apply_defaults=True, options=dict(
            enabled=dict(type="bool", default=True),
            limit=dict(type="int", default=2000),
            evaluation_window_seconds=dict(type="int", default=300, choices=[60, 120, 300, 600]),
            action=dict(type="str", default="block", choices=["block", "count"]),
            aggregate_key_type=dict(type="str", default="IP", choices=["IP", "FORWARDED_IP"]),
            forwarded_ip_header=dict(type="str", default="X-Forwarded-For"),
            forwarded_ip_fallback=dict(type="str", default="MATCH", choices=["MATCH", "NO_MATCH"]),
            priority=dict(type="int", default=0),
            name=dict(type="str", default="RateLimitPerIP"),
        )),
        visibility=dict(type="dict", apply_defaults=True, options=dict(
            cloudwatch_metrics=dict(type="bool", default=True),
            sampled_requests=dict(type="bool", default=True),
            metric_name=dict(type="str"),
        )),
        associations=dict(type="list", elements="str"),
        purge_associations=dict(type="bool", default=True),
        logging=dict(type="dict", options=dict(
            enabled=dict(type="bool", default=True),
            destination_arn=dict(type="str"),
        )),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_converged(WebAclManager, "web_acl", lambda m: m.facts)


if __name__ == "__main__":
    main()
