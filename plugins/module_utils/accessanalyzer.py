# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM Access Analyzer policy validation: option checks, the policies to validate, and one small
function per Access Analyzer and IAM call of ``policy_validation_info``.

The pure part (``build_spec``, ``render``, ``classify``, ``unavailable_reason``) calls no AWS API:
``build_spec`` checks every option before any client exists. The wrappers carry an error handler
(raising SeedAWSError with what was being done; IAM's "not found" becomes an empty answer: a role
deleted between the listing and the read has nothing left to validate) and a retry policy.

``validate_policy`` is the one wrapper that does not use ``retries.retry``: that retries a bare HTTP
500 (a 5xx whose body botocore could not parse) ten times, and a bare 500 is what an endpoint without
Access Analyzer (a local AWS emulator) answers. Real Access Analyzer reports its own failures as JSON
(``InternalServerException``, retried here like every transient code), so a bare 500 is reported at
once as "not available" instead of after minutes of backoff.
"""

import fnmatch
import json
import re

try:
    import botocore
except ImportError:
    botocore = None  # handled by AnsibleAWSModule


from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ACCESS_DENIED_CODES
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import aws_error_code
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.iam import policy_document
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import TRANSIENT_CODES
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry_on

# ---------------------------------------------------------------------------------------------
# Pure part: no AWS call below until the wrappers.
# ---------------------------------------------------------------------------------------------

# The module's ``type`` values and the ValidatePolicy ``policyType`` each one sends.
POLICY_TYPES = {"identity": "IDENTITY_POLICY", "resource": "RESOURCE_POLICY",
                "service_control": "SERVICE_CONTROL_POLICY"}
# ValidatePolicy ``validatePolicyResourceType`` (resource policies only).
RESOURCE_TYPES = ("AWS::S3::Bucket", "AWS::S3::AccessPoint", "AWS::S3::MultiRegionAccessPoint",
                  "AWS::S3ObjectLambda::AccessPoint", "AWS::IAM::AssumeRolePolicyDocument", "AWS::DynamoDB::Table")
# ``findingType`` values, most severe first.
FINDING_TYPES = ("ERROR", "SECURITY_WARNING", "WARNING", "SUGGESTION")
DEFAULT_FAIL_ON = ("ERROR", "SECURITY_WARNING")
ISSUE_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# IAM's path constraint: "/" or "/" + printable ASCII + "/", at most 512 characters.
ROLE_PATH_RE = re.compile(r"^/(?:[\x21-\x7e]*/)?$")
ROLE_PATH_MAX = 512
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class PolicySpec:
    """One policy to validate: ``name``, ``source`` (where it came from), ``text`` (the document as sent)
    or ``bucket`` (read later), ``policy_type`` and ``resource_type`` (ValidatePolicy values)."""

    def __init__(self, **kwargs):
        self.bucket = None
        self.text = None
        self.resource_type = None
        self.__dict__.update(kwargs)


class ValidationSpec:
    """Validated options of a policy_validation_info task. Built only by ``build_spec``."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def render(document):
    """The text sent for a parsed document: indented, so finding spans point at lines."""
    return json.dumps(document, indent=2)


def parse_document(field, value):
    """(text to send, parsed dict) of a document given as a dict or as JSON text.

    JSON text is sent exactly as given, so the line/column spans of the findings point into it.
    """
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError as e:
            raise ValidationError(field, f"not valid JSON ({e})") from None
        text = value
    else:
        parsed, text = value, None
    if not isinstance(parsed, dict):
        raise ValidationError(field, f"must be a JSON object (a policy document), not {type(parsed).__name__}")
    if not parsed:
        raise ValidationError(field, "is an empty policy document")
    return (text if text is not None else render(parsed)), parsed


