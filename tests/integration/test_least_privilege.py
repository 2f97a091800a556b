"""The deployer policy (policies/deployer.json) is enough to run site.yml and teardown.yml, and nothing
in it is spare for that run.

playbooks/bootstrap.yml runs first with administrator credentials (a user with an allow-all policy): the
deployer role, the permissions boundary of the derived roles, and the buckets whose policies and lifecycle
rules (resource-policy writes) the deployer may not write. Then site.yml (cold), site.yml (a new release:
new images, changed repository settings), site.yml (settings changed in every layer: NAT mode, tags, Container
Insights, health checks, API throttling, a secret, GuardDuty...), site.yml (no-op) and teardown.yml run with
deployer.json
alone, the services' roles and the flow-log role with the boundary (-e service_permissions_boundary,
-e network_flow_logs_permissions_boundary). A bucket policy that differs afterwards fails the deployer's
run with AccessDenied naming s3:PutBucketPolicy.

A private local AWS with moto's IAM enforcement on (``POST /moto-api/reset-auth``): the run uses only
the access key of a user that holds the policy.  moto authorises requests against the resource ``*``
and without a request context, so it gets the enforceable PROJECTION of the shipped policy (its
actions on ``*``, no conditions; ``deployer_policy.enforceable_projection``): that proves the action
set.  The resources and the tag conditions are proved on the recorded calls of the same run
(``deployer_policy.evaluate``), which also covers the services moto cannot authorise (its signature
check fails for apigatewayv2, guardduty, route53 and efs, so the test's server lets those through
unchecked - support/enforcing_aws.py; CloudWatch is named ``monitoring:*``).
The shipped policy is never widened for the emulator.

The images layer uses pre-built image references (no Docker build): with the local OCI registry it
makes no AWS call, and its ECR-mode calls are in the policy's labelled supplement.
"""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from support.ansible import Ansible
from support.servers import REPO_ROOT
from support.servers import LocalAwsServer
from support.servers import boto3_client

sys.path.insert(0, str(REPO_ROOT / "tools"))
import deployer_policy  # noqa: E402  pylint: disable=wrong-import-position

POLICY = REPO_ROOT / "policies" / "deployer.json"
BOUNDARY = REPO_ROOT / "policies" / "workload-boundary.json"
USER, ADMIN = "seed-deployer", "seed-admin"
# not "seed-deployer": bootstrap.yml (deployer_role.yml) keeps a managed policy of that name (amazon.aws's
# iam_managed_policy finds a policy by its name), which must not replace the user's projection
PROJECTION = "seed-deployer-projection"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


class EnforcingAwsServer(LocalAwsServer):
    """tools/local_aws_server.py whose IAM enforcement skips the services moto cannot authorise
    (support/enforcing_aws.py); those are proved by the evaluation of their recorded calls."""

    script = str(Path(__file__).resolve().parent / "support" / "enforcing_aws.py")  # absolute: replaces tools/


def set_policy(server, document):
    """Attach ``document`` as the user's only managed policy (a new default version once it exists)."""
    iam = boto3_client("iam", server.endpoint_url)
    arn = f"arn:aws:iam::123456789012:policy/{PROJECTION}"
    text = json.dumps(document)
    if not any(p["PolicyName"] == PROJECTION for p in iam.list_policies(Scope="Local")["Policies"]):
        iam.create_policy(PolicyName=PROJECTION, PolicyDocument=text)
        iam.attach_user_policy(UserName=USER, PolicyArn=arn)
    else:
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)


