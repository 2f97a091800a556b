# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""web_acl: validation (the field is named, nothing is called), the canonical form of rules (what AWS fills
in never counts as a change), the diff views, and main() against recorded responses.

Recorded responses (botocore Stubber, labelled RECORDED below): the shapes real AWS WAF answers with where the
local AWS (moto 5.2.5) differs or has no API - GetWebACL with the fields AWS fills in (EvaluationWindowSec,
OverrideAction, Capacity, LabelNamespace, ManagedByFirewallManager, RetrofittedByFirewallManager, legacy
ExcludedRules, TokenDomains/CustomResponseBodies set elsewhere), ListResourcesForWebACL (absent from moto),
WAFOptimisticLockException on UpdateWebACL. They follow the WAFV2 API reference's response syntax, with the
account and ids replaced; the Stubber checks every response against botocore's service model, and every request
the module makes against the expected parameters, and fails on any call not listed.
"""

import copy

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import wafv2
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import changed_paths
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.modules import web_acl

NAME = "seed-public"
ACCOUNT = "123456789012"
ACL_ID = "a1b2c3d4-5678-90ab-cdef-111111111111"
ACL_ARN = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/{NAME}/{ACL_ID}"
ALB = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/seed-public/50dc6c495c0c9188"
ALB_2 = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/app/seed-other/6d0ecf831eec9f09"
REST_STAGE = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"
HTTP_STAGE = "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5/stages/prod"
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:aws-waf-logs-seed"
MANAGED_TAGS = {"seed:managed-by": "seed.aws_migration", "seed:component": "web-acl"}
GROUPS = [{"name": "AWSManagedRulesCommonRuleSet", "vendor": "AWS", "priority": 10, "override_action": "none",
           "excluded_rules": [], "rule_action_overrides": []},
          {"name": "AWSManagedRulesKnownBadInputsRuleSet", "vendor": "AWS", "priority": 20,
           "override_action": "none", "excluded_rules": [], "rule_action_overrides": []}]
RATE = {"enabled": True, "limit": 2000, "evaluation_window_seconds": 300, "action": "block",
        "aggregate_key_type": "IP", "forwarded_ip_header": "X-Forwarded-For", "forwarded_ip_fallback": "MATCH",
        "priority": 0, "name": "RateLimitPerIP"}


def params(**kwargs):
    """The module's parameters after Ansible applied the defaults."""
    base = dict(name=NAME, state="present", scope="REGIONAL", description=None, default_action="allow",
                managed_rule_groups=copy.deepcopy(GROUPS), rate_limit=dict(RATE),
                visibility={"cloudwatch_metrics": True, "sampled_requests": True, "metric_name": None},
                associations=None, purge_associations=True, logging=None, tags=None, purge_tags=True)
    base.update(kwargs)
    return base


def visibility(metric):
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}


# RECORDED: GetWebACL of a web ACL converged by the module, as AWS returns it (defaults filled in, the
# read-only fields, a token domain and a custom response body someone set in the console).
AWS_ACL = {
    "Name": NAME, "Id": ACL_ID, "ARN": ACL_ARN, "DefaultAction": {"Allow": {}},
    "Rules": [
        {"Name": "AWSManagedRulesKnownBadInputsRuleSet", "Priority": 20,
         "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS",
                                                     "Name": "AWSManagedRulesKnownBadInputsRuleSet"}},
         "OverrideAction": {"None": {}},
         "VisibilityConfig": visibility(f"{NAME}-AWSManagedRulesKnownBadInputsRuleSet")},
        {"Name": "RateLimitPerIP", "Priority": 0,
         "Statement": {"RateBasedStatement": {"Limit": 2000, "EvaluationWindowSec": 300, "AggregateKeyType": "IP"}},
         "Action": {"Block": {}}, "VisibilityConfig": visibility(f"{NAME}-RateLimitPerIP")},
        {"Name": "AWSManagedRulesCommonRuleSet", "Priority": 10,
         "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}},
         "OverrideAction": {"None": {}}, "VisibilityConfig": visibility(f"{NAME}-AWSManagedRulesCommonRuleSet")},
    ],
    "VisibilityConfig": visibility(NAME), "Capacity": 1425, "ManagedByFirewallManager": False,
    "LabelNamespace": f"awswaf:{ACCOUNT}:webacl:{NAME}:", "RetrofittedByFirewallManager": False,
    "TokenDomains": ["example.com"],
    "CustomResponseBodies": {"blocked": {"ContentType": "TEXT_PLAIN", "Content": "Blocked"}},
}
LOCK = "0a1b2c3d-0000-4000-8000-000000000001"
LOCK_2 = "0a1b2c3d-0000-4000-8000-000000000002"