def read_document_file(field, path, opener=open):
    """The text of the JSON policy file ``path`` (on the managed host), checked like a document."""
    try:
        with opener(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ValidationError(field, f"cannot read {path}: {e}") from None
    return parse_document(field, text)[0]


def _check_policy(index, entry, names, opener):
    field = f"policies[{index}]"
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"{field}.name", "must be a non-empty string")
    if name in names:
        raise ValidationError(f"{field}.name", f"{name!r} is also the name of policies[{names[name]}]; names must be unique")
    names[name] = index
    given = [key for key in ("document", "path", "bucket") if entry.get(key) not in (None, "")]
    if len(given) != 1:
        raise ValidationError(field, f"give exactly one of document, path or bucket (got {', '.join(given) or 'none'})")
    kind = entry.get("type") or "identity"
    if kind not in POLICY_TYPES:
        raise ValidationError(f"{field}.type", f"{kind!r} must be one of {', '.join(POLICY_TYPES)}")
    resource_type = entry.get("resource_type") or None
    if resource_type is not None and resource_type not in RESOURCE_TYPES:
        raise ValidationError(f"{field}.resource_type", f"{resource_type!r} must be one of {', '.join(RESOURCE_TYPES)}")
    spec = PolicySpec(name=name)
    if given == ["bucket"]:
        bucket = entry["bucket"]
        if not isinstance(bucket, str) or not BUCKET_RE.match(bucket):
            raise ValidationError(f"{field}.bucket", f"{bucket!r} is not a valid S3 bucket name")
        if entry.get("type") not in (None, "resource"):
            raise ValidationError(f"{field}.type", "a bucket policy is a resource policy (leave type out or set resource)")
        if resource_type not in (None, "AWS::S3::Bucket"):
            raise ValidationError(f"{field}.resource_type", "a bucket policy is validated as AWS::S3::Bucket")
        spec.bucket, spec.source = bucket, f"bucket policy of s3://{bucket}"
        spec.policy_type, spec.resource_type = POLICY_TYPES["resource"], "AWS::S3::Bucket"
        return spec
    if resource_type is not None and kind != "resource":
        raise ValidationError(f"{field}.resource_type", "is only valid with type resource")
    spec.policy_type, spec.resource_type = POLICY_TYPES[kind], resource_type
    if given == ["document"]:
        spec.text = parse_document(f"{field}.document", entry["document"])[0]
        spec.source = "document"
    else:
        spec.text = read_document_file(f"{field}.path", entry["path"], opener)
        spec.source = f"file {entry['path']}"
    return spec


def _check_ignore(index, entry):
    field = f"ignore[{index}]"
    code = entry.get("issue_code")
    if not isinstance(code, str) or not ISSUE_CODE_RE.match(code):
        raise ValidationError(f"{field}.issue_code", f"{code!r} is not an Access Analyzer issue code "
                                                     "(upper-case, like PASS_ROLE_WITH_STAR_IN_RESOURCE)")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(f"{field}.reason", "every accepted finding needs a reason")
    pattern = entry.get("policy") or "*"
    if not isinstance(pattern, str):
        raise ValidationError(f"{field}.policy", "must be a policy name or glob")
    return {"issue_code": code, "policy": pattern, "reason": reason.strip()}


def build_spec(params, opener=open):
    """Check a policy_validation_info task's options; ValidationError naming the field. No API call.

    ``opener`` reads the ``path`` files (``open``; tests give their own).
    """
    policies = params.get("policies") or []
    names = {}
    specs = [_check_policy(index, entry or {}, names, opener) for index, entry in enumerate(policies)]
    role_path = params.get("role_path")
    if role_path is not None and (len(role_path) > ROLE_PATH_MAX or not ROLE_PATH_RE.match(role_path)):
        raise ValidationError("role_path", f"{role_path!r} is not an IAM path: it begins and ends with '/', "
                                           f"like /seed/ (at most {ROLE_PATH_MAX} characters)")
    if not specs and role_path is None:
        raise ValidationError("policies", "nothing to validate: give policies, role_path or both")
    fail_on = params.get("fail_on")
    fail_on = list(DEFAULT_FAIL_ON) if fail_on is None else fail_on
    for index, kind in enumerate(fail_on):
        if kind not in FINDING_TYPES:
            raise ValidationError(f"fail_on[{index}]", f"{kind!r} must be one of {', '.join(FINDING_TYPES)}")
    ignore = [_check_ignore(index, entry or {}) for index, entry in enumerate(params.get("ignore") or [])]
    return ValidationSpec(policies=specs, role_path=role_path, fail_on=set(fail_on), ignore=ignore,
                          unavailable=params.get("unavailable") or "fail")


