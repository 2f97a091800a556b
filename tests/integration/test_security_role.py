"""The security role (playbooks/security.yml) and its modules trail_bucket and incident_routing, against the
local AWS over HTTP, requests counted at the server.

The rhythm of every step: check mode (prediction, zero writes), apply (the same actions), re-apply
(changed=false, zero writes), then direct reads with boto3 of what exists.

What the local AWS (moto 5.2.5) does and does not do here:
- S3: it keeps the public access block, default encryption, ownership controls, policy, lifecycle and tags as
  given, and refuses to delete a bucket that holds objects, as AWS does. It does not evaluate bucket policies
  (the CloudTrail and TLS conditions are checked as documents below).
- CloudTrail: it keeps the trail's settings and tags; it never delivers log files, so the bucket of a converged
  trail is empty (the purge of log files is exercised with an object put by the test).
- SNS: e-mail subscriptions are confirmed at once (AWS leaves them PendingConfirmation until the owner
  clicks); EventBridge: rules and targets are kept as given, no event is matched or delivered.
- GuardDuty: CreateDetector/GetDetector/UpdateDetector/DeleteDetector work (seed.aws_migration.guardduty_detector).
"""

from __future__ import annotations

import json

import pytest

from support.converge import converge
from support.servers import REPO_ROOT
from support.servers import boto3_client

PLAYBOOK = "playbooks/security.yml"
ACCOUNT = "123456789012"
# inventories/local/group_vars/all/security.yml, with seed_environment=local
TRAIL = "local-audit"
BUCKET = "local-seed-audit-trail"
TOPIC = "local-security-incidents"
GD_RULE = "local-guardduty-findings"
ALARM_RULE = "local-alarms"

BUCKET_ARGS = dict(name="it-trail-bucket", trail_name="it-trail", expiration_days=30, tags={"team": "security"})
ROUTING_ARGS = dict(
    topic_name="it-incidents", emails=["a@example.com", "b@example.com"], tags={"team": "security"},
    rules=[{"name": "it-gd", "event_pattern": {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
                                               "detail": {"severity": [{"numeric": [">=", 7]}]}}},
           {"name": "it-alarms", "description": "alarms",
            "event_pattern": json.dumps({"source": ["aws.cloudwatch"],
                                         "detail-type": ["CloudWatch Alarm State Change"],
                                         "detail": {"state": {"value": ["ALARM"]}}})}])


@pytest.fixture(autouse=True)
def action_group_lists_our_modules():
    """Without it, module_defaults (group/seed.aws_migration.aws) give these modules no endpoint or credentials."""
    runtime = (REPO_ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8")
    missing = [m for m in ("trail_bucket", "incident_routing") if f"    - {m}\n" not in runtime]
    assert not missing, f"meta/runtime.yml: add {missing} to action_groups.aws"


def client(aws, service):
    return boto3_client(service, aws.endpoint_url)


def actions(result):
    return [(t["_task"], t["actions"]) for t in result.task_results() if t.get("actions")]


def check_bucket(aws, bucket, trail, algorithm="AES256"):
    s3 = client(aws, "s3")
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == algorithm
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{trail}"
    acl, write, deny = statements["AWSCloudTrailAclCheck"], statements["AWSCloudTrailWrite"], \
        statements["DenyInsecureTransport"]
    assert acl["Principal"] == write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert (acl["Action"], write["Action"]) == ("s3:GetBucketAcl", "s3:PutObject")
    assert acl["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    assert write["Resource"] == f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*"
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert [s for s in policy["Statement"] if s["Effect"] == "Allow"] == [acl, write]


def rule_pattern(aws, name):
    return json.loads(client(aws, "events").describe_rule(Name=name)["EventPattern"])


def leftovers(aws):
    """Every security resource in the account."""
    s3 = client(aws, "s3")
    events = client(aws, "events")
    return {
        "trails": [t["Name"] for t in client(aws, "cloudtrail").describe_trails()["trailList"]],
        "rules": [r["Name"] for r in events.list_rules()["Rules"]],
        "topics": [t["TopicArn"] for t in client(aws, "sns").list_topics()["Topics"]],
        "subscriptions": [s["Endpoint"] for s in client(aws, "sns").list_subscriptions()["Subscriptions"]],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]],
        "detectors": client(aws, "guardduty").list_detectors()["DetectorIds"],
    }


# ---------------------------------------------------------------- trail_bucket


