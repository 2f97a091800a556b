# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GuardDuty for the guardduty_* modules: severity parsing, the detector's feature view, findings facts,
the tickets ledger on S3, and one small function per GuardDuty / S3 / STS call."""

import datetime
import json
import math
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry

# ---------------------------------------------------------------------------------------------
# Severity
# ---------------------------------------------------------------------------------------------
# GuardDuty's documented bands: LOW 1.0-3.9, MEDIUM 4.0-6.9, HIGH 7.0-8.9, CRITICAL 9.0-10.0.
SEVERITY_LEVELS = {"LOW": 1.0, "MEDIUM": 4.0, "HIGH": 7.0, "CRITICAL": 9.0}


def parse_severity(field, value):
    """A severity given as a number (0-10, also as text) or a level name; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(field, f"{value!r} is not a severity; give a number 0-10 or one of "
                                     f"{', '.join(SEVERITY_LEVELS)}")
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in SEVERITY_LEVELS:
            return SEVERITY_LEVELS[text.upper()]
        try:
            value = float(text)
        except ValueError:
            raise ValidationError(field, f"unknown severity {value!r}; give a number 0-10 or one of "
                                         f"{', '.join(SEVERITY_LEVELS)}") from None
    if not isinstance(value, (int, float)) or math.isnan(value) or not 0 <= value <= 10:
        raise ValidationError(field, f"{value!r} is not a severity; give a number 0-10 or one of "
                                     f"{', '.join(SEVERITY_LEVELS)}")
    return float(value)


def severity_label(severity):
    """The level name of a numeric severity."""
    severity = float(severity or 0)
    if severity >= SEVERITY_LEVELS["CRITICAL"]:
        return "CRITICAL"
    if severity >= SEVERITY_LEVELS["HIGH"]:
        return "HIGH"
    if severity >= SEVERITY_LEVELS["MEDIUM"]:
        return "MEDIUM"
    return "LOW"


# ---------------------------------------------------------------------------------------------
# Detector features
# ---------------------------------------------------------------------------------------------
FREQUENCIES = ["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"]
# option -> API feature name
FEATURES = {"s3_data_events": "S3_DATA_EVENTS", "runtime_monitoring": "RUNTIME_MONITORING",
            "malware_protection": "EBS_MALWARE_PROTECTION"}
# option -> (API feature, API additional configuration)
ADDITIONAL = {"ecs_fargate_agent_management": ("RUNTIME_MONITORING", "ECS_FARGATE_AGENT_MANAGEMENT")}
FEATURE_OPTIONS = list(FEATURES) + list(ADDITIONAL)


def validate_features(features):
    features = features or {}
    fargate, runtime = features.get("ecs_fargate_agent_management"), features.get("runtime_monitoring")
    if fargate is not None and runtime is None:
        raise ValidationError("features.ecs_fargate_agent_management",
                              "is an option of runtime monitoring; set features.runtime_monitoring too")
    if fargate and not runtime:
        raise ValidationError("features.ecs_fargate_agent_management",
                              "true needs features.runtime_monitoring=true (the agent is part of runtime monitoring)")


def features_view(api_features):
    """{option: bool} of every managed feature, from GetDetector's ``Features`` (absent = not enabled)."""
    by_name = {f.get("Name"): f for f in api_features or []}
    view = {}
    for option, name in FEATURES.items():
        view[option] = (by_name.get(name) or {}).get("Status") == "ENABLED"
    for option, (name, additional) in ADDITIONAL.items():
        configs = {c.get("Name"): c for c in (by_name.get(name) or {}).get("AdditionalConfiguration") or []}
        view[option] = (configs.get(additional) or {}).get("Status") == "ENABLED"
    return view


def desired_features_view(wanted, current_view):
    """The feature view after converging: given options win, others keep their current value (on a new
    detector, GuardDuty's default for the account and region: shown as null)."""
    view = dict(current_view or {option: None for option in FEATURE_OPTIONS})
    for option, value in (wanted or {}).items():
        if value is not None:
            view[option] = bool(value)
    return view


def _status(value):
    return "ENABLED" if value else "DISABLED"


