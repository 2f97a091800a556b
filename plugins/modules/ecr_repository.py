#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecr_repository
short_description: Converge an ECR repository with its scanning, tag mutability, lifecycle, policy and tags
version_added: 1.0.0
description:
  - Manages an Amazon ECR repository as one resource - image scanning on push, tag mutability, encryption (set at
    creation), a lifecycle policy (rendered from O(lifecycle) or given raw in O(lifecycle_policy)), the repository
    policy and tags.
  - Options are validated before any API call. An encryption setting that differs from an existing repository's
    fails after the repository is read, before any write.
  - Policies are compared as JSON documents, so key order and whitespace never cause a change.
  - Check mode makes no write call and reports in RV(actions) exactly the changes a real run would make.
  - O(state=absent) never deletes images silently - a repository that still holds images is deleted only with
    O(force_absent=true); otherwise the module fails and changes nothing.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description:
      - Name of the repository, for example C(team/web-api).
      - 2-256 characters - lowercase letters and digits separated by single C(.), C(_) or C(-), in C(/)-separated
        path components.
    type: str
    required: true
  state:
    description: Whether the repository should exist.
    type: str
    choices: [present, absent]
    default: present
  scan_on_push:
    description: Whether images are scanned for vulnerabilities when they are pushed.
    type: bool
    default: true
  image_tag_mutability:
    description:
      - V(IMMUTABLE) refuses to move an existing tag to another image; V(MUTABLE) allows it.
    type: str
    choices: [IMMUTABLE, MUTABLE]
    default: IMMUTABLE
  image_tag_mutability_exclusions:
    description:
      - Tags that are the exception to O(image_tag_mutability), as wildcard filters (C(*) matches any characters),
        at most 5 - for example V(latest) and V(dev-*) kept movable in an V(IMMUTABLE) repository
        (ECR's C(IMMUTABLE_WITH_EXCLUSION)).
      - An empty list (the default) means no exception.
      - Needs a botocore that knows ECR's exclusion filters (released July 2025). With an older one the module
        fails naming this option before any call, and naming O(image_tag_mutability) when the repository already
        has exceptions (an older botocore would drop them from what it reads).
    type: list
    elements: str
    default: []
  encryption:
    description:
      - Encryption at rest. ECR sets it when the repository is created and cannot change it - on an existing
        repository a different setting fails naming the field and changes nothing.
      - When not given, a new repository uses V(AES256) and an existing one is not checked.
    type: dict
    suboptions:
      type:
        description: V(AES256) (keys managed by ECR) or V(KMS) (a KMS key).
        type: str
        choices: [AES256, KMS]
        default: AES256
      kms_key:
        description:
          - The KMS key (ID, ARN, alias name or alias ARN) when O(encryption.type=KMS). The AWS managed key of ECR
            when not given.
        type: str
  lifecycle:
    description:
      - The lifecycle policy, rendered by the module - untagged images expire O(lifecycle.expire_untagged_days) days
        after they were pushed, and only the last O(lifecycle.keep_tagged) tagged images are kept.
      - Mutually exclusive with O(lifecycle_policy). When neither is given the lifecycle policy is left as it is.
    type: dict
    suboptions:
      keep_tagged:
        description: How many tagged images to keep (the most recently pushed ones). At least 1.
        type: int
        default: 30
      expire_untagged_days:
        description: Days after which untagged images expire. At least 1.
        type: int
        default: 7
  lifecycle_policy:
    description:
      - A lifecycle policy document (a dict or JSON text) used as it is, for rules O(lifecycle) does not cover.
      - An empty document (C({})) removes the lifecycle policy.
      - Mutually exclusive with O(lifecycle).
    type: json
  policy:
    description:
      - The repository policy document (a dict or JSON text). Compared as JSON, so key order and whitespace do not
        matter.
      - An empty document (C({})) removes the repository policy. When not given the policy is left as it is.
    type: json
  force_absent:
    description:
      - With O(state=absent), delete the repository also when it still holds images, and the images with it.
      - When false, deleting a repository that holds images fails, and the repository is kept.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - Tag keys C(Name) and C(seed:*) are never removed by O(purge_tags).
  - The registry login credentials are never returned; the image tasks get them through the collection's
    C(ecr.get_authorization_token) module utility.
"""

EXAMPLES = r"""
- name: A repository for the web API, scanned on push, immutable tags, 50 releases kept
  seed.aws_migration.ecr_repository:
    name: shop/web-api
    lifecycle:
      keep_tagged: 50
      expire_untagged_days: 3
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: PullFromCI
          Effect: Allow
          Principal:
            AWS: arn:aws:iam::123456789012:role/ci
          Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]
    tags:
      team: shop
  register: repo

