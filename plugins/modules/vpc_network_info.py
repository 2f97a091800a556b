#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: vpc_network_info
short_description: Read networks made by vpc_network
version_added: 1.0.0
description:
  - Finds networks made by M(seed.aws_migration.vpc_network) by their identity tags and returns their IDs, structured
    by tier and availability zone, and their managed view (the same shape as the C(--diff) of
    M(seed.aws_migration.vpc_network)), which a drift check can compare with the desired one.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description: Name of the network. All networks of the environment when not given.
    type: str
  environment:
    description: Environment of the networks. All environments when not given.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes.info_module
"""

EXAMPLES = r"""
- name: Read the production network
  seed.aws_migration.vpc_network_info:
    name: main
    environment: production
  register: found

- name: Use its private subnets
  ansible.builtin.debug:
    msg: "{{ found.networks[0].subnet_ids.private }}"
"""

RETURN = r"""
networks:
  description:
    - The networks found, each with the keys of the RV(seed.aws_migration.vpc_network#module:network) return value
      of M(seed.aws_migration.vpc_network), plus C(managed), the managed view.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "main", "environment": "production", "vpc_id": "vpc-0123456789abcdef0",
            "subnet_ids": {"public": ["subnet-0a"], "private": ["subnet-1a"], "database": []},
            "managed": {"nat_gateways": ["eu-west-1a"]}}]
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import network_state as ns
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_ENVIRONMENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_NAME
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tags_of


def find_networks(module):
    client = module.seed_client("ec2")
    clients = {}

    def logs_client():
        if "logs" not in clients:
            clients["logs"] = module.seed_client("logs")
        return clients["logs"]

    networks = []
    for vpc in ns.discover_vpcs(client, module.params["environment"], module.params["name"]):
        tags = tags_of(vpc)
        obs = ns.discover(client, vpc, tags[TAG_ENVIRONMENT], tags[TAG_NAME], module.region, logs_client=logs_client)
        if obs.duplicates:
            module.warn(f"Network {obs.environment}/{obs.name} has resources tagged as the same part (only the first "
                        f"of each is shown): {'; '.join(sorted(obs.duplicates))}")
        networks.append(dict(ns.network_facts(obs), managed=ns.observed_view(obs)))
    return sorted(networks, key=lambda n: (n["environment"], n["name"], n["vpc_id"]))


def main():
    argument_spec = dict(name=dict(type="str"), environment=dict(type="str"))
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        networks = find_networks(module)
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, networks=networks)


if __name__ == "__main__":
    main()
