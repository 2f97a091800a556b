#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: policy_validation_info
short_description: Validate IAM policies with IAM Access Analyzer
version_added: 1.0.0
description:
  - Validates policy documents with IAM Access Analyzer (C(ValidatePolicy), every page of findings) and fails
    when a finding of a type in O(fail_on) is left after O(ignore), naming each policy and issue code.
  - The policies are given in O(policies) (a document, a JSON file on the managed host, or the policy of an S3
    bucket), and with O(role_path) every role under that IAM path adds its trust policy, its inline policies,
    and the customer managed policies attached to it or set as its permissions boundary (each managed policy
    once, at its default version). AWS managed policies are not validated (AWS maintains them).
  - Reads only. Every option is checked before any API call; a bad one fails with a message that starts with
    its name, for example C(policies[1].document) when that document is not valid JSON.
  - When Access Analyzer cannot be used (its endpoint cannot be reached, the endpoint does not implement it as
    in a local AWS emulator, the credentials are unknown to it or may not call C(access-analyzer:ValidatePolicy)),
    the module fails saying so, or with O(unavailable=skip) returns RV(skipped=true) with the reason and a
    warning. Any other error (a throttled or failing IAM read, an invalid request) always fails.
author:
  - Seed platform team (@seed-platform)
options:
  policies:
    description:
      - The policies to validate, in this order.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the policy in the results, the failure message and O(ignore[].policy). Unique.
        type: str
        required: true
      document:
        description:
          - The policy document, as a dict or as JSON text (sent as given, so the line and column of
            RV(findings[].findings[].locations) point into it).
          - Exactly one of O(policies[].document), O(policies[].path) and O(policies[].bucket).
        type: raw
      path:
        description: A JSON policy file on the managed host, sent as it is.
        type: path
      bucket:
        description:
          - An S3 bucket whose bucket policy is validated (one C(s3:GetBucketPolicy)), as a resource policy of
            type C(AWS::S3::Bucket). A bucket without a policy (or no such bucket) fails naming this option.
        type: str
      type:
        description:
          - V(identity) (C(IDENTITY_POLICY)) for a policy of a user, group or role; V(resource)
            (C(RESOURCE_POLICY)) for a policy attached to a resource; V(service_control)
            (C(SERVICE_CONTROL_POLICY)) for an AWS Organizations SCP.
          - V(identity) when not given; a O(policies[].bucket) policy is always V(resource).
        type: str
        choices: [identity, resource, service_control]
      resource_type:
        description:
          - With O(policies[].type=resource), the resource the policy is for, so that Access Analyzer also
            runs that service's checks (C(validatePolicyResourceType)).
        type: str
        choices:
          - AWS::S3::Bucket
          - AWS::S3::AccessPoint
          - AWS::S3::MultiRegionAccessPoint
          - AWS::S3ObjectLambda::AccessPoint
          - AWS::IAM::AssumeRolePolicyDocument
          - AWS::DynamoDB::Table
  role_path:
    description:
      - Also validate the policies of every role whose path starts with this one (C(ListRoles) C(PathPrefix)),
        for example V(/seed/). They are named C(role/<role>/trust), C(role/<role>/inline/<policy>) and
        C(policy<path><name>) for a managed policy.
    type: str
  fail_on:
    description:
      - Finding types that make the module fail (when not ignored). V([]) reports only.
    type: list
    elements: str
    choices: [ERROR, SECURITY_WARNING, WARNING, SUGGESTION]
    default: [ERROR, SECURITY_WARNING]
  ignore:
    description:
      - Accepted findings. A finding with this issue code, in a policy whose name matches O(ignore[].policy), is
        returned under RV(findings[].ignored) with the reason instead of RV(findings[].findings), and counts
        nowhere. An entry that matches no finding gives a warning (the finding is gone, so remove the entry).
    type: list
    elements: dict
    default: []
    suboptions:
      issue_code:
        description: The finding's C(issueCode), for example C(PASS_ROLE_WITH_STAR_IN_RESOURCE).
        type: str
        required: true
      policy:
        description: A policy name or shell-style glob (C(role/*/inline/*)); every policy when not given.
        type: str
      reason:
        description: Why the finding is accepted (returned with it). Required and not empty.
        type: str
        required: true
  unavailable:
    description:
      - What to do when IAM Access Analyzer cannot be used (see the description).
      - V(fail) fails with the reason; V(skip) returns RV(skipped=true) and RV(skip_reason), with a warning.
    type: str
    choices: [fail, skip]
    default: fail
notes:
  - IAM permissions - C(access-analyzer:ValidatePolicy); with O(role_path) C(iam:ListRoles), C(iam:GetRole),
    C(iam:ListRolePolicies), C(iam:GetRolePolicy), C(iam:ListAttachedRolePolicies), C(iam:GetPolicy),
    C(iam:GetPolicyVersion); with O(policies[].bucket) C(s3:GetBucketPolicy).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes.info_module
"""

EXAMPLES = r"""
- name: Validate the shipped deployer policy and every role under /seed/
  seed.aws_migration.policy_validation_info:
    policies:
      - name: deployer
        path: "{{ playbook_dir }}/../policies/deployer.json"
    role_path: /seed/

- name: A bucket policy, and an accepted finding
  seed.aws_migration.policy_validation_info:
    policies:
      - name: audit-trail-bucket
        bucket: production-seed-audit-trail
      - name: artifacts
        type: resource
        resource_type: AWS::S3::Bucket
        document: "{{ lookup('ansible.builtin.file', 'artifacts-bucket-policy.json') }}"
    ignore:
      - issue_code: MISSING_VERSION
        policy: artifacts
        reason: Legacy document, rewritten in TICKET-123
    fail_on: [ERROR, SECURITY_WARNING, WARNING]

- name: Where Access Analyzer may be missing (a local AWS), report instead of failing
  seed.aws_migration.policy_validation_info:
    role_path: /seed/
    unavailable: skip
  register: checked
"""

RETURN = r"""
findings:
  description: One entry per policy validated, in order (O(policies), then the roles' policies by role name).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The policy's name.
      type: str
      sample: role/local-backend-task/inline/seed-policy
    source:
      description: Where the document came from.
      type: str
      sample: inline policy seed-policy of IAM role arn:aws:iam::123456789012:role/seed/local-backend-task
    policy_type:
      description: The C(policyType) sent.
      type: str
      sample: IDENTITY_POLICY
    resource_type:
      description: The C(validatePolicyResourceType) sent (null when none).
      type: str
      sample: AWS::S3::Bucket
    findings:
      description: The findings not ignored, as Access Analyzer returns them.
      type: list
      elements: dict
      contains:
        findingType:
          description: C(ERROR), C(SECURITY_WARNING), C(WARNING) or C(SUGGESTION).
          type: str
        issueCode:
          description: The issue code.
          type: str
          sample: PASS_ROLE_WITH_STAR_IN_RESOURCE
        findingDetails:
          description: What Access Analyzer found.
          type: str
        learnMoreLink:
          description: Documentation of the check.
          type: str
        locations:
          description: Where in the document (C(path) elements with C(index), C(key), C(value) or C(substring),
            and the C(span) start and end C(line), C(column), C(offset)).
          type: list
          elements: dict
    ignored:
      description: The findings accepted by O(ignore), each with the C(reason) given there.
      type: list
      elements: dict
counts:
  description: How many findings of each type, not counting the ignored ones.
  returned: always
  type: dict
  sample: {"ERROR": 0, "SECURITY_WARNING": 1, "WARNING": 0, "SUGGESTION": 2}
failed_policies:
  description: Names of the policies with a finding of a type in O(fail_on) (the module then fails).
  returned: always
  type: list
  elements: str
skipped:
  description: True when Access Analyzer could not be used and O(unavailable=skip); nothing was validated then.
  returned: always
  type: bool
skip_reason:
  description: Why Access Analyzer could not be used.
  returned: when RV(skipped) is true
  type: str
  sample: "the endpoint answered ValidatePolicy with HTTP 500 and no AWS error: it does not implement IAM Access
    Analyzer (a local AWS emulator has none)"
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import accessanalyzer as aa
from ansible_collections.seed.aws_migration.plugins.module_utils import iam
from ansible_collections.seed.aws_migration.plugins.module_utils import security
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


class Unavailable(Exception):
    """Access Analyzer cannot be used here (the reason is the message)."""


class Validator:
    """Validates policies one at a time; reads what a policy needs (bucket, roles) just before."""

    def __init__(self, module):
        self.module = module
        self._clients = {}

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = self.module.seed_client(service)
        return self._clients[service]

    def validate(self, spec):
        """The result entry of one policy (its raw findings; ``accessanalyzer.classify`` sorts them)."""
        client = self.client("accessanalyzer")
        try:
            findings = aa.validate_policy(client, spec.text, spec.policy_type, spec.resource_type)
        except SeedAWSError as e:
            reason = aa.unavailable_reason(e)
            if reason:
                raise Unavailable(f"{reason} [endpoint {client.meta.endpoint_url}]") from None
            raise
        return {"name": spec.name, "source": spec.source, "policy_type": spec.policy_type,
                "resource_type": spec.resource_type, "findings": findings}

    def read_bucket_policy(self, index, spec):
        document = security.get_bucket_policy(self.client("s3"), spec.bucket)
        if not document:
            raise SeedAWSError(message=f"policies[{index}].bucket: s3://{spec.bucket} has no bucket policy "
                                       "(or there is no such bucket)")
        spec.text = aa.render(document)

    def role_specs(self, path):
        """The policies of the roles under ``path``: trust and inline policies per role, then each customer
        managed policy (attached or permissions boundary) once."""
        client = self.client("iam")
        specs, managed = [], {}
        for role in sorted(aa.list_roles(client, path), key=lambda r: r["RoleName"]):
            name, arn = role["RoleName"], role["Arn"]
            specs.append(aa.PolicySpec(
                name=f"role/{name}/trust", source=f"trust policy of IAM role {arn}",
                text=aa.render(iam.policy_document(role["AssumeRolePolicyDocument"])),
                policy_type=aa.POLICY_TYPES["resource"], resource_type="AWS::IAM::AssumeRolePolicyDocument"))
            for policy in sorted(aa.list_role_policies(client, name)):
                document = iam.get_role_policy(client, name, policy)
                if document:  # None: deleted since the listing
                    specs.append(aa.PolicySpec(name=f"role/{name}/inline/{policy}",
                                               source=f"inline policy {policy} of IAM role {arn}",
                                               text=aa.render(document), policy_type=aa.POLICY_TYPES["identity"]))
            for attached in aa.list_attached_role_policies(client, name):
                managed.setdefault(attached["PolicyArn"], {"attached to": [], "permissions boundary of": []})
                managed[attached["PolicyArn"]]["attached to"].append(name)
            boundary = ((iam.get_role(client, name) or {}).get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if boundary:
                managed.setdefault(boundary, {"attached to": [], "permissions boundary of": []})
                managed[boundary]["permissions boundary of"].append(name)
        for arn in sorted(managed):
            if aa.is_aws_managed(arn):
                continue
            version, document = aa.get_default_policy_document(client, arn)
            if not document:
                continue  # deleted since the listing
            uses = "; ".join(f"{how} role {', '.join(roles)}" for how, roles in managed[arn].items() if roles)
            specs.append(aa.PolicySpec(name=aa.managed_policy_name(arn),
                                       source=f"customer managed policy {arn} ({version}), {uses}",
                                       text=aa.render(document), policy_type=aa.POLICY_TYPES["identity"]))
        return specs

    def run(self, spec):
        results = []
        for index, policy in enumerate(spec.policies):
            if policy.bucket:
                self.read_bucket_policy(index, policy)
            results.append(self.validate(policy))
        if spec.role_path is not None:
            results.extend(self.validate(policy) for policy in self.role_specs(spec.role_path))
        return results


def exit_unavailable(module, spec, reason):
    """Fail (unavailable=fail) or return ``skipped`` with a warning (unavailable=skip)."""
    empty = dict(findings=[], counts=dict.fromkeys(aa.FINDING_TYPES, 0), failed_policies=[])
    if spec.unavailable == "fail":
        module.fail_json(msg=f"IAM Access Analyzer is not available: {reason}. Nothing was validated; "
                             "unavailable=skip reports this instead of failing.", skipped=False, **empty)
    module.warn(f"IAM Access Analyzer is not available, no policy was validated: {reason}")
    module.exit_json(changed=False, skipped=True, skip_reason=reason, **empty)


def main():
    argument_spec = dict(
        policies=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            document=dict(type="raw"),
            path=dict(type="path"),
            bucket=dict(type="str"),
            type=dict(type="str", choices=list(aa.POLICY_TYPES)),
            resource_type=dict(type="str", choices=list(aa.RESOURCE_TYPES)),
        )),
        role_path=dict(type="str"),
        fail_on=dict(type="list", elements="str", choices=list(aa.FINDING_TYPES), default=list(aa.DEFAULT_FAIL_ON)),
        ignore=dict(type="list", elements="dict", default=[], options=dict(
            issue_code=dict(type="str", required=True),
            policy=dict(type="str"),
            reason=dict(type="str", required=True),
        )),
        unavailable=dict(type="str", choices=["fail", "skip"], default="fail"),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        spec = aa.build_spec(module.params)  # ValidationError before any client
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    try:
        results = Validator(module).run(spec)
    except Unavailable as e:
        exit_unavailable(module, spec, str(e))
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    counts, failed, unused = aa.classify(results, spec.ignore, spec.fail_on)
    for index in unused:
        rule = spec.ignore[index]
        module.warn(f"ignore[{index}] ({rule['issue_code']} in {rule['policy']}) matched no finding: "
                    "remove it if the finding is gone")
    result = dict(changed=False, skipped=False, findings=results, counts=counts, failed_policies=failed)
    if failed:
        module.fail_json(msg=aa.failure_message(results, failed, spec.fail_on), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
