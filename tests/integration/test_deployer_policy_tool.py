"""Unit tests of tools/deployer_policy.py (no server): from recorded calls to a least-privilege document."""

from __future__ import annotations

import json
import random
import sys

import pytest

from support.servers import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tools"))
import deployer_policy as dp  # noqa: E402  pylint: disable=wrong-import-position

TAGS = [{"Key": "seed:managed-by", "Value": "seed.aws_migration"}]
ROLE = "arn:aws:iam::123456789012:role/seed/local-web-execution"


def call(service, operation, params=None, signing_name=None):
    return {"service": service, "signing_name": signing_name or service, "operation": operation,
            "region": "us-east-1", "params": params or {}, "error": None}


CALLS = [
    call("ec2", "DescribeVpcs"),
    call("ec2", "CreateVpc", {"CidrBlock": "10.0.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": TAGS}]}),
    call("ec2", "CreateSubnet", {"VpcId": "vpc-1", "TagSpecifications": [{"ResourceType": "subnet", "Tags": TAGS}]}),
    call("ec2", "DeleteSubnet", {"SubnetId": "subnet-1"}),
    call("ecs", "RegisterTaskDefinition", {"family": "local-web", "executionRoleArn": ROLE,
                                           "tags": [{"key": "seed:managed-by", "value": "seed.aws_migration"}]}),
    call("ecs", "DescribeServices", {"cluster": "local", "services": ["web"]}),
    call("logs", "CreateLogGroup", {"logGroupName": "/seed/local/web"}),
    call("iam", "GetRole", {"RoleName": "local-web-execution"}),
    call("elbv2", "DescribeLoadBalancers", {"Names": ["local-public"]}, "elasticloadbalancing"),
    call("sts", "GetCallerIdentity"),
]


def statements(document):
    return {s["Sid"]: s for s in document["Statement"]}


def test_actions_are_named_scoped_and_parliament_clean():
    document, warnings = dp.generate(CALLS, modules=set())
    assert warnings == []
    every = [a for s in document["Statement"] for a in s["Action"]]
    assert not any("*" in a for a in every)
    for statement in document["Statement"]:  # '*' only where the action has no resource-level permission
        if "*" in statement["Resource"]:
            assert statement["Resource"] == ["*"] and not any(dp.has_resource_level(a) for a in statement["Action"])
    by_sid = statements(document)
    assert by_sid["Ec2NoResourceLevel"]["Action"] == ["ec2:DescribeVpcs"]
    assert by_sid["Ec2CreateTagged"]["Condition"] == {
        "StringEquals": {"aws:RequestTag/seed:managed-by": "seed.aws_migration"}}
    assert "ec2:DeleteSubnet" in by_sid["Ec2ManageTagged"]["Action"]
    assert "ec2:CreateSubnet" in by_sid["Ec2ManageTagged"]["Action"]  # its VPC, an existing managed resource
    assert "ec2:CreateVpc" not in by_sid["Ec2ManageTagged"]["Action"]  # nothing existing to authorise
    assert by_sid["Ec2TagOnCreateImplied"]["Condition"] == {
        "StringEquals": {"ec2:CreateAction": ["CreateSubnet", "CreateVpc"]}}
    assert by_sid["IamPassRoleImplied"] == {
        "Sid": "IamPassRoleImplied", "Effect": "Allow", "Action": ["iam:PassRole"],
        "Resource": ["arn:aws:iam::*:role/seed/*"],
        "Condition": {"StringEquals": {"iam:PassedToService": ["ecs-tasks.amazonaws.com"]}}}
    assert by_sid["LogsWrite"]["Resource"] == ["arn:aws:logs:*:*:log-group:/seed/*", "arn:aws:logs:*:*:log-group:/seed/*:*"]
    assert by_sid["IamRead"]["Resource"] == ["arn:aws:iam::*:role/seed/*"]
    assert by_sid["EcsRead"]["Action"] == ["ecs:DescribeServices"]
    assert dp.parliament_findings(document) == []


