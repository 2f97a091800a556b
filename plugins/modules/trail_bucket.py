#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: trail_bucket
short_description: A private, encrypted S3 bucket that only one CloudTrail trail may write to
version_added: 1.0.0
description:
  - Manages the S3 bucket of a CloudTrail trail. The bucket is private (all four settings of the public access
    block on), owner-enforced (ACLs disabled, C(BucketOwnerEnforced)), encrypted by default (SSE-S3 C(AES256),
    or SSE-KMS with O(kms_key_id)), and its policy allows only C(cloudtrail.amazonaws.com), for the trail
    O(trail_name) alone (C(aws:SourceArn)), to read the bucket ACL and to write under C(AWSLogs/<account>/), and
    denies every request not made over TLS (C(aws:SecureTransport=false)). An optional lifecycle rule expires the
    log files. Every setting is compared and corrected in place.
  - Why not M(amazon.aws.s3_bucket) - it has no check mode (a C(--check) run skips it, so the role could not
    predict its changes), and it makes 12 reads on a no-op run where this module makes 7 (8 with
    O(expiration_days)). The policy of a trail bucket needs the account id and the trail ARN, which this module
    derives itself (one C(sts:GetCallerIdentity)).
  - O(state=absent) deletes the bucket; a bucket that still holds log files is deleted only with
    O(purge_objects=true) (audit logs are data), else the module fails, naming the option.
  - Only the partition C(aws) and the standard ARN layout are supported.
  - The bucket policy and the lifecycle rule are resource-policy writes (C(s3:PutBucketPolicy),
    C(s3:PutLifecycleConfiguration)) that the collection's deployer policy does not grant; they are made by
    C(playbooks/bootstrap.yml) with administrator credentials, and the deployer only reads and compares them.
    A write that is denied fails with a message saying so.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description: Bucket name (3-63 lowercase letters, digits, C(-) and C(.); globally unique).
    type: str
    required: true
  state:
    description: Whether the bucket should exist.
    type: str
    choices: [present, absent]
    default: present
  trail_name:
    description:
      - Name of the trail (in the module's region, the trail's home region) allowed to write to the bucket.
      - Required when O(state=present).
    type: str
  kms_key_id:
    description:
      - KMS key (id, ARN or alias ARN) of the default SSE-KMS encryption, with an S3 bucket key.
      - Not set - SSE-S3 (C(AES256)), which needs no key policy for CloudTrail. With a key, its policy must
        let C(cloudtrail.amazonaws.com) use it.
    type: str
  expiration_days:
    description:
      - Delete log files this many days after they were written (one lifecycle rule, C(seed-trail-expiration),
        which replaces any other lifecycle rule of the bucket).
      - C(0) removes the lifecycle configuration. Not set - the lifecycle is not managed (and not read).
    type: int
  purge_objects:
    description: With O(state=absent), delete the log files (every object version) before the bucket.
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
- name: The bucket of the organisation's audit trail, log files kept for a year
  seed.aws_migration.trail_bucket:
    name: example-audit-trail-123456789012
    trail_name: audit
    expiration_days: 365
    tags:
      team: security
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["create bucket example-audit-trail", "set public access block of bucket example-audit-trail"]
bucket:
  description: The bucket after the run (before it, in check mode); empty when absent.
  returned: always
  type: dict
  sample: {"name": "example-audit-trail", "arn": "arn:aws:s3:::example-audit-trail",
           "trail_arn": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit",
           "encryption": {"algorithm": "AES256", "kms_key_id": null}}
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.seed.aws_migration.plugins.module_utils import security as api
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import is_access_denied
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
TRAIL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$")
LIFECYCLE_ID = "seed-trail-expiration"
BOOTSTRAP_HINT = ("{action} denied: the bucket policy and lifecycle rule of the trail bucket are written by "
                  "playbooks/bootstrap.yml with administrator credentials (the deployer policy only reads them); "
                  "run it, then this again")
# The IAM action of each resource-policy write (named in the failure: S3's AccessDenied may not name it)
IAM_ACTIONS = {"put_bucket_policy": "s3:PutBucketPolicy", "put_bucket_lifecycle": "s3:PutLifecycleConfiguration",
               "delete_bucket_lifecycle": "s3:PutLifecycleConfiguration"}
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                       "RestrictPublicBuckets": True}


