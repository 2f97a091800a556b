#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: static_website
short_description: An S3 bucket serving a static web site - website configuration, public read, files, tags
version_added: 1.0.0
description:
  - Manages an S3 bucket that serves a static site from its website endpoint - the website configuration (index
    and error document), public read of its objects, the files of the site, and tags. Every setting is compared
    and corrected in place; a file is uploaded only when its content or content type differs.
  - With O(public_read=true) the bucket policy is exactly one statement (C(PublicReadMaintenancePage)) allowing
    C(s3:GetObject) on the bucket's objects to everyone, and the public access block blocks and ignores ACLs but
    allows that policy (C(BlockPublicPolicy) and C(RestrictPublicBuckets) off). With O(public_read=false) the
    bucket has no policy and all four settings of the public access block are on. The module owns the bucket
    policy - any other policy is replaced (or deleted).
  - A file is compared by the SHA-256 of its content, which the module stores in the object's metadata
    (C(x-amz-meta-sha256)) when it uploads it. An object without that metadata (uploaded by another tool) is
    compared by its ETag, but only where the ETag is the MD5 of the content - a single-part upload without
    SSE-KMS or SSE-C (an ETag with a C(-) is a multipart one, and SSE-KMS/SSE-C ETags are not an MD5); any
    other object is uploaded again. One C(HeadObject) per file, no download.
  - A run that changes nothing reads the website configuration (which also tells whether the bucket exists - no
    C(HeadBucket)), the bucket policy, the public access block, the tags and one C(HeadObject) per file, and
    writes nothing. O(purge_files=true) adds the listing of the bucket's objects.
  - Why not M(amazon.aws.s3_bucket), M(community.aws.s3_website) and M(amazon.aws.s3_object) - none has check
    mode (a C(--check) run skips them), and M(community.aws.s3_website) sleeps 5 seconds on every run once the
    website configuration exists.
  - O(state=absent) deletes the bucket; a bucket that still holds objects is deleted (with every object
    version) only with O(force_absent=true), else the module fails, naming the option.
  - The bucket policy and the public access block are resource-policy writes (C(s3:PutBucketPolicy),
    C(s3:DeleteBucketPolicy), C(s3:PutBucketPublicAccessBlock)) that the collection's deployer policy does not
    grant; C(playbooks/bootstrap.yml) makes them with administrator credentials, and the deployer only reads
    and compares them. A write that is denied fails with a message saying so.
  - Only the partition C(aws) is supported.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description:
      - Bucket name (3-63 lowercase letters, digits, C(-) and C(.); globally unique). A bucket that a Route 53
        alias serves must be named like the host name.
    type: str
    required: true
  state:
    description: Whether the bucket should exist.
    type: str
    choices: [present, absent]
    default: present
  index_document:
    description: The object served for a request of the site's root or of a "directory" (no C(/) in it).
    type: str
    default: index.html
  error_document:
    description: The object served for a 4xx error. Not set - S3's own error page.
    type: str
  public_read:
    description:
      - V(true) - everyone may read the bucket's objects (bucket policy), ACLs are blocked.
      - V(false) - no bucket policy, all public access blocked.
    type: bool
    default: true
  files:
    description:
      - Objects of the site, each uploaded when its content or content type differs from the bucket's.
      - Objects of the bucket that are not listed are left alone, unless O(purge_files=true).
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: Object key, e.g. C(index.html) or C(css/site.css) (no leading C(/)).
        type: str
        required: true
      src:
        description:
          - Path of the file on the host the module runs on (the controller for tasks on C(localhost)); read
            whole into memory - meant for the small files of a static page.
          - Exactly one of O(files[].src) and O(files[].content).
        type: path
      content:
        description: The content itself (UTF-8 text), instead of O(files[].src).
        type: str
      content_type:
        description:
          - C(Content-Type) of the object, e.g. C(text/html; charset=utf-8).
          - Not set - guessed from the key (C(text/...) types get C(; charset=utf-8)), else
            C(application/octet-stream).
        type: str
  purge_files:
    description: Delete the bucket's objects that O(files) does not list.
    type: bool
    default: false
  force_absent:
    description: With O(state=absent), delete the objects (every version) of the bucket before the bucket.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
