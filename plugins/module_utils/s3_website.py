# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The S3 calls of static_website that plugins/module_utils/security.py (trail_bucket's wrappers) lacks.

One small function per call, with an error handler (SeedAWSError naming what was being done) and the
``retry`` policy (every call here is a read, a put that replaces, or a delete: all safe to repeat).
The bucket-level reads and writes static_website shares with trail_bucket (policy, public access block,
tags, create, delete) stay in security.py.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.security import S3_MISSING_CODES

_Handler = error_handler(*S3_MISSING_CODES, "NoSuchKey", "NoSuchWebsiteConfiguration")


@_Handler.common_error_handler("read bucket website configuration")
@retry
def get_bucket_website(client, bucket):
    """The website configuration; ``{}`` when the bucket has none, ``None`` when the bucket does not exist.

    The two S3 answers (``NoSuchWebsiteConfiguration``, ``NoSuchBucket``) tell existence apart, so this
    read doubles as the existence check (no HeadBucket).
    """
    try:
        found = client.get_bucket_website(Bucket=bucket)
    except is_boto3_error_code("NoSuchBucket"):
        return None
    except is_boto3_error_code("NoSuchWebsiteConfiguration"):
        return {}
    return {k: v for k, v in found.items() if k != "ResponseMetadata"}


@_Handler.common_error_handler("set bucket website configuration")
@retry
def put_bucket_website(client, bucket, config):
    client.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)


@_Handler.deletion_error_handler("delete bucket policy")
@retry
def delete_bucket_policy(client, bucket):
    client.delete_bucket_policy(Bucket=bucket)


@_Handler.list_error_handler("read object", None)
@retry
def head_object(client, bucket, key):
    """HeadObject (ETag, ContentType, Metadata, encryption); ``None`` when there is no such object."""
    found = client.head_object(Bucket=bucket, Key=key)
    return {k: v for k, v in found.items() if k != "ResponseMetadata"}


@_Handler.common_error_handler("upload object")
@retry
def put_object(client, bucket, key, body, content_type, metadata):
    # The same body, type and metadata again: a retry after a lost response leaves the same object.
    client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata)


@_Handler.list_error_handler("list objects", [])
@retry
def list_object_keys(client, bucket):
    """The keys of the bucket's current objects (ListObjectsV2, page by page)."""
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


@_Handler.common_error_handler("list object versions")
@retry
def list_object_versions_or_missing(client, bucket):
    """Every object version and delete marker (``{"Key", "VersionId"}``); ``None`` when there is no bucket.

    The first page's ``NoSuchBucket`` is the existence check of a removal (no HeadBucket).
    """
    found = []
    try:
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                found.append({"Key": item["Key"], "VersionId": item["VersionId"]})
    except is_boto3_error_code("NoSuchBucket"):
        return None
    return found
