# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""load_balancer: validation, priority derivation, rule planning, views, and main() in check mode."""

import copy
import json

import pytest


from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import elbv2
from ansible_collections.seed.aws_migration.plugins.module_utils import lb_routing
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.modules import load_balancer as lbm

SUBNETS = ["subnet-0a", "subnet-0b"]
WEB = {"name": "web", "port": 8080}
API = {"name": "api", "port": 8000}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{}/0123456789abcdef"


def params(**overrides):
    base = dict(name="shop", state="present", subnets=list(SUBNETS), security_groups=None, scheme="internet-facing",
                ip_address_type="ipv4", idle_timeout=60, deletion_protection=False, force_absent=False,
                access_logs={}, certificate_arn=None, ssl_policy=lbm.DEFAULT_SSL_POLICY,
                target_groups=[dict(WEB), dict(API)], default_target_group="web", rules=[], tags=None,
                purge_tags=True, wait=True, wait_timeout=600)
    base.update(overrides)
    return base


def rule(target, paths=(), hosts=(), priority=None):
    return {"target_group": target, "path_patterns": list(paths), "host_headers": list(hosts), "priority": priority}


# --- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides, field", [
    (dict(name="x" * 33), "name"),
    (dict(name="-shop"), "name"),
    (dict(name="internal-shop"), "name"),
    (dict(subnets=["subnet-0a"]), "subnets"),
    (dict(subnets=None), "subnets"),
    (dict(subnets=["subnet-0a", "subnet-0a"]), "subnets"),
    (dict(subnets=["subnet-0a", "vpc-0b"]), "subnets[1]"),
    (dict(security_groups=["default"]), "security_groups[0]"),
    (dict(idle_timeout=0), "idle_timeout"),
    (dict(access_logs={"enabled": True}), "access_logs.bucket"),
    (dict(certificate_arn="my-cert"), "certificate_arn"),
    (dict(tags={"seed:name": "x"}), "tags"),
    (dict(target_groups=[dict(WEB, name="w" * 33)], default_target_group=None), "target_groups[0].name"),
    (dict(target_groups=[dict(WEB, port=0)]), "target_groups[0].port"),
    (dict(target_groups=[dict(WEB, port=65536)]), "target_groups[0].port"),
    (dict(target_groups=[dict(WEB, health_check={"path": "health"})]), "target_groups[0].health_check.path"),
    (dict(target_groups=[dict(WEB, health_check={"interval": 400})]), "target_groups[0].health_check.interval"),
    (dict(target_groups=[dict(WEB, health_check={"timeout": 15})]), "target_groups[0].health_check.timeout"),
    (dict(target_groups=[dict(WEB, health_check={"matcher": "ok"})]), "target_groups[0].health_check.matcher"),
    (dict(target_groups=[dict(WEB, deregistration_delay=4000)]), "target_groups[0].deregistration_delay"),
    (dict(target_groups=[dict(WEB), dict(WEB)]), "target_groups[1].name"),
    (dict(default_target_group="nope"), "default_target_group"),
    (dict(rules=[rule("nope", ["/x"])]), "rules[0].target_group"),
    (dict(rules=[rule("web")]), "rules[0]"),
    (dict(rules=[rule("web", ["/a", "/b", "/c"], ["a.example", "b.example", "c.example"])]), "rules[0]"),
    (dict(rules=[rule("web", ["/a", "/a"])]), "rules[0].path_patterns"),
    (dict(rules=[rule("web", ["/a", "/b", "/c", "/d"])]), "rules[0].path_patterns"),
    (dict(rules=[rule("web", [], ["a.example", "b.example", "c.example", "d.example"])]), "rules[0].host_headers"),
    (dict(rules=[rule("web", ["/a"], priority=0)]), "rules[0].priority"),
    (dict(wait_timeout=-1), "wait_timeout"),
    (dict(state="absent", subnets=None, wait_timeout=-30), "wait_timeout"),
    (dict(ssl_policy="TLS13-1-2-2021-06"), "ssl_policy"),
    (dict(ssl_policy="ELBSecurityPolicy-"), "ssl_policy"),
    (dict(ssl_policy="elbsecuritypolicy-2016-08"), "ssl_policy"),
    (dict(ssl_policy="ELBSecurityPolicy-TLS13 1-2"), "ssl_policy"),
    (dict(access_logs={"enabled": True, "bucket": "logs", "prefix": "/alb"}), "access_logs.prefix"),
    (dict(access_logs={"enabled": True, "bucket": "logs", "prefix": "alb/"}), "access_logs.prefix"),
    (dict(access_logs={"enabled": True, "bucket": "logs", "prefix": "alb/AWSLogs"}), "access_logs.prefix"),
    (dict(access_logs={"enabled": False, "prefix": "/alb"}), "access_logs.prefix"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(ValidationError) as e:
        lbm.build_spec(params(**overrides))
    assert e.value.field == field, e.value.message
    assert e.value.message.startswith(f"{field}: ")


@pytest.mark.parametrize("given, used", [(None, 600), (0, 0), (1, 1), (1200, 1200)])
def test_wait_timeout_zero_is_kept_and_only_unset_takes_the_default(given, used):
    # 0 checks once without waiting (as in the other modules), it does not become the default.
    assert lbm.build_spec(params(wait_timeout=given)).wait_timeout == used
    assert lbm.build_spec(params(state="absent", subnets=None, wait_timeout=given)).wait_timeout == used


@pytest.mark.parametrize("policy", [
    "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10", "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06"])
def test_predefined_ssl_policies_are_taken(policy):
    spec = lbm.build_spec(params(certificate_arn=CERT, ssl_policy=policy))
    assert lbm.desired_view(spec)["listeners"]["https"]["ssl_policy"] == policy


@pytest.mark.parametrize("prefix", ["", "alb", "alb/public", "prod-alb/eu.west.1"])
def test_access_log_prefixes_aws_takes(prefix):
    spec = lbm.build_spec(params(access_logs={"enabled": True, "bucket": "logs", "prefix": prefix}))
    assert spec.access_logs == {"enabled": True, "bucket": "logs", "prefix": prefix}


def test_absent_needs_nothing_but_the_name():
    spec = lbm.build_spec(params(state="absent", subnets=None, target_groups=[], default_target_group=None))
    assert spec.state == "absent"
    assert lbm.build_spec(params(state="absent", deletion_protection=True, force_absent=True)).force_absent


@pytest.mark.parametrize("rules, field, other, claim", [
    ([rule("web", ["/api/*"]), rule("api", ["/api/*"])], "rules[1]", "rules[0]", "path pattern /api/*"),
    ([rule("web", hosts=["a.example.com"]), rule("api", ["/x"]), rule("api", hosts=["A.example.com"])],
     "rules[2]", "rules[0]", "host header a.example.com"),
    ([rule("web", ["/a", "/b"], ["x.example"]), rule("api", ["/b"], ["y.example", "x.example"])],
     "rules[1]", "rules[0]", "host header x.example with path pattern /b"),
])
def test_conflicting_rules_name_both(rules, field, other, claim):
    with pytest.raises(ValidationError) as e:
        lbm.build_spec(params(rules=rules))
    assert e.value.field == field
    assert other in e.value.message and claim in e.value.message


def test_a_more_specific_rule_is_not_a_conflict():
    spec = lbm.build_spec(params(rules=[rule("api", ["/api/*"], ["api.example.com"]), rule("web", ["/api/*"]),
                                        rule("web", hosts=["api.example.com"])]))
    assert [r["priority"] for r in spec.rules] == [10, 20, 30]


def test_duplicate_priorities_name_both_rules():
    with pytest.raises(ValidationError) as e:
        lbm.build_spec(params(rules=[rule("web", ["/a"], priority=5), rule("api", ["/b"]),
                                     rule("api", ["/c"], priority=5)]))
    assert e.value.field == "rules[2].priority" and "rules[0]" in e.value.message


# --- priorities ----------------------------------------------------------------------------------
def derived(*priorities):
    rules = [dict(rule("web", [f"/{i}"], priority=p), field=f"rules[{i}]") for i, p in enumerate(priorities)]
    return [r["priority"] for r in lb_routing.derive_priorities(rules)]


def test_priorities_follow_the_list_order():
    assert derived(None, None, None) == [10, 20, 30]
    assert derived(None, 15, None) == [10, 15, 20]
    assert derived(None, 20, None) == [10, 20, 30]
    assert derived(None, None, 20) == [10, 30, 20]  # 20 is claimed: the second rule skips it
    assert derived(25, None) == [25, 30]
    assert derived(None, 5, None) == [10, 5, 20]  # never a derived priority twice
    assert derived(None, None) == derived(None, None)  # stable


def test_derived_priorities_stay_in_range():
    with pytest.raises(ValidationError) as e:
        derived(50000, None)
    assert e.value.field == "rules[1].priority"


# --- views ---------------------------------------------------------------------------------------
def aws_rule(arn, priority, paths=(), hosts=(), target="web"):
    """A rule as AWS describes it: Values and *Config both, forward with ForwardConfig too."""
    conditions = []
    if paths:
        conditions.append({"Field": "path-pattern", "Values": list(paths),
                           "PathPatternConfig": {"Values": list(reversed(paths))}})
    if hosts:
        conditions.append({"Field": "host-header", "Values": list(hosts),
                           "HostHeaderConfig": {"Values": list(hosts)}})
    tg_arn = TG_ARN.format(target)
    return {"RuleArn": arn, "Priority": str(priority), "IsDefault": False, "Conditions": list(reversed(conditions)),
            "Actions": [{"Type": "forward", "Order": 1, "TargetGroupArn": tg_arn,
                         "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg_arn, "Weight": 1}],
                                           "TargetGroupStickinessConfig": {"Enabled": False}}}]}


