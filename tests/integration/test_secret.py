"""secret and secret_info against the local AWS over HTTP, requests counted at the server.

The rhythm of every step: check mode (prediction, zero writes), apply (the same actions, one write
request per action), re-apply (changed=false, zero writes). Values are read back with boto3 to check
what the local AWS really holds - and that a rerun never generates a value again.

What the local AWS (moto 5.2.5) does and does not do, checked in moto/secretsmanager:
- it honours CreateSecret/PutSecretValue with a ClientRequestToken as the VersionId (and ignores a repeat with
  the same token and value, as AWS does), DescribeSecret's VersionIdsToStages, Tags and DeletedDate,
  Tag/UntagResource, Put/Get/DeleteResourcePolicy, RestoreSecret, DeleteSecret with a recovery window or
  ForceDeleteWithoutRecovery (also of a secret already scheduled for deletion), and refuses GetSecretValue on a
  secret scheduled for deletion, as AWS does;
- UpdateSecret with Description="" keeps the old description where AWS removes it:
  tools/moto_fidelity_secretsmanager.py makes it remove it;
- it stores a KMS key reference as given and never checks it (AWS may report the key ARN; the module resolves
  references through KMS DescribeKey when they do not match as text), and ignores BlockPublicPolicy.
"""

from __future__ import annotations

import json
import string
import subprocess

import pytest

from support.ansible import REPO_ROOT, RUN_TIMEOUT
from support.converge import converge as shared_converge
from support.servers import boto3_client

NAME = "seed/test/metabase-db"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ReadFromApp", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
                   "Action": "secretsmanager:GetSecretValue", "Resource": "*"}],
}
BASE = {"name": NAME, "public_fields": {"username": "metabase", "host": "db.internal", "port": 5432},
        "generate": {"field": "password"}}
IDENTITY = {"seed:managed-by": "seed.aws_migration", "seed:component": "secret"}
DEFAULT_EXCLUDED = "\"'`\\$@/:?#[]%&"


def converge(ansible, aws, args, module="secret"):
    return shared_converge(ansible, aws, args, module)


def stored(url, name=NAME):
    """(SecretString, VersionId) of the current version, as the local AWS holds it."""
    value = boto3_client("secretsmanager", url).get_secret_value(SecretId=name)
    return value["SecretString"], value["VersionId"]


def described(url, name=NAME):
    return boto3_client("secretsmanager", url).describe_secret(SecretId=name)


def check_password(password, length=32):
    assert len(password) == length
    assert not set(password) & set(DEFAULT_EXCLUDED)
    for pool in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
        assert set(password) & set(pool)