def test_the_document_depends_only_on_which_actions_were_called():
    shuffled = list(CALLS) * 3
    random.Random(4).shuffle(shuffled)
    assert dp.render(dp.generate(shuffled, modules=set())[0]) == dp.render(dp.generate(CALLS, modules=set())[0])


def test_supplements_come_with_the_modules_that_need_them():
    assert not dp.generate([], modules={"vpc_network"})[0]["Statement"]
    sids = {s["Sid"] for s in dp.generate([], modules={"container_image"})[0]["Statement"]}
    assert sids == {"SupplementEcrRegistryLogin", "SupplementEcrImagePushPull"}
    sids = {s["Sid"] for s in dp.generate([], modules={"guardduty_detector"})[0]["Statement"]}
    assert sids == {"SupplementGuardDutyDetectors", "SupplementGuardDutyAccount"}


def test_used_modules_follow_site_and_teardown():
    modules = dp.used_modules()
    assert {"vpc_network", "ecr_repository", "container_image", "ecs_cluster", "load_balancer",
            "ecs_service"} <= modules


def test_a_service_without_rules_is_scoped_by_type_and_warned_about():
    document, warnings = dp.generate([call("sqs", "DeleteQueue", {"QueueUrl": "x"})], modules=set())
    assert statements(document)["SqsByTypeOnly"]["Resource"] == ["arn:aws:sqs:*:*:*"]
    assert warnings and "sqs:DeleteQueue" in warnings[0]


def test_apigatewayv2_calls_map_to_http_verbs_on_paths():
    api = call("apigatewayv2", "CreateApi", {"Name": "x", "ProtocolType": "HTTP"}, "apigateway")
    document, _warnings = dp.generate([api], modules=set())
    assert statements(document)["ApiGatewayPost"]["Action"] == ["apigateway:POST"]
    assert statements(document)["ApiGatewayPost"]["Resource"] == ["arn:aws:apigateway:*::/apis"]
    # with the service recorded, its static supplement stays out
    document, _warnings = dp.generate([api], modules={"http_api"})
    assert "SupplementApiGatewayHttpApis" not in statements(document)
    assert "SupplementApiGatewayHttpApis" in statements(dp.generate([], modules={"http_api"})[0])


def test_monitoring_is_cloudwatch_and_the_projection_names_both():
    alarm = call("cloudwatch", "PutMetricAlarm", {"AlarmName": "a"}, "monitoring")
    document, _warnings = dp.generate([alarm], modules=set())
    actions = [a for s in document["Statement"] for a in s["Action"]]
    assert actions == ["cloudwatch:PutMetricAlarm"]
    projection = dp.enforceable_projection(document)
    assert projection["Statement"][0]["Action"] == ["cloudwatch:PutMetricAlarm", "monitoring:PutMetricAlarm"]
    assert projection["Statement"][0]["Resource"] == "*" and "Condition" not in projection["Statement"][0]


def test_projection_drops_an_action_and_unenforceable_services():
    document, _warnings = dp.generate(CALLS, modules={"dns_zone"})
    projection = dp.enforceable_projection(document, drop=["ec2:CreateVpc"])
    actions = projection["Statement"][0]["Action"]
    assert "ec2:CreateVpc" not in actions and "ec2:CreateSubnet" in actions
    assert not [a for a in actions if a.startswith("route53:")]


def test_pin_sets_the_account_of_every_arn_only():
    pinned = dp.pin({"Statement": [{"Resource": ["arn:aws:ecs:*:*:service/*/*", "arn:aws:iam::*:role/seed/*",
                                                 "arn:aws:route53:::hostedzone/*", "*"]}]}, "111122223333")
    assert pinned["Statement"][0]["Resource"] == ["arn:aws:ecs:*:111122223333:service/*/*",
                                                  "arn:aws:iam::111122223333:role/seed/*",
                                                  "arn:aws:route53:::hostedzone/*", "*"]


def test_evaluation_allows_the_calls_the_document_was_made_from():
    document, _warnings = dp.generate(CALLS, modules=set())
    assert dp.evaluate(document, CALLS) == []
    wrong_group = call("logs", "CreateLogGroup", {"logGroupName": "/aws/other"})
    assert dp.evaluate(document, [wrong_group]) == [
        "logs:CreateLogGroup on arn:aws:logs:us-east-1:123456789012:log-group:/aws/other"]