# --- validation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides, field", [
    (dict(name="seed public"), "name"),
    (dict(rate_limit=dict(RATE, limit=9)), "rate_limit.limit"),
    (dict(rate_limit=dict(RATE, limit=2000000001)), "rate_limit.limit"),
    (dict(rate_limit=dict(RATE, evaluation_window_seconds=30)), "rate_limit.evaluation_window_seconds"),
    (dict(rate_limit=dict(RATE, aggregate_key_type="FORWARDED_IP", forwarded_ip_header="X Forwarded")),
     "rate_limit.forwarded_ip_header"),
    (dict(logging={"enabled": True, "destination_arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:waf"}),
     "logging.destination_arn"),
    (dict(logging={"enabled": True, "destination_arn": LOG_GROUP + ":*"}), "logging.destination_arn"),
    (dict(logging={"enabled": True, "destination_arn": None}), "logging.destination_arn"),
    (dict(associations=[HTTP_STAGE]), "associations[0]"),
    (dict(associations=[ALB, f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:loadbalancer/net/n/0123abcd"]),
     "associations[1]"),
    (dict(associations=["arn:aws:s3:::bucket"]), "associations[0]"),
    (dict(associations=[ALB.replace("us-east-1", "eu-west-1")]), "associations[0]"),
    (dict(scope="CLOUDFRONT", associations=[ALB]), "associations"),
    (dict(managed_rule_groups=[dict(GROUPS[0], priority=0)]), "rate_limit.priority"),
    (dict(managed_rule_groups=[GROUPS[0], dict(GROUPS[1], priority=10)]), "managed_rule_groups[1].priority"),
    (dict(managed_rule_groups=[GROUPS[0], dict(GROUPS[1], rule_name="AWSManagedRulesCommonRuleSet")]),
     "managed_rule_groups[1].rule_name"),
    (dict(managed_rule_groups=[dict(GROUPS[0], excluded_rules=["SizeRestrictions_BODY"],
                                    rule_action_overrides=[{"name": "SizeRestrictions_BODY", "action": "block"}])]),
     "managed_rule_groups[0].rule_action_overrides[0].name"),
    (dict(description=" leading space"), "description"),
    (dict(visibility={"cloudwatch_metrics": True, "sampled_requests": True, "metric_name": "has space"}),
     "visibility.metric_name"),
])
def test_bad_options_name_the_field(overrides, field):
    with pytest.raises(ValidationError) as e:
        wafv2.build_spec(params(**overrides), "us-east-1")
    assert e.value.field == field and str(e.value).startswith(f"{field}: ")


def test_http_api_stages_are_refused_with_the_reason():
    with pytest.raises(ValidationError) as e:
        wafv2.build_spec(params(associations=[REST_STAGE, HTTP_STAGE]), "us-east-1")
    assert str(e.value).startswith("associations[1]: ") and "HTTP API" in str(e.value)
    assert "only with REST API stages" in str(e.value)


def test_cloudfront_only_in_us_east_1():
    with pytest.raises(ValidationError) as e:
        wafv2.build_spec(params(scope="CLOUDFRONT"), "eu-west-1")
    assert e.value.field == "scope"
    assert wafv2.build_spec(params(scope="CLOUDFRONT"), "us-east-1").scope == "CLOUDFRONT"


