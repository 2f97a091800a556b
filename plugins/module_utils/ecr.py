# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECR repositories: validation, lifecycle rendering, policy normalisation, views, and one small
function per ECR call our modules make.

The pure part (``build_spec``, ``render_lifecycle``, ``normalize_document``, the views) calls no AWS
API: ``build_spec`` validates a task's options before any client exists. The wrappers carry an error
handler (raising SeedAWSError with what was being done; "not found" answers become ``None``/``False``)
and the ``retry`` policy: every ECR write is safe to repeat (``put``/``set``/``tag`` calls, and a
create that answers "already exists" after a lost response adopts the repository it made).
"""

import base64
import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

# ---------------------------------------------------------------------------------------------
# Pure part: no AWS call below until the wrappers.
# ---------------------------------------------------------------------------------------------

# ECR's own repository name constraint (CreateRepository), plus its 2-256 length.
NAME_RE = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
NAME_MIN, NAME_MAX = 2, 256
MUTABILITIES = ("IMMUTABLE", "MUTABLE")
# A tag filter of the exceptions to a repository's tag mutability (ECR's pattern; * is a wildcard).
EXCLUSION_RE = re.compile(r"^[0-9a-zA-Z._*-]{1,128}$")
ENCRYPTION_TYPES = ("AES256", "KMS")
MAX_POLICY_CHARS = 10240  # repository policy text
MAX_LIFECYCLE_CHARS = 30720  # lifecycle policy text
MAX_TAGS, MAX_TAG_KEY, MAX_TAG_VALUE = 50, 128, 256
# Fields of the return value that identify a repository; the rest is the managed view.
IDENTITY_FIELDS = ("arn", "uri", "registry_id")


def check_name(field, value):
    """Raise ValidationError unless ``value`` is a valid ECR repository name."""
    if not isinstance(value, str) or not NAME_MIN <= len(value) <= NAME_MAX:
        raise ValidationError(field, f"{value!r} must be {NAME_MIN}-{NAME_MAX} characters long")
    if not NAME_RE.match(value):
        raise ValidationError(field, f"{value!r} is not a valid ECR repository name: lowercase letters and digits, "
                                     "separated by single '.', '_' or '-', in '/'-separated path components "
                                     "(like team/app or web-api)")


def normalize_document(field, value, max_chars=None):
    """A JSON document (dict, or JSON text as ``type: json`` options deliver it) as a dict.

    Returns ``None`` for an empty document (``{}`` or an empty string). Key order and whitespace are
    gone after this, so two normalised documents compare equal exactly when they mean the same JSON.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except ValueError as e:
            raise ValidationError(field, f"is not valid JSON ({e})") from None
    if not isinstance(value, dict):
        raise ValidationError(field, f"must be a JSON object, not {type(value).__name__}")
    if not value:
        return None
    if max_chars and len(canonical_json(value)) > max_chars:
        raise ValidationError(field, f"is longer than the {max_chars} characters ECR accepts")
    return json.loads(canonical_json(value))


def canonical_json(document):
    """The one text form we send and compare: sorted keys, no whitespace."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def parse_aws_document(text):
    """A policy text as AWS returns it (any formatting) as a dict; ``None`` when absent or not JSON."""
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def same_policy(current, wanted):
    """Whether two repository policies grant the same: AWS may give back what was set in another form (an
    account ID principal as ``arn:aws:iam::<id>:root``, a one-element list as its element, lists in
    another order), which amazon.aws's ``compare_policies`` reads as equal."""
    if current is None or wanted is None:
        return current == wanted
    return not compare_policies(current, wanted)


def same_lifecycle(current, wanted):
    """Whether two lifecycle policies have the same rules, in whatever order they are listed (ECR
    evaluates them by ``rulePriority``)."""
    if current is None or wanted is None:
        return current == wanted

    def by_priority(document):
        rules = document.get("rules")
        if not isinstance(rules, list):
            return document
        return dict(document, rules=sorted(rules, key=lambda rule: str(rule.get("rulePriority"))))

    return by_priority(current) == by_priority(wanted)


