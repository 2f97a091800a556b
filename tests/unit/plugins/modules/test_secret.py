# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""secret: validation, password generation, value planning (never regenerate), version IDs, views and KMS
matching, and main() with the API wrappers replaced (validation before any client, check mode plans without
writing, values never in the result)."""

import json
import string

import pytest

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import secretsmanager as sm
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.modules import secret


def params(**kwargs):
    base = dict(name="seed/prod/db", state="present", description=None, kms_key_id=None, value=None, fields=None,
                public_fields=None, purge_fields=True, generate=None, rotate=False, resource_policy=None,
                block_public_policy=True, recovery_window_days=30, return_value=False, tags=None, purge_tags=True)
    base.update(kwargs)
    return base


def gen(**kwargs):
    return dict({"field": None, "length": 32, "exclude_characters": None, "exclude_punctuation": False}, **kwargs)


# --- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a", "seed/prod/metabase-db", "x_y+z=w.v@u-t", "x" * 512])
def test_valid_names(name):
    sm.check_name("name", name)


@pytest.mark.parametrize("name", ["", "bad name", "x" * 513, "arn:aws:secretsmanager:us-east-1:1:secret:x", "a*b",
                                  None])
def test_invalid_names_name_the_field(name):
    with pytest.raises(ValidationError) as e:
        sm.check_name("name", name)
    assert str(e.value).startswith("name: ")


@pytest.mark.parametrize("kwargs, field", [
    (dict(), "value"),
    (dict(fields={}), "value"),
    (dict(value="v", fields={"a": "b"}), "value"),
    (dict(value="v", public_fields={"a": "b"}), "value"),
    (dict(value="v", generate=gen()), "generate"),
    (dict(value=""), "value"),
    (dict(value="x" * 65537), "value"),
    (dict(fields={"a": "b"}, public_fields={"a": "c"}), "public_fields"),
    (dict(fields={"a": None}), "fields.a"),
    (dict(fields={"a": "b"}, generate=gen()), "generate.field"),
    (dict(public_fields={"user": "u"}, generate=gen(field="user")), "generate.field"),
    (dict(fields={"password": "p"}, generate=gen(field="password")), "generate.field"),
    (dict(generate=gen(field="")), "generate.field"),
    (dict(generate=gen(length=7)), "generate.length"),
    (dict(generate=gen(length=4097)), "generate.length"),
    (dict(generate=gen(exclude_characters=string.ascii_letters + string.digits, exclude_punctuation=True)),
     "generate.exclude_characters"),
    (dict(value="v", rotate=True), "rotate"),
    (dict(fields={"a": "b"}, rotate=True), "rotate"),
    (dict(generate=gen(), recovery_window_days=6), "recovery_window_days"),
    (dict(generate=gen(), recovery_window_days=31), "recovery_window_days"),
    (dict(state="absent", recovery_window_days=1), "recovery_window_days"),
    (dict(generate=gen(), description="d" * 2049), "description"),
    (dict(generate=gen(), resource_policy="{nope"), "resource_policy"),
    (dict(generate=gen(), resource_policy="[1]"), "resource_policy"),
    (dict(generate=gen(), resource_policy={"Version": "2012-10-17"}), "resource_policy"),
    (dict(generate=gen(), tags={"aws:x": "y"}), "tags"),
    (dict(generate=gen(), tags={"team": None}), "tags.team"),
    (dict(fields={"a": object()}), "fields"),
])
def test_bad_options_name_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        sm.build_spec(params(**kwargs))
    assert e.value.field == field, str(e.value)
    assert str(e.value).startswith(f"{field}: ")


def test_messages_never_contain_values():
    for kwargs in (dict(fields={"password": "hunter2-Secret"}, generate=gen(field="password")),
                   dict(value="hunter2-Secret", fields={"a": "hunter2-Secret"}),
                   dict(value="hunter2-Secret", rotate=True)):
        with pytest.raises(ValidationError) as e:
            sm.build_spec(params(**kwargs))
        assert "hunter2" not in str(e.value)


def test_absent_validates_name_and_window_only():
    spec = sm.build_spec(params(state="absent", recovery_window_days=0, value="v", fields={"a": "b"}))
    assert spec.recovery_window_days == 0


def test_kinds():
    assert sm.build_spec(params(value="v")).kind == "string"
    assert sm.build_spec(params(generate=gen())).kind == "string"
    spec = sm.build_spec(params(public_fields={"username": "u", "port": 5432}, fields={"api": "k"},
                                generate=gen(field="password")))
    assert spec.kind == "json" and spec.fields == {"username": "u", "port": 5432, "api": "k"}
    assert sm.build_spec(params(generate=gen(field="password"))).kind == "json"
    spec = sm.build_spec(params(generate=gen()))
    assert spec.generate == {"field": None, "length": 32, "exclude_characters": sm.DEFAULT_EXCLUDE,
                             "exclude_punctuation": False}


# --- generation ----------------------------------------------------------------------------------
def test_generated_password_default_is_url_and_shell_safe():
    spec = sm.build_spec(params(generate=gen()))
    for _attempt in range(200):
        value = sm.generate_password(spec.generate)
        assert len(value) == 32
        assert not set(value) & set("\"'`\\$@/:?#[]%& ")
        for pool in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
            assert set(value) & set(pool)
        assert set(value) & (set(string.punctuation) - set(sm.DEFAULT_EXCLUDE))
    assert len({sm.generate_password(spec.generate) for _attempt in range(50)}) == 50


def test_generated_password_options():
    spec = sm.build_spec(params(generate=gen(length=8, exclude_punctuation=True, exclude_characters="0Oo")))
    for _attempt in range(100):
        value = sm.generate_password(spec.generate)
        assert len(value) == 8 and value.isalnum() and not set(value) & set("0Oo")


# --- value planning ------------------------------------------------------------------------------
def fixed(_generate):
    return "GENERATED"


def json_spec(**kwargs):
    return sm.build_spec(params(**dict(dict(public_fields={"username": "metabase"}, generate=gen(field="password")),
                                       **kwargs)))


def test_new_json_secret_generates_once():
    plan = sm.plan_value(json_spec(), False, None, generator=fixed)
    assert json.loads(plan.new) == {"username": "metabase", "password": "GENERATED"}
    assert plan.summary() == "fields set: username; generated: password"


def test_existing_generated_field_is_never_regenerated():
    current = json.dumps({"username": "metabase", "password": "old"})
    assert sm.plan_value(json_spec(), True, current, generator=fixed).new is None
    # Another field changes: the password is kept as it is.
    plan = sm.plan_value(json_spec(public_fields={"username": "other"}), True, current, generator=fixed)
    assert json.loads(plan.new) == {"username": "other", "password": "old"}
    assert (plan.set_fields, plan.generated) == (["username"], [])


@pytest.mark.parametrize("current", [json.dumps({"username": "metabase"}),
                                     json.dumps({"username": "metabase", "password": ""}),
                                     json.dumps({"username": "metabase", "password": 5})])
def test_missing_or_empty_generated_field_is_generated(current):
    plan = sm.plan_value(json_spec(), True, current, generator=fixed)
    assert json.loads(plan.new)["password"] == "GENERATED" and plan.generated == ["password"]


def test_rotate_generates_the_field_only():
    current = json.dumps({"username": "metabase", "password": "old"})
    plan = sm.plan_value(json_spec(rotate=True), True, current, rotate=True, generator=fixed)
    assert json.loads(plan.new) == {"username": "metabase", "password": "GENERATED"}
    assert plan.set_fields == [] and plan.generated == ["password"]


def test_purge_fields():
    current = json.dumps({"username": "metabase", "password": "old", "engine": "postgres"})
    plan = sm.plan_value(json_spec(), True, current, generator=fixed)
    assert json.loads(plan.new) == {"username": "metabase", "password": "old"} and plan.removed == ["engine"]
    assert sm.plan_value(json_spec(purge_fields=False), True, current, generator=fixed).new is None


def test_json_comparison_ignores_formatting_and_order():
    current = json.dumps({"password": "old", "port": 5432, "username": "metabase"}, indent=4)
    spec = json_spec(public_fields={"username": "metabase", "port": 5432})
    assert sm.plan_value(spec, True, current, generator=fixed).new is None
    # A port given as text is another value.
    assert sm.plan_value(json_spec(public_fields={"username": "metabase", "port": "5432"}), True, current,
                         generator=fixed).new is not None


def test_not_json_current_value_is_replaced():
    plan = sm.plan_value(json_spec(), True, "plain", generator=fixed)
    assert json.loads(plan.new) == {"username": "metabase", "password": "GENERATED"}
    assert plan.summary().startswith("the current value is not a JSON object")


def test_plain_values():
    spec = sm.build_spec(params(value="abc"))
    assert sm.plan_value(spec, True, "abc").new is None
    assert sm.plan_value(spec, True, "abd").new == "abc"
    assert sm.plan_value(spec, False, None).new == "abc"
    generated = sm.build_spec(params(generate=gen()))
    assert sm.plan_value(generated, True, None, generator=fixed).new is None  # never read, never regenerated
    assert sm.plan_value(generated, False, None, generator=fixed).new == "GENERATED"
    assert sm.plan_value(generated, True, None, rotate=True, generator=fixed).new == "GENERATED"


# --- versions, views, KMS, policies --------------------------------------------------------------
def test_version_ids_are_predictable_and_new():
    described = {"VersionIdsToStages": {"v1": ["AWSPREVIOUS"], "v2": ["AWSCURRENT"]}}
    token = sm.next_version_id("seed/x", described)
    assert token == sm.next_version_id("seed/x", described)  # check mode predicts the real run
    assert token != sm.next_version_id("seed/y", described)
    assert 32 <= len(token) <= 64
    assert sm.current_version_id(described) == "v2"
    assert sm.current_version_id({"SecretVersionsToStages": {"v3": ["AWSCURRENT"]}}) == "v3"  # ListSecrets
    # Never a version the secret already has.
    taken = dict(described["VersionIdsToStages"], **{token: ["AWSPREVIOUS"]})
    assert sm.next_version_id("seed/x", {"VersionIdsToStages": taken}) not in taken
    assert sm.next_version_id("seed/x", None) != token


def test_views_never_hold_values():
    facts = {"name": "n", "arn": "a", "description": None, "kms_key_id": None, "tags": {"t": "v"},
             "version_id": "v1", "field_names": ["password"], "value": "S3CRET", "fields": {"password": "S3CRET"}}
    view = sm.managed_view(facts, True, False)
    assert view == {"description": None, "kms_key_id": None, "tags": {"t": "v"}, "value_version": "v1",
                    "field_names": ["password"]}
    assert "S3CRET" not in json.dumps(view)
    assert "field_names" not in sm.managed_view(facts, False, False)
    assert sm.managed_view({}, True, True) == {}


def test_kms_matching():
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd"
    resolved = {"alias/mine": arn}
    resolve = resolved.get
    assert sm.key_matches(None, None, resolve)
    assert sm.key_matches("", None, resolve) and sm.key_matches("alias/aws/secretsmanager", None, resolve)
    assert not sm.key_matches("alias/mine", None, resolve)
    assert not sm.key_matches("", arn, resolve)
    assert sm.key_matches("1234abcd", arn, resolve) and sm.key_matches(arn, arn, resolve)
    assert sm.key_matches("alias/mine", arn, resolve)
    assert not sm.key_matches("alias/other", arn, resolve)
    assert sm.kms_view("alias/aws/secretsmanager") is None and sm.kms_view(arn) == arn


def test_policy_comparison():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:Get"],
                                                      "Principal": {"AWS": "arn:aws:iam::1:root"}, "Resource": "*"}]}
    text = json.dumps(dict(reversed(list(policy.items()))), indent=2)
    assert not sm.policies_differ(policy, sm.normalize_policy("resource_policy", text))
    assert sm.policies_differ(None, policy) and not sm.policies_differ(None, None)
    assert sm.normalize_policy("resource_policy", {}) is None and sm.normalize_policy("resource_policy", "") is None


def test_list_filters_and_matching():
    assert sm.list_filters("seed/", {"b": "1", "a": "2"}) == [
        {"Key": "name", "Values": ["seed/"]}, {"Key": "tag-key", "Values": ["a"]},
        {"Key": "tag-key", "Values": ["b"]}]
    facts = {"name": "seed/prod/db", "tags": {"team": "data"}}
    assert sm.matches(facts, "seed/", {"team": "data"})
    assert not sm.matches(facts, "Seed/", None) and not sm.matches(facts, None, {"team": "web"})


# --- main() with the wrappers replaced ----------------------------------------------------------
class Recorder:
    def __init__(self, monkeypatch, described=None, value=None):
        self.calls = []
        self.clients = 0
        self.described, self.value = described, value
        monkeypatch.setattr(secret.SeedAWSModule, "seed_client", lambda module, service: self._client(service))
        monkeypatch.setattr(sm, "describe_secret", lambda client, name: self._read("describe", self.described))
        monkeypatch.setattr(sm, "get_secret_value", lambda client, name: self._read("get_value", self.value))
        monkeypatch.setattr(sm, "get_resource_policy", lambda client, name: self._read("get_policy", None))
        for write in ("create_secret", "put_secret_value", "update_secret", "restore_secret", "delete_secret",
                      "put_resource_policy", "delete_resource_policy", "tag_resource", "untag_resource"):
            monkeypatch.setattr(sm, write, self._writer(write))

    def _client(self, service):
        self.clients += 1
        return object()

    def _read(self, what, answer):
        self.calls.append(what)
        return answer

    def _writer(self, name):
        def write(*args, **kwargs):
            self.calls.append(name)
            return {}
        return write


def existing(version="v1", **extra):
    return dict({"Name": "seed/prod/db", "ARN": "arn:aws:secretsmanager:us-east-1:1:secret:seed/prod/db-AbCdEf",
                 "VersionIdsToStages": {version: ["AWSCURRENT"]},
                 "Tags": [{"Key": "seed:managed-by", "Value": "seed.aws_migration"},
                          {"Key": "seed:component", "Value": "secret"}]}, **extra)


def test_bad_input_creates_no_client(monkeypatch):
    rec = Recorder(monkeypatch)
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db"}, check_mode=False)
    assert result["failed"] and result["msg"].startswith("value: ")
    assert rec.clients == 0 and rec.calls == []


def test_check_mode_plans_a_create_without_writing(monkeypatch):
    rec = Recorder(monkeypatch)
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db", "public_fields": {"username": "u"},
                                              "generate": {"field": "password"}})
    assert result["actions"] == ["create secret seed/prod/db (JSON, fields set: username; generated: password)"]
    assert rec.calls == ["describe"] and result["secret"] == {}
    assert result["diff"]["after"]["field_names"] == ["password", "username"]
    assert result["diff"]["after"]["value_version"] == sm.next_version_id("seed/prod/db", None)


def test_rerun_reads_twice_and_writes_nothing(monkeypatch):
    rec = Recorder(monkeypatch, described=existing(), value=json.dumps({"username": "u", "password": "p4ss-Word"}))
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db", "public_fields": {"username": "u"},
                                              "generate": {"field": "password"}}, check_mode=False)
    assert result["changed"] is False and result["actions"] == []
    assert rec.calls == ["describe", "get_value"]
    assert "p4ss-Word" not in json.dumps(result)
    assert result["secret"]["field_names"] == ["password", "username"]


def test_plain_generated_rerun_never_reads_the_value(monkeypatch):
    rec = Recorder(monkeypatch, described=existing(), value="never-read")
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db", "generate": {}}, check_mode=False)
    assert result["changed"] is False and rec.calls == ["describe"]


def test_return_value_only_when_asked(monkeypatch):
    Recorder(monkeypatch, described=existing(), value=json.dumps({"username": "u", "password": "p4ss-Word"}))
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db", "public_fields": {"username": "u"},
                                              "generate": {"field": "password"}, "return_value": True})
    assert result["secret"]["fields"] == {"username": "u", "password": "p4ss-Word"}


def test_rotate_in_check_mode_predicts_the_version(monkeypatch):
    rec = Recorder(monkeypatch, described=existing(), value=json.dumps({"username": "u", "password": "old"}))
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db", "public_fields": {"username": "u"},
                                              "generate": {"field": "password"}, "rotate": True})
    assert result["actions"] == ["rotate secret seed/prod/db: new field password"]
    assert rec.calls == ["describe", "get_value"]
    assert result["diff"]["before"]["value_version"] == "v1"
    assert result["diff"]["after"]["value_version"] == sm.next_version_id("seed/prod/db", existing())


def test_restore_of_a_scheduled_secret(monkeypatch):
    rec = Recorder(monkeypatch, described=existing(DeletedDate=1700000000), value="ignored")
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db", "generate": {}}, check_mode=False)
    assert result["actions"][0].startswith("restore secret seed/prod/db (scheduled for deletion since 2023-")
    assert rec.calls == ["describe", "restore_secret"]


def test_absent(monkeypatch):
    rec = Recorder(monkeypatch, described=existing())
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db", "state": "absent",
                                              "recovery_window_days": 0}, check_mode=False)
    assert result["actions"] == ["delete secret seed/prod/db at once, without recovery"]
    assert rec.calls == ["describe", "delete_secret"] and result["secret"] == {}
    rec = Recorder(monkeypatch, described=existing(DeletedDate=1700000000))
    result = run_module(monkeypatch, secret, {"name": "seed/prod/db", "state": "absent"}, check_mode=False)
    assert result["actions"] == [] and rec.calls == ["describe"]


class _DeletingClient:
    """DeleteSecret answering as AWS does for a secret an earlier, lost-answer attempt already scheduled."""

    def __init__(self, message):
        from botocore.exceptions import ClientError
        self.error = ClientError({"Error": {"Code": "InvalidRequestException", "Message": message}}, "DeleteSecret")
        self.calls = 0

    def delete_secret(self, **params):
        self.calls += 1
        raise self.error


@pytest.mark.parametrize("message", [
    "You can't perform this operation on the secret because it was marked for deletion.",  # AWS
    "You tried to perform the operation on a secret that's currently marked deleted.",  # moto
])
def test_a_delete_already_done_by_a_lost_attempt_counts_as_done(message):
    client = _DeletingClient(message)
    assert sm.delete_secret(client, "seed/x", 7) is True and client.calls == 1


def test_another_invalid_request_on_delete_fails():
    with pytest.raises(Exception) as e:
        sm.delete_secret(_DeletingClient("You can't delete secret seed/x that still has replica regions"), "seed/x", 7)
    assert "replica regions" in str(e.value)