def test_trail_bucket_lifecycle(clean_aws, ansible):
    applied = converge(ansible, clean_aws, BUCKET_ARGS, "trail_bucket")
    assert applied["actions"] == [
        "create bucket it-trail-bucket", "set public access block of bucket it-trail-bucket",
        "set default encryption of bucket it-trail-bucket to AES256", "set policy of bucket it-trail-bucket",
        "set lifecycle of bucket it-trail-bucket: expire log files after 30 days",
        "set tags seed:component, seed:managed-by, team of bucket it-trail-bucket"]
    check_bucket(clean_aws, "it-trail-bucket", "it-trail")
    s3 = client(clean_aws, "s3")
    assert s3.get_bucket_lifecycle_configuration(Bucket="it-trail-bucket")["Rules"][0]["Expiration"] == {"Days": 30}
    assert applied["bucket"]["trail_arn"] == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/it-trail"

    # Drift is corrected: a policy and a public access block changed behind the module's back.
    s3.put_public_access_block(Bucket="it-trail-bucket", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.delete_bucket_policy(Bucket="it-trail-bucket")
    fixed = converge(ansible, clean_aws, BUCKET_ARGS, "trail_bucket")
    assert fixed["actions"] == ["set public access block of bucket it-trail-bucket",
                                "set policy of bucket it-trail-bucket"]

    # SSE-KMS with a key, another trail, no lifecycle.
    kms = dict(BUCKET_ARGS, kms_key_id="alias/audit", trail_name="other-trail", expiration_days=0)
    changed = converge(ansible, clean_aws, kms, "trail_bucket")
    assert changed["actions"] == ["set default encryption of bucket it-trail-bucket to aws:kms",
                                  "set policy of bucket it-trail-bucket", "delete lifecycle of bucket it-trail-bucket"]
    check_bucket(clean_aws, "it-trail-bucket", "other-trail", algorithm="aws:kms")

    # Audit logs are data: a bucket with objects goes only with purge_objects.
    s3.put_object(Bucket="it-trail-bucket", Key=f"AWSLogs/{ACCOUNT}/log.json.gz", Body=b"{}")
    clean_aws.reset_counts()
    refused = ansible.module("trail_bucket", {"name": "it-trail-bucket", "state": "absent"})
    assert refused.get("failed") and refused["msg"].startswith("purge_objects:"), refused
    assert clean_aws.requests()["writes"] == 0
    gone = converge(ansible, clean_aws, {"name": "it-trail-bucket", "state": "absent", "purge_objects": True},
                    "trail_bucket")
    assert gone["actions"] == ["delete 1 object version(s) from bucket it-trail-bucket",
                               "delete bucket it-trail-bucket"]
    assert s3.list_buckets()["Buckets"] == []


# ---------------------------------------------------------------- incident_routing


def test_incident_routing_lifecycle(clean_aws, ansible):
    applied = converge(ansible, clean_aws, ROUTING_ARGS, "incident_routing")
    assert applied["actions"] == [
        "create topic it-incidents", "subscribe a@example.com to topic it-incidents",
        "subscribe b@example.com to topic it-incidents", "create rule it-gd",
        "set target of rule it-gd to topic it-incidents", "create rule it-alarms",
        "set target of rule it-alarms to topic it-incidents"]
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:it-incidents"
    routing = applied["routing"]
    assert routing["topic"]["arn"] == topic_arn
    assert set(routing["rules"]) == {"it-gd", "it-alarms"}
    assert rule_pattern(clean_aws, "it-gd")["detail"] == {"severity": [{"numeric": [">=", 7]}]}
    events = client(clean_aws, "events")
    assert events.list_targets_by_rule(Rule="it-gd")["Targets"] == [{"Id": "seed-incident-topic", "Arn": topic_arn}]
    sns = client(clean_aws, "sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    publish = [s for s in policy["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert publish == [{"Sid": "EventBridgeRules", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sns:Publish", "Resource": topic_arn, "Condition": {"ArnEquals": {"aws:SourceArn": [
                            f"arn:aws:events:us-east-1:{ACCOUNT}:rule/it-alarms",
                            f"arn:aws:events:us-east-1:{ACCOUNT}:rule/it-gd"]}}}]
    assert sorted(s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]) == [
        "a@example.com", "b@example.com"]

    # Severity, subscriptions, rule state and a stray target change; the alarm rule goes.
    events.put_targets(Rule="it-gd", Targets=[{"Id": "stray", "Arn": topic_arn}])
    rules = [dict(ROUTING_ARGS["rules"][0], event_pattern={
        "source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", 4]}]}}, enabled=False),
        {"name": "it-alarms", "state": "absent"}]
    changed = converge(ansible, clean_aws, dict(ROUTING_ARGS, emails=["a@example.com"], rules=rules),
                       "incident_routing")
    assert changed["actions"] == [
        "set policy of topic it-incidents", "unsubscribe b@example.com from topic it-incidents",
        "update rule it-gd: enabled, event_pattern", "remove targets stray from rule it-gd",
        "remove targets of rule it-alarms", "delete rule it-alarms"]
    assert rule_pattern(clean_aws, "it-gd")["detail"] == {"severity": [{"numeric": [">=", 4]}]}
    assert events.describe_rule(Name="it-gd")["State"] == "DISABLED"
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["it-gd"]

    gone = converge(ansible, clean_aws, dict(topic_name="it-incidents", state="absent", rules=[{"name": "it-gd"}]),
                    "incident_routing")
    assert gone["actions"] == ["remove targets of rule it-gd", "delete rule it-gd", "delete topic it-incidents"]
    assert events.list_rules()["Rules"] == [] and sns.list_topics()["Topics"] == []