def aws_target_group(name, port, path="/"):
    return {"TargetGroupName": name, "TargetGroupArn": TG_ARN.format(name), "Protocol": "HTTP", "Port": port,
            "TargetType": "ip", "VpcId": "vpc-1", "HealthCheckPath": path, "HealthCheckIntervalSeconds": 15,
            "HealthCheckTimeoutSeconds": 5, "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 3,
            "Matcher": {"HttpCode": "200-399"}}


def observed_for(spec, rules, certificate=None):
    """An Observed that is exactly ``spec``, described the way AWS answers."""
    obs = elbv2.Observed(spec.name)
    obs.lb = {"LoadBalancerName": spec.name, "LoadBalancerArn": "arn:lb", "Scheme": "internet-facing",
              "Type": "application", "IpAddressType": "ipv4", "VpcId": "vpc-1", "State": {"Code": "active"},
              "AvailabilityZones": [{"SubnetId": s, "ZoneName": f"us-east-1{s[-1]}"} for s in reversed(SUBNETS)],
              "SecurityGroups": []}
    obs.lb_tags = dict(elbv2.identity(spec.name, elbv2.LOAD_BALANCER))
    # Attributes come back as strings; some (idle timeout, access_logs.s3.enabled) may be missing.
    obs.attributes = {"deletion_protection.enabled": "false", "access_logs.s3.bucket": ""}
    forward = {"Type": "forward", "TargetGroupArn": TG_ARN.format("web")}
    if certificate:
        obs.listeners = {
            "http": {"ListenerArn": "arn:l80", "Protocol": "HTTP", "Port": 80,
                     "DefaultActions": [copy.deepcopy(lbm.REDIRECT_ACTION)]},
            "https": {"ListenerArn": "arn:l443", "Protocol": "HTTPS", "Port": 443, "SslPolicy": spec.ssl_policy,
                      "Certificates": [{"CertificateArn": certificate}], "DefaultActions": [forward]}}
        obs.rules = {"http": [], "https": rules}
    else:
        obs.listeners = {"http": {"ListenerArn": "arn:l80", "Protocol": "HTTP", "Port": 80,
                                  "DefaultActions": [forward]}}
        obs.rules = {"http": rules}
    for name, port in (("web", 8080), ("api", 8000)):
        obs.target_groups[name] = aws_target_group(name, port)
        obs.tg_tags[name] = dict(elbv2.identity(spec.name, elbv2.TARGET_GROUP))
        obs.tg_attributes[name] = {"deregistration_delay.timeout_seconds": "30", "stickiness.enabled": "false"}
    return obs


