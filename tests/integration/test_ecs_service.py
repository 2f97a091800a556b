"""ecs_service against the local AWS over HTTP: task definition change detection, service updates,
autoscaling ownership of the desired count, teardown. The local AWS runs no containers: moto reports
a new service's rollout as completed (tools/moto_fidelity.py); the failure path is covered with
recorded responses in tests/unit/plugins/modules/test_ecs_service.py."""

from __future__ import annotations

import copy
import json

import pytest

from support.servers import boto3_client
from support.converge import converge

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"


@pytest.fixture
def platform(clean_aws, ansible):
    net = ansible.module("vpc_network", {"name": "svc", "environment": "it", "cidr": "10.44.0.0/16",
                                         "nat_mode": "none"})
    assert not net.get("failed"), net.get("msg")
    boto3_client("ecs", clean_aws.endpoint_url).create_cluster(clusterName="it", capacityProviders=[
        "FARGATE", "FARGATE_SPOT"])
    clean_aws.reset_counts()
    return net["network"]


def service_args(network, **overrides):
    args = {
        "cluster": "it", "name": "backend",
        "task": {"cpu": 256, "memory": 512, "log_group": "/seed/it/backend",
                 "execution_role_arn": "arn:aws:iam::123456789012:role/it-backend-exec",
                 "task_role_arn": "arn:aws:iam::123456789012:role/it-backend-task",
                 "containers": [{"name": "backend", "image": "registry.local/backend@sha256:" + "1" * 64,
                                 "ports": [8000], "environment": {"APP_GREETING": "hello", "LOG_LEVEL": "info"},
                                 "secrets": {"DB_PASSWORD": SECRET + ":password::"},
                                 "health_check": {"command": ["CMD-SHELL", "true"]}}]},
        "subnets": network["subnet_ids"]["private"],
        "security_groups": [network["security_groups"]["app"]],
        "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1, "base": 1},
                                       {"capacity_provider": "FARGATE_SPOT", "weight": 3}],
        "desired_count": 2,
        "autoscaling": {"min_capacity": 2, "max_capacity": 6, "metric": "cpu", "target_value": 60},
        "wait_timeout": 60,
    }
    args.update(overrides)
    return args


def container(args):
    return args["task"]["containers"][0]


@pytest.mark.parametrize("change, changed_field", [
    (lambda c: c.update(image="registry.local/backend@sha256:" + "2" * 64), "containers.backend.image"),
    (lambda c: c["environment"].update(APP_GREETING="bonjour"), "containers.backend.environment.APP_GREETING"),
    (lambda c: c["secrets"].update(DB_PASSWORD=SECRET + ":username::"), "containers.backend.secrets.DB_PASSWORD"),
    (lambda c: c["health_check"].update(retries=5), "containers.backend.healthCheck.retries"),
])
def test_task_definition_changes_register_one_revision(platform, clean_aws, ansible, change, changed_field):
    args = service_args(platform)
    converge(ansible, clean_aws, args, "ecs_service")
    changed = copy.deepcopy(args)
    change(container(changed))
    applied = converge(ansible, clean_aws, changed, "ecs_service")
    assert applied["actions"] == [
        f"register task definition it-backend (changed: {changed_field})",
        "update service backend: taskDefinition"]
    assert applied["task_definition"]["revision"] == 2
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    service = ecs.describe_services(cluster="it", services=["backend"])["services"][0]
    assert service["taskDefinition"].endswith(":2")