def test_elb_tags_on_create_cannot_tag_existing_load_balancers():
    """AddTags is granted for the creates only (elasticloadbalancing:CreateAction): with the request's tag as
    its only condition, a deployer could put the managed-by tag on any load balancer, then delete it."""
    creates = [call("elbv2", "CreateLoadBalancer", {"Name": "local-public", "Tags": TAGS}, "elasticloadbalancing"),
               call("elbv2", "CreateTargetGroup", {"Name": "local-web", "Tags": TAGS}, "elasticloadbalancing")]
    document, _warnings = dp.generate(CALLS + creates, modules=set())
    assert statements(document)["ElbTagOnCreateImplied"]["Condition"] == {
        "StringEquals": {"elasticloadbalancing:CreateAction": ["CreateLoadBalancer", "CreateTargetGroup"]}}
    assert dp.parliament_findings(document) == []
    assert dp.evaluate(document, creates) == []


def test_tags_of_existing_ec2_resources_are_checked_on_their_types():
    """CreateTags/DeleteTags name existing resources by ID only (``Resources``): each is checked as the
    resource type its ID prefix says; an ID of a type the collection does not manage is reported."""
    tagging = [call("ec2", "CreateTags", {"Resources": ["vpc-1", "subnet-2", "rtb-3", "sg-4", "nat-5",
                                                        "eipalloc-6", "igw-7", "vpce-8", "fl-9"],
                                          "Tags": [{"Key": "owner", "Value": "platform"}]}),
               call("ec2", "DeleteTags", {"Resources": ["subnet-2"], "Tags": [{"Key": "team"}]})]
    assert dp.call_resources(tagging[0], "ec2:CreateTags", {}) == [
        f"arn:aws:ec2:us-east-1:123456789012:{r}" for r in (
            "vpc/vpc-1", "subnet/subnet-2", "route-table/rtb-3", "security-group/sg-4", "natgateway/nat-5",
            "elastic-ip/eipalloc-6", "internet-gateway/igw-7", "vpc-endpoint/vpce-8", "vpc-flow-log/fl-9")]
    document, _warnings = dp.generate(CALLS + tagging, modules=set())
    assert dp.evaluate(document, tagging) == []
    foreign = call("ec2", "CreateTags", {"Resources": ["i-0abc", "vpce-svc-0abc"],
                                         "Tags": [{"Key": "owner", "Value": "x"}]})
    assert dp.evaluate(document, [foreign]) == [
        "ec2:CreateTags on arn:aws:ec2:us-east-1:123456789012:unrecognised/i-0abc",
        "ec2:CreateTags on arn:aws:ec2:us-east-1:123456789012:unrecognised/vpce-svc-0abc"]


