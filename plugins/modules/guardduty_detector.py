#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: guardduty_detector
short_description: The region's GuardDuty detector - enabled, its finding publishing frequency, features and tags
version_added: 1.0.0
description:
  - Manages the GuardDuty detector of the region (a region has at most one; it is found with C(ListDetectors)).
    O(state=present) creates it, or enables it when it is suspended, and converges the finding publishing frequency,
    the protection features given in O(features) and the tags. All changes to the detector go in one
    C(UpdateDetector) call.
  - Features use the GuardDuty C(Features) API - O(features.s3_data_events) is C(S3_DATA_EVENTS),
    O(features.runtime_monitoring) is C(RUNTIME_MONITORING) with its C(ECS_FARGATE_AGENT_MANAGEMENT) additional
    configuration (O(features.ecs_fargate_agent_management)), O(features.malware_protection) is
    C(EBS_MALWARE_PROTECTION). A feature left out (or null) is not changed.
  - Check mode makes no write call and reports in RV(actions) exactly the changes a real run would make.
  - O(state=absent) deletes the detector, and with it every finding GuardDuty holds for the region. For a security
    control this needs O(force_absent=true); without it the module fails, naming the option, and deletes nothing.
author:
  - Seed platform team (@seed-platform)
options:
  state:
    description: Whether the region's detector should exist (and be enabled).
    type: str
    choices: [present, absent]
    default: present
  finding_publishing_frequency:
    description: How often updated findings are exported to EventBridge (and S3, when exported).
    type: str
    choices: [FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS]
    default: SIX_HOURS
  features:
    description: Protection features. An option that is not given (or null) leaves that feature as it is.
    type: dict
    suboptions:
      s3_data_events:
        description: S3 Protection - S3 data events (C(S3_DATA_EVENTS)).
        type: bool
      runtime_monitoring:
        description: Runtime Monitoring (C(RUNTIME_MONITORING)).
        type: bool
      ecs_fargate_agent_management:
        description:
          - Whether GuardDuty manages its security agent in ECS Fargate tasks (C(ECS_FARGATE_AGENT_MANAGEMENT) of
            Runtime Monitoring). Needs O(features.runtime_monitoring) to be given; V(true) needs it V(true).
        type: bool
      malware_protection:
        description:
          - Malware Protection for EC2 - scans of EBS volumes (C(EBS_MALWARE_PROTECTION)), where the region offers
            it. In a region that does not, GuardDuty refuses the update and the module fails with its message.
        type: bool
  force_absent:
    description:
      - With O(state=absent), delete the detector. Deleting it deletes all of the region's findings.
      - When false, O(state=absent) fails if there is a detector, and nothing is deleted.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - Tag keys C(seed:*) are never removed by O(purge_tags). The module tags the detector with
    C(seed:managed-by) and C(seed:component).
  - Changing tags of an existing detector needs its ARN, so the account is read once with C(sts:GetCallerIdentity)
    in that case only.
"""

EXAMPLES = r"""
- name: GuardDuty with S3 protection, runtime monitoring for Fargate and malware scans
  seed.aws_migration.guardduty_detector:
    finding_publishing_frequency: FIFTEEN_MINUTES
    features:
      s3_data_events: true
      runtime_monitoring: true
      ecs_fargate_agent_management: true
      malware_protection: true
    tags:
      team: security
  register: guardduty

- name: Delete the detector (and every finding with it)
  seed.aws_migration.guardduty_detector:
    state: absent
    force_absent: true
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order, one per write call.
  returned: always
  type: list
  elements: str
  sample: ["create detector (finding_publishing_frequency=SIX_HOURS, s3_data_events=true)"]
detector:
  description: The detector after the run (before it, in check mode). Empty when there is none.
  returned: always
  type: dict
  contains:
    id:
      description: Detector ID.
      type: str
      sample: 12abc34d567e8fa901bc2d34e56789f0
    status:
      description: C(ENABLED) or C(DISABLED) (suspended).
      type: str
      sample: ENABLED
    finding_publishing_frequency:
      description: The finding publishing frequency.
      type: str
      sample: SIX_HOURS
    features:
      description: Each managed feature and whether it is enabled.
      type: dict
      sample: {"s3_data_events": true, "runtime_monitoring": true, "ecs_fargate_agent_management": true,
               "malware_protection": false}
    tags:
      description: Tags of the detector.
      type: dict
      sample: {"team": "security"}
diff:
  description: The managed fields before and after (status, finding_publishing_frequency, features, tags).
  returned: in diff mode
  type: dict
  sample: {"before": {"finding_publishing_frequency": "SIX_HOURS"}, "after": {"finding_publishing_frequency": "ONE_HOUR"}}