def test_service_lifecycle(platform, clean_aws, ansible):
    def scaling_targets():
        scaling = boto3_client("application-autoscaling", clean_aws.endpoint_url)
        return scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]

    args = service_args(platform)
    created = converge(ansible, clean_aws, args, "ecs_service")
    assert created["actions"] == ["create log group /seed/it/backend",
                                  "set log group /seed/it/backend retention to 30 days",
                                  "register task definition it-backend", "create service backend (2 tasks)",
                                  "register scalable target service/it/backend 2-6 tasks",
                                  "put scaling policy backend-cpu (ECSServiceAverageCPUUtilization 60)"]
    assert created["service"]["rollout_state"] == "COMPLETED"
    assert created["service"]["tags"]["seed:component"] == "ecs-service"
    assert created["service"]["tags"]["seed:autoscaling"] == "true"
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    td = ecs.describe_task_definition(taskDefinition="it-backend:1")["taskDefinition"]
    assert td["cpu"] == "256" and td["networkMode"] == "awsvpc"
    assert td["containerDefinitions"][0]["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": SECRET + ":password::"}]
    assert not any(e["name"] == "DB_PASSWORD" for e in td["containerDefinitions"][0]["environment"])

    # Autoscaling owns the desired count: a scaled service is never reset by a rerun.
    ecs.update_service(cluster="it", service="backend", desiredCount=5)
    clean_aws.reset_counts()
    again = ansible.module("ecs_service", args)
    assert again["changed"] is False and clean_aws.requests()["writes"] == 0
    assert ecs.describe_services(cluster="it", services=["backend"])["services"][0]["desiredCount"] == 5

    # Service-level fields update in place; task-level cpu/memory register a revision.
    bigger = service_args(platform, enable_execute_command=True,
                          deployment={"minimum_healthy_percent": 50, "maximum_percent": 200},
                          autoscaling={"min_capacity": 2, "max_capacity": 10, "metric": "memory", "target_value": 70})
    bigger["task"].update(cpu=512, memory=1024)
    updated = converge(ansible, clean_aws, bigger, "ecs_service")
    assert updated["actions"] == [
        "register task definition it-backend (changed: cpu, memory)",
        "update service backend: deploymentConfiguration, enableExecuteCommand, taskDefinition",
        "register scalable target service/it/backend 2-10 tasks",
        "put scaling policy backend-memory (ECSServiceAverageMemoryUtilization 70)",
        "delete scaling policy backend-cpu"]
    service = ecs.describe_services(cluster="it", services=["backend"])["services"][0]
    assert service["deploymentConfiguration"]["minimumHealthyPercent"] == 50
    assert service["enableExecuteCommand"] is True

    # Autoscaling off: its policy, target and marker tag go; from then on Application Auto Scaling is not read.
    static = dict(bigger, autoscaling=None)
    unscaled = converge(ansible, clean_aws, static, "ecs_service")
    assert unscaled["actions"] == ["delete scaling policy backend-memory",
                                   "deregister scalable target service/it/backend",
                                   "remove tags seed:autoscaling from service backend"]
    assert not any(k.startswith("application-autoscaling:") for k in clean_aws.requests()["by_action"])
    assert scaling_targets() == []
    # The tags returned are the service's after the run (the marker is gone), as ecs_service_info reads them.
    assert "seed:autoscaling" not in unscaled["service"]["tags"]
    read = ansible.module("ecs_service_info", {"cluster": "it", "names": ["backend"]})
    assert read["services"][0]["tags"] == unscaled["service"]["tags"]

    # ECS Exec alone starts no deployment on ECS, and reaches only tasks started after the change: forced.
    no_exec = converge(ansible, clean_aws, dict(static, enable_execute_command=False), "ecs_service")
    assert no_exec["actions"] == ["update service backend: enableExecuteCommand, forceNewDeployment"]
    assert no_exec["deployment_id"].startswith("ecs-svc/")

    gone = converge(ansible, clean_aws, {"cluster": "it", "name": "backend", "state": "absent", "wait_timeout": 60,
                                         "task": args["task"], "delete_log_groups": True}, "ecs_service")
    assert gone["actions"][-3:] == ["deregister task definition it-backend:1", "deregister task definition it-backend:2",
                                    "delete log group /seed/it/backend"]
    assert ecs.describe_services(cluster="it", services=["backend"])["services"][0]["status"] == "INACTIVE"
    assert ecs.list_task_definitions(familyPrefix="it-backend", status="ACTIVE")["taskDefinitionArns"] == []
    assert scaling_targets() == []


