# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets Manager secrets: validation, password generation, value planning, views, and one small
function per Secrets Manager (and KMS) call our modules make.

The pure part (``build_spec``, ``generate_password``, ``plan_value``, ``next_version_id``, the views)
calls no AWS API: ``build_spec`` validates a task's options before any client exists.

Secret values never leave this module except in the write calls, and in a module result only when the
caller asked for them (``return_value``). Error and action messages name fields, never values.

Versions: every value we write carries a ClientRequestToken (which becomes the VersionId) derived from
the secret's name and its current version - no value goes into it. A check-mode run therefore predicts the
version a real run writes, the diff shows "a new version" without revealing anything about the value, and
a write retried after a lost response is ignored by Secrets Manager instead of making a second version.
"""

import datetime
import json
import re
import secrets as _random
import string
import uuid

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry

# ---------------------------------------------------------------------------------------------
# Pure part: no AWS call below until the wrappers.
# ---------------------------------------------------------------------------------------------

# Secrets Manager's own name constraint (CreateSecret): 1-512 of these characters.
NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
MAX_DESCRIPTION = 2048
MAX_SECRET_BYTES = 65536
MAX_POLICY_CHARS = 20480
MAX_TAGS, MAX_TAG_KEY, MAX_TAG_VALUE = 50, 128, 256
MIN_LENGTH, MAX_LENGTH = 8, 4096
RECOVERY_MIN, RECOVERY_MAX = 7, 30
# Characters a generated value never contains unless asked to: quotes, backtick, backslash and ``$``
# break shell, .env and compose files; ``@ / : ? # [ ] % &`` are delimiters in URLs (a database URL
# such as postgresql://user:password@host/db must not need escaping).
DEFAULT_EXCLUDE = "\"'`\\$@/:?#[]%&"
DEFAULT_KMS_ALIASES = ("", "alias/aws/secretsmanager", "aws/secretsmanager")
_VERSION_NAMESPACE = uuid.UUID("6c1f4a52-8f0e-4b8e-9d8a-5e3c2b7a9d10")


def check_name(field, value):
    """Raise ValidationError unless ``value`` is a valid secret name (not an ARN)."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ValidationError(field, f"{value!r} is not a valid secret name: 1-512 letters, digits and "
                                     "/_+=.@- (like seed/prod/metabase-db)")


def canonical_json(document):
    """The one text form we send and compare for policies: sorted keys, no whitespace."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def normalize_policy(field, value):
    """A policy (dict or JSON text) as a dict; ``None`` for an empty one (``{}`` or ``""``)."""
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
    if "Statement" not in value:
        raise ValidationError(field, "has no Statement")
    if len(canonical_json(value)) > MAX_POLICY_CHARS:
        raise ValidationError(field, f"is longer than the {MAX_POLICY_CHARS} characters Secrets Manager accepts")
    return json.loads(canonical_json(value))


def parse_policy(text):
    """A policy text as AWS returns it as a dict; ``None`` when absent or not a JSON object."""
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def policies_differ(current, wanted):
    """Whether two policies mean different things (key order, whitespace, one-element lists ignored)."""
    if current is None or wanted is None:
        return current is not wanted
    return compare_policies(current, wanted)


def _check_tags(tags):
    if len(tags) > MAX_TAGS:
        raise ValidationError("tags", f"has {len(tags)} tags; Secrets Manager allows {MAX_TAGS}")
    out = {}
    for key, value in tags.items():
        key = str(key)
        if key.lower().startswith("aws:"):
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


def _check_fields(field, fields):
    """Field names of a JSON secret: non-empty strings. Messages name the option, never a value."""
    if fields is None:
        return {}
    if not isinstance(fields, dict):
        raise ValidationError(field, "must be a dictionary of field names to values")
    for name, value in fields.items():
        if not isinstance(name, str) or not name:
            raise ValidationError(field, "field names must be non-empty strings")
        if value is None:
            raise ValidationError(f"{field}.{name}", "has no value (null)")
    return dict(fields)


def kms_default(key):
    """Whether a KMS key reference means the AWS managed key of Secrets Manager."""
    return key is None or key in DEFAULT_KMS_ALIASES


class SecretSpec:
    """Validated options of one secret. Built only by ``build_spec``."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    @property
    def is_json(self):
        return self.kind == "json"