def test_observed_view_of_a_converged_load_balancer_equals_the_desired_view():
    spec = lbm.build_spec(params(rules=[rule("api", ["/v2/*", "/api/*"], ["api.example.com"]),
                                        rule("web", hosts=["www.example.com"])]))
    rules = [aws_rule("arn:r2", 20, hosts=["www.example.com"]),
             aws_rule("arn:r1", 10, paths=["/api/*", "/v2/*"], hosts=["api.example.com"], target="api")]
    obs = observed_for(spec, rules)
    assert elbv2.observed_view(obs, security_groups=False) == lbm.desired_view(spec)


def test_views_with_a_certificate():
    spec = lbm.build_spec(params(certificate_arn=CERT, rules=[rule("api", ["/api/*"])], security_groups=[]))
    view = lbm.desired_view(spec)
    assert view["listeners"]["http"] == {"protocol": "HTTP", "port": 80, "rules": [],
                                         "default_action": "redirect to HTTPS:443 (HTTP_301)"}
    assert view["listeners"]["https"]["rules"] == [{"priority": 10, "path_patterns": ["/api/*"], "host_headers": [],
                                                    "target_group": "api"}]
    assert view["load_balancer"]["security_groups"] == []
    obs = observed_for(spec, [aws_rule("arn:r1", 10, paths=["/api/*"], target="api")], certificate=CERT)
    assert elbv2.observed_view(obs) == view


