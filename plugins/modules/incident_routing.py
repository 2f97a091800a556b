#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: incident_routing
short_description: EventBridge rules that route events to an SNS topic with e-mail subscriptions, in one run
version_added: 1.0.0
description:
  - Manages, in one module run, an SNS topic (optionally KMS-encrypted) whose policy lets only the given
    EventBridge rules publish to it (C(events.amazonaws.com) with an C(aws:SourceArn) condition), its e-mail
    subscriptions, and EventBridge rules on the default event bus whose only target is the topic.
  - Why not M(amazon.aws.cloudwatchevent_rule) and M(community.aws.sns_topic) - the first has no check mode
    (a C(--check) run skips it); the second fails in check mode when the topic does not exist yet (it then tries to
    read a topic that is not there). Three module runs would also cost about 1.1 s more than this one.
  - Rules listed with O(rules[].state=absent) are deleted (their targets first). Rules not listed are never
    touched.
  - An e-mail subscription stays C(PendingConfirmation) until its owner confirms it; such a subscription has
    no ARN and cannot be removed through the API (it expires after three days), so it is counted as present and
    never removed.
  - O(state=absent) deletes every listed rule, then the topic and its subscriptions.
author:
  - Seed platform team (@seed-platform)
options:
  topic_name:
    description: Name of the SNS topic (1-256 letters, digits, C(-) and C(_)).
    type: str
    required: true
  state:
    description: Whether the topic and the rules should exist.
    type: str
    choices: [present, absent]
    default: present
  kms_master_key_id:
    description:
      - KMS key (id, alias or ARN) that encrypts the topic at rest. Not set - no encryption at rest.
      - A customer managed key must let C(events.amazonaws.com) call C(kms:GenerateDataKey) and C(kms:Decrypt).
    type: str
  emails:
    description: E-mail addresses subscribed to the topic. Other e-mail subscriptions of the topic are removed.
    type: list
    elements: str
    default: []
  rules:
    description: EventBridge rules (default event bus) whose target is the topic.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Rule name (1-64 letters, digits, C(.), C(-) and C(_)).
        type: str
        required: true
      description:
        description: Rule description.
        type: str
        default: ""
      event_pattern:
        description: Event pattern (a dict, or its JSON text). Required unless O(rules[].state=absent).
        type: raw
      enabled:
        description: Whether the rule is enabled.
        type: bool
        default: true
      state:
        description: Whether this rule should exist (with O(state=present)).
        type: str
        choices: [present, absent]
        default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
