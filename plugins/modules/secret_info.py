#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: secret_info
short_description: Read the metadata of Secrets Manager secrets - never their values
version_added: 1.0.0
description:
  - Reads Secrets Manager secrets by name, or lists them by name prefix and tags, in the shape of the
    RV(seed.aws_migration.secret#module:secret) return value of M(seed.aws_migration.secret) - name, ARN,
    description, KMS key, tags, current version and dates.
  - Never reads a value (no GetSecretValue call), so C(field_names) is always null.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description:
      - Name of one secret to read. The result is empty when it does not exist.
      - Mutually exclusive with O(name_prefix) and O(tags).
    type: str
  name_prefix:
    description: List the secrets whose name starts with this (case-sensitive).
    type: str
  tags:
    description: List the secrets that carry all of these tags (key and value).
    type: dict
  include_planned_deletion:
    description: Also return secrets that are scheduled for deletion (they have a C(deleted_date)).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes.info_module
"""

EXAMPLES = r"""
- name: One secret
  seed.aws_migration.secret_info:
    name: seed/prod/metabase-db
  register: found

- name: The secrets of an environment, with their ARNs
  seed.aws_migration.secret_info:
    name_prefix: seed/prod/
    tags:
      team: data
  register: found

- name: Their ARNs
  ansible.builtin.debug:
    msg: "{{ found.secrets | items2dict(key_name='name', value_name='arn') }}"
"""

RETURN = r"""
secrets:
  description:
    - The secrets found, sorted by name, each with the keys of the RV(seed.aws_migration.secret#module:secret)
      return value of M(seed.aws_migration.secret) (never a value; C(field_names) is null).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "seed/prod/metabase-db",
            "arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/prod/metabase-db-AbCdEf",
            "description": "Metabase application database", "kms_key_id": null, "tags": {"team": "data"},
            "version_id": "0b5e7f8e-3c9d-5d1e-8f7a-2b4c6d8e0f1a", "field_names": null,
            "created": "2026-01-31T12:00:00+00:00", "last_changed": "2026-01-31T12:00:00+00:00",
            "deleted_date": null, "rotation_enabled": false}]
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import secretsmanager as sm
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


def _facts(described):
    facts = sm.secret_facts(described)
    facts["field_names"] = None
    return facts


def find_secrets(module):
    params = module.params
    name, prefix, include_deleted = params["name"], params["name_prefix"], params["include_planned_deletion"]
    tags = params["tags"]
    if name is not None:
        sm.check_name("name", name)  # ValidationError before any client
    if tags is not None:
        if any(v is None or isinstance(v, (dict, list)) for v in tags.values()):
            raise ValidationError("tags", "values must be strings")
        tags = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in tags.items()}
    client = module.seed_client("secretsmanager")
    if name is not None:
        described = sm.describe_secret(client, name)
        if not described or (described.get("DeletedDate") and not include_deleted):
            return []
        return [_facts(described)]
    listed = sm.list_secrets(client, sm.list_filters(prefix, tags), include_planned_deletion=include_deleted)
    found = [_facts(secret) for secret in listed]
    return sorted((f for f in found if sm.matches(f, prefix, tags)), key=lambda f: f["name"])


def main():
    argument_spec = dict(
        name=dict(type="str"),
        name_prefix=dict(type="str"),
        tags=dict(type="dict"),
        include_planned_deletion=dict(type="bool", default=False),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("name", "name_prefix"), ("name", "tags")])
    try:
        secrets = find_secrets(module)
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, secrets=secrets)


if __name__ == "__main__":
    main()
