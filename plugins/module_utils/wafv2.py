# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS WAF (wafv2) web ACLs: option validation, the canonical form of rules, views, and one small
function per wafv2 call.

The rules are compared in one canonical form built the same way from the options and from
GetWebACL: sorted by priority, empty values dropped, and what AWS fills in when it is not sent
(``OverrideAction: {None: {}}`` of a rule group, ``EvaluationWindowSec: 300`` and
``AggregateKeyType: IP`` of a rate-based rule, legacy ``ExcludedRules`` as ``Count`` overrides)
filled in, so AWS's own defaults never look like a change.
"""

import copy
import re


from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import TRANSIENT_CODES
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import already_done
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry_on
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry_throttling

# --- limits AWS documents (WAFV2 API reference, 2024+) -----------------------------------------------
NAME_RE = re.compile(r"^[\w-]{1,128}$")
DESCRIPTION_RE = re.compile(r"^[\w+=:#@/\-,.][\w+=:#@/\-,.\s]+[\w+=:#@/\-,.]$")
METRIC_RE = re.compile(r"^[\w#:.\-/]{1,255}$")
VERSION_RE = re.compile(r"^[\w#:.\-/]{1,64}$")
HEADER_RE = re.compile(r"^[A-Za-z0-9-]{1,255}$")
RATE_LIMIT_MIN = 10  # lowered from 100 in 2024
RATE_LIMIT_MAX = 2000000000
EVALUATION_WINDOWS = (60, 120, 300, 600)
DEFAULT_WINDOW = 300

ALB_RE = re.compile(r"^arn:aws[\w-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:loadbalancer/app/[\w-]+/[0-9a-f]+$")
OTHER_LB_RE = re.compile(r"^arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/(net|gwy)/")
REST_STAGE_RE = re.compile(r"^arn:aws[\w-]*:apigateway:([a-z0-9-]+)::/restapis/[A-Za-z0-9]+/stages/[\w-]{1,128}$")
HTTP_STAGE_RE = re.compile(r"^arn:aws[\w-]*:apigateway:[a-z0-9-]+::/apis/[A-Za-z0-9]+/stages/")
LOG_DESTINATION_RE = re.compile(
    r"^arn:aws[\w-]*:(?:logs:[a-z0-9-]+:\d{12}:log-group:(?P<group>[^:*]+)"
    r"|s3:::(?P<bucket>[a-z0-9.-]+)"
    r"|firehose:[a-z0-9-]+:\d{12}:deliverystream/(?P<stream>[\w.-]+))$")
LOG_PREFIX = "aws-waf-logs-"

ALB = "APPLICATION_LOAD_BALANCER"
API_GATEWAY = "API_GATEWAY"
# What ``associations`` manages, and everything a regional web ACL can protect (listed before deletion).
MANAGED_RESOURCE_TYPES = (ALB, API_GATEWAY)
ALL_RESOURCE_TYPES = (ALB, API_GATEWAY, "APPSYNC", "COGNITO_USER_POOL", "APP_RUNNER_SERVICE",
                      "VERIFIED_ACCESS_INSTANCE")

ACTIONS = {"allow": "Allow", "block": "Block", "count": "Count", "captcha": "Captcha", "challenge": "Challenge"}

DEFAULT_RULE_GROUPS = [
    {"name": "AWSManagedRulesCommonRuleSet", "vendor": "AWS", "priority": 10},
    {"name": "AWSManagedRulesKnownBadInputsRuleSet", "vendor": "AWS", "priority": 20},
]


def resource_type(arn):
    """The ListResourcesForWebACL ``ResourceType`` of an association ARN (validated already)."""
    return API_GATEWAY if ":apigateway:" in arn else ALB


# --- options -> spec -------------------------------------------------------------------------------
class Spec:
    """The validated options, in API form where it matters."""


def _check_association(field, arn, region):
    if HTTP_STAGE_RE.match(arn or ""):
        raise ValidationError(field, f"{arn} is a stage of an HTTP API (API Gateway v2, /apis/...); AWS WAF "
                                     "cannot be associated with HTTP APIs, only with REST API stages "
                                     "(arn:aws:apigateway:<region>::/restapis/<id>/stages/<stage>) and Application "
                                     "Load Balancers")
    if OTHER_LB_RE.match(arn or ""):
        raise ValidationError(field, f"{arn} is a Network or Gateway Load Balancer; AWS WAF protects only "
                                     "Application Load Balancers")
    match = ALB_RE.match(arn or "") or REST_STAGE_RE.match(arn or "")
    if not match:
        raise ValidationError(field, f"{arn!r} is neither an Application Load Balancer ARN "
                                     "(arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>) "
                                     "nor a REST API stage ARN (arn:aws:apigateway:<region>::/restapis/<id>/stages/"
                                     "<stage>)")
    if region and match.group(1) != region:
        raise ValidationError(field, f"{arn} is in {match.group(1)}; a regional web ACL protects resources of its "
                                     f"own region ({region}) only")


def _action(name):
    return {ACTIONS[name]: {}}


def _visibility(visibility, metric_name):
    return {"SampledRequestsEnabled": bool(visibility["sampled_requests"]),
            "CloudWatchMetricsEnabled": bool(visibility["cloudwatch_metrics"]),
            "MetricName": metric_name}


def _rule_group_rule(field, group, index, visibility, metric_base):
    name = group.get("name")
    if not name or not NAME_RE.match(name):
        raise ValidationError(f"{field}.name", f"{name!r} must be 1-128 letters, digits, '_' or '-'")
    vendor = group.get("vendor") or "AWS"
    if not NAME_RE.match(vendor):
        raise ValidationError(f"{field}.vendor", f"{vendor!r} must be 1-128 letters, digits, '_' or '-'")
    rule_name = group.get("rule_name") or name
    if not NAME_RE.match(rule_name):
        raise ValidationError(f"{field}.rule_name", f"{rule_name!r} must be 1-128 letters, digits, '_' or '-'")
    priority = group.get("priority")
    priority = 10 * (index + 1) if priority is None else priority
    if priority < 0:
        raise ValidationError(f"{field}.priority", f"{priority} must be 0 or more")
    statement = {"VendorName": vendor, "Name": name}
    if group.get("version"):
        if not VERSION_RE.match(group["version"]):
            raise ValidationError(f"{field}.version", f"{group['version']!r} is not a rule group version name")
        statement["Version"] = group["version"]
    overrides = {}
    for rule in group.get("excluded_rules") or []:
        if not rule or not NAME_RE.match(rule):
            raise ValidationError(f"{field}.excluded_rules", f"{rule!r} is not a rule name")
        overrides[rule] = "count"
    for position, item in enumerate(group.get("rule_action_overrides") or []):
        rule = item.get("name")
        if not rule or not NAME_RE.match(rule):
            raise ValidationError(f"{field}.rule_action_overrides[{position}].name", f"{rule!r} is not a rule name")
        if rule in overrides:
            raise ValidationError(f"{field}.rule_action_overrides[{position}].name",
                                  f"rule {rule} is given twice (excluded_rules and rule_action_overrides "
                                  "are one list of overrides: an excluded rule is counted)")
        if item.get("action") not in ACTIONS:
            raise ValidationError(f"{field}.rule_action_overrides[{position}].action",
                                  f"{item.get('action')!r} must be one of {', '.join(ACTIONS)}")
        overrides[rule] = item["action"]
    if overrides:
        statement["RuleActionOverrides"] = [{"Name": rule, "ActionToUse": _action(overrides[rule])}
                                            for rule in sorted(overrides)]
    override_action = group.get("override_action") or "none"
    if override_action not in ("none", "count"):
        raise ValidationError(f"{field}.override_action", f"{override_action!r} must be none or count")
    return {"Name": rule_name, "Priority": priority,
            "Statement": {"ManagedRuleGroupStatement": statement},
            "OverrideAction": {"None": {}} if override_action == "none" else {"Count": {}},
            "VisibilityConfig": _visibility(visibility, f"{metric_base}-{rule_name}")}


def _rate_rule(rate, visibility, metric_base):
    limit = rate.get("limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or not RATE_LIMIT_MIN <= limit <= RATE_LIMIT_MAX:
        raise ValidationError("rate_limit.limit", f"{limit!r} must be a whole number of requests per evaluation "
                                                  f"window from {RATE_LIMIT_MIN} to {RATE_LIMIT_MAX}")
    window = rate.get("evaluation_window_seconds") or DEFAULT_WINDOW
    if window not in EVALUATION_WINDOWS:
        raise ValidationError("rate_limit.evaluation_window_seconds",
                              f"{window!r} must be one of {', '.join(map(str, EVALUATION_WINDOWS))}")
    action = rate.get("action") or "block"
    if action not in ("block", "count"):
        raise ValidationError("rate_limit.action", f"{action!r} must be block or count")
    name = rate.get("name") or "RateLimitPerIP"
    if not NAME_RE.match(name):
        raise ValidationError("rate_limit.name", f"{name!r} must be 1-128 letters, digits, '_' or '-'")
    priority = rate.get("priority")
    priority = 0 if priority is None else priority
    if priority < 0:
        raise ValidationError("rate_limit.priority", f"{priority} must be 0 or more")
    statement = {"Limit": limit, "EvaluationWindowSec": window, "AggregateKeyType": rate.get("aggregate_key_type")
                 or "IP"}
    if statement["AggregateKeyType"] not in ("IP", "FORWARDED_IP"):
        raise ValidationError("rate_limit.aggregate_key_type", f"{statement['AggregateKeyType']!r} must be IP or "
                                                               "FORWARDED_IP")
    if statement["AggregateKeyType"] == "FORWARDED_IP":
        header = rate.get("forwarded_ip_header") or "X-Forwarded-For"
        if not HEADER_RE.match(header):
            raise ValidationError("rate_limit.forwarded_ip_header", f"{header!r} is not an HTTP header name")
        fallback = rate.get("forwarded_ip_fallback") or "MATCH"
        if fallback not in ("MATCH", "NO_MATCH"):
            raise ValidationError("rate_limit.forwarded_ip_fallback", f"{fallback!r} must be MATCH or NO_MATCH")
        statement["ForwardedIPConfig"] = {"HeaderName": header, "FallbackBehavior": fallback}
    return {"Name": name, "Priority": priority, "Statement": {"RateBasedStatement": statement},
            "Action": _action(action), "VisibilityConfig": _visibility(visibility, f"{metric_base}-{name}")}


def build_spec(params, region):
    """Validate every option (raising ValidationError naming the field) and build the desired web ACL."""
    spec = Spec()
    spec.name = params["name"]
    if not NAME_RE.match(spec.name or ""):
        raise ValidationError("name", f"{spec.name!r} must be 1-128 letters, digits, '_' or '-'")
    spec.scope = params.get("scope") or "REGIONAL"
    if spec.scope == "CLOUDFRONT" and region != "us-east-1":
        raise ValidationError("scope", f"CLOUDFRONT web ACLs are managed in us-east-1 only, not in {region}")
    spec.state = params.get("state") or "present"
    if spec.state == "absent":
        return spec

    description = params.get("description")
    if description and not (len(description) <= 256 and DESCRIPTION_RE.match(description)):
        raise ValidationError("description", "must be 3-256 letters, digits, spaces or +=:#@/-,._ (no space at "
                                             "either end)")
    spec.description = description  # None: kept as it is; "": removed

    spec.default_action = {ACTIONS[params.get("default_action") or "allow"]: {}}

    visibility = params.get("visibility") or {}
    visibility = {"cloudwatch_metrics": visibility.get("cloudwatch_metrics", True) is not False,
                  "sampled_requests": visibility.get("sampled_requests", True) is not False,
                  "metric_name": visibility.get("metric_name") or spec.name}
    if not METRIC_RE.match(visibility["metric_name"]):
        raise ValidationError("visibility.metric_name", f"{visibility['metric_name']!r} must be 1-255 letters, "
                                                        "digits or #:.-/_")
    spec.visibility = _visibility(visibility, visibility["metric_name"])

    rules = []  # (option path, rule)
    groups = params.get("managed_rule_groups")
    for index, group in enumerate(DEFAULT_RULE_GROUPS if groups is None else groups):
        field = f"managed_rule_groups[{index}]"
        rules.append((field, _rule_group_rule(field, group, index, visibility, visibility["metric_name"])))
    rate = params.get("rate_limit")
    if rate and rate.get("enabled", True):
        rules.append(("rate_limit", _rate_rule(rate, visibility, visibility["metric_name"])))
    seen_priorities, seen_names = {}, {}
    for field, rule in rules:
        if rule["Priority"] in seen_priorities:
            raise ValidationError(f"{field}.priority", f"{rule['Priority']} is also the priority of "
                                                       f"{seen_priorities[rule['Priority']]}; every rule needs a "
                                                       "priority of its own")
        if rule["Name"] in seen_names:
            raise ValidationError(f"{field}.{'name' if field == 'rate_limit' else 'rule_name'}",
                                  f"{rule['Name']} is also the rule name of {seen_names[rule['Name']]}; rule names "
                                  "must be unique")
        seen_priorities[rule["Priority"]] = field
        seen_names[rule["Name"]] = field
        if not METRIC_RE.match(rule["VisibilityConfig"]["MetricName"]):
            raise ValidationError("visibility.metric_name", f"the metric name of rule {rule['Name']} "
                                                            f"({rule['VisibilityConfig']['MetricName']}) is over 255 "
                                                            "characters; give a shorter visibility.metric_name")
    rules = [rule for _field, rule in rules]
    spec.rules = canonical_rules(rules)

    associations = params.get("associations")
    if associations is not None and spec.scope == "CLOUDFRONT":
        raise ValidationError("associations", "a CLOUDFRONT web ACL is attached in the distribution's settings "
                                              "(WebACLId), not through associations")
    spec.associations = None
    if associations is not None:
        for index, arn in enumerate(associations):
            _check_association(f"associations[{index}]", arn, region)
        spec.associations = sorted(set(associations))
    spec.purge_associations = params.get("purge_associations", True) is not False

    spec.logging = None
    logging = params.get("logging")
    if logging is not None:
        if logging.get("enabled", True) is False:
            spec.logging = {"destination": None}
        else:
            destination = logging.get("destination_arn")
            match = LOG_DESTINATION_RE.match(destination or "")
            if not match:
                raise ValidationError("logging.destination_arn", f"{destination!r} must be the ARN of a CloudWatch "
                                                                 "Logs log group (without :*), an S3 bucket or a "
                                                                 "Firehose delivery stream")
            target = match.group("group") or match.group("bucket") or match.group("stream")
            if not target.startswith(LOG_PREFIX):
                raise ValidationError("logging.destination_arn", f"the name of {destination} must start with "
                                                                 f"{LOG_PREFIX} (AWS WAF writes only to destinations "
                                                                 "named so)")
            spec.logging = {"destination": destination}
    spec.tags = params.get("tags")
    spec.purge_tags = params.get("purge_tags", True) is not False
    return spec


# --- canonical form ------------------------------------------------------------------------------
def _prune(value):
    """Drop None and empty lists, recursively; keep empty dicts (WAF's ``{"Block": {}}``, ``{"None": {}}``)."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_prune(v) for v in value if v is not None]
    return value


def _canonical_overrides(statement):
    overrides = {o["Name"]: o.get("ActionToUse") or {} for o in statement.pop("RuleActionOverrides", [])}
    for excluded in statement.pop("ExcludedRules", []):  # the legacy form of a Count override
        overrides.setdefault(excluded["Name"], {"Count": {}})
    if overrides:
        statement["RuleActionOverrides"] = [{"Name": name, "ActionToUse": overrides[name]}
                                            for name in sorted(overrides)]


def canonical_rule(rule):
    rule = _prune(copy.deepcopy(rule))
    statement = rule.get("Statement") or {}
    for kind in ("ManagedRuleGroupStatement", "RuleGroupReferenceStatement"):
        if kind in statement:
            _canonical_overrides(statement[kind])
            rule.setdefault("OverrideAction", {"None": {}})
    rate = statement.get("RateBasedStatement")
    if rate is not None:
        rate["Limit"] = int(rate.get("Limit", 0))
        rate.setdefault("AggregateKeyType", "IP")
        rate["EvaluationWindowSec"] = int(rate.get("EvaluationWindowSec") or DEFAULT_WINDOW)
        if rate["AggregateKeyType"] != "FORWARDED_IP":
            rate.pop("ForwardedIPConfig", None)
    if "Priority" in rule:
        rule["Priority"] = int(rule["Priority"])
    return rule


def canonical_rules(rules):
    return sorted((canonical_rule(r) for r in rules or []), key=lambda r: (r.get("Priority", 0), r.get("Name", "")))


def canonical_acl(acl):
    """The managed fields of a web ACL (GetWebACL's ``WebACL``) in canonical form."""
    return {"Description": acl.get("Description") or None,
            "DefaultAction": _prune(acl.get("DefaultAction") or {}),
            "VisibilityConfig": _prune(acl.get("VisibilityConfig") or {}),
            "Rules": canonical_rules(acl.get("Rules"))}


def desired_acl(spec, current=None):
    """The canonical managed fields the web ACL should have (an unmanaged description keeps its value)."""
    description = spec.description
    if description is None:
        description = (current or {}).get("Description")
    return {"Description": description or None, "DefaultAction": spec.default_action,
            "VisibilityConfig": spec.visibility, "Rules": spec.rules}


# --- views (what --diff shows) ------------------------------------------------------------------------
def _action_name(action):
    return next(iter(action)).lower() if action else None


def _visibility_view(config):
    return {"cloudwatch_metrics": config.get("CloudWatchMetricsEnabled"),
            "sampled_requests": config.get("SampledRequestsEnabled"), "metric_name": config.get("MetricName")}


def rule_view(rule):
    statement = dict(rule.get("Statement") or {})
    view = {"priority": rule.get("Priority"), "visibility": _visibility_view(rule.get("VisibilityConfig") or {})}
    if "ManagedRuleGroupStatement" in statement:
        group = dict(statement.pop("ManagedRuleGroupStatement"))
        view.update(type="managed_rule_group", vendor=group.pop("VendorName", None), group=group.pop("Name", None),
                    version=group.pop("Version", None),
                    override_action=_action_name(rule.get("OverrideAction")),
                    rule_action_overrides={o["Name"]: _action_name(o["ActionToUse"])
                                           for o in group.pop("RuleActionOverrides", [])})
        extra = group
    elif "RateBasedStatement" in statement:
        rate = dict(statement.pop("RateBasedStatement"))
        forwarded = rate.pop("ForwardedIPConfig", None) or {}
        view.update(type="rate_based", limit=rate.pop("Limit", None),
                    evaluation_window_seconds=rate.pop("EvaluationWindowSec", None),
                    aggregate_key_type=rate.pop("AggregateKeyType", None), action=_action_name(rule.get("Action")))
        if forwarded:
            view.update(forwarded_ip_header=forwarded.get("HeaderName"),
                        forwarded_ip_fallback=forwarded.get("FallbackBehavior"))
        extra = rate
    else:
        view.update(type="other", statement=statement, action=_action_name(rule.get("Action")),
                    override_action=_action_name(rule.get("OverrideAction")))
        extra = {}
    extra.update({k: v for k, v in rule.items() if k not in ("Name", "Priority", "Statement", "VisibilityConfig",
                                                             "Action", "OverrideAction")})
    if statement and view["type"] != "other":
        extra.update(statement)
    if extra:
        view["other_settings"] = extra  # what the module does not set; an update removes it
    return view


def acl_view(canonical, scope):
    """The managed fields of a canonical web ACL as --diff shows them (rules keyed by rule name)."""
    return {"scope": scope, "description": canonical["Description"],
            "default_action": _action_name(canonical["DefaultAction"]),
            "visibility": _visibility_view(canonical["VisibilityConfig"]),
            "rules": {rule["Name"]: rule_view(rule) for rule in canonical["Rules"]}}


def rules_summary(rules):
    return [{"name": r["Name"], "priority": r["Priority"]} for r in rules]


# ---------------------------------------------------------------------------------------------
# One small function per wafv2 call.
# ---------------------------------------------------------------------------------------------
WAF_MISSING_CODES = ["WAFNonexistentItemException"]
DUPLICATE_CODES = ["WAFDuplicateItemException", "WafV2DuplicateItem"]
LOCK_CODE = "WAFOptimisticLockException"
# AWS needs a moment before a new web ACL (or a just-disassociated one) can be used by the next call.
UNAVAILABLE_CODES = ["WAFUnavailableEntityException", "WAFAssociatedItemException"]

retry_unavailable = retry_on(list(TRANSIENT_CODES) + UNAVAILABLE_CODES)


H = error_handler(*WAF_MISSING_CODES)


def error_code(error):
    exc = getattr(error, "exception", None) or error
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code"))


# --- reads ---------------------------------------------------------------------------------------
@H.list_error_handler("list web ACLs", None)
@retry
def find_web_acl(client, name, scope):
    """The ListWebACLs summary (Name, Id, ARN, LockToken) of the web ACL ``name``, or None."""
    params = {"Scope": scope, "Limit": 100}
    while True:
        page = client.list_web_acls(**params)
        for summary in page.get("WebACLs") or []:
            if summary["Name"] == name:
                return summary
        if not page.get("NextMarker") or not page.get("WebACLs"):
            return None
        params["NextMarker"] = page["NextMarker"]


@H.list_error_handler("get web ACL", (None, None))
@retry
def get_web_acl(client, name, scope, acl_id):
    """(WebACL, LockToken), or (None, None) when it is gone."""
    result = client.get_web_acl(Name=name, Scope=scope, Id=acl_id)
    return result["WebACL"], result["LockToken"]


@H.list_error_handler("list resources of web ACL", [])
@retry
def list_resources(client, acl_arn, kind):
    return client.list_resources_for_web_acl(WebACLArn=acl_arn, ResourceType=kind).get("ResourceArns") or []


@H.list_error_handler("list web ACL tags", {})
@retry
def list_tags(client, arn):
    tags, params = {}, {"ResourceARN": arn}
    while True:
        page = client.list_tags_for_resource(**params)
        tags.update({t["Key"]: t["Value"] for t in (page.get("TagInfoForResource") or {}).get("TagList") or []})
        if not page.get("NextMarker"):
            return tags
        params["NextMarker"] = page["NextMarker"]


@H.list_error_handler("get web ACL logging configuration", None)
@retry
def get_logging_configuration(client, arn):
    return client.get_logging_configuration(ResourceArn=arn).get("LoggingConfiguration")


# --- writes --------------------------------------------------------------------------------------
@H.common_error_handler("create web ACL")
@retry_throttling
@already_done(*DUPLICATE_CODES)
def create_web_acl(client, params):
    """The new web ACL's summary; None when it exists already (a lost response to an earlier attempt)."""
    return client.create_web_acl(**params)["Summary"]


@H.common_error_handler("update web ACL")
@retry
def update_web_acl(client, params):
    return client.update_web_acl(**params).get("NextLockToken")


@H.deletion_error_handler("delete web ACL")
@retry
def delete_web_acl(client, name, scope, acl_id, lock_token):
    client.delete_web_acl(Name=name, Scope=scope, Id=acl_id, LockToken=lock_token)
    return True


@H.deletion_error_handler("delete web ACL")
@retry_unavailable
def delete_web_acl_after_disassociation(client, name, scope, acl_id, lock_token):
    """DeleteWebACL right after DisassociateWebACL calls: AWS may still see an association for a moment."""
    client.delete_web_acl(Name=name, Scope=scope, Id=acl_id, LockToken=lock_token)
    return True


@H.common_error_handler("associate web ACL")
@retry_unavailable
def associate(client, acl_arn, resource_arn):
    client.associate_web_acl(WebACLArn=acl_arn, ResourceArn=resource_arn)


@H.deletion_error_handler("disassociate web ACL")
@retry
def disassociate(client, resource_arn):
    client.disassociate_web_acl(ResourceArn=resource_arn)
    return True


@H.common_error_handler("put web ACL logging configuration")
@retry_unavailable
def put_logging_configuration(client, config):
    client.put_logging_configuration(LoggingConfiguration=config)


@H.deletion_error_handler("delete web ACL logging configuration")
@retry
def delete_logging_configuration(client, arn):
    client.delete_logging_configuration(ResourceArn=arn)
    return True


@H.common_error_handler("tag web ACL")
@retry
def tag_resource(client, arn, tags):
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])


@H.common_error_handler("untag web ACL")
@retry
def untag_resource(client, arn, keys):
    client.untag_resource(ResourceARN=arn, TagKeys=sorted(keys))


def with_lock_token(write, reread, acl, token, attempts=3):
    """``write(acl, token)``; on WAFOptimisticLockException (someone changed the web ACL after it was read)
    read it again with ``reread()`` -> (acl, token) and write again, ``attempts`` writes in all."""
    for attempt in range(attempts):
        try:
            return write(acl, token)
        except SeedAWSError as e:
            if error_code(e) != LOCK_CODE or attempt + 1 == attempts:
                raise
            acl, token = reread()
            if token is None:
                raise
    return None  # not reached