def test_generated_json_secret_lifecycle(clean_aws, ansible):
    url = clean_aws.endpoint_url
    created = converge(ansible, clean_aws, BASE)
    assert created["actions"] == [
        f"create secret {NAME} (JSON, fields set: host, port, username; generated: password)"]
    assert created["writes_by_action"] == {"secretsmanager:CreateSecret": 1}
    secret = created["secret"]
    assert secret["name"] == NAME and secret["arn"].startswith(f"arn:aws:secretsmanager:us-east-1:123456789012:"
                                                               f"secret:{NAME}-")
    assert secret["field_names"] == ["host", "password", "port", "username"]
    assert secret["tags"] == IDENTITY and secret["kms_key_id"] is None and secret["description"] is None
    assert "value" not in secret and "fields" not in secret
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"] == {"description": None, "kms_key_id": None, "tags": IDENTITY,
                                        "value_version": secret["version_id"],
                                        "field_names": ["host", "password", "port", "username"]}
    value, version = stored(url)
    document = json.loads(value)
    assert {k: v for k, v in document.items() if k != "password"} == {"username": "metabase",
                                                                      "host": "db.internal", "port": 5432}
    check_password(document["password"])
    assert version == secret["version_id"]
    # The value appears nowhere in what the module returned (converge's re-apply too).
    assert document["password"] not in json.dumps(created)

    # Re-apply (converge did) and once more: the password is never generated again.
    again = ansible.module("secret", BASE)
    assert again["changed"] is False and stored(url) == (value, version)

    # One public field changes: one PutSecretValue, the password kept.
    moved = converge(ansible, clean_aws, dict(BASE, public_fields=dict(BASE["public_fields"], host="db2.internal")))
    assert moved["actions"] == [f"put new value of secret {NAME} (fields set: host)"]
    assert moved["writes_by_action"] == {"secretsmanager:PutSecretValue": 1}
    assert moved["diff"]["before"]["value_version"] == version
    assert moved["diff"]["after"]["value_version"] == moved["secret"]["version_id"] != version
    value2, version2 = stored(url)
    assert json.loads(value2) == dict(document, host="db2.internal")
    assert version2 == moved["secret"]["version_id"]

    # A secret field (no_log) added, purge_fields=false keeps what is not listed.
    args = dict(BASE, public_fields={"username": "metabase"}, fields={"api_token": "t0k3n-value-xyz"},
                purge_fields=False)
    added = converge(ansible, clean_aws, args)
    assert added["actions"] == [f"put new value of secret {NAME} (fields set: api_token)"]
    assert json.loads(stored(url)[0]) == dict(document, host="db2.internal", api_token="t0k3n-value-xyz")

    # Rotate: a new password now, every time it is asked; the other fields kept.
    rotate = dict(args, rotate=True)
    clean_aws.reset_counts()
    check = ansible.module("secret", rotate, check=True, diff=True)
    assert clean_aws.requests()["writes"] == 0
    rotated = ansible.module("secret", rotate, diff=True)
    assert rotated["actions"] == check["actions"] == [f"rotate secret {NAME}: new field password"]
    assert rotated["changed"] is True
    assert check["diff"]["after"] == rotated["diff"]["after"]
    assert clean_aws.requests()["writes_by_action"] == {"secretsmanager:PutSecretValue": 1}
    value3, version3 = stored(url)
    document3 = json.loads(value3)
    check_password(document3["password"])
    assert document3["password"] != document["password"]
    assert {k: v for k, v in document3.items() if k != "password"} == {
        "username": "metabase", "host": "db2.internal", "port": 5432, "api_token": "t0k3n-value-xyz"}
    assert rotated["secret"]["version_id"] == version3
    # After the rotation the same task without rotate is no change.
    assert ansible.module("secret", args)["changed"] is False and stored(url)[0] == value3

    # Description, policy and tags: one write each.
    updated = converge(ansible, clean_aws, dict(args, description="Metabase database", resource_policy=POLICY,
                                                tags={"team": "data", "tier": "db"}))
    assert updated["actions"] == [
        f"update secret {NAME}: description",
        f"put resource policy of secret {NAME} (1 statements: ReadFromApp)",
        f"set tags team, tier on secret {NAME}",
    ]
    assert updated["writes_by_action"] == {"secretsmanager:UpdateSecret": 1, "secretsmanager:PutResourcePolicy": 1,
                                           "secretsmanager:TagResource": 1}
    assert updated["secret"]["resource_policy"] == POLICY
    assert updated["diff"]["after"]["tags"] == dict(IDENTITY, team="data", tier="db")
    assert stored(url)[0] == value3  # metadata changes never touch the value
    meta = described(url)
    assert meta["Description"] == "Metabase database"
    assert json.loads(boto3_client("secretsmanager", url).get_resource_policy(SecretId=NAME)["ResourcePolicy"]) \
        == POLICY

    # The same policy as JSON text in another key order: no change.
    clean_aws.reset_counts()
    same = ansible.module("secret", dict(args, description="Metabase database", tags={"team": "data", "tier": "db"},
                                         resource_policy=json.dumps(dict(reversed(list(POLICY.items()))), indent=2)))
    assert same["changed"] is False, same.get("msg")
    assert clean_aws.requests()["writes"] == 0

    # Purge a tag, remove the policy and the description.
    purged = converge(ansible, clean_aws, dict(args, description="", resource_policy={}, tags={"team": "data"}))
    assert purged["actions"] == [f"update secret {NAME}: description",
                                 f"delete resource policy of secret {NAME}",
                                 f"remove tags tier from secret {NAME}"]
    assert purged["secret"]["description"] is None and purged["secret"]["resource_policy"] is None
    assert "Description" not in described(url)

    # Delete with a recovery window, then it counts as absent.
    gone = converge(ansible, clean_aws, {"name": NAME, "state": "absent", "recovery_window_days": 7})
    assert gone["actions"] == [f"delete secret {NAME} (recoverable for 7 days)"]
    assert gone["writes_by_action"] == {"secretsmanager:DeleteSecret": 1}
    assert gone["secret"] == {} and gone["diff"]["after"] == {}
    assert described(url).get("DeletedDate")
    assert ansible.module("secret_info", {"name_prefix": "seed/test/"})["secrets"] == []

    # state=present restores it, with its value: nothing generated again. (Check mode cannot read the value of
    # a secret scheduled for deletion: it predicts the field names from the options, here all of them.)
    exact = dict(BASE, public_fields=dict(BASE["public_fields"], host="db2.internal"),
                 fields={"api_token": "t0k3n-value-xyz"})
    restored = converge(ansible, clean_aws, exact)
    assert restored["actions"][0].startswith(f"restore secret {NAME} (scheduled for deletion since ")
    assert restored["actions"][1:] == []
    assert restored["writes_by_action"] == {"secretsmanager:RestoreSecret": 1}
    assert stored(url)[0] == value3 and not described(url).get("DeletedDate")

    # Delete at once, without recovery: the secret is gone.
    gone = converge(ansible, clean_aws, {"name": NAME, "state": "absent", "recovery_window_days": 0})
    assert gone["actions"] == [f"delete secret {NAME} at once, without recovery"]
    with pytest.raises(Exception) as e:
        described(url)
    assert "ResourceNotFoundException" in str(e.value)