def is_aws_managed(arn):
    """Whether a managed policy ARN is AWS's own (``arn:<partition>:iam::aws:policy/...``)."""
    return ":iam::aws:policy/" in arn


def managed_policy_name(arn):
    """``policy/<path><name>`` of a managed policy ARN: the name its results carry."""
    return arn.split(":", 5)[5]


def finding_view(finding):
    """A ValidatePolicy finding with the documented keys (absent ones as empty)."""
    return {"findingType": finding.get("findingType"), "issueCode": finding.get("issueCode"),
            "findingDetails": finding.get("findingDetails", ""), "learnMoreLink": finding.get("learnMoreLink", ""),
            "locations": finding.get("locations") or []}


def matching_ignore(ignore, name, finding):
    """The first ``ignore`` rule (with its index) that accepts ``finding`` of policy ``name``, or (None, None)."""
    for index, rule in enumerate(ignore):
        if rule["issue_code"] == finding.get("issueCode") and fnmatch.fnmatchcase(name, rule["policy"]):
            return index, rule
    return None, None


def classify(results, ignore, fail_on):
    """Split each result's findings into kept and ignored; return (counts, failed policy names, unused ignore indexes).

    ``results``: dicts with ``name`` and ``findings`` (raw ValidatePolicy findings), updated in place:
    ``findings`` keeps the findings not ignored, ``ignored`` gets the others with the ``reason``.
    """
    counts = dict.fromkeys(FINDING_TYPES, 0)
    failed, used = [], set()
    for result in results:
        kept, ignored = [], []
        for finding in result["findings"]:
            view = finding_view(finding)
            index, rule = matching_ignore(ignore, result["name"], view)
            if rule is None:
                kept.append(view)
                counts[view["findingType"]] = counts.get(view["findingType"], 0) + 1
            else:
                used.add(index)
                ignored.append(dict(view, reason=rule["reason"]))
        result["findings"], result["ignored"] = kept, ignored
        if any(f["findingType"] in fail_on for f in kept):
            failed.append(result["name"])
    return counts, failed, [index for index in range(len(ignore)) if index not in used]


def failure_message(results, failed, fail_on):
    """Names each failing policy and its failing findings' type, issue code and first location."""
    parts = []
    for result in results:
        if result["name"] not in failed:
            continue
        issues = []
        for finding in result["findings"]:
            if finding["findingType"] in fail_on:
                where = location_text(finding["locations"])
                issues.append(f"{finding['findingType']} {finding['issueCode']}" + (f" at {where}" if where else ""))
        parts.append(f"{result['name']} ({result['source']}): {', '.join(issues)}")
    kinds = ", ".join(k for k in FINDING_TYPES if k in fail_on)
    return (f"IAM Access Analyzer reports findings of type {kinds} (fail_on) in {len(failed)} "
            f"polic{'y' if len(failed) == 1 else 'ies'}: " + "; ".join(parts))


def location_text(locations):
    """``Statement[0].Action[1]`` for the first location of a finding ('' when it has none).

    Path elements (API reference, PathElement): ``value`` is the value of the key it names (one step into
    an object), ``key`` the key itself, ``index`` a position in an array, ``substring`` a part of a string.
    """
    if not locations:
        return ""
    text = ""
    for element in locations[0].get("path") or []:
        if "index" in element:
            text += f"[{element['index']}]"
        elif "value" in element:
            text += ("." if text else "") + str(element["value"])
        elif "key" in element:
            text += ("." if text else "") + f"{element['key']} (key)"
        elif "substring" in element:
            sub = element["substring"]
            text += f" (characters {sub.get('start')}-{sub.get('start', 0) + sub.get('length', 0)})"
    return text