"""

EXAMPLES = r"""
- name: High-severity GuardDuty findings and alarms to the on-call mailbox
  seed.aws_migration.incident_routing:
    topic_name: production-incidents
    emails: [oncall@example.com]
    rules:
      - name: production-guardduty-findings
        event_pattern:
          source: [aws.guardduty]
          detail-type: [GuardDuty Finding]
          detail:
            severity: [{numeric: [">=", 7]}]
      - name: production-alarms
        event_pattern:
          source: [aws.cloudwatch]
          detail-type: [CloudWatch Alarm State Change]
          detail:
            state:
              value: [ALARM]
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["create topic production-incidents", "subscribe oncall@example.com to topic production-incidents"]
routing:
  description: The topic and the rules after the run (before it, in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    topic:
      description: The topic (C(name), C(arn), C(kms_master_key_id), C(subscriptions), C(tags)).
      type: dict
      sample: {"name": "production-incidents", "arn": "arn:aws:sns:eu-west-1:123456789012:production-incidents",
               "subscriptions": [{"protocol": "email", "endpoint": "oncall@example.com",
                                  "arn": "PendingConfirmation"}]}
    rules:
      description: The rules that exist, by name (C(arn), C(enabled), C(event_pattern)).
      type: dict
      sample: {"production-alarms": {"arn": "arn:aws:events:eu-west-1:123456789012:rule/production-alarms",
                                     "enabled": true}}
"""

import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ansible_collections.seed.aws_migration.plugins.module_utils import security as api
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

TOPIC_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
RULE_RE = re.compile(r"^[.A-Za-z0-9_-]{1,64}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
TARGET_ID = "seed-incident-topic"
PENDING = ("PendingConfirmation", "pending confirmation")


def validate(params):
    """Check every option and parse event patterns; return the rules with ``event_pattern`` as a dict."""
    if not TOPIC_RE.match(params["topic_name"]):
        raise ValidationError("topic_name", f"{params['topic_name']!r} must be 1-256 letters, digits, '-' or '_'")
    for index, email in enumerate(params["emails"]):
        if not EMAIL_RE.match(email):
            raise ValidationError(f"emails[{index}]", f"{email!r} is not an e-mail address")
    rules, seen = [], set()
    for index, rule in enumerate(params["rules"]):
        field = f"rules[{index}]"
        if not RULE_RE.match(rule["name"]):
            raise ValidationError(f"{field}.name", f"{rule['name']!r} must be 1-64 letters, digits, '.', '-' or '_'")
        if rule["name"] in seen:
            raise ValidationError(f"{field}.name", f"{rule['name']!r} is listed twice")
        seen.add(rule["name"])
        pattern = rule.get("event_pattern")
        if isinstance(pattern, str):
            try:
                pattern = json.loads(pattern)
            except ValueError as e:
                raise ValidationError(f"{field}.event_pattern", f"not valid JSON: {e}") from None
        if rule["state"] == "present" and params["state"] == "present" and not isinstance(pattern, dict):
            raise ValidationError(f"{field}.event_pattern", "a non-empty dict (or its JSON text) is required")
        rules.append(dict(rule, event_pattern=pattern))
    return rules


def topic_policy(topic_arn, rule_arns):
    """Publish over TLS only, and Publish for ``events.amazonaws.com`` from these rules only.

    No statement for the account's own principals (AWS's default topic policy grants every principal of the
    account the topic's management actions through ``AWS:SourceOwner``): within the account, their IAM
    policies decide.
    """
    statements = [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
        "Resource": topic_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    if rule_arns:
        statements.append({
            "Sid": "EventBridgeRules", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}}})
    return {"Version": "2012-10-17", "Id": "seed-incident-routing", "Statement": statements}


class RoutingManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.rules = validate(self.params)  # before any client exists
        self.sns = module.seed_client("sns")
        self.events = module.seed_client("events")
        self.actions = []
        self.name = self.params["topic_name"]
        self.facts = {}

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.module.check_mode else call(*args, **kwargs)

    def _locate(self):
        region = self.module.region
        account = api.account_id(self.module.seed_client("sts"))
        self.topic_arn = f"arn:aws:sns:{region}:{account}:{self.name}"
        self.rule_arn = lambda name: f"arn:aws:events:{region}:{account}:rule/{name}"

    def _wanted_tags(self, current, component):
        p = self.params
        identity = {TAG_MANAGED_BY: "seed.aws_migration", TAG_COMPONENT: component}
        return tag_delta(current, dict(p.get("tags") or {}, **identity), p["purge_tags"])

    # -- reads

    def _read_topic(self):
        attributes = api.get_topic_attributes(self.sns, self.topic_arn)
        if attributes is None:
            return None
        subscriptions = [s for s in api.list_subscriptions(self.sns, self.topic_arn) if s.get("Protocol") == "email"]
        return {"policy": json.loads(attributes["Policy"]) if attributes.get("Policy") else None,
                "kms_master_key_id": attributes.get("KmsMasterKeyId") or None,
                "subscriptions": subscriptions,
                "tags": api.list_topic_tags(self.sns, self.topic_arn)}

    def _read_rule(self, name):
        found = api.describe_rule(self.events, name)
        if not found:
            return None
        return {"arn": found["Arn"], "description": found.get("Description") or "",
                "enabled": found.get("State") == "ENABLED",
                "event_pattern": json.loads(found["EventPattern"]) if found.get("EventPattern") else None,
                "targets": sorted((t["Id"], t["Arn"]) for t in api.list_targets(self.events, name)),
                "tags": api.list_rule_tags(self.events, found["Arn"])}

    # -- present

    def present(self):
        self._locate()
        topic = self._read_topic()
        rules = {r["name"]: self._read_rule(r["name"]) for r in self.rules}
        wanted_rules = [r for r in self.rules if r["state"] == "present"]
        policy = topic_policy(self.topic_arn, [self.rule_arn(r["name"]) for r in wanted_rules])
        kms = self.params.get("kms_master_key_id") or None
        emails = list(dict.fromkeys(self.params["emails"]))

        # The topic first: rules then never publish to a topic that does not exist.
        if topic is None:
            attributes = {"Policy": json.dumps(policy)}
            if kms:
                attributes["KmsMasterKeyId"] = kms
            to_set, _unset = self._wanted_tags({}, "incident-topic")
            self._do(f"create topic {self.name}", api.create_topic, self.sns, self.name, attributes, to_set)
            current_emails = {}
            tags = to_set
        else:
            if topic["policy"] is None or compare_policies(topic["policy"], policy):
                self._do(f"set policy of topic {self.name}", api.set_topic_attribute, self.sns, self.topic_arn,
                         "Policy", json.dumps(policy))
            if topic["kms_master_key_id"] != kms:
                self._do(f"set encryption key of topic {self.name} to {kms or 'none'}", api.set_topic_attribute,
                         self.sns, self.topic_arn, "KmsMasterKeyId", kms or "")
            to_set, to_unset = self._wanted_tags(topic["tags"], "incident-topic")
            if to_set:
                self._do(f"set tags {', '.join(sorted(to_set))} on topic {self.name}", api.tag_topic, self.sns,
                         self.topic_arn, to_set)
            if to_unset:
                self._do(f"remove tags {', '.join(sorted(to_unset))} from topic {self.name}", api.untag_topic,
                         self.sns, self.topic_arn, to_unset)
            current_emails = {s["Endpoint"]: s["SubscriptionArn"] for s in topic["subscriptions"]}
            tags = dict({k: v for k, v in topic["tags"].items() if k not in to_unset}, **to_set)
        for email in emails:
            if email not in current_emails:
                self._do(f"subscribe {email} to topic {self.name}", api.subscribe, self.sns, self.topic_arn, "email",
                         email)
        for email, arn in sorted(current_emails.items()):
            if email not in emails and arn not in PENDING:
                self._do(f"unsubscribe {email} from topic {self.name}", api.unsubscribe, self.sns, arn)

        for rule in self.rules:
            if rule["state"] == "present":
                self._converge_rule(rule, rules[rule["name"]])
            elif rules[rule["name"]]:
                self._delete_rule(rule["name"], rules[rule["name"]])

        before = self._view(topic, rules)
        after_rules = {r["name"]: {"arn": self.rule_arn(r["name"]), "description": r["description"],
                                   "enabled": r["enabled"], "event_pattern": r["event_pattern"],
                                   "targets": [(TARGET_ID, self.topic_arn)],
                                   "tags": self._rule_tags_after(rules[r["name"]])}
                       for r in wanted_rules}
        after_topic = {"policy": policy, "kms_master_key_id": kms, "tags": tags,
                       "subscriptions": [{"Endpoint": e, "Protocol": "email",
                                          "SubscriptionArn": current_emails.get(e, "PendingConfirmation")}
                                         for e in emails]
                       + [{"Endpoint": e, "Protocol": "email", "SubscriptionArn": a}
                          for e, a in sorted(current_emails.items()) if e not in emails and a in PENDING]}
        after = self._view(after_topic, after_rules)
        self.facts = self._facts(after_topic, after_rules)
        return self._facts(topic, {n: r for n, r in rules.items() if r}) if topic else {}, before, after

    def _rule_tags_after(self, current):
        to_set, to_unset = self._wanted_tags(current["tags"] if current else {}, "incident-rule")
        return dict({k: v for k, v in (current["tags"] if current else {}).items() if k not in to_unset}, **to_set)

    def _converge_rule(self, rule, current):
        name = rule["name"]
        wanted = {"description": rule["description"], "enabled": rule["enabled"],
                  "event_pattern": rule["event_pattern"]}
        params = {"Name": name, "EventPattern": json.dumps(rule["event_pattern"], sort_keys=True),
                  "State": "ENABLED" if rule["enabled"] else "DISABLED", "Description": rule["description"]}
        if current is None:
            to_set, _unset = self._wanted_tags({}, "incident-rule")
            self._do(f"create rule {name}", api.put_rule, self.events,
                     Tags=[{"Key": k, "Value": v} for k, v in to_set.items()], **params)
        else:
            changed = sorted(k for k in wanted if wanted[k] != current[k])
            if changed:
                self._do(f"update rule {name}: {', '.join(changed)}", api.put_rule, self.events, **params)
            to_set, to_unset = self._wanted_tags(current["tags"], "incident-rule")
            if to_set:
                self._do(f"set tags {', '.join(sorted(to_set))} on rule {name}", api.tag_rule, self.events,
                         current["arn"], to_set)
            if to_unset:
                self._do(f"remove tags {', '.join(sorted(to_unset))} from rule {name}", api.untag_rule, self.events,
                         current["arn"], to_unset)
        targets = current["targets"] if current else []
        if targets != [(TARGET_ID, self.topic_arn)]:
            others = [target_id for target_id, _arn in targets if target_id != TARGET_ID]
            if others:
                self._do(f"remove targets {', '.join(others)} from rule {name}", api.remove_targets, self.events,
                         name, others)
            if (TARGET_ID, self.topic_arn) not in targets:
                self._do(f"set target of rule {name} to topic {self.name}", api.put_targets, self.events, name,
                         [{"Id": TARGET_ID, "Arn": self.topic_arn}])

    def _delete_rule(self, name, current):
        if current["targets"]:
            self._do(f"remove targets of rule {name}", api.remove_targets, self.events, name,
                     [target_id for target_id, _arn in current["targets"]])
        self._do(f"delete rule {name}", api.delete_rule, self.events, name)

    # -- absent

    def absent(self):
        self._locate()
        rules = {r["name"]: self._read_rule(r["name"]) for r in self.rules}
        topic = self._read_topic()
        for name, current in rules.items():
            if current:
                self._delete_rule(name, current)
        if topic is not None:
            self._do(f"delete topic {self.name}", api.delete_topic, self.sns, self.topic_arn)
        existing = {n: r for n, r in rules.items() if r}
        if topic is None and not existing:
            return {}, None, None
        return self._facts(topic, existing), self._view(topic, rules), None

    # -- views

    def _view(self, topic, rules):
        if topic is None and not any(rules.values()):
            return None
        view = {"rules": {n: dict({k: r[k] for k in ("description", "enabled", "event_pattern", "tags")},
                                  targets=[list(t) for t in r["targets"]]) for n, r in rules.items() if r}}
        if topic is not None:
            view["topic"] = {"policy": topic["policy"], "kms_master_key_id": topic["kms_master_key_id"],
                             "tags": topic["tags"],
                             "emails": sorted(s["Endpoint"] for s in topic["subscriptions"])}
        return view

    def _facts(self, topic, rules):
        facts = {"rules": {n: {"arn": r["arn"], "enabled": r["enabled"], "event_pattern": r["event_pattern"]}
                           for n, r in rules.items()}}
        if topic is not None:
            facts["topic"] = {"name": self.name, "arn": self.topic_arn,
                              "kms_master_key_id": topic["kms_master_key_id"], "tags": topic["tags"],
                              "subscriptions": [{"protocol": "email", "endpoint": s["Endpoint"],
                                                 "arn": s["SubscriptionArn"]} for s in topic["subscriptions"]]}
        return facts


def main():
    argument_spec = dict(
        topic_name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        kms_master_key_id=dict(type="str"),
        emails=dict(type="list", elements="str", default=[]),
        rules=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            description=dict(type="str", default=""),
            event_pattern=dict(type="raw"),
            enabled=dict(type="bool", default=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        )),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_converged(RoutingManager, "routing", lambda manager: manager.facts)


if __name__ == "__main__":
    main()