- name: Encrypted with a KMS key (only possible when the repository is created)
  seed.aws_migration.ecr_repository:
    name: shop/payments
    encryption:
      type: KMS
      kms_key: alias/ecr-payments

- name: Delete a repository and the images in it
  seed.aws_migration.ecr_repository:
    name: shop/old-api
    state: absent
    force_absent: true
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["create repository shop/web-api (image_tag_mutability=IMMUTABLE, scan_on_push=true, encryption=AES256)",
           "put lifecycle policy: keep the last 50 tagged images, expire untagged images after 3 days"]
repository:
  description: The repository as it is after the run (before it, in check mode). Empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the repository.
      type: str
      sample: shop/web-api
    arn:
      description: ARN of the repository.
      type: str
      sample: arn:aws:ecr:eu-west-1:123456789012:repository/shop/web-api
    uri:
      description: URI to push and pull images (the C(repositoryUri)).
      type: str
      sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web-api
    registry_id:
      description: Account ID of the registry.
      type: str
      sample: "123456789012"
    scan_on_push:
      description: Whether images are scanned on push.
      type: bool
      sample: true
    image_tag_mutability:
      description: Tag mutability (V(IMMUTABLE) or V(MUTABLE); the exceptions are in RV(repository.image_tag_mutability_exclusions)).
      type: str
      sample: IMMUTABLE
    image_tag_mutability_exclusions:
      description: The tag filters that are the exception to the tag mutability, sorted (empty when none).
      type: list
      elements: str
      sample: ["dev-*", "latest"]
    encryption:
      description: Encryption at rest, C(type) and C(kms_key) (null with AES256).
      type: dict
      sample: {"type": "AES256", "kms_key": null}
    lifecycle_policy:
      description:
        - The lifecycle policy document, or null.
        - Also null when neither O(lifecycle) nor O(lifecycle_policy) was given (the module does not read what it
          leaves as it is); M(seed.aws_migration.ecr_repository_info) always reads it.
      type: dict
      sample: {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                           "countUnit": "days", "countNumber": 7},
                          "action": {"type": "expire"}}]}
    policy:
      description:
        - The repository policy document, or null.
        - Also null when O(policy) was not given (not read);
          M(seed.aws_migration.ecr_repository_info) always reads it.
      type: dict
      sample: {"Version": "2012-10-17", "Statement": []}
    tags:
      description: Tags of the repository.
      type: dict
      sample: {"team": "shop"}
diff:
  description:
    - The managed fields before and after (the RV(repository) fields without C(arn), C(uri) and C(registry_id)).
  returned: in diff mode
  type: dict
  sample: {"before": {"scan_on_push": false}, "after": {"scan_on_push": true}}
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import ecr
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


def _flag(value):
    return str(bool(value)).lower()


