"""policy_validation_info and playbooks/policy_check.yml against the local AWS over HTTP, requests counted.

The local AWS (moto 5.2.5) has no IAM Access Analyzer: there is no ``moto.accessanalyzer``, and its server
answers ValidatePolicy (``POST /policy/validation``) with an HTML 500. So:
- the IAM reads of ``role_path`` run against the local AWS for real (roles, inline, attached and boundary
  policies created with boto3), while the Access Analyzer client alone is a botocore Stubber whose answers are
  HAND-WRITTEN from the Access Analyzer API reference (not recordings); the module runs in-process;
- the playbook runs for real and shows what a user of the local inventory gets: a clear failure by default,
  ``skipped`` with the reason and a warning with ``security_validate_unavailable=skip``, and one ValidatePolicy
  request at most (no retry of that 500, no IAM read after it).
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber
from support.servers import REPO_ROOT, boto3_client

from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.modules import policy_validation_info
from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
LOGS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                                "Resource": "arn:aws:logs:us-east-1:123456789012:log-group:/seed/*"}]}
PASS_ROLE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}
BOUNDARY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:*", "s3:GetObject"],
                                                    "Resource": "*"}]}
PASS_ROLE_FINDING = {
    "findingType": "SECURITY_WARNING", "issueCode": "PASS_ROLE_WITH_STAR_IN_RESOURCE",
    "findingDetails": "Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive.",
    "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
    "locations": [{"path": [{"value": "Statement"}, {"index": 0}, {"value": "Resource"}],
                   "span": {"start": {"line": 8, "column": 18, "offset": 130},
                            "end": {"line": 8, "column": 21, "offset": 133}}}],
}


# The connection options through the inventory's seed_aws: the module is given them directly, so the test does not
# depend on it being listed in the group/seed.aws_migration.aws action group (meta/runtime.yml).
CONNECTION = {key: "{{ seed_aws.%s }}" % key for key in ("region", "endpoint_url", "access_key", "secret_key")}


def rendered(document):
    return json.dumps(document, indent=2)


def make_roles(aws) -> dict:
    iam = boto3_client("iam", aws.endpoint_url)
    boundary = iam.create_policy(PolicyName="seed-boundary", Path="/seed/",
                                 PolicyDocument=json.dumps(BOUNDARY))["Policy"]["Arn"]
    logs = iam.create_policy(PolicyName="seed-logs", Path="/", PolicyDocument=json.dumps(LOGS))["Policy"]["Arn"]
    iam.create_role(RoleName="it-api-task", Path="/seed/", AssumeRolePolicyDocument=json.dumps(TRUST),
                    PermissionsBoundary=boundary)
    iam.put_role_policy(RoleName="it-api-task", PolicyName="seed-policy", PolicyDocument=json.dumps(PASS_ROLE))
    iam.attach_role_policy(RoleName="it-api-task", PolicyArn=logs)
    iam.create_role(RoleName="it-web-task", Path="/seed/", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="it-web-task", PolicyArn=logs)
    # Not under /seed/: never read.
    iam.create_role(RoleName="seed-deployer", Path="/seed-deployer/", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="seed-deployer", PolicyName="deployer", PolicyDocument=json.dumps(PASS_ROLE))
    return {"boundary": boundary, "logs": logs}


def test_role_path_reads_the_local_iam_and_validates_each_policy_once(clean_aws, monkeypatch):
    arns = make_roles(clean_aws)
    clean_aws.reset_counts()
    analyzer = boto3_client("accessanalyzer", clean_aws.endpoint_url)
    stub = Stubber(analyzer)
    trust = {"policyType": "RESOURCE_POLICY", "validatePolicyResourceType": "AWS::IAM::AssumeRolePolicyDocument"}
    expected = [  # in the module's order: roles by name (trust, inline), then each managed policy once by ARN
        (dict(trust, policyDocument=rendered(TRUST)), []),
        ({"policyType": "IDENTITY_POLICY", "policyDocument": rendered(PASS_ROLE)}, [PASS_ROLE_FINDING]),
        (dict(trust, policyDocument=rendered(TRUST)), []),
        ({"policyType": "IDENTITY_POLICY", "policyDocument": rendered(LOGS)}, []),
        ({"policyType": "IDENTITY_POLICY", "policyDocument": rendered(BOUNDARY)}, []),
    ]
    for params, findings in expected:
        stub.add_response("validate_policy", {"findings": findings}, params)
    iam = boto3_client("iam", clean_aws.endpoint_url)
    monkeypatch.setattr(SeedAWSModule, "seed_client",
                        lambda self, service: {"accessanalyzer": analyzer, "iam": iam}[service])
    with stub:
        result = run_module(monkeypatch, policy_validation_info, {
            "role_path": "/seed/",
            "ignore": [{"issue_code": "PASS_ROLE_WITH_STAR_IN_RESOURCE", "policy": "role/it-api-task/*",
                        "reason": "test: accepted for it-api-task"}]})
    stub.assert_no_pending_responses()
    assert not result.get("failed"), result.get("msg")
    assert [r["name"] for r in result["findings"]] == [
        "role/it-api-task/trust", "role/it-api-task/inline/seed-policy", "role/it-web-task/trust",
        "policy/seed-logs", "policy/seed/seed-boundary"]
    sources = {r["name"]: r["source"] for r in result["findings"]}
    assert sources["policy/seed-logs"] == f"customer managed policy {arns['logs']} (v1), " \
                                          "attached to role it-api-task, it-web-task"
    assert sources["policy/seed/seed-boundary"] == f"customer managed policy {arns['boundary']} (v1), " \
                                                   "permissions boundary of role it-api-task"
    assert result["findings"][1]["ignored"][0]["reason"] == "test: accepted for it-api-task"
    counted = clean_aws.requests()
    assert counted["writes"] == 0
    # ListRoles 1, then per role GetRole + ListRolePolicies + ListAttachedRolePolicies, one GetRolePolicy,
    # GetPolicy + GetPolicyVersion per managed policy.
    assert counted["by_action"] == {"iam:ListRoles": 1, "iam:ListRolePolicies": 2, "iam:GetRolePolicy": 1,
                                    "iam:ListAttachedRolePolicies": 2, "iam:GetRole": 2, "iam:GetPolicy": 2,
                                    "iam:GetPolicyVersion": 2}


def test_with_the_local_aws_the_module_says_access_analyzer_is_not_available(clean_aws, ansible):
    result = ansible.module("policy_validation_info", dict(CONNECTION, policies=[{"name": "p", "document": LOGS}]))
    assert result["failed"]
    assert result["msg"].startswith("IAM Access Analyzer is not available: the endpoint answered ValidatePolicy with "
                                    "HTTP 500 and no AWS error")
    assert clean_aws.requests()["by_action"] == {"access-analyzer:POST /policy/validation": 1}  # not retried


def test_bad_input_makes_no_request(clean_aws, ansible):
    result = ansible.module("policy_validation_info", dict(CONNECTION, role_path="/seed/",
                                                           policies=[{"name": "p", "document": "{not json"}]))
    assert result["failed"] and result["msg"].startswith("policies[0].document: not valid JSON")
    assert clean_aws.requests()["total"] == 0


def test_policy_check_playbook_fails_by_default_where_access_analyzer_is_missing(clean_aws, ansible):
    run = ansible.playbook("playbooks/policy_check.yml")
    assert run.failed
    failed = [t for t in run.task_results() if t.get("failed")]
    assert failed and failed[0]["msg"].startswith("IAM Access Analyzer is not available")
    assert "unavailable=skip" in failed[0]["msg"]


@pytest.mark.parametrize("ignore", [[], [{"issue_code": "MISSING_VERSION", "reason": "example"}]])
def test_policy_check_playbook_skips_on_request(clean_aws, ansible, ignore):
    make_roles(clean_aws)
    clean_aws.reset_counts()
    run = ansible.playbook("playbooks/policy_check.yml",
                           extra_vars={"security_validate_unavailable": "skip", "security_validate_ignore": ignore})
    assert not run.failed, run.stderr[-3000:]
    check = next(t for t in run.task_results() if "Validate the shipped policies" in t["_task"])
    assert check["skipped"] is True and check["findings"] == []
    # what the role asks for: every shipped policy file, then the audit-trail bucket; the roles under /seed/
    sent = check["invocation"]["module_args"]
    shipped = sorted(p.name for p in (REPO_ROOT / "policies").glob("*.json"))
    assert [p["name"] for p in sent["policies"]] == [f"policies/{n}" for n in shipped] + ["audit-trail-bucket"]
    assert all(p["path"].endswith(p["name"]) for p in sent["policies"][:-1])
    assert sent["policies"][-1]["bucket"] == "local-seed-audit-trail" and sent["role_path"] == "/seed/"
    assert [r["issue_code"] for r in sent["ignore"]] == [r["issue_code"] for r in ignore] and sent["fail_on"] == ["ERROR", "SECURITY_WARNING"]
    assert "HTTP 500 and no AWS error" in check["skip_reason"]
    assert any("IAM Access Analyzer is not available" in w for w in check.get("warnings", []))
    report = next(t for t in run.task_results() if t["_task"].endswith("Report the validation"))
    assert "nothing was validated" in report["msg"]
    # The shipped policies come first: the first ValidatePolicy answer stops the run - no IAM or S3 read.
    assert clean_aws.requests()["by_action"] == {"access-analyzer:POST /policy/validation": 1}