def test_services_started_without_waiting_are_awaited_together(platform, clean_aws, ansible):
    """wait: false returns once the deployment started (rollout=started); ecs_service_info wait: true then
    waits for both rollouts with one DescribeServices per poll (moto completes a rollout at once)."""
    names, deployments = ["frontend", "backend"], {}
    for name in names:
        args = service_args(platform, name=name, wait=False, autoscaling=None)
        args["task"]["log_group"] = f"/seed/it/{name}"
        container(args)["name"] = name
        predicted = ansible.module("ecs_service", args, check=True)
        assert predicted["rollout"] == "started" and predicted["created"] is True, predicted.get("msg")
        started = converge(ansible, clean_aws, args, "ecs_service")
        assert started["rollout"] == "started" and started["service"]["name"] == name
        assert started["created"] is True
        deployments[name] = started["deployment_id"]
        again = ansible.module("ecs_service", args)
        assert again["changed"] is False and again["rollout"] == "none" and "deployment_id" not in again
        assert again["created"] is False

    clean_aws.reset_counts()
    # The deployments the runs started: the wait follows these (a rolled-back one would fail it).
    waited = ansible.module("ecs_service_info", {"cluster": "it", "deployments": deployments, "wait": True,
                                                 "wait_timeout": 60})
    assert not waited.get("failed"), waited.get("msg")
    assert [s["name"] for s in waited["services"]] == ["backend", "frontend"]
    assert {s["rollout_state"] for s in waited["services"]} == {"COMPLETED"}
    assert clean_aws.requests()["by_action"] == {"ecs:DescribeServices": 1}

    # A waited-for service that does not exist fails the wait, naming it.
    missing = ansible.module("ecs_service_info", {"cluster": "it", "names": ["frontend", "web"], "wait": True,
                                                  "wait_timeout": 30})
    assert missing.get("failed") and "Service web does not exist in cluster it" in missing["msg"]
    # A negative timeout is refused before any request, naming the option.
    clean_aws.reset_counts()
    bad = ansible.module("ecs_service_info", {"cluster": "it", "names": names, "wait": True, "wait_timeout": -1})
    assert bad.get("failed") and bad["msg"].startswith("wait_timeout:") and clean_aws.requests()["total"] == 0
    # Without wait a missing service is left out.
    read = ansible.module("ecs_service_info", {"cluster": "it", "names": ["frontend", "web"]})
    assert [s["name"] for s in read["services"]] == ["frontend"]


@pytest.mark.parametrize("mutate, field", [
    (lambda a: a["task"].update(cpu=256, memory=4096), "task.memory"),
    (lambda a: container(a).update(ports=[70000]), "task.containers[0].ports[0]"),
    (lambda a: a.update(load_balancers=[{"target_group_arn": "arn:tg", "container_name": "backend",
                                         "container_port": 9000}]), "load_balancers[0].container_port"),
    (lambda a: container(a)["secrets"].update(TOKEN="plain-text"), "task.containers[0].secrets.TOKEN"),
    (lambda a: a.update(autoscaling={"min_capacity": 5, "max_capacity": 2}), "autoscaling.max_capacity"),
    (lambda a: a.update(log_retention_days=13), "log_retention_days"),
    (lambda a: a["task"].update(ephemeral_storage_gib=10), "task.ephemeral_storage_gib"),
    (lambda a: container(a)["health_check"].update(interval=1), "task.containers[0].health_check.interval"),
    (lambda a: a.update(name="back end"), "name"),
    (lambda a: a.update(family="it:backend"), "family"),
    (lambda a: container(a).update(repository_credentials="registry-login"),
     "task.containers[0].repository_credentials"),
    (lambda a: container(a).update(repository_credentials=SECRET + ":password::"),
     "task.containers[0].repository_credentials"),
    (lambda a: container(a).update(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/seed/backend:1",
                                   repository_credentials=SECRET), "task.containers[0].repository_credentials"),
    (lambda a: a.update(deployment={"alarms": ["backend-5xx", " "]}), "deployment.alarms"),
    # A partial secret ARN (no 6-character suffix): a policy naming it would never match the secret.
    (lambda a: container(a).update(repository_credentials=SECRET[:-len("-AbCdEf")]),
     "task.containers[0].repository_credentials"),
    (lambda a: container(a)["secrets"].update(DB_PASSWORD=SECRET[:-len("-AbCdEf")] + ":password::"),
     "task.containers[0].secrets.DB_PASSWORD"),
    (lambda a: a.update(deployment={"alarms": ["backend-5xx", "backend-5xx"]}), "deployment.alarms"),
])
def test_bad_input_deploys_nothing(platform, clean_aws, ansible, mutate, field):
    args = service_args(platform)
    mutate(args)
    clean_aws.reset_counts()
    result = ansible.module("ecs_service", args)
    assert result.get("failed") and result["msg"].startswith(field + ":"), result.get("msg")
    assert clean_aws.requests()["total"] == 0