def render_lifecycle(keep_tagged, expire_untagged_days):
    """The lifecycle policy of O(lifecycle): untagged images expire after N days, and only the last N
    tagged images are kept. ``tagPatternList: ["*"]`` selects every tagged image: AWS requires a
    prefix or pattern list with ``tagStatus: tagged``."""
    return {"rules": [
        {"rulePriority": 1,
         "description": f"Expire untagged images {expire_untagged_days} days after push",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": expire_untagged_days},
         "action": {"type": "expire"}},
        {"rulePriority": 2,
         "description": f"Keep the last {keep_tagged} tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                       "countNumber": keep_tagged},
         "action": {"type": "expire"}},
    ]}


def _check_lifecycle_document(field, document):
    rules = document.get("rules")
    if not isinstance(rules, list) or not rules:
        raise ValidationError(field, "must have a non-empty 'rules' list")
    priorities = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or not {"rulePriority", "selection", "action"} <= set(rule):
            raise ValidationError(f"{field}.rules[{index}]", "needs rulePriority, selection and action")
        priorities.append(rule["rulePriority"])
    if len(set(map(str, priorities))) != len(priorities):
        raise ValidationError(field, "has two rules with the same rulePriority")


def _check_tags(tags):
    if len(tags) > MAX_TAGS:
        raise ValidationError("tags", f"has {len(tags)} tags; ECR allows {MAX_TAGS}")
    out = {}
    for key, value in tags.items():
        key = str(key)
        if key.startswith("aws:"):
            raise ValidationError("tags", f"tag key {key!r} is reserved (aws:* system tags)")
        if not 1 <= len(key) <= MAX_TAG_KEY:
            raise ValidationError("tags", f"tag key {key!r} must be 1-{MAX_TAG_KEY} characters long")
        if value is None or isinstance(value, (dict, list)):
            raise ValidationError(f"tags.{key}", "must be a string")
        value = str(value).lower() if isinstance(value, bool) else str(value)
        if len(value) > MAX_TAG_VALUE:
            raise ValidationError(f"tags.{key}", f"is longer than {MAX_TAG_VALUE} characters")
        out[key] = value
    return out


