# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Application Load Balancers: one small function per elbv2 call, discovery, the managed view, the facts.

Wrappers follow ``ec2.py``: an error handler (raising SeedAWSError with what was being done) and a
retry policy. ``retry`` for reads and writes that are safe to repeat; ``retry_throttling`` for
creates, whose callers go through ``tagging.create_once`` (a lookup by name before a new attempt).

Shared by load_balancer (which keeps an ``Observed`` up to date as it converges, so the facts it
returns are those of the final state without describing everything again) and load_balancer_info.
"""

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry_throttling
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import IDENTITY_KEYS
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_NAME

ELB_MISSING_CODES = ["LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "RuleNotFound"]
DESCRIBE_TAGS_BATCH = 20  # DescribeTags takes at most 20 ARNs

# seed:component values
LOAD_BALANCER = "load-balancer"
TARGET_GROUP = "target-group"
MANAGED_BY = "seed.aws_migration"

# Listener keys of the view: the two listeners the module manages, by port.
HTTP, HTTPS = "http", "https"
LISTENER_PORTS = {HTTP: 80, HTTPS: 443}

# What AWS gives a new load balancer (and reports for attributes moto leaves out).
DEFAULT_ATTRIBUTES = {
    "idle_timeout.timeout_seconds": "60",
    "deletion_protection.enabled": "false",
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
}
DEFAULT_DEREGISTRATION_DELAY = "300"  # what AWS gives a new target group

REDIRECT_DEFAULTS = {"Host": "#{host}", "Path": "/#{path}", "Query": "#{query}"}


H = error_handler(*ELB_MISSING_CODES)


def error_code(error):
    """The AWS error code of a SeedAWSError (or botocore ClientError), or None."""
    exc = getattr(error, "exception", None) or error
    return str(((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code") or "") or None


# --- reads ---------------------------------------------------------------------------------------
@H.list_error_handler("describe load balancer", None)
@retry
def describe_load_balancer(client, name):
    """The load balancer called ``name``, or None."""
    found = client.describe_load_balancers(Names=[name])["LoadBalancers"]
    return found[0] if found else None


@H.list_error_handler("describe load balancers", [])
@retry
def describe_load_balancers(client, arns=None):
    params = {"LoadBalancerArns": list(arns)} if arns else {}
    return paginate_all(client, "describe_load_balancers", "LoadBalancers", **params)


@H.list_error_handler("describe load balancer attributes", {})
@retry
def describe_load_balancer_attributes(client, arn):
    attributes = client.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    return {a["Key"]: str(a.get("Value", "")) for a in attributes}


@H.list_error_handler("describe listeners", [])
@retry
def describe_listeners(client, load_balancer_arn):
    return paginate_all(client, "describe_listeners", "Listeners", LoadBalancerArn=load_balancer_arn)


@H.list_error_handler("describe listener rules", [])
@retry
def describe_rules(client, listener_arn):
    return paginate_all(client, "describe_rules", "Rules", ListenerArn=listener_arn)


@H.list_error_handler("describe target groups", [])
@retry
def describe_target_groups(client, names=None):
    params = {"Names": list(names)} if names else {}
    return paginate_all(client, "describe_target_groups", "TargetGroups", **params)


@H.list_error_handler("describe target group", None)
@retry
def describe_target_group_by_arn(client, arn):
    """The target group with this ARN (its ``LoadBalancerArns`` included), or None."""
    found = client.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"]
    return found[0] if found else None


@H.list_error_handler("describe target group attributes", {})
@retry
def describe_target_group_attributes(client, arn):
    attributes = client.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    return {a["Key"]: str(a.get("Value", "")) for a in attributes}


@H.list_error_handler("describe tags", {})
@retry
def _describe_tags(client, arns):
    descriptions = client.describe_tags(ResourceArns=list(arns))["TagDescriptions"]
    return {d["ResourceArn"]: {t["Key"]: t.get("Value", "") for t in d.get("Tags") or []} for d in descriptions}


def describe_tags(client, arns):
    """{arn: {key: value}} of any number of resources (DescribeTags takes 20 at a time); a resource that
    is gone is left out.

    One ARN of a batch that no longer exists (a target group deleted since it was listed) fails the whole
    call with a "not found" answer: the batch's other resources are then read one by one, so their tags are
    not taken for none (which would re-tag a load balancer, or adopt or ignore a target group)."""
    arns = list(arns)
    tags = {}
    for start in range(0, len(arns), DESCRIBE_TAGS_BATCH):
        batch = arns[start:start + DESCRIBE_TAGS_BATCH]
        found = _describe_tags(client, batch)
        if len(batch) > 1 and any(arn not in found for arn in batch):
            for arn in batch:
                if arn not in found:
                    found.update(_describe_tags(client, [arn]))
        tags.update(found)
    return tags


# --- load balancer -------------------------------------------------------------------------------
@H.common_error_handler("create load balancer")
@retry_throttling
def create_load_balancer(client, name, subnets, security_groups, scheme, ip_address_type, tags):
    params = dict(Name=name, Subnets=list(subnets), Scheme=scheme, Type="application",
                  IpAddressType=ip_address_type, Tags=tag_list(tags))
    if security_groups is not None:
        params["SecurityGroups"] = list(security_groups)
    return client.create_load_balancer(**params)["LoadBalancers"][0]


@H.common_error_handler("set load balancer subnets")
@retry
def set_subnets(client, arn, subnets):
    return client.set_subnets(LoadBalancerArn=arn, Subnets=list(subnets))


@H.common_error_handler("set load balancer security groups")
@retry
def set_security_groups(client, arn, security_groups):
    return client.set_security_groups(LoadBalancerArn=arn, SecurityGroups=list(security_groups))


@H.common_error_handler("set load balancer IP address type")
@retry
def set_ip_address_type(client, arn, ip_address_type):
    return client.set_ip_address_type(LoadBalancerArn=arn, IpAddressType=ip_address_type)


@H.common_error_handler("modify load balancer attributes")
@retry
def modify_load_balancer_attributes(client, arn, attributes):
    client.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())])


@H.deletion_error_handler("delete load balancer")
@retry
def delete_load_balancer(client, arn):
    client.delete_load_balancer(LoadBalancerArn=arn)
    return True


# --- target groups -------------------------------------------------------------------------------
@H.common_error_handler("create target group")
@retry_throttling
def create_target_group(client, name, vpc_id, protocol, port, target_type, health_check, tags):
    return client.create_target_group(
        Name=name, Protocol=protocol, Port=port, VpcId=vpc_id, TargetType=target_type,
        HealthCheckProtocol=protocol, Tags=tag_list(tags), **health_check_params(health_check),
    )["TargetGroups"][0]


@H.common_error_handler("modify target group")
@retry
def modify_target_group(client, arn, health_check):
    return client.modify_target_group(TargetGroupArn=arn, **health_check_params(health_check))["TargetGroups"][0]


@H.common_error_handler("modify target group attributes")
@retry
def modify_target_group_attributes(client, arn, attributes):
    client.modify_target_group_attributes(
        TargetGroupArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())])


@H.deletion_error_handler("delete target group")
@retry
def delete_target_group(client, arn):
    client.delete_target_group(TargetGroupArn=arn)
    return True


def health_check_params(health_check):
    return dict(HealthCheckPath=health_check["path"], HealthCheckIntervalSeconds=health_check["interval"],
                HealthCheckTimeoutSeconds=health_check["timeout"],
                HealthyThresholdCount=health_check["healthy_threshold"],
                UnhealthyThresholdCount=health_check["unhealthy_threshold"],
                Matcher={"HttpCode": health_check["matcher"]})


# --- listeners and rules -------------------------------------------------------------------------
@H.common_error_handler("create listener")
@retry_throttling
def create_listener(client, lb_arn, protocol, port, default_actions, certificate_arn=None, ssl_policy=None):
    params = dict(LoadBalancerArn=lb_arn, Protocol=protocol, Port=port, DefaultActions=default_actions)
    if protocol == "HTTPS":
        params.update(Certificates=[{"CertificateArn": certificate_arn}], SslPolicy=ssl_policy)
    return client.create_listener(**params)["Listeners"][0]


@H.common_error_handler("modify listener")
@retry
def modify_listener(client, listener_arn, **changes):
    return client.modify_listener(ListenerArn=listener_arn, **changes)["Listeners"][0]


@H.deletion_error_handler("delete listener")
@retry
def delete_listener(client, listener_arn):
    client.delete_listener(ListenerArn=listener_arn)
    return True


@H.common_error_handler("create listener rule")
@retry_throttling
def create_rule(client, listener_arn, priority, conditions, actions):
    return client.create_rule(ListenerArn=listener_arn, Priority=priority, Conditions=conditions,
                              Actions=actions)["Rules"][0]


@H.common_error_handler("modify listener rule")
@retry
def modify_rule(client, rule_arn, conditions=None, actions=None):
    params = {"RuleArn": rule_arn}
    if conditions is not None:
        params["Conditions"] = conditions
    if actions is not None:
        params["Actions"] = actions
    return client.modify_rule(**params)["Rules"][0]


@H.common_error_handler("set listener rule priority")
@retry
def set_rule_priority(client, rule_arn, priority):
    client.set_rule_priorities(RulePriorities=[{"RuleArn": rule_arn, "Priority": priority}])


@H.deletion_error_handler("delete listener rule")
@retry
def delete_rule(client, rule_arn):
    client.delete_rule(RuleArn=rule_arn)
    return True


# --- tags ----------------------------------------------------------------------------------------
@H.common_error_handler("tag load balancer resource")
@retry
def add_tags(client, arn, tags):
    # One resource per call: elbv2's AddTags tags one resource at a time.
    client.add_tags(ResourceArns=[arn], Tags=tag_list(tags))


@H.common_error_handler("untag load balancer resource")
@retry
def remove_tags(client, arn, keys):
    client.remove_tags(ResourceArns=[arn], TagKeys=list(keys))


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]


# --- identity ------------------------------------------------------------------------------------
def identity(lb_name, component):
    """Identity tags of a load balancer or of one of its target groups (the load balancer's name)."""
    return {TAG_NAME: lb_name, TAG_COMPONENT: component, TAG_MANAGED_BY: MANAGED_BY}


def owner_of(tags):
    """Name of the load balancer a resource belongs to by its identity tags, or None."""
    if tags.get(TAG_MANAGED_BY) == MANAGED_BY and tags.get(TAG_COMPONENT) in (LOAD_BALANCER, TARGET_GROUP):
        return tags.get(TAG_NAME)
    return None


def user_tags(tags):
    return {k: v for k, v in (tags or {}).items() if k not in IDENTITY_KEYS and k != "Name"}


def tg_name_of(arn):
    """The name inside a target group ARN (``...:targetgroup/<name>/<id>``)."""
    if not arn:
        return None
    _prefix, sep, rest = arn.partition(":targetgroup/")
    return rest.split("/")[0] if sep else arn


# --- discovery -----------------------------------------------------------------------------------
class Observed:
    """What exists of one load balancer, keyed the way the view names it."""

    def __init__(self, name):
        self.name = name
        self.lb = None
        self.lb_tags = {}
        self.attributes = {}
        self.listeners = {}  # key (http, https, or protocol:port of others) -> listener
        self.rules = {}  # listener key -> [non-default rules]
        self.target_groups = {}  # name -> target group (ours, and those the spec names)
        self.tg_tags = {}  # name -> tags
        self.tg_attributes = {}  # name -> attributes
        self.foreign = {}  # name -> owner: target groups the spec names that another load balancer owns

    @property
    def arn(self):
        return self.lb["LoadBalancerArn"] if self.lb else None

    @property
    def vpc_id(self):
        return self.lb.get("VpcId") if self.lb else None

    def attribute(self, key):
        """An attribute as a string (booleans lowercased), AWS's default when it is not reported."""
        value = str(self.attributes.get(key, DEFAULT_ATTRIBUTES.get(key, "")))
        return value.lower() if key.endswith(".enabled") else value

    def ours(self):
        """Target groups this load balancer owns (by identity tags)."""
        return sorted(n for n in self.target_groups if owner_of(self.tg_tags.get(n, {})) == self.name)


def listener_key(listener):
    protocol, port = listener.get("Protocol", ""), int(listener.get("Port") or 0)
    for key, wanted in LISTENER_PORTS.items():
        if port == wanted:
            return key
    return f"{protocol.lower()}:{port}"


def _parallel(calls):
    if not calls:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(calls))) as pool:
        futures = {key: pool.submit(call) for key, call in calls.items()}
        return {key: future.result() for key, future in futures.items()}


