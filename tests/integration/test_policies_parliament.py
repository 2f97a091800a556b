"""Every policy the collection writes passes parliament (https://github.com/duo-labs/parliament) with no
finding: the shipped deployer policy (as committed, and pinned to an account as
playbooks/deployer_role.yml creates it), the permissions boundary of the derived roles
(policies/workload-boundary.json, as shipped and as playbooks/bootstrap.yml creates it), the roles
iam_roles.py derives for representative services, vpc_network's flow-log role, and the resource and trust
policies the modules write (trail bucket, maintenance page buckets, incident topic). Role trust policies
have no Resource element, which parliament's grammar requires: IAM Access Analyzer validates them
(role security, entry point validate: type AWS::IAM::AssumeRolePolicyDocument).

One exception, checked against parliament's own data (deployer_policy.parliament_findings): parliament
checks ELB condition keys against the older of its two elasticloadbalancing entries, which lacks
elasticloadbalancing:CreateAction for AddTags (tagging a load balancer or target group only as part of its
creation); its newer entry, AWS's reference and the ELB guide list it.

No other exception: the resource-policy writes (bucket policies, lifecycle rules), for which parliament reports
RESOURCE_POLICY_PRIVILEGE_ESCALATION, are in no policy the collection ships - playbooks/bootstrap.yml
makes them with administrator credentials.
"""

from __future__ import annotations

import json
import sys

import pytest

from support.ansible import ensure_collection_link
from support.servers import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tools"))
import deployer_policy  # noqa: E402  pylint: disable=wrong-import-position

ensure_collection_link()
sys.path.insert(0, str(REPO_ROOT / ".collections"))
from ansible_collections.seed.aws_migration.plugins.module_utils import iam_roles  # noqa: E402
from ansible_collections.seed.aws_migration.plugins.module_utils import network  # noqa: E402

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db-AbCdEf"
AP = f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:access-point/fsap-0123456789abcdef0"
IMAGE = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/seed/backend@sha256:" + "a" * 64


def findings(document):
    """parliament's findings (deployer_policy.parliament_findings: parliament's outdated copy of one ELB
    condition key is left out, only while parliament's own data lists the key)."""
    return deployer_policy.parliament_findings(document)


def test_the_shipped_deployer_policy_has_no_finding():
    shipped = json.loads((REPO_ROOT / "policies" / "deployer.json").read_text(encoding="utf-8"))
    assert findings(shipped) == []
    assert findings(deployer_policy.pin(shipped, ACCOUNT)) == []


def test_no_policy_document_is_shipped_besides_the_deployer_and_the_boundary():
    shipped = sorted(p.name for p in (REPO_ROOT / "policies").iterdir())
    assert shipped == ["deployer.json", "workload-boundary.json"]
    document = json.loads((REPO_ROOT / "policies" / "deployer.json").read_text(encoding="utf-8"))
    assert not {a for st in document["Statement"] for a in st["Action"]} & deployer_policy.BOOTSTRAP_ACTIONS


def test_the_workload_boundary_has_no_finding():
    boundary = json.loads((REPO_ROOT / "policies" / "workload-boundary.json").read_text(encoding="utf-8"))
    assert findings(boundary) == []
    assert findings(deployer_policy.pin(boundary, ACCOUNT)) == []


def test_the_deployer_policy_with_every_supplement_has_no_finding():
    """The labelled supplements for modules not in site.yml yet (route53, apigateway, guardduty)."""
    modules = {m for entry in deployer_policy.SUPPLEMENT for m in entry["modules"]}
    document, _warnings = deployer_policy.generate([], modules=modules)
    assert {s["Sid"] for s in document["Statement"]} == {e["sid"] for e in deployer_policy.SUPPLEMENT}
    assert findings(document) == []


