#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service_info
short_description: Read ECS services - task definition, counts, rollout state, recent events
version_added: 1.0.0
description:
  - Returns the services of a cluster (or the named ones) in the shape of the RV(seed.aws_migration.ecs_service#module:service)
    return value of M(seed.aws_migration.ecs_service).
author:
  - Seed platform team (@seed-platform)
options:
  cluster:
    description: Name or ARN of the cluster.
    type: str
    required: true
  names:
    description: Services to read; all services of the cluster when not given.
    type: list
    elements: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes.info_module
"""

EXAMPLES = r"""
- name: Read the services of the production cluster
  seed.aws_migration.ecs_service_info:
    cluster: production
  register: found
"""

RETURN = r"""
services:
  description: The services found (deleted ones are left out), by name.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "backend", "arn": "arn:aws:ecs:eu-west-1:123456789012:service/production/backend",
            "task_definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/production-backend:7",
            "desired_count": 2, "running_count": 2, "rollout_state": "COMPLETED", "events": []}]
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import ecs
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


def main():
    argument_spec = dict(cluster=dict(type="str", required=True), names=dict(type="list", elements="str"))
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.seed_client("ecs")
    try:
        names = module.params["names"]
        if names is None:
            names = [arn.split("/")[-1] for arn in ecs.list_services(client, module.params["cluster"])]
        services = [ecs.describe_service(client, module.params["cluster"], name) for name in names]
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    facts = sorted((ecs.service_facts(s) for s in services if s), key=lambda s: s["name"])
    module.exit_json(changed=False, services=facts)


if __name__ == "__main__":
    main()