def test_a_secret_with_a_resource_policy_is_restored(clean_aws, ansible):
    """AWS refuses GetResourcePolicy on a secret scheduled for deletion (the local AWS is patched to, as
    tools/moto_fidelity_secretsmanager.py says): state=present restores the secret first and compares its
    policy after. Check mode cannot read it, says so, and predicts putting it."""
    args = {"name": "seed/test/shared", "generate": {}, "resource_policy": POLICY}
    converge(ansible, clean_aws, args)
    converge(ansible, clean_aws, {"name": "seed/test/shared", "state": "absent", "recovery_window_days": 7})
    clean_aws.reset_counts()
    check = ansible.module("secret", args, check=True)
    assert not check.get("failed"), check.get("msg")
    assert check["actions"][0].startswith("restore secret seed/test/shared")
    assert check["actions"][1].startswith("put resource policy of secret seed/test/shared")
    assert any("cannot read its resource policy" in w for w in check.get("warnings", []))
    assert clean_aws.requests()["writes"] == 0
    restored = ansible.module("secret", args)
    assert not restored.get("failed"), restored.get("msg")
    assert len(restored["actions"]) == 1 and restored["actions"][0].startswith("restore secret seed/test/shared")
    assert restored["secret"]["resource_policy"] == POLICY
    clean_aws.reset_counts()
    assert ansible.module("secret", args)["changed"] is False and clean_aws.requests()["writes"] == 0
    # Deleting it again with a window, twice (a retry after a lost answer gets AWS's "marked for deletion"):
    # the second run finds it scheduled and has nothing to do.
    converge(ansible, clean_aws, {"name": "seed/test/shared", "state": "absent", "recovery_window_days": 7})


def test_scheduled_deletion_is_forced_with_zero_window(clean_aws, ansible):
    converge(ansible, clean_aws, {"name": "seed/test/token", "generate": {}})
    converge(ansible, clean_aws, {"name": "seed/test/token", "state": "absent"})
    forced = converge(ansible, clean_aws, {"name": "seed/test/token", "state": "absent", "recovery_window_days": 0})
    assert forced["actions"] == ["delete secret seed/test/token at once, without recovery"]
    assert forced["diff"]["before"]["deleted_date"]
    info = ansible.module("secret_info", {"name_prefix": "seed/", "include_planned_deletion": True})
    assert info["secrets"] == []