@pytest.mark.parametrize("module, args, field", [
    ("incident_routing", dict(ROUTING_ARGS, emails=["ops@example.com", "not-an-address"]), "emails[1]"),
    ("incident_routing", dict(ROUTING_ARGS, rules=[{"name": "no pattern"}]), "rules[0].name"),
    ("incident_routing", dict(ROUTING_ARGS, rules=[{"name": "x"}]), "rules[0].event_pattern"),
    ("incident_routing", dict(ROUTING_ARGS, rules=[{"name": "x", "event_pattern": "{oops"}]),
     "rules[0].event_pattern"),
    ("incident_routing", dict(ROUTING_ARGS, topic_name="bad.name"), "topic_name"),
    ("trail_bucket", dict(BUCKET_ARGS, name="Bad_Bucket"), "name"),
    ("trail_bucket", dict(BUCKET_ARGS, trail_name=None), "trail_name"),
    ("trail_bucket", dict(BUCKET_ARGS, expiration_days=-1), "expiration_days"),
])
def test_bad_module_input_fails_before_any_request(clean_aws, ansible, module, args, field):
    clean_aws.reset_counts()
    result = ansible.module(module, {k: v for k, v in args.items() if v is not None})
    assert result.get("failed"), result
    assert result["msg"].startswith(f"{field}: "), result["msg"]
    assert clean_aws.requests()["total"] == 0, clean_aws.requests()["by_action"]


# ---------------------------------------------------------------- the role


