# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does a resource a derived IAM policy points at exist? One small read per kind of reference.

Used before a least-privilege policy is written (``ecs_service``): a policy naming a secret, key,
bucket or access point that is not there would grant nothing and hide a typo until the task fails to
start, so the module fails first, naming what is missing, before creating anything.
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import secretsmanager as sm
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import is_access_denied
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry

# "Not there" answers of the services below, besides the shared ones: a missing reference reads False.
H = error_handler("NotFoundException", "NoSuchBucket", "404", "AccessPointNotFound", "ParameterNotFound",
                  "InvalidParameterException")


@H.list_error_handler("look up a referenced resource", False)
@retry
def _exists(call, **kwargs):
    call(**kwargs)
    return True


def secret_exists(client, arn):
    return _exists(client.describe_secret, SecretId=arn)


@H.list_error_handler("look up a referenced SSM parameter", False)
@retry
def parameter_exists(client, arn):
    name = arn.split(":parameter", 1)[1]
    found = client.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])
    return bool(found.get("Parameters"))


def kms_key_exists(client, arn):
    return _exists(client.describe_key, KeyId=arn)


def bucket_exists(client, bucket):
    # GetBucketLocation, not HeadBucket: HeadBucket needs s3:ListBucket, which would let the deployer list
    # the keys of any bucket; s3:GetBucketLocation tells only the region.
    return _exists(client.get_bucket_location, Bucket=bucket)


@H.list_error_handler("look up a referenced EFS access point", False)
@retry
def access_point_exists(client, value):
    """``value``: ``"<access point ARN> (file system fs-...)"``; the access point must be one of that file system."""
    arn, _sep, file_system = value.partition(" (file system ")
    found = client.describe_access_points(AccessPointId=arn.rsplit("/", 1)[1]).get("AccessPoints") or []
    return any(point.get("FileSystemId") == file_system.rstrip(")") for point in found)


@H.list_error_handler("look up the KMS key of a secret", None)
@retry
def _key_arn(client, key):
    return client.describe_key(KeyId=key)["KeyMetadata"]["Arn"]


def secret_key_reference(secret, key):
    """The key of ``secret`` as an ARN in the secret's own account and region (``None``: the AWS managed key).

    DescribeSecret gives a key ID, a key ARN, an alias name or an alias ARN. A bare ID or alias name is
    relative to the SECRET's account and region, not the caller's: a secret shared from another account is
    encrypted with that account's key. A key ID becomes its key ARN (no lookup); an alias becomes an alias
    ARN, which ``secret_kms_keys`` resolves with DescribeKey.
    """
    if sm.kms_default(key) or key.endswith(":alias/aws/secretsmanager"):
        return None
    if key.startswith("arn:"):
        return key
    partition, region, account = secret.split(":")[1], secret.split(":")[3], secret.split(":")[4]
    return f"arn:{partition}:kms:{region}:{account}:{key if key.startswith('alias/') else 'key/' + key}"


class KeyLookupError(Exception):
    """The key of a secret cannot be named: ``args[0]`` says why and what to do."""


def secret_kms_keys(client_factory, secret_arns, given_keys=()):
    """``(key ARNs, secrets found)``: the customer managed keys that encrypt these Secrets Manager secrets.

    A secret that does not exist is left out of both (the reference check names it); one on the AWS
    managed key adds no key. An alias is resolved to its key ARN (IAM matches kms:Decrypt against the key
    ARN only). An alias the caller may not resolve (another account's key policy) is accepted when
    ``given_keys`` holds a key of that account and region; otherwise, like an alias that does not exist,
    it raises ``KeyLookupError``.
    """
    clients, keys, found = {}, set(), []

    def client(service, region):  # the secret's own region: a secret (and its key) is read where it lives
        if (service, region) not in clients:
            clients[(service, region)] = client_factory(service, region)
        return clients[(service, region)]

    for arn in dict.fromkeys(secret_arns):
        region = arn.split(":")[3]
        described = sm.describe_secret(client("secretsmanager", region), arn)
        if described is None:
            continue
        found.append(arn)
        key = secret_key_reference(arn, described.get("KmsKeyId"))
        if key is None:
            continue
        if ":alias/" in key:
            try:
                resolved = _key_arn(client("kms", region), key)
            except SeedAWSError as e:
                if not is_access_denied(e):
                    raise
                scope = key.split(":alias/")[0] + ":key/"
                if any(given.startswith(scope) for given in given_keys):
                    continue  # the operator named that account's key in kms_keys
                raise KeyLookupError(f"secret {arn} is encrypted with KMS key {key}, which this caller may not "
                                     "look up (another account's key policy?): list the key's ARN in kms_keys") from None
            if not resolved:
                raise KeyLookupError(f"secret {arn} is encrypted with KMS key {key}, which does not exist")
            key = resolved
        keys.add(key)
    return sorted(keys), found


class ReferenceChecker:
    """``exists(kind, value)`` for ``iam_roles.missing_references``, with one client per service and region,
    made on use (``client_factory(service, region)``; region None: the caller's)."""

    KINDS = {"secret": ("secretsmanager", secret_exists), "parameter": ("ssm", parameter_exists),
             "kms key": ("kms", kms_key_exists), "bucket": ("s3", bucket_exists),
             "access point": ("efs", access_point_exists)}

    def __init__(self, client_factory):
        self._client_factory = client_factory
        self._clients = {}

    def __call__(self, kind, value):
        service, check = self.KINDS[kind]
        # an ARN names its region (a secret, parameter or key of another region is looked up there)
        region = value.split(":")[3] if value.startswith("arn:") else None
        if (service, region) not in self._clients:
            self._clients[(service, region)] = self._client_factory(service, region)
        return check(self._clients[(service, region)], value)


def task_references(containers, kms_keys=(), s3_prefixes=(), efs_access_points=()):
    """``[(kind, value)]`` of everything a task's derived policies point at (deduplicated, in order)."""
    from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import S3_PREFIX_RE
    from ansible_collections.seed.aws_migration.plugins.module_utils.iam_roles import secret_arn

    refs = []
    for container in containers:
        for value in (container.get("secrets") or {}).values():
            arn = secret_arn(value)
            refs.append(("parameter" if ":ssm:" in arn else "secret", arn))
        if container.get("repository_credentials"):
            refs.append(("secret", container["repository_credentials"]))
    refs += [("kms key", key) for key in kms_keys]
    refs += [("bucket", S3_PREFIX_RE.match(location)["bucket"]) for location in s3_prefixes]
    refs += [("access point", f"{mount['access_point_arn']} (file system {mount['file_system_id']})")
             for mount in efs_access_points]
    return list(dict.fromkeys(refs))