class RepositorySpec:
    """Validated options of one repository. Built only by ``build_spec``."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def build_spec(params):
    """Validate an ecr_repository task's options; raises ValidationError naming the field. No API call.

    ``manage_lifecycle``/``manage_policy`` are false when the option was not given (left as it is);
    ``lifecycle_policy``/``policy`` are then ``None`` for "none wanted".
    """
    check_name("name", params["name"])
    spec = RepositorySpec(name=params["name"], state=params.get("state") or "present",
                          force_absent=bool(params.get("force_absent")))
    if spec.state == "absent":
        return spec

    spec.scan_on_push = bool(params.get("scan_on_push", True))
    spec.image_tag_mutability = params.get("image_tag_mutability") or "IMMUTABLE"
    if spec.image_tag_mutability not in MUTABILITIES:
        raise ValidationError("image_tag_mutability", f"must be one of {', '.join(MUTABILITIES)}")
    exclusions = params.get("image_tag_mutability_exclusions") or []
    for index, pattern in enumerate(exclusions):
        if not isinstance(pattern, str) or not EXCLUSION_RE.match(pattern):
            raise ValidationError(f"image_tag_mutability_exclusions[{index}]",
                                  f"{pattern!r} is not a tag filter: 1-128 letters, digits, '.', '_', '-' and '*' "
                                  "wildcards")
    spec.image_tag_mutability_exclusions = sorted(set(exclusions))
    if len(spec.image_tag_mutability_exclusions) > 5:
        raise ValidationError("image_tag_mutability_exclusions", "ECR takes at most 5 filters")

    spec.encryption = None
    encryption = params.get("encryption")
    if encryption is not None:
        kind, key = encryption.get("type") or "AES256", encryption.get("kms_key") or None
        if kind not in ENCRYPTION_TYPES:
            raise ValidationError("encryption.type", f"must be one of {', '.join(ENCRYPTION_TYPES)}")
        if key and kind != "KMS":
            raise ValidationError("encryption.kms_key", "is only valid with encryption.type=KMS")
        spec.encryption = {"type": kind, "kms_key": key}

    lifecycle, raw = params.get("lifecycle"), params.get("lifecycle_policy")
    if lifecycle is not None and raw is not None:
        raise ValidationError("lifecycle", "and lifecycle_policy are mutually exclusive")
    spec.manage_lifecycle = lifecycle is not None or raw is not None
    spec.lifecycle_policy = None
    spec.lifecycle_summary = None
    if lifecycle is not None:
        keep = lifecycle.get("keep_tagged")
        keep = 30 if keep is None else keep
        days = lifecycle.get("expire_untagged_days")
        days = 7 if days is None else days
        if not isinstance(keep, int) or keep < 1:
            raise ValidationError("lifecycle.keep_tagged", f"{keep!r} must be a whole number of at least 1")
        if not isinstance(days, int) or days < 1:
            raise ValidationError("lifecycle.expire_untagged_days", f"{days!r} must be a whole number of at least 1")
        spec.lifecycle_policy = render_lifecycle(keep, days)
        spec.lifecycle_summary = f"keep the last {keep} tagged images, expire untagged images after {days} days"
    elif raw is not None:
        spec.lifecycle_policy = normalize_document("lifecycle_policy", raw, MAX_LIFECYCLE_CHARS)
        if spec.lifecycle_policy is not None:
            _check_lifecycle_document("lifecycle_policy", spec.lifecycle_policy)
            spec.lifecycle_summary = f"{len(spec.lifecycle_policy['rules'])} rules"

    spec.manage_policy = params.get("policy") is not None
    spec.policy = normalize_document("policy", params.get("policy"), MAX_POLICY_CHARS)
    if spec.policy is not None and "Statement" not in spec.policy:
        raise ValidationError("policy", "has no Statement")

    tags = params.get("tags")
    spec.tags = None if tags is None else _check_tags(tags)
    spec.purge_tags = params.get("purge_tags", True)
    return spec


# --- views -------------------------------------------------------------------------------------
def repository_facts(repository, policy=None, lifecycle_policy=None, tags=None):
    """The ``repository`` return value of a described repository (``{}`` when there is none)."""
    if not repository:
        return {}
    encryption = repository.get("encryptionConfiguration") or {}
    return {
        "name": repository["repositoryName"],
        "arn": repository.get("repositoryArn"),
        "uri": repository.get("repositoryUri"),
        "registry_id": repository.get("registryId"),
        "scan_on_push": bool((repository.get("imageScanningConfiguration") or {}).get("scanOnPush", False)),
        # IMMUTABLE_WITH_EXCLUSION is IMMUTABLE with exceptions: shown as the mode and its exceptions
        "image_tag_mutability": repository.get("imageTagMutability", "MUTABLE").replace("_WITH_EXCLUSION", ""),
        "image_tag_mutability_exclusions": sorted(f.get("filter") for f in
                                                  repository.get("imageTagMutabilityExclusionFilters") or []),
        "encryption": {"type": encryption.get("encryptionType", "AES256"), "kms_key": encryption.get("kmsKey")},
        "lifecycle_policy": lifecycle_policy,
        "policy": policy,
        "tags": dict(tags or {}),
    }


def managed_view(facts):
    """The fields the module manages (what ``--diff`` shows): the facts without the identity fields."""
    return {k: v for k, v in facts.items() if k not in IDENTITY_FIELDS} if facts else {}


def wanted_tags(spec, current):
    """(to_set, to_unset, resulting tags) for the repository's ``current`` tags."""
    if spec.tags is None:
        return {}, [], dict(current)
    to_set, to_unset = tag_delta(current, spec.tags, spec.purge_tags)
    result = dict(current, **to_set)
    for key in to_unset:
        result.pop(key, None)
    return to_set, to_unset, result


def desired_view(spec, current):
    """The managed view a converged repository has. Unmanaged fields (options not given) keep their
    current value; encryption is create-only, so an existing repository keeps its own."""
    current = current or {}
    encryption = current.get("encryption") or spec.encryption or {"type": "AES256", "kms_key": None}
    return {
        "name": spec.name,
        "scan_on_push": spec.scan_on_push,
        "image_tag_mutability": spec.image_tag_mutability,
        "image_tag_mutability_exclusions": list(spec.image_tag_mutability_exclusions),
        "encryption": dict(encryption),
        "lifecycle_policy": spec.lifecycle_policy if spec.manage_lifecycle else current.get("lifecycle_policy"),
        "policy": spec.policy if spec.manage_policy else current.get("policy"),
        "tags": wanted_tags(spec, current.get("tags") or {})[2],
    }