def test_rate_limit_bounds_are_the_current_aws_ones():
    assert wafv2.build_spec(params(rate_limit=dict(RATE, limit=10)), "us-east-1").rules[0]["Statement"][
        "RateBasedStatement"]["Limit"] == 10
    wafv2.build_spec(params(rate_limit=dict(RATE, limit=2000000000)), "us-east-1")


def test_absent_needs_only_the_name():
    spec = wafv2.build_spec(params(state="absent", rate_limit=dict(RATE, limit=1), associations=[HTTP_STAGE]),
                            "us-east-1")
    assert spec.state == "absent"


def test_default_rules_and_metric_names():
    spec = wafv2.build_spec(params(), "us-east-1")
    assert [(r["Name"], r["Priority"]) for r in spec.rules] == [
        ("RateLimitPerIP", 0), ("AWSManagedRulesCommonRuleSet", 10), ("AWSManagedRulesKnownBadInputsRuleSet", 20)]
    assert spec.visibility == visibility(NAME)
    assert spec.rules[1]["VisibilityConfig"] == visibility(f"{NAME}-AWSManagedRulesCommonRuleSet")
    assert spec.rules[1]["OverrideAction"] == {"None": {}} and "Action" not in spec.rules[1]
    assert spec.rules[0]["Action"] == {"Block": {}}


def test_forwarded_ip_and_count_override():
    spec = wafv2.build_spec(params(
        rate_limit=dict(RATE, aggregate_key_type="FORWARDED_IP", action="count", forwarded_ip_fallback="NO_MATCH"),
        managed_rule_groups=[dict(GROUPS[0], override_action="count", excluded_rules=["NoUserAgent_HEADER"],
                                  rule_action_overrides=[{"name": "SizeRestrictions_BODY", "action": "captcha"}])]),
        "us-east-1")
    rate, group = spec.rules
    assert rate["Statement"]["RateBasedStatement"]["ForwardedIPConfig"] == {"HeaderName": "X-Forwarded-For",
                                                                            "FallbackBehavior": "NO_MATCH"}
    assert rate["Action"] == {"Count": {}} and group["OverrideAction"] == {"Count": {}}
    assert group["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"] == [
        {"Name": "NoUserAgent_HEADER", "ActionToUse": {"Count": {}}},
        {"Name": "SizeRestrictions_BODY", "ActionToUse": {"Captcha": {}}}]


# --- canonical form ------------------------------------------------------------------------------
def test_aws_filled_defaults_are_no_change():
    """What AWS returns (other order, defaults filled in, read-only fields) equals what the options describe."""
    spec = wafv2.build_spec(params(), "us-east-1")
    assert wafv2.canonical_acl(AWS_ACL) == wafv2.desired_acl(spec, AWS_ACL)


def test_defaults_aws_fills_in_or_omits_compare_equal():
    desired = wafv2.build_spec(params(managed_rule_groups=[dict(
        GROUPS[0], rule_action_overrides=[{"name": "SizeRestrictions_BODY", "action": "count"},
                                          {"name": "CrossSiteScripting_BODY", "action": "count"}])]),
        "us-east-1").rules
    returned = [
        {"Name": "AWSManagedRulesCommonRuleSet", "Priority": 10,
         "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
                                                     "ExcludedRules": [{"Name": "SizeRestrictions_BODY"}],
                                                     "RuleActionOverrides": [{"Name": "CrossSiteScripting_BODY",
                                                                              "ActionToUse": {"Count": {}}}],
                                                     "ManagedRuleGroupConfigs": []}},
         "VisibilityConfig": visibility(f"{NAME}-AWSManagedRulesCommonRuleSet"), "RuleLabels": []},
        {"Name": "RateLimitPerIP", "Priority": 0, "Action": {"Block": {}},
         "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP",
                                              "ForwardedIPConfig": None}},
         "VisibilityConfig": visibility(f"{NAME}-RateLimitPerIP"), "CaptchaConfig": None},
    ]
    assert wafv2.canonical_rules(returned) == wafv2.canonical_rules(desired) == desired