def discover(client, name, tg_names=(), lb=None):
    """Describe the load balancer ``name``, its listeners and rules, and its target groups.

    Target groups are ours when their identity tags name this load balancer; those in ``tg_names``
    (the spec) are read too: untagged ones are adopted, ones another load balancer owns are listed
    in ``foreign``. ``lb``: an already described load balancer (saves the lookup by name).
    """
    obs = Observed(name)
    found = _parallel({"lb": (lambda: lb) if lb else (lambda: describe_load_balancer(client, name)),
                       "tgs": lambda: describe_target_groups(client)})
    obs.lb = found["lb"]
    all_tgs = {tg["TargetGroupName"]: tg for tg in found["tgs"]}
    arns = ([obs.arn] if obs.lb else []) + [tg["TargetGroupArn"] for tg in all_tgs.values()]
    tags = describe_tags(client, arns) if arns else {}
    for tg_name, tg in all_tgs.items():
        tg_tags = tags.get(tg["TargetGroupArn"], {})
        owner = owner_of(tg_tags)
        if owner == name or (tg_name in tg_names and owner is None):
            obs.target_groups[tg_name] = tg
            obs.tg_tags[tg_name] = tg_tags
        elif tg_name in tg_names:
            obs.foreign[tg_name] = owner
    calls = {f"tg:{n}": (lambda arn=tg["TargetGroupArn"]: describe_target_group_attributes(client, arn))
             for n, tg in obs.target_groups.items()}
    if obs.lb:
        obs.lb_tags = tags.get(obs.arn, {})
        calls["attributes"] = lambda: describe_load_balancer_attributes(client, obs.arn)
        calls["listeners"] = lambda: describe_listeners(client, obs.arn)
    found = _parallel(calls)
    for tg_name in obs.target_groups:
        obs.tg_attributes[tg_name] = found[f"tg:{tg_name}"]
    if obs.lb:
        obs.attributes = found["attributes"]
        listeners = {}
        for listener in sorted(found["listeners"], key=lambda item: int(item.get("Port") or 0)):
            listeners.setdefault(listener_key(listener), []).append(listener)
        for key, same in listeners.items():
            for index, listener in enumerate(same):  # two listeners cannot share a port: belt and braces
                obs.listeners[key if index == 0 else f"{key}#{index}"] = listener
        rules = _parallel({key: (lambda arn=item["ListenerArn"]: describe_rules(client, arn))
                           for key, item in obs.listeners.items()})
        obs.rules = {key: sorted((r for r in found_rules if not r.get("IsDefault")), key=rule_priority)
                     for key, found_rules in rules.items()}
    return obs


