#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: load_balancer_info
short_description: Read Application Load Balancers made by load_balancer
version_added: 1.0.0
description:
  - Reads Application Load Balancers by name and returns their ARNs, addresses, listeners, rules and target groups
    (the shape of the RV(seed.aws_migration.load_balancer#module:load_balancer) return value of
    M(seed.aws_migration.load_balancer)), and their managed view (the shape of its C(--diff)), which a drift check
    can compare with the desired one.
  - Target groups are those whose identity tags name the load balancer.
author:
  - Seed platform team (@seed-platform)
options:
  names:
    description:
      - Names of the load balancers. Names that do not exist are left out of the result.
      - When not given, every load balancer that M(seed.aws_migration.load_balancer) made (by its identity tags).
    type: list
    elements: str
    aliases: [name]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes.info_module
"""

EXAMPLES = r"""
- name: Read the shop load balancer
  seed.aws_migration.load_balancer_info:
    names: [shop]
  register: found

- name: Point a DNS alias at it
  ansible.builtin.debug:
    msg: "{{ found.load_balancers[0].dns_name }} in {{ found.load_balancers[0].canonical_hosted_zone_id }}"
"""

RETURN = r"""
load_balancers:
  description:
    - The load balancers found, in name order, each with the keys of the
      RV(seed.aws_migration.load_balancer#module:load_balancer) return value of M(seed.aws_migration.load_balancer),
      plus C(managed), the managed view.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "shop", "arn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/50dc",
            "dns_name": "shop-1234567890.eu-west-1.elb.amazonaws.com", "listeners": {"http": "arn:..."},
            "target_groups": {"shop-web": "arn:..."}, "rules": [], "managed": {"listeners": {}}}]
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import elbv2
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


def find_load_balancers(module):
    client = module.seed_client("elbv2")
    names = module.params["names"]
    if names:
        balancers = [lb for lb in (elbv2.describe_load_balancer(client, name) for name in sorted(set(names))) if lb]
    else:
        balancers = elbv2.owned_load_balancers(client)
    found = []
    for lb in balancers:
        if lb.get("Type") != "application":
            continue
        obs = elbv2.discover(client, lb["LoadBalancerName"], lb=lb)
        found.append(dict(elbv2.load_balancer_facts(obs), managed=elbv2.observed_view(obs)))
    return sorted(found, key=lambda item: item["name"])


def main():
    argument_spec = dict(names=dict(type="list", elements="str", aliases=["name"]))
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        balancers = find_load_balancers(module)
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, load_balancers=balancers)


if __name__ == "__main__":
    main()
