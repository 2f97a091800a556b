# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task roles scoped to the S3 prefixes, EFS access points and KMS keys a service names; references that
cannot scope a policy fail before any API call."""

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import execution_policy
from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import missing_references
from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import task_policy
from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import validate_references

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AP = "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"


def statements(policy):
    return {s["Sid"]: s for s in policy["Statement"]}


def test_s3_prefixes_objects_and_listing_only_there():
    policy = statements(task_policy(s3_prefixes=["uploads/backend/", "s3://reports/2024"], kms_keys=[KEY]))
    assert policy["ObjectsUnderPrefixes"]["Resource"] == ["arn:aws:s3:::reports/2024*",
                                                          "arn:aws:s3:::uploads/backend/*"]
    assert policy["ObjectsUnderPrefixes"]["Action"] == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert policy["ListPrefixes0"] == {"Sid": "ListPrefixes0", "Effect": "Allow", "Action": ["s3:ListBucket"],
                                       "Resource": ["arn:aws:s3:::reports"],
                                       "Condition": {"StringLike": {"s3:prefix": ["2024*"]}}}
    assert policy["ListPrefixes1"]["Condition"] == {"StringLike": {"s3:prefix": ["backend/*"]}}
    assert policy["EncryptedObjects"]["Resource"] == [KEY]


def test_efs_mount_only_through_the_access_point():
    policy = statements(task_policy(efs_access_points=[
        {"file_system_id": "fs-0123456789abcdef0", "access_point_arn": AP, "read_only": True}]))
    assert policy["MountAccessPoint0"] == {
        "Sid": "MountAccessPoint0", "Effect": "Allow", "Action": ["elasticfilesystem:ClientMount"],
        "Resource": ["arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-0123456789abcdef0"],
        "Condition": {"ArnEquals": {"elasticfilesystem:AccessPointArn": AP}}}
    writable = task_policy(efs_access_points=[{"file_system_id": "fs-1", "access_point_arn": AP}])
    assert writable["Statement"][0]["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]


def test_kms_keys_decrypt_only_the_secrets():
    containers = [{"name": "app", "image": "nginx", "secrets": {"DB": SECRET + ":password::"}}]
    policy = statements(execution_policy(containers, "eu-west-1", "123456789012", kms_keys=[KEY]))
    assert policy["DecryptSecrets"] == {"Sid": "DecryptSecrets", "Effect": "Allow", "Action": ["kms:Decrypt"],
                                        "Resource": [KEY]}


def test_the_existing_interface_is_unchanged():
    assert task_policy() is None
    assert [s["Sid"] for s in task_policy([], True)["Statement"]] == ["EcsExec"]


@pytest.mark.parametrize("kwargs, field", [
    ({"kms_keys": ["alias/prod"]}, "kms_keys[0]"),
    ({"kms_keys": [KEY, "arn:aws:kms:eu-west-1:123456789012:key/*"]}, "kms_keys[1]"),
    ({"s3_prefixes": ["uploads/*"]}, "s3_prefixes[0]"),
    ({"s3_prefixes": ["UPPER/x"]}, "s3_prefixes[0]"),
    ({"efs_access_points": [{"file_system_id": "fs-1", "access_point_arn": "fsap-1"}]},
     "efs_access_points[0].access_point_arn"),
    ({"efs_access_points": [{"file_system_id": "vol-1", "access_point_arn": AP}]},
     "efs_access_points[0].file_system_id"),
    ({"containers": [{"name": "a", "image": "x", "secrets": {"DB": "prod/db"}}]}, "task.containers[0].secrets.DB"),
])
def test_bad_references_fail_clearly_before_any_call(kwargs, field):
    with pytest.raises(ValidationError) as error:
        validate_references(**kwargs)
    assert error.value.field == field and error.value.message.startswith(field + ": ")


def test_good_references_pass():
    validate_references([{"name": "a", "image": "x", "secrets": {"DB": SECRET + ":password::"}}], [KEY],
                        ["uploads/backend/"], [{"file_system_id": "fs-1", "access_point_arn": AP}])


def test_missing_references_lists_what_the_lookup_does_not_find():
    found = {("kms key", KEY)}
    assert missing_references([("kms key", KEY), ("secret", SECRET)], lambda kind, value: (kind, value) in found) == [
        f"secret {SECRET}"]


# -- the customer managed keys of the secrets a task reads ---------------------------------------------------
class _Clients:
    """DescribeSecret/DescribeKey answers from dicts; records every request (service, parameter)."""

    def __init__(self, secrets, aliases):
        self.secrets, self.aliases, self.asked, self.regions = secrets, aliases, [], []

    def __call__(self, service, region=None):
        self.regions.append((service, region))
        return self

    def describe_secret(self, SecretId):  # noqa: N803  (boto3's parameter names)
        self.asked.append(("secretsmanager", SecretId))
        if SecretId not in self.secrets:
            from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "DescribeSecret")
        return dict({"ARN": SecretId}, **({"KmsKeyId": self.secrets[SecretId]} if self.secrets[SecretId] else {}))

    def describe_key(self, KeyId):  # noqa: N803
        self.asked.append(("kms", KeyId))
        if KeyId not in self.aliases:
            from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

            raise ClientError({"Error": {"Code": "NotFoundException", "Message": "no"}}, "DescribeKey")
        return {"KeyMetadata": {"Arn": self.aliases[KeyId]}}


OTHER = SECRET.replace("prod/db-", "prod/api-")
MISSING = SECRET.replace("prod/db-", "prod/gone-")
SHARED = "arn:aws:secretsmanager:eu-central-1:210987654321:secret:shared/db-XyZ123"  # another account's
ALIAS = "arn:aws:kms:eu-west-1:123456789012:alias/seed-secrets"


def test_secret_keys_are_read_and_aliases_resolved_to_key_arns():
    from ansible_collections.seed.aws_migration.plugins.module_utils.references import secret_kms_keys

    clients = _Clients({SECRET: "alias/seed-secrets", OTHER: KEY}, {ALIAS: KEY})
    keys, found = secret_kms_keys(clients, [SECRET, OTHER, SECRET, MISSING])
    assert keys == [KEY] and found == [SECRET, OTHER]
    assert clients.asked == [("secretsmanager", SECRET), ("kms", ALIAS),  # the alias in the secret's account
                             ("secretsmanager", OTHER), ("secretsmanager", MISSING)]  # a key ARN needs no lookup


def test_a_key_id_or_alias_is_the_secret_accounts_not_the_callers():
    from ansible_collections.seed.aws_migration.plugins.module_utils.references import secret_kms_keys

    shared_key = "arn:aws:kms:eu-central-1:210987654321:key/1111aaaa-22bb-33cc-44dd-555555eeeeee"
    clients = _Clients({SHARED: "1111aaaa-22bb-33cc-44dd-555555eeeeee"}, {})
    assert secret_kms_keys(clients, [SHARED]) == ([shared_key], [SHARED])
    assert clients.asked == [("secretsmanager", SHARED)]  # a key ID names its ARN: no lookup
    clients = _Clients({SHARED: "alias/shared"}, {"arn:aws:kms:eu-central-1:210987654321:alias/shared": shared_key})
    assert secret_kms_keys(clients, [SHARED]) == ([shared_key], [SHARED])
    # read where the secret lives (another region than the caller's eu-west-1 secrets)
    assert clients.regions == [("secretsmanager", "eu-central-1"), ("kms", "eu-central-1")]


def test_secrets_on_the_aws_managed_key_need_no_key():
    from ansible_collections.seed.aws_migration.plugins.module_utils.references import secret_kms_keys

    managed_arn = "arn:aws:kms:eu-west-1:123456789012:alias/aws/secretsmanager"
    clients = _Clients({SECRET: None, OTHER: "alias/aws/secretsmanager", SHARED: managed_arn}, {})
    assert secret_kms_keys(clients, [SECRET, OTHER, SHARED]) == ([], [SECRET, OTHER, SHARED])
    assert [asked[0] for asked in clients.asked] == ["secretsmanager"] * 3


def test_a_secret_key_that_cannot_be_found_is_named():
    from ansible_collections.seed.aws_migration.plugins.module_utils.references import KeyLookupError
    from ansible_collections.seed.aws_migration.plugins.module_utils.references import secret_kms_keys

    with pytest.raises(KeyLookupError) as error:
        secret_kms_keys(_Clients({SECRET: "alias/deleted"}, {}), [SECRET])
    assert error.value.args[0] == (f"secret {SECRET} is encrypted with KMS key "
                                   "arn:aws:kms:eu-west-1:123456789012:alias/deleted, which does not exist")


class _Denied(_Clients):
    def describe_key(self, KeyId):  # noqa: N803
        from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

        self.asked.append(("kms", KeyId))
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeKey")


def test_an_alias_the_caller_may_not_resolve_needs_the_key_in_kms_keys():
    from ansible_collections.seed.aws_migration.plugins.module_utils.references import KeyLookupError
    from ansible_collections.seed.aws_migration.plugins.module_utils.references import secret_kms_keys

    with pytest.raises(KeyLookupError) as error:
        secret_kms_keys(_Denied({SHARED: "alias/shared"}, {}), [SHARED])
    assert "may not look up" in error.value.args[0] and "kms_keys" in error.value.args[0]
    given = "arn:aws:kms:eu-central-1:210987654321:key/1111aaaa-22bb-33cc-44dd-555555eeeeee"
    assert secret_kms_keys(_Denied({SHARED: "alias/shared"}, {}), [SHARED], [given]) == ([], [SHARED])


def test_secret_keys_are_granted_through_secrets_manager_of_each_secrets_region_only():
    containers = [{"name": "a", "image": "x", "secrets": {"DB": SECRET + ":password::", "SHARED": SHARED}}]
    policy = statements(execution_policy(containers, "eu-west-1", "123456789012", secret_keys=[KEY]))
    assert policy["DecryptSecretsViaSecretsManager"] == {
        "Sid": "DecryptSecretsViaSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY],
        "Condition": {"StringEquals": {"kms:ViaService": ["secretsmanager.eu-central-1.amazonaws.com",
                                                          "secretsmanager.eu-west-1.amazonaws.com"]}}}
    assert "DecryptSecrets" not in policy  # kms_keys (the operator's) not given
