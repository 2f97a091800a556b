# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""static_website: validation (field named, before any client), the check-mode prediction from recorded S3
answers, the object comparison (sha256 metadata, else a plain-MD5 ETag), and the failure of a denied bucket
policy / public access block write. Behaviour against the local AWS: tests/integration/test_static_website.py.

The S3 answers below are botocore Stubber responses shaped as S3 returns them (recorded shapes, not a server).
"""

import hashlib
import json

import pytest

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.modules import static_website

BUCKET = "app.example.com"
PAGE = b"<html>We will be back soon</html>\n"
HTML = "text/html; charset=utf-8"


def params(**kwargs):
    return dict(dict(name=BUCKET, state="present", index_document="index.html", error_document="index.html",
                     public_read=True, files=[{"key": "index.html", "src": None, "content": PAGE.decode(),
                                               "content_type": HTML}],
                     purge_files=False, force_absent=False, tags={"team": "web"}, purge_tags=True), **kwargs)


# --- validation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, field", [
    (dict(name="App.example.com"), "name"), (dict(name="ab"), "name"), (dict(name="a..b"), "name"),
    (dict(name="10.0.0.1"), "name"), (dict(name="xn--abc"), "name"), (dict(name="a-.b"), "name"),
    (dict(index_document=""), "index_document"), (dict(index_document="a/index.html"), "index_document"),
    (dict(error_document=""), "error_document"), (dict(error_document="/e.html"), "error_document"),
    (dict(files=[{"key": "a", "src": None, "content": None}]), "files[0].src"),
    (dict(files=[{"key": "a", "src": "/etc/hostname", "content": "x"}]), "files[0].src"),
    (dict(files=[{"key": "a", "src": "/nonexistent/page.html", "content": None}]), "files[0].src"),
    (dict(files=[{"key": "", "content": "x"}]), "files[0].key"),
    (dict(files=[{"key": "/a", "content": "x"}]), "files[0].key"),
    (dict(files=[{"key": "a", "content": "x"}, {"key": "a", "content": "y"}]), "files[1].key"),
    (dict(files=[{"key": "a", "content": "x", "content_type": "html"}]), "files[0].content_type"),
    (dict(tags={"aws:owner": "x"}), "tags"),
    (dict(tags={"k": "v" * 257}), "tags.k"),
])
def test_validation_names_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        static_website.validate(params(**kwargs))
    assert e.value.field == field and str(e.value.message).startswith(f"{field}: ")


def test_absent_checks_only_the_name():
    static_website.validate(params(state="absent", index_document="", files=[{"key": "", "content": None}]))


def test_files_are_read_and_hashed_before_any_call(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(PAGE)
    files, tags = static_website.validate(params(files=[{"key": "index.html", "src": str(page)},
                                                        {"key": "data/x.json", "content": "{}"},
                                                        {"key": "blob.bin7", "content": "x"}], tags={"n": 1}))
    assert files["index.html"]["body"] == PAGE and files["index.html"]["sha256"] == hashlib.sha256(PAGE).hexdigest()
    assert files["index.html"]["content_type"] == HTML  # guessed: text/* with the charset
    assert files["data/x.json"]["content_type"] == "application/json"
    assert files["blob.bin7"]["content_type"] == "application/octet-stream"
    assert tags == {"n": "1"}


def test_bad_input_fails_before_any_client(monkeypatch):
    monkeypatch.setattr(SeedAWSModule, "client", lambda *a, **k: pytest.fail("no client before validation"))
    result = run_module(monkeypatch, static_website, {"name": BUCKET, "files": [{"key": "a.html"}]})
    assert result["failed"] and result["msg"].startswith("files[0].src: ")


# --- the object comparison -------------------------------------------------------------------------
WANTED = {"sha256": hashlib.sha256(PAGE).hexdigest(), "md5": hashlib.md5(PAGE).hexdigest(), "content_type": HTML}


@pytest.mark.parametrize("head, sha256", [
    ({"ETag": '"x"', "Metadata": {"sha256": WANTED["sha256"]}}, WANTED["sha256"]),  # ours: the stored sha256
    ({"ETag": f'"{WANTED["md5"]}"', "Metadata": {}}, WANTED["sha256"]),  # another tool's single-part upload
    ({"ETag": f'"{WANTED["md5"]}"', "ServerSideEncryption": "AES256"}, WANTED["sha256"]),  # SSE-S3: still an MD5
    ({"ETag": f'"{WANTED["md5"]}"', "ServerSideEncryption": "aws:kms"}, f"etag:{WANTED['md5']}"),  # not an MD5
    ({"ETag": f'"{WANTED["md5"]}"', "SSECustomerAlgorithm": "AES256"}, f"etag:{WANTED['md5']}"),
    ({"ETag": '"0123456789abcdef0123456789abcdef-2"'}, "etag:0123456789abcdef0123456789abcdef-2"),  # multipart
    ({"ETag": '"0123456789abcdef0123456789abcdef"'}, "etag:0123456789abcdef0123456789abcdef"),  # other content
])
def test_object_view(head, sha256):
    view = static_website.object_view(dict(head, ContentType=HTML), WANTED)
    assert view == {"sha256": sha256, "content_type": HTML}


def test_the_policy_is_the_maintenance_pages_one():
    assert static_website.public_read_policy(BUCKET) == {
        "Version": "2012-10-17", "Statement": [{"Sid": "PublicReadMaintenancePage", "Effect": "Allow",
                                                "Principal": "*", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::app.example.com/*"}]}


# --- check mode, from recorded S3 answers ----------------------------------------------------------
class _Module:
    def __init__(self, check_mode, **kwargs):
        self.check_mode = check_mode
        self.region = "us-east-1"
        self.params = params(**kwargs)


def _manager(stub, check_mode=True, **kwargs):
    """A WebsiteManager on a stubbed S3 client: ``stub(stubber)`` queues the answers, in call order."""
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.stub import Stubber  # pylint: disable=import-outside-toplevel

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stub(stubber)
    stubber.activate()
    module = _Module(check_mode, **kwargs)
    manager = static_website.WebsiteManager.__new__(static_website.WebsiteManager)
    manager.module, manager.params, manager.s3, manager.name = module, module.params, client, BUCKET
    manager.files, manager.tags = static_website.validate(module.params)
    manager.actions, manager.facts = [], {}
    return manager, stubber


def _error(stubber, operation, code, status=404):
    stubber.add_client_error(operation, service_error_code=code, service_message=code, http_status_code=status)


def test_check_mode_on_a_missing_bucket_predicts_everything_after_one_read():
    manager, stubber = _manager(lambda s: _error(s, "get_bucket_website", "NoSuchBucket"))
    facts, before, after = manager.present()
    stubber.assert_no_pending_responses()  # one read: the website answer tells that the bucket is missing
    assert facts == {} and before is None
    assert manager.actions == [
        f"create bucket {BUCKET}",
        f"set public access block of bucket {BUCKET}: block ACLs, allow the public-read policy",
        f"set policy of bucket {BUCKET}: public read of its objects",
        f"set website of bucket {BUCKET}: index index.html, error index.html",
        f"set tags seed:component, seed:managed-by, team of bucket {BUCKET}",
        f"upload index.html to bucket {BUCKET} (sha256 {WANTED['sha256'][:12]}, {HTML})",
    ]
    assert after["files"] == {"index.html": {"sha256": WANTED["sha256"], "content_type": HTML}}


def _converged(stubber, etag=None, policy=None, block=None, website=None, tags=None):
    website = website or {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "index.html"}}
    stubber.add_response("get_bucket_website", website)
    stubber.add_response("get_bucket_policy", {"Policy": json.dumps(policy or static_website.public_read_policy(
        BUCKET))})
    stubber.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": block or dict(
        static_website.PUBLIC_READ_BLOCK)})
    stubber.add_response("get_bucket_tagging", {"TagSet": [{"Key": k, "Value": v} for k, v in (tags or {
        "team": "web", "seed:managed-by": "seed.aws_migration", "seed:component": "static-website"}).items()]})
    stubber.add_response("head_object", {"ETag": etag or f'"{WANTED["md5"]}"', "ContentType": HTML,
                                         "Metadata": {} if etag else {"sha256": WANTED["sha256"]}})


def test_check_mode_on_a_converged_bucket_predicts_nothing_with_five_reads():
    manager, stubber = _manager(_converged)
    facts, before, after = manager.present()
    stubber.assert_no_pending_responses()
    assert manager.actions == [] and before == after
    assert facts["public_read"] is True and facts["website_endpoint"] == f"{BUCKET}.s3-website-us-east-1.amazonaws.com"


def test_check_mode_predicts_each_drift():
    drift = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                                     "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}
    manager, _stubber = _manager(lambda s: _converged(
        s, etag='"0123456789abcdef0123456789abcdef"', policy=drift, block=dict(static_website.PRIVATE_BLOCK),
        website={"IndexDocument": {"Suffix": "index.html"}}, tags={"team": "ops"}))
    manager.present()
    assert manager.actions == [
        f"set public access block of bucket {BUCKET}: block ACLs, allow the public-read policy",
        f"set policy of bucket {BUCKET}: public read of its objects",
        f"set website of bucket {BUCKET}: index index.html, error index.html",
        f"set tags seed:component, seed:managed-by, team of bucket {BUCKET}",
        f"upload index.html to bucket {BUCKET} (sha256 {WANTED['sha256'][:12]}, {HTML})",
    ]


def test_check_mode_absent_refuses_a_bucket_with_objects_without_force_absent():
    def stub(s):
        s.add_response("list_object_versions", {"Versions": [{"Key": "index.html", "VersionId": "null"}]})

    manager, _stubber = _manager(stub, state="absent")
    with pytest.raises(SeedAWSError) as e:
        manager.absent()
    assert e.value.message.startswith("force_absent: ")
    manager, _stubber = _manager(stub, state="absent", force_absent=True)
    manager.absent()
    assert manager.actions == [f"delete 1 object version(s) from bucket {BUCKET}", f"delete bucket {BUCKET}"]


def test_check_mode_absent_of_a_missing_bucket_is_one_read():
    manager, stubber = _manager(lambda s: _error(s, "list_object_versions", "NoSuchBucket"), state="absent")
    assert manager.absent() == ({}, None, None) and manager.actions == []
    stubber.assert_no_pending_responses()


# --- a denied bucket policy / public access block write names bootstrap.yml (recorded AccessDenied) ---------
@pytest.mark.parametrize("operation, action", [
    ("put_public_access_block", "s3:PutBucketPublicAccessBlock"),
    ("put_bucket_policy", "s3:PutBucketPolicy"),
])
def test_a_denied_resource_policy_write_says_bootstrap_writes_it(operation, action):
    """The AccessDenied answer as S3 gives it to a principal without the permission (recorded shape)."""
    def stub(s):
        _converged(s, policy={"Version": "2012-10-17", "Statement": []}, block=dict(static_website.PRIVATE_BLOCK))
        if operation == "put_bucket_policy":
            s.add_response("put_public_access_block", {})
        _error(s, operation, "AccessDenied", 403)  # S3's message does not always name the action

    manager, _stubber = _manager(stub, check_mode=False)
    with pytest.raises(SeedAWSError) as e:
        manager.present()
    assert f"{action} denied" in e.value.message
    assert "playbooks/bootstrap.yml with administrator credentials" in e.value.message


def test_a_bucket_name_of_another_account_is_named():
    manager, _stubber = _manager(lambda s: _error(s, "get_bucket_website", "AccessDenied", 403))
    with pytest.raises(SeedAWSError) as e:
        manager.present()
    assert e.value.message.startswith("name: access denied reading bucket")