def build_spec(params):
    """Validate a secret task's options; raises ValidationError naming the field. No API call.

    ``kind`` is ``string`` (a plain string secret, from ``value`` or generated) or ``json`` (fields).
    ``description``/``kms_key_id``/``resource_policy``/``tags`` are unmanaged when not given.
    """
    check_name("name", params.get("name"))
    state = params.get("state") or "present"
    spec = SecretSpec(name=params["name"], state=state, return_value=bool(params.get("return_value")))
    window = params.get("recovery_window_days")
    window = 30 if window is None else window
    if not isinstance(window, int) or isinstance(window, bool) or not (
            window == 0 or RECOVERY_MIN <= window <= RECOVERY_MAX):
        raise ValidationError("recovery_window_days", f"{window!r} must be 0 (delete at once, without recovery) "
                                                      f"or {RECOVERY_MIN}-{RECOVERY_MAX} days")
    spec.recovery_window_days = window
    if state == "absent":
        return spec

    value = params.get("value")
    fields = _check_fields("fields", params.get("fields"))
    public = _check_fields("public_fields", params.get("public_fields"))
    generate = params.get("generate")
    if value is not None and (fields or public):
        raise ValidationError("value", "is a plain string secret; fields and public_fields make a JSON secret - "
                                       "give one or the other")
    if value is not None and generate is not None:
        raise ValidationError("generate", "cannot be combined with value (a given value is never generated)")
    if value is None and not fields and not public and generate is None:
        raise ValidationError("value", "a secret needs a value: give value, fields/public_fields or generate "
                                       "(nothing was created)")
    if value is not None:
        if not isinstance(value, str) or not value:
            raise ValidationError("value", "must be a non-empty string")
        if len(value.encode("utf-8")) > MAX_SECRET_BYTES:
            raise ValidationError("value", f"is longer than the {MAX_SECRET_BYTES} bytes Secrets Manager accepts")
    both = sorted(set(fields) & set(public))
    if both:
        raise ValidationError("public_fields", f"field {both[0]!r} is also in fields; give each field once")

    spec.generate = None
    if generate is not None:
        spec.generate = _check_generate(generate, fields, public)
    spec.kind = "json" if (fields or public or (spec.generate and spec.generate["field"])) else "string"
    spec.value = value
    spec.fields = dict(public, **fields)
    spec.field_sources = {name: "public_fields" for name in public}
    spec.field_sources.update({name: "fields" for name in fields})
    spec.purge_fields = bool(params.get("purge_fields", True))
    if spec.is_json:
        try:
            encoded = json.dumps(spec.fields)
        except (TypeError, ValueError):
            raise ValidationError("fields", "values must be JSON values (strings, numbers, booleans, lists, "
                                            "dictionaries)") from None
        if len(encoded.encode("utf-8")) > MAX_SECRET_BYTES:
            raise ValidationError("fields", f"make a value longer than the {MAX_SECRET_BYTES} bytes Secrets "
                                            "Manager accepts")

    spec.rotate = bool(params.get("rotate"))
    if spec.rotate and spec.generate is None:
        raise ValidationError("rotate", "needs generate: only a generated value can be rotated")

    description = params.get("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationError("description", f"is longer than {MAX_DESCRIPTION} characters")
    spec.description = description
    spec.kms_key_id = params.get("kms_key_id")
    spec.manage_policy = params.get("resource_policy") is not None
    spec.resource_policy = normalize_policy("resource_policy", params.get("resource_policy"))
    spec.block_public_policy = bool(params.get("block_public_policy", True))
    tags = params.get("tags")
    spec.tags = None if tags is None else _check_tags(tags)
    spec.purge_tags = params.get("purge_tags", True)
    return spec


def _check_generate(generate, fields, public):
    field = generate.get("field")
    if field is not None and (not isinstance(field, str) or not field):
        raise ValidationError("generate.field", "must be a non-empty field name")
    if field is None and (fields or public):
        raise ValidationError("generate.field", "is required with fields/public_fields (a JSON secret): name the "
                                                "field to generate, like password")
    if field is not None and field in fields:
        raise ValidationError("generate.field", f"{field!r} is also in fields; a field is either given or generated")
    if field is not None and field in public:
        raise ValidationError("generate.field", f"{field!r} is also in public_fields; a field is either given or "
                                                "generated")
    length = generate.get("length")
    length = 32 if length is None else length
    if not isinstance(length, int) or isinstance(length, bool) or not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValidationError("generate.length", f"{length!r} must be {MIN_LENGTH}-{MAX_LENGTH}")
    exclude = generate.get("exclude_characters")
    exclude = DEFAULT_EXCLUDE if exclude is None else exclude
    punctuation = not generate.get("exclude_punctuation", False)
    classes = character_classes(exclude, punctuation)
    if not classes:
        raise ValidationError("generate.exclude_characters", "leaves no character to generate from")
    if length < len(classes):
        raise ValidationError("generate.length", f"{length} is shorter than the {len(classes)} character types "
                                                 "a generated value contains one of each")
    return {"field": field, "length": length, "exclude_characters": exclude, "exclude_punctuation": not punctuation}


def character_classes(exclude, punctuation=True):
    """The character types a generated value draws from (each minus ``exclude``), the empty ones left out."""
    pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits]
    if punctuation:
        pools.append(string.punctuation)
    pools = ["".join(c for c in pool if c not in exclude) for pool in pools]
    return [pool for pool in pools if pool]