"""

import uuid

from ansible_collections.seed.aws_migration.plugins.module_utils import guardduty as gd
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

IDENTITY = {TAG_MANAGED_BY: "seed.aws_migration", TAG_COMPONENT: "guardduty-detector"}


def _flag(value):
    return str(bool(value)).lower()


def detector_facts(detector_id, detector):
    if not detector_id:
        return {}
    return {"id": detector_id, "status": detector.get("Status"),
            "finding_publishing_frequency": detector.get("FindingPublishingFrequency"),
            "features": gd.features_view(detector.get("Features")), "tags": dict(detector.get("Tags") or {})}


def view(facts):
    return {k: v for k, v in facts.items() if k != "id"} if facts else None


class DetectorManager:
    """Converges the region's detector. Every write goes through ``_do``: in check mode it records the
    action and skips the call, so a check run reports exactly what a real run does."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        gd.validate_features(self.params.get("features"))  # before any client exists
        self.client = module.seed_client("guardduty")
        self.actions = []
        self.facts = {}

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.module.check_mode else call(*args, **kwargs)

    def _find(self):
        ids = gd.list_detectors(self.client)
        if len(ids) > 1:
            raise SeedAWSError(message=f"the region has {len(ids)} GuardDuty detectors ({', '.join(ids)}); "
                                       "GuardDuty allows one - resolve this by hand")
        if not ids:
            return None, {}
        return ids[0], gd.get_detector(self.client, ids[0])

    def _wanted_tags(self, current, purge):
        wanted = dict(self.params.get("tags") or {}, **IDENTITY)
        to_set, to_unset = tag_delta(current, wanted, purge)
        result = dict(current, **to_set)
        for key in to_unset:
            result.pop(key, None)
        return to_set, to_unset, result

    def present(self):
        p = self.params
        detector_id, detector = self._find()
        self.facts = detector_facts(detector_id, detector)
        facts_before = dict(self.facts)
        current_tags = self.facts.get("tags", {})
        purge = p["purge_tags"]
        to_set, to_unset, tags_after = self._wanted_tags(current_tags, purge)
        after = {"status": "ENABLED", "finding_publishing_frequency": p["finding_publishing_frequency"],
                 "features": gd.desired_features_view(p.get("features"), self.facts.get("features")),
                 "tags": tags_after}
        before = view(self.facts)
        api_features = gd.features_to_api(p.get("features"))
        if not detector_id:
            enabled = ", ".join(f"{o}={_flag(v)}" for o, v in (p.get("features") or {}).items() if v is not None)
            new_id = self._do(
                f"create detector (finding_publishing_frequency={p['finding_publishing_frequency']}"
                + (f", {enabled}" if enabled else "") + ")",
                gd.create_detector, self.client, p["finding_publishing_frequency"], api_features, tags_after,
                str(uuid.uuid4()))
            self.facts = dict(after, id=new_id) if new_id else {}
            return facts_before, before, after
        changes, update = [], {}
        if before["status"] != "ENABLED":
            changes.append("enable")
            update["Enable"] = True
        if before["finding_publishing_frequency"] != after["finding_publishing_frequency"]:
            changes.append(f"finding_publishing_frequency={after['finding_publishing_frequency']}")
            update["FindingPublishingFrequency"] = after["finding_publishing_frequency"]
        changed_features = [o for o in gd.FEATURE_OPTIONS if before["features"].get(o) != after["features"][o]]
        if changed_features:
            changes.extend(f"{o}={_flag(after['features'][o])}" for o in changed_features)
            update["Features"] = api_features
        if update:
            self._do(f"update detector {detector_id}: {', '.join(changes)}", gd.update_detector, self.client,
                     detector_id, **update)
        if to_set or to_unset:
            arn = gd.detector_arn(self.module.region, gd.account_id(self.module.seed_client("sts")), detector_id)
            if to_set:
                self._do(f"set tags {', '.join(sorted(to_set))} on detector {detector_id}", gd.tag_resource,
                         self.client, arn, to_set)
            if to_unset:
                self._do(f"remove tags {', '.join(sorted(to_unset))} from detector {detector_id}",
                         gd.untag_resource, self.client, arn, to_unset)
        self.facts = dict(after, id=detector_id)
        return facts_before, before, after

    def absent(self):
        detector_id, detector = self._find()
        self.facts = detector_facts(detector_id, detector)
        facts_before = dict(self.facts)
        if not detector_id:
            return facts_before, None, None
        if not self.params["force_absent"]:
            raise ValidationError("force_absent", f"deleting detector {detector_id} deletes every GuardDuty finding "
                                                  "of the region; nothing was deleted. Set force_absent=true to "
                                                  "delete it")
        self._do(f"delete detector {detector_id}", gd.delete_detector, self.client, detector_id)
        self.facts = {}
        return facts_before, view(facts_before), None


def main():
    argument_spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        finding_publishing_frequency=dict(type="str", default="SIX_HOURS", choices=gd.FREQUENCIES),
        features=dict(type="dict", options=dict(
            s3_data_events=dict(type="bool"),
            runtime_monitoring=dict(type="bool"),
            ecs_fargate_agent_management=dict(type="bool"),
            malware_protection=dict(type="bool"),
        )),
        force_absent=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_converged(DetectorManager, "detector", lambda m: m.facts)


if __name__ == "__main__":
    main()
