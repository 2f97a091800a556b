#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service_info
short_description: Read ECS services - task definition, counts, rollout state, recent events - or wait for their rollouts
version_added: 1.0.0
description:
  - Returns the services of a cluster (or the named ones) in the shape of the RV(seed.aws_migration.ecs_service#module:service)
    return value of M(seed.aws_migration.ecs_service).
  - With O(wait=true) it first waits until the rollout of every named service has completed, polling them together
    (one C(ecs:DescribeServices) per ten services), so services deployed with
    O(seed.aws_migration.ecs_service#module:wait=false) roll out in parallel and the wait lasts as long as the slowest.
    A failed rollout ends the wait with that service's rollout reason, recent events and the reasons its stopped tasks
    give; a timeout names every service still rolling out, with the same report.
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
  wait:
    description:
      - Wait for the rollouts of the services (O(names), or every service of the cluster) to complete before reading
        them. A named service that does not exist fails the wait.
    type: bool
    default: false
  deployments:
    description:
      - With O(wait=true), the deployment each service's rollout is to finish, by service name (the
        RV(seed.aws_migration.ecs_service#module:deployment_id) of M(seed.aws_migration.ecs_service)); services named
        here are waited for even if O(names) leaves them out.
      - A deployment that another one replaces - the deployment circuit breaker rolled it back, or another deploy
        came in between - fails the wait, even when the deployment now primary completes. Without it the primary
        deployment is followed, and a failed deployment next to it (a rollback under way) fails the wait, unless the
        primary deployment runs a newer revision of the same task definition family (a fix deployed after the
        failure, whose deployment only drains).
    type: dict
  wait_timeout:
    description: Seconds to wait for the rollouts, all together.
    type: int
    default: 900
  images:
    description:
      - Also return, for each service, the image of each container of the task definition it runs (C(images)), read
        with one C(ecs:DescribeTaskDefinition) per task definition. These are the images the service runs, which may
        differ from what the registry holds for the current source (a rollout that failed or was never started).
    type: bool
    default: false
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

- name: Which images does each service run?
  seed.aws_migration.ecs_service_info:
    cluster: production
    names: [frontend, backend]
    images: true
  register: running

- name: Deploy two services without waiting for each...
  seed.aws_migration.ecs_service:
    cluster: production
    name: "{{ item }}"
    task: "{{ tasks[item] }}"
    subnets: "{{ private_subnets }}"
    wait: false
  loop: [frontend, backend]
  register: deployed

- name: ...then wait for their rollouts together
  seed.aws_migration.ecs_service_info:
    cluster: production
    deployments: "{{ dict(deployed.results | selectattr('rollout', 'eq', 'started')
                     | map(attribute='item') | zip(deployed.results | selectattr('rollout', 'eq', 'started')
                     | map(attribute='deployment_id'))) }}"
    wait: true
    wait_timeout: 1200
  when: deployed.results | selectattr('rollout', 'eq', 'started') | list | length > 0
"""

RETURN = r"""
services:
  description:
    - The services found (deleted ones are left out, but one deleted and still stopping its tasks is there with
      C(status=DRAINING)), by name, with the same keys as M(seed.aws_migration.ecs_service)'s C(service).
    - C(tags) are the service's tags, so a playbook can pick the services a stack deployed.
    - C(images) (with O(images=true)) maps each container of the task definition in use to its image.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "backend", "arn": "arn:aws:ecs:eu-west-1:123456789012:service/production/backend",
            "task_definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/production-backend:7",
            "desired_count": 2, "running_count": 2, "rollout_state": "COMPLETED", "deployment_alarms": [], "events": [],
            "tags": {"seed:managed-by": "seed.aws_migration", "seed:component": "ecs-service"},
            "images": {"backend": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/seed/backend@sha256:0a1b..."}}]
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import ecs
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


def main():
    argument_spec = dict(cluster=dict(type="str", required=True), names=dict(type="list", elements="str"),
                         wait=dict(type="bool", default=False), wait_timeout=dict(type="int", default=900),
                         deployments=dict(type="dict"), images=dict(type="bool", default=False))
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout: must be 0 or more seconds")
    client = module.seed_client("ecs")
    try:
        names, deployments = params["names"], params["deployments"] or {}
        if names is None and not deployments:
            names = [arn.split("/")[-1] for arn in ecs.list_services(client, params["cluster"])]
        names = sorted(set(names or []) | set(deployments))
        if params["wait"] and names:
            services = list(ecs.wait_for_rollouts(client, params["cluster"], names, params["wait_timeout"],
                                                  deployments={k: str(v) for k, v in deployments.items()}).values())
        else:
            services = ecs.describe_services(client, params["cluster"], names) if names else []
        images = {}
        if params["images"]:
            for arn in sorted({s["taskDefinition"] for s in services if s.get("taskDefinition")}):
                definition = ecs.describe_task_definition(client, arn) or {}
                images[arn] = {c["name"]: c.get("image") for c in definition.get("containerDefinitions", [])}
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    facts = sorted((ecs.service_facts(s) for s in services), key=lambda s: s["name"])
    if params["images"]:
        for fact in facts:
            fact["images"] = images.get(fact["task_definition"], {})
    module.exit_json(changed=False, services=facts)


if __name__ == "__main__":
    main()
