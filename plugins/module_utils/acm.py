# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small function per ACM call our modules make, and the certificate matching rules."""

import datetime
import hashlib

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedErrorHandler as H
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry

REUSABLE_STATUSES = ("PENDING_VALIDATION", "ISSUED")
FAILED_STATUSES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")
ALL_STATUSES = REUSABLE_STATUSES + FAILED_STATUSES


def idempotency_token(names, salt=""):
    """RequestCertificate's IdempotencyToken (\\w{1,32}) for a set of names: two runs asking for the same
    names within the token's hour get one certificate."""
    return hashlib.sha256(("|".join(sorted(names)) + salt).encode("utf-8")).hexdigest()[:32]


def names_of(certificate):
    """All names of a described certificate (domain name and SANs), lower case."""
    names = {str(n).lower() for n in certificate.get("SubjectAlternativeNames") or []}
    names.add(str(certificate.get("DomainName", "")).lower())
    return names


def is_expired(certificate, now=None):
    not_after = certificate.get("NotAfter")
    if not not_after:
        return False
    if not isinstance(not_after, datetime.datetime):
        not_after = datetime.datetime.fromtimestamp(float(not_after), tz=datetime.timezone.utc)
    if not_after.tzinfo is None:
        not_after = not_after.replace(tzinfo=datetime.timezone.utc)
    return not_after <= (now or datetime.datetime.now(datetime.timezone.utc))


def reusable(certificate, domain, names):
    """Whether a described certificate can stand for the wanted one."""
    return (certificate.get("Type") == "AMAZON_ISSUED" and certificate.get("Status") in REUSABLE_STATUSES
            and str(certificate.get("DomainName", "")).lower() == domain and names_of(certificate) == set(names)
            and not is_expired(certificate))


def validation_records(certificate):
    """{name: value} of the DNS validation CNAMEs, and the domains whose record ACM has not published yet."""
    records, missing = {}, []
    for option in certificate.get("DomainValidationOptions") or []:
        if option.get("ValidationMethod", "DNS") != "DNS":
            continue
        record = option.get("ResourceRecord")
        if record:
            records[record["Name"].lower().rstrip(".") + "."] = record["Value"]
        else:
            missing.append(option["DomainName"])
    return records, missing


def pending_text(certificate):
    """The validation state of each name, for error messages."""
    parts = []
    for option in certificate.get("DomainValidationOptions") or []:
        record = option.get("ResourceRecord") or {}
        where = f" (CNAME {record['Name']} -> {record['Value']})" if record else ""
        parts.append(f"{option['DomainName']}: {option.get('ValidationStatus', 'unknown')}{where}")
    return "; ".join(parts) or "no validation options published"


@H.list_error_handler("list certificates", [])
@retry
def list_certificates(client, statuses=None):
    return paginate_all(client, "list_certificates", "CertificateSummaryList",
                        CertificateStatuses=list(statuses or REUSABLE_STATUSES))


@H.list_error_handler("describe certificate", None)
@retry
def describe_certificate(client, arn):
    return client.describe_certificate(CertificateArn=arn)["Certificate"]


@H.common_error_handler("request certificate")
@retry  # idempotent for one IdempotencyToken
def request_certificate(client, domain, sans, token, tags):
    params = {"DomainName": domain, "ValidationMethod": "DNS", "IdempotencyToken": token}
    if sans:
        params["SubjectAlternativeNames"] = list(sans)
    if tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    return client.request_certificate(**params)["CertificateArn"]


@H.list_error_handler("list certificate tags", {})
@retry
def list_tags(client, arn):
    return {t["Key"]: t.get("Value", "") for t in client.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])}


@H.common_error_handler("tag certificate")
@retry
def add_tags(client, arn, tags):
    client.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])


@H.common_error_handler("untag certificate")
@retry
def remove_tags(client, arn, keys):
    client.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": k} for k in keys])


@H.deletion_error_handler("delete certificate")
@retry
def delete_certificate(client, arn):
    client.delete_certificate(CertificateArn=arn)
    return True