def test_plain_secrets_value_and_generated(clean_aws, ansible):
    url = clean_aws.endpoint_url
    # A plain generated string, letters and digits only, 48 long: never read on a rerun.
    token = {"name": "seed/test/token", "generate": {"length": 48, "exclude_punctuation": True}}
    created = converge(ansible, clean_aws, token)
    assert created["actions"] == ["create secret seed/test/token (generated value)"]
    value, version = stored(url, "seed/test/token")
    assert len(value) == 48 and value.isalnum()
    assert created["secret"]["field_names"] is None
    clean_aws.reset_counts()
    assert ansible.module("secret", token)["changed"] is False
    assert clean_aws.requests()["by_action"] == {"secretsmanager:DescribeSecret": 1}
    assert stored(url, "seed/test/token") == (value, version)
    rotated = ansible.module("secret", dict(token, rotate=True))
    assert rotated["actions"] == ["rotate secret seed/test/token: new value"]
    assert stored(url, "seed/test/token")[0] != value

    # return_value: the generated value comes back only when asked.
    shown = ansible.module("secret", dict(token, return_value=True))
    assert shown["changed"] is False and shown["secret"]["value"] == stored(url, "seed/test/token")[0]

    # A given plain value: compared, written only when it differs.
    api = {"name": "seed/test/api-key", "value": "first-key-1234567890", "description": "vendor key"}
    created = converge(ansible, clean_aws, api)
    assert created["actions"] == ["create secret seed/test/api-key (new value, description)"]
    assert stored(url, "seed/test/api-key")[0] == "first-key-1234567890"
    changed = converge(ansible, clean_aws, dict(api, value="second-key-0987654321"))
    assert changed["actions"] == ["put new value of secret seed/test/api-key (new value)"]
    assert changed["writes_by_action"] == {"secretsmanager:PutSecretValue": 1}
    assert stored(url, "seed/test/api-key")[0] == "second-key-0987654321"

    # A JSON secret given a plain value becomes a plain string (and the other way round).
    to_json = converge(ansible, clean_aws, {"name": "seed/test/api-key", "fields": {"key": "k-value-1"}})
    assert to_json["actions"] == ["put new value of secret seed/test/api-key (the current value is not a JSON "
                                  "object; fields set: key)"]
    assert json.loads(stored(url, "seed/test/api-key")[0]) == {"key": "k-value-1"}


def test_kms_key(clean_aws, ansible):
    url = clean_aws.endpoint_url
    kms = boto3_client("kms", url)
    key = kms.create_key(Description="secrets")["KeyMetadata"]
    kms.create_alias(AliasName="alias/seed-secrets", TargetKeyId=key["KeyId"])
    args = {"name": "seed/test/kms", "generate": {}, "kms_key_id": "alias/seed-secrets"}
    created = converge(ansible, clean_aws, args)
    assert created["actions"] == ["create secret seed/test/kms (generated value, kms_key_id)"]
    assert described(url, "seed/test/kms")["KmsKeyId"] == "alias/seed-secrets"
    # The same key by ARN: no change (resolved through KMS when the text differs).
    clean_aws.reset_counts()
    same = ansible.module("secret", dict(args, kms_key_id=key["Arn"]))
    assert same["changed"] is False, same.get("msg")
    assert clean_aws.requests()["writes"] == 0
    # Back to the AWS managed key: one UpdateSecret.
    back = converge(ansible, clean_aws, dict(args, kms_key_id=""))
    assert back["actions"] == ["update secret seed/test/kms: kms_key_id"]
    assert back["writes_by_action"] == {"secretsmanager:UpdateSecret": 1}
    assert back["secret"]["kms_key_id"] is None