def test_derived_roles_are_created_scoped_and_removed(platform, clean_aws, ansible):
    args = service_args(platform)
    args["task"].pop("execution_role_arn")
    args["task"].pop("task_role_arn")
    container(args)["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/seed/backend@sha256:" + "3" * 64

    # A policy would point at a secret that does not exist: refused, naming it, before anything is written.
    clean_aws.reset_counts()
    refused = ansible.module("ecs_service", args)
    assert refused.get("failed") and refused["msg"].startswith("task:") and f"secret {SECRET}" in refused["msg"]
    assert clean_aws.requests()["writes"] == 0

    secret_arn = boto3_client("secretsmanager", clean_aws.endpoint_url).create_secret(
        Name="db", SecretString='{"password": "x"}')["ARN"]
    container(args)["secrets"] = {"DB_PASSWORD": secret_arn + ":password::"}
    created = converge(ansible, clean_aws, args, "ecs_service")
    assert created["actions"][:6] == ["create iam role it-backend-execution",
                                      "put policy seed-least-privilege on iam role it-backend-execution",
                                      "create iam role it-backend-task", "create log group /seed/it/backend",
                                      "set log group /seed/it/backend retention to 30 days",
                                      "register task definition it-backend"]
    iam = boto3_client("iam", clean_aws.endpoint_url)
    policy = iam.get_role_policy(RoleName="it-backend-execution", PolicyName="seed-least-privilege")["PolicyDocument"]
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources["PullImages"] == ["arn:aws:ecr:us-east-1:123456789012:repository/seed/backend"]
    assert resources["ReadSecrets"] == [secret_arn]
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    td = ecs.describe_task_definition(taskDefinition="it-backend")["taskDefinition"]
    assert td["executionRoleArn"] == "arn:aws:iam::123456789012:role/seed/it-backend-execution"
    assert td["taskRoleArn"] == "arn:aws:iam::123456789012:role/seed/it-backend-task"

    converge(ansible, clean_aws, {"cluster": "it", "name": "backend", "state": "absent", "wait_timeout": 60},
             "ecs_service")
    assert iam.list_roles(PathPrefix="/seed/")["Roles"] == []


def test_an_image_of_a_private_registry_is_pulled_with_repository_credentials(platform, clean_aws, ansible):
    """A self-hosted OCI registry that needs a login: the task definition names the Secrets Manager secret
    with its username and password (repositoryCredentials), and the derived execution role may read that
    secret - and pulls from no ECR repository. A change of secret is a task definition change."""
    args = service_args(platform, autoscaling=None)
    args["task"].pop("execution_role_arn")
    args["task"].pop("task_role_arn")
    secrets = boto3_client("secretsmanager", clean_aws.endpoint_url)
    db = secrets.create_secret(Name="db", SecretString='{"password": "x"}')["ARN"]
    container(args)["secrets"] = {"DB_PASSWORD": db + ":password::"}
    container(args)["image"] = "registry.example.com:5000/seed/backend@sha256:" + "4" * 64
    login_arn = db.replace(":secret:db-", ":secret:registry-")

    # The login secret does not exist: refused, naming it, before anything is written.
    container(args)["repository_credentials"] = login_arn
    clean_aws.reset_counts()
    refused = ansible.module("ecs_service", args)
    assert refused.get("failed") and f"secret {login_arn}" in refused["msg"], refused.get("msg")
    assert clean_aws.requests()["writes"] == 0

    login = secrets.create_secret(Name="registry", SecretString='{"username": "ci", "password": "x"}')["ARN"]
    container(args)["repository_credentials"] = login
    converge(ansible, clean_aws, args, "ecs_service")
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    (definition,) = ecs.describe_task_definition(taskDefinition="it-backend")["taskDefinition"]["containerDefinitions"]
    assert definition["repositoryCredentials"] == {"credentialsParameter": login}
    iam = boto3_client("iam", clean_aws.endpoint_url)
    policy = iam.get_role_policy(RoleName="it-backend-execution", PolicyName="seed-least-privilege")["PolicyDocument"]
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert sorted(resources) == ["ReadSecrets", "WriteLogs"]
    assert resources["ReadSecrets"] == sorted([db, login])

    other = secrets.create_secret(Name="registry2", SecretString='{"username": "ci2", "password": "y"}')["ARN"]
    container(args)["repository_credentials"] = other
    changed = converge(ansible, clean_aws, args, "ecs_service")
    assert changed["actions"] == [
        "put policy seed-least-privilege on iam role it-backend-execution",
        "register task definition it-backend (changed: containers.backend.repositoryCredentials.credentialsParameter)",
        "update service backend: taskDefinition"]
    (definition,) = ecs.describe_task_definition(taskDefinition="it-backend")["taskDefinition"]["containerDefinitions"]
    assert definition["repositoryCredentials"] == {"credentialsParameter": other}


def test_derived_roles_carry_the_permissions_boundary(platform, clean_aws, ansible):
    iam = boto3_client("iam", clean_aws.endpoint_url)
    boundary = "arn:aws:iam::123456789012:policy/seed-deployer/seed-workload-boundary"
    args = service_args(platform, permissions_boundary=boundary)
    args["task"].pop("execution_role_arn")
    args["task"].pop("task_role_arn")
    container(args)["secrets"] = {}

    # the boundary policy is not there (bootstrap.yml not run): refused, naming the option, nothing written
    clean_aws.reset_counts()
    refused = ansible.module("ecs_service", args)
    assert refused.get("failed") and refused["msg"].startswith("permissions_boundary:"), refused.get("msg")
    assert boundary in refused["msg"] and clean_aws.requests()["writes"] == 0

    iam.create_policy(PolicyName="seed-workload-boundary", Path="/seed-deployer/", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}))
    created = converge(ansible, clean_aws, args, "ecs_service")  # check -> apply -> no-op with zero writes
    assert created["actions"][:2] == [f"create iam role it-backend-execution with permissions boundary {boundary}",
                                      "put policy seed-least-privilege on iam role it-backend-execution"]
    for name in ("it-backend-execution", "it-backend-task"):
        assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    assert created["diff"]["before"]["roles"] == {"it-backend-execution": {"permissions_boundary": None},
                                                  "it-backend-task": {"permissions_boundary": None}}
    assert created["diff"]["after"]["roles"] == {"it-backend-execution": {"permissions_boundary": boundary},
                                                 "it-backend-task": {"permissions_boundary": boundary}}

    # a no-op reads the boundary with the role: no iam:GetPolicy
    clean_aws.reset_counts()
    again = ansible.module("ecs_service", args)
    assert again["changed"] is False and not [k for k in clean_aws.requests()["by_action"] if "GetPolicy" in k]

    converge(ansible, clean_aws, {"cluster": "it", "name": "backend", "state": "absent", "wait_timeout": 60},
             "ecs_service")
    assert iam.list_roles(PathPrefix="/seed/")["Roles"] == []