def owned_load_balancers(client):
    """Every load balancer carrying our identity tags."""
    balancers = describe_load_balancers(client)
    tags = describe_tags(client, [lb["LoadBalancerArn"] for lb in balancers]) if balancers else {}
    return [lb for lb in balancers if owner_of(tags.get(lb["LoadBalancerArn"], {})) == lb["LoadBalancerName"]]


# --- the managed view ----------------------------------------------------------------------------
def rule_priority(rule):
    try:
        return int(rule.get("Priority"))
    except (TypeError, ValueError):
        return 0


def _condition_values(condition, config_key):
    config = condition.get(config_key) or {}
    return list(config.get("Values") or condition.get("Values") or [])


def rule_conditions(rule):
    """(path patterns, host headers, other conditions) of a described rule, normalised."""
    paths, hosts, other = [], [], []
    for condition in rule.get("Conditions") or []:
        field = condition.get("Field")
        if field == "path-pattern":
            paths.extend(_condition_values(condition, "PathPatternConfig"))
        elif field == "host-header":
            hosts.extend(_condition_values(condition, "HostHeaderConfig"))
        else:
            other.append(f"{field} {condition}")
    return sorted(set(paths)), sorted({h.lower() for h in hosts}), sorted(other)


def forward_target(action):
    """Name of the single target group a forward action sends to, or None."""
    if action.get("Type") != "forward":
        return None
    arns = [action["TargetGroupArn"]] if action.get("TargetGroupArn") else [
        tg.get("TargetGroupArn") for tg in (action.get("ForwardConfig") or {}).get("TargetGroups") or []]
    return tg_name_of(arns[0]) if len(set(arns)) == 1 else None