def validate(params):
    if not BUCKET_RE.match(params["name"]) or ".." in params["name"]:
        raise ValidationError("name", f"{params['name']!r} must be 3-63 lowercase letters, digits, '-' or '.'")
    if params["state"] == "absent":
        return
    if not params.get("trail_name"):
        raise ValidationError("trail_name", "required when state=present")
    if not TRAIL_RE.match(params["trail_name"]):
        raise ValidationError("trail_name", f"{params['trail_name']!r} is not a valid trail name (3-128 letters, "
                                            "digits, '.', '_' or '-', starting with a letter or digit)")
    if params.get("expiration_days") is not None and params["expiration_days"] < 0:
        raise ValidationError("expiration_days", f"{params['expiration_days']} must be 0 (no rule) or more")


def trail_arn(region, account, trail_name):
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{trail_name}"


def bucket_policy(bucket, account, trail):
    """CloudTrail's documented bucket policy, scoped to one trail, plus a deny of plain-HTTP requests."""
    arn = f"arn:aws:s3:::{bucket}"
    service = {"Service": "cloudtrail.amazonaws.com"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": service, "Action": "s3:GetBucketAcl",
             "Resource": arn, "Condition": {"StringEquals": {"aws:SourceArn": trail}}},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": service, "Action": "s3:PutObject",
             "Resource": f"{arn}/AWSLogs/{account}/*",
             "Condition": {"StringEquals": {"aws:SourceArn": trail, "s3:x-amz-acl": "bucket-owner-full-control"}}},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }


def encryption_rule(kms_key_id):
    if kms_key_id:
        return {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id},
                "BucketKeyEnabled": True}
    return {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}


def encryption_view(config):
    rules = (config or {}).get("Rules") or []
    default = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}) if rules else {}
    algorithm = default.get("SSEAlgorithm")
    return {"algorithm": algorithm, "kms_key_id": default.get("KMSMasterKeyID"),
            "bucket_key": bool(rules[0].get("BucketKeyEnabled")) if rules and algorithm == "aws:kms" else False}


def expiration_view(rules):
    """Days of our expiration rule; 0 when the lifecycle holds nothing else; None for any other lifecycle."""
    if not rules:
        return 0
    if len(rules) == 1 and rules[0].get("ID") == LIFECYCLE_ID and rules[0].get("Status") == "Enabled":
        return (rules[0].get("Expiration") or {}).get("Days")
    return None


class BucketManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        validate(self.params)  # before any client exists
        self.s3 = module.seed_client("s3")
        self.actions = []
        self.name = self.params["name"]
        self.facts = {}

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.module.check_mode else call(*args, **kwargs)

    def _do_resource_policy(self, action, call, *args):
        """``_do`` for a bucket policy or lifecycle write: a denial says who makes it (bootstrap.yml)."""
        try:
            return self._do(action, call, *args)
        except SeedAWSError as e:
            if not is_access_denied(e):
                raise
            hint = BOOTSTRAP_HINT.format(action=IAM_ACTIONS.get(getattr(call, "__name__", ""), "the write"))
            raise SeedAWSError(message=f"{e.message}: {hint}", exception=e.exception) from None

    def _tags(self, current):
        p = self.params
        identity = {TAG_MANAGED_BY: "seed.aws_migration", TAG_COMPONENT: "trail-bucket"}
        to_set, to_unset = tag_delta(current, dict(p.get("tags") or {}, **identity),
                                     p["purge_tags"])
        wanted = {k: v for k, v in current.items() if k not in to_unset}
        wanted.update(to_set)
        return wanted

    def present(self):
        p = self.params
        region = self.module.region
        account = api.account_id(self.module.seed_client("sts"))
        trail = trail_arn(region, account, p["trail_name"])
        policy = bucket_policy(self.name, account, trail)
        rule = encryption_rule(p.get("kms_key_id"))
        days = p.get("expiration_days")
        encryption = api.get_bucket_encryption_or_missing(self.s3, self.name)
        exists = encryption is not None
        if exists:
            current = {
                "encryption": encryption_view(encryption),
                "public_access_block": api.get_public_access_block(self.s3, self.name),
                "object_ownership": api.get_object_ownership(self.s3, self.name),
                "policy": api.get_bucket_policy(self.s3, self.name),
                "tags": api.get_bucket_tags(self.s3, self.name),
            }
            if days is not None:
                current["expiration_days"] = expiration_view(api.get_bucket_lifecycle(self.s3, self.name))
        else:
            current = {"encryption": encryption_view(None), "public_access_block": {}, "object_ownership": "",
                       "policy": None, "tags": {}}
            if days is not None:
                current["expiration_days"] = 0
        wanted = {
            "encryption": encryption_view({"Rules": [rule]}),
            "public_access_block": dict(PUBLIC_ACCESS_BLOCK),
            "object_ownership": "BucketOwnerEnforced",
            "policy": policy,
            "tags": self._tags(current["tags"]),
        }
        if days is not None:
            wanted["expiration_days"] = days

        if not exists:
            self._do(f"create bucket {self.name}", api.create_bucket, self.s3, self.name, region)
        elif current["object_ownership"] != wanted["object_ownership"]:
            self._do(f"set object ownership of bucket {self.name} to BucketOwnerEnforced", api.put_object_ownership,
                     self.s3, self.name, "BucketOwnerEnforced")
        if {k: current["public_access_block"].get(k) for k in PUBLIC_ACCESS_BLOCK} != PUBLIC_ACCESS_BLOCK:
            self._do(f"set public access block of bucket {self.name}", api.put_public_access_block, self.s3,
                     self.name, PUBLIC_ACCESS_BLOCK)
        if current["encryption"] != wanted["encryption"]:
            self._do(f"set default encryption of bucket {self.name} to {wanted['encryption']['algorithm']}",
                     api.put_bucket_encryption, self.s3, self.name, rule)
        if current["policy"] is None or compare_policies(current["policy"], policy):
            self._do_resource_policy(f"set policy of bucket {self.name}", api.put_bucket_policy, self.s3, self.name,
                                     policy)
        if days is not None and current["expiration_days"] != days:
            if days:
                self._do_resource_policy(f"set lifecycle of bucket {self.name}: expire log files after {days} days",
                                         api.put_bucket_lifecycle, self.s3, self.name,
                                         [{"ID": LIFECYCLE_ID, "Status": "Enabled", "Filter": {"Prefix": ""},
                                           "Expiration": {"Days": days}}])
            else:
                self._do_resource_policy(f"delete lifecycle of bucket {self.name}", api.delete_bucket_lifecycle,
                                         self.s3, self.name)
        if current["tags"] != wanted["tags"]:
            self._do(f"set tags {', '.join(sorted(wanted['tags']))} of bucket {self.name}", api.put_bucket_tags,
                     self.s3, self.name, wanted["tags"])

        self.facts = facts(self.name, region, trail, wanted)
        if not exists:
            return {}, None, wanted
        return facts(self.name, region, trail, current), current, wanted

    def absent(self):
        if not api.bucket_exists(self.s3, self.name):
            return {}, None, None
        objects = api.list_object_versions(self.s3, self.name)
        if objects and not self.params["purge_objects"]:
            raise SeedAWSError(message=f"purge_objects: bucket {self.name} still holds {len(objects)} object "
                                       "version(s) (audit logs); set purge_objects=true to delete them with it")
        if objects:
            self._do(f"delete {len(objects)} object version(s) from bucket {self.name}", api.delete_objects,
                     self.s3, self.name, objects)
        self._do(f"delete bucket {self.name}", api.delete_bucket, self.s3, self.name)
        return {"name": self.name, "arn": f"arn:aws:s3:::{self.name}"}, {"name": self.name, "objects": len(objects)}, None


def facts(name, region, trail, view):
    return {"name": name, "arn": f"arn:aws:s3:::{name}", "region": region, "trail_arn": trail,
            "encryption": {"algorithm": view["encryption"]["algorithm"],
                           "kms_key_id": view["encryption"]["kms_key_id"]},
            "public_access_block": view["public_access_block"], "object_ownership": view["object_ownership"],
            "policy": view["policy"], "expiration_days": view.get("expiration_days"), "tags": view["tags"]}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        trail_name=dict(type="str"),
        kms_key_id=dict(type="str"),
        expiration_days=dict(type="int"),
        purge_objects=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_converged(BucketManager, "bucket", lambda manager: manager.facts)


if __name__ == "__main__":
    main()