def test_a_bad_permissions_boundary_deploys_nothing(platform, clean_aws, ansible):
    clean_aws.reset_counts()
    result = ansible.module("ecs_service", service_args(platform, permissions_boundary="seed-workload-boundary"))
    assert result.get("failed") and result["msg"].startswith("permissions_boundary:"), result.get("msg")
    assert clean_aws.requests()["total"] == 0


def test_alb_request_autoscaling_names_its_metric_from_the_target_group(platform, clean_aws, ansible):
    """metric alb_requests without resource_label: the label is read from the service's target group and
    the load balancer forwarding to it; a target group no load balancer uses fails before any write."""
    lb = ansible.module("load_balancer", {
        "name": "it-public", "subnets": platform["subnet_ids"]["public"],
        "security_groups": [platform["security_groups"]["lb"]],
        "target_groups": [{"name": "it-backend", "port": 8000, "health_check": {"path": "/health"}}],
        "default_target_group": "it-backend", "wait_timeout": 60})
    assert not lb.get("failed"), lb.get("msg")
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)
    (balancer,) = elbv2.describe_load_balancers(Names=["it-public"])["LoadBalancers"]
    (group,) = elbv2.describe_target_groups(Names=["it-backend"])["TargetGroups"]
    scaling = {"min_capacity": 2, "max_capacity": 8, "metric": "alb_requests", "target_value": 500}
    args = service_args(platform, autoscaling=scaling, load_balancers=[
        {"target_group_arn": group["TargetGroupArn"], "container_name": "backend", "container_port": 8000}])

    created = converge(ansible, clean_aws, args, "ecs_service")
    assert "put scaling policy backend-alb_requests (ALBRequestCountPerTarget 500)" in created["actions"]
    (policy,) = boto3_client("application-autoscaling", clean_aws.endpoint_url).describe_scaling_policies(
        ServiceNamespace="ecs")["ScalingPolicies"]
    label = policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["ResourceLabel"]
    assert label == (balancer["LoadBalancerArn"].split(":loadbalancer/")[1] + "/"
                     + group["TargetGroupArn"].split(":")[-1])
    clean_aws.reset_counts()
    again = ansible.module("ecs_service", args)
    assert again["changed"] is False and clean_aws.requests()["writes"] == 0

    orphan = elbv2.create_target_group(Name="it-orphan", Protocol="HTTP", Port=8000, VpcId=platform["vpc_id"],
                                       TargetType="ip")["TargetGroups"][0]
    clean_aws.reset_counts()
    failed = ansible.module("ecs_service", dict(args, name="worker", load_balancers=[
        {"target_group_arn": orphan["TargetGroupArn"], "container_name": "backend", "container_port": 8000}]))
    assert failed.get("failed") and failed["msg"].startswith("autoscaling.resource_label: target group it-orphan")
    assert clean_aws.requests()["writes"] == 0


