"""web_acl against the local AWS over HTTP, requests counted at the server.

The rhythm of every step: check mode (prediction, zero writes), apply (the same actions, one write
request per action), re-apply (changed=false, zero writes).

What the local AWS (moto 5.2.5) does and does not do, checked in moto/wafv2:
- it keeps CreateWebACL's rules, default action, visibility config, description and tags, GetWebACL with its
  lock token, UpdateWebACL (checking the lock token, WAFOptimisticLockException otherwise), DeleteWebACL,
  Associate/DisassociateWebACL, GetWebACLForResource, Put/Get/Delete/ListLoggingConfiguration(s) and
  Tag/Untag/ListTagsForResource;
- it stores rules verbatim, where AWS fills defaults in (``EvaluationWindowSec``, ``OverrideAction``) and keeps
  legacy ``ExcludedRules``: test_legacy_and_default_forms_are_no_change writes such forms directly and the
  module must see them as converged (the unit tests cover the AWS-filled shapes from recorded responses);
- it has no ListResourcesForWebACL: tools/moto_fidelity_wafv2.py answers it from the associations moto stores;
- it reports a capacity of 3 for every web ACL and does not check that an associated resource exists or that
  a logging destination is named aws-waf-logs-* (the module validates the name itself, before any call).
"""

from __future__ import annotations

import pytest

from support.converge import converge as shared_converge
from support.servers import boto3_client

NAME = "seed-public"
ACCOUNT = "123456789012"
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:aws-waf-logs-seed-public"
MANAGED = {"seed:managed-by": "seed.aws_migration", "seed:component": "web-acl"}


def converge(ansible, aws, args):
    return shared_converge(ansible, aws, args, "web_acl")


def make_albs(endpoint_url, count=1):
    """Application Load Balancers in a VPC of two subnets, made directly (test setup)."""
    ec2, elbv2 = boto3_client("ec2", endpoint_url), boto3_client("elbv2", endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in enumerate("ab")]
    return [elbv2.create_load_balancer(Name=f"seed-public-{i}", Subnets=subnets, Type="application",
                                       Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]
            for i in range(count)]


@pytest.fixture
def albs(clean_aws):
    arns = make_albs(clean_aws.endpoint_url, 2)
    clean_aws.reset_counts()
    return arns


