# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""guardduty_tickets: validation, templates, the ledger logic, and - with recorded responses - one module run that
reads its findings from GuardDuty.

The local AWS (moto 5.2.5) has no GuardDuty findings API, so the run that reads findings itself uses botocore
Stubber responses recorded in the documented shapes of ListDetectors, ListFindings and GetFindings, and S3
GetObject/PutObject answers as S3 gives them (ETag, 404 NoSuchKey, 412 PreconditionFailed for a conditional
write that lost a race). The webhook is replaced by a function that records the requests. The webhook and the
S3 ledger are tested for real (local HTTP receiver, the local AWS's S3) in tests/integration/test_guardduty.py.
"""

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY
from botocore.stub import Stubber

from ansible_collections.seed.aws_migration.plugins.module_utils import guardduty as gd
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.modules import guardduty_tickets
from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.test_guardduty_findings_info import DETECTOR
from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.test_guardduty_findings_info import FARGATE
from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.test_guardduty_findings_info import SSH

URL = "https://tickets.example.com/hooks/guardduty/T0KEN"
BASE = {"webhook_url": URL, "ledger_bucket": "sec-state", "min_severity": "HIGH"}
LEDGER = {"Bucket": "sec-state", "Key": "guardduty/tickets-ledger.json"}


# -- validation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("url, insecure, ok", [
    ("https://t.example.com/h", False, True), ("HTTPS://t.example.com", False, True),
    ("http://127.0.0.1:8080/h", True, True), ("http://t.example.com/h", False, False),
    ("ftp://t.example.com", True, False), ("t.example.com/h", False, False), ("", False, False),
])
def test_webhook_url(url, insecure, ok):
    if ok:
        gd.validate_webhook_url(url, insecure)
    else:
        with pytest.raises(ValidationError) as e:
            gd.validate_webhook_url(url, insecure)
        assert e.value.message.startswith("webhook_url: ")


@pytest.mark.parametrize("args, field", [
    ({"webhook_url": "http://tickets.example.com/h"}, "webhook_url: "),
    ({"min_severity": "SEVERE"}, "min_severity: "),
    ({"min_severity": 10.5}, "min_severity: "),
    ({"ticket_template": {"summary": "{titel}"}}, "ticket_template: "),
    ({"findings": [{"severity": 5}]}, "findings[0].id: "),
    ({"findings": [{"id": "a", "severity": 5}, {"id": "b", "severity": "urgent"}]}, "findings[1].severity: "),
    ({"timeout": 0}, "timeout: "),
    ({"ledger_key": "dir/"}, "ledger_key: "),
    ({"webhook_headers": {"X-Bad": "a\r\nInjected: 1"}}, "webhook_headers: "),
])
def test_bad_input_fails_before_any_request(monkeypatch, args, field):
    monkeypatch.setattr(SeedAWSModule, "seed_client", lambda self, service: pytest.fail("no client expected"))
    monkeypatch.setattr(guardduty_tickets, "open_url", lambda *a, **k: pytest.fail("no post expected"))
    result = run_module(monkeypatch, guardduty_tickets, dict(BASE, **args))
    assert result["failed"] and result["msg"].startswith(field), result["msg"]


def test_template_rendering():
    finding = gd.finding_facts(SSH)
    template = {"summary": "GuardDuty {severity_label}: {title}", "score": "{severity}",
                "labels": ["guardduty", "{type}"], "host": "{resource.instance_id}", "none": "{resource.bucket}x"}
    gd.validate_template(template)
    assert gd.render_template(template, finding) == {
        "summary": f"GuardDuty HIGH: {SSH['Title']}", "score": 8.0,
        "labels": ["guardduty", "UnauthorizedAccess:EC2/SSHBruteForce"], "host": "i-0abc", "none": "x"}
    assert gd.default_payload(finding)["title"] == f"[GuardDuty HIGH 8] {SSH['Title']}"


def test_ledger_split():
    ledger = {"findings": {"a": {"state": "filed"}, "b": {"state": "claimed", "expires": 200},
                           "c": {"state": "claimed", "expires": 50}}}
    assert gd.ledger_split(ledger, ["a", "b", "c", "d"], now=100) == (["c", "d"], ["a"], ["b"])


@pytest.mark.parametrize("body", ["[]", "not json", '{"findings": []}'])
def test_foreign_ledger_object_is_refused(body):
    with pytest.raises(ValidationError) as e:
        gd.parse_ledger(body, "s3://b/k")
    assert e.value.message.startswith("ledger_key: ")


# -- a run that reads its findings (recorded) --------------------------------------------------------
class FakeResponse:
    def __init__(self, status, body):
        self.status, self.body = status, body

    def getcode(self):
        return self.status

    def read(self, _limit=None):
        return json.dumps(self.body).encode()


def _body(document):
    data = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(data), len(data))


def stubbed(monkeypatch):
    def client(service):
        return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    clients = {"guardduty": client("guardduty"), "s3": client("s3")}
    monkeypatch.setattr(SeedAWSModule, "seed_client", lambda self, service: clients[service])
    posts = []

    def open_url(url, data=None, headers=None, method=None, **kwargs):
        posts.append({"url": url, "json": json.loads(data), "headers": headers, "method": method})
        return FakeResponse(201, {"ticket": f"SEC-{len(posts)}"})

    monkeypatch.setattr(guardduty_tickets, "open_url", open_url)
    return Stubber(clients["guardduty"]), Stubber(clients["s3"]), posts


def add_findings_reads(guardduty):
    criteria = {"Criterion": {"severity": {"Gte": 7}, "service.archived": {"Eq": ["false"]}}}
    guardduty.add_response("list_detectors", {"DetectorIds": [DETECTOR]})
    guardduty.add_response("list_findings", {"FindingIds": ["f1"]},
                           {"DetectorId": DETECTOR, "FindingCriteria": criteria, "SortCriteria": gd.SORT_BY_SEVERITY,
                            "MaxResults": 50})
    guardduty.add_response("get_findings", {"Findings": [SSH]},
                           {"DetectorId": DETECTOR, "FindingIds": ["f1"], "SortCriteria": gd.SORT_BY_SEVERITY})


def test_reads_findings_files_and_records_recorded(monkeypatch):
    guardduty, s3, posts = stubbed(monkeypatch)
    add_findings_reads(guardduty)
    s3.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404,
                        expected_params=LEDGER)
    s3.add_response("put_object", {"ETag": '"e1"'}, dict(LEDGER, Body=ANY, ContentType="application/json",
                                                         IfNoneMatch="*"))
    claimed = {"version": 1, "findings": {"f1": {"state": "claimed", "run": "r", "expires": 1e12}}}
    s3.add_response("get_object", {"Body": _body(claimed), "ETag": '"e1"'}, LEDGER)
    s3.add_response("put_object", {"ETag": '"e2"'}, dict(LEDGER, Body=ANY, ContentType="application/json",
                                                         IfMatch='"e1"'))
    monkeypatch.setattr(guardduty_tickets.uuid, "uuid4", lambda: "r")
    with guardduty, s3:
        result = run_module(monkeypatch, guardduty_tickets, dict(BASE, webhook_headers={"Authorization": "Bearer t"}),
                            check_mode=False)
    guardduty.assert_no_pending_responses()
    s3.assert_no_pending_responses()
    assert not result.get("failed"), result.get("msg")
    assert result["detector_id"] == DETECTOR
    assert result["actions"] == ["claim 1 finding(s) in the ledger",
                                 f"post ticket for finding f1 (HIGH 8: {SSH['Title']})",
                                 "record 1 posted finding(s) in the ledger"]
    assert result["filed"] == [{"id": "f1", "title": SSH["Title"], "severity": 8.0, "severity_label": "HIGH",
                                "status": 201, "response": {"ticket": "SEC-1"}}]
    assert posts[0]["url"] == URL and posts[0]["method"] == "POST"
    assert posts[0]["headers"]["Idempotency-Key"] == "f1" and posts[0]["headers"]["Authorization"] == "Bearer t"
    assert posts[0]["json"]["finding"]["resource"]["instance_id"] == "i-0abc"


def test_check_mode_posts_nothing_and_writes_nothing_recorded(monkeypatch):
    guardduty, s3, posts = stubbed(monkeypatch)
    add_findings_reads(guardduty)
    s3.add_response("get_object", {"Body": _body({"version": 1, "findings": {}}), "ETag": '"e1"'}, LEDGER)
    with guardduty, s3:
        result = run_module(monkeypatch, guardduty_tickets, BASE, check_mode=True)
    s3.assert_no_pending_responses()
    assert posts == [] and result["changed"] is True and len(result["actions"]) == 3
    assert [f["id"] for f in result["filed"]] == ["f1"] and result["filed"][0]["status"] is None


def test_lost_race_reads_the_ledger_again_recorded(monkeypatch):
    """Another run claimed f1 between our read and our conditional write: S3 answers 412, we read again and
    leave f1 to that run."""
    guardduty, s3, posts = stubbed(monkeypatch)
    add_findings_reads(guardduty)
    s3.add_response("get_object", {"Body": _body({"version": 1, "findings": {}}), "ETag": '"e1"'}, LEDGER)
    s3.add_client_error("put_object", service_error_code="PreconditionFailed", http_status_code=412)
    other = {"version": 1, "findings": {"f1": {"state": "claimed", "run": "other", "expires": 1e12}}}
    s3.add_response("get_object", {"Body": _body(other), "ETag": '"e2"'}, LEDGER)
    with guardduty, s3:
        result = run_module(monkeypatch, guardduty_tickets, BASE, check_mode=False)
    s3.assert_no_pending_responses()
    assert not result.get("failed"), result.get("msg")
    assert posts == [] and result["skipped_in_progress"] == ["f1"] and result["changed"] is False


def test_given_findings_are_filtered_by_min_severity(monkeypatch):
    guardduty, s3, posts = stubbed(monkeypatch)
    findings = [gd.finding_facts(SSH), gd.finding_facts(FARGATE)]  # HIGH 8, MEDIUM 5
    filed = {"version": 1, "findings": {"f1": {"state": "filed", "severity": 8.0, "count": 14}}}
    s3.add_response("get_object", {"Body": _body(filed), "ETag": '"e1"'}, LEDGER)
    with s3:
        result = run_module(monkeypatch, guardduty_tickets, dict(BASE, findings=findings), check_mode=False)
    assert result["changed"] is False and posts == []
    assert result["skipped_already_filed"] == ["f1"] and result["detector_id"] is None


def test_missing_ledger_bucket_names_the_option_recorded(monkeypatch):
    guardduty, s3, posts = stubbed(monkeypatch)
    s3.add_client_error("get_object", service_error_code="NoSuchBucket", http_status_code=404)
    with s3:
        result = run_module(monkeypatch, guardduty_tickets, dict(BASE, findings=[gd.finding_facts(SSH)]),
                            check_mode=False)
    assert result["failed"] and result["msg"].startswith("ledger_bucket: ") and posts == []