@pytest.mark.parametrize("args, field", [
    ({"name": NAME}, "value"),
    ({"name": NAME, "value": "x-value-123", "fields": {"a": "b"}}, "value"),
    ({"name": NAME, "value": "x-value-123", "generate": {}}, "generate"),
    ({"name": NAME, "fields": {"a": "b"}, "generate": {}}, "generate.field"),
    ({"name": NAME, "fields": {"password": "b"}, "generate": {"field": "password"}}, "generate.field"),
    ({"name": NAME, "generate": {"length": 4}}, "generate.length"),
    ({"name": NAME, "generate": {"exclude_characters": string.ascii_letters + string.digits,
                                 "exclude_punctuation": True}}, "generate.exclude_characters"),
    ({"name": NAME, "value": "x-value-123", "rotate": True}, "rotate"),
    ({"name": NAME, "state": "absent", "recovery_window_days": 3}, "recovery_window_days"),
    ({"name": NAME, "generate": {}, "recovery_window_days": 31}, "recovery_window_days"),
    ({"name": "bad name!", "generate": {}}, "name"),
    ({"name": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x", "state": "absent"}, "name"),
    ({"name": NAME, "generate": {}, "resource_policy": "{nope"}, "resource_policy"),
    ({"name": NAME, "generate": {}, "tags": {"aws:x": "y"}}, "tags"),
])
def test_bad_inputs_fail_before_any_request(clean_aws, ansible, args, field):
    result = ansible.module("secret", args)
    assert result.get("failed"), result
    assert result["msg"].startswith(f"{field}: "), result["msg"]
    assert clean_aws.requests()["total"] == 0
    assert boto3_client("secretsmanager", clean_aws.endpoint_url).list_secrets()["SecretList"] == []


def test_values_never_in_output_at_vvv(clean_aws, ansible):
    """ansible-playbook -vvv --diff (module arguments and full results printed) with the default callback:
    neither a given secret field nor the generated password appears anywhere, create, rerun and rotate."""
    url = clean_aws.endpoint_url
    given = "Gvn-S3cret-field-value-Zq8"
    args = dict(BASE, fields={"api_token": given})
    tasks = [
        {"name": "Create", "seed.aws_migration.secret": args},
        {"name": "Rerun", "seed.aws_migration.secret": args},
        {"name": "Rotate", "seed.aws_migration.secret": dict(args, rotate=True)},
        {"name": "Info", "seed.aws_migration.secret_info": {"name": NAME}},
    ]
    play = ansible.write_play(tasks)
    env = dict(ansible.env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    cmd = ansible.command(play, diff=True, verbosity=3)
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "rotate secret" in output and "module_args" in output, output[-3000:]
    document = json.loads(stored(url)[0])
    versions = boto3_client("secretsmanager", url).list_secret_version_ids(SecretId=NAME)["Versions"]
    assert len(versions) == 2  # create and rotate: the rerun wrote nothing
    assert document["api_token"] == given
    assert given not in output
    assert document["password"] not in output
    # The password of the first version (before the rotation) does not appear either.
    previous = [v["VersionId"] for v in versions if "AWSPREVIOUS" in v["VersionStages"]][0]
    first = json.loads(boto3_client("secretsmanager", url).get_secret_value(SecretId=NAME, VersionId=previous)
                       ["SecretString"])
    assert first["password"] != document["password"] and first["password"] not in output


def test_secret_info(clean_aws, ansible):
    made = (("seed/a/one", {"team": "data"}), ("seed/a/two", {"team": "web"}), ("seed/b/three", {"team": "data"}))
    for name, tags in made:
        assert ansible.module("secret", {"name": name, "generate": {}, "tags": tags})["changed"]
    clean_aws.reset_counts()
    by_prefix = ansible.module("secret_info", {"name_prefix": "seed/a/"})
    assert [s["name"] for s in by_prefix["secrets"]] == ["seed/a/one", "seed/a/two"]
    # Listed secrets carry their current version (ListSecrets' SecretVersionsToStages) like described ones.
    for found in by_prefix["secrets"]:
        versions = described(clean_aws.endpoint_url, found["name"])["VersionIdsToStages"]
        assert versions[found["version_id"]] == ["AWSCURRENT"]
    clean_aws.reset_counts()
    assert clean_aws.requests()["writes"] == 0
    by_tags = ansible.module("secret_info", {"tags": {"team": "data"}})
    assert [s["name"] for s in by_tags["secrets"]] == ["seed/a/one", "seed/b/three"]
    both = ansible.module("secret_info", {"name_prefix": "seed/a/", "tags": {"team": "data"}})
    assert [s["name"] for s in both["secrets"]] == ["seed/a/one"]
    one = ansible.module("secret_info", {"name": "seed/b/three"})
    assert len(one["secrets"]) == 1 and one["secrets"][0]["tags"] == dict(IDENTITY, team="data")
    assert one["secrets"][0]["field_names"] is None and "value" not in one["secrets"][0]
    assert ansible.module("secret_info", {"name": "seed/none"})["secrets"] == []
    # No value is ever read by the info module.
    assert not any(k.endswith("GetSecretValue") for k in clean_aws.requests()["by_action"])