# --- Access Analyzer not available --------------------------------------------------------------
# Answers that mean "this endpoint, with these credentials, will not validate policies" - not a
# problem of the policy, and the same for every policy of the run.
UNKNOWN_CREDENTIALS_CODES = ("UnrecognizedClientException", "InvalidClientTokenId")
UNKNOWN_OPERATION_CODES = ("UnknownOperationException", "InvalidAction")
# A bare HTTP status (botocore found no AWS error in the body): no Access Analyzer API answered.
NOT_AN_API_STATUSES = ("404", "405", "500", "501")


def unavailable_reason(error):
    """Why Access Analyzer cannot be used, for an error of ``validate_policy``; ``None`` for any other error."""
    exc = getattr(error, "exception", None) or error
    if botocore is not None and isinstance(exc, botocore.exceptions.ConnectionError):
        return f"cannot connect to its endpoint ({exc})"
    code = aws_error_code(exc)
    if not code:
        return None
    message = str(exc.response.get("Error", {}).get("Message", "")).strip()
    if code in ACCESS_DENIED_CODES:
        return f"{code}: these credentials may not call access-analyzer:ValidatePolicy ({message})"
    if code in UNKNOWN_CREDENTIALS_CODES:
        return f"{code}: the endpoint does not know these credentials ({message})"
    if code in UNKNOWN_OPERATION_CODES:
        return f"{code}: the endpoint does not implement ValidatePolicy ({message})"
    if code in NOT_AN_API_STATUSES:
        return (f"the endpoint answered ValidatePolicy with HTTP {code} and no AWS error: it does not implement "
                "IAM Access Analyzer (a local AWS emulator has none)")
    return None


# ---------------------------------------------------------------------------------------------
# One small function per Access Analyzer, IAM and S3 call.
# ---------------------------------------------------------------------------------------------
H = error_handler()  # IAM's NoSuchEntity is in MISSING_CODES already

# ``retries.retry`` without the bare "500" (see the module docstring).
retry_validate = retry_on(sorted(TRANSIENT_CODES - {"500"}))


@H.common_error_handler("validate policy with IAM Access Analyzer")
@retry_validate
def validate_policy(client, text, policy_type, resource_type=None):
    """Every finding of ValidatePolicy for the document ``text`` (all pages)."""
    params = {"policyDocument": text, "policyType": policy_type}
    if resource_type:
        params["validatePolicyResourceType"] = resource_type
    return paginate_all(client, "validate_policy", "findings", **params)


@H.list_error_handler("list IAM roles", [])
@retry
def list_roles(client, path):
    """The roles under ``path`` (``PathPrefix``; ListRoles returns no permissions boundary)."""
    return paginate_all(client, "list_roles", "Roles", PathPrefix=path)


@H.list_error_handler("list IAM role inline policies", [])
@retry
def list_role_policies(client, role):
    return paginate_all(client, "list_role_policies", "PolicyNames", RoleName=role)


@H.list_error_handler("list IAM role attached policies", [])
@retry
def list_attached_role_policies(client, role):
    return paginate_all(client, "list_attached_role_policies", "AttachedPolicies", RoleName=role)


@H.list_error_handler("get IAM managed policy", None)
@retry
def get_policy(client, arn):
    return client.get_policy(PolicyArn=arn)["Policy"]


@H.list_error_handler("get IAM managed policy version", None)
@retry
def get_policy_version(client, arn, version):
    """The document of a managed policy version as a dict."""
    return policy_document(client.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def get_default_policy_document(client, arn):
    """(default version id, document) of a managed policy; (None, None) when it is gone."""
    policy = get_policy(client, arn)
    if not policy:
        return None, None
    version = policy["DefaultVersionId"]
    return version, get_policy_version(client, arn, version)