def test_cli_check_reports_a_stale_file(tmp_path, capsys):
    recording = tmp_path / "calls.jsonl"
    recording.write_text("".join(json.dumps(c) + "\n" for c in CALLS), encoding="utf-8")
    output = tmp_path / "deployer.json"
    files = ["--output", str(output)]
    assert dp.main(["--recording", str(recording), *files, "--evaluate"]) == 0
    assert dp.main(["--recording", str(recording), *files, "--check"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.jsonl", "deployer.json"]  # no bootstrap document
    output.write_text("{}\n", encoding="utf-8")
    assert dp.main(["--recording", str(recording), *files, "--check"]) == 1
    assert "is stale" in capsys.readouterr().err
    output.unlink()
    assert dp.main(["--recording", str(recording), *files]) == 0


TRAIL_BUCKET, SITE_BUCKET = "local-seed-audit-trail", "app.local.seed.example"
SECURITY_CALLS = [
    call("s3", "CreateBucket", {"Bucket": TRAIL_BUCKET}),
    call("s3", "PutBucketPolicy", {"Bucket": TRAIL_BUCKET, "Policy": "{}"}),
    call("s3", "PutBucketLifecycleConfiguration", {"Bucket": TRAIL_BUCKET, "LifecycleConfiguration": {}}),
    call("s3", "PutBucketPolicy", {"Bucket": SITE_BUCKET, "Policy": "{}"}),
    call("s3", "PutObject", {"Bucket": SITE_BUCKET, "Key": "index.html"}),
    call("cloudtrail", "CreateTrail", {"Name": "local-audit", "S3BucketName": TRAIL_BUCKET}),
    call("cloudtrail", "ListTags", {"ResourceIdList": ["arn:aws:cloudtrail:us-east-1:123456789012:trail/local-audit"]}),
    call("sns", "CreateTopic", {"Name": "local-security-incidents"}),
    call("sns", "Subscribe", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:local-security-incidents"}),
    call("events", "PutRule", {"Name": "local-guardduty-findings"}),
    call("events", "PutTargets", {"Rule": "local-guardduty-findings"}),
    call("guardduty", "GetDetector", {"DetectorId": "abc"}),
]


def test_security_and_dns_layers_are_scoped_by_the_collections_names():
    document, warnings = dp.generate(SECURITY_CALLS, modules=set())
    assert all("playbooks/bootstrap.yml" in w for w in warnings)  # the resource-policy writes, left out
    resources = {r for s in document["Statement"] for r in s["Resource"]}
    assert "arn:aws:cloudtrail:*:*:trail/*-audit" in resources
    assert "arn:aws:sns:*:*:*-security-incidents" in resources
    assert {"arn:aws:events:*:*:rule/*-guardduty-findings", "arn:aws:events:*:*:rule/*-alarms"} <= resources
    assert {"arn:aws:s3:::*-seed-audit-trail", f"arn:aws:s3:::{SITE_BUCKET}/*"} <= resources
    assert "arn:aws:s3:::*" not in resources and "*" not in resources
    assert dp.evaluate(document, [c for c in SECURITY_CALLS if not c["operation"].startswith("PutBucket")]) == []
    other = [call("sns", "Subscribe", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:other"}),
             call("s3", "PutObject", {"Bucket": "someone-elses", "Key": "x"}),
             call("events", "PutRule", {"Name": "other"})]
    assert dp.evaluate(document, other) == [
        "events:PutRule on arn:aws:events:us-east-1:123456789012:rule/other",
        "s3:PutObject on arn:aws:s3:::someone-elses/x",
        "sns:Subscribe on arn:aws:sns:us-east-1:123456789012:other"]


def test_resource_policy_writes_are_never_in_the_deployer_policy():
    """Bucket policies and lifecycle rules are playbooks/bootstrap.yml's (administrator credentials)."""
    document, warnings = dp.generate(SECURITY_CALLS, modules=set())
    assert not {a for s in document["Statement"] for a in s["Action"]} & dp.BOOTSTRAP_ACTIONS
    assert sorted(w.split(":")[0] + ":" + w.split(":")[1] for w in warnings) == [
        "s3:PutBucketPolicy", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"]
    assert dp.parliament_findings(document) == []
    assert dp.evaluate(document, SECURITY_CALLS) == [
        f"s3:PutBucketPolicy on arn:aws:s3:::{SITE_BUCKET}", f"s3:PutBucketPolicy on arn:aws:s3:::{TRAIL_BUCKET}",
        f"s3:PutLifecycleConfiguration on arn:aws:s3:::{TRAIL_BUCKET}"]


BOUNDARY = "arn:aws:iam::123456789012:policy/seed-deployer/seed-workload-boundary"
POLICY_DOC = {"Version": "2012-10-17", "Statement": []}
ROLE_CALLS = [
    call("iam", "GetRole", {"RoleName": "local-web-task"}),
    call("iam", "GetPolicy", {"PolicyArn": BOUNDARY}),
    call("iam", "CreateRole", {"RoleName": "local-web-task", "Path": "/seed/", "PermissionsBoundary": BOUNDARY,
                               "Tags": TAGS}),
    call("iam", "PutRolePolicy", {"RoleName": "local-web-task", "PolicyName": "p", "PolicyDocument": "{}"}),
    call("iam", "CreateRole", {"RoleName": "seed-local-main-vpc-flow-logs", "Path": "/seed/",
                               "PermissionsBoundary": BOUNDARY, "Tags": TAGS}),
    call("iam", "PutRolePolicy", {"RoleName": "seed-local-main-vpc-flow-logs", "PolicyName": "p"}),
    call("iam", "DeleteRole", {"RoleName": "local-web-task"}),
]


def test_role_writes_need_the_boundary():
    document, warnings = dp.generate(ROLE_CALLS, modules=set())
    assert warnings == [] and dp.parliament_findings(document) == []
    by_sid = statements(document)
    condition = {"ArnEquals": {"iam:PermissionsBoundary": "arn:aws:iam::*:policy/seed-deployer/seed-workload-boundary"}}
    assert by_sid["IamRoleWriteWithBoundary"] == {
        "Sid": "IamRoleWriteWithBoundary", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy"],
        "Resource": ["arn:aws:iam::*:role/seed/*"], "Condition": condition}
    # a role made before the boundary gets it with PutRolePermissionsBoundary (never in a fresh recording)
    assert by_sid["IamBoundaryOnExistingRolesImplied"]["Action"] == ["iam:PutRolePermissionsBoundary"]
    assert by_sid["IamBoundaryOnExistingRolesImplied"]["Condition"] == condition
    assert by_sid["IamBoundaryRead"]["Resource"] == ["arn:aws:iam::*:policy/seed-deployer/seed-workload-boundary"]
    # vpc_network's flow-log role is written under the same condition (no statement of its own), and can be
    # passed to VPC flow logs only
    assert "IamFlowLogRoleWrite" not in by_sid
    assert [s["Sid"] for s in document["Statement"] if "iam:CreateRole" in s["Action"]] == ["IamRoleWriteWithBoundary"]
    assert by_sid["IamFlowLogRolesOnlyToFlowLogsDeny"] == {
        "Sid": "IamFlowLogRolesOnlyToFlowLogsDeny", "Effect": "Deny", "Action": ["iam:PassRole"],
        "Resource": ["arn:aws:iam::*:role/seed/seed-*-vpc-flow-logs"],
        "Condition": {"StringNotEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}}}
    every = {a for s in document["Statement"] for a in s["Action"]}
    assert not every & {"iam:DeleteRolePermissionsBoundary", "iam:CreatePolicy", "iam:CreatePolicyVersion"}
    assert dp.evaluate(document, ROLE_CALLS) == []
    # the evaluator holds the condition: no boundary, another boundary, a role without one until it is put
    other = BOUNDARY.replace("seed-workload-boundary", "admin")
    assert dp.evaluate(document, [
        call("iam", "CreateRole", {"RoleName": "local-api-task", "Path": "/seed/"}),
        call("iam", "CreateRole", {"RoleName": "local-x-task", "Path": "/seed/", "PermissionsBoundary": other}),
        call("iam", "PutRolePolicy", {"RoleName": "local-api-task", "PolicyName": "p"}),
        call("iam", "GetPolicy", {"PolicyArn": other}),
    ]) == ["iam:CreateRole on arn:aws:iam::123456789012:role/seed/local-api-task",
           "iam:CreateRole on arn:aws:iam::123456789012:role/seed/local-x-task",
           f"iam:GetPolicy on {other}",
           "iam:PutRolePolicy on arn:aws:iam::123456789012:role/seed/local-api-task"]
    assert dp.evaluate(document, [
        call("iam", "CreateRole", {"RoleName": "local-api-task", "Path": "/seed/", "Tags": TAGS}),
        call("iam", "PutRolePermissionsBoundary", {"RoleName": "local-api-task", "PermissionsBoundary": BOUNDARY}),
        call("iam", "PutRolePolicy", {"RoleName": "local-api-task", "PolicyName": "p"}),
    ]) == ["iam:CreateRole on arn:aws:iam::123456789012:role/seed/local-api-task"]


def test_the_flow_log_role_writes_need_the_boundary_too():
    """The evaluator holds the condition on vpc_network's flow-log role like on the derived roles: created
    without the boundary (or with another), its create and its policy write are denied; one made before the
    boundary existed gets it with PutRolePermissionsBoundary, then its policy may be written."""
    document, _warnings = dp.generate(ROLE_CALLS, modules=set())
    flow = "seed-local-main-vpc-flow-logs"
    arn = f"arn:aws:iam::123456789012:role/seed/{flow}"
    unbounded = [call("iam", "CreateRole", {"RoleName": flow, "Path": "/seed/", "Tags": TAGS}),
                 call("iam", "PutRolePolicy", {"RoleName": flow, "PolicyName": "flow-log-delivery"})]
    assert dp.evaluate(document, unbounded) == [f"iam:CreateRole on {arn}", f"iam:PutRolePolicy on {arn}"]
    other = BOUNDARY.replace("seed-workload-boundary", "admin")
    assert dp.evaluate(document, [
        call("iam", "CreateRole", {"RoleName": flow, "Path": "/seed/", "PermissionsBoundary": other, "Tags": TAGS}),
        call("iam", "PutRolePolicy", {"RoleName": flow, "PolicyName": "flow-log-delivery"}),
    ]) == [f"iam:CreateRole on {arn}", f"iam:PutRolePolicy on {arn}"]
    assert dp.evaluate(document, [
        unbounded[0],  # (an administrator's, before the boundary)
        call("iam", "PutRolePermissionsBoundary", {"RoleName": flow, "PermissionsBoundary": BOUNDARY}),
        unbounded[1],
    ]) == [f"iam:CreateRole on {arn}"]
    # a recording with an unbounded create says so
    _document, warnings = dp.generate(unbounded, modules=set())
    assert any(w.startswith(f"iam:CreateRole of {flow} without a permissions boundary") for w in warnings)


def test_incident_tickets_calls_are_in_the_labelled_supplement():
    """playbooks/incident_tickets.yml is not run by --record (webhook, real findings): a static list."""
    assert "guardduty_tickets" in dp.used_modules()
    document = dp.generate([], modules={"guardduty_tickets"})[0]
    assert {"SupplementIncidentTicketsFindings", "SupplementIncidentTicketsLedger",
            "SupplementIncidentTicketsLedgerList"} <= {s["Sid"] for s in document["Statement"]}
    # with guardduty recorded (site.yml's detector), the tickets' reads stay: they are not in the recording
    recorded = dp.generate([call("guardduty", "GetDetector", {"DetectorId": "abc"})], modules={"guardduty_tickets"})[0]
    assert "SupplementIncidentTicketsFindings" in {s["Sid"] for s in recorded["Statement"]}
    pinned = dp.pin(document, "123456789012")
    assert dp.allowed(pinned, "s3:PutObject", "arn:aws:s3:::it-security-state/guardduty/tickets-ledger.json")
    assert not dp.allowed(pinned, "s3:PutObject", "arn:aws:s3:::it-security-state/other")
    assert dp.allowed(pinned, "guardduty:ListFindings", "*")
    # the first run without a ledger: s3:ListBucket (403 -> 404 for the missing object) on the ledger key only
    assert statements(document)["SupplementIncidentTicketsLedgerList"] == {
        "Sid": "SupplementIncidentTicketsLedgerList", "Effect": "Allow", "Action": ["s3:ListBucket"],
        "Resource": ["arn:aws:s3:::*"], "Condition": {"StringEquals": {"s3:prefix": dp.LEDGER_KEY}}}
    bucket = "arn:aws:s3:::it-security-state"
    assert dp.allowed(pinned, "s3:ListBucket", bucket, context={"s3:prefix": dp.LEDGER_KEY})
    assert not dp.allowed(pinned, "s3:ListBucket", bucket, context={"s3:prefix": "other/"})
    assert not dp.allowed(pinned, "s3:ListBucket", bucket)
    assert dp.parliament_findings(document) == []


@pytest.mark.parametrize("operation", ["PutImage", "InitiateLayerUpload"])
def test_docker_pushes_to_ecr_are_in_the_shipped_supplement(operation):
    shipped = json.loads((REPO_ROOT / "policies" / "deployer.json").read_text(encoding="utf-8"))
    assert dp.allowed(dp.pin(shipped, "123456789012"), f"ecr:{operation}",
                      "arn:aws:ecr:eu-west-1:123456789012:repository/seed/backend")