def test_role_check_apply_reapply(clean_aws, ansible):
    check = ansible.playbook(PLAYBOOK, check=True)
    assert not check.failed, check.stderr[-3000:]
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]

    applied = ansible.playbook(PLAYBOOK)
    assert not applied.failed, applied.stderr[-3000:]
    # Our modules predict exactly (amazon.aws.cloudtrail reports no actions).
    assert actions(applied) == actions(check)
    assert applied.changed == check.changed == 4

    clean_aws.reset_counts()
    again = ansible.playbook(PLAYBOOK)
    assert not again.failed and again.changed == 0, actions(again)
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]

    # What is there, read directly.
    check_bucket(clean_aws, BUCKET, TRAIL)
    trail = client(clean_aws, "cloudtrail").describe_trails(trailNameList=[TRAIL])["trailList"][0]
    assert trail["S3BucketName"] == BUCKET
    assert trail["LogFileValidationEnabled"] and trail["IsMultiRegionTrail"] and trail["IncludeGlobalServiceEvents"]
    assert client(clean_aws, "cloudtrail").get_trail_status(Name=TRAIL)["IsLogging"]
    # MEDIUM in inventories/local is severity 4; alarms of the environment only.
    assert rule_pattern(clean_aws, GD_RULE) == {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
                                                "detail": {"severity": [{"numeric": [">=", 4]}]}}
    assert rule_pattern(clean_aws, ALARM_RULE) == {
        "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"state": {"value": ["ALARM"]}, "alarmName": [{"prefix": "local-"}]}}
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:{TOPIC}"
    subscriptions = client(clean_aws, "sns").list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "security-oncall@example.com")]
    detectors = client(clean_aws, "guardduty").list_detectors()["DetectorIds"]
    assert len(detectors) == 1

    facts = {k: v for t in applied.task_results() for k, v in t.get("ansible_facts", {}).items()}
    assert facts["security_outputs"] == {
        "trail_arn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{TRAIL}", "trail_bucket": BUCKET,
        "topic_arn": topic_arn,
        "rule_arns": {"guardduty": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{GD_RULE}",
                      "alarms": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{ALARM_RULE}"},
        "detector_id": detectors[0]}

    # A change of severity in check mode is predicted and made exactly.
    clean_aws.reset_counts()
    critical = ansible.playbook(PLAYBOOK, check=True, extra_vars={"security_incident_min_severity": "critical"})
    assert clean_aws.requests()["writes"] == 0
    made = ansible.playbook(PLAYBOOK, extra_vars={"security_incident_min_severity": "critical"})
    assert actions(made) == actions(critical) == [
        ("seed.aws_migration.security : Keep the incident routing (topic, e-mail subscriptions, EventBridge rules)",
         [f"update rule {GD_RULE}: description, event_pattern"])]
    assert rule_pattern(clean_aws, GD_RULE)["detail"] == {"severity": [{"numeric": [">=", 9]}]}
    fractional = ansible.playbook(PLAYBOOK, extra_vars={"security_incident_min_severity": 5.5})
    assert not fractional.failed, fractional.stderr[-3000:]
    assert rule_pattern(clean_aws, GD_RULE)["detail"] == {"severity": [{"numeric": [">=", 5.5]}]}


@pytest.mark.parametrize("severity", ["SEVERE", 0, 11, "", "-3", True])
def test_role_bad_severity_fails_before_any_request(clean_aws, ansible, severity):
    result = ansible.playbook(PLAYBOOK, extra_vars={"security_incident_min_severity": severity})
    assert result.failed
    messages = [str(t.get("msg")) for t in result.task_results() if t.get("failed")]
    assert messages and messages[0].startswith("security_incident_min_severity: "), messages
    assert clean_aws.requests()["total"] == 0, clean_aws.requests()["by_action"]


def test_role_bad_email_fails_before_any_request(clean_aws, ansible):
    result = ansible.playbook(PLAYBOOK, extra_vars={"security_incident_emails": ["ops@example.com", "ops.example"]})
    assert result.failed
    messages = [str(t.get("msg")) for t in result.task_results() if t.get("failed")]
    assert messages == ['security_incident_emails: ["ops.example"] are not e-mail addresses'], messages
    assert clean_aws.requests()["total"] == 0, clean_aws.requests()["by_action"]


def test_role_absent_keeps_the_audit_logs_unless_told(clean_aws, ansible):
    assert not ansible.playbook(PLAYBOOK).failed
    absent = {"security_state": "absent"}
    clean_aws.reset_counts()
    check = ansible.playbook(PLAYBOOK, check=True, extra_vars=absent)
    assert not check.failed, check.stderr[-3000:]
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    removed = ansible.playbook(PLAYBOOK, extra_vars=absent)
    assert not removed.failed, removed.stderr[-3000:]
    assert actions(removed) == actions(check)
    left = leftovers(clean_aws)
    assert (left["trails"], left["rules"], left["topics"], left["subscriptions"]) == ([], [], [], [])
    assert left["buckets"] == [BUCKET] and len(left["detectors"]) == 1  # audit logs and findings are data
    facts = {k: v for t in removed.task_results() for k, v in t.get("ansible_facts", {}).items()}
    assert facts["security_outputs"] == {"trail_arn": "", "trail_bucket": "", "topic_arn": "", "rule_arns": {},
                                         "detector_id": ""}

    everything = dict(absent, security_delete_trail_bucket=True, security_guardduty_delete_on_absent=True)
    gone = ansible.playbook(PLAYBOOK, extra_vars=everything)
    assert not gone.failed, gone.stderr[-3000:]
    assert leftovers(clean_aws) == {"trails": [], "rules": [], "topics": [], "subscriptions": [], "buckets": [],
                                    "detectors": []}
    clean_aws.reset_counts()
    again = ansible.playbook(PLAYBOOK, extra_vars=everything)
    assert not again.failed and again.changed == 0, actions(again)
    assert clean_aws.requests()["writes"] == 0