def action_view(actions):
    """A listener's or rule's actions as the view spells them (``forward to web``)."""
    parts = []
    for action in sorted(actions or [], key=lambda a: a.get("Order") or 0):
        kind = action.get("Type")
        if kind == "forward":
            arns = [action["TargetGroupArn"]] if action.get("TargetGroupArn") else [
                tg.get("TargetGroupArn") for tg in (action.get("ForwardConfig") or {}).get("TargetGroups") or []]
            parts.append("forward to " + ", ".join(sorted({tg_name_of(a) for a in arns})))
        elif kind == "redirect":
            config = action.get("RedirectConfig") or {}
            text = f"redirect to {config.get('Protocol')}:{config.get('Port')} ({config.get('StatusCode')})"
            extra = [f"{k.lower()}={config.get(k)}" for k in sorted(REDIRECT_DEFAULTS)
                     if config.get(k, REDIRECT_DEFAULTS[k]) != REDIRECT_DEFAULTS[k]]
            parts.append(text + (f" [{', '.join(extra)}]" if extra else ""))
        elif kind == "fixed-response":
            parts.append(f"fixed-response {(action.get('FixedResponseConfig') or {}).get('StatusCode')}")
        else:
            parts.append(str(kind))
    return " then ".join(parts) or "none"


def rule_view(rule):
    paths, hosts, other = rule_conditions(rule)
    view = {"priority": rule_priority(rule), "path_patterns": paths, "host_headers": hosts}
    target = forward_target((rule.get("Actions") or [{}])[0]) if len(rule.get("Actions") or []) == 1 else None
    if target:
        view["target_group"] = target
    else:
        view["action"] = action_view(rule.get("Actions"))
    if other:
        view["other_conditions"] = other
    return view


