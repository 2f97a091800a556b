# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small function per S3, SNS, EventBridge and STS call of trail_bucket and incident_routing.

Each carries an error handler (raising SeedAWSError with what was being done) and the ``retry``
policy. ``_Handler`` also treats the S3 "there is no such configuration" codes as missing, so a missing
configuration reads as its empty default.
"""

import json


from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry

S3_MISSING_CODES = [
    "NoSuchBucket",
    "NoSuchTagSet",
    "NoSuchBucketPolicy",
    "NoSuchLifecycleConfiguration",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "OwnershipControlsNotFoundError",
    "NotFound",  # SNS GetTopicAttributes, SNS ListTagsForResource, S3 HeadBucket
    "404",
]


_Handler = error_handler(*S3_MISSING_CODES)


# ---------------------------------------------------------------- STS


@_Handler.common_error_handler("read the account id")
@retry
def account_id(client):
    return client.get_caller_identity()["Account"]


# ---------------------------------------------------------------- S3


_MISSING = object()


@_Handler.list_error_handler("read bucket encryption", _MISSING)
@retry
def get_bucket_encryption(client, bucket):
    return client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]


@_Handler.list_error_handler("read bucket existence", False)
@retry
def bucket_exists(client, bucket):
    client.head_bucket(Bucket=bucket)
    return True


def get_bucket_encryption_or_missing(client, bucket):
    """The encryption configuration; ``None`` when the bucket does not exist.

    One call tells both: every S3 bucket has default encryption since 2023, so a missing configuration
    (``{}``) only comes from an emulator; then HeadBucket decides whether the bucket exists.
    """
    found = get_bucket_encryption(client, bucket)
    if found is _MISSING:
        return {} if bucket_exists(client, bucket) else None
    return found


@_Handler.list_error_handler("read bucket public access block", {})
@retry
def get_public_access_block(client, bucket):
    return client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]


@_Handler.list_error_handler("read bucket ownership controls", "")
@retry
def get_object_ownership(client, bucket):
    rules = client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    return rules[0]["ObjectOwnership"] if rules else ""


@_Handler.list_error_handler("read bucket policy", None)
@retry
def get_bucket_policy(client, bucket):
    return json.loads(client.get_bucket_policy(Bucket=bucket)["Policy"])


@_Handler.list_error_handler("read bucket lifecycle", [])
@retry
def get_bucket_lifecycle(client, bucket):
    return client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]


@_Handler.list_error_handler("read bucket tags", {})
@retry
def get_bucket_tags(client, bucket):
    return {t["Key"]: t["Value"] for t in client.get_bucket_tagging(Bucket=bucket)["TagSet"]}


@_Handler.common_error_handler("create bucket")
@retry
def create_bucket(client, bucket, region):
    params = dict(Bucket=bucket, ObjectOwnership="BucketOwnerEnforced")
    if region and region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**params)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass  # a lost response to an earlier attempt: the bucket is ours, which is what we want


@_Handler.common_error_handler("set bucket ownership controls")
@retry
def put_object_ownership(client, bucket, ownership):
    client.put_bucket_ownership_controls(Bucket=bucket,
                                         OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})


@_Handler.common_error_handler("set bucket public access block")
@retry
def put_public_access_block(client, bucket, config):
    client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=config)


@_Handler.common_error_handler("set bucket encryption")
@retry
def put_bucket_encryption(client, bucket, rule):
    client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})


@_Handler.common_error_handler("set bucket policy")
@retry
def put_bucket_policy(client, bucket, policy):
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


@_Handler.common_error_handler("set bucket lifecycle")
@retry
def put_bucket_lifecycle(client, bucket, rules):
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})


@_Handler.deletion_error_handler("delete bucket lifecycle")
@retry
def delete_bucket_lifecycle(client, bucket):
    client.delete_bucket_lifecycle(Bucket=bucket)


@_Handler.common_error_handler("set bucket tags")
@retry
def put_bucket_tags(client, bucket, tags):
    client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


@_Handler.deletion_error_handler("delete bucket tags")
@retry
def delete_bucket_tags(client, bucket):
    client.delete_bucket_tagging(Bucket=bucket)


@_Handler.list_error_handler("list object versions", [])
@retry
def list_object_versions(client, bucket):
    """Every object version and delete marker (``{"Key", "VersionId"}``), one page at a time."""
    found = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            found.append({"Key": item["Key"], "VersionId": item["VersionId"]})
    return found


@_Handler.common_error_handler("delete objects")
@retry
def delete_objects(client, bucket, objects):
    for start in range(0, len(objects), 1000):
        client.delete_objects(Bucket=bucket, Delete={"Objects": objects[start:start + 1000], "Quiet": True})


@_Handler.deletion_error_handler("delete bucket")
@retry
def delete_bucket(client, bucket):
    client.delete_bucket(Bucket=bucket)


# ---------------------------------------------------------------- SNS


@_Handler.list_error_handler("read topic attributes", None)
@retry
def get_topic_attributes(client, arn):
    return client.get_topic_attributes(TopicArn=arn)["Attributes"]


@_Handler.list_error_handler("list topic tags", {})
@retry
def list_topic_tags(client, arn):
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceArn=arn).get("Tags", [])}


@_Handler.list_error_handler("list topic subscriptions", [])
@retry
def list_subscriptions(client, arn):
    return paginate_all(client, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)


@_Handler.common_error_handler("create topic")
@retry
def create_topic(client, name, attributes, tags):
    # CreateTopic is idempotent for the same name, attributes and tags: a retry is harmless.
    return client.create_topic(Name=name, Attributes=attributes,
                               Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["TopicArn"]


@_Handler.common_error_handler("set topic attribute")
@retry
def set_topic_attribute(client, arn, name, value):
    client.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)


@_Handler.common_error_handler("tag topic")
@retry
def tag_topic(client, arn, tags):
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


@_Handler.common_error_handler("untag topic")
@retry
def untag_topic(client, arn, keys):
    client.untag_resource(ResourceArn=arn, TagKeys=list(keys))


@_Handler.common_error_handler("subscribe")
@retry
def subscribe(client, arn, protocol, endpoint):
    # Subscribe is idempotent for the same topic, protocol and endpoint.
    return client.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint,
                            ReturnSubscriptionArn=True).get("SubscriptionArn")


@_Handler.deletion_error_handler("unsubscribe")
@retry
def unsubscribe(client, subscription_arn):
    client.unsubscribe(SubscriptionArn=subscription_arn)


@_Handler.deletion_error_handler("delete topic")
@retry
def delete_topic(client, arn):
    client.delete_topic(TopicArn=arn)


# ---------------------------------------------------------------- EventBridge


@_Handler.list_error_handler("describe rule", None)
@retry
def describe_rule(client, name):
    return client.describe_rule(Name=name)


@_Handler.list_error_handler("list rule targets", [])
@retry
def list_targets(client, name):
    return paginate_all(client, "list_targets_by_rule", "Targets", Rule=name)


@_Handler.list_error_handler("list rule tags", {})
@retry
def list_rule_tags(client, arn):
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceARN=arn).get("Tags", [])}


@_Handler.common_error_handler("put rule")
@retry
def put_rule(client, **params):
    return client.put_rule(**params)["RuleArn"]


@_Handler.common_error_handler("put rule targets")
@retry
def put_targets(client, name, targets):
    failed = client.put_targets(Rule=name, Targets=targets).get("FailedEntries") or []
    if failed:
        raise SeedAWSError(message=f"Failed to put targets of rule {name}: {failed}")


@_Handler.deletion_error_handler("remove rule targets")
@retry
def remove_targets(client, name, ids):
    client.remove_targets(Rule=name, Ids=list(ids), Force=True)


@_Handler.common_error_handler("tag rule")
@retry
def tag_rule(client, arn, tags):
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


@_Handler.common_error_handler("untag rule")
@retry
def untag_rule(client, arn, keys):
    client.untag_resource(ResourceARN=arn, TagKeys=list(keys))


@_Handler.deletion_error_handler("delete rule")
@retry
def delete_rule(client, name):
    client.delete_rule(Name=name, Force=True)