def test_deployment_alarms_are_set_checked_and_turned_off(platform, clean_aws, ansible):
    """deployment.alarms: an alarm that does not exist fails naming the field before anything is written
    (in check mode too); existing ones are set (enabled, with the rollback flag), a rerun changes nothing,
    a change of rollback or of the names updates the service, and an empty list turns them off."""
    cloudwatch = boto3_client("cloudwatch", clean_aws.endpoint_url)
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    for name in ("backend-5xx", "backend-latency"):
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName="HTTPCode_Target_5XX_Count",
                                    Namespace="AWS/ApplicationELB", Statistic="Sum", Period=60, EvaluationPeriods=1,
                                    Threshold=5, ComparisonOperator="GreaterThanThreshold")
    args = service_args(platform, autoscaling=None, deployment={"alarms": ["backend-5xx", "backend-missing"]})
    for check in (True, False):
        clean_aws.reset_counts()
        refused = ansible.module("ecs_service", args, check=check)
        assert refused.get("failed") and refused["msg"] == (
            "deployment.alarms: no CloudWatch alarm named backend-missing in us-east-1; nothing was changed")
        assert clean_aws.requests()["writes"] == 0
    assert ecs.list_task_definitions(familyPrefix="it-backend")["taskDefinitionArns"] == []

    def alarms():
        return ecs.describe_services(cluster="it", services=["backend"])["services"][0][
            "deploymentConfiguration"].get("alarms")

    args["deployment"] = {"alarms": ["backend-latency", "backend-5xx"]}
    created = converge(ansible, clean_aws, args, "ecs_service")
    assert "create service backend (2 tasks)" in created["actions"]
    assert created["diff"]["after"]["service"]["deployment"]["alarms"] == {
        "names": ["backend-5xx", "backend-latency"], "rollback": True}
    assert alarms() == {"alarmNames": ["backend-latency", "backend-5xx"], "enable": True, "rollback": True}
    assert created["service"]["deployment_alarms"] == ["backend-latency", "backend-5xx"]

    args["deployment"] = {"alarms": ["backend-5xx"], "rollback": False}
    updated = converge(ansible, clean_aws, args, "ecs_service")
    assert updated["actions"] == ["update service backend: deploymentConfiguration"]
    assert alarms() == {"alarmNames": ["backend-5xx"], "enable": True, "rollback": False}

    args["deployment"] = {}
    off = converge(ansible, clean_aws, args, "ecs_service")
    assert off["actions"] == ["update service backend: deploymentConfiguration"]
    assert off["diff"]["before"]["service"]["deployment"]["alarms"] == {"names": ["backend-5xx"], "rollback": False}
    assert off["diff"]["after"]["service"]["deployment"]["alarms"] is None
    assert alarms()["enable"] is False and off["service"]["deployment_alarms"] == []


