#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecr_repository_info
short_description: Read ECR repositories
version_added: 1.0.0
description:
  - Reads ECR repositories of the registry with their scanning, tag mutability, encryption, lifecycle policy,
    repository policy and tags, in the shape of the RV(seed.aws_migration.ecr_repository#module:repository) return
    value of M(seed.aws_migration.ecr_repository).
author:
  - Seed platform team (@seed-platform)
options:
  names:
    description:
      - Names of the repositories to read. Names that do not exist are left out of the result.
      - All repositories of the registry when not given.
    type: list
    elements: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes.info_module
"""

EXAMPLES = r"""
- name: Read two repositories
  seed.aws_migration.ecr_repository_info:
    names: [shop/web-api, shop/worker]
  register: found

- name: Their URIs
  ansible.builtin.debug:
    msg: "{{ found.repositories | map(attribute='uri') | list }}"
"""

RETURN = r"""
repositories:
  description:
    - The repositories found, sorted by name, each with the keys of the
      RV(seed.aws_migration.ecr_repository#module:repository) return value of M(seed.aws_migration.ecr_repository).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "shop/web-api", "arn": "arn:aws:ecr:eu-west-1:123456789012:repository/shop/web-api",
            "uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web-api", "registry_id": "123456789012",
            "scan_on_push": true, "image_tag_mutability": "IMMUTABLE", "image_tag_mutability_exclusions": [],
            "encryption": {"type": "AES256", "kms_key": null}, "lifecycle_policy": null, "policy": null,
            "tags": {"team": "shop"}}]
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import ecr
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


def find_repositories(module):
    names = module.params["names"]
    if names is not None:
        for index, name in enumerate(names):
            ecr.check_name(f"names[{index}]", name)  # ValidationError before any client
    client = module.seed_client("ecr")
    if names is None:
        described = ecr.describe_repositories(client)
    else:
        # One read per name: a name that does not exist is simply not found (one call for all of them would
        # fail as a whole).
        described = [ecr.describe_repository(client, name) for name in sorted(set(names))]
    repositories = [ecr.read_repository(client, repository) for repository in described if repository]
    return sorted(repositories, key=lambda r: r["name"])


def main():
    argument_spec = dict(names=dict(type="list", elements="str"))
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        repositories = find_repositories(module)
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, repositories=repositories)


if __name__ == "__main__":
    main()
