# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""guardduty_findings_info: severity parsing and validation, and the findings read - with recorded responses.

The local AWS (moto 5.2.5) has no GuardDuty findings API (ListFindings, GetFindings, CreateSampleFindings), so
the reads run against botocore Stubber responses recorded in the documented shapes of ListDetectors,
ListFindings and GetFindings (a sample finding of type UnauthorizedAccess:EC2/SSHBruteForce and one of
Execution:Runtime/NewBinaryExecuted on an ECS Fargate task, trimmed to the fields GuardDuty always returns
plus the resource details the module summarises).
"""

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.seed.aws_migration.plugins.module_utils import guardduty as gd
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.modules import guardduty_findings_info

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module

DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"
SSH = {
    "AccountId": "123456789012", "Arn": f"arn:aws:guardduty:us-east-1:123456789012:detector/{DETECTOR}/finding/f1",
    "CreatedAt": "2026-11-20T08:00:00.000Z", "UpdatedAt": "2026-11-21T09:30:00.000Z", "Id": "f1",
    "Region": "us-east-1", "SchemaVersion": "2.0", "Severity": 8.0, "Type": "UnauthorizedAccess:EC2/SSHBruteForce",
    "Title": "198.51.100.7 is performing SSH brute force attacks against i-0abc.",
    "Description": "198.51.100.7 is performing SSH brute force attacks against i-0abc.",
    "Resource": {"ResourceType": "Instance", "InstanceDetails": {"InstanceId": "i-0abc", "InstanceType": "t3.micro"}},
    "Service": {"Count": 14, "Archived": False, "ServiceName": "guardduty", "DetectorId": DETECTOR},
}
FARGATE = {
    "AccountId": "123456789012", "Arn": f"arn:aws:guardduty:us-east-1:123456789012:detector/{DETECTOR}/finding/f2",
    "CreatedAt": "2026-11-21T07:00:00.000Z", "UpdatedAt": "2026-11-21T07:00:00.000Z", "Id": "f2",
    "Region": "us-east-1", "SchemaVersion": "2.0", "Severity": 5.0, "Type": "Execution:Runtime/NewBinaryExecuted",
    "Title": "A newly created or recently modified binary file was executed in a container.",
    "Description": "A container in task backend ran a new binary.",
    "Resource": {"ResourceType": "ECSCluster",
                 "EcsClusterDetails": {"Name": "production", "TaskDetails": {
                     "Arn": "arn:aws:ecs:us-east-1:123456789012:task/production/9c2"}},
                 "ContainerDetails": {"Name": "backend", "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/seed/backend@sha256:ab"}},
    "Service": {"Count": 1, "Archived": False, "ServiceName": "guardduty", "DetectorId": DETECTOR},
}


@pytest.mark.parametrize("value, expected", [
    ("LOW", 1.0), ("medium", 4.0), ("HIGH", 7.0), ("Critical", 9.0), (7, 7.0), (0, 0.0), (10, 10.0),
    ("5.5", 5.5), (8.9, 8.9), (None, None),
])
def test_parse_severity(value, expected):
    assert gd.parse_severity("min_severity", value) == expected


@pytest.mark.parametrize("value", ["SEVERE", "", "high-ish", 11, -1, 10.5, True, [7], "nan"])
def test_unknown_severity_names_the_field(value):
    with pytest.raises(ValidationError) as e:
        gd.parse_severity("min_severity", value)
    assert e.value.message.startswith("min_severity: ")


@pytest.mark.parametrize("severity, label", [(1.0, "LOW"), (3.9, "LOW"), (4.0, "MEDIUM"), (6.9, "MEDIUM"),
                                             (7.0, "HIGH"), (8.9, "HIGH"), (9.0, "CRITICAL"), (10, "CRITICAL")])
def test_severity_label(severity, label):
    assert gd.severity_label(severity) == label


def test_criteria():
    assert gd.finding_criteria(7.0, False) == {"Criterion": {"severity": {"Gte": 7},
                                                             "service.archived": {"Eq": ["false"]}}}
    assert gd.finding_criteria(5.5, True) == {"Criterion": {"severity": {"Gte": 5.5}}}
    assert gd.finding_criteria(None, True) == {"Criterion": {}}


def stubbed_guardduty(monkeypatch):
    client = boto3.client("guardduty", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    monkeypatch.setattr(SeedAWSModule, "seed_client", lambda self, service: {"guardduty": client}[service])
    return stubber


def test_reads_the_region_detector_findings_recorded(monkeypatch):
    stubber = stubbed_guardduty(monkeypatch)
    criteria = {"Criterion": {"severity": {"Gte": 4}, "service.archived": {"Eq": ["false"]}}}
    stubber.add_response("list_detectors", {"DetectorIds": [DETECTOR]})
    stubber.add_response("list_findings", {"FindingIds": ["f1"], "NextToken": "t1"},
                         {"DetectorId": DETECTOR, "FindingCriteria": criteria, "SortCriteria": gd.SORT_BY_SEVERITY,
                          "MaxResults": 50})
    stubber.add_response("list_findings", {"FindingIds": ["f2"]},
                         {"DetectorId": DETECTOR, "FindingCriteria": criteria, "SortCriteria": gd.SORT_BY_SEVERITY,
                          "MaxResults": 50, "NextToken": "t1"})
    stubber.add_response("get_findings", {"Findings": [FARGATE, SSH]},
                         {"DetectorId": DETECTOR, "FindingIds": ["f1", "f2"], "SortCriteria": gd.SORT_BY_SEVERITY})
    with stubber:
        result = run_module(monkeypatch, guardduty_findings_info, {"min_severity": "MEDIUM"})
    stubber.assert_no_pending_responses()
    assert not result.get("failed"), result.get("msg")
    assert result["detector_id"] == DETECTOR
    assert [f["id"] for f in result["findings"]] == ["f1", "f2"]  # most severe first
    ssh, fargate = result["findings"]
    assert ssh["severity_label"] == "HIGH" and ssh["count"] == 14 and ssh["account"] == "123456789012"
    assert ssh["resource"] == {"type": "Instance", "instance_id": "i-0abc", "instance_type": "t3.micro"}
    assert fargate["resource"]["ecs_cluster"] == "production" and fargate["resource"]["container"] == "backend"
    assert fargate["severity_label"] == "MEDIUM" and fargate["archived"] is False


def test_max_findings_limits_the_reads_recorded(monkeypatch):
    stubber = stubbed_guardduty(monkeypatch)
    stubber.add_response("list_findings", {"FindingIds": ["f1"], "NextToken": "more"},
                         {"DetectorId": DETECTOR, "FindingCriteria": {"Criterion": {}},
                          "SortCriteria": gd.SORT_BY_SEVERITY, "MaxResults": 1})
    stubber.add_response("get_findings", {"Findings": [SSH]},
                         {"DetectorId": DETECTOR, "FindingIds": ["f1"], "SortCriteria": gd.SORT_BY_SEVERITY})
    with stubber:
        result = run_module(monkeypatch, guardduty_findings_info, {"detector_id": DETECTOR, "max_findings": 1,
                                                                   "include_archived": True})
    stubber.assert_no_pending_responses()
    assert [f["id"] for f in result["findings"]] == ["f1"]


def test_no_detector_no_findings_recorded(monkeypatch):
    stubber = stubbed_guardduty(monkeypatch)
    stubber.add_response("list_detectors", {"DetectorIds": []})
    with stubber:
        result = run_module(monkeypatch, guardduty_findings_info, {})
    assert result["detector_id"] is None and result["findings"] == []


@pytest.mark.parametrize("args, field", [({"min_severity": "SEVERE"}, "min_severity: "),
                                         ({"max_findings": 0}, "max_findings: ")])
def test_bad_input_fails_before_any_client(monkeypatch, args, field):
    monkeypatch.setattr(SeedAWSModule, "seed_client", lambda self, service: pytest.fail("no client expected"))
    result = run_module(monkeypatch, guardduty_findings_info, args)
    assert result["failed"] and result["msg"].startswith(field)
