#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_cluster
short_description: An ECS cluster for Fargate - capacity providers, Container Insights, ECS Exec logging, tags
version_added: 1.0.0
description:
  - Manages an ECS cluster with the C(FARGATE) and C(FARGATE_SPOT) capacity providers and a default strategy,
    Container Insights, and the logging of ECS Exec sessions. Every field is compared and updated in place.
  - O(state=absent) deletes the cluster; that fails, naming them, while services still run in it. A cluster
    already being deleted (C(DEPROVISIONING)) is left to go.
  - A C(FAILED) cluster (ECS could not attach its capacity providers) is reported, not updated.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description: Cluster name (1-255 letters, digits, C(-) and C(_)).
    type: str
    required: true
  state:
    description: Whether the cluster should exist.
    type: str
    choices: [present, absent]
    default: present
  capacity_providers:
    description: Capacity providers of the cluster.
    type: list
    elements: str
    default: [FARGATE, FARGATE_SPOT]
  default_capacity_provider_strategy:
    description: Strategy of services that do not give their own.
    type: list
    elements: dict
    default: [{capacity_provider: FARGATE, weight: 1, base: 0}]
    suboptions:
      capacity_provider:
        description: One of O(capacity_providers).
        type: str
        required: true
      weight:
        description: Relative weight.
        type: int
        default: 1
      base:
        description: Tasks placed on this provider first.
        type: int
        default: 0
  container_insights:
    description: Container Insights.
    type: str
    choices: [enabled, disabled, enhanced]
    default: enabled
  execute_command_logging:
    description: Where ECS Exec sessions are logged. Not set - ECS's default.
    type: dict
    suboptions:
      log_group:
        description: CloudWatch Logs group of the sessions.
        type: str
        required: true
      kms_key_id:
        description: KMS key that encrypts the sessions.
        type: str
  wait_timeout:
    description:
      - How long to wait, in seconds, for a cluster that is C(PROVISIONING) (its capacity providers being
        attached) or C(DEPROVISIONING) (being deleted, for example by a teardown a moment ago) to settle.
      - A run waits for a cluster being deleted to go, then creates it again. Check mode does not wait; it plans
        on a cluster being deleted as if it were gone.
    type: int
    default: 600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
"""

EXAMPLES = r"""
- name: The production cluster, mostly on Fargate Spot
  seed.aws_migration.ecs_cluster:
    name: production
    default_capacity_provider_strategy:
      - {capacity_provider: FARGATE, weight: 1, base: 2}
      - {capacity_provider: FARGATE_SPOT, weight: 3}
    execute_command_logging:
      log_group: /seed/production/ecs-exec
    tags:
      team: platform
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["create cluster production"]
cluster:
  description: The cluster after the run (before it, in check mode); empty when absent.
  returned: always
  type: dict
  sample: {"name": "production", "arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/production",
           "status": "ACTIVE", "capacity_providers": ["FARGATE", "FARGATE_SPOT"], "container_insights": "enabled"}
