# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small function per ECS and Application Auto Scaling call our modules make (and the CloudWatch
lookup of a service's deployment alarms).

Creates here are safe to repeat: ECS service and cluster names are unique, so a retried create
after a lost response answers "already exists" and the caller re-reads; registering a task
definition twice only adds a revision, which the next run recognises as identical.
"""

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedErrorHandler as H
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import WaitTimeoutError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import fail_wait
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_for

SCALABLE_DIMENSION = "ecs:service:DesiredCount"


# --- clusters ------------------------------------------------------------------------------------
@H.list_error_handler("describe ECS clusters", [])
@retry
def describe_clusters(client, names):
    result = client.describe_clusters(clusters=list(names), include=["SETTINGS", "CONFIGURATIONS", "TAGS"])
    return [c for c in result["clusters"] if c.get("status") != "INACTIVE"]


# A cluster in these states is on its way: its capacity providers are being attached, or it is being deleted.
SETTLING_CLUSTER_STATES = ("PROVISIONING", "DEPROVISIONING")


def wait_cluster_settled(client, name, timeout):
    """Wait while cluster ``name`` is PROVISIONING or DEPROVISIONING; return it as it then is (None once gone)."""
    seen = {}

    def poll():
        clusters = describe_clusters(client, [name])
        seen["cluster"] = clusters[0] if clusters else None
        status = seen["cluster"]["status"] if seen["cluster"] else "INACTIVE"
        return status not in SETTLING_CLUSTER_STATES, status

    wait_for(poll, f"ECS cluster {name} to finish provisioning or deprovisioning", timeout)
    return seen["cluster"]


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
@H.list_error_handler("describe ECS services", [])
@retry
def describe_services(client, cluster, names):
    """The named services that exist and are not INACTIVE (deleted), ten names per request."""
    found = []
    for start in range(0, len(names), 10):
        try:
            result = client.describe_services(cluster=cluster, services=list(names[start:start + 10]),
                                              include=["TAGS"])
        except client.exceptions.ClusterNotFoundException:
            return []
        found.extend(s for s in result["services"] if s.get("status") != "INACTIVE")
    return found


def describe_service(client, cluster, name):
    """The service if it exists and is not INACTIVE (deleted), else None."""
    return next(iter(describe_services(client, cluster, [name])), None)


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


# --- CloudWatch alarms (deployment alarms) ------------------------------------------------------------
@H.common_error_handler("describe CloudWatch alarms")
@retry
def existing_alarm_names(client, names):
    """The names among ``names`` that are CloudWatch alarms (metric or composite) in the client's region."""
    found = []
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        result = client.describe_alarms(AlarmNames=list(names[start:start + 100]),
                                        AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        found += [a["AlarmName"] for a in result.get("MetricAlarms", []) + result.get("CompositeAlarms", [])]
    return found


@H.list_error_handler("list ECS services", [])
@retry
def list_services(client, cluster):
    """ARNs of the cluster's services; none when the cluster does not exist (ClusterNotFoundException)."""
    return paginate_all(client, "list_services", "serviceArns", cluster=cluster)


def service_facts(service):
    if not service:
        return {}
    primary = primary_deployment(service)
    alarms = (service.get("deploymentConfiguration") or {}).get("alarms") or {}
    return {
        "arn": service.get("serviceArn"),
        "name": service.get("serviceName"),
        "cluster_arn": service.get("clusterArn"),
        "status": service.get("status"),
        "task_definition": service.get("taskDefinition"),
        "desired_count": service.get("desiredCount"),
        "running_count": service.get("runningCount"),
        "rollout_state": primary.get("rolloutState"),
        "deployment_alarms": list(alarms.get("alarmNames") or []) if alarms.get("enable") else [],
        "events": [e.get("message") for e in (service.get("events") or [])[:10]],
        "tags": {t["key"]: t["value"] for t in service.get("tags") or []},
    }


# --- rollouts --------------------------------------------------------------------------------------
def primary_deployment(service):
    return next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})


def started_deployment(service):
    """ID of the deployment a CreateService/UpdateService answer shows as primary (None if none)."""
    return primary_deployment(service or {}).get("id")


