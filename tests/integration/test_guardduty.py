"""guardduty_detector, guardduty_tickets and playbooks/incident_tickets.yml against the local AWS over HTTP.

moto has no GuardDuty findings API (ListFindings, GetFindings, CreateSampleFindings): the ticket tests give the
findings to the module (the shape guardduty_findings_info returns), and the ledger lives in the local AWS's S3.
The path that reads findings from GuardDuty is tested with recorded responses in
tests/unit/plugins/modules/test_guardduty_tickets.py. The webhook is a real local HTTP receiver.
"""

from __future__ import annotations

import json

import pytest
from support.converge import converge
from support.servers import boto3_client
from support.webhook_receiver import WebhookReceiver

ALL_ON = {"s3_data_events": True, "runtime_monitoring": True, "ecs_fargate_agent_management": True,
          "malware_protection": True}
BUCKET = "it-security-state"
KEY = "guardduty/tickets-ledger.json"


def finding(n: int, severity: float, title: str = "") -> dict:
    return {"id": f"f{n:031d}", "type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": severity,
            "title": title or f"finding {n}", "description": "brute force", "region": "us-east-1",
            "account": "123456789012", "count": 1, "resource": {"type": "Instance", "instance_id": f"i-{n:017x}"},
            "created_at": "2026-11-21T10:00:00Z", "updated_at": "2026-11-21T10:00:00Z", "archived": False}


FINDINGS = [finding(1, 8.0), finding(2, 5.0), finding(3, 9.5), finding(4, 2.0)]


@pytest.fixture
def receiver():
    with WebhookReceiver() as hook:
        yield hook


def ledger(aws) -> dict:
    s3 = boto3_client("s3", aws.endpoint_url)
    return json.loads(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())["findings"]


def tickets_args(receiver, **extra):
    return dict({"findings": FINDINGS, "webhook_url": receiver.url, "allow_insecure_http": True,
                 "webhook_headers": {"Authorization": "Bearer it-secret"}, "min_severity": "MEDIUM",
                 "ledger_bucket": BUCKET}, **extra)