def features_to_api(wanted):
    """``Features`` for CreateDetector/UpdateDetector: only the features whose options are given."""
    wanted = wanted or {}
    api = []
    for option, name in FEATURES.items():
        if wanted.get(option) is None:
            continue
        feature = {"Name": name, "Status": _status(wanted[option])}
        extra = [{"Name": additional, "Status": _status(wanted[extra_option])}
                 for extra_option, (parent, additional) in ADDITIONAL.items()
                 if parent == name and wanted.get(extra_option) is not None]
        if extra:
            feature["AdditionalConfiguration"] = extra
        api.append(feature)
    return api


def detector_arn(region, account, detector_id):
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:guardduty:{region}:{account}:detector/{detector_id}"


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------
def _first(items):
    return (items or [None])[0] or {}


def resource_summary(resource):
    """The affected resource in a few identifying fields (the full Resource object is large)."""
    resource = resource or {}
    summary = {"type": resource.get("ResourceType")}
    instance = resource.get("InstanceDetails") or {}
    if instance:
        summary["instance_id"] = instance.get("InstanceId")
        summary["instance_type"] = instance.get("InstanceType")
    key = resource.get("AccessKeyDetails") or {}
    if key:
        summary["access_key_id"] = key.get("AccessKeyId")
        summary["principal"] = key.get("UserName") or key.get("PrincipalId")
    buckets = resource.get("S3BucketDetails") or []
    if buckets:
        summary["buckets"] = [b.get("Name") for b in buckets]
    ecs = resource.get("EcsClusterDetails") or {}
    if ecs:
        summary["ecs_cluster"] = ecs.get("Name")
        summary["ecs_task"] = (ecs.get("TaskDetails") or {}).get("Arn")
    eks = resource.get("EksClusterDetails") or {}
    if eks:
        summary["eks_cluster"] = eks.get("Name")
    container = resource.get("ContainerDetails") or {}
    if container:
        summary["container"] = container.get("Name")
        summary["image"] = container.get("Image")
    lambda_ = resource.get("LambdaDetails") or {}
    if lambda_:
        summary["function"] = lambda_.get("FunctionName")
    rds = resource.get("RdsDbInstanceDetails") or {}
    if rds:
        summary["db_instance"] = rds.get("DbInstanceIdentifier")
    volume = _first((resource.get("EbsVolumeDetails") or {}).get("ScannedVolumeDetails"))
    if volume:
        summary["volume_arn"] = volume.get("VolumeArn")
    return {k: v for k, v in summary.items() if v is not None}


