# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""guardduty_detector: the feature mapping and validation, and - with recorded responses - the paths the local AWS
cannot serve.

moto 5.2.5 has no GuardDuty TagResource/UntagResource, so re-tagging an existing detector runs against botocore
Stubber responses recorded in the documented shapes of ListDetectors, GetDetector (with the full Features list
AWS returns, including features the module does not manage), sts:GetCallerIdentity, TagResource and
UntagResource. A region without EBS malware protection answers UpdateDetector with a BadRequestException,
recorded with the message GuardDuty gives.
"""

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.seed.aws_migration.plugins.module_utils import guardduty as gd
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.modules import guardduty_detector
from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module

DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"
ARN = f"arn:aws:guardduty:us-east-1:123456789012:detector/{DETECTOR}"
AWS_FEATURES = [  # what GetDetector returns: every feature, also those nobody configured
    {"Name": "CLOUD_TRAIL", "Status": "ENABLED"}, {"Name": "DNS_LOGS", "Status": "ENABLED"},
    {"Name": "FLOW_LOGS", "Status": "ENABLED"}, {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
    {"Name": "EKS_AUDIT_LOGS", "Status": "DISABLED"}, {"Name": "EBS_MALWARE_PROTECTION", "Status": "DISABLED"},
    {"Name": "RDS_LOGIN_EVENTS", "Status": "DISABLED"}, {"Name": "LAMBDA_NETWORK_LOGS", "Status": "DISABLED"},
    {"Name": "RUNTIME_MONITORING", "Status": "ENABLED", "AdditionalConfiguration": [
        {"Name": "EKS_ADDON_MANAGEMENT", "Status": "DISABLED"},
        {"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "ENABLED"},
        {"Name": "EC2_AGENT_MANAGEMENT", "Status": "DISABLED"}]},
]
DETECTOR_RESPONSE = {
    "CreatedAt": "2026-01-05T10:00:00.000Z", "UpdatedAt": "2026-11-01T10:00:00.000Z", "Status": "ENABLED",
    "FindingPublishingFrequency": "SIX_HOURS",
    "ServiceRole": "arn:aws:iam::123456789012:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
    "Features": AWS_FEATURES,
    "Tags": {"team": "platform", "old": "x", "seed:managed-by": "seed.aws_migration", "seed:component": "guardduty-detector"},
}


def test_features_view_reads_only_managed_features():
    assert gd.features_view(AWS_FEATURES) == {"s3_data_events": True, "runtime_monitoring": True,
                                              "malware_protection": False, "ecs_fargate_agent_management": True}
    assert gd.features_view([]) == dict.fromkeys(gd.FEATURE_OPTIONS, False)


def test_features_to_api_sends_only_given_features():
    assert gd.features_to_api({"s3_data_events": True, "runtime_monitoring": True,
                               "ecs_fargate_agent_management": False, "malware_protection": None}) == [
        {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
        {"Name": "RUNTIME_MONITORING", "Status": "ENABLED",
         "AdditionalConfiguration": [{"Name": "ECS_FARGATE_AGENT_MANAGEMENT", "Status": "DISABLED"}]}]
    assert gd.features_to_api(None) == []


@pytest.mark.parametrize("features", [{"ecs_fargate_agent_management": True},
                                      {"ecs_fargate_agent_management": False},
                                      {"runtime_monitoring": False, "ecs_fargate_agent_management": True}])
def test_fargate_agent_needs_runtime_monitoring(features):
    with pytest.raises(ValidationError) as e:
        gd.validate_features(features)
    assert e.value.message.startswith("features.ecs_fargate_agent_management: ")


def test_detector_arn_partitions():
    assert gd.detector_arn("us-east-1", "1", "d") == "arn:aws:guardduty:us-east-1:1:detector/d"
    assert gd.detector_arn("cn-north-1", "1", "d").startswith("arn:aws-cn:")
    assert gd.detector_arn("us-gov-west-1", "1", "d").startswith("arn:aws-us-gov:")


def stubbed(monkeypatch):
    def client(service):
        return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    clients = {"guardduty": client("guardduty"), "sts": client("sts")}
    monkeypatch.setattr(SeedAWSModule, "seed_client", lambda self, service: clients[service])
    return Stubber(clients["guardduty"]), Stubber(clients["sts"])


@pytest.mark.parametrize("check_mode", [True, False])
def test_retag_existing_detector_recorded(monkeypatch, check_mode):
    guardduty, sts = stubbed(monkeypatch)
    guardduty.add_response("list_detectors", {"DetectorIds": [DETECTOR]})
    guardduty.add_response("get_detector", DETECTOR_RESPONSE, {"DetectorId": DETECTOR})
    sts.add_response("get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root",
                                             "UserId": "x"})
    if not check_mode:
        guardduty.add_response("tag_resource", {}, {"ResourceArn": ARN, "Tags": {"team": "security"}})
        guardduty.add_response("untag_resource", {}, {"ResourceArn": ARN, "TagKeys": ["old"]})
    args = {"features": {"s3_data_events": True, "runtime_monitoring": True, "ecs_fargate_agent_management": True},
            "tags": {"team": "security"}}
    with guardduty, sts:
        result = run_module(monkeypatch, guardduty_detector, args, check_mode=check_mode)
    guardduty.assert_no_pending_responses()
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == [f"set tags team on detector {DETECTOR}", f"remove tags old from detector {DETECTOR}"]
    assert result["diff"]["after"]["tags"] == {"team": "security", "seed:managed-by": "seed.aws_migration",
                                               "seed:component": "guardduty-detector"}
    assert result["diff"]["before"]["features"] == result["diff"]["after"]["features"]


def test_already_converged_reads_two_and_writes_nothing_recorded(monkeypatch):
    guardduty, _sts = stubbed(monkeypatch)
    guardduty.add_response("list_detectors", {"DetectorIds": [DETECTOR]})
    guardduty.add_response("get_detector", DETECTOR_RESPONSE, {"DetectorId": DETECTOR})
    args = {"features": {"s3_data_events": True, "runtime_monitoring": True, "ecs_fargate_agent_management": True,
                         "malware_protection": False}, "tags": {"team": "platform", "old": "x"}}
    with guardduty:
        result = run_module(monkeypatch, guardduty_detector, args, check_mode=False)
    guardduty.assert_no_pending_responses()
    assert result["changed"] is False and result["actions"] == []
    assert result["detector"]["id"] == DETECTOR


def test_suspended_detector_is_enabled_in_the_same_update_recorded(monkeypatch):
    guardduty, _sts = stubbed(monkeypatch)
    guardduty.add_response("list_detectors", {"DetectorIds": [DETECTOR]})
    guardduty.add_response("get_detector", dict(DETECTOR_RESPONSE, Status="DISABLED"), {"DetectorId": DETECTOR})
    guardduty.add_response("update_detector", {}, {"DetectorId": DETECTOR, "Enable": True,
                                                   "FindingPublishingFrequency": "ONE_HOUR"})
    args = {"finding_publishing_frequency": "ONE_HOUR", "tags": {"team": "platform", "old": "x"}}
    with guardduty:
        result = run_module(monkeypatch, guardduty_detector, args, check_mode=False)
    guardduty.assert_no_pending_responses()
    assert result["actions"] == [f"update detector {DETECTOR}: enable, finding_publishing_frequency=ONE_HOUR"]


def test_malware_protection_not_offered_in_region_recorded(monkeypatch):
    guardduty, _sts = stubbed(monkeypatch)
    guardduty.add_response("list_detectors", {"DetectorIds": [DETECTOR]})
    guardduty.add_response("get_detector", DETECTOR_RESPONSE, {"DetectorId": DETECTOR})
    guardduty.add_client_error(
        "update_detector", service_error_code="BadRequestException", http_status_code=400,
        service_message="The request is rejected because the feature EBS_MALWARE_PROTECTION is not supported in "
                        "this region.")
    args = {"features": {"malware_protection": True}, "tags": {"team": "platform", "old": "x"}}
    with guardduty:
        result = run_module(monkeypatch, guardduty_detector, args, check_mode=False)
    assert result["failed"] and "EBS_MALWARE_PROTECTION is not supported" in result["msg"]


def test_absent_without_force_deletes_nothing_recorded(monkeypatch):
    guardduty, _sts = stubbed(monkeypatch)
    guardduty.add_response("list_detectors", {"DetectorIds": [DETECTOR]})
    guardduty.add_response("get_detector", DETECTOR_RESPONSE, {"DetectorId": DETECTOR})
    with guardduty:
        result = run_module(monkeypatch, guardduty_detector, {"state": "absent"}, check_mode=False)
    guardduty.assert_no_pending_responses()  # and no DeleteDetector was stubbed: none was made
    assert result["failed"] and result["msg"].startswith("force_absent: ")
