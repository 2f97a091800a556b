#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: guardduty_findings_info
short_description: Read GuardDuty findings, most severe first
version_added: 1.0.0
description:
  - Reads the findings of a GuardDuty detector (the region's detector unless O(detector_id) is given) with a
    severity of at least O(min_severity), open ones only unless O(include_archived=true), most severe first.
  - Filtering happens in GuardDuty (C(ListFindings) criteria); then the findings are read 50 at a time.
author:
  - Seed platform team (@seed-platform)
options:
  detector_id:
    description: The detector to read. The region's detector (from C(ListDetectors)) when not given.
    type: str
  min_severity:
    description:
      - The lowest severity returned - a number from 0 to 10, or a level name V(LOW) (1.0), V(MEDIUM) (4.0),
        V(HIGH) (7.0) or V(CRITICAL) (9.0). Anything else fails naming this option, before any API call.
      - Every severity when not given.
    type: raw
  include_archived:
    description: Also return archived findings.
    type: bool
    default: false
  max_findings:
    description: At most this many findings are returned (the most severe ones). 1 to 10000.
    type: int
    default: 100
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes.info_module
"""

EXAMPLES = r"""
- name: Open findings of high severity and above
  seed.aws_migration.guardduty_findings_info:
    min_severity: HIGH
  register: found

- name: Their titles
  ansible.builtin.debug:
    msg: "{{ found.findings | map(attribute='title') | list }}"
"""

RETURN = r"""
detector_id:
  description: The detector read; null when the region has none (then RV(findings) is empty).
  returned: always
  type: str
  sample: 12abc34d567e8fa901bc2d34e56789f0
findings:
  description: The findings, most severe first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Finding ID.
      type: str
    arn:
      description: Finding ARN.
      type: str
    type:
      description: Finding type.
      type: str
      sample: UnauthorizedAccess:EC2/SSHBruteForce
    severity:
      description: Severity, 0-10.
      type: float
      sample: 8.0
    severity_label:
      description: C(LOW), C(MEDIUM), C(HIGH) or C(CRITICAL).
      type: str
    title:
      description: Title.
      type: str
    description:
      description: Description.
      type: str
    resource:
      description: The affected resource - C(type) and its identifying fields (instance ID, access key, buckets,
        ECS cluster and task, container image...).
      type: dict
      sample: {"type": "Instance", "instance_id": "i-0123456789abcdef0", "instance_type": "t3.micro"}
    region:
      description: Region.
      type: str
    account:
      description: Account ID.
      type: str
    created_at:
      description: When GuardDuty first saw it.
      type: str
    updated_at:
      description: When it last changed.
      type: str
    count:
      description: How many times GuardDuty saw the activity.
      type: int
    archived:
      description: Whether it is archived.
      type: bool
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import guardduty as gd
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


def validate(params):
    """The parsed minimum severity; ValidationError before any client exists."""
    if not 1 <= params["max_findings"] <= 10000:
        raise ValidationError("max_findings", f"{params['max_findings']} is not between 1 and 10000")
    return gd.parse_severity("min_severity", params.get("min_severity"))


def main():
    argument_spec = dict(
        detector_id=dict(type="str"),
        min_severity=dict(type="raw"),
        include_archived=dict(type="bool", default=False),
        max_findings=dict(type="int", default=100),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        min_severity = validate(module.params)
        detector_id, findings = gd.find_findings(module.seed_client("guardduty"), module.params, min_severity)
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, detector_id=detector_id, findings=findings)


if __name__ == "__main__":
    main()