def generate_password(generate):
    """A random value as GetRandomPassword makes it (RequireEachIncludedType): ``length`` characters with at
    least one of each included type, from Python's ``secrets`` (the OS's CSPRNG). Made locally: no API call,
    and the value travels only in the write that stores it."""
    classes = character_classes(generate["exclude_characters"], not generate["exclude_punctuation"])
    alphabet = "".join(classes)
    while True:
        value = "".join(_random.choice(alphabet) for _index in range(generate["length"]))
        if all(any(c in pool for c in value) for pool in classes):
            return value


def parse_json_value(value):
    """A secret string as a JSON object, or ``None`` when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        document = json.loads(value)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def field_names_of(value):
    """Sorted field names of a JSON secret value, ``None`` for a plain string (or no value)."""
    document = parse_json_value(value)
    return None if document is None else sorted(document)


class ValuePlan:
    """What the value of a secret becomes: ``new`` (the string to write, or ``None`` for no write), and the
    field names set, generated and removed (names only, for the action text)."""

    def __init__(self, new=None, set_fields=(), generated=(), removed=(), reason=None):
        self.new = new
        self.set_fields = sorted(set_fields)
        self.generated = sorted(generated)
        self.removed = sorted(removed)
        self.reason = reason

    def summary(self):
        parts = []
        if self.reason:
            parts.append(self.reason)
        if self.set_fields:
            parts.append("fields set: " + ", ".join(self.set_fields))
        if self.generated:
            parts.append("generated: " + ", ".join(self.generated))
        if self.removed:
            parts.append("fields removed: " + ", ".join(self.removed))
        return "; ".join(parts)


def plan_value(spec, exists, current, rotate=False, generator=generate_password):
    """The value ``spec`` wants, given the secret's current value.

    ``exists``: the secret has a current version. ``current``: its value (a string), or ``None`` when not
    read - only a plain generated secret is left unread, since nothing about it is compared. A generated
    value is made only when the secret has none (or the JSON field is missing or empty), or on ``rotate``:
    a rerun never regenerates it.
    """
    if spec.kind == "string":
        if spec.value is not None:
            if exists and current == spec.value:
                return ValuePlan()
            return ValuePlan(new=spec.value, reason="new value")
        if exists and not rotate:
            return ValuePlan()
        return ValuePlan(new=generator(spec.generate), reason="generated value" if not exists else "rotated")

    document = parse_json_value(current) if exists else None
    desired = {}
    if document is not None and not spec.purge_fields:
        desired.update(document)
    desired.update(spec.fields)
    generated = []
    gen = spec.generate
    if gen:
        old = None if document is None else document.get(gen["field"])
        if rotate or not isinstance(old, str) or not old:
            desired[gen["field"]] = generator(gen)
            generated.append(gen["field"])
        else:
            desired[gen["field"]] = old
    if document is not None and desired == document:
        return ValuePlan()
    before = document or {}
    set_fields = [k for k in desired if k not in generated and (k not in before or before[k] != desired[k])]
    removed = [k for k in before if k not in desired]
    reason = None
    if exists and document is None:
        reason = "the current value is not a JSON object"
    return ValuePlan(new=json.dumps(desired, separators=(",", ":")), set_fields=set_fields, generated=generated,
                     removed=removed, reason=reason)


def _versions(described):
    """Version IDs to staging labels: DescribeSecret's VersionIdsToStages, ListSecrets' SecretVersionsToStages."""
    described = described or {}
    return described.get("VersionIdsToStages") or described.get("SecretVersionsToStages") or {}


def current_version_id(described):
    """VersionId of the AWSCURRENT version of a described (or listed) secret (``None`` when it has no value)."""
    for version_id, stages in _versions(described).items():
        if "AWSCURRENT" in (stages or []):
            return version_id
    return None


def next_version_id(name, described):
    """The VersionId (ClientRequestToken) of the next version we write: derived from the name and the current
    version only (never from a value), so a check-mode run predicts it and a retried write repeats it."""
    known = set(_versions(described))
    previous = current_version_id(described) or "initial"
    counter = 0
    while True:
        token = str(uuid.uuid5(_VERSION_NAMESPACE, f"{name}\n{previous}\n{counter}"))
        if token not in known:
            return token
        counter += 1


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc).isoformat()
    return value


def kms_view(key):
    """The KMS key of a secret as we show it: ``None`` for the AWS managed key ``aws/secretsmanager``."""
    return None if kms_default(key) else key


def secret_facts(described):
    """The ``secret`` return value of a described secret, without values (``{}`` when there is none)."""
    if not described:
        return {}
    return {
        "name": described["Name"],
        "arn": described.get("ARN"),
        "description": described.get("Description") or None,
        "kms_key_id": kms_view(described.get("KmsKeyId")),
        "tags": boto3_tag_list_to_ansible_dict(described.get("Tags") or []),
        "version_id": current_version_id(described),
        "created": _date(described.get("CreatedDate")),
        "last_changed": _date(described.get("LastChangedDate")),
        "deleted_date": _date(described.get("DeletedDate")),
        "rotation_enabled": bool(described.get("RotationEnabled")),
    }


def managed_view(facts, with_fields, with_policy):
    """The fields ``--diff`` shows: metadata, field NAMES and the current version - never a value.

    ``value_version`` changes exactly when a new value is written, so the diff tells "the value changes"
    and reveals nothing about it (not even a hash: a hash of a low-entropy value can be brute-forced).
    """
    if not facts:
        return {}
    view = {"description": facts.get("description"), "kms_key_id": facts.get("kms_key_id"),
            "tags": dict(facts.get("tags") or {}), "value_version": facts.get("version_id")}
    if with_fields:
        view["field_names"] = facts.get("field_names")
    if with_policy:
        view["resource_policy"] = facts.get("resource_policy")
    if facts.get("deleted_date"):
        view["deleted_date"] = facts["deleted_date"]
    return view


def key_matches(wanted, actual, resolve):
    """Whether the KMS key reference ``wanted`` (ID, ARN, alias name or alias ARN) is the key ``actual``.

    ``None``/``alias/aws/secretsmanager`` mean the AWS managed key. ``resolve(key)`` returns a key ARN and is
    called only when the two cannot be matched as text.
    """
    if kms_default(wanted) or kms_default(actual):
        return kms_default(wanted) and kms_default(actual)
    if wanted == actual or actual.endswith(f":key/{wanted}") or actual.endswith(f":{wanted}"):
        return True
    wanted_arn = resolve(wanted)
    return bool(wanted_arn) and wanted_arn in (actual, resolve(actual))


def list_filters(name_prefix=None, tags=None):
    """ListSecrets filters narrowing the listing on the AWS side (exact matching is done on the result)."""
    filters = []
    if name_prefix:
        filters.append({"Key": "name", "Values": [name_prefix]})
    for key in sorted(tags or {}):
        filters.append({"Key": "tag-key", "Values": [key]})
    return filters


def matches(facts, name_prefix=None, tags=None):
    """Exact (case-sensitive) prefix and tag matching of a listed secret."""
    if name_prefix and not facts["name"].startswith(name_prefix):
        return False
    return all(facts["tags"].get(key) == str(value) for key, value in (tags or {}).items())


# ---------------------------------------------------------------------------------------------
# One small function per Secrets Manager (and KMS) call.
# ---------------------------------------------------------------------------------------------
SM_MISSING_CODES = ["ResourceNotFoundException", "NotFoundException"]
# DeleteSecret on a secret already scheduled for deletion: an earlier attempt whose response was lost did it.
# AWS says "...because it was marked for deletion"; moto "...currently marked deleted".
_ALREADY_DELETED = ("marked for deletion", "marked deleted")


H = error_handler(*SM_MISSING_CODES)  # Secrets Manager's (and KMS's) "not found" codes too


# --- reads ---------------------------------------------------------------------------------------
@H.list_error_handler("describe secret", None)
@retry
def describe_secret(client, name):
    return client.describe_secret(SecretId=name)


@H.list_error_handler("get secret value", None)
@retry
def get_secret_value(client, name):
    """The AWSCURRENT SecretString (``None`` for a binary secret or none at all). Never log or return it."""
    return client.get_secret_value(SecretId=name).get("SecretString")


@H.list_error_handler("get secret resource policy", None)
@retry
def get_resource_policy(client, name):
    return parse_policy(client.get_resource_policy(SecretId=name).get("ResourcePolicy"))


@H.list_error_handler("list secrets", [])
@retry
def list_secrets(client, filters=None, include_planned_deletion=False):
    params = {"IncludePlannedDeletion": bool(include_planned_deletion)}
    if filters:
        params["Filters"] = filters
    return paginate_all(client, "list_secrets", "SecretList", **params)


@H.list_error_handler("describe KMS key", None)
@retry
def describe_kms_key_arn(kms_client, key_id):
    return kms_client.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]


# --- writes --------------------------------------------------------------------------------------
@H.common_error_handler("create secret")
@retry
def create_secret(client, name, secret_string, version_id, description=None, kms_key_id=None, tags=None):
    """CreateSecret with our VersionId as ClientRequestToken: a retry after a lost response is ignored."""
    params = {"Name": name, "SecretString": secret_string, "ClientRequestToken": version_id}
    if description:
        params["Description"] = description
    if not kms_default(kms_key_id):
        params["KmsKeyId"] = kms_key_id
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.create_secret(**params)


@H.common_error_handler("put secret value")
@retry
def put_secret_value(client, name, secret_string, version_id):
    return client.put_secret_value(SecretId=name, SecretString=secret_string, ClientRequestToken=version_id)


@H.common_error_handler("update secret")
@retry
def update_secret(client, name, description=None, kms_key_id=None):
    """UpdateSecret of the metadata only (never a value): ``""`` clears the description, a default KMS
    reference goes back to the AWS managed key."""
    params = {"SecretId": name}
    if description is not None:
        params["Description"] = description
    if kms_key_id is not None:
        params["KmsKeyId"] = "alias/aws/secretsmanager" if kms_default(kms_key_id) else kms_key_id
    return client.update_secret(**params)


@H.common_error_handler("restore secret")
@retry
def restore_secret(client, name):
    return client.restore_secret(SecretId=name)


@H.deletion_error_handler("delete secret")
@retry
def delete_secret(client, name, recovery_window_days):
    params = {"SecretId": name}
    if recovery_window_days == 0:
        params["ForceDeleteWithoutRecovery"] = True
    else:
        params["RecoveryWindowInDays"] = recovery_window_days
    try:
        client.delete_secret(**params)
    except is_boto3_error_code("InvalidRequestException") as e:
        if not any(text in str(e) for text in _ALREADY_DELETED):
            raise
    return True


@H.common_error_handler("put secret resource policy")
@retry
def put_resource_policy(client, name, document, block_public_policy=True):
    client.put_resource_policy(SecretId=name, ResourcePolicy=canonical_json(document),
                               BlockPublicPolicy=bool(block_public_policy))


@H.deletion_error_handler("delete secret resource policy")
@retry
def delete_resource_policy(client, name):
    client.delete_resource_policy(SecretId=name)
    return True


@H.common_error_handler("tag secret")
@retry
def tag_resource(client, name, tags):
    client.tag_resource(SecretId=name, Tags=ansible_dict_to_boto3_tag_list(tags))


@H.common_error_handler("untag secret")
@retry
def untag_resource(client, name, keys):
    client.untag_resource(SecretId=name, TagKeys=list(keys))
