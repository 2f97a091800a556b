"""acm_certificate against the local AWS over HTTP (ACM and Route 53 of moto, with tools/moto_fidelity_acm.py:
a requested certificate is issued once its DNS validation records are in a Route 53 zone)."""

from __future__ import annotations

from support.converge import converge
from support.servers import boto3_client


def _zone(route53, name="certs.example.com"):
    return route53.create_hosted_zone(Name=name, CallerReference=f"it-{name}")["HostedZone"]["Id"].split("/")[-1]


def _validation_cnames(route53, zone_id):
    return sorted(r["Name"] for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
                  if r["Type"] == "CNAME")


def test_request_validate_reuse_and_delete(clean_aws, ansible):
    route53, acm = boto3_client("route53", clean_aws.endpoint_url), boto3_client("acm", clean_aws.endpoint_url)
    zone_id = _zone(route53)
    args = {"domain_name": "certs.example.com", "subject_alternative_names": ["app.certs.example.com"],
            "validation_zone_name": "certs.example.com", "wait_timeout": 60, "tags": {"team": "platform"}}
    applied = converge(ansible, clean_aws, args, "acm_certificate")
    assert applied["actions"] == ["request certificate for certs.example.com (SANs app.certs.example.com)",
                                  "write the DNS validation records of certs.example.com into zone certs.example.com"]
    cert = applied["certificate"]
    assert cert["status"] == "ISSUED" and len(cert["validation_records"]) == 2
    assert _validation_cnames(route53, zone_id) == sorted(r["name"] for r in cert["validation_records"])
    assert applied["diff"]["after"] == {"domain_name": "certs.example.com", "validation_zone": "certs.example.com",
                                        "subject_alternative_names": ["app.certs.example.com", "certs.example.com"]}

    # The same names in another order (and by zone ID): the certificate is reused, nothing written.
    clean_aws.reset_counts()
    again = ansible.module("acm_certificate", dict(args, subject_alternative_names=["APP.certs.example.com"],
                                                   validation_zone_name=None, validation_zone_id=zone_id), diff=True)
    assert again["changed"] is False and again["certificate"]["arn"] == cert["arn"], again
    assert clean_aws.requests()["writes"] == 0
    assert len(acm.list_certificates()["CertificateSummaryList"]) == 1

    gone = converge(ansible, clean_aws, dict(args, state="absent"), "acm_certificate")
    assert gone["actions"] == [f"delete certificate {cert['arn']}",
                               "delete the DNS validation records of certs.example.com from zone certs.example.com"]
    assert acm.list_certificates()["CertificateSummaryList"] == [] and _validation_cnames(route53, zone_id) == []


def test_existing_certificate_is_reused(clean_aws, ansible):
    route53, acm = boto3_client("route53", clean_aws.endpoint_url), boto3_client("acm", clean_aws.endpoint_url)
    zone_id = _zone(route53)
    arn = acm.request_certificate(DomainName="certs.example.com", ValidationMethod="DNS")["CertificateArn"]
    applied = converge(ansible, clean_aws, {"domain_name": "certs.example.com", "validation_zone_id": zone_id},
                       "acm_certificate")
    assert applied["actions"] == ["write the DNS validation records of certs.example.com into zone certs.example.com"]
    assert applied["certificate"]["arn"] == arn and applied["certificate"]["status"] == "ISSUED"
    assert [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]] == [arn]


def test_wait_timeout_names_status_and_pending_records(clean_aws, ansible):
    """No validation zone and nobody writes the records: the wait ends with the last status and the records."""
    result = ansible.module("acm_certificate", {"domain_name": "pending.example.com", "wait_timeout": 3})
    assert result.get("failed")
    assert "Timed out after 3s waiting for certificate" in result["msg"]
    assert "PENDING_VALIDATION" in result["msg"] and "CNAME _" in result["msg"] and "pending.example.com." in result[
        "msg"], result["msg"]


def test_bad_input_creates_nothing(clean_aws, ansible):
    clean_aws.reset_counts()
    result = ansible.module("acm_certificate", {"domain_name": "bad_domain!"})
    assert result.get("failed") and result["msg"].startswith("domain_name:"), result["msg"]
    result = ansible.module("acm_certificate", {"domain_name": "example.com", "subject_alternative_names": ["a..b"]})
    assert result.get("failed") and result["msg"].startswith("subject_alternative_names[0]:"), result["msg"]
    result = ansible.module("acm_certificate", {"domain_name": "example.com", "validation_zone_name": "other.org"})
    assert result.get("failed") and result["msg"].startswith("validation_zone_name:"), result["msg"]
    assert clean_aws.requests()["total"] == 0

    # A validation zone that does not exist: one read, nothing requested.
    result = ansible.module("acm_certificate", {"domain_name": "example.com", "validation_zone_name": "example.com"})
    assert result.get("failed") and result["msg"].startswith("validation_zone_name: no public hosted zone"), result
    counts = clean_aws.requests()
    assert counts["writes"] == 0 and counts["total"] == 1
