# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small function per Route 53 call our modules make, and the record/health-check helpers.

Health checks are identified by their ``CallerReference``: ``seed-<zone hash>-<name hash>-<random>-<name>``
(never by endpoint: two checks of one endpoint with different paths are two checks). The random
part is drawn once per module run, so a retried create (CreateHealthCheck is idempotent for one
CallerReference and one configuration) returns the check the lost attempt made, and a check
created after a delete gets a reference AWS has not seen (AWS refuses a reused one).
"""

import hashlib
import re
import uuid

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedErrorHandler as H
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry_throttling

# Hosted zone of S3 website endpoints per region, for alias records (AWS General Reference,
# "Amazon S3 website endpoints"). The endpoint host uses "s3-website-<region>" in the older regions
# and "s3-website.<region>" in the newer ones.
S3_WEBSITE_ZONES = {
    "us-east-1": ("Z3AQBSTGFYJSTF", "-"), "us-east-2": ("Z2O1EMRO9K5GLX", "."),
    "us-west-1": ("Z2F56UZL2M1ACD", "-"), "us-west-2": ("Z3BJ6K6RIION7M", "-"),
    "ca-central-1": ("Z1QDHH18159H29", "."), "eu-west-1": ("Z1BKCTXD74EZPE", "-"),
    "eu-west-2": ("Z3GKZC51ZF0DB4", "."), "eu-west-3": ("Z3R1K369G5AVDG", "."),
    "eu-central-1": ("Z21DNDUVLTQW6Q", "."), "eu-north-1": ("Z3BAZG2TWCNX0D", "."),
    "eu-south-1": ("Z30OZKI7KPW7MI", "."), "ap-northeast-1": ("Z2M4EHUR26P7ZW", "-"),
    "ap-northeast-2": ("Z3W03O7B5YMIYP", "."), "ap-southeast-1": ("Z3O0J2DXBE1FTB", "-"),
    "ap-southeast-2": ("Z1WCIGYICN2BYD", "-"), "ap-south-1": ("Z11RGJOFQNVJUP", "."),
    "sa-east-1": ("Z7KQH4QJS55SO", "-"),
}

RECORD_TYPES = ("A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "TXT")
HEALTH_CHECK_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
DOMAIN_RE = re.compile(rf"^(\*\.)?({_LABEL}\.)+[a-z]{{2,63}}\.?$")
ZONE_ID_RE = re.compile(r"^(/hostedzone/)?[A-Z0-9]{1,32}$")


def s3_website_endpoint(bucket, region):
    """(dns_name, hosted_zone_id) of the website endpoint of ``bucket`` in ``region``."""
    if region not in S3_WEBSITE_ZONES:
        raise ValidationError("region", f"no S3 website hosted zone known for region {region!r}")
    zone_id, sep = S3_WEBSITE_ZONES[region]
    return f"{bucket}.s3-website{sep}{region}.amazonaws.com", zone_id


# -- names ---------------------------------------------------------------------------------------
def check_domain(field, name, wildcard=True):
    """Lower-cased ``name`` without the trailing dot; ValidationError naming ``field`` when invalid."""
    text = str(name or "").strip().lower()
    if len(text.rstrip(".")) > 253 or not DOMAIN_RE.match(text) or (not wildcard and text.startswith("*.")):
        raise ValidationError(field, f"{name!r} is not a valid domain name (labels of 1-63 letters, digits, '-' "
                                     f"or '_', not starting or ending with '-', a top-level domain of letters"
                                     f"{', an optional leading *.' if wildcard else ''}; at most 253 characters)")
    return text.rstrip(".")


def fqdn(name):
    """``name`` the way Route 53 returns it: lower case, trailing dot, ``*`` as ``\\052``."""
    text = str(name).lower().rstrip(".") + "."
    return text.replace("\\052", "*").replace("*", "\\052")


def display(name):
    return str(name).replace("\\052", "*").rstrip(".")


def short_id(zone_id):
    return str(zone_id).rsplit("/", maxsplit=1)[-1]


# -- health check identity ------------------------------------------------------------------------
def _digest(text, size=10):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:size]


def zone_reference_prefix(zone_name):
    return f"seed-{_digest(zone_name.rstrip('.').lower())}-"


def health_check_reference_prefix(zone_name, name):
    return f"{zone_reference_prefix(zone_name)}{_digest(name)}-"


def new_health_check_reference(zone_name, name):
    """At most 64 characters: the identity prefix, a random part, and the (start of the) name for humans."""
    return f"{health_check_reference_prefix(zone_name, name)}{uuid.uuid4().hex[:12]}-{name[:24]}"


def name_in_reference(reference):
    """The (start of the) name a reference made by ``new_health_check_reference`` carries."""
    parts = str(reference).split("-", 4)
    return parts[4] if len(parts) == 5 else None


# -- hosted zones ---------------------------------------------------------------------------------
@H.list_error_handler("find hosted zones", [])
@retry
def find_zones(client, name):
    """Hosted zones named exactly ``name`` (public and private)."""
    wanted = fqdn(name)
    response = client.list_hosted_zones_by_name(DNSName=wanted, MaxItems="100")
    return [z for z in response.get("HostedZones", []) if z["Name"].lower() == wanted]


@H.common_error_handler("describe hosted zone")
@retry
def get_zone(client, zone_id):
    return client.get_hosted_zone(Id=zone_id)


@H.common_error_handler("create hosted zone")
@retry_throttling
def create_zone(client, name, reference, comment, private, vpc):
    params = {"Name": name, "CallerReference": reference, "HostedZoneConfig": {"PrivateZone": bool(private)}}
    if comment is not None:
        params["HostedZoneConfig"]["Comment"] = comment
    if vpc:
        params["VPC"] = {"VPCRegion": vpc["region"], "VPCId": vpc["id"]}
    return client.create_hosted_zone(**params)


@H.common_error_handler("update hosted zone comment")
@retry
def update_zone_comment(client, zone_id, comment):
    client.update_hosted_zone_comment(Id=zone_id, Comment=comment)


@H.deletion_error_handler("delete hosted zone")
@retry
def delete_zone(client, zone_id):
    client.delete_hosted_zone(Id=zone_id)
    return True


@H.list_error_handler("list tags", {})
@retry
def list_tags(client, resource_type, resource_id):
    tags = client.list_tags_for_resource(ResourceType=resource_type, ResourceId=short_id(resource_id))
    return {t["Key"]: t["Value"] for t in tags.get("ResourceTagSet", {}).get("Tags", [])}


@H.common_error_handler("change tags")
@retry
def change_tags(client, resource_type, resource_id, to_set=None, to_unset=None):
    params = {"ResourceType": resource_type, "ResourceId": short_id(resource_id)}
    if to_set:
        params["AddTags"] = [{"Key": k, "Value": v} for k, v in sorted(to_set.items())]
    if to_unset:
        params["RemoveTagKeys"] = list(to_unset)
    client.change_tags_for_resource(**params)


# -- record sets ----------------------------------------------------------------------------------
@H.list_error_handler("list record sets", [])
@retry
def list_records(client, zone_id):
    return paginate_all(client, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=zone_id)


@H.common_error_handler("change record sets")
@retry
def change_records(client, zone_id, changes, comment=None):
    batch = {"Changes": changes}
    if comment:
        batch["Comment"] = comment
    return client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch=batch)["ChangeInfo"]


@H.common_error_handler("get change")
@retry
def get_change(client, change_id):
    return client.get_change(Id=change_id)["ChangeInfo"]


def record_key(record):
    """Identity of a record set: (name, type, set identifier)."""
    return (fqdn(record["Name"]), record["Type"], record.get("SetIdentifier") or "")


def key_text(key):
    name, rtype, ident = key
    return f"{display(name)} {rtype}" + (f" [{ident}]" if ident else "")


# -- health checks --------------------------------------------------------------------------------
@H.list_error_handler("list health checks", [])
@retry
def list_health_checks(client):
    return paginate_all(client, "list_health_checks", "HealthChecks")


@H.common_error_handler("create health check")
@retry  # idempotent for one CallerReference and one configuration
def create_health_check(client, reference, config):
    return client.create_health_check(CallerReference=reference, HealthCheckConfig=config)["HealthCheck"]


@H.common_error_handler("update health check")
@retry
def update_health_check(client, check_id, version, changes):
    return client.update_health_check(HealthCheckId=check_id, HealthCheckVersion=version, **changes)["HealthCheck"]


@H.common_error_handler("delete health check")
@retry
def delete_health_check(client, check_id):
    try:
        client.delete_health_check(HealthCheckId=check_id)
    except is_boto3_error_code("NoSuchHealthCheck"):
        pass  # a lost response to an earlier attempt