# -- detector ----------------------------------------------------------------------------------------
def test_detector_lifecycle(clean_aws, ansible):
    args = {"finding_publishing_frequency": "SIX_HOURS", "tags": {"team": "security"},
            "features": {"s3_data_events": True, "runtime_monitoring": False, "ecs_fargate_agent_management": False,
                         "malware_protection": True}}
    created = converge(ansible, clean_aws, args, "guardduty_detector")
    assert created["actions"] == ["create detector (finding_publishing_frequency=SIX_HOURS, s3_data_events=true, "
                                  "runtime_monitoring=false, ecs_fargate_agent_management=false, "
                                  "malware_protection=true)"]
    assert created["writes_by_action"] == {"guardduty:POST /detector": 1}  # CreateDetector (REST)
    detector_id = created["detector"]["id"]
    gd = boto3_client("guardduty", clean_aws.endpoint_url)
    described = gd.get_detector(DetectorId=detector_id)
    assert described["Status"] == "ENABLED" and described["Tags"]["team"] == "security"
    assert {f["Name"]: f["Status"] for f in described["Features"]}["S3_DATA_EVENTS"] == "ENABLED"

    # Frequency and runtime monitoring for Fargate: one UpdateDetector, the diff shows both.
    changed = dict(args, finding_publishing_frequency="FIFTEEN_MINUTES", features=ALL_ON)
    updated = converge(ansible, clean_aws, changed, "guardduty_detector")
    assert updated["actions"] == [f"update detector {detector_id}: finding_publishing_frequency=FIFTEEN_MINUTES, "
                                  "runtime_monitoring=true, ecs_fargate_agent_management=true"]
    assert updated["writes_by_action"] == {f"guardduty:POST /detector/{detector_id}": 1}  # UpdateDetector
    assert updated["diff"]["before"]["finding_publishing_frequency"] == "SIX_HOURS"
    assert updated["diff"]["after"]["finding_publishing_frequency"] == "FIFTEEN_MINUTES"
    assert updated["diff"]["before"]["features"]["ecs_fargate_agent_management"] is False
    assert updated["diff"]["after"]["features"] == ALL_ON
    features = {f["Name"]: f for f in gd.get_detector(DetectorId=detector_id)["Features"]}
    assert features["RUNTIME_MONITORING"]["AdditionalConfiguration"] == [
        {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"}]

    # A feature not given is left alone (UpdateDetector names only the given ones).
    partial = dict(changed, features={"malware_protection": False})
    narrowed = converge(ansible, clean_aws, partial, "guardduty_detector")
    assert narrowed["detector"]["features"] == dict(ALL_ON, malware_protection=False)

    # Tags of the existing detector: one tag set, one removed (TagResource/UntagResource by the detector's ARN;
    # the local AWS has them through tools/moto_fidelity_guardduty.py).
    retagged = converge(ansible, clean_aws, dict(partial, tags={"owner": "platform"}), "guardduty_detector")
    assert retagged["actions"] == [f"set tags owner on detector {detector_id}",
                                   f"remove tags team from detector {detector_id}"]
    arn = f"arn:aws:guardduty:us-east-1:123456789012:detector/{detector_id}"
    assert set(retagged["writes_by_action"]) == {f"guardduty:POST /tags/{arn}", f"guardduty:DELETE /tags/{arn}"}, (
        retagged["writes_by_action"])
    tags = gd.get_detector(DetectorId=detector_id)["Tags"]
    assert tags["owner"] == "platform" and "team" not in tags and tags["seed:managed-by"] == "seed.aws_migration"

    # Deleting loses every finding: refused without force_absent, nothing deleted.
    clean_aws.reset_counts()
    refused = ansible.module("guardduty_detector", {"state": "absent"})
    assert refused.get("failed") and refused["msg"].startswith("force_absent:")
    assert clean_aws.requests()["writes"] == 0
    gone = converge(ansible, clean_aws, {"state": "absent", "force_absent": True}, "guardduty_detector")
    assert gone["actions"] == [f"delete detector {detector_id}"]
    assert gd.list_detectors()["DetectorIds"] == []


def test_detector_bad_input_creates_nothing(clean_aws, ansible):
    clean_aws.reset_counts()
    result = ansible.module("guardduty_detector", {"features": {"ecs_fargate_agent_management": True}})
    assert result.get("failed") and result["msg"].startswith("features.ecs_fargate_agent_management:")
    result = ansible.module("guardduty_detector", {"features": {"runtime_monitoring": False,
                                                                "ecs_fargate_agent_management": True}})
    assert result.get("failed") and result["msg"].startswith("features.ecs_fargate_agent_management:")
    result = ansible.module("guardduty_detector", {"finding_publishing_frequency": "DAILY"})
    assert result.get("failed") and "finding_publishing_frequency" in result["msg"]
    assert clean_aws.requests()["total"] == 0


# -- tickets -----------------------------------------------------------------------------------------
def test_tickets_filed_once_then_never_again(clean_aws, ansible, receiver):
    boto3_client("s3", clean_aws.endpoint_url).create_bucket(Bucket=BUCKET)
    args = tickets_args(receiver)

    clean_aws.reset_counts()
    check = ansible.module("guardduty_tickets", args, check=True)
    assert not check.get("failed"), check.get("msg")
    assert receiver.requests == [] and clean_aws.requests()["writes"] == 0
    assert [f["id"] for f in check["filed"]] == [FINDINGS[0]["id"], FINDINGS[1]["id"], FINDINGS[2]["id"]]

    clean_aws.reset_counts()
    first = ansible.module("guardduty_tickets", args)
    assert not first.get("failed"), first.get("msg")
    assert first["actions"] == check["actions"] and first["changed"] is True
    assert len(first["actions"]) == 5  # claim, 3 posts, record
    assert clean_aws.requests()["writes_by_action"] == {f"s3:PUT /{BUCKET}/{KEY}": 2}  # claim, record
    filed = {f["id"]: f for f in first["filed"]}
    assert sorted(filed) == sorted(f["id"] for f in FINDINGS if f["severity"] >= 4)  # LOW one left out
    assert all(f["status"] == 201 and f["response"]["ticket"].startswith("T-") for f in filed.values())
    assert len(receiver.requests) == 3
    for request in receiver.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers["idempotency-key"] == request["json"]["finding"]["id"]
        assert headers["authorization"] == "Bearer it-secret"
        assert request["json"]["title"].startswith("[GuardDuty ")
    assert {k: v["state"] for k, v in ledger(clean_aws).items()} == {k: "filed" for k in filed}
    assert "it-secret" not in json.dumps(first)

    clean_aws.reset_counts()
    second = ansible.module("guardduty_tickets", args)
    assert second["changed"] is False and second["filed"] == [] and second["actions"] == []
    assert sorted(second["skipped_already_filed"]) == sorted(filed)
    assert len(receiver.requests) == 3 and clean_aws.requests()["writes"] == 0

    # A finding that grew is reported, not filed again.
    grown = [dict(FINDINGS[0], count=7)] + FINDINGS[1:]
    third = ansible.module("guardduty_tickets", dict(args, findings=grown))
    assert third["changed"] is False and third["updated_since_filed"] == [FINDINGS[0]["id"]]
    assert len(receiver.requests) == 3


def test_tickets_receiver_error_fails_after_recording_successes(clean_aws, ansible, receiver):
    boto3_client("s3", clean_aws.endpoint_url).create_bucket(Bucket=BUCKET)
    receiver.fail_keys[FINDINGS[2]["id"]] = 503
    template = {"summary": "GuardDuty {severity_label}: {title}", "score": "{severity}", "key": "{id}",
                "host": "{resource.instance_id}"}
    args = tickets_args(receiver, ticket_template=template)
    result = ansible.module("guardduty_tickets", args)
    assert result.get("failed")
    assert result["failed_tickets"] == [{"id": FINDINGS[2]["id"], "status": 503,
                                         "error": {"error": "receiver told to answer 503"}}]
    assert sorted(f["id"] for f in result["filed"]) == sorted([FINDINGS[0]["id"], FINDINGS[1]["id"]])
    assert "1 of 3 ticket(s) not filed" in result["msg"]
    entries = ledger(clean_aws)
    assert sorted(entries) == sorted([FINDINGS[0]["id"], FINDINGS[1]["id"]])  # the failed claim was released
    body = next(r["json"] for r in receiver.requests if r["json"]["key"] == FINDINGS[0]["id"])
    assert body == {"summary": "GuardDuty HIGH: finding 1", "score": 8.0, "key": FINDINGS[0]["id"],
                    "host": FINDINGS[0]["resource"]["instance_id"]}

    # The receiver is back: the next run files only the one that failed.
    receiver.fail_keys.clear()
    again = ansible.module("guardduty_tickets", args)
    assert not again.get("failed"), again.get("msg")
    assert [f["id"] for f in again["filed"]] == [FINDINGS[2]["id"]]
    assert len(again["skipped_already_filed"]) == 2 and len(ledger(clean_aws)) == 3


def test_tickets_claimed_by_another_run_are_not_posted(clean_aws, ansible, receiver):
    """A run that overlaps one in progress (its unexpired claims in the ledger) leaves those findings to it."""
    import time

    s3 = boto3_client("s3", clean_aws.endpoint_url)
    s3.create_bucket(Bucket=BUCKET)
    claim = {"state": "claimed", "run": "other", "expires": time.time() + 600}
    stale = {"state": "claimed", "run": "dead", "expires": time.time() - 1}
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(
        {"version": 1, "findings": {FINDINGS[0]["id"]: claim, FINDINGS[1]["id"]: stale}}).encode())
    result = ansible.module("guardduty_tickets", tickets_args(receiver))
    assert not result.get("failed"), result.get("msg")
    assert result["skipped_in_progress"] == [FINDINGS[0]["id"]]
    assert sorted(f["id"] for f in result["filed"]) == sorted([FINDINGS[1]["id"], FINDINGS[2]["id"]])
    assert ledger(clean_aws)[FINDINGS[0]["id"]]["run"] == "other"


@pytest.mark.parametrize("extra, field", [
    ({"allow_insecure_http": False}, "webhook_url:"),
    ({"min_severity": "SEVERE"}, "min_severity:"),
    ({"min_severity": 11}, "min_severity:"),
    ({"ticket_template": {"t": "{hostname}"}}, "ticket_template:"),
    ({"findings": [{"id": "x", "severity": "bad"}]}, "findings[0].severity:"),
])
def test_tickets_bad_input_touches_nothing(clean_aws, ansible, receiver, extra, field):
    clean_aws.reset_counts()
    result = ansible.module("guardduty_tickets", tickets_args(receiver, **extra))
    assert result.get("failed") and result["msg"].startswith(field), result["msg"]
    assert clean_aws.requests()["total"] == 0 and receiver.requests == []


# -- the playbook ------------------------------------------------------------------------------------
def test_incident_tickets_playbook(clean_aws, ansible, receiver):
    boto3_client("s3", clean_aws.endpoint_url).create_bucket(Bucket=BUCKET)
    extra = {"incident_tickets_webhook_url": receiver.url, "incident_tickets_allow_insecure_http": True,
             "incident_tickets_min_severity": "HIGH", "incident_tickets_ledger_bucket": BUCKET,
             "incident_tickets_findings": FINDINGS}
    run = ansible.playbook("playbooks/incident_tickets.yml", extra_vars=extra)
    assert not run.failed, run.stderr[-3000:]
    tasks = run.task_results()
    assert sorted(f["id"] for f in tasks[0]["filed"]) == sorted([FINDINGS[0]["id"], FINDINGS[2]["id"]])
    assert "Filed 2 ticket(s)" in tasks[1]["msg"]
    again = ansible.playbook("playbooks/incident_tickets.yml", extra_vars=extra)
    assert not again.failed and again.changed == 0
    assert len(receiver.requests) == 2

    # http:// without the local-test switch: refused before any request to AWS or the receiver.
    clean_aws.reset_counts()
    refused = ansible.playbook("playbooks/incident_tickets.yml",
                               extra_vars=dict(extra, incident_tickets_allow_insecure_http=False))
    assert refused.failed
    assert refused.task_results()[0]["msg"].startswith("webhook_url:")
    assert clean_aws.requests()["total"] == 0 and len(receiver.requests) == 2