"""

import copy
import re

from ansible_collections.seed.aws_migration.plugins.module_utils import ecs
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import build_diff
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def validate(params):
    if not NAME_RE.match(params["name"]):
        raise ValidationError("name", f"{params['name']!r} must be 1-255 letters, digits, '-' or '_'")
    if params.get("wait_timeout", 0) < 0:
        raise ValidationError("wait_timeout", f"must be 0 or more seconds, not {params['wait_timeout']}")
    if params["state"] == "absent":
        return
    providers = params["capacity_providers"]
    for index, item in enumerate(params["default_capacity_provider_strategy"]):
        if item["capacity_provider"] not in providers:
            raise ValidationError(f"default_capacity_provider_strategy[{index}].capacity_provider",
                                  f"{item['capacity_provider']!r} is not one of capacity_providers ({providers})")


def view(cluster):
    """The managed fields of a described cluster or of the desired one (the create parameters)."""
    if not cluster:
        return None
    settings = {s["name"]: s["value"] for s in cluster.get("settings", [])}
    logging = ((cluster.get("configuration") or {}).get("executeCommandConfiguration") or {})
    log = logging.get("logConfiguration") or {}
    return {
        "capacity_providers": sorted(cluster.get("capacityProviders") or []),
        "default_capacity_provider_strategy": ecs.strategy_view(cluster.get("defaultCapacityProviderStrategy")),
        "container_insights": settings.get("containerInsights", "disabled"),
        "execute_command_logging": {"log_group": log.get("cloudWatchLogGroupName"),
                                    "kms_key_id": logging.get("kmsKeyId")} if logging.get("logging") == "OVERRIDE"
        else None,
    }


class ClusterManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        validate(self.params)  # before any client exists
        self.ecs = module.seed_client("ecs")
        self.actions = []
        self.name = self.params["name"]

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.module.check_mode else call(*args, **kwargs)

    def _tags(self):
        return dict(self.params.get("tags") or {}, **{TAG_MANAGED_BY: "seed.aws_migration",
                                                      TAG_COMPONENT: "ecs-cluster"})

    def desired(self):
        p = self.params
        cluster = {
            "clusterName": self.name,
            "capacityProviders": list(p["capacity_providers"]),
            "defaultCapacityProviderStrategy": ecs.strategy_to_api(p["default_capacity_provider_strategy"]),
            "settings": [{"name": "containerInsights", "value": p["container_insights"]}],
        }
        logging = p.get("execute_command_logging")
        if logging:
            config = {"logging": "OVERRIDE", "logConfiguration": {"cloudWatchLogGroupName": logging["log_group"]}}
            if logging.get("kms_key_id"):
                config["kmsKeyId"] = logging["kms_key_id"]
            cluster["configuration"] = {"executeCommandConfiguration": config}
        return cluster

    def _settled(self, cluster):
        """The cluster once it is no longer PROVISIONING or DEPROVISIONING (None: gone). Check mode does not
        wait: a cluster being deleted counts as gone (a real run waits for it to go), one being provisioned
        as it is."""
        if not cluster or cluster.get("status") not in ecs.SETTLING_CLUSTER_STATES:
            return cluster
        if self.module.check_mode:
            return None if cluster["status"] == "DEPROVISIONING" else cluster
        return ecs.wait_cluster_settled(self.ecs, self.name, self.params["wait_timeout"])

    def present(self):
        found = ecs.describe_clusters(self.ecs, [self.name])
        current = self._settled(found[0] if found else None)
        if current and current.get("status") == "FAILED":
            attachments = current.get("attachmentsStatus") or "no attachments status"
            raise SeedAWSError(message=f"name: cluster {self.name} is FAILED ({attachments}): ECS could not set "
                                       "it up. Delete it (state=absent), then run again")
        wanted = self.desired()
        before, after = view(current), view(wanted)
        if not current:
            params = dict(wanted, tags=[{"key": k, "value": v} for k, v in self._tags().items()])
            return before, after, self._do(f"create cluster {self.name}", ecs.create_cluster, self.ecs, **params)
        cluster = current
        if (before["capacity_providers"], before["default_capacity_provider_strategy"]) != \
                (after["capacity_providers"], after["default_capacity_provider_strategy"]):
            cluster = self._do(f"set capacity providers of cluster {self.name}", ecs.put_cluster_capacity_providers,
                               self.ecs, self.name, wanted["capacityProviders"],
                               wanted["defaultCapacityProviderStrategy"]) or cluster
        changes = {}
        if before["container_insights"] != after["container_insights"]:
            changes["settings"] = wanted["settings"]
        if before["execute_command_logging"] != after["execute_command_logging"]:
            changes["configuration"] = wanted.get("configuration") or {
                "executeCommandConfiguration": {"logging": "DEFAULT"}}
        if changes:
            cluster = self._do(f"update cluster {self.name}: {', '.join(sorted(changes))}", ecs.update_cluster,
                               self.ecs, self.name, **changes) or cluster
        current_tags = {t["key"]: t["value"] for t in current.get("tags") or []}
        to_set, to_unset = tag_delta(current_tags, self._tags(), self.params["purge_tags"])
        if to_set:
            self._do(f"set tags {', '.join(sorted(to_set))} on cluster {self.name}", ecs.tag_resource, self.ecs,
                     current["clusterArn"], to_set)
        if to_unset:
            self._do(f"remove tags {', '.join(sorted(to_unset))} from cluster {self.name}", ecs.untag_resource,
                     self.ecs, current["clusterArn"], to_unset)
        return before, after, cluster

    def absent(self):
        found = ecs.describe_clusters(self.ecs, [self.name])
        if found and found[0].get("status") == "DEPROVISIONING":
            return None, None, None  # already being deleted (by an earlier run): nothing to do
        cluster = self._settled(found[0] if found else None)
        if not cluster:
            return None, None, None
        if cluster.get("activeServicesCount"):
            raise SeedAWSError(message=f"name: cluster {self.name} still runs {cluster['activeServicesCount']} "
                                       "service(s); delete them first (ecs_service state=absent)")
        # DeleteCluster also refuses a cluster with tasks (standalone ones: scheduled or one-off jobs) or
        # container instances: say so before the write, in check mode too.
        tasks = (cluster.get("runningTasksCount") or 0) + (cluster.get("pendingTasksCount") or 0)
        instances = cluster.get("registeredContainerInstancesCount") or 0
        if tasks or instances:
            held = ", ".join(part for part in (f"{tasks} running or pending task(s)" if tasks else "",
                                               f"{instances} container instance(s)" if instances else "") if part)
            raise SeedAWSError(message=f"name: cluster {self.name} still has {held}; stop or deregister them "
                                       "first (ECS refuses to delete it; the tasks of a service deleted earlier "
                                       "stop on their own)")
        self._do(f"delete cluster {self.name}", ecs.delete_cluster, self.ecs, self.name)
        return view(cluster), None, None


def cluster_facts(cluster):
    if not cluster:
        return {}
    settings = {s["name"]: s["value"] for s in cluster.get("settings", [])}
    return {"name": cluster.get("clusterName"), "arn": cluster.get("clusterArn"), "status": cluster.get("status"),
            "capacity_providers": cluster.get("capacityProviders", []),
            "container_insights": settings.get("containerInsights"),
            "active_services_count": cluster.get("activeServicesCount", 0)}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        capacity_providers=dict(type="list", elements="str", default=["FARGATE", "FARGATE_SPOT"]),
        default_capacity_provider_strategy=copy.deepcopy(ecs.STRATEGY_SPEC),
        container_insights=dict(type="str", default="enabled", choices=["enabled", "disabled", "enhanced"]),
        execute_command_logging=dict(type="dict", options=dict(log_group=dict(type="str", required=True),
                                                               kms_key_id=dict(type="str"))),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        manager = ClusterManager(module)
        run = manager.present if module.params["state"] == "present" else manager.absent
        before, after, cluster = run()
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    result = {"changed": bool(manager.actions), "actions": manager.actions, "cluster": cluster_facts(cluster)}
    if module._diff:
        result["diff"] = build_diff(before, after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