def test_real_differences_are_seen():
    spec = wafv2.build_spec(params(rate_limit=dict(RATE, limit=5000)), "us-east-1")
    assert wafv2.canonical_acl(AWS_ACL) != wafv2.desired_acl(spec, AWS_ACL)
    before = wafv2.acl_view(wafv2.canonical_acl(AWS_ACL), "REGIONAL")
    after = wafv2.acl_view(wafv2.desired_acl(spec, AWS_ACL), "REGIONAL")
    assert changed_paths(before, after) == ["rules.RateLimitPerIP.limit"]


def test_description_not_given_is_kept_and_empty_removes():
    acl = dict(AWS_ACL, Description="Public entry point")
    assert wafv2.desired_acl(wafv2.build_spec(params(), "us-east-1"), acl)["Description"] == "Public entry point"
    assert wafv2.desired_acl(wafv2.build_spec(params(description=""), "us-east-1"), acl)["Description"] is None
    assert wafv2.canonical_acl(dict(AWS_ACL, Description=""))["Description"] is None  # moto's "" is AWS's none


def test_a_foreign_rule_shows_in_the_view_and_is_removed():
    foreign = {"Name": "BlockCountry", "Priority": 5, "Action": {"Block": {}},
               "Statement": {"GeoMatchStatement": {"CountryCodes": ["XX"]}},
               "VisibilityConfig": visibility("geo")}
    acl = dict(AWS_ACL, Rules=AWS_ACL["Rules"] + [foreign])
    spec = wafv2.build_spec(params(), "us-east-1")
    before = wafv2.acl_view(wafv2.canonical_acl(acl), "REGIONAL")
    after = wafv2.acl_view(wafv2.desired_acl(spec, acl), "REGIONAL")
    assert before["rules"]["BlockCountry"]["type"] == "other"
    assert changed_paths(before, after) == ["rules.BlockCountry"]