def rollout_progress(service, deployment_id=None):
    """``(done, failure, state)`` of a service's rollout; ``failure`` says why it failed (else None).

    With ``deployment_id`` (the deployment this run started) that deployment is followed: once another
    one is primary - the deployment circuit breaker rolled it back, or another deploy replaced it - the
    rollout has failed, even if the deployment now primary completes. Without it the primary deployment
    is followed, and a FAILED deployment next to it (what a rollback leaves while it runs: ECS rolls back
    to an older task definition revision) is a failure - unless the primary runs a newer revision of the
    same family than the failed one: a later deploy (a fix) replaced it, and it only drains.
    """
    deployments = service.get("deployments") or []
    primary = primary_deployment(service)
    tracked = primary
    if deployment_id:
        tracked = next((d for d in deployments if d.get("id") == deployment_id), None)
    state = (tracked or primary).get("rolloutState")
    text = f"{state} ({(tracked or primary).get('runningCount')}/{(tracked or primary).get('desiredCount')} running)"
    watched = [tracked] if deployment_id else [d for d in deployments if d is primary or not _superseded(d, primary)]
    failed = next((d for d in watched if d and d.get("rolloutState") == "FAILED"), None)
    if failed:
        rolled_back = failed is not primary and primary
        return False, (f"deployment {failed.get('id')} failed" + (
            f" and ECS rolled the service back to deployment {primary.get('id')} ({_td_name(primary)})"
            if rolled_back else "")), text
    if deployment_id and tracked is not primary:
        return False, (f"deployment {deployment_id} is no longer the primary one: deployment {primary.get('id')} "
                       f"({_td_name(primary)}) replaced it - a rollback by the deployment circuit breaker, or another "
                       "deploy"), text
    # Without a rollout state (services deployed by a CODE_DEPLOY or EXTERNAL controller) one
    # deployment running every desired task is done.
    done = state == "COMPLETED" or (state is None and len(deployments) == 1 and
                                    service.get("runningCount") == service.get("desiredCount"))
    return done, None, text


def _td_name(deployment):
    return (deployment.get("taskDefinition") or "?").split("/")[-1]


def _td_revision(deployment):
    """``(family, revision)`` of a deployment's task definition (None when its ARN does not say)."""
    family, _sep, revision = _td_name(deployment).rpartition(":")
    return (family, int(revision)) if family and revision.isdigit() else None


def _superseded(deployment, primary):
    """Whether the primary deployment runs a newer revision of the deployment's task definition family."""
    old, new = _td_revision(deployment), _td_revision(primary)
    return bool(old and new and old[0] == new[0] and old[1] < new[1])


def rollout_failure_report(client, cluster, service, deployment_id=None):
    """What went wrong, in AWS's words: the rollout reason, recent events, stopped tasks' reasons
    (those the deployment started, when it is known and some are found)."""
    lines = []
    deployment = next((d for d in service.get("deployments") or [] if d.get("id") == deployment_id), None)
    reason = (deployment or primary_deployment(service)).get("rolloutStateReason")
    if reason:
        lines.append(f"Rollout: {reason}")
    events = [e.get("message") for e in (service.get("events") or [])[:5]]
    if events:
        lines.append("Recent events: " + " | ".join(events))
    tasks = stopped_tasks(client, cluster, service["serviceName"])
    if deployment_id:
        tasks = [t for t in tasks if t.get("startedBy") == deployment_id] or tasks
    reasons = []
    for task in tasks:
        containers = "; ".join(f"{c.get('name')}: {c.get('reason') or 'exit ' + str(c.get('exitCode'))}"
                               for c in task.get("containers", []) if c.get("reason") or c.get("exitCode"))
        reasons.append(f"{task['taskArn'].split('/')[-1]}: {task.get('stoppedReason')}"
                       + (f" ({containers})" if containers else ""))
    if reasons:
        lines.append("Stopped tasks: " + " | ".join(reasons))
    return " ".join(lines) or "ECS gave no reason."


def wait_for_rollouts(client, cluster, names, timeout, delay=5, max_delay=15, deployments=None):
    """Wait until the rollout of every named service has completed; the services by name.

    ``deployments`` maps a service to the deployment this run started (see ``rollout_progress``).
    One DescribeServices per poll (ten services per request) for the services still rolling out, so
    services started together finish in the time of the slowest. A failed rollout ends the wait with
    that service's report; a service that does not exist ends it too; a timeout names every service
    still rolling out, with its report.
    """
    deployments = deployments or {}
    pending = sorted(set(names))
    several = len(pending) > 1
    what = (f"the rollouts of services {', '.join(pending)}" if several
            else f"the rollout of service {pending[0]}")
    done, last = {}, {}

    def poll():
        found = {s["serviceName"]: s for s in describe_services(client, cluster, pending)}
        missing = [name for name in pending if name not in found]
        if missing:
            fail_wait(f"Service {', '.join(missing)} does not exist in cluster {cluster}, so there is no rollout "
                      "to wait for.")
        states = []
        for name in list(pending):
            service = last[name] = found[name]
            finished, failure, state = rollout_progress(service, deployments.get(name))
            if failure:
                fail_wait(f"Rollout of service {name} failed: {failure}. "
                          f"{rollout_failure_report(client, cluster, service, deployments.get(name))}")
            if finished:
                done[name] = service
                pending.remove(name)
            else:
                states.append(f"{name}: {state}" if several else state)
        return not pending, "; ".join(states)

    try:
        wait_for(poll, what, timeout, delay=delay, max_delay=max_delay)
    except WaitTimeoutError as e:
        reports = [(f"{name}: " if several else "") + rollout_failure_report(client, cluster, last[name],
                                                                             deployments.get(name))
                   for name in pending if name in last]
        if reports:
            raise WaitTimeoutError(message=f"{e.message}. {' '.join(reports)}") from None
        raise
    return done


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