def kms_key_matches(wanted, actual, resolve):
    """Whether the key ``wanted`` (key ID, key ARN, alias name or alias ARN) is the key ``actual``.

    ``resolve(key)`` returns the key ARN of any such reference (or ``None``); it is called only when
    the two cannot be matched as text, e.g. an alias against the key ARN AWS reports.
    """
    if not actual:
        return False
    if wanted == actual or actual.endswith(f":key/{wanted}") or actual.endswith(f":{wanted}"):
        return True
    wanted_arn = resolve(wanted)
    return bool(wanted_arn) and wanted_arn in (actual, resolve(actual))


def decode_authorization_token(token):
    """(username, password) from an ECR authorization token (base64 of ``user:password``)."""
    try:
        username, sep, password = base64.b64decode(token).decode("utf-8").partition(":")
    except (ValueError, TypeError, UnicodeDecodeError):
        sep = ""
    if not sep:
        raise SeedAWSError(message="ECR returned an authorization token that is not base64 of user:password")
    return username, password


# ---------------------------------------------------------------------------------------------
# One small function per ECR (and KMS) call.
# ---------------------------------------------------------------------------------------------
ECR_MISSING_CODES = ["RepositoryNotFoundException", "RepositoryPolicyNotFoundException",
                     "LifecyclePolicyNotFoundException", "NotFoundException"]


H = error_handler(*ECR_MISSING_CODES)  # ECR's (and KMS's) "not found" codes too


# --- reads ---------------------------------------------------------------------------------------
@H.list_error_handler("describe ECR repositories", [])
@retry
def describe_repositories(client):
    return paginate_all(client, "describe_repositories", "repositories")


@H.list_error_handler("describe ECR repository", None)
@retry
def describe_repository(client, name):
    found = client.describe_repositories(repositoryNames=[name])["repositories"]
    return found[0] if found else None


@H.list_error_handler("get ECR repository policy", None)
@retry
def get_repository_policy(client, name):
    return parse_aws_document(client.get_repository_policy(repositoryName=name).get("policyText"))


@H.list_error_handler("get ECR lifecycle policy", None)
@retry
def get_lifecycle_policy(client, name):
    return parse_aws_document(client.get_lifecycle_policy(repositoryName=name).get("lifecyclePolicyText"))


@H.list_error_handler("list ECR repository tags", {})
@retry
def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(resourceArn=arn).get("tags") or [])


@H.list_error_handler("list ECR images", [])
@retry
def list_images(client, name, max_results=1000):
    """One page of the repository's image IDs (enough to tell whether and roughly how many)."""
    return client.list_images(repositoryName=name, maxResults=max_results).get("imageIds", [])


@H.list_error_handler("describe KMS key", None)
@retry
def describe_kms_key_arn(kms_client, key_id):
    return kms_client.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]


@H.common_error_handler("get ECR authorization token")
@retry
def get_authorization_token(client, registry_ids=None, module=None):
    """(username, password, proxy_endpoint) to log in to ECR (``docker login``), decoded from the token.

    The password is a credential: give ``module`` and it is added to the module's ``no_log_values``, so
    Ansible masks it wherever it would show up in the module's output. Never return it. With several
    ``registry_ids`` the first registry's credentials are returned.
    """
    params = {"registryIds": list(registry_ids)} if registry_ids else {}
    data = client.get_authorization_token(**params).get("authorizationData") or []
    if not data:
        raise SeedAWSError(message="ECR returned no authorization data")
    username, password = decode_authorization_token(data[0]["authorizationToken"])
    if module is not None:
        module.no_log_values.add(password)
        module.no_log_values.add(data[0]["authorizationToken"])
    return username, password, data[0].get("proxyEndpoint")


def read_repository(client, repository, policy=True, lifecycle=True):
    """``repository_facts`` of a described repository: its tags read too, and its policy and lifecycle
    policy unless ``policy`` / ``lifecycle`` is false (a converge that leaves them as they are does not
    read them: one request each saved per repository and run; they are then reported as null)."""
    if not repository:
        return {}
    name = repository["repositoryName"]
    return repository_facts(repository, policy=get_repository_policy(client, name) if policy else None,
                            lifecycle_policy=get_lifecycle_policy(client, name) if lifecycle else None,
                            tags=list_tags(client, repository["repositoryArn"]))