def test_efs_access_points_are_mounted_and_the_task_role_scoped_to_them(platform, clean_aws, ansible):
    """The package server's storage: an EFS access point becomes a task volume (TLS, IAM authorisation)
    mounted where the containers ask, and the derived task role may mount the file system only through
    that access point. An access point of another file system is refused before anything is written
    (also with roles the user gives, where no policy is derived); read-only is a task definition and a
    policy change; removing the mount removes the volume."""
    efs = boto3_client("efs", clean_aws.endpoint_url)
    fs = efs.create_file_system(CreationToken="packages", Encrypted=True)["FileSystemId"]
    other = efs.create_file_system(CreationToken="other")["FileSystemId"]
    point = efs.create_access_point(FileSystemId=fs, PosixUser={"Uid": 1000, "Gid": 1000},
                                    RootDirectory={"Path": "/packages"})
    ap, ap_id = point["AccessPointArn"], point["AccessPointId"]
    args = service_args(platform, autoscaling=None)
    container(args).pop("secrets")
    mount = {"file_system_id": other, "access_point_arn": ap, "container_path": "/data/packages"}
    args["efs_access_points"] = [mount]

    for roles in ("given", "derived"):
        if roles == "derived":
            args["task"].pop("task_role_arn")
        clean_aws.reset_counts()
        refused = ansible.module("ecs_service", args)
        assert refused.get("failed") and refused["msg"].startswith("efs_access_points:"), refused.get("msg")
        assert f"access point {ap} (file system {other})" in refused["msg"]
        assert clean_aws.requests()["writes"] == 0

    mount["file_system_id"] = fs
    created = converge(ansible, clean_aws, args, "ecs_service")
    assert "create iam role it-backend-task" in created["actions"]
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    td = ecs.describe_task_definition(taskDefinition="it-backend")["taskDefinition"]
    assert td["volumes"] == [{"name": f"efs-{ap_id}", "efsVolumeConfiguration": {
        "fileSystemId": fs, "rootDirectory": "/", "transitEncryption": "ENABLED",
        "authorizationConfig": {"accessPointId": ap_id, "iam": "ENABLED"}}}]
    assert td["containerDefinitions"][0]["mountPoints"] == [
        {"sourceVolume": f"efs-{ap_id}", "containerPath": "/data/packages", "readOnly": False}]
    iam = boto3_client("iam", clean_aws.endpoint_url)

    def mount_statement():
        policy = iam.get_role_policy(RoleName="it-backend-task", PolicyName="seed-least-privilege")["PolicyDocument"]
        return {s["Sid"]: s for s in policy["Statement"]}["MountAccessPoint0"]

    statement = mount_statement()
    assert statement["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    assert statement["Resource"] == [f"arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/{fs}"]
    assert statement["Condition"] == {"ArnEquals": {"elasticfilesystem:AccessPointArn": ap}}

    mount["read_only"] = True
    changed = converge(ansible, clean_aws, args, "ecs_service")
    assert changed["actions"] == [
        "put policy seed-least-privilege on iam role it-backend-task",
        "register task definition it-backend (changed: containers.backend.mountPoints./data/packages.readOnly)",
        "update service backend: taskDefinition"]
    assert mount_statement()["Action"] == ["elasticfilesystem:ClientMount"]

    args["efs_access_points"] = []
    removed = converge(ansible, clean_aws, args, "ecs_service")
    assert removed["actions"] == [
        "delete policy seed-least-privilege from iam role it-backend-task",
        "register task definition it-backend (changed: containers.backend.mountPoints, volumes)",
        "update service backend: taskDefinition"]
    assert ecs.describe_task_definition(taskDefinition="it-backend")["taskDefinition"]["volumes"] == []


def test_buckets_and_keys_the_derived_roles_name_must_exist(platform, clean_aws, ansible):
    """s3_prefixes and s3_kms_keys: a bucket or key that does not exist is refused, naming each, before any
    write; once they exist, the task role may use only the objects under the prefix, and their key."""
    args = service_args(platform, autoscaling=None)
    container(args).pop("secrets")
    args["task"].pop("task_role_arn")
    kms = boto3_client("kms", clean_aws.endpoint_url)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    gone = key.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    args.update(s3_prefixes=["seed-it-uploads/backend/"], s3_kms_keys=[gone])
    clean_aws.reset_counts()
    refused = ansible.module("ecs_service", args)
    assert refused.get("failed") and refused["msg"].startswith("task:"), refused.get("msg")
    assert f"kms key {gone}" in refused["msg"] and "bucket seed-it-uploads" in refused["msg"]
    assert clean_aws.requests()["writes"] == 0

    boto3_client("s3", clean_aws.endpoint_url).create_bucket(Bucket="seed-it-uploads")
    args["s3_kms_keys"] = [key]
    converge(ansible, clean_aws, args, "ecs_service")
    policy = boto3_client("iam", clean_aws.endpoint_url).get_role_policy(
        RoleName="it-backend-task", PolicyName="seed-least-privilege")["PolicyDocument"]
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources["ObjectsUnderPrefixes"] == ["arn:aws:s3:::seed-it-uploads/backend/*"]
    assert resources["EncryptedObjects"] == [key]


def test_the_customer_managed_key_of_a_secret_is_found_and_granted_via_secrets_manager(platform, clean_aws, ansible):
    """A secret encrypted with a customer managed key (secrets_kms_key_id): the execution role must be able
    to decrypt with that key or the task cannot read it. The module reads the key of each secret (an alias
    resolved to the key ARN, which is what IAM matches) and grants kms:Decrypt through Secrets Manager only;
    a secret moved to another key updates the policy, and one on the AWS managed key needs none."""
    kms = boto3_client("kms", clean_aws.endpoint_url)
    first = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/seed-it-secrets", TargetKeyId=first)
    second = kms.create_key()["KeyMetadata"]["Arn"]
    secrets = boto3_client("secretsmanager", clean_aws.endpoint_url)
    db = secrets.create_secret(Name="db", SecretString='{"password": "x"}', KmsKeyId="alias/seed-it-secrets")["ARN"]
    args = service_args(platform, autoscaling=None)
    args["task"].pop("execution_role_arn")
    container(args)["secrets"] = {"DB_PASSWORD": db + ":password::"}
    iam = boto3_client("iam", clean_aws.endpoint_url)

    def decrypt():
        policy = iam.get_role_policy(RoleName="it-backend-execution",
                                     PolicyName="seed-least-privilege")["PolicyDocument"]
        return {s["Sid"]: s for s in policy["Statement"]}.get("DecryptSecretsViaSecretsManager")

    converge(ansible, clean_aws, args, "ecs_service")
    assert decrypt() == {"Sid": "DecryptSecretsViaSecretsManager", "Effect": "Allow", "Action": ["kms:Decrypt"],
                         "Resource": [first],
                         "Condition": {"StringEquals": {"kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com"]}}}

    secrets.update_secret(SecretId=db, KmsKeyId=second)
    moved = converge(ansible, clean_aws, args, "ecs_service")
    assert moved["actions"] == ["put policy seed-least-privilege on iam role it-backend-execution"]
    assert decrypt()["Resource"] == [second]

    plain = secrets.create_secret(Name="plain", SecretString='{"password": "y"}')["ARN"]
    container(args)["secrets"] = {"DB_PASSWORD": plain + ":password::"}
    converge(ansible, clean_aws, args, "ecs_service")
    assert decrypt() is None