def enforce(server, on):
    """moto's IAM enforcement: from the next request on (on), or never (off).

    The body is the number of requests left unchecked, as a bare number (moto: ``float(body)``).
    """
    request = urllib.request.Request(server.endpoint_url + "/moto-api/reset-auth", data=b"0" if on else b"inf",
                                     method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"


@contextlib.contextmanager
def enforcing(server):
    """IAM enforced for what runs inside, off again afterwards whatever happens."""
    enforce(server, True)
    try:
        yield
    finally:
        enforce(server, False)


@pytest.fixture
def enforced(tmp_path):
    """A private local AWS (enforcement is global to a server), a deployer user and an administrator (allow-all),
    their credentials."""
    server = EnforcingAwsServer(workdir=tmp_path / "aws")
    try:
        iam = boto3_client("iam", server.endpoint_url)
        iam.create_user(UserName=USER)
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        server.credentials = {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
        iam.create_user(UserName=ADMIN)
        iam.put_user_policy(UserName=ADMIN, PolicyName="allow-all", PolicyDocument=json.dumps(ALLOW_ALL))
        key = iam.create_access_key(UserName=ADMIN)["AccessKey"]
        server.admin_credentials = {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
        yield server
    finally:
        server.stop()


def deployer(server, tmp_path, name):
    ansible = Ansible(server.endpoint_url, tmp_path / name)
    recording = tmp_path / f"{name}.jsonl"
    ansible.extra_env.update(deployer_policy.recorder_env(recording, tmp_path / "recorder"))
    extra = dict(deployer_policy.scenario_vars(),
                 seed_aws=dict(region="us-east-1", endpoint_url=server.endpoint_url, **server.credentials))
    return ansible, recording, extra


def bootstrap(server, tmp_path):
    """playbooks/bootstrap.yml with the administrator's credentials, under enforcement (not recorded)."""
    admin = Ansible(server.endpoint_url, tmp_path / "admin")
    extra = deployer_policy.bootstrap_vars(
        {"seed_aws": dict(region="us-east-1", endpoint_url=server.endpoint_url, **server.admin_credentials)})
    with enforcing(server):
        result = admin.playbook("playbooks/bootstrap.yml", extra_vars=extra)
    assert not result.failed, ("bootstrap.yml", result.failures())
    return result


def test_site_and_teardown_converge_with_only_the_deployer_policy(enforced, tmp_path):
    shipped = json.loads(POLICY.read_text(encoding="utf-8"))
    set_policy(enforced, deployer_policy.enforceable_projection(shipped))
    bootstrap(enforced, tmp_path)
    ansible, recording, extra = deployer(enforced, tmp_path, "deployer")
    runs = []
    for step, (label, playbook, extra_vars) in enumerate(deployer_policy.scenario(extra)):
        with enforcing(enforced):
            if step == 0:  # the enforcement is real: the test's own root-style key is refused now
                with pytest.raises(Exception, match="InvalidClientTokenId|not authorized|AccessDenied"):
                    boto3_client("ecs", enforced.endpoint_url).list_clusters()
            result = ansible.playbook(playbook, extra_vars=extra_vars)
        runs.append((label, result))
        assert not result.failed, (label, result.failures())
    changed = {label: result.changed for label, result in runs}
    assert changed["site.yml (a new release)"] > 0 and changed["site.yml (settings changed)"] > 0, changed
    assert changed["site.yml (no-op)"] == 0, changed
    assert changed["site.yml (HTTP API switched off)"] > 0, changed

    calls = deployer_policy.load_recording(recording)
    assert not [c for c in calls if c["error"] in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")]
    # the listener and routing-rule update paths ran (the local inventory has no rule while the HTTP API is on),
    # and the certificate rotation: the listener's certificate and TLS policy changed, the API's domain moved
    operations = [c["operation"] for c in calls]
    assert {"CreateRule", "ModifyRule", "DeleteRule", "UpdateDomainName"} <= set(operations), sorted(set(operations))
    assert operations.count("ModifyListener") == 2 and operations.count("RequestCertificate") == 2
    assert operations.count("DeleteCertificate") == 2  # the superseded one too (dns_certificate_identity)
    # the settings run removed the worker app the release run added (services.yml, an app dropped from
    # seed_apps), and the HTTP API was switched off (prune.yml) before the teardown removed the services
    deleted = [(i, c["params"].get("service")) for i, c in enumerate(calls) if c["operation"] == "DeleteService"]
    assert [name for _i, name in deleted] == ["worker", "frontend", "backend"], deleted
    assert operations.index("DeleteApi") < deleted[1][0] and operations.index("DeleteVpcLink") < deleted[1][0]
    # every recorded call is allowed by the SHIPPED document, resources and conditions (tags, the roles'
    # permissions boundary) included
    assert deployer_policy.evaluate(shipped, calls) == []
    assert deployer_policy.untagged_creates(calls) == []
    # every role the deployer creates - the services' and the flow-log role - carries the boundary
    created = [c["params"] for c in calls if c["operation"] == "CreateRole"]
    assert any(p["RoleName"].endswith("-vpc-flow-logs") for p in created), [p["RoleName"] for p in created]
    assert {p.get("PermissionsBoundary") for p in created} == {deployer_policy.boundary_arn("123456789012")}
    assert not [c for c in calls if c["operation"] in ("PutBucketPolicy", "PutBucketLifecycleConfiguration")]
    # the committed document is exactly what the generator makes of this run: it never drifts
    assert deployer_policy.render(deployer_policy.generate(calls)[0]) == POLICY.read_text(encoding="utf-8"), (
        "policies/deployer.json is stale: python3 tools/deployer_policy.py --record")


def test_a_changed_bucket_policy_fails_the_deployer_naming_bootstrap(enforced, tmp_path):
    """The deployer reads the trail bucket's policy; when it differs, the write is denied and said to be
    bootstrap.yml's (administrator credentials)."""
    set_policy(enforced, deployer_policy.enforceable_projection(json.loads(POLICY.read_text(encoding="utf-8"))))
    bootstrap(enforced, tmp_path)
    boto3_client("s3", enforced.endpoint_url).delete_bucket_policy(Bucket="local-seed-audit-trail")
    ansible, _recording, extra = deployer(enforced, tmp_path, "drift")
    with enforcing(enforced):
        result = ansible.playbook("playbooks/security.yml", extra_vars=extra)
    assert result.failed
    messages = " ".join(str(m) for _task, m in result.failures())
    assert "s3:PutBucketPolicy" in messages and "playbooks/bootstrap.yml with administrator credentials" in messages, (
        messages)


def test_one_missing_permission_fails_with_access_denied_naming_it(enforced, tmp_path):
    shipped = json.loads(POLICY.read_text(encoding="utf-8"))
    set_policy(enforced, deployer_policy.enforceable_projection(shipped, drop=["ec2:CreateVpc"]))
    bootstrap(enforced, tmp_path)  # the flow-log role's boundary (network_flow_logs_permissions_boundary)
    ansible, _recording, extra = deployer(enforced, tmp_path, "short")
    with enforcing(enforced):
        result = ansible.playbook("playbooks/network.yml", extra_vars=extra)
    assert result.failed
    messages = " ".join(str(m) for _task, m in result.failures())
    assert "ec2:CreateVpc" in messages and "not authorized" in messages, messages
    assert boto3_client("ec2", enforced.endpoint_url).describe_vpcs(
        Filters=[{"Name": "tag:seed:environment", "Values": ["local"]}])["Vpcs"] == []


def test_recorded_calls_outside_the_policy_are_reported():
    """The evaluator denies what the policy does not allow (resource, tag condition, action)."""
    shipped = json.loads(POLICY.read_text(encoding="utf-8"))
    tags = [{"Key": "seed:managed-by", "Value": "seed.aws_migration"}]
    calls = [
        {"service": "logs", "signing_name": "logs", "operation": "CreateLogGroup", "region": "us-east-1",
         "params": {"logGroupName": "/other/app"}, "error": None},
        {"service": "ec2", "signing_name": "ec2", "operation": "CreateVpc", "region": "us-east-1",
         "params": {"CidrBlock": "10.0.0.0/16"}, "error": None},
        {"service": "ec2", "signing_name": "ec2", "operation": "CreateVpc", "region": "us-east-1",
         "params": {"CidrBlock": "10.0.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": tags}]},
         "error": None},
        {"service": "ec2", "signing_name": "ec2", "operation": "TerminateInstances", "region": "us-east-1",
         "params": {"InstanceIds": ["i-1"]}, "error": None},
    ]
    assert deployer_policy.evaluate(shipped, calls) == [
        "ec2:CreateVpc on arn:aws:ec2:us-east-1:123456789012:vpc/new",
        "ec2:TerminateInstances on arn:aws:ec2:us-east-1:123456789012:*",
        "logs:CreateLogGroup on arn:aws:logs:us-east-1:123456789012:log-group:/other/app",
    ]
    assert deployer_policy.untagged_creates(calls) == ["ec2:CreateVpc"]


def test_deployer_role_playbook_creates_the_role_once(clean_aws, ansible):
    principals = ["arn:aws:iam::123456789012:role/ci-runner"]
    first = ansible.playbook("playbooks/deployer_role.yml", extra_vars={"deployer_trusted_principals": principals})
    assert not first.failed, first.failures()
    outputs = {k: v for t in first.task_results() for k, v in t.get("ansible_facts", {}).items()}["deployer_outputs"]
    assert outputs["role_arn"] == "arn:aws:iam::123456789012:role/seed-deployer/seed-deployer"

    iam = boto3_client("iam", clean_aws.endpoint_url)
    policy = iam.get_policy(PolicyArn=outputs["policy_arn"])["Policy"]
    document = iam.get_policy_version(PolicyArn=outputs["policy_arn"],
                                      VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    shipped = json.loads(POLICY.read_text(encoding="utf-8"))
    assert document == deployer_policy.pin(shipped, "123456789012")  # the account is pinned, nothing else changes
    assert {r.split(":")[4] for s in document["Statement"] for r in s["Resource"] if r.startswith("arn:")} <= {
        "123456789012", ""}
    attached = iam.list_attached_role_policies(RoleName="seed-deployer")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [outputs["policy_arn"]]
    trust = iam.get_role(RoleName="seed-deployer")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": principals}

    clean_aws.reset_counts()
    again = ansible.playbook("playbooks/deployer_role.yml", extra_vars={"deployer_trusted_principals": principals})
    assert not again.failed and again.changed == 0, [t.get("_task") for t in again.task_results() if t.get("changed")]
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]

    # a role of an earlier version held the retired bootstrap policy: detached and deleted
    retired = iam.create_policy(PolicyName="seed-deployer-bootstrap", Path="/seed-deployer/",
                                PolicyDocument=json.dumps(ALLOW_ALL))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="seed-deployer", PolicyArn=retired)
    upgraded = ansible.playbook("playbooks/deployer_role.yml", extra_vars={"deployer_trusted_principals": principals})
    assert not upgraded.failed, upgraded.failures()
    attached = iam.list_attached_role_policies(RoleName="seed-deployer")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [outputs["policy_arn"]]
    assert "seed-deployer-bootstrap" not in [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]


def test_bootstrap_creates_the_boundary_and_the_buckets_once(clean_aws, ansible):
    extra = deployer_policy.bootstrap_vars()
    first = ansible.playbook("playbooks/bootstrap.yml", extra_vars=extra)
    assert not first.failed, first.failures()
    outputs = {k: v for t in first.task_results() for k, v in t.get("ansible_facts", {}).items()}["bootstrap_outputs"]
    assert outputs["workload_boundary_arn"] == deployer_policy.boundary_arn("123456789012")
    assert outputs["deployer_role_arn"] == "arn:aws:iam::123456789012:role/seed-deployer/seed-deployer"
    assert outputs["trail_bucket"] == "local-seed-audit-trail"
    assert outputs["maintenance_buckets"] == ["app.local.seed.example"]

    iam, s3 = boto3_client("iam", clean_aws.endpoint_url), boto3_client("s3", clean_aws.endpoint_url)
    arn = outputs["workload_boundary_arn"]
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    assert document == deployer_policy.pin(json.loads(BOUNDARY.read_text(encoding="utf-8")), "123456789012")
    assert json.loads(s3.get_bucket_policy(Bucket="local-seed-audit-trail")["Policy"])["Statement"]
    assert json.loads(s3.get_bucket_policy(Bucket="app.local.seed.example")["Policy"])["Statement"]
    # only what bootstrap.yml is for: no VPC, no cluster, no trail (site.yml's)
    assert boto3_client("ec2", clean_aws.endpoint_url).describe_vpcs(
        Filters=[{"Name": "tag:seed:environment", "Values": ["local"]}])["Vpcs"] == []
    assert boto3_client("cloudtrail", clean_aws.endpoint_url).describe_trails()["trailList"] == []

    again = ansible.playbook("playbooks/bootstrap.yml", extra_vars=extra)
    assert not again.failed and again.changed == 0, [t.get("_task") for t in again.task_results() if t.get("changed")]


def test_deployer_role_needs_trusted_principals(clean_aws, ansible):
    result = ansible.playbook("playbooks/deployer_role.yml")
    assert result.failed
    assert any("deployer_trusted_principals" in str(t.get("msg")) for t in result.task_results())
    assert clean_aws.requests()["total"] == 0
