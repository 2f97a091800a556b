"""The deployer policy (policies/deployer.json) is enough to run site.yml and teardown.yml, and nothing
in it is spare for that run.

The resource-policy writes (S3 bucket policies, lifecycle rules) are in policies/deployer-bootstrap.json,
attached only for the first run: the first site.yml runs with both documents, the no-op site.yml and
teardown.yml with deployer.json alone (proving the day-to-day document is enough for them).

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
BOOTSTRAP = REPO_ROOT / "policies" / "deployer-bootstrap.json"
USER = "seed-deployer"


class EnforcingAwsServer(LocalAwsServer):
    """tools/local_aws_server.py whose IAM enforcement skips the services moto cannot authorise
    (support/enforcing_aws.py); those are proved by the evaluation of their recorded calls."""

    script = str(Path(__file__).resolve().parent / "support" / "enforcing_aws.py")  # absolute: replaces tools/


def set_policy(server, document):
    """Attach ``document`` as the user's only managed policy (a new default version once it exists)."""
    iam = boto3_client("iam", server.endpoint_url)
    arn = f"arn:aws:iam::123456789012:policy/{USER}"
    text = json.dumps(document)
    if not any(p["PolicyName"] == USER for p in iam.list_policies(Scope="Local")["Policies"]):
        iam.create_policy(PolicyName=USER, PolicyDocument=text)
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


@pytest.fixture
def enforced(tmp_path):
    """A private local AWS (enforcement is global to a server), a deployer user, its credentials."""
    server = EnforcingAwsServer(workdir=tmp_path / "aws")
    try:
        iam = boto3_client("iam", server.endpoint_url)
        iam.create_user(UserName=USER)
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        server.credentials = {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
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


def failures(result):
    return [(t["_task"], t.get("msg")) for t in result.task_results() if t.get("failed")] or result.stderr[-2000:]


def test_site_and_teardown_converge_with_only_the_deployer_policy(enforced, tmp_path):
    shipped = json.loads(POLICY.read_text(encoding="utf-8"))
    bootstrap = json.loads(BOOTSTRAP.read_text(encoding="utf-8"))
    both = deployer_policy.merge(shipped, bootstrap)
    ansible, recording, extra = deployer(enforced, tmp_path, "deployer")
    runs = []
    for step, (label, playbook, extra_vars) in enumerate(deployer_policy.scenario(extra)):
        # the first run with the bootstrap document too, the others with the day-to-day one alone
        set_policy(enforced, deployer_policy.enforceable_projection(both if step == 0 else shipped))
        enforce(enforced, True)
        try:
            if step == 0:  # the enforcement is real: the test's own root-style key is refused now
                with pytest.raises(Exception, match="InvalidClientTokenId|not authorized|AccessDenied"):
                    boto3_client("ecs", enforced.endpoint_url).list_clusters()
            result = ansible.playbook(playbook, extra_vars=extra_vars)
        finally:
            enforce(enforced, False)
        runs.append((label, result))
        assert not result.failed, (label, failures(result))
    assert runs[1][1].changed == 0

    calls = deployer_policy.load_recording(recording)
    assert not [c for c in calls if c["error"] in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")]
    # every recorded call is allowed by the SHIPPED documents, resources and tag conditions included
    assert deployer_policy.evaluate(both, calls) == []
    assert deployer_policy.untagged_creates(calls) == []
    # the committed documents are exactly what the generator makes of this run: they never drift
    daily, bootstrap_generated = deployer_policy.split(deployer_policy.generate(calls)[0])
    assert deployer_policy.render(daily) == POLICY.read_text(encoding="utf-8"), (
        "policies/deployer.json is stale: python3 tools/deployer_policy.py --record")
    assert deployer_policy.render(bootstrap_generated) == BOOTSTRAP.read_text(encoding="utf-8"), (
        "policies/deployer-bootstrap.json is stale: python3 tools/deployer_policy.py --record")
    assert {a for s in bootstrap["Statement"] for a in s["Action"]} <= deployer_policy.BOOTSTRAP_ACTIONS


def test_one_missing_permission_fails_with_access_denied_naming_it(enforced, tmp_path):
    shipped = json.loads(POLICY.read_text(encoding="utf-8"))
    set_policy(enforced, deployer_policy.enforceable_projection(shipped, drop=["ec2:CreateVpc"]))
    ansible, _recording, extra = deployer(enforced, tmp_path, "short")
    enforce(enforced, True)
    try:
        result = ansible.playbook("playbooks/network.yml", extra_vars=extra)
    finally:
        enforce(enforced, False)
    assert result.failed
    messages = " ".join(str(m) for _task, m in failures(result))
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
    assert not first.failed, failures(first)
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

    # bootstrap: the resource-policy writes attached as a second managed policy, then detached again
    boot = ansible.playbook("playbooks/deployer_role.yml",
                            extra_vars={"deployer_trusted_principals": principals, "deployer_bootstrap": True})
    assert not boot.failed, failures(boot)
    facts = {k: v for t in boot.task_results() for k, v in t.get("ansible_facts", {}).items()}
    boot_arn = facts["deployer_outputs"]["bootstrap_policy_arn"]
    assert boot_arn == "arn:aws:iam::123456789012:policy/seed-deployer/seed-deployer-bootstrap"
    attached = iam.list_attached_role_policies(RoleName="seed-deployer")["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted([outputs["policy_arn"], boot_arn])
    version = iam.get_policy(PolicyArn=boot_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=boot_arn, VersionId=version)["PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    assert document == deployer_policy.pin(json.loads(BOOTSTRAP.read_text(encoding="utf-8")), "123456789012")
    detached = ansible.playbook("playbooks/deployer_role.yml", extra_vars={"deployer_trusted_principals": principals})
    assert not detached.failed, failures(detached)
    attached = iam.list_attached_role_policies(RoleName="seed-deployer")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [outputs["policy_arn"]]


def test_deployer_role_needs_trusted_principals(clean_aws, ansible):
    result = ansible.playbook("playbooks/deployer_role.yml")
    assert result.failed
    assert any("deployer_trusted_principals" in str(t.get("msg")) for t in result.task_results())
    assert clean_aws.requests()["total"] == 0