def test_default_action_without_a_frontend_is_a_404():
    spec = lbm.build_spec(params(default_target_group=None))
    assert lbm.desired_view(spec)["listeners"]["http"]["default_action"] == "fixed-response 404"


def test_action_views():
    assert elbv2.action_view([{"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_302", "Path": "/x"}}]) == \
        "redirect to HTTPS:443 (HTTP_302) [path=/x]"
    assert elbv2.action_view([{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": TG_ARN.format("b")}, {"TargetGroupArn": TG_ARN.format("a")}]}}]) == "forward to a, b"
    assert elbv2.tg_name_of(TG_ARN.format("web")) == "web"


# --- rule planning -------------------------------------------------------------------------------
def wanted(*rules):
    return lb_routing.derive_priorities([dict(r, field=f"rules[{i}]") for i, r in enumerate(rules)])


def summary(ops):
    out = []
    for op in ops:
        if op[0] == "create":
            out.append(("create", op[1]["priority"]))
        elif op[0] == "move":
            out.append(("move", op[1]["RuleArn"], op[3], op[4]))
        elif op[0] == "modify":
            out.append(("modify", op[1]["RuleArn"], op[3], op[4]))
        else:
            out.append((op[0], op[1]["RuleArn"]))
    return out


def test_plan_nothing_when_converged():
    current = [aws_rule("arn:a", 10, paths=["/a"]), aws_rule("arn:b", 20, hosts=["b.example"], target="api")]
    assert lbm.plan_rules(current, wanted(rule("web", ["/a"]), rule("api", hosts=["b.example"]))) == []


def test_plan_removes_then_moves_then_creates():
    current = [aws_rule("arn:a", 10, paths=["/a"]), aws_rule("arn:b", 20, paths=["/b"]),
               aws_rule("arn:c", 30, paths=["/c"])]
    ops = lbm.plan_rules(current, wanted(rule("web", ["/new"], priority=5), rule("web", ["/c"]),
                                         rule("api", ["/b"])))
    # /new takes 5; /c is derived 10 and /b 20: /a goes first, then /c moves up into its place.
    assert summary(ops) == [("delete", "arn:a"), ("modify", "arn:b", False, True), ("move", "arn:c", 30, 10),
                            ("create", 5)]


def test_plan_modifies_conditions_in_place_at_the_same_priority():
    current = [aws_rule("arn:a", 10, paths=["/a"])]
    assert summary(lbm.plan_rules(current, wanted(rule("web", ["/a", "/b"])))) == [("modify", "arn:a", True, False)]


def test_plan_swaps_priorities_through_a_free_one():
    current = [aws_rule("arn:a", 10, paths=["/a"]), aws_rule("arn:b", 20, paths=["/b"])]
    ops = lbm.plan_rules(current, wanted(rule("web", ["/b"]), rule("web", ["/a"])))
    assert summary(ops) == [("move", "arn:a", 10, 50000), ("move", "arn:b", 20, 10), ("move", "arn:a", 50000, 20)]


def test_plan_shifts_down_when_a_rule_is_inserted_first():
    current = [aws_rule("arn:a", 10, paths=["/a"]), aws_rule("arn:b", 20, paths=["/b"])]
    ops = lbm.plan_rules(current, wanted(rule("web", ["/new"]), rule("web", ["/a"]), rule("web", ["/b"])))
    # One rule at a time, each to a free priority: b leaves 20 before a takes it.
    assert summary(ops) == [("move", "arn:b", 20, 30), ("move", "arn:a", 10, 20), ("create", 10)]


def test_plan_replaces_foreign_conditions():
    extra = aws_rule("arn:a", 10, paths=["/a"])
    extra["Conditions"].append({"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}})
    assert summary(lbm.plan_rules([extra], wanted(rule("web", ["/a"])))) == [("modify", "arn:a", True, False)]


def test_plan_keep_leaves_unwanted_rules_where_they_are():
    current = [aws_rule("arn:a", 10, paths=["/api/*"], target="api"), aws_rule("arn:b", 20, paths=["/b"])]
    assert summary(lbm.plan_rules(current, wanted(), keep=True)) == [("keep", "arn:a"), ("keep", "arn:b")]
    assert summary(lbm.plan_rules(current, wanted())) == [("delete", "arn:a"), ("delete", "arn:b")]


def test_plan_keep_replaces_a_rule_on_a_priority_a_wanted_rule_takes():
    # /new is derived priority 10, where /api/* sits: matched by priority, it is changed in place;
    # /b at 20 is kept and its priority is never a move target or a temporary one.
    current = [aws_rule("arn:a", 10, paths=["/api/*"], target="api"), aws_rule("arn:b", 20, paths=["/b"])]
    ops = lbm.plan_rules(current, wanted(rule("web", ["/new"])), keep=True)
    assert summary(ops) == [("keep", "arn:b"), ("modify", "arn:a", True, True)]


def test_plan_keep_never_moves_a_rule_onto_a_kept_one():
    # /a (at 30) wants 10 and /c (at 10) wants 30: the swap's temporary priority avoids the kept 50000.
    current = [aws_rule("arn:c", 10, paths=["/c"]), aws_rule("arn:a", 30, paths=["/a"]),
               aws_rule("arn:old", 50000, paths=["/old"])]
    ops = lbm.plan_rules(current, wanted(rule("web", ["/a"]), rule("web", ["/c"], priority=30)), keep=True)
    assert summary(ops) == [("keep", "arn:old"), ("move", "arn:c", 10, 49999), ("move", "arn:a", 30, 10),
                            ("move", "arn:c", 49999, 30)]


# --- main() --------------------------------------------------------------------------------------

@pytest.fixture
def empty_account(monkeypatch):
    """Every describe answers "nothing"; every write fails the test."""
    writes = []
    for name in dir(elbv2):
        func = getattr(elbv2, name)
        if not callable(func) or name.startswith("_") or isinstance(func, type):
            continue
        if name.startswith("describe_"):
            monkeypatch.setattr(elbv2, name, lambda *a, _n=name, **k: {} if "attributes" in _n or "tags" in _n
                                else (None if _n == "describe_load_balancer" else []))
        elif name.split("_")[0] in ("create", "modify", "set", "delete", "add", "remove"):
            def write(*args, _n=name, **kwargs):
                writes.append(_n)
                raise AssertionError(f"{_n} called in check mode")
            monkeypatch.setattr(elbv2, name, write)
    monkeypatch.setattr(lbm.SeedAWSModule, "seed_client", lambda self, service: object())
    return writes


def run(monkeypatch, args, check_mode=True):
    return run_module(monkeypatch, lbm, args, check_mode)


def test_check_mode_on_an_empty_account_plans_everything_and_writes_nothing(monkeypatch, empty_account):
    result = run(monkeypatch, dict(name="shop", subnets=SUBNETS, certificate_arn=CERT,
                                   target_groups=[WEB, dict(API, health_check={"path": "/api/health"})],
                                   default_target_group="web",
                                   rules=[{"target_group": "api", "path_patterns": ["/api/*"]}]))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and empty_account == []
    assert result["actions"] == [
        "create load balancer shop (internet-facing, 2 subnets)",
        "create target group web (HTTP:8080, ip)",
        "set target group web deregistration_delay 300 -> 30",
        "create target group api (HTTP:8000, ip)",
        "set target group api deregistration_delay 300 -> 30",
        "create listener https (HTTPS:443) -> forward to web",
        "create rule 10 on https: path /api/* -> api",
        "create listener http (HTTP:80) -> redirect to HTTPS:443 (HTTP_301)",
    ]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["target_groups"]["api"]["health_check"]["path"] == "/api/health"
    assert result["load_balancer"] == {}
    json.dumps(result)  # what Ansible will serialise


def test_check_mode_absent_on_an_empty_account_is_a_no_op(monkeypatch, empty_account):
    result = run(monkeypatch, dict(name="shop", state="absent"))
    assert result["changed"] is False and result["actions"] == [] and empty_account == []


def test_bad_input_fails_before_any_client(monkeypatch, empty_account):
    monkeypatch.setattr(lbm.SeedAWSModule, "seed_client",
                        lambda self, service: pytest.fail("a client was made before validation finished"))
    result = run(monkeypatch, dict(name="shop", subnets=SUBNETS, target_groups=[WEB],
                                   rules=[{"target_group": "web", "path_patterns": ["/a"]},
                                          {"target_group": "web", "path_patterns": ["/a"]}]))
    assert result["failed"] and result["msg"].startswith("rules[1]:") and "rules[0]" in result["msg"]


@pytest.mark.parametrize("args, field", [
    (dict(wait_timeout=-1), "wait_timeout"),
    (dict(state="absent", subnets=None, wait_timeout=-1), "wait_timeout"),
    (dict(certificate_arn=CERT, ssl_policy="TLS-1-2"), "ssl_policy"),
    (dict(access_logs={"enabled": True, "bucket": "logs", "prefix": "alb/"}), "access_logs.prefix"),
    (dict(access_logs={"enabled": True, "bucket": "logs", "prefix": "AWSLogs"}), "access_logs.prefix"),
])
def test_timeout_ssl_policy_and_log_prefix_fail_before_any_client(monkeypatch, empty_account, args, field):
    monkeypatch.setattr(lbm.SeedAWSModule, "seed_client",
                        lambda self, service: pytest.fail("a client was made before validation finished"))
    result = run(monkeypatch, dict(dict(name="shop", subnets=SUBNETS, target_groups=[WEB]), **args), check_mode=False)
    assert result["failed"] and result["msg"].startswith(f"{field}: "), result["msg"]


def test_a_target_group_removed_from_the_spec_is_deleted_once_elb_lets_go_of_it(monkeypatch):
    """A target group no longer wanted: its rule goes first, and ELB then answers DeleteTargetGroup with
    ResourceInUse for a while. The run tries again (bounded by wait_timeout), in the present path as in the
    teardown."""
    from types import SimpleNamespace

    from botocore.exceptions import ClientError

    from ansible_collections.seed.aws_migration.plugins.module_utils import waiting

    class InUseForAWhile:
        calls = 0

        def delete_target_group(self, TargetGroupArn):
            self.calls += 1
            if self.calls <= 2:
                raise ClientError({"Error": {"Code": "ResourceInUse", "Message": "Target group is currently in use "
                                                                                 "by a listener or a rule"}},
                                  "DeleteTargetGroup")
            return {}

    monkeypatch.setattr(waiting.time, "sleep", lambda seconds: None)
    manager = object.__new__(lbm.LoadBalancerManager)
    manager.check_mode, manager.actions, manager.client = False, [], InUseForAWhile()
    manager.spec = SimpleNamespace(wait_timeout=600)
    manager.obs = SimpleNamespace(target_groups={"api": {"TargetGroupArn": TG_ARN.format("api")}})
    manager._delete_target_group("api")
    assert manager.actions == ["delete target group api"] and manager.client.calls == 3
    assert manager.obs.target_groups == {}