def changed_paths(before, after, prefix=""):
    """Dotted paths whose values differ (as plugins/module_utils/diff.py computes them)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [p for key in sorted(set(before) | set(after))
                for p in changed_paths(before.get(key, KeyError), after.get(key, KeyError),
                                       f"{prefix}.{key}" if prefix else key)]
    return [prefix] if before != after else []


def waf(endpoint_url):
    return boto3_client("wafv2", endpoint_url)


def get_acl(endpoint_url):
    client = waf(endpoint_url)
    summary = [a for a in client.list_web_acls(Scope="REGIONAL")["WebACLs"] if a["Name"] == NAME][0]
    return client.get_web_acl(Name=NAME, Scope="REGIONAL", Id=summary["Id"])["WebACL"]


def test_converge_with_an_alb_association(clean_aws, ansible, albs):
    url = clean_aws.endpoint_url
    args = dict(name=NAME, description="Public entry point", associations=[albs[0]], tags={"team": "platform"})
    created = converge(ansible, clean_aws, args)
    assert created["actions"] == [
        f"create web ACL {NAME} (REGIONAL, default action allow, rules: RateLimitPerIP, "
        "AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet)",
        f"associate web ACL {NAME} with {albs[0]}",
    ]
    assert created["writes_by_action"] == {"wafv2:CreateWebACL": 1, "wafv2:AssociateWebACL": 1}
    facts = created["web_acl"]
    assert facts["arn"].startswith(f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/{NAME}/")
    assert facts["rules"] == [{"name": "RateLimitPerIP", "priority": 0},
                              {"name": "AWSManagedRulesCommonRuleSet", "priority": 10},
                              {"name": "AWSManagedRulesKnownBadInputsRuleSet", "priority": 20}]
    assert facts["associations"] == [albs[0]] and facts["default_action"] == "allow"
    assert facts["tags"] == dict(MANAGED, team="platform") and facts["logging"] is None
    after = created["diff"]["after"]
    assert created["diff"]["before"] == {}
    assert after["rules"]["RateLimitPerIP"] == {
        "priority": 0, "type": "rate_based", "limit": 2000, "evaluation_window_seconds": 300,
        "aggregate_key_type": "IP", "action": "block",
        "visibility": {"cloudwatch_metrics": True, "sampled_requests": True, "metric_name": f"{NAME}-RateLimitPerIP"}}
    assert after["rules"]["AWSManagedRulesCommonRuleSet"]["override_action"] == "none"
    assert after["associations"] == [albs[0]] and after["default_action"] == "allow"

    # What the local AWS really holds.
    acl = get_acl(url)
    assert acl["Description"] == "Public entry point" and acl["DefaultAction"] == {"Allow": {}}
    assert acl["VisibilityConfig"] == {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                       "MetricName": NAME}
    rate = [r for r in acl["Rules"] if r["Name"] == "RateLimitPerIP"][0]
    assert rate["Statement"] == {"RateBasedStatement": {"Limit": 2000, "EvaluationWindowSec": 300,
                                                        "AggregateKeyType": "IP"}}
    assert rate["Action"] == {"Block": {}}
    common = [r for r in acl["Rules"] if r["Name"] == "AWSManagedRulesCommonRuleSet"][0]
    assert common["Statement"] == {"ManagedRuleGroupStatement": {"VendorName": "AWS",
                                                                 "Name": "AWSManagedRulesCommonRuleSet"}}
    assert common["OverrideAction"] == {"None": {}}
    assert waf(url).get_web_acl_for_resource(ResourceArn=albs[0])["WebACL"]["Name"] == NAME

    # A no-op run is reads only, and few: ListWebACLs, GetWebACL, ListTagsForResource and
    # ListResourcesForWebACL for the two resource types associations manage.
    clean_aws.reset_counts()
    again = ansible.module("web_acl", args)
    assert again["changed"] is False
    counts = clean_aws.requests()
    assert counts["writes"] == 0 and counts["reads"] == 5, counts["by_action"]


def test_update_rate_limit_and_a_count_override_shows_exactly_that(clean_aws, ansible, albs):
    base = dict(name=NAME, associations=[albs[0]])
    converge(ansible, clean_aws, base)
    updated = converge(ansible, clean_aws, dict(
        base, rate_limit={"limit": 5000},
        managed_rule_groups=[
            {"name": "AWSManagedRulesCommonRuleSet", "priority": 10,
             "rule_action_overrides": [{"name": "SizeRestrictions_BODY", "action": "count"}]},
            {"name": "AWSManagedRulesKnownBadInputsRuleSet", "priority": 20}]))
    assert updated["actions"] == [
        f"update web ACL {NAME}: change rule RateLimitPerIP (limit); change rule AWSManagedRulesCommonRuleSet "
        "(rule_action_overrides.SizeRestrictions_BODY)"]
    assert updated["writes_by_action"] == {"wafv2:UpdateWebACL": 1}
    diff = updated["diff"]
    assert changed_paths(diff["before"], diff["after"]) == [
        "rules.AWSManagedRulesCommonRuleSet.rule_action_overrides.SizeRestrictions_BODY",
        "rules.RateLimitPerIP.limit"]
    assert (diff["before"]["rules"]["RateLimitPerIP"]["limit"], diff["after"]["rules"]["RateLimitPerIP"]["limit"]) \
        == (2000, 5000)
    assert updated["web_acl"]["capacity"] is None  # the rules changed: the capacity read before is stale
    rules = {r["Name"]: r for r in get_acl(clean_aws.endpoint_url)["Rules"]}
    assert rules["RateLimitPerIP"]["Statement"]["RateBasedStatement"]["Limit"] == 5000
    assert rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"] \
        == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]

    # Move the protection to the other load balancer: associate first, then purge the old one.
    moved = converge(ansible, clean_aws, dict(base, associations=[albs[1]], rate_limit={"limit": 5000},
                                              managed_rule_groups=[
                                                  {"name": "AWSManagedRulesCommonRuleSet", "priority": 10,
                                                   "excluded_rules": ["SizeRestrictions_BODY"]},
                                                  {"name": "AWSManagedRulesKnownBadInputsRuleSet",
                                                   "priority": 20}]))
    assert moved["actions"] == [f"associate web ACL {NAME} with {albs[1]}",
                                f"disassociate {albs[0]} from web ACL {NAME}"]
    assert changed_paths(moved["diff"]["before"], moved["diff"]["after"]) == ["associations"]
    client = waf(clean_aws.endpoint_url)
    assert client.get_web_acl_for_resource(ResourceArn=albs[0]).get("WebACL") is None
    assert client.get_web_acl_for_resource(ResourceArn=albs[1])["WebACL"]["Name"] == NAME


def test_legacy_and_default_forms_are_no_change(clean_aws, ansible):
    """A web ACL written outside the module in other but equivalent forms - rules out of order, a legacy
    ExcludedRules instead of a Count override, no EvaluationWindowSec, no OverrideAction - is converged."""
    visibility = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True}
    waf(clean_aws.endpoint_url).create_web_acl(
        Name=NAME, Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=dict(visibility, MetricName=NAME),
        Tags=[{"Key": k, "Value": v} for k, v in MANAGED.items()],
        Rules=[
            {"Name": "AWSManagedRulesKnownBadInputsRuleSet", "Priority": 20,
             "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS",
                                                         "Name": "AWSManagedRulesKnownBadInputsRuleSet"}},
             "VisibilityConfig": dict(visibility, MetricName=f"{NAME}-AWSManagedRulesKnownBadInputsRuleSet")},
            {"Name": "AWSManagedRulesCommonRuleSet", "Priority": 10, "OverrideAction": {"None": {}},
             "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet",
                                                         "ExcludedRules": [{"Name": "SizeRestrictions_BODY"}]}},
             "VisibilityConfig": dict(visibility, MetricName=f"{NAME}-AWSManagedRulesCommonRuleSet")},
            {"Name": "RateLimitPerIP", "Priority": 0, "Action": {"Block": {}},
             "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}},
             "VisibilityConfig": dict(visibility, MetricName=f"{NAME}-RateLimitPerIP")},
        ])
    clean_aws.reset_counts()
    result = ansible.module("web_acl", dict(name=NAME, managed_rule_groups=[
        {"name": "AWSManagedRulesCommonRuleSet", "priority": 10,
         "rule_action_overrides": [{"name": "SizeRestrictions_BODY", "action": "count"}]},
        {"name": "AWSManagedRulesKnownBadInputsRuleSet", "priority": 20}]), diff=True)
    assert result["changed"] is False and result["actions"] == [], result.get("msg")
    assert clean_aws.requests()["writes"] == 0
    assert result["diff"]["before"] == result["diff"]["after"]


def test_description_and_every_rule_removed(clean_aws, ansible):
    """UpdateWebACL replaces everything: no Description and no Rules remove them (tools/moto_fidelity_wafv2.py
    makes the local AWS do what AWS does)."""
    converge(ansible, clean_aws, dict(name=NAME, description="Public entry point"))
    kept = ansible.module("web_acl", dict(name=NAME))  # description not given: kept as it is
    assert kept["changed"] is False, kept.get("actions")
    emptied = converge(ansible, clean_aws, dict(name=NAME, description="", managed_rule_groups=[],
                                                rate_limit={"enabled": False}))
    assert emptied["actions"] == [
        f"update web ACL {NAME}: description; remove rule RateLimitPerIP; remove rule AWSManagedRulesCommonRuleSet; "
        "remove rule AWSManagedRulesKnownBadInputsRuleSet"]
    acl = get_acl(clean_aws.endpoint_url)
    assert not acl.get("Description") and acl["Rules"] == []
    assert emptied["web_acl"]["rules"] == [] and emptied["diff"]["after"]["rules"] == {}


def test_cloudfront_scope(clean_aws, ansible):
    created = converge(ansible, clean_aws, dict(name=NAME, scope="CLOUDFRONT", rate_limit={"limit": 10}))
    assert created["web_acl"]["arn"].startswith(f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/{NAME}/")
    assert created["diff"]["after"]["rules"]["RateLimitPerIP"]["limit"] == 10
    removed = converge(ansible, clean_aws, dict(name=NAME, scope="CLOUDFRONT", state="absent"))
    assert removed["actions"] == [f"delete web ACL {NAME}"]
    assert waf(clean_aws.endpoint_url).list_web_acls(Scope="CLOUDFRONT")["WebACLs"] == []


def test_logging_on_and_off(clean_aws, ansible):
    base = dict(name=NAME, default_action="block", rate_limit={"enabled": False})
    created = converge(ansible, clean_aws, dict(base, logging={"destination_arn": LOG_GROUP}))
    assert created["actions"][1:] == [f"send the logs of web ACL {NAME} to {LOG_GROUP}"]
    assert created["writes_by_action"] == {"wafv2:CreateWebACL": 1, "wafv2:PutLoggingConfiguration": 1}
    assert created["web_acl"]["logging"] == {"destination_arn": LOG_GROUP}
    client = waf(clean_aws.endpoint_url)
    arn = created["web_acl"]["arn"]
    assert client.get_logging_configuration(ResourceArn=arn)["LoggingConfiguration"]["LogDestinationConfigs"] == \
        [LOG_GROUP]
    off = converge(ansible, clean_aws, dict(base, logging={"enabled": False}))
    assert off["actions"] == [f"delete the logging configuration of web ACL {NAME}"]
    assert off["diff"]["before"]["logging"] == {"destination_arn": LOG_GROUP}
    assert off["diff"]["after"]["logging"] == {"destination_arn": None}
    assert client.list_logging_configurations(Scope="REGIONAL")["LoggingConfigurations"] == []


def test_absent_disassociates_then_deletes_and_leaves_nothing(clean_aws, ansible, albs):
    url = clean_aws.endpoint_url
    converge(ansible, clean_aws, dict(name=NAME, associations=albs, logging={"destination_arn": LOG_GROUP}))
    removed = converge(ansible, clean_aws, dict(name=NAME, state="absent"))
    assert removed["actions"] == [f"disassociate {albs[0]} from web ACL {NAME}",
                                  f"disassociate {albs[1]} from web ACL {NAME}",
                                  f"delete the logging configuration of web ACL {NAME}",
                                  f"delete web ACL {NAME}"]
    assert removed["writes_by_action"] == {"wafv2:DisassociateWebACL": 2, "wafv2:DeleteLoggingConfiguration": 1,
                                           "wafv2:DeleteWebACL": 1}
    assert removed["diff"]["after"] == {} and removed["web_acl"] == {}
    assert removed["diff"]["before"]["associations"] == sorted(albs)
    client = waf(url)
    assert client.list_web_acls(Scope="REGIONAL")["WebACLs"] == []
    assert client.list_logging_configurations(Scope="REGIONAL")["LoggingConfigurations"] == []
    for alb in albs:
        assert client.get_web_acl_for_resource(ResourceArn=alb).get("WebACL") is None


HTTP_STAGE = "arn:aws:apigateway:us-east-1::/apis/a1b2c3d4e5/stages/prod"


@pytest.mark.parametrize("overrides, field, words", [
    (dict(rate_limit={"limit": 5}), "rate_limit.limit", "from 10 to 2000000000"),
    (dict(rate_limit={"limit": 2000000001}), "rate_limit.limit", "from 10"),
    (dict(logging={"destination_arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:waf-logs"}),
     "logging.destination_arn", "must start with aws-waf-logs-"),
    (dict(associations=[HTTP_STAGE]), "associations[0]", "HTTP API"),
    (dict(managed_rule_groups=[{"name": "AWSManagedRulesCommonRuleSet", "priority": 0}]),
     "rate_limit.priority", "also the priority of managed_rule_groups[0]"),
    (dict(associations=["arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x/0123abcd"]),
     "associations[0]", "own region (us-east-1)"),
])
def test_bad_input_fails_naming_the_field_without_any_request(clean_aws, ansible, overrides, field, words):
    result = ansible.module("web_acl", dict(name=NAME, **overrides))
    assert result.get("failed") and result["msg"].startswith(f"{field}: "), result.get("msg")
    assert words in result["msg"]
    assert clean_aws.requests()["total"] == 0
