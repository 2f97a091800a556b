# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""policy_validation_info: option checks, findings, ignore, pagination, role reading, unavailability.

moto (5.2.5) has no IAM Access Analyzer at all (no ``moto.accessanalyzer``; its server answers ValidatePolicy
with an HTML 500). The ValidatePolicy answers below are therefore HAND-WRITTEN from the Access Analyzer API
reference (ValidatePolicy: request policyDocument/policyType/validatePolicyResourceType/nextToken; response
``findings[]`` with findingType, issueCode, findingDetails, learnMoreLink and ``locations[]`` of ``path``
elements and a ``span`` of start/end line/column/offset, plus ``nextToken``); they are not recordings of a real
account. botocore's Stubber checks each request and response against the service model. The IAM and S3
answers are written in the documented shapes too (ListRoles returns no PermissionsBoundary: GetRole is read
for it). The IAM reads against the local AWS are in tests/integration/test_policy_validation_info.py.
"""

import json
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from ansible_collections.seed.aws_migration.plugins.modules import policy_validation_info
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module

ACCOUNT = "123456789012"
CLEAN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents",
                                                 "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/seed/*"}]}
PASS_ROLE_STAR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}

# A SECURITY_WARNING as the API reference documents findings (this issue code is one of Access Analyzer's
# policy check references: iam:PassRole with a wildcard resource).
PASS_ROLE_FINDING = {
    "findingType": "SECURITY_WARNING",
    "issueCode": "PASS_ROLE_WITH_STAR_IN_RESOURCE",
    "findingDetails": "Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive "
                      "because it allows iam:PassRole permissions on multiple resources.",
    "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"
                     "#access-analyzer-reference-policy-checks-security-warning-pass-role-with-star-in-resource",
    "locations": [{"path": [{"value": "Statement"}, {"index": 0}, {"value": "Resource"}],
                   "span": {"start": {"line": 1, "column": 81, "offset": 81},
                            "end": {"line": 1, "column": 84, "offset": 84}}}],
}
SUGGESTION = {
    "findingType": "SUGGESTION",
    "issueCode": "EMPTY_ARRAY_ACTION",
    "findingDetails": "This statement includes no actions and does not affect the policy.",
    "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
    "locations": [{"path": [{"value": "Statement"}, {"index": 1}, {"value": "Action"}],
                   "span": {"start": {"line": 9, "column": 17, "offset": 200},
                            "end": {"line": 9, "column": 19, "offset": 202}}}],
}


def client(service):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"total_max_attempts": 1}, proxies={}))


@pytest.fixture
def aws(monkeypatch):
    """Stubbed accessanalyzer, iam and s3 clients; ``aws["calls"]`` counts the clients asked for."""
    clients = {name: client(name) for name in ("accessanalyzer", "iam", "s3")}
    stubs = {name: Stubber(c) for name, c in clients.items()}
    state = {"stubs": stubs, "clients": clients, "asked": [], "warnings": []}

    def seed_client(self, service):
        state["asked"].append(service)
        return clients[service]

    monkeypatch.setattr(SeedAWSModule, "seed_client", seed_client)
    monkeypatch.setattr(SeedAWSModule, "warn", lambda self, msg: state["warnings"].append(msg))
    for stub in stubs.values():
        stub.activate()
    yield state
    for stub in stubs.values():
        stub.deactivate()


def expect_validate(aws, text, findings, policy_type="IDENTITY_POLICY", resource_type=None, next_token=None,
                    token=None):
    params = {"policyDocument": text, "policyType": policy_type}
    if resource_type:
        params["validatePolicyResourceType"] = resource_type
    if token:
        params["nextToken"] = token
    response = {"findings": findings}
    if next_token:
        response["nextToken"] = next_token
    aws["stubs"]["accessanalyzer"].add_response("validate_policy", response, params)


def rendered(document):
    return json.dumps(document, indent=2)


def run(monkeypatch, args, check_mode=True):
    return run_module(monkeypatch, policy_validation_info, args, check_mode=check_mode)


def assert_all_consumed(aws):
    for stub in aws["stubs"].values():
        stub.assert_no_pending_responses()


# -- clean policies ------------------------------------------------------------------------------------
def test_clean_policies_pass(monkeypatch, aws):
    text = json.dumps(CLEAN)  # JSON text is sent exactly as given (spans point into it)
    expect_validate(aws, rendered(CLEAN), [])
    expect_validate(aws, text, [])
    result = run(monkeypatch, {"policies": [{"name": "as-dict", "document": CLEAN},
                                            {"name": "as-text", "document": text}]})
    assert_all_consumed(aws)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and result["skipped"] is False
    assert [(r["name"], r["findings"], r["ignored"]) for r in result["findings"]] == [("as-dict", [], []),
                                                                                      ("as-text", [], [])]
    assert result["counts"] == {"ERROR": 0, "SECURITY_WARNING": 0, "WARNING": 0, "SUGGESTION": 0}
    assert result["failed_policies"] == []


def test_policy_file_is_sent_as_written(monkeypatch, aws, tmp_path):
    path = tmp_path / "deployer.json"
    path.write_text(json.dumps(CLEAN, indent=4) + "\n")
    expect_validate(aws, path.read_text(), [])
    result = run(monkeypatch, {"policies": [{"name": "deployer", "path": str(path)}]})
    assert_all_consumed(aws)
    assert result["findings"][0]["source"] == f"file {path}"
    assert not result.get("failed")


def test_same_result_outside_check_mode(monkeypatch, aws):
    expect_validate(aws, rendered(CLEAN), [])
    result = run(monkeypatch, {"policies": [{"name": "p", "document": CLEAN}]}, check_mode=False)
    assert_all_consumed(aws)
    assert not result.get("failed") and result["changed"] is False


# -- findings ------------------------------------------------------------------------------------------
def test_security_warning_fails_naming_policy_and_issue_code(monkeypatch, aws):
    expect_validate(aws, rendered(CLEAN), [])
    expect_validate(aws, rendered(PASS_ROLE_STAR), [PASS_ROLE_FINDING, SUGGESTION])
    result = run(monkeypatch, {"policies": [{"name": "clean", "document": CLEAN},
                                            {"name": "passer", "document": PASS_ROLE_STAR}]})
    assert_all_consumed(aws)
    assert result["failed"]
    assert "passer" in result["msg"] and "SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE" in result["msg"]
    assert "Statement[0].Resource" in result["msg"]
    assert "clean" not in result["msg"].split(":", 1)[1]
    assert "EMPTY_ARRAY_ACTION" not in result["msg"]  # a SUGGESTION is not in the default fail_on
    assert result["failed_policies"] == ["passer"]
    assert result["counts"] == {"ERROR": 0, "SECURITY_WARNING": 1, "WARNING": 0, "SUGGESTION": 1}
    finding = result["findings"][1]["findings"][0]
    assert finding == PASS_ROLE_FINDING  # every documented key, as Access Analyzer returned it


def test_fail_on_suggestion(monkeypatch, aws):
    expect_validate(aws, rendered(CLEAN), [SUGGESTION])
    result = run(monkeypatch, {"policies": [{"name": "p", "document": CLEAN}], "fail_on": ["SUGGESTION"]})
    assert result["failed"] and "p (document): SUGGESTION EMPTY_ARRAY_ACTION at Statement[1].Action" in result["msg"]


def test_empty_fail_on_reports_only(monkeypatch, aws):
    expect_validate(aws, rendered(PASS_ROLE_STAR), [PASS_ROLE_FINDING])
    result = run(monkeypatch, {"policies": [{"name": "p", "document": PASS_ROLE_STAR}], "fail_on": []})
    assert not result.get("failed")
    assert result["counts"]["SECURITY_WARNING"] == 1 and result["failed_policies"] == []


def test_ignore_with_reason(monkeypatch, aws):
    expect_validate(aws, rendered(PASS_ROLE_STAR), [PASS_ROLE_FINDING])
    expect_validate(aws, rendered(PASS_ROLE_STAR), [PASS_ROLE_FINDING])
    ignore = [{"issue_code": "PASS_ROLE_WITH_STAR_IN_RESOURCE", "policy": "bootstrap-*",
               "reason": "The bootstrap role passes roles it creates; scoped by an SCP"},
              {"issue_code": "MISSING_VERSION", "reason": "stale entry"}]
    result = run(monkeypatch, {"policies": [{"name": "bootstrap-ci", "document": PASS_ROLE_STAR},
                                            {"name": "app", "document": PASS_ROLE_STAR}],
                               "ignore": ignore})
    assert_all_consumed(aws)
    # Accepted in bootstrap-ci only: app still fails.
    assert result["failed"] and result["failed_policies"] == ["app"]
    bootstrap, app = result["findings"]
    assert bootstrap["findings"] == [] and bootstrap["ignored"] == [
        dict(PASS_ROLE_FINDING, reason="The bootstrap role passes roles it creates; scoped by an SCP")]
    assert app["ignored"] == [] and app["findings"] == [PASS_ROLE_FINDING]
    assert result["counts"]["SECURITY_WARNING"] == 1  # the ignored one counts nowhere
    assert aws["warnings"] == ["ignore[1] (MISSING_VERSION in *) matched no finding: remove it if the finding is gone"]


def test_ignore_everything_passes(monkeypatch, aws):
    expect_validate(aws, rendered(PASS_ROLE_STAR), [PASS_ROLE_FINDING])
    result = run(monkeypatch, {"policies": [{"name": "p", "document": PASS_ROLE_STAR}],
                               "ignore": [{"issue_code": "PASS_ROLE_WITH_STAR_IN_RESOURCE", "reason": "accepted"}]})
    assert not result.get("failed"), result.get("msg")
    assert result["counts"]["SECURITY_WARNING"] == 0 and aws["warnings"] == []


def test_findings_of_every_page(monkeypatch, aws):
    text = rendered(PASS_ROLE_STAR)
    expect_validate(aws, text, [SUGGESTION], next_token="page-2")
    expect_validate(aws, text, [PASS_ROLE_FINDING], token="page-2")
    result = run(monkeypatch, {"policies": [{"name": "p", "document": PASS_ROLE_STAR}]})
    assert_all_consumed(aws)
    assert [f["issueCode"] for f in result["findings"][0]["findings"]] == ["EMPTY_ARRAY_ACTION",
                                                                           "PASS_ROLE_WITH_STAR_IN_RESOURCE"]
    assert result["failed"] and result["failed_policies"] == ["p"]


def test_resource_policy_type_and_resource_type(monkeypatch, aws):
    expect_validate(aws, rendered(CLEAN), [], policy_type="RESOURCE_POLICY", resource_type="AWS::S3::Bucket")
    expect_validate(aws, rendered(CLEAN), [], policy_type="SERVICE_CONTROL_POLICY")
    result = run(monkeypatch, {"policies": [
        {"name": "bucket", "document": CLEAN, "type": "resource", "resource_type": "AWS::S3::Bucket"},
        {"name": "scp", "document": CLEAN, "type": "service_control"}]})
    assert_all_consumed(aws)
    assert [(r["policy_type"], r["resource_type"]) for r in result["findings"]] == [
        ("RESOURCE_POLICY", "AWS::S3::Bucket"), ("SERVICE_CONTROL_POLICY", None)]


def test_bucket_policy_is_read_and_validated_as_s3_bucket(monkeypatch, aws):
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny",
                                                      "Principal": "*", "Action": "s3:*",
                                                      "Resource": ["arn:aws:s3:::audit", "arn:aws:s3:::audit/*"],
                                                      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    aws["stubs"]["s3"].add_response("get_bucket_policy", {"Policy": json.dumps(policy)}, {"Bucket": "local-audit"})
    expect_validate(aws, rendered(policy), [], policy_type="RESOURCE_POLICY", resource_type="AWS::S3::Bucket")
    result = run(monkeypatch, {"policies": [{"name": "audit-trail-bucket", "bucket": "local-audit"}]})
    assert_all_consumed(aws)
    assert not result.get("failed"), result.get("msg")
    assert result["findings"][0]["source"] == "bucket policy of s3://local-audit"


def test_bucket_without_policy_fails_naming_the_option(monkeypatch, aws):
    aws["stubs"]["s3"].add_client_error("get_bucket_policy", "NoSuchBucketPolicy", "The bucket policy does not exist",
                                        404, expected_params={"Bucket": "local-audit"})
    result = run(monkeypatch, {"policies": [{"name": "b", "bucket": "local-audit"}], "unavailable": "skip"})
    assert_all_consumed(aws)
    assert result["failed"] and result["msg"].startswith("policies[0].bucket: s3://local-audit has no bucket policy")
    assert aws["asked"] == ["s3"]  # nothing was validated


# -- roles under a path ------------------------------------------------------------------------------
def role(name, path="/seed/"):
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    return {"Path": path, "RoleName": name, "RoleId": "AROA" + name.upper().replace("-", "")[:17].ljust(17, "X"),
            "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}", "CreateDate": "2026-11-21T10:00:00Z",
            "AssumeRolePolicyDocument": quote(json.dumps(trust))}, trust  # IAM sends URL-encoded JSON


def test_role_path_validates_trust_inline_attached_and_boundary(monkeypatch, aws):
    iam = aws["stubs"]["iam"]
    web, web_trust = role("local-web-task")
    api, api_trust = role("local-api-task")
    boundary_arn = f"arn:aws:iam::{ACCOUNT}:policy/seed/seed-boundary"
    shared_arn = f"arn:aws:iam::{ACCOUNT}:policy/seed/shared-logs"
    aws_managed = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    # ListRoles pages; the roles are validated by name. (Copies: botocore decodes the documents in place.)
    iam.add_response("list_roles", {"Roles": [dict(web)], "IsTruncated": True, "Marker": "m1"}, {"PathPrefix": "/seed/"})
    iam.add_response("list_roles", {"Roles": [dict(api)], "IsTruncated": False}, {"PathPrefix": "/seed/", "Marker": "m1"})
    # local-api-task: one inline policy, the shared managed policy and an AWS managed one attached, no boundary.
    iam.add_response("list_role_policies", {"PolicyNames": ["seed-policy"], "IsTruncated": False},
                     {"RoleName": "local-api-task"})
    iam.add_response("get_role_policy", {"RoleName": "local-api-task", "PolicyName": "seed-policy",
                                         "PolicyDocument": quote(json.dumps(PASS_ROLE_STAR))},
                     {"RoleName": "local-api-task", "PolicyName": "seed-policy"})
    iam.add_response("list_attached_role_policies", {"AttachedPolicies": [
        {"PolicyName": "shared-logs", "PolicyArn": shared_arn},
        {"PolicyName": "AmazonECSTaskExecutionRolePolicy", "PolicyArn": aws_managed}], "IsTruncated": False},
        {"RoleName": "local-api-task"})
    iam.add_response("get_role", {"Role": dict(api)}, {"RoleName": "local-api-task"})
    # local-web-task: no inline policy, the shared policy attached, a permissions boundary.
    iam.add_response("list_role_policies", {"PolicyNames": [], "IsTruncated": False}, {"RoleName": "local-web-task"})
    iam.add_response("list_attached_role_policies", {"AttachedPolicies": [
        {"PolicyName": "shared-logs", "PolicyArn": shared_arn}], "IsTruncated": False}, {"RoleName": "local-web-task"})
    iam.add_response("get_role", {"Role": dict(web, PermissionsBoundary={
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary_arn})}, {"RoleName": "local-web-task"})
    # Each customer managed policy once, at its default version (sorted by ARN).
    for arn, version in ((boundary_arn, "v3"), (shared_arn, "v1")):
        iam.add_response("get_policy", {"Policy": {"PolicyName": arn.rsplit("/", 1)[1], "Arn": arn,
                                                   "DefaultVersionId": version}}, {"PolicyArn": arn})
        iam.add_response("get_policy_version", {"PolicyVersion": {"Document": quote(json.dumps(CLEAN)), "VersionId": version,
                                                                  "IsDefaultVersion": True}},
                         {"PolicyArn": arn, "VersionId": version})
    trust_type = dict(policy_type="RESOURCE_POLICY", resource_type="AWS::IAM::AssumeRolePolicyDocument")
    expect_validate(aws, rendered(CLEAN), [])  # the explicit policy comes first
    expect_validate(aws, rendered(api_trust), [], **trust_type)
    expect_validate(aws, rendered(PASS_ROLE_STAR), [PASS_ROLE_FINDING])
    expect_validate(aws, rendered(web_trust), [], **trust_type)
    expect_validate(aws, rendered(CLEAN), [])
    expect_validate(aws, rendered(CLEAN), [])
    result = run(monkeypatch, {"policies": [{"name": "deployer", "document": CLEAN}], "role_path": "/seed/"})
    assert_all_consumed(aws)
    assert [r["name"] for r in result["findings"]] == [
        "deployer", "role/local-api-task/trust", "role/local-api-task/inline/seed-policy", "role/local-web-task/trust",
        "policy/seed/seed-boundary", "policy/seed/shared-logs"]
    sources = {r["name"]: r["source"] for r in result["findings"]}
    assert sources["policy/seed/shared-logs"] == (f"customer managed policy {shared_arn} (v1), "
                                                  "attached to role local-api-task, local-web-task")
    assert sources["policy/seed/seed-boundary"] == (f"customer managed policy {boundary_arn} (v3), "
                                                    "permissions boundary of role local-web-task")
    assert result["failed"] and result["failed_policies"] == ["role/local-api-task/inline/seed-policy"]
    assert "role/local-api-task/inline/seed-policy (inline policy seed-policy of IAM role " in result["msg"]
    assert "PASS_ROLE_WITH_STAR_IN_RESOURCE" in result["msg"]


def test_no_role_under_the_path(monkeypatch, aws):
    aws["stubs"]["iam"].add_response("list_roles", {"Roles": [], "IsTruncated": False}, {"PathPrefix": "/seed/"})
    result = run(monkeypatch, {"role_path": "/seed/"})
    assert_all_consumed(aws)
    assert not result.get("failed") and result["findings"] == []


# -- Access Analyzer not available ----------------------------------------------------------------------
@pytest.mark.parametrize("code, status, expected", [
    ("AccessDeniedException", 403, "AccessDeniedException: these credentials may not call access-analyzer:ValidatePolicy"),
    ("UnrecognizedClientException", 403, "UnrecognizedClientException: the endpoint does not know these credentials"),
    ("500", 500, "the endpoint answered ValidatePolicy with HTTP 500 and no AWS error"),
    ("404", 404, "the endpoint answered ValidatePolicy with HTTP 404 and no AWS error"),
])
def test_unavailable_fails_by_default(monkeypatch, aws, code, status, expected):
    aws["stubs"]["accessanalyzer"].add_client_error("validate_policy", code, "no", status)  # once: never retried
    result = run(monkeypatch, {"policies": [{"name": "p", "document": CLEAN}, {"name": "q", "document": CLEAN}]})
    assert_all_consumed(aws)
    assert result["failed"] and result["skipped"] is False
    assert result["msg"].startswith("IAM Access Analyzer is not available: " + expected)
    assert "unavailable=skip" in result["msg"]


def test_unavailable_skip_returns_skipped_with_a_warning(monkeypatch, aws):
    aws["stubs"]["accessanalyzer"].add_client_error("validate_policy", "AccessDeniedException",
                                                    "User is not authorized to perform: access-analyzer:ValidatePolicy",
                                                    403)
    result = run(monkeypatch, {"policies": [{"name": "p", "document": CLEAN}], "role_path": "/seed/",
                               "unavailable": "skip"})
    assert_all_consumed(aws)  # stopped at the first answer: no IAM read at all
    assert not result.get("failed") and result["skipped"] is True and result["changed"] is False
    assert result["skip_reason"].startswith("AccessDeniedException: these credentials may not call")
    assert result["findings"] == [] and result["failed_policies"] == []
    assert len(aws["warnings"]) == 1 and aws["warnings"][0].startswith("IAM Access Analyzer is not available")


def test_unreachable_endpoint_skip(monkeypatch, aws):
    # A real connection refused on the loopback (port 9, discard: nothing listens in this sandbox).
    refused = boto3.client("accessanalyzer", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                           endpoint_url="http://127.0.0.1:9",
                           config=Config(retries={"total_max_attempts": 1}, proxies={}))
    aws["clients"]["accessanalyzer"] = refused
    result = run(monkeypatch, {"policies": [{"name": "p", "document": CLEAN}], "unavailable": "skip"})
    assert result["skipped"] is True and "cannot connect to its endpoint" in result["skip_reason"]
    assert "[endpoint http://127.0.0.1:9]" in result["skip_reason"]


def test_other_errors_fail_even_with_skip(monkeypatch, aws):
    aws["stubs"]["accessanalyzer"].add_client_error("validate_policy", "ValidationException",
                                                    "Policy document is too large", 400)
    result = run(monkeypatch, {"policies": [{"name": "p", "document": CLEAN}], "unavailable": "skip"})
    assert result["failed"] and "Failed to validate policy with IAM Access Analyzer" in result["msg"]


# -- bad input: zero API calls -------------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    ({"policies": [{"name": "a", "document": CLEAN}, {"name": "b", "document": "{not json"}]},
     "policies[1].document: not valid JSON"),
    ({"policies": [{"name": "a", "document": "[1, 2]"}]}, "policies[0].document: must be a JSON object"),
    ({"policies": [{"name": "a", "document": {}}]}, "policies[0].document: is an empty policy document"),
    ({"policies": [{"name": "a"}]}, "policies[0]: give exactly one of document, path or bucket (got none)"),
    ({"policies": [{"name": "a", "document": CLEAN, "path": "/x.json"}]},
     "policies[0]: give exactly one of document, path or bucket (got document, path)"),
    ({"policies": [{"name": "a", "path": "/nonexistent/policy.json"}]}, "policies[0].path: cannot read"),
    ({"policies": [{"name": "a", "document": CLEAN}, {"name": "a", "document": CLEAN}]},
     "policies[1].name: 'a' is also the name of policies[0]"),
    ({"policies": [{"name": " ", "document": CLEAN}]}, "policies[0].name: must be a non-empty string"),
    ({"policies": [{"name": "a", "document": CLEAN, "resource_type": "AWS::S3::Bucket"}]},
     "policies[0].resource_type: is only valid with type resource"),
    ({"policies": [{"name": "a", "bucket": "Not_A_Bucket"}]}, "policies[0].bucket: 'Not_A_Bucket' is not a valid"),
    ({"policies": [{"name": "a", "bucket": "audit", "type": "identity"}]}, "policies[0].type: a bucket policy is"),
    ({"policies": [{"name": "a", "bucket": "audit", "resource_type": "AWS::DynamoDB::Table"}]},
     "policies[0].resource_type: a bucket policy is validated as AWS::S3::Bucket"),
    ({"role_path": "seed"}, "role_path: 'seed' is not an IAM path"),
    ({"role_path": "/seed"}, "role_path: '/seed' is not an IAM path"),
    ({}, "policies: nothing to validate"),
    ({"role_path": "/seed/", "ignore": [{"issue_code": "PASS_ROLE", "reason": "  "}]},
     "ignore[0].reason: every accepted finding needs a reason"),
    ({"role_path": "/seed/", "ignore": [{"issue_code": "pass_role", "reason": "x"}]},
     "ignore[0].issue_code: 'pass_role' is not an Access Analyzer issue code"),
])
def test_bad_input_makes_no_api_call(monkeypatch, aws, args, message):
    result = run(monkeypatch, args)
    assert result["failed"] and result["msg"].startswith(message), result["msg"]
    assert aws["asked"] == []  # no client was even created


def test_bad_json_file_names_the_path_option(monkeypatch, aws, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"Version": "2012-10-17", "Statement": [')
    result = run(monkeypatch, {"policies": [{"name": "a", "path": str(path)}]})
    assert result["failed"] and result["msg"].startswith("policies[0].path: not valid JSON")
    assert aws["asked"] == []


@pytest.mark.parametrize("args", [
    {"policies": [{"name": "a", "document": CLEAN, "type": "trust"}]},
    {"role_path": "/seed/", "fail_on": ["CRITICAL"]},
    {"role_path": "/seed/", "ignore": [{"issue_code": "X"}]},
    {"role_path": "/seed/", "unavailable": "ignore"},
])
def test_argument_spec_rejects_before_any_call(monkeypatch, aws, args, capsys):
    # AnsibleModule's own argument checks exit from its constructor (not through the patched fail_json).
    with pytest.raises(SystemExit):
        run(monkeypatch, args)
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] and aws["asked"] == []