SERVICES = {
    "web, image only": dict(containers=[{"name": "web", "image": IMAGE}], log_group="/seed/prod/web"),
    "backend with secrets and KMS": dict(
        containers=[
            {"name": "api", "image": IMAGE, "secrets": {
                "DB": SECRET + ":password::", "KEY": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/prod/key"}},
            {"name": "otel", "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
             "log_group": "/seed/prod/otel"}],
        log_group="/seed/prod/api", kms_keys=[KEY]),
}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_derived_execution_roles_have_no_finding(name):
    spec = SERVICES[name]
    policy = iam_roles.execution_policy(spec["containers"], "eu-west-1", ACCOUNT, spec["log_group"],
                                        spec.get("kms_keys", ()))
    assert findings(policy) == []


@pytest.mark.parametrize("kwargs", [
    dict(execute_command=True),
    dict(s3_prefixes=["uploads/backend/", "reports/2024/"], kms_keys=[KEY]),
    dict(efs_access_points=[{"file_system_id": "fs-0123456789abcdef0", "access_point_arn": AP}]),
    dict(extra_statements=[{"Sid": "Queue", "Effect": "Allow", "Action": ["sqs:SendMessage"],
                            "Resource": [f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders"]}],
         s3_prefixes=["uploads/backend/"], efs_access_points=[
             {"file_system_id": "fs-0123456789abcdef0", "access_point_arn": AP, "read_only": True}],
         execute_command=True),
], ids=["exec", "s3+kms", "efs", "everything"])
def test_derived_task_roles_have_no_finding(kwargs):
    assert findings(iam_roles.task_policy(**kwargs)) == []


def test_the_boundary_holds_every_action_a_derived_role_can_get():
    """A ceiling, not a cut: each action iam_roles.py can put in a derived role's policy is in the boundary."""
    boundary = json.loads((REPO_ROOT / "policies" / "workload-boundary.json").read_text(encoding="utf-8"))
    ceiling = {a for s in boundary["Statement"] for a in s["Action"]}
    everything = [iam_roles.execution_policy(spec["containers"], "eu-west-1", ACCOUNT, spec["log_group"],
                                             spec.get("kms_keys", ())) for spec in SERVICES.values()]
    everything.append(iam_roles.task_policy(execute_command=True, s3_prefixes=["uploads/backend/"], kms_keys=[KEY],
                                            efs_access_points=[{"file_system_id": "fs-0123456789abcdef0",
                                                                "access_point_arn": AP}]))
    everything.append(network.flow_log_role_policy("aws", "eu-west-1", ACCOUNT, "/seed/prod/main/vpc-flow-logs"))
    derived = {a for p in everything for s in p["Statement"] for a in s["Action"]}
    assert derived == ceiling


def test_the_flow_log_role_has_no_finding_and_the_boundary_lets_it_deliver():
    """vpc_network's flow-log role (its boundary: flow_logs.permissions_boundary) keeps what it needs on a
    /seed/ log group, the module's default; a group outside /seed/ is cut by the boundary."""
    group = "/seed/prod/main/vpc-flow-logs"
    policy = network.flow_log_role_policy("aws", "eu-west-1", ACCOUNT, group)
    assert findings(policy) == []  # (a trust policy is no identity policy: parliament does not read those)
    boundary = deployer_policy.pin(json.loads((REPO_ROOT / "policies" / "workload-boundary.json").read_text(
        encoding="utf-8")), ACCOUNT)
    base = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:"
    for action, resource in (("logs:CreateLogStream", "{0}:log-stream:eni-1-all"),
                             ("logs:PutLogEvents", "{0}:log-stream:eni-1-all"),
                             ("logs:DescribeLogStreams", "{0}")):
        assert deployer_policy.allowed(policy, action, resource.format(base + group))
        assert deployer_policy.allowed(boundary, action, resource.format(base + group)), action
        assert not deployer_policy.allowed(boundary, action, resource.format(base + "/other/vpc-flow-logs")), action


# ---------------------------------------------------------------- resource and trust policies the modules write


def _module(name):
    import importlib
    return importlib.import_module(f"ansible_collections.seed.aws_migration.plugins.modules.{name}")


TRAIL = f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/production-audit"
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:production-security-incidents"
RULES = [f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/production-guardduty-findings",
         f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/production-alarms"]


@pytest.mark.parametrize("name,document", [
    ("trail bucket policy (trail_bucket)",
     lambda: _module("trail_bucket").bucket_policy("production-seed-audit-trail", ACCOUNT, TRAIL)),
    ("maintenance page public read (static_website)",
     lambda: _module("static_website").public_read_policy("app.production.seed.example.com")),
    ("incident topic policy (incident_routing)", lambda: _module("incident_routing").topic_policy(TOPIC, RULES)),
    ("incident topic policy without rules (incident_routing)",
     lambda: _module("incident_routing").topic_policy(TOPIC, [])),
])
def test_resource_and_trust_policies_the_modules_write_have_no_finding(name, document):
    written = document()
    assert written["Statement"], name
    assert findings(written) == [], name
