# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""trail_bucket: validation (field named, before any client), the bucket policy and encryption it renders,
and the views it compares. Behaviour against the local AWS: tests/integration/test_security_role.py."""

import pytest

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.modules import trail_bucket


def bucket_params(**kwargs):
    return dict(dict(name="audit-bucket", state="present", trail_name="audit", kms_key_id=None, expiration_days=None,
                     purge_objects=False, tags=None, purge_tags=True), **kwargs)


# --- trail_bucket ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, field", [
    (dict(name="Audit"), "name"), (dict(name="ab"), "name"), (dict(name="a..b"), "name"),
    (dict(trail_name=None), "trail_name"), (dict(trail_name="a b"), "trail_name"),
    (dict(expiration_days=-1), "expiration_days"),
])
def test_bucket_validation_names_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        trail_bucket.validate(bucket_params(**kwargs))
    assert e.value.field == field and str(e.value.message).startswith(f"{field}: ")


def test_bucket_absent_needs_no_trail():
    trail_bucket.validate(bucket_params(state="absent", trail_name=None))


def test_bucket_policy_allows_only_the_trail_and_denies_plain_http():
    trail = trail_bucket.trail_arn("eu-west-1", "123456789012", "audit")
    assert trail == "arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit"
    statements = trail_bucket.bucket_policy("audit-bucket", "123456789012", trail)["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in allows} == {"cloudtrail.amazonaws.com"}
    assert {s["Action"] for s in allows} == {"s3:GetBucketAcl", "s3:PutObject"}
    assert all(s["Condition"]["StringEquals"]["aws:SourceArn"] == trail for s in allows)
    assert [s["Resource"] for s in allows if s["Action"] == "s3:PutObject"] == [
        "arn:aws:s3:::audit-bucket/AWSLogs/123456789012/*"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny == [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": ["arn:aws:s3:::audit-bucket", "arn:aws:s3:::audit-bucket/*"],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]


def test_encryption_rules_and_views():
    assert trail_bucket.encryption_view({"Rules": [trail_bucket.encryption_rule(None)]}) == {
        "algorithm": "AES256", "kms_key_id": None, "bucket_key": False}
    assert trail_bucket.encryption_view({"Rules": [trail_bucket.encryption_rule("alias/audit")]}) == {
        "algorithm": "aws:kms", "kms_key_id": "alias/audit", "bucket_key": True}
    # AWS reports BucketKeyEnabled=false for SSE-S3: no difference.
    assert trail_bucket.encryption_view({"Rules": [{"ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]})["bucket_key"] is False


@pytest.mark.parametrize("rules, days", [
    ([], 0),
    ([{"ID": "seed-trail-expiration", "Status": "Enabled", "Expiration": {"Days": 90}}], 90),
    ([{"ID": "seed-trail-expiration", "Status": "Disabled", "Expiration": {"Days": 90}}], None),
    ([{"ID": "other", "Status": "Enabled", "Expiration": {"Days": 90}}], None),
])
def test_expiration_view(rules, days):
    assert trail_bucket.expiration_view(rules) == days


def test_bucket_bad_input_fails_before_any_client(monkeypatch):
    monkeypatch.setattr(SeedAWSModule, "client", lambda *a, **k: pytest.fail("no client before validation"))
    result = run_module(monkeypatch, trail_bucket, {"name": "Bad_Name", "trail_name": "audit"})
    assert result["failed"] and result["msg"].startswith("name: ")


# --- a denied bucket policy / lifecycle write names bootstrap.yml (recorded AccessDenied responses) ---------
class _Module:
    check_mode = False


def _denied_manager(operation, message):
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.stub import Stubber  # pylint: disable=import-outside-toplevel

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error(operation, service_error_code="AccessDenied", service_message=message, http_status_code=403)
    stubber.activate()
    manager = trail_bucket.BucketManager.__new__(trail_bucket.BucketManager)
    manager.module, manager.s3, manager.name, manager.actions = _Module(), client, "local-seed-audit-trail", []
    return manager


@pytest.mark.parametrize("operation, action, call, args", [
    ("put_bucket_policy", "s3:PutBucketPolicy", "put_bucket_policy", ({"Version": "2012-10-17", "Statement": []},)),
    ("put_bucket_lifecycle_configuration", "s3:PutLifecycleConfiguration", "put_bucket_lifecycle",
     ([{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}],)),
])
def test_a_denied_resource_policy_write_says_bootstrap_writes_it(operation, action, call, args):
    """The AccessDenied answer as S3 gives it to a principal without the permission (recorded shape)."""
    manager = _denied_manager(operation, "Access Denied")  # S3's message does not always name the action
    with pytest.raises(trail_bucket.SeedAWSError) as e:
        manager._do_resource_policy("set it", getattr(trail_bucket.api, call), manager.s3, manager.name, *args)
    assert f"{action} denied" in e.value.message
    assert "playbooks/bootstrap.yml with administrator credentials" in e.value.message
