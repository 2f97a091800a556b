# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small function per ECS and Application Auto Scaling call our modules make.

Creates here are safe to repeat: ECS service and cluster names are unique, so a retried create
after a lost response answers "already exists" and the caller re-reads; registering a task
definition twice only adds a revision, which the next run recognises as identical.
"""

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedErrorHandler as H
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry

SCALABLE_DIMENSION = "ecs:service:DesiredCount"


# --- clusters ------------------------------------------------------------------------------------
@H.list_error_handler("describe ECS clusters", [])
@retry
def describe_clusters(client, names):
    result = client.describe_clusters(clusters=list(names), include=["SETTINGS", "CONFIGURATIONS", "TAGS"])
    return [c for c in result["clusters"] if c.get("status") != "INACTIVE"]


@H.common_error_handler("create ECS cluster")
@retry
def create_cluster(client, **params):
    return client.create_cluster(**params)["cluster"]


@H.common_error_handler("update ECS cluster")
@retry
def update_cluster(client, name, **params):
    return client.update_cluster(cluster=name, **params)["cluster"]


@H.common_error_handler("put ECS cluster capacity providers")
@retry
def put_cluster_capacity_providers(client, name, providers, strategy):
    return client.put_cluster_capacity_providers(cluster=name, capacityProviders=providers,
                                                 defaultCapacityProviderStrategy=strategy)["cluster"]


@H.deletion_error_handler("delete ECS cluster")
@retry
def delete_cluster(client, name):
    client.delete_cluster(cluster=name)
    return True


# --- task definitions ----------------------------------------------------------------------------
@H.list_error_handler("describe task definition", None)
@retry
def describe_task_definition(client, name):
    """A task definition (``family``, ``family:revision`` or ARN) with its tags, or None."""
    try:
        result = client.describe_task_definition(taskDefinition=name, include=["TAGS"])
    except client.exceptions.ClientException as e:
        if "Unable to describe task definition" in str(e) or "not found" in str(e).lower():
            return None
        raise
    return dict(result["taskDefinition"], tags=result.get("tags", []))


@H.common_error_handler("register task definition")
@retry
def register_task_definition(client, params, tags):
    kwargs = dict(params, tags=tags) if tags else params
    return client.register_task_definition(**kwargs)["taskDefinition"]


@H.list_error_handler("list task definitions", [])
@retry
def list_task_definitions(client, family, status="ACTIVE"):
    return paginate_all(client, "list_task_definitions", "taskDefinitionArns", familyPrefix=family, status=status)


@H.deletion_error_handler("deregister task definition")
@retry
def deregister_task_definition(client, arn):
    client.deregister_task_definition(taskDefinition=arn)
    return True


# --- services ------------------------------------------------------------------------------------
@H.list_error_handler("describe ECS service", None)
@retry
def describe_service(client, cluster, name):
    """The service if it exists and is not INACTIVE (deleted), else None."""
    try:
        result = client.describe_services(cluster=cluster, services=[name], include=["TAGS"])
    except client.exceptions.ClusterNotFoundException:
        return None
    services = [s for s in result["services"] if s.get("status") != "INACTIVE"]
    return services[0] if services else None


@H.common_error_handler("create ECS service")
@retry
def create_service(client, params):
    return client.create_service(**params)["service"]


@H.common_error_handler("update ECS service")
@retry
def update_service(client, cluster, name, changes):
    return client.update_service(cluster=cluster, service=name, **changes)["service"]


@H.deletion_error_handler("delete ECS service")
@retry
def delete_service(client, cluster, name):
    client.delete_service(cluster=cluster, service=name, force=True)
    return True


@H.common_error_handler("tag ECS resource")
@retry
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=[{"key": k, "value": v} for k, v in tags.items()])


@H.common_error_handler("untag ECS resource")
@retry
def untag_resource(client, arn, keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(keys))


@H.list_error_handler("list stopped tasks", [])
@retry
def stopped_tasks(client, cluster, service, limit=10):
    arns = client.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED",
                             maxResults=limit).get("taskArns", [])
    return client.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


# --- Application Auto Scaling --------------------------------------------------------------------
@H.list_error_handler("describe scalable target", None)
@retry
def describe_scalable_target(client, resource_id):
    targets = client.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id],
                                               ScalableDimension=SCALABLE_DIMENSION)["ScalableTargets"]
    return targets[0] if targets else None


@H.common_error_handler("register scalable target")
@retry
def register_scalable_target(client, resource_id, minimum, maximum):
    client.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id,
                                    ScalableDimension=SCALABLE_DIMENSION, MinCapacity=minimum, MaxCapacity=maximum)


@H.deletion_error_handler("deregister scalable target")
@retry
def deregister_scalable_target(client, resource_id):
    client.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id,
                                      ScalableDimension=SCALABLE_DIMENSION)
    return True


@H.list_error_handler("describe scaling policies", [])
@retry
def describe_scaling_policies(client, resource_id):
    return client.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id,
                                            ScalableDimension=SCALABLE_DIMENSION)["ScalingPolicies"]


@H.common_error_handler("put scaling policy")
@retry
def put_scaling_policy(client, resource_id, name, configuration):
    client.put_scaling_policy(PolicyName=name, ServiceNamespace="ecs", ResourceId=resource_id,
                              ScalableDimension=SCALABLE_DIMENSION, PolicyType="TargetTrackingScaling",
                              TargetTrackingScalingPolicyConfiguration=configuration)


@H.deletion_error_handler("delete scaling policy")
@retry
def delete_scaling_policy(client, resource_id, name):
    client.delete_scaling_policy(PolicyName=name, ServiceNamespace="ecs", ResourceId=resource_id,
                                 ScalableDimension=SCALABLE_DIMENSION)
    return True


@H.list_error_handler("list ECS services", [])
@retry
def list_services(client, cluster):
    return paginate_all(client, "list_services", "serviceArns", cluster=cluster)


def service_facts(service):
    if not service:
        return {}
    primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})
    return {
        "arn": service.get("serviceArn"),
        "name": service.get("serviceName"),
        "cluster_arn": service.get("clusterArn"),
        "task_definition": service.get("taskDefinition"),
        "desired_count": service.get("desiredCount"),
        "running_count": service.get("runningCount"),
        "rollout_state": primary.get("rolloutState"),
        "events": [e.get("message") for e in (service.get("events") or [])[:10]],
    }


# --- capacity provider strategies (ecs_cluster's default, ecs_service's own) -----------------------
STRATEGY_SPEC = dict(
    type="list", elements="dict", default=[{"capacity_provider": "FARGATE", "weight": 1, "base": 0}],
    options=dict(capacity_provider=dict(type="str", required=True), weight=dict(type="int", default=1),
                 base=dict(type="int", default=0)))


def strategy_to_api(items):
    """A strategy option in the API's shape."""
    return [{"capacityProvider": i["capacity_provider"], "weight": i["weight"], "base": i["base"]} for i in items]


def strategy_view(items):
    """A strategy in the API's shape, as the managed views compare it (ECS omits weight/base when 0)."""
    return sorted(f"{s['capacityProvider']} weight={s.get('weight', 0)} base={s.get('base', 0)}"
                  for s in items or [])