class RepositoryManager:
    """Converges one repository. Every write goes through ``_do``, which records the action and, in check
    mode, skips the call: a check run and a real run walk the same code and report the same actions."""

    def __init__(self, module):
        self.module = module
        self.check_mode = module.check_mode
        self.spec = ecr.build_spec(module.params)  # raises ValidationError before any API call
        self.ecr = module.seed_client("ecr")
        if self.spec.state == "present" and self.spec.image_tag_mutability_exclusions:
            ecr.require_exclusion_support(self.ecr, "image_tag_mutability_exclusions", "exceptions are given")
        self.actions = []
        self.facts = {}  # the repository as it is, kept up to date while converging

    # -- plumbing -------------------------------------------------------------------------------
    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        if self.check_mode:
            return None
        return call(*args, **kwargs)

    def _kms_key_arn(self, key):
        if not hasattr(self, "_kms_client"):
            self._kms_client = self.module.seed_client("kms")
        return ecr.describe_kms_key_arn(self._kms_client, key)

    def _observe(self):
        spec = self.spec
        repository = ecr.describe_repository(self.ecr, spec.name)
        if spec.state == "present" and str((repository or {}).get("imageTagMutability", "")).endswith(
                "_WITH_EXCLUSION"):
            ecr.require_exclusion_support(self.ecr, "image_tag_mutability",
                                          f"repository {spec.name} has tag mutability exceptions")
        return ecr.read_repository(self.ecr, repository,
                                   # absent: read everything, for an exact diff "before"
                                   policy=getattr(spec, "manage_policy", True),
                                   lifecycle=getattr(spec, "manage_lifecycle", True))

    # -- entry points ---------------------------------------------------------------------------
    def present(self):
        spec = self.spec
        self.facts = self._observe()
        facts_before = dict(self.facts)
        before = ecr.managed_view(self.facts)
        self._check_create_only()
        # The same documents in the form AWS gives them back are no change (and no diff).
        if spec.manage_policy and self.facts and ecr.same_policy(self.facts.get("policy"), spec.policy):
            spec.policy = self.facts.get("policy")
        if spec.manage_lifecycle and self.facts and ecr.same_lifecycle(self.facts.get("lifecycle_policy"),
                                                                       spec.lifecycle_policy):
            spec.lifecycle_policy = self.facts.get("lifecycle_policy")
        after = ecr.desired_view(spec, before)

        if not self.facts:
            self._create()
        else:
            self._ensure_settings()
        self._ensure_lifecycle()
        self._ensure_policy()
        self._ensure_tags()
        return facts_before, before, after

    def absent(self):
        spec = self.spec
        self.facts = self._observe()
        facts_before = dict(self.facts)
        before = ecr.managed_view(self.facts)
        if self.facts:
            images = ecr.list_images(self.ecr, spec.name)
            count = f"{len(images)}{'+' if len(images) >= 1000 else ''}"
            if images and not spec.force_absent:
                raise ValidationError("force_absent", f"repository {spec.name} still holds {count} images; it was "
                                                      "kept. Delete the images first, or set force_absent=true to "
                                                      "delete the repository with its images")
            action = f"delete repository {spec.name}" + (f" and its {count} images" if images else "")
            self._do(action, ecr.delete_repository, self.ecr, spec.name, force=bool(images))
            self.facts = {}
        return facts_before, before, None

    # -- present --------------------------------------------------------------------------------
    def _check_create_only(self):
        wanted, facts = self.spec.encryption, self.facts
        if not facts or not wanted:
            return
        actual = facts["encryption"]
        if actual["type"] != wanted["type"]:
            raise ValidationError("encryption.type", f"repository {facts['name']} is encrypted with {actual['type']}; "
                                                     f"encryption is set when a repository is created and cannot "
                                                     f"change to {wanted['type']} (create a new repository)")
        if wanted["kms_key"] and not ecr.kms_key_matches(wanted["kms_key"], actual["kms_key"], self._kms_key_arn):
            raise ValidationError("encryption.kms_key", f"repository {facts['name']} is encrypted with the KMS key "
                                                        f"{actual['kms_key']}; encryption is set when a repository "
                                                        f"is created and cannot change to {wanted['kms_key']} "
                                                        "(create a new repository)")

    def _create(self):
        spec = self.spec
        encryption = spec.encryption or {"type": "AES256", "kms_key": None}
        described = f"encryption={encryption['type']}" + (f" {encryption['kms_key']}" if encryption["kms_key"] else "")
        repository = self._do(
            f"create repository {spec.name} (image_tag_mutability={spec.image_tag_mutability}{self._except()}, "
            f"scan_on_push={_flag(spec.scan_on_push)}, {described})",
            ecr.create_repository, self.ecr, spec.name, spec.scan_on_push, spec.image_tag_mutability,
            encryption=spec.encryption, tags=spec.tags, exclusions=spec.image_tag_mutability_exclusions)
        self.facts = ecr.repository_facts(repository, tags=spec.tags)

    def _ensure_settings(self):
        spec, facts = self.spec, self.facts
        if facts["scan_on_push"] != spec.scan_on_push:
            self._do(f"set scan_on_push={_flag(spec.scan_on_push)}", ecr.put_image_scanning_configuration, self.ecr,
                     spec.name, spec.scan_on_push)
            facts["scan_on_push"] = spec.scan_on_push
        if (facts["image_tag_mutability"], facts["image_tag_mutability_exclusions"]) != (
                spec.image_tag_mutability, spec.image_tag_mutability_exclusions):
            self._do(f"set image_tag_mutability={spec.image_tag_mutability}{self._except()}",
                     ecr.put_image_tag_mutability, self.ecr, spec.name, spec.image_tag_mutability,
                     spec.image_tag_mutability_exclusions)
            facts["image_tag_mutability"] = spec.image_tag_mutability
            facts["image_tag_mutability_exclusions"] = list(spec.image_tag_mutability_exclusions)

    def _except(self):
        exclusions = self.spec.image_tag_mutability_exclusions
        return f" except {', '.join(exclusions)}" if exclusions else ""

    def _ensure_lifecycle(self):
        spec = self.spec
        current = self.facts.get("lifecycle_policy")
        if not spec.manage_lifecycle or current == spec.lifecycle_policy:
            return
        if spec.lifecycle_policy is None:
            self._do("delete lifecycle policy", ecr.delete_lifecycle_policy, self.ecr, spec.name)
        else:
            self._do(f"put lifecycle policy: {spec.lifecycle_summary}", ecr.put_lifecycle_policy, self.ecr, spec.name,
                     spec.lifecycle_policy)
        self._update("lifecycle_policy", spec.lifecycle_policy)

    def _ensure_policy(self):
        spec = self.spec
        current = self.facts.get("policy")
        if not spec.manage_policy or current == spec.policy:
            return
        if spec.policy is None:
            self._do("delete repository policy", ecr.delete_repository_policy, self.ecr, spec.name)
        else:
            statements = spec.policy["Statement"]
            statements = statements if isinstance(statements, list) else [statements]
            sids = sorted(str(s["Sid"]) for s in statements if isinstance(s, dict) and s.get("Sid"))
            self._do(f"set repository policy ({len(statements)} statements{': ' + ', '.join(sids) if sids else ''})",
                     ecr.set_repository_policy, self.ecr, spec.name, spec.policy)
        self._update("policy", spec.policy)

    def _ensure_tags(self):
        if not self.facts.get("arn") or self.spec.tags is None:
            return  # a new repository was tagged at creation (or, in check mode, will be)
        to_set, to_unset, result = ecr.wanted_tags(self.spec, self.facts["tags"])
        if to_set:
            self._do(f"set tags {', '.join(sorted(to_set))}", ecr.tag_resource, self.ecr, self.facts["arn"], to_set)
        if to_unset:
            self._do(f"remove tags {', '.join(sorted(to_unset))}", ecr.untag_resource, self.ecr, self.facts["arn"],
                     to_unset)
        self.facts["tags"] = result

    def _update(self, key, value):
        if self.facts:
            self.facts[key] = value


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        scan_on_push=dict(type="bool", default=True),
        image_tag_mutability=dict(type="str", default="IMMUTABLE", choices=["IMMUTABLE", "MUTABLE"]),
        image_tag_mutability_exclusions=dict(type="list", elements="str", default=[]),
        encryption=dict(type="dict", options=dict(
            type=dict(type="str", default="AES256", choices=["AES256", "KMS"]),
            kms_key=dict(type="str", no_log=False),
        )),
        lifecycle=dict(type="dict", options=dict(
            keep_tagged=dict(type="int", default=30),
            expire_untagged_days=dict(type="int", default=7),
        )),
        lifecycle_policy=dict(type="json"),
        policy=dict(type="json"),
        force_absent=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("lifecycle", "lifecycle_policy")])
    module.exit_converged(RepositoryManager, "repository", lambda m: m.facts)


if __name__ == "__main__":
    main()