def test_the_grace_period_covers_container_health_checks_without_a_load_balancer(platform, clean_aws, ansible):
    """ECS ignores container health checks too during the grace period: a worker without a load balancer
    but with a health check gets it (before, only services behind a load balancer did, so a slow starter was
    stopped as unhealthy). A change updates the service in place; no health check, no grace period."""
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    args = service_args(platform, autoscaling=None, health_check_grace_period=90)
    created = converge(ansible, clean_aws, args, "ecs_service")
    assert created["diff"]["after"]["service"]["health_check_grace_period"] == 90
    assert ecs.describe_services(cluster="it", services=["backend"])["services"][0][
        "healthCheckGracePeriodSeconds"] == 90
    changed = converge(ansible, clean_aws, dict(args, health_check_grace_period=180), "ecs_service")
    assert changed["actions"] == ["update service backend: healthCheckGracePeriodSeconds"]
    assert changed["rollout"] == "none"  # it starts no deployment, so there is none to wait for
    assert ecs.describe_services(cluster="it", services=["backend"])["services"][0][
        "healthCheckGracePeriodSeconds"] == 180

    plain = service_args(platform, autoscaling=None, name="worker")
    container(plain).pop("health_check")
    worker = converge(ansible, clean_aws, plain, "ecs_service")
    assert "health_check_grace_period" not in worker["diff"]["after"]["service"]


def test_a_secret_of_another_region_is_looked_up_where_it_lives(platform, clean_aws, ansible):
    """A task may read a secret of another region (its ARN names it): the existence check and the key
    lookup ask that region's Secrets Manager and KMS, not the service's (where it "does not exist")."""
    kms = boto3_client("kms", clean_aws.endpoint_url, region="us-west-2")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/seed-west", TargetKeyId=key)
    far = boto3_client("secretsmanager", clean_aws.endpoint_url, region="us-west-2").create_secret(
        Name="west/db", SecretString='{"password": "x"}', KmsKeyId="alias/seed-west")["ARN"]
    assert ":us-west-2:" in far
    args = service_args(platform, autoscaling=None)
    args["task"].pop("execution_role_arn")
    container(args)["secrets"] = {"DB_PASSWORD": far + ":password::"}
    converge(ansible, clean_aws, args, "ecs_service")
    policy = boto3_client("iam", clean_aws.endpoint_url).get_role_policy(
        RoleName="it-backend-execution", PolicyName="seed-least-privilege")["PolicyDocument"]
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ReadSecrets"]["Resource"] == [far]
    assert statements["DecryptSecretsViaSecretsManager"]["Resource"] == [key]
    assert statements["DecryptSecretsViaSecretsManager"]["Condition"] == {
        "StringEquals": {"kms:ViaService": ["secretsmanager.us-west-2.amazonaws.com"]}}