def listener_view(listener, rules):
    view = {"protocol": listener.get("Protocol"), "port": int(listener.get("Port") or 0),
            "default_action": action_view(listener.get("DefaultActions"))}
    if listener.get("Protocol") == "HTTPS":
        certificates = listener.get("Certificates") or [{}]
        view["certificate_arn"] = certificates[0].get("CertificateArn")
        view["ssl_policy"] = listener.get("SslPolicy")
    view["rules"] = [rule_view(r) for r in sorted(rules or [], key=rule_priority)]
    return view


def health_check_view(tg):
    return {"path": tg.get("HealthCheckPath"), "interval": tg.get("HealthCheckIntervalSeconds"),
            "timeout": tg.get("HealthCheckTimeoutSeconds"), "healthy_threshold": tg.get("HealthyThresholdCount"),
            "unhealthy_threshold": tg.get("UnhealthyThresholdCount"),
            "matcher": (tg.get("Matcher") or {}).get("HttpCode")}


def target_group_view(tg, attributes):
    return {"protocol": tg.get("Protocol"), "port": tg.get("Port"), "target_type": tg.get("TargetType"),
            "health_check": health_check_view(tg),
            "deregistration_delay": int(attributes.get("deregistration_delay.timeout_seconds",
                                                       DEFAULT_DEREGISTRATION_DELAY))}


