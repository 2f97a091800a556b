# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""acm_certificate: validation (the field is named, nothing is called), the matching rules of a reusable
certificate, the idempotency token, and main() against recorded responses.

Recorded responses (botocore Stubber, labelled RECORDED below): the shapes real ACM answers with where the local
AWS (moto 5.2.5) differs: DescribeCertificate right after RequestCertificate without ``ResourceRecord`` (ACM
publishes the validation records a few seconds later; moto has them at once), a certificate that ends FAILED with
a ``FailureReason`` (moto never fails a request), and one that is in use (``InUseBy``; moto's ELBv2 does not set
it). They follow the ACM API reference's response syntax with the account and ids replaced; the Stubber checks
every response against botocore's service model and every request against the expected parameters, and fails on
any call not listed.
"""

import datetime

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import acm
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.modules import acm_certificate

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f3a8e1c-7b2d-4f6a-9e5c-1b3d7f2a4c6e"
ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/seed-public/50dc6c495c0c9188"
ZONE = "Z0123456789ABCDEFGHIJ"
NOW = datetime.datetime.now(datetime.timezone.utc)
RECORD = {"Name": "_3639ac514e785e898d2646601fa951d5.example.com.", "Type": "CNAME",
          "Value": "_98d2646601fa951d53639ac514e785e8.zfyfvmchrl.acm-validations.aws."}


def params(**kwargs):
    base = dict(domain_name="example.com", subject_alternative_names=[], validation_zone_id=None,
                validation_zone_name=None, state="present", certificate_arn=None, wait=True, wait_timeout=60,
                tags=None, purge_tags=True)
    base.update(kwargs)
    return base


# --- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, field", [
    (dict(domain_name="exa mple.com"), "domain_name"),
    (dict(domain_name="-bad.example.com"), "domain_name"),
    (dict(domain_name="example"), "domain_name"),
    (dict(domain_name="a.*.example.com"), "domain_name"),
    (dict(subject_alternative_names=["ok.example.com", "x" * 64 + ".example.com"]), "subject_alternative_names[1]"),
    (dict(subject_alternative_names=[f"h{i}.example.com" for i in range(100)]), "subject_alternative_names"),
    (dict(validation_zone_id=ZONE, validation_zone_name="example.com"), "validation_zone_id"),
    (dict(validation_zone_id="not a zone"), "validation_zone_id"),
    (dict(validation_zone_name="other.org"), "validation_zone_name"),
    (dict(certificate_arn=ARN), "certificate_arn"),
    (dict(identity=""), "identity"),
    (dict(identity=" local "), "identity"),
    (dict(identity="x" * 257), "identity"),
])
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        acm_certificate.validate(params(**kwargs))
    assert e.value.field == field and str(e.value).startswith(field + ": ")


def test_names_are_normalised_and_deduplicated():
    domain, names, zone = acm_certificate.validate(params(
        domain_name="Example.COM.", subject_alternative_names=["*.example.com", "example.com", "API.example.com"],
        validation_zone_name="example.com"))
    assert (domain, names, zone) == ("example.com", ["example.com", "*.example.com", "api.example.com"], "example.com")


def test_idempotency_token_is_the_same_for_the_same_names_in_any_order():
    token = acm.idempotency_token(["a.example.com", "example.com"])
    assert token == acm.idempotency_token(["example.com", "a.example.com"])
    assert token != acm.idempotency_token(["example.com"]) and len(token) == 32 and token.isalnum()


def described(**kwargs):
    base = {"CertificateArn": ARN, "DomainName": "example.com", "SubjectAlternativeNames": ["example.com"],
            "Type": "AMAZON_ISSUED", "Status": "ISSUED", "NotAfter": NOW + datetime.timedelta(days=300),
            "InUseBy": [], "DomainValidationOptions": [{"DomainName": "example.com", "ValidationMethod": "DNS",
                                                        "ValidationStatus": "SUCCESS", "ResourceRecord": RECORD}]}
    base.update(kwargs)
    return base


@pytest.mark.parametrize("kwargs, ok", [
    ({}, True),
    (dict(Status="PENDING_VALIDATION"), True),
    (dict(Status="FAILED"), False),
    (dict(Type="IMPORTED"), False),
    (dict(NotAfter=NOW - datetime.timedelta(days=1)), False),
    (dict(SubjectAlternativeNames=["example.com", "www.example.com"]), False),
])
def test_reusable(kwargs, ok):
    assert acm.reusable(described(**kwargs), "example.com", ["example.com"]) is ok


# --- main() against recorded responses -----------------------------------------------------------
@pytest.fixture
def stubs(monkeypatch):
    session = botocore.session.get_session()
    clients = {name: session.create_client(name, region_name="us-east-1", aws_access_key_id="testing",
                                           aws_secret_access_key="testing") for name in ("acm", "route53")}
    stubbers = {name: Stubber(client) for name, client in clients.items()}
    monkeypatch.setattr(acm_certificate.SeedAWSModule, "seed_client", lambda self, service: clients[service])
    real_wait = acm_certificate.wait_for
    monkeypatch.setattr(acm_certificate, "wait_for", lambda *a, **k: real_wait(*a, **dict(k, sleep=lambda s: None)))
    for stubber in stubbers.values():
        stubber.activate()
    yield stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def test_recorded_request_waits_for_the_records_then_reports_the_failure_reason(monkeypatch, stubs):
    pending = {"DomainName": "example.com", "ValidationMethod": "DNS", "ValidationStatus": "PENDING_VALIDATION"}
    stubs["route53"].add_response("get_hosted_zone", {  # RECORDED
        "HostedZone": {"Id": f"/hostedzone/{ZONE}", "Name": "example.com.", "CallerReference": "r"},
        "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org"]}}, {"Id": ZONE})
    stubs["acm"].add_response("list_certificates", {"CertificateSummaryList": []},
                              {"CertificateStatuses": ["PENDING_VALIDATION", "ISSUED"]})
    stubs["acm"].add_response("request_certificate", {"CertificateArn": ARN}, {
        "DomainName": "example.com", "ValidationMethod": "DNS",
        "IdempotencyToken": acm.idempotency_token(["example.com"]),
        "Tags": [{"Key": "seed:component", "Value": "acm-certificate"},
                 {"Key": "seed:managed-by", "Value": "seed.aws_migration"}]})
    # RECORDED: right after the request, no ResourceRecord yet.
    stubs["acm"].add_response("describe_certificate", {"Certificate": described(
        Status="PENDING_VALIDATION", DomainValidationOptions=[pending])}, {"CertificateArn": ARN})
    stubs["acm"].add_response("describe_certificate", {"Certificate": described(  # RECORDED
        Status="PENDING_VALIDATION", DomainValidationOptions=[dict(pending, ResourceRecord=RECORD)])},
        {"CertificateArn": ARN})
    stubs["route53"].add_response("change_resource_record_sets", {"ChangeInfo": {
        "Id": "/change/C1", "Status": "PENDING", "SubmittedAt": NOW}}, {
        "HostedZoneId": ZONE, "ChangeBatch": {"Comment": "ACM DNS validation of example.com", "Changes": [
            {"Action": "UPSERT", "ResourceRecordSet": {"Name": RECORD["Name"], "Type": "CNAME", "TTL": 300,
                                                       "ResourceRecords": [{"Value": RECORD["Value"]}]}}]}})
    # RECORDED: a CAA record of the domain forbids Amazon.
    stubs["acm"].add_response("describe_certificate", {"Certificate": described(
        Status="FAILED", FailureReason="CAA_ERROR",
        DomainValidationOptions=[dict(pending, ValidationStatus="FAILED", ResourceRecord=RECORD)])},
        {"CertificateArn": ARN})
    result = run_module(monkeypatch, acm_certificate, dict(domain_name="example.com", validation_zone_id=ZONE),
                        check_mode=False)
    assert result.get("failed")
    assert result["msg"].startswith(f"certificate {ARN} for example.com is FAILED: CAA_ERROR"), result["msg"]
    assert f"CNAME {RECORD['Name']} -> {RECORD['Value']}" in result["msg"]


def test_recorded_certificate_in_use_is_not_deleted(monkeypatch, stubs):
    stubs["acm"].add_response("list_certificates", {"CertificateSummaryList": [  # RECORDED
        {"CertificateArn": ARN, "DomainName": "example.com", "Status": "ISSUED", "Type": "AMAZON_ISSUED",
         "InUse": True}]}, {"CertificateStatuses": list(acm.ALL_STATUSES)})
    stubs["acm"].add_response("describe_certificate", {"Certificate": described(InUseBy=[ALB])},  # RECORDED
                              {"CertificateArn": ARN})
    result = run_module(monkeypatch, acm_certificate, dict(domain_name="example.com", state="absent"),
                        check_mode=False)
    assert result.get("failed")
    assert result["msg"] == (f"domain_name: certificate for example.com is in use, nothing was deleted: {ARN} is "
                             f"used by {ALB}. Remove it from these resources first")


def test_check_mode_predicts_the_request_and_the_records_without_writing(monkeypatch, stubs):
    stubs["route53"].add_response("list_hosted_zones_by_name", {
        "HostedZones": [{"Id": f"/hostedzone/{ZONE}", "Name": "example.com.", "CallerReference": "r",
                         "Config": {"PrivateZone": False}}],
        "IsTruncated": False, "MaxItems": "100"}, {"DNSName": "example.com.", "MaxItems": "100"})
    stubs["acm"].add_response("list_certificates", {"CertificateSummaryList": []},
                              {"CertificateStatuses": ["PENDING_VALIDATION", "ISSUED"]})
    result = run_module(monkeypatch, acm_certificate, dict(domain_name="example.com",
                                                           validation_zone_name="example.com"))
    assert result["actions"] == ["request certificate for example.com",
                                 "write the DNS validation records of example.com into zone example.com"]
    assert result["certificate"] == {} and result["diff"]["before"] == {}
