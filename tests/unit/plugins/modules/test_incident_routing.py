# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""incident_routing: validation (field named, before any client), event patterns, the topic policy.
Behaviour against the local AWS: tests/integration/test_security_role.py."""

import pytest

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.modules import incident_routing

PATTERN = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
           "detail": {"severity": [{"numeric": [">=", 7]}]}}


def routing_params(**kwargs):
    return dict(dict(topic_name="incidents", state="present", kms_master_key_id=None, emails=["ops@example.com"],
                     rules=[{"name": "gd", "description": "", "event_pattern": PATTERN, "enabled": True,
                             "state": "present"}], tags=None, purge_tags=True), **kwargs)


# --- incident_routing ------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, field", [
    (dict(topic_name="a.b"), "topic_name"),
    (dict(emails=["ops@example.com", "ops"]), "emails[1]"),
    (dict(emails=["ops@example"]), "emails[0]"),
    (dict(emails=["o ps@example.com"]), "emails[0]"),
    (dict(rules=[{"name": "a/b", "event_pattern": PATTERN, "state": "present"}]), "rules[0].name"),
    (dict(rules=[{"name": "a", "event_pattern": PATTERN, "state": "present"},
                 {"name": "a", "event_pattern": PATTERN, "state": "present"}]), "rules[1].name"),
    (dict(rules=[{"name": "a", "event_pattern": None, "state": "present"}]), "rules[0].event_pattern"),
    (dict(rules=[{"name": "a", "event_pattern": "[1", "state": "present"}]), "rules[0].event_pattern"),
    (dict(rules=[{"name": "a", "event_pattern": "[1]", "state": "present"}]), "rules[0].event_pattern"),
])
def test_routing_validation_names_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        incident_routing.validate(routing_params(**kwargs))
    assert e.value.field == field


def test_routing_patterns_may_be_json_and_absent_rules_need_none():
    rules = incident_routing.validate(routing_params(rules=[
        {"name": "a", "event_pattern": '{"source": ["aws.cloudwatch"]}', "state": "present"},
        {"name": "b", "event_pattern": None, "state": "absent"}]))
    assert rules[0]["event_pattern"] == {"source": ["aws.cloudwatch"]}
    assert incident_routing.validate(routing_params(state="absent", rules=[{"name": "a", "state": "present"}]))


def test_topic_policy_lets_only_the_rules_publish():
    policy = incident_routing.topic_policy("arn:aws:sns:us-east-1:123456789012:t",
                                           ["arn:aws:events:us-east-1:123456789012:rule/b",
                                            "arn:aws:events:us-east-1:123456789012:rule/a"])
    tls, events = policy["Statement"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # nothing granted to the account's principals by the topic itself (AWS's default policy does)
    assert not [s for s in policy["Statement"] if s["Effect"] == "Allow" and s["Principal"] != events["Principal"]]
    assert events["Principal"] == {"Service": "events.amazonaws.com"} and events["Action"] == "sns:Publish"
    assert events["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        "arn:aws:events:us-east-1:123456789012:rule/a", "arn:aws:events:us-east-1:123456789012:rule/b"]
    # No rule: no statement for EventBridge at all.
    assert len(incident_routing.topic_policy("arn", [])["Statement"]) == 1


def test_routing_bad_input_fails_before_any_client(monkeypatch):
    monkeypatch.setattr(SeedAWSModule, "client", lambda *a, **k: pytest.fail("no client before validation"))
    result = run_module(monkeypatch, incident_routing, {"topic_name": "t", "emails": ["nope"]})
    assert result["failed"] and result["msg"].startswith("emails[0]: ")
