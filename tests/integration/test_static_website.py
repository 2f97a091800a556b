"""static_website against the local AWS over HTTP, requests counted at the server.

The rhythm of every step (support/converge.py): check mode (prediction, zero writes), apply (the same
actions, one write request per action), re-apply (changed=false, zero writes); then direct reads with boto3.

What the local AWS (moto 5.2.5) does here: it keeps the website configuration, policy, public access block,
tags and objects as given (ETag = MD5 of a single-part upload, user metadata kept), answers NoSuchBucket and
NoSuchWebsiteConfiguration apart (the module's existence check), and refuses to delete a bucket that holds
objects, as AWS does. It serves no website endpoint and does not evaluate the public access block.
"""

from __future__ import annotations

import hashlib
import json

from support.converge import converge
from support.servers import boto3_client

BUCKET = "www.it.seed.example"
PAGE = "<html><body>We will be back soon</body></html>\n"
HTML = "text/html; charset=utf-8"


def site(**kwargs):
    return dict(dict(name=BUCKET, error_document="index.html", tags={"team": "web"},
                     files=[{"key": "index.html", "content": PAGE, "content_type": HTML}]), **kwargs)


def test_website_lifecycle(clean_aws, ansible, tmp_path):
    runner, s3 = ansible, boto3_client("s3", clean_aws.endpoint_url)
    created = converge(runner, clean_aws, site(), "static_website")
    assert created["actions"] == [
        f"create bucket {BUCKET}",
        f"set public access block of bucket {BUCKET}: block ACLs, allow the public-read policy",
        f"set policy of bucket {BUCKET}: public read of its objects",
        f"set website of bucket {BUCKET}: index index.html, error index.html",
        f"set tags seed:component, seed:managed-by, team of bucket {BUCKET}",
        f"upload index.html to bucket {BUCKET} (sha256 {hashlib.sha256(PAGE.encode()).hexdigest()[:12]}, {HTML})",
    ]
    website = created["website"]
    assert website["website_endpoint"] == f"{BUCKET}.s3-website-us-east-1.amazonaws.com"
    assert website["website_hosted_zone_id"] == "Z3AQBSTGFYJSTF" and website["public_read"] is True
    assert s3.get_bucket_website(Bucket=BUCKET)["IndexDocument"] == {"Suffix": "index.html"}
    # the policy the dns role's maintenance buckets always had (its former templates/maintenance_policy.json.j2)
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == {
        "Version": "2012-10-17", "Statement": [{"Sid": "PublicReadMaintenancePage", "Effect": "Allow",
                                                "Principal": "*", "Action": "s3:GetObject",
                                                "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    page = s3.get_object(Bucket=BUCKET, Key="index.html")
    assert page["Body"].read().decode() == PAGE and page["ContentType"] == HTML
    assert page["Metadata"] == {"sha256": hashlib.sha256(PAGE.encode()).hexdigest()}

    # One file changes (from a file now): one upload, nothing else.
    source = tmp_path / "index.html"
    source.write_text(PAGE + "<!-- v2 -->\n")
    changed = converge(runner, clean_aws, site(files=[{"key": "index.html", "src": str(source),
                                                       "content_type": HTML}]), "static_website")
    assert [a.split(" (")[0] for a in changed["actions"]] == [f"upload index.html to bucket {BUCKET}"]
    assert sum(changed["writes_by_action"].values()) == 1, changed["writes_by_action"]
    assert changed["diff"]["before"]["files"]["index.html"]["sha256"] == hashlib.sha256(PAGE.encode()).hexdigest()

    # Drift made behind its back (policy, public access block, website): corrected, each once.
    s3.delete_bucket_policy(Bucket=BUCKET)
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={"IndexDocument": {"Suffix": "home.html"}})
    fixed = converge(runner, clean_aws, site(files=[{"key": "index.html", "src": str(source), "content_type": HTML}]),
                     "static_website")
    assert fixed["actions"] == [
        f"set public access block of bucket {BUCKET}: block ACLs, allow the public-read policy",
        f"set policy of bucket {BUCKET}: public read of its objects",
        f"set website of bucket {BUCKET}: index index.html, error index.html",
    ]
    assert fixed["diff"]["before"]["policy"] is None and fixed["diff"]["before"]["website"]["index_document"] == \
        "home.html"

    # A second file and the purge of what is not listed.
    s3.put_object(Bucket=BUCKET, Key="stray.txt", Body=b"left over")
    purged = converge(runner, clean_aws, site(files=[
        {"key": "index.html", "src": str(source), "content_type": HTML},
        {"key": "css/site.css", "content": "body { color: #333; }\n"}], purge_files=True), "static_website")
    assert [a.split(" (")[0] for a in purged["actions"]] == [
        f"upload css/site.css to bucket {BUCKET}", f"delete 1 object(s) from bucket {BUCKET}: stray.txt"]
    assert s3.head_object(Bucket=BUCKET, Key="css/site.css")["ContentType"] == "text/css; charset=utf-8"
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == ["css/site.css", "index.html"]

    # Private: no policy, all public access blocked.
    private = converge(runner, clean_aws, site(files=[], public_read=False), "static_website")
    assert private["actions"] == [f"set public access block of bucket {BUCKET}: block all public access",
                                  f"delete policy of bucket {BUCKET}"]
    assert private["website"]["public_read"] is False

    # Absent: refused while objects are there (naming force_absent), then deleted with them.
    refused = runner.module("static_website", {"name": BUCKET, "state": "absent"})
    assert refused.get("failed") and refused["msg"].startswith("force_absent: ")
    gone = converge(runner, clean_aws, {"name": BUCKET, "state": "absent", "force_absent": True}, "static_website")
    assert gone["actions"] == [f"delete 2 object version(s) from bucket {BUCKET}", f"delete bucket {BUCKET}"]
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_an_object_uploaded_by_another_tool_is_compared_by_its_etag(clean_aws, ansible):
    """The dns role's pages were uploaded by amazon.aws.s3_object (no sha256 metadata): same content, no upload."""
    runner, s3 = ansible, boto3_client("s3", clean_aws.endpoint_url)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=PAGE.encode(), ContentType=HTML)
    clean_aws.reset_counts()
    result = runner.module("static_website", site(), check=True, diff=True)
    assert [a.split(":")[0] for a in result["actions"]] == [
        f"set public access block of bucket {BUCKET}", f"set policy of bucket {BUCKET}",
        f"set website of bucket {BUCKET}", "set tags seed"]
    assert clean_aws.requests()["writes"] == 0


def test_a_no_op_run_reads_one_of_each_kind(clean_aws, ansible):
    runner = ansible
    converge(runner, clean_aws, site(), "static_website")
    clean_aws.reset_counts()
    again = runner.module("static_website", site())
    assert again["changed"] is False
    counts = clean_aws.requests()
    assert counts["writes"] == 0
    # GetBucketWebsite (also the existence check), GetBucketPolicy, GetPublicAccessBlock, GetBucketTagging,
    # HeadObject: five reads, no HeadBucket
    assert counts["reads"] == 5, counts["by_action"]


def test_bad_input_makes_no_request(clean_aws, ansible, tmp_path):
    runner = ansible
    clean_aws.reset_counts()
    for args, field in [
        ({"name": "Bad_Bucket"}, "name:"),
        ({"name": "192.168.1.10"}, "name:"),
        (site(index_document="pages/index.html"), "index_document:"),
        (site(files=[{"key": "a.html"}]), "files[0].src:"),
        (site(files=[{"key": "a.html", "content": "x", "src": str(tmp_path / "a.html")}]), "files[0].src:"),
        (site(files=[{"key": "a.html", "src": str(tmp_path / "missing.html")}]), "files[0].src:"),
        (site(files=[{"key": "a.html", "content": "x"}, {"key": "a.html", "content": "y"}]), "files[1].key:"),
        (site(files=[{"key": "/a.html", "content": "x"}]), "files[0].key:"),
        (site(files=[{"key": "a.html", "content": "x", "content_type": "html"}]), "files[0].content_type:"),
    ]:
        result = runner.module("static_website", args)
        assert result.get("failed") and result["msg"].startswith(field), (args, result.get("msg"))
    assert clean_aws.requests()["total"] == 0