def _iso(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def finding_facts(finding):
    service = finding.get("Service") or {}
    severity = float(finding.get("Severity") or 0)
    return {
        "id": finding["Id"],
        "arn": finding.get("Arn"),
        "type": finding.get("Type"),
        "severity": severity,
        "severity_label": severity_label(severity),
        "title": finding.get("Title"),
        "description": finding.get("Description"),
        "resource": resource_summary(finding.get("Resource")),
        "region": finding.get("Region"),
        "account": finding.get("AccountId"),
        "created_at": _iso(finding.get("CreatedAt")),
        "updated_at": _iso(finding.get("UpdatedAt")),
        "count": service.get("Count", 1),
        "archived": bool(service.get("Archived", False)),
    }


def finding_criteria(min_severity, include_archived):
    criterion = {}
    if min_severity is not None:
        criterion["severity"] = {"Gte": int(min_severity) if float(min_severity).is_integer() else min_severity}
    if not include_archived:
        criterion["service.archived"] = {"Eq": ["false"]}
    return {"Criterion": criterion}


SORT_BY_SEVERITY = {"AttributeName": "severity", "OrderBy": "DESC"}


def read_findings(client, detector_id, min_severity=None, include_archived=False, max_findings=100):
    """The findings matching the filters, most severe first, as ``finding_facts``. Reads are paged:
    ListFindings (up to 50 IDs a call) until ``max_findings``, then GetFindings 50 IDs at a time."""
    ids, token = [], None
    criteria = finding_criteria(min_severity, include_archived)
    while len(ids) < max_findings:
        page = list_findings(client, detector_id, criteria, min(50, max_findings - len(ids)), token)
        ids.extend(page.get("FindingIds") or [])
        token = page.get("NextToken")
        if not token:
            break
    findings = []
    for start in range(0, len(ids), 50):
        findings.extend(get_findings(client, detector_id, ids[start:start + 50]))
    facts = [finding_facts(f) for f in findings]
    return sorted(facts, key=lambda f: (-f["severity"], f["id"]))


def region_detector(client):
    """The region's detector ID (None when there is none)."""
    ids = list_detectors(client)
    if len(ids) > 1:
        raise ValidationError("detector_id", f"the region has {len(ids)} detectors; name one")
    return ids[0] if ids else None


def find_findings(client, params, min_severity):
    """(detector ID, findings) for the ``detector_id``, ``include_archived`` and ``max_findings`` options."""
    detector_id = params.get("detector_id") or region_detector(client)
    if not detector_id:
        return None, []
    return detector_id, read_findings(client, detector_id, min_severity, params["include_archived"],
                                      params["max_findings"])


# ---------------------------------------------------------------------------------------------
# Tickets: the webhook URL, the payload template and the ledger document
# ---------------------------------------------------------------------------------------------
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
FINDING_FIELDS = ["id", "arn", "type", "severity", "severity_label", "title", "description", "resource", "region",
                  "account", "created_at", "updated_at", "count", "archived"]
LEDGER_VERSION = 1
# A claim older than this is taken to belong to a run that died; its findings are posted again, with the same
# Idempotency-Key (receivers that honour it do not open a second ticket).
CLAIM_SECONDS = 900


def validate_webhook_url(url, allow_insecure_http):
    match = re.match(r"^(https?)://([^/\s?#]+)", url or "", re.IGNORECASE)
    if not match:
        raise ValidationError("webhook_url", "must be an absolute https:// URL")
    if match.group(1).lower() == "http" and not allow_insecure_http:
        raise ValidationError("webhook_url", "must use https:// (findings and webhook tokens would travel in clear "
                                             "text); set allow_insecure_http=true only for a local test receiver")
    return match.group(2)


def _placeholders(value, found):
    if isinstance(value, str):
        found.extend(PLACEHOLDER_RE.findall(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _placeholders(key, found)
            _placeholders(item, found)
    elif isinstance(value, list):
        for item in value:
            _placeholders(item, found)
    return found


def _lookup(finding, path):
    value = finding
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def validate_template(template):
    for name in _placeholders(template, []):
        if name.split(".")[0] not in FINDING_FIELDS:
            raise ValidationError("ticket_template", f"unknown placeholder {{{name}}}; the fields of a finding are "
                                                     f"{', '.join(FINDING_FIELDS)} (resource.<key> for its parts)")


def render_template(template, finding):
    """The template with ``{field}`` replaced by the finding's field; a string that is exactly one placeholder
    takes the field's value as it is (a number stays a number, a dict a dict)."""
    if isinstance(template, str):
        whole = PLACEHOLDER_RE.fullmatch(template)
        if whole:
            return _lookup(finding, whole.group(1))
        return PLACEHOLDER_RE.sub(lambda m: "" if _lookup(finding, m.group(1)) is None
                                  else str(_lookup(finding, m.group(1))), template)
    if isinstance(template, dict):
        return {render_template(k, finding): render_template(v, finding) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, finding) for v in template]
    return template


def default_payload(finding):
    return {
        "source": "aws.guardduty",
        "idempotency_key": finding["id"],
        "title": f"[GuardDuty {finding['severity_label']} {finding['severity']:g}] {finding.get('title') or ''}",
        "severity": finding["severity"],
        "severity_label": finding["severity_label"],
        "finding": finding,
    }


def validate_given_findings(findings):
    """``findings`` given to guardduty_tickets (guardduty_findings_info's RV): normalised, or a ValidationError."""
    out = []
    for index, finding in enumerate(findings):
        if not isinstance(finding, dict):
            raise ValidationError(f"findings[{index}]", "must be a finding (a dict from guardduty_findings_info)")
        if not finding.get("id"):
            raise ValidationError(f"findings[{index}].id", "missing: every finding needs its GuardDuty finding id")
        severity = parse_severity(f"findings[{index}].severity", finding.get("severity"))
        if severity is None:
            raise ValidationError(f"findings[{index}].severity", "missing")
        out.append(dict(finding, severity=severity, severity_label=severity_label(severity)))
    return out


def empty_ledger():
    return {"version": LEDGER_VERSION, "findings": {}}


def parse_ledger(body, where):
    try:
        ledger = json.loads(body or "{}")
    except ValueError:
        ledger = None
    if not isinstance(ledger, dict) or not isinstance(ledger.get("findings", {}), dict):
        raise ValidationError("ledger_key", f"{where} is not a tickets ledger (a JSON object with 'findings'); "
                                            "choose another key")
    ledger.setdefault("version", LEDGER_VERSION)
    ledger.setdefault("findings", {})
    return ledger


def ledger_split(ledger, finding_ids, now):
    """(to_file, already_filed, claimed_elsewhere) of ``finding_ids`` against the ledger at ``now`` (epoch s)."""
    to_file, filed, claimed = [], [], []
    for finding_id in finding_ids:
        entry = ledger["findings"].get(finding_id) or {}
        if entry.get("state") == "filed":
            filed.append(finding_id)
        elif entry.get("state") == "claimed" and float(entry.get("expires", 0)) > now:
            claimed.append(finding_id)
        else:
            to_file.append(finding_id)
    return to_file, filed, claimed


# ---------------------------------------------------------------------------------------------
# One small function per call.
# ---------------------------------------------------------------------------------------------
H = error_handler("NoSuchKey", "404")


@H.list_error_handler("list GuardDuty detectors", [])
@retry
def list_detectors(client):
    return client.get_paginator("list_detectors").paginate().build_full_result().get("DetectorIds", [])


@H.common_error_handler("get GuardDuty detector")
@retry
def get_detector(client, detector_id):
    return client.get_detector(DetectorId=detector_id)


@H.common_error_handler("create GuardDuty detector")
@retry
def create_detector(client, frequency, features, tags, token):
    """CreateDetector carries a ClientToken: a retry after a lost response creates nothing new."""
    params = {"Enable": True, "ClientToken": token, "FindingPublishingFrequency": frequency}
    if features:
        params["Features"] = features
    if tags:
        params["Tags"] = tags
    return client.create_detector(**params)["DetectorId"]


@H.common_error_handler("update GuardDuty detector")
@retry
def update_detector(client, detector_id, **params):
    client.update_detector(DetectorId=detector_id, **params)


@H.deletion_error_handler("delete GuardDuty detector")
@retry
def delete_detector(client, detector_id):
    client.delete_detector(DetectorId=detector_id)
    return True


@H.common_error_handler("tag GuardDuty detector")
@retry
def tag_resource(client, arn, tags):
    client.tag_resource(ResourceArn=arn, Tags=tags)


@H.common_error_handler("untag GuardDuty detector")
@retry
def untag_resource(client, arn, keys):
    client.untag_resource(ResourceArn=arn, TagKeys=list(keys))


@H.common_error_handler("get caller identity")
@retry
def account_id(sts_client):
    return sts_client.get_caller_identity()["Account"]


@H.common_error_handler("list GuardDuty findings")
@retry
def list_findings(client, detector_id, criteria, max_results, token=None):
    params = {"DetectorId": detector_id, "FindingCriteria": criteria, "SortCriteria": SORT_BY_SEVERITY,
              "MaxResults": max_results}
    if token:
        params["NextToken"] = token
    return client.list_findings(**params)


@H.common_error_handler("get GuardDuty findings")
@retry
def get_findings(client, detector_id, finding_ids):
    if not finding_ids:
        return []
    return client.get_findings(DetectorId=detector_id, FindingIds=list(finding_ids),
                               SortCriteria=SORT_BY_SEVERITY).get("Findings", [])


@H.list_error_handler("read tickets ledger", (None, None))
@retry
def get_ledger(s3_client, bucket, key):
    """(document text, ETag) of the ledger object; (None, None) when there is none yet."""
    response = s3_client.get_object(Bucket=bucket, Key=key)
    return response["Body"].read().decode("utf-8"), response.get("ETag")


class LedgerConflict(Exception):
    """Another run wrote the ledger since it was read (S3 answered 412 to the conditional write)."""


@H.common_error_handler("write tickets ledger")
@retry
def put_ledger(s3_client, bucket, key, ledger, etag):
    """Write the ledger only if it is still the version read (``etag``; ``None``: only if there is none)."""
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    try:
        response = s3_client.put_object(Bucket=bucket, Key=key, Body=json.dumps(ledger, sort_keys=True).encode(),
                                        ContentType="application/json", **condition)
    except is_boto3_error_code(["PreconditionFailed", "ConditionalRequestConflict", "412", "409"]):
        raise LedgerConflict() from None
    return response.get("ETag")