def access_logs_view(obs):
    if obs.attribute("access_logs.s3.enabled") != "true":
        return {"enabled": False}
    return {"enabled": True, "bucket": obs.attribute("access_logs.s3.bucket"),
            "prefix": obs.attribute("access_logs.s3.prefix")}


def observed_view(obs, security_groups=True):
    """The managed view of what exists (the shape load_balancer's ``desired_view`` builds); None: nothing.

    ``security_groups``: whether the view holds the security groups (load_balancer leaves them out
    when the task does not manage them).
    """
    if not obs.lb and not obs.ours():
        return None
    view = {"load_balancer": None, "listeners": {}, "target_groups": {}, "tags": {}}
    if obs.lb:
        lb = obs.lb
        view["load_balancer"] = {
            "scheme": lb.get("Scheme"),
            "ip_address_type": lb.get("IpAddressType"),
            "subnets": sorted(z["SubnetId"] for z in lb.get("AvailabilityZones") or [] if z.get("SubnetId")),
            "idle_timeout": int(obs.attribute("idle_timeout.timeout_seconds") or 0),
            "deletion_protection": obs.attribute("deletion_protection.enabled") == "true",
            "access_logs": access_logs_view(obs),
        }
        if security_groups:
            view["load_balancer"]["security_groups"] = sorted(lb.get("SecurityGroups") or [])
        view["listeners"] = {key: listener_view(listener, obs.rules.get(key))
                             for key, listener in obs.listeners.items()}
        view["tags"] = user_tags(obs.lb_tags)
    view["target_groups"] = {name: target_group_view(obs.target_groups[name], obs.tg_attributes.get(name, {}))
                             for name in obs.ours()}
    return view


# --- the facts both modules return ---------------------------------------------------------------
def load_balancer_facts(obs):
    """ARNs and addresses (see the RETURN docs of load_balancer); {} when there is no load balancer."""
    if not obs.lb:
        return {}
    lb = obs.lb
    zones = lb.get("AvailabilityZones") or []
    rules = []
    for key in sorted(obs.rules):
        for rule in sorted(obs.rules[key], key=rule_priority):
            view = rule_view(rule)
            rules.append(dict(arn=rule.get("RuleArn"), listener=key, **view))
    return {
        "name": lb.get("LoadBalancerName"),
        "arn": lb.get("LoadBalancerArn"),
        "dns_name": lb.get("DNSName"),
        "canonical_hosted_zone_id": lb.get("CanonicalHostedZoneId"),
        "scheme": lb.get("Scheme"),
        "type": lb.get("Type"),
        "state": (lb.get("State") or {}).get("Code"),
        "vpc_id": lb.get("VpcId"),
        "ip_address_type": lb.get("IpAddressType"),
        "security_groups": list(lb.get("SecurityGroups") or []),
        "subnets": [z.get("SubnetId") for z in zones],
        "availability_zones": sorted({z.get("ZoneName") for z in zones if z.get("ZoneName")}),
        "listeners": {key: listener.get("ListenerArn") for key, listener in sorted(obs.listeners.items())},
        "target_groups": {name: obs.target_groups[name].get("TargetGroupArn") for name in obs.ours()},
        "rules": rules,
        "tags": dict(obs.lb_tags),
    }
