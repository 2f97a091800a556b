# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identity tags and tag handling shared by every module.

Every resource a module creates carries identity tags (``seed:environment``, ``seed:name``,
``seed:component`` and, where it applies, ``seed:az``), written atomically at creation through
TagSpecifications. A rerun, also one after a run that was killed halfway, finds resources by these
tags and never creates a second one.
"""

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import is_transient

TAG_ENVIRONMENT = "seed:environment"
TAG_NAME = "seed:name"
TAG_COMPONENT = "seed:component"
TAG_AZ = "seed:az"
TAG_MANAGED_BY = "seed:managed-by"
IDENTITY_KEYS = (TAG_ENVIRONMENT, TAG_NAME, TAG_COMPONENT, TAG_AZ, TAG_MANAGED_BY)
# What every AWS service that takes tags accepts (some allow more; none less).
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


def text_tags(tags):
    """User tags as AWS stores them: text keys and values - a YAML number as written (``1234``), a
    boolean lower-case (``true``), an empty value as ``""`` - so they are sent as text and compared as
    AWS returns them. A key AWS reserves (``aws:``), a list or dict value, or a key or value longer than
    AWS allows fails naming the tag."""
    out = {}
    for key, value in tags.items():
        key = str(key)
        if not 1 <= len(key) <= MAX_TAG_KEY:
            raise ValidationError("tags", f"tag key {key!r} must be 1-{MAX_TAG_KEY} characters long")
        if key.lower().startswith("aws:"):
            raise ValidationError("tags", f"tag key {key!r} is reserved (aws:* system tags)")
        if isinstance(value, (dict, list, tuple, set)):
            raise ValidationError(f"tags.{key}", "must be text, a number or a boolean")
        value = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        if len(value) > MAX_TAG_VALUE:
            raise ValidationError(f"tags.{key}", f"is longer than {MAX_TAG_VALUE} characters")
        out[key] = value
    return out


def identity_tags(environment, name, component=None, az=None):
    tags = {TAG_ENVIRONMENT: environment, TAG_NAME: name, TAG_MANAGED_BY: "seed.aws_migration"}
    if component:
        tags[TAG_COMPONENT] = component
    if az:
        tags[TAG_AZ] = az
    return tags


def resource_tags(user_tags, identity, display_name=None):
    """User tags, then ``Name``, then identity tags (which always win)."""
    tags = dict(user_tags or {})
    if display_name and "Name" not in tags:
        tags["Name"] = display_name
    tags.update(identity)
    return tags


def tag_filters(tags):
    """EC2 ``Filters`` matching every given tag."""
    return [{"Name": f"tag:{key}", "Values": [value]} for key, value in sorted(tags.items())]


def tag_specifications(resource_type, tags):
    return [{"ResourceType": resource_type, "Tags": ansible_dict_to_boto3_tag_list(tags)}]


def tags_of(resource):
    """Tags of a described EC2 resource as a dict."""
    return boto3_tag_list_to_ansible_dict(resource.get("Tags") or [])


def tag_delta(current, desired, purge_tags):
    """(to_set, to_unset) to bring ``current`` to ``desired``; ``Name`` and the collection's own ``seed:*``
    keys are never purged (a module removes one of its own markers itself, when it is no longer true)."""
    to_set, to_unset = compare_aws_tags(current, desired, purge_tags=purge_tags)
    to_unset = [key for key in to_unset if key not in IDENTITY_KEYS and key != "Name" and not key.startswith("seed:")]
    return to_set, to_unset


def create_once(create, find, attempts=4):
    """Create a resource whose create call has no idempotency token, exactly once.

    ``create()`` tags the resource atomically. When it fails with a transient error the request
    may still have been carried out, so ``find()`` (a lookup by identity tags) runs before the next
    attempt and its result is adopted if it is there.
    """
    last = None
    for _attempt in range(attempts):
        try:
            return create()
        except SeedAWSError as e:
            if not is_transient(e):
                raise
            last = e
            found = find()
            if found:
                return found
    raise last