# --- main() against recorded responses ---------------------------------------------------------------
@pytest.fixture
def stub(monkeypatch):
    client = botocore.session.get_session().create_client(
        "wafv2", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(client)
    monkeypatch.setattr(web_acl.SeedAWSModule, "seed_client", lambda self, service: client)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def expect_read(stub, acl=None, lock=LOCK, tags=None, resources=None, types=wafv2.MANAGED_RESOURCE_TYPES,
                scope="REGIONAL"):
    acl = acl or AWS_ACL
    stub.add_response("list_web_acls", {"WebACLs": [  # RECORDED
        {"Name": "other", "Id": "b1b2c3d4-5678-90ab-cdef-222222222222",
         "LockToken": LOCK_2, "ARN": ACL_ARN.replace(NAME, "other")},
        {"Name": NAME, "Id": ACL_ID, "LockToken": lock, "ARN": ACL_ARN}]},
        {"Scope": scope, "Limit": 100})
    stub.add_response("get_web_acl", {"WebACL": acl, "LockToken": lock},  # RECORDED
                      {"Name": NAME, "Scope": scope, "Id": ACL_ID})
    stub.add_response("list_tags_for_resource", {"TagInfoForResource": {  # RECORDED
        "ResourceARN": ACL_ARN, "TagList": [{"Key": k, "Value": v} for k, v in (tags or MANAGED_TAGS).items()]}},
        {"ResourceARN": ACL_ARN})
    for kind in types or []:
        stub.add_response("list_resources_for_web_acl",  # RECORDED (moto has no ListResourcesForWebACL)
                          {"ResourceArns": (resources or {}).get(kind, [])},
                          {"WebACLArn": ACL_ARN, "ResourceType": kind})


def run(monkeypatch, args, check_mode=False):
    return run_module(monkeypatch, web_acl, args, check_mode)


def test_recorded_converged_web_acl_is_a_no_op(monkeypatch, stub):
    expect_read(stub, resources={"APPLICATION_LOAD_BALANCER": [ALB], "API_GATEWAY": [REST_STAGE]})
    result = run(monkeypatch, dict(name=NAME, associations=[REST_STAGE, ALB]))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and result["actions"] == []
    assert result["web_acl"]["capacity"] == 1425 and result["web_acl"]["associations"] == sorted([ALB, REST_STAGE])
    assert result["diff"]["before"] == result["diff"]["after"]


def test_recorded_lock_conflict_rereads_and_retries_keeping_unmanaged_fields(monkeypatch, stub):
    expect_read(stub, types=None)
    spec = wafv2.build_spec(params(rate_limit=dict(RATE, limit=5000)), "us-east-1")
    update = {"Name": NAME, "Scope": "REGIONAL", "Id": ACL_ID, "DefaultAction": {"Allow": {}},
              "VisibilityConfig": visibility(NAME), "Rules": spec.rules,
              "TokenDomains": ["example.com"], "CustomResponseBodies": AWS_ACL["CustomResponseBodies"]}
    stub.add_client_error("update_web_acl", "WAFOptimisticLockException",  # RECORDED
                          "AWS WAF couldn't save your changes because someone changed the resource after you "
                          "started to edit it. Reapply your changes.", 400, expected_params=dict(update, LockToken=LOCK))
    stub.add_response("get_web_acl", {"WebACL": AWS_ACL, "LockToken": LOCK_2},
                      {"Name": NAME, "Scope": "REGIONAL", "Id": ACL_ID})
    stub.add_response("update_web_acl", {"NextLockToken": "0a1b2c3d-0000-4000-8000-000000000003"},
                      dict(update, LockToken=LOCK_2))
    result = run(monkeypatch, dict(name=NAME, rate_limit={"limit": 5000}))
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == [f"update web ACL {NAME}: change rule RateLimitPerIP (limit)"]
    assert changed_paths(result["diff"]["before"], result["diff"]["after"]) == ["rules.RateLimitPerIP.limit"]


def test_recorded_check_mode_plans_the_same_without_writing(monkeypatch, stub):
    expect_read(stub, resources={"APPLICATION_LOAD_BALANCER": [ALB_2]})
    result = run(monkeypatch, dict(name=NAME, associations=[ALB], tags={"team": "platform"}), check_mode=True)
    assert result["actions"] == [f"associate web ACL {NAME} with {ALB}", f"disassociate {ALB_2} from web ACL {NAME}",
                                 f"set tags team on web ACL {NAME}"]
    assert result["web_acl"]["associations"] == [ALB_2]  # check mode: the web ACL as it is
    assert result["diff"]["after"]["associations"] == [ALB] and result["diff"]["after"]["tags"]["team"] == "platform"


def test_recorded_absent_lists_every_resource_type_then_deletes(monkeypatch, stub):
    expect_read(stub, types=wafv2.ALL_RESOURCE_TYPES,
                resources={"APPLICATION_LOAD_BALANCER": [ALB], "APPSYNC": [
                    f"arn:aws:appsync:us-east-1:{ACCOUNT}:apis/abcdefghijklmnopqrstuvwxyz"]})
    stub.add_response("get_logging_configuration", {"LoggingConfiguration": {  # RECORDED
        "ResourceArn": ACL_ARN, "LogDestinationConfigs": [LOG_GROUP], "ManagedByFirewallManager": False,
        "LogType": "WAF_LOGS", "LogScope": "CUSTOMER"}}, {"ResourceArn": ACL_ARN})
    appsync = f"arn:aws:appsync:us-east-1:{ACCOUNT}:apis/abcdefghijklmnopqrstuvwxyz"
    stub.add_response("disassociate_web_acl", {}, {"ResourceArn": appsync})  # ARNs in sorted order
    stub.add_response("disassociate_web_acl", {}, {"ResourceArn": ALB})
    stub.add_response("delete_logging_configuration", {}, {"ResourceArn": ACL_ARN})
    stub.add_response("delete_web_acl", {}, {"Name": NAME, "Scope": "REGIONAL", "Id": ACL_ID, "LockToken": LOCK})
    result = run(monkeypatch, dict(name=NAME, state="absent"))
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == [f"disassociate {appsync} from web ACL {NAME}",
                                 f"disassociate {ALB} from web ACL {NAME}",
                                 f"delete the logging configuration of web ACL {NAME}", f"delete web ACL {NAME}"]
    assert result["web_acl"] == {} and result["diff"]["after"] == {}
    assert result["diff"]["before"]["logging"] == {"destination_arn": LOG_GROUP}


def test_recorded_absent_of_a_missing_web_acl_reads_one_page(monkeypatch, stub):
    stub.add_response("list_web_acls", {"WebACLs": []}, {"Scope": "REGIONAL", "Limit": 100})
    result = run(monkeypatch, dict(name=NAME, state="absent"))
    assert result["changed"] is False and result["web_acl"] == {}


def test_bad_input_fails_before_any_client(monkeypatch):
    monkeypatch.setattr(web_acl.SeedAWSModule, "seed_client",
                        lambda self, service: pytest.fail("a client was made before validation finished"))
    result = run(monkeypatch, dict(name=NAME, associations=[HTTP_STAGE]))
    assert result["failed"] and result["msg"].startswith("associations[0]: ")


def test_recorded_cloudfront_absent_does_not_list_regional_resources(monkeypatch, stub):
    """ListResourcesForWebACL is for regional resources: AWS says not to call it for CloudFront."""
    expect_read(stub, types=None, scope="CLOUDFRONT")
    stub.add_client_error("get_logging_configuration", "WAFNonexistentItemException",  # RECORDED
                          "AWS WAF couldn't perform the operation because your resource doesn't exist.", 400,
                          expected_params={"ResourceArn": ACL_ARN})
    stub.add_response("delete_web_acl", {}, {"Name": NAME, "Scope": "CLOUDFRONT", "Id": ACL_ID, "LockToken": LOCK})
    result = run(monkeypatch, dict(name=NAME, scope="CLOUDFRONT", state="absent"))
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == [f"delete web ACL {NAME}"]


def test_recorded_new_web_acl_not_yet_available_to_associate_is_retried(monkeypatch, stub):
    """AWS answers WAFUnavailableEntityException while a new web ACL propagates; the association is retried."""
    spec = wafv2.build_spec(params(), "us-east-1")
    stub.add_response("list_web_acls", {"WebACLs": []}, {"Scope": "REGIONAL", "Limit": 100})
    stub.add_response("create_web_acl", {"Summary": {"Name": NAME, "Id": ACL_ID, "LockToken": LOCK, "ARN": ACL_ARN}},
                      {"Name": NAME, "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
                       "VisibilityConfig": visibility(NAME), "Rules": spec.rules,
                       "Tags": [{"Key": k, "Value": v} for k, v in sorted(MANAGED_TAGS.items())]})
    stub.add_client_error("associate_web_acl", "WAFUnavailableEntityException",  # RECORDED
                          "AWS WAF couldn't retrieve the resource that you requested. Retry your request.", 400,
                          expected_params={"WebACLArn": ACL_ARN, "ResourceArn": ALB})
    stub.add_response("associate_web_acl", {}, {"WebACLArn": ACL_ARN, "ResourceArn": ALB})
    result = run(monkeypatch, dict(name=NAME, associations=[ALB]))
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == [f"create web ACL {NAME} (REGIONAL, default action allow, rules: RateLimitPerIP, "
                                 "AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet)",
                                 f"associate web ACL {NAME} with {ALB}"]
    assert result["web_acl"]["arn"] == ACL_ARN and result["web_acl"]["associations"] == [ALB]