"""

EXAMPLES = r"""
- name: A maintenance page for app.example.com (a Route 53 alias to an S3 website needs the host's name)
  seed.aws_migration.static_website:
    name: app.example.com
    error_document: index.html
    files:
      - key: index.html
        src: "{{ role_path }}/files/maintenance/index.html"
        content_type: text/html; charset=utf-8
    tags:
      team: platform

- name: Remove it, with its page
  seed.aws_migration.static_website:
    name: app.example.com
    state: absent
    force_absent: true
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order; one per write call.
  returned: always
  type: list
  elements: str
  sample: ["create bucket app.example.com", "set website of bucket app.example.com: index index.html"]
website:
  description: The bucket after the run (before it, in check mode); empty when absent.
  returned: always
  type: dict
  sample: {"name": "app.example.com", "arn": "arn:aws:s3:::app.example.com", "region": "us-east-1",
           "website_endpoint": "app.example.com.s3-website-us-east-1.amazonaws.com",
           "website_hosted_zone_id": "Z3AQBSTGFYJSTF", "index_document": "index.html",
           "error_document": "index.html", "public_read": true,
           "files": {"index.html": {"sha256": "9f86d081...", "content_type": "text/html; charset=utf-8"}},
           "tags": {"team": "platform"}}
"""

import hashlib
import ipaddress
import mimetypes
import os
import re

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.seed.aws_migration.plugins.module_utils import s3_website as web
from ansible_collections.seed.aws_migration.plugins.module_utils import security as api
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import is_access_denied
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.route53 import S3_WEBSITE_ZONES
from ansible_collections.seed.aws_migration.plugins.module_utils.route53 import s3_website_endpoint
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
CONTENT_TYPE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$")
MD5_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_KEY_BYTES = 1024
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
SHA256_METADATA = "sha256"  # x-amz-meta-sha256
# The Sid of the maintenance page buckets' policy (roles/dns) this module took over: kept so those buckets
# see no change.
POLICY_SID = "PublicReadMaintenancePage"
PUBLIC_READ_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                     "RestrictPublicBuckets": False}
PRIVATE_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                 "RestrictPublicBuckets": True}
# The IAM action of each write (S3's AccessDenied does not always name it)
IAM_ACTIONS = {"put_bucket_policy": "s3:PutBucketPolicy", "delete_bucket_policy": "s3:DeleteBucketPolicy",
               "put_public_access_block": "s3:PutBucketPublicAccessBlock", "create_bucket": "s3:CreateBucket",
               "put_bucket_website": "s3:PutBucketWebsite", "put_bucket_tags": "s3:PutBucketTagging",
               "put_object": "s3:PutObject", "delete_objects": "s3:DeleteObject", "delete_bucket": "s3:DeleteBucket"}
RESOURCE_POLICY_CALLS = ("put_bucket_policy", "delete_bucket_policy", "put_public_access_block")
RESOURCE_POLICY_HINT = ("{action} denied: the bucket policy and public access block of website bucket {name} are "
                        "written by playbooks/bootstrap.yml with administrator credentials (the deployer policy only "
                        "reads them); run it, then this again")
WRITE_HINT = ("{action} denied on website bucket {name}: where the deployer policy only reads the bucket, "
              "playbooks/bootstrap.yml keeps it with administrator credentials; run it, then this again")


# ---------------------------------------------------------------- validation (no AWS call)


def check_bucket_name(name):
    if (not BUCKET_RE.match(name) or ".." in name or ".-" in name or "-." in name or name.startswith("xn--")
            or name.endswith("-s3alias") or _is_ip_address(name)):
        raise ValidationError("name", f"{name!r} is not a valid bucket name (3-63 lowercase letters, digits, '-' "
                                      "or '.', starting and ending with a letter or digit, no '..', not an IP "
                                      "address)")


def _is_ip_address(name):
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def default_content_type(key):
    guessed = mimetypes.guess_type(key, strict=False)[0]
    if not guessed:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def load_files(files):
    """The files as ``{key: {"body", "sha256", "md5", "content_type"}}``, read and checked before any AWS call."""
    loaded = {}
    for index, item in enumerate(files or []):
        field = f"files[{index}]"
        key = item.get("key")
        if not key or not isinstance(key, str):
            raise ValidationError(f"{field}.key", "must be a non-empty object key")
        if key.startswith("/") or len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise ValidationError(f"{field}.key", f"{key!r} must not start with '/' and be at most {MAX_KEY_BYTES} "
                                                  "bytes long")
        if key in loaded:
            raise ValidationError(f"{field}.key", f"{key!r} is listed twice")
        src, content = item.get("src"), item.get("content")
        if (src is None) == (content is None):
            raise ValidationError(f"{field}.src", "exactly one of src and content is required")
        if src is not None:
            path = src  # type: path - already expanded
            if not os.path.isfile(path):
                raise ValidationError(f"{field}.src", f"{src!r} is not a file")
            try:
                with open(path, "rb") as handle:
                    body = handle.read()
            except OSError as e:
                raise ValidationError(f"{field}.src", f"cannot read {src!r}: {e.strerror}") from None
        else:
            body = content.encode("utf-8")
        content_type = item.get("content_type") or default_content_type(key)
        if not CONTENT_TYPE_RE.match(content_type):
            raise ValidationError(f"{field}.content_type", f"{content_type!r} is not a media type (type/subtype)")
        # MD5 only to compare with an S3 ETag (which is one), not for security
        md5 = hashlib.md5(body).hexdigest()
        loaded[key] = {"body": body, "sha256": hashlib.sha256(body).hexdigest(), "md5": md5,
                       "content_type": content_type}
    return loaded


def check_tags(tags):
    if tags is None:
        return None
    if len(tags) > MAX_TAGS - 2:
        raise ValidationError("tags", f"at most {MAX_TAGS - 2} tags (S3 allows {MAX_TAGS}, two are the module's)")
    checked = {}
    for key, value in tags.items():
        value = "" if value is None else str(value)
        if not key or len(key) > MAX_TAG_KEY or key.lower().startswith("aws:"):
            raise ValidationError("tags", f"{key!r} must be 1-{MAX_TAG_KEY} characters, not starting with 'aws:'")
        if len(value) > MAX_TAG_VALUE:
            raise ValidationError(f"tags.{key}", f"at most {MAX_TAG_VALUE} characters")
        checked[str(key)] = value
    return checked


def validate(params):
    """Check every option before any client exists; returns ``(files, tags)`` (the files read)."""
    check_bucket_name(params["name"])
    if params["state"] == "absent":
        return {}, None
    index = params.get("index_document")
    if not index or "/" in index or len(index.encode("utf-8")) > MAX_KEY_BYTES:
        raise ValidationError("index_document", f"{index!r} must be a non-empty suffix without '/' (like index.html)")
    error = params.get("error_document")
    if error is not None and (not error or error.startswith("/") or len(error.encode("utf-8")) > MAX_KEY_BYTES):
        raise ValidationError("error_document", f"{error!r} must be an object key (like error.html)")
    return load_files(params.get("files")), check_tags(params.get("tags"))


# ---------------------------------------------------------------- what the bucket should look like


def public_read_policy(bucket):
    """Everyone may read the bucket's objects: the maintenance pages' policy (roles/dns), unchanged."""
    return {"Version": "2012-10-17",
            "Statement": [{"Sid": POLICY_SID, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::{bucket}/*"}]}


def website_configuration(index_document, error_document):
    config = {"IndexDocument": {"Suffix": index_document}}
    if error_document:
        config["ErrorDocument"] = {"Key": error_document}
    return config


def website_view(config):
    """The managed fields of a website configuration (``None``: the bucket has none)."""
    if not config:
        return None
    redirect = config.get("RedirectAllRequestsTo") or {}
    return {"index_document": (config.get("IndexDocument") or {}).get("Suffix"),
            "error_document": (config.get("ErrorDocument") or {}).get("Key"),
            "redirect_all_requests_to": redirect.get("HostName"),
            "routing_rules": len(config.get("RoutingRules") or [])}


def block_view(config):
    return {k: bool((config or {}).get(k)) for k in PRIVATE_BLOCK} if config else None


def object_view(head, wanted):
    """The managed view of an object (``None``: no such object).

    The SHA-256 the module stored at upload; else the wanted SHA-256 when the ETag is a plain MD5 (single-part,
    no SSE-KMS/SSE-C) equal to the wanted content's; else the ETag, which then differs from any SHA-256.
    """
    if head is None:
        return None
    sha256 = (head.get("Metadata") or {}).get(SHA256_METADATA)
    if not sha256:
        etag = (head.get("ETag") or "").strip('"')
        plain_md5 = (MD5_RE.match(etag) and not head.get("SSECustomerAlgorithm")
                     and not str(head.get("ServerSideEncryption") or "").startswith("aws:kms"))
        sha256 = wanted["sha256"] if wanted and plain_md5 and etag == wanted["md5"] else f"etag:{etag}"
    return {"sha256": sha256, "content_type": head.get("ContentType")}


def describe_action(name, block):
    if block == PUBLIC_READ_BLOCK:
        return f"set public access block of bucket {name}: block ACLs, allow the public-read policy"
    return f"set public access block of bucket {name}: block all public access"


class WebsiteManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.files, self.tags = validate(self.params)  # before any client exists
        self.s3 = module.seed_client("s3")
        self.actions = []
        self.name = self.params["name"]
        self.facts = {}

    def _do(self, action, call, *args):
        self.actions.append(action)
        if self.module.check_mode:
            return None
        try:
            return call(*args)
        except SeedAWSError as e:
            if not is_access_denied(e):
                raise
            name = getattr(call, "__name__", "")
            hint = RESOURCE_POLICY_HINT if name in RESOURCE_POLICY_CALLS else WRITE_HINT
            message = hint.format(action=IAM_ACTIONS.get(name, "the write"), name=self.name)
            raise SeedAWSError(message=f"{e.message}: {message}", exception=e.exception) from None

    def _wanted_tags(self, current):
        identity = {TAG_MANAGED_BY: "seed.aws_migration", TAG_COMPONENT: "static-website"}
        to_set, to_unset = tag_delta(current, dict(self.tags or {}, **identity),
                                     self.params["purge_tags"] and self.tags is not None)
        wanted = {k: v for k, v in current.items() if k not in to_unset}
        wanted.update(to_set)
        return wanted

    def _read(self):
        """The bucket's managed state; ``None`` when it does not exist (the website read tells)."""
        try:
            website = web.get_bucket_website(self.s3, self.name)
        except SeedAWSError as e:
            if is_access_denied(e):
                raise SeedAWSError(message=f"name: access denied reading bucket {self.name} (s3:GetBucketWebsite): "
                                           "the name may belong to another account, or the credentials may not read "
                                           "this bucket", exception=e.exception) from None
            raise
        if website is None:
            return None
        current = {"website": website_view(website),
                   "policy": api.get_bucket_policy(self.s3, self.name),
                   "public_access_block": block_view(api.get_public_access_block(self.s3, self.name)),
                   "tags": api.get_bucket_tags(self.s3, self.name),
                   "files": {}}
        for key, wanted in self.files.items():
            found = object_view(web.head_object(self.s3, self.name, key), wanted)
            if found:
                current["files"][key] = found
        if self.params["purge_files"]:
            for key in web.list_object_keys(self.s3, self.name):
                if key not in self.files:
                    current["files"][key] = {"sha256": None, "content_type": None}
        return current

    def present(self):
        p = self.params
        current = self._read()
        exists = current is not None
        if not exists:
            current = {"website": None, "policy": None, "public_access_block": None, "tags": {}, "files": {}}
        config = website_configuration(p["index_document"], p.get("error_document"))
        policy = public_read_policy(self.name) if p["public_read"] else None
        block = PUBLIC_READ_BLOCK if p["public_read"] else PRIVATE_BLOCK
        wanted = {"website": website_view(config), "policy": policy, "public_access_block": dict(block),
                  "tags": self._wanted_tags(current["tags"]),
                  "files": {key: {"sha256": f["sha256"], "content_type": f["content_type"]}
                            for key, f in self.files.items()}}
        if not p["purge_files"]:  # objects not listed are not managed: left out of both views
            current["files"] = {k: v for k, v in current["files"].items() if k in self.files}
        # the policy view: the wanted document when it means the same (compare_policies normalises)
        if current["policy"] is not None and policy is not None and not compare_policies(current["policy"], policy):
            current["policy"] = policy

        if not exists:
            self._do(f"create bucket {self.name}", api.create_bucket, self.s3, self.name, self.module.region)
        # before the policy: a public policy is refused while BlockPublicPolicy is on
        if current["public_access_block"] != wanted["public_access_block"]:
            self._do(describe_action(self.name, block), api.put_public_access_block, self.s3, self.name, dict(block))
        if current["policy"] != policy:
            if policy is None:
                self._do(f"delete policy of bucket {self.name}", web.delete_bucket_policy, self.s3, self.name)
            else:
                self._do(f"set policy of bucket {self.name}: public read of its objects", api.put_bucket_policy,
                         self.s3, self.name, policy)
        if current["website"] != wanted["website"]:
            error = f", error {p['error_document']}" if p.get("error_document") else ""
            self._do(f"set website of bucket {self.name}: index {p['index_document']}{error}", web.put_bucket_website,
                     self.s3, self.name, config)
        if current["tags"] != wanted["tags"]:
            self._do(f"set tags {', '.join(sorted(wanted['tags']))} of bucket {self.name}", api.put_bucket_tags,
                     self.s3, self.name, wanted["tags"])
        for key, f in self.files.items():
            if current["files"].get(key) != wanted["files"][key]:
                self._do(f"upload {key} to bucket {self.name} (sha256 {f['sha256'][:12]}, {f['content_type']})",
                         web.put_object, self.s3, self.name, key, f["body"], f["content_type"],
                         {SHA256_METADATA: f["sha256"]})
        extra = sorted(k for k in current["files"] if k not in self.files)
        for start in range(0, len(extra), DELETE_BATCH):
            batch = extra[start:start + DELETE_BATCH]
            self._do(f"delete {len(batch)} object(s) from bucket {self.name}: {', '.join(batch)}", api.delete_objects,
                     self.s3, self.name, [{"Key": k} for k in batch])

        self.facts = self.facts_of(wanted)
        if not exists:
            return {}, None, wanted
        return self.facts_of(current), current, wanted

    def absent(self):
        objects = web.list_object_versions_or_missing(self.s3, self.name)
        if objects is None:
            return {}, None, None
        if objects and not self.params["force_absent"]:
            raise SeedAWSError(message=f"force_absent: bucket {self.name} still holds {len(objects)} object "
                                       "version(s); set force_absent=true to delete them with it")
        for start in range(0, len(objects), DELETE_BATCH):
            batch = objects[start:start + DELETE_BATCH]
            self._do(f"delete {len(batch)} object version(s) from bucket {self.name}", api.delete_objects,
                     self.s3, self.name, batch)
        self._do(f"delete bucket {self.name}", api.delete_bucket, self.s3, self.name)
        return ({"name": self.name, "arn": f"arn:aws:s3:::{self.name}"},
                {"name": self.name, "objects": len(objects)}, None)

    def facts_of(self, view):
        region = self.module.region
        endpoint, zone = s3_website_endpoint(self.name, region) if region in S3_WEBSITE_ZONES else (None, None)
        website = view["website"] or {}
        return {"name": self.name, "arn": f"arn:aws:s3:::{self.name}", "region": region,
                "website_endpoint": endpoint, "website_hosted_zone_id": zone,
                "index_document": website.get("index_document"), "error_document": website.get("error_document"),
                "public_read": view["policy"] is not None and view["policy"] == public_read_policy(self.name)
                and view["public_access_block"] == PUBLIC_READ_BLOCK,
                "policy": view["policy"], "public_access_block": view["public_access_block"],
                "files": view["files"], "tags": view["tags"]}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        index_document=dict(type="str", default="index.html"),
        error_document=dict(type="str"),
        public_read=dict(type="bool", default=True),
        files=dict(type="list", elements="dict", default=[], options=dict(
            key=dict(type="str", required=True, no_log=False),
            src=dict(type="path"),
            content=dict(type="str"),
            content_type=dict(type="str"),
        )),
        purge_files=dict(type="bool", default=False),
        force_absent=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_converged(WebsiteManager, "website", lambda manager: manager.facts)


if __name__ == "__main__":
    main()