# --- writes --------------------------------------------------------------------------------------
@H.common_error_handler("create ECR repository")
@retry
def create_repository(client, name, scan_on_push, image_tag_mutability, encryption=None, tags=None, exclusions=()):
    params = dict(mutability_params(image_tag_mutability, exclusions), repositoryName=name,
                  imageScanningConfiguration={"scanOnPush": scan_on_push})
    if encryption:
        params["encryptionConfiguration"] = {"encryptionType": encryption["type"]}
        if encryption.get("kms_key"):
            params["encryptionConfiguration"]["kmsKey"] = encryption["kms_key"]
    if tags:
        params["tags"] = ansible_dict_to_boto3_tag_list(tags)
    try:
        return client.create_repository(**params)["repository"]
    except client.exceptions.RepositoryAlreadyExistsException:
        # A lost response to an earlier attempt: that attempt made it.
        return client.describe_repositories(repositoryNames=[name])["repositories"][0]


@H.common_error_handler("set ECR image scanning configuration")
@retry
def put_image_scanning_configuration(client, name, scan_on_push):
    client.put_image_scanning_configuration(repositoryName=name,
                                            imageScanningConfiguration={"scanOnPush": scan_on_push})


@H.common_error_handler("set ECR image tag mutability")
@retry
def put_image_tag_mutability(client, name, image_tag_mutability, exclusions=()):
    client.put_image_tag_mutability(repositoryName=name, **mutability_params(image_tag_mutability, exclusions))


EXCLUSION_FILTERS = "imageTagMutabilityExclusionFilters"


def require_exclusion_support(client, field, why):
    """Fail (naming ``field``) when the client's botocore predates ECR's tag mutability exclusions (July 2025):
    it would refuse to send the filters, and drop them from what it reads (a repository with exceptions would
    look like one without)."""
    members = client.meta.service_model.operation_model("PutImageTagMutability").input_shape.members
    if EXCLUSION_FILTERS not in members:
        import botocore  # pylint: disable=import-outside-toplevel

        raise ValidationError(field, f"{why}, but this botocore ({botocore.__version__}) predates ECR's tag "
                                     "mutability exclusions and can neither send nor read them; upgrade boto3 and "
                                     "botocore")


def mutability_params(image_tag_mutability, exclusions=()):
    """``imageTagMutability`` (``..._WITH_EXCLUSION`` when there are exceptions) and its wildcard filters."""
    if not exclusions:
        return {"imageTagMutability": image_tag_mutability}
    return {"imageTagMutability": f"{image_tag_mutability}_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": f} for f in exclusions]}


@H.common_error_handler("put ECR lifecycle policy")
@retry
def put_lifecycle_policy(client, name, document):
    client.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=canonical_json(document))


@H.deletion_error_handler("delete ECR lifecycle policy")
@retry
def delete_lifecycle_policy(client, name):
    client.delete_lifecycle_policy(repositoryName=name)
    return True


@H.common_error_handler("set ECR repository policy")
@retry
def set_repository_policy(client, name, document):
    client.set_repository_policy(repositoryName=name, policyText=canonical_json(document))


@H.deletion_error_handler("delete ECR repository policy")
@retry
def delete_repository_policy(client, name):
    client.delete_repository_policy(repositoryName=name)
    return True


@H.common_error_handler("tag ECR repository")
@retry
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=ansible_dict_to_boto3_tag_list(tags))


@H.common_error_handler("untag ECR repository")
@retry
def untag_resource(client, arn, keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(keys))


@H.deletion_error_handler("delete ECR repository")
@retry
def delete_repository(client, name, force=False):
    """Delete a repository. Without ``force`` ECR itself refuses while it holds images."""
    client.delete_repository(repositoryName=name, force=bool(force))
    return True


@H.common_error_handler("delete ECR image")
@retry
def batch_delete_image(client, name, image_ids):
    """Delete images by ``[{"imageDigest": ...}]`` or ``[{"imageTag": ...}]``; failures other than "not found" raise."""
    result = client.batch_delete_image(repositoryName=name, imageIds=list(image_ids))
    failures = [f for f in result.get("failures", []) if f.get("failureCode") != "ImageNotFound"]
    if failures:
        raise SeedAWSError(message="Failed to delete ECR images: " + "; ".join(
            f"{f.get('imageId')}: {f.get('failureCode')}: {f.get('failureReason')}" for f in failures))
    return True
