# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The target groups and listener rules of an Application Load Balancer, checked without any API call.

load_balancer validates its options with these, and site.yml's preflight (the ``routing_errors``
filter) runs the same checks on the inventory before any layer changes anything: two apps claiming
one path pattern or host header fail there, naming both.
"""

import re

from ansible_collections.seed.aws_migration.plugins.module_utils.common import as_int
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError

NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
MATCHER_RE = re.compile(r"^[2-4]\d\d(-[2-4]\d\d)?(,[2-4]\d\d(-[2-4]\d\d)?)*$")
MAX_NAME = 32
MAX_PRIORITY = 50000
PRIORITY_STEP = 10
MAX_CONDITION_VALUES = 5  # AWS: at most 5 match values per rule ...
MAX_VALUES_PER_CONDITION = 3  # ... and 3 per condition (path-pattern, host-header)
MAX_CONDITION_LENGTH = 128
HEALTH_CHECK_DEFAULTS = {"path": "/", "interval": 15, "timeout": 5, "healthy_threshold": 2,
                         "unhealthy_threshold": 3, "matcher": "200-399"}
HEALTH_CHECK_RANGES = {"interval": (5, 300), "timeout": (2, 120), "healthy_threshold": (2, 10),
                       "unhealthy_threshold": (2, 10)}


def check_name(field, value, what):
    if not value or len(value) > MAX_NAME or not NAME_RE.match(value):
        raise ValidationError(field, f"{value!r} is not a valid {what} name: 1-{MAX_NAME} letters, digits or '-', "
                                     "not starting or ending with '-'")


def unique(field, values, what):
    seen = set()
    for value in values:
        if value in seen:
            raise ValidationError(field, f"lists {what} {value} twice")
        seen.add(value)


def in_range(field, value, low, high):
    # "8080" counts as 8080, as an argument spec reads it (the preflight filter sees inventory values).
    number = value if isinstance(value, float) else as_int(value)
    if number is None or not low <= number <= high:
        raise ValidationError(field, f"{value} is outside {low}-{high}")


def target_group_spec(field, options):
    name = options.get("name")
    check_name(f"{field}.name", name, "target group")
    port = options.get("port")
    in_range(f"{field}.port", port, 1, 65535)
    port = int(port)
    health = dict(HEALTH_CHECK_DEFAULTS)
    health.update({k: v for k, v in (options.get("health_check") or {}).items() if v is not None})
    path = health["path"]
    if not str(path).startswith("/") or len(path) > 1024:
        raise ValidationError(f"{field}.health_check.path", f"{path!r} must start with '/' (at most 1024 characters)")
    for key, (low, high) in HEALTH_CHECK_RANGES.items():
        in_range(f"{field}.health_check.{key}", health[key], low, high)
        health[key] = int(health[key])
    if health["timeout"] >= health["interval"]:
        raise ValidationError(f"{field}.health_check.timeout", f"{health['timeout']}s must be less than the interval "
                                                               f"({health['interval']}s)")
    health["matcher"] = str(health["matcher"]).replace(" ", "")
    if not MATCHER_RE.match(health["matcher"]):
        raise ValidationError(f"{field}.health_check.matcher", f"{health['matcher']!r} is not a list of HTTP codes "
                                                               "200-499 (like 200, 200-399 or 200,204)")
    delay = options.get("deregistration_delay")
    delay = 30 if delay is None else delay
    in_range(f"{field}.deregistration_delay", delay, 0, 3600)
    delay = int(delay)
    return {"name": name, "port": port, "protocol": options.get("protocol") or "HTTP",
            "target_type": options.get("target_type") or "ip", "health_check": health,
            "deregistration_delay": delay}


def rule_spec(field, options, tg_names, prefix=""):
    target = options.get("target_group")
    if target not in tg_names:
        raise ValidationError(f"{field}.target_group", f"{target!r} is not a target group of {prefix}target_groups "
                                                       f"({', '.join(tg_names) or 'none'})")
    paths = [str(p) for p in options.get("path_patterns") or []]
    hosts = [str(h).lower() for h in options.get("host_headers") or []]
    if not paths and not hosts:
        raise ValidationError(field, "needs path_patterns or host_headers")
    if len(paths) + len(hosts) > MAX_CONDITION_VALUES:
        raise ValidationError(field, f"has {len(paths) + len(hosts)} path patterns and host headers; AWS allows "
                                     f"{MAX_CONDITION_VALUES} per rule")
    for key, values in (("path_patterns", paths), ("host_headers", hosts)):
        if len(values) > MAX_VALUES_PER_CONDITION:
            raise ValidationError(f"{field}.{key}", f"has {len(values)} values; AWS allows "
                                                    f"{MAX_VALUES_PER_CONDITION} per condition (split the rule)")
        for index, value in enumerate(values):
            if not value or len(value) > MAX_CONDITION_LENGTH:
                raise ValidationError(f"{field}.{key}[{index}]", f"{value!r} must be 1-{MAX_CONDITION_LENGTH} "
                                                                 "characters")
        unique(f"{field}.{key}", values, key[:-1].replace("_", " "))
    priority = options.get("priority")
    if priority is not None:
        in_range(f"{field}.priority", priority, 1, MAX_PRIORITY)
        priority = int(priority)
    return {"field": field, "target_group": target, "path_patterns": sorted(paths), "host_headers": sorted(hosts),
            "priority": priority}


def _claims(rule):
    """The (host, path) pairs a rule matches on; None stands for "any"."""
    return {(host, path) for host in rule["host_headers"] or [None] for path in rule["path_patterns"] or [None]}


def _claim_text(claim):
    host, path = claim
    if host is None:
        return f"path pattern {path}"
    if path is None:
        return f"host header {host}"
    return f"host header {host} with path pattern {path}"


def check_rule_conflicts(rules):
    """Two rules may not claim the same path pattern or host header for the same requests; names both."""
    claimed = {}
    for rule in rules:
        for claim in sorted(_claims(rule), key=str):
            if claim in claimed:
                raise ValidationError(rule["field"], f"claims {_claim_text(claim)}, already claimed by "
                                                     f"{claimed[claim]}")
        for claim in _claims(rule):
            claimed[claim] = rule["field"]
    explicit = {}
    for rule in rules:
        priority = rule["priority"]
        if priority is None:
            continue
        if priority in explicit:
            raise ValidationError(f"{rule['field']}.priority", f"priority {priority} is also the priority of "
                                                               f"{explicit[priority]}")
        explicit[priority] = rule["field"]


def derive_priorities(rules):
    """Give rules without a priority the next multiple of PRIORITY_STEP after the previous rule's, skipping taken ones.

    Depends only on the list, so it is the same on every run; with no explicit priority the rules are
    evaluated in list order. Sets ``priority`` in place and returns the rules.
    """
    taken = {rule["priority"] for rule in rules if rule["priority"] is not None}
    previous = 0
    for rule in rules:
        if rule["priority"] is None:
            priority = (previous // PRIORITY_STEP + 1) * PRIORITY_STEP
            while priority in taken:
                priority += PRIORITY_STEP
            if priority > MAX_PRIORITY:
                raise ValidationError(f"{rule['field']}.priority", f"the derived priority {priority} is over "
                                                                   f"{MAX_PRIORITY}; give priorities explicitly")
            rule["priority"] = priority
            taken.add(priority)
        previous = rule["priority"]
    return rules


def routing_spec(target_groups, rules, default_target_group=None, prefix=""):
    """``(target_groups, rules)`` validated and normalised (rules with their priorities); raises
    ValidationError naming the first bad field (``target_groups[1].port``, ``rules[0]``, ...), each
    field name after ``prefix`` (a role's ``platform_``)."""
    target_groups = [target_group_spec(f"{prefix}target_groups[{i}]", tg)
                     for i, tg in enumerate(target_groups or [])]
    names = [tg["name"] for tg in target_groups]
    for index, name in enumerate(names):
        if name in names[:index]:
            first = f"{prefix}target_groups[{names.index(name)}]"
            raise ValidationError(f"{prefix}target_groups[{index}].name",
                                  f"target group {name} is listed twice (also {first})")
    if default_target_group and default_target_group not in names:
        raise ValidationError(f"{prefix}default_target_group",
                              f"{default_target_group!r} is not a target group of {prefix}target_groups "
                              f"({', '.join(names) or 'none'})")
    rules = [rule_spec(f"{prefix}rules[{i}]", rule, names, prefix) for i, rule in enumerate(rules or [])]
    check_rule_conflicts(rules)
    derive_priorities(rules)
    return target_groups, rules
