"""playbooks/site.yml with the local inventory, the way `make demo` runs it: network, images (real
builds on the local Docker engine, real pushes to the local registry), cluster, load balancer and
services, against the local AWS over HTTP."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from support.aws import expected_network
from support.aws import seed_inventory
from support.servers import REPO_ROOT
from support.servers import boto3_client

# One xdist worker runs these one after another (make integration uses --dist loadgroup): each builds the
# example apps and pushes them as seed/frontend and seed/backend to the registry the workers share, tagged
# by content. Two builds of the same content at once make two images (other creation times) under one tag,
# and the later push would move a tag another test already pinned.
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("example_apps_in_the_shared_registry")]


@pytest.fixture
def stack(clean_aws, ansible, local_docker, base_image, tmp_path):
    """The runner wired to the local Docker engine and registry, building copies of the example apps."""
    apps = tmp_path / "apps"
    shutil.copytree(REPO_ROOT / "examples" / "apps", apps)
    ansible.extra_env.update(DOCKER_HOST=local_docker.docker_host, SEED_REGISTRY_URL=local_docker.registry_url)
    ansible.stack_vars = {"seed_examples": str(apps)}
    return apps


def actions(result):
    return [(t["_task"], t["actions"]) for t in result.task_results() if t.get("actions")]


def registry_writes(local_docker, repositories):
    """Write requests (blob uploads, manifest puts) the registry has logged for ``repositories``: the
    registry is shared by the run's xdist workers, whose other tests push to it meanwhile."""
    log = (local_docker.state_dir / "registry" / "registry.log").read_text(encoding="utf-8", errors="replace")
    return sum(log.count(f'"{method} /v2/{repository}/') for method in ("PUT", "POST", "PATCH")
               for repository in repositories)


def test_site_converges_is_idempotent_and_check_mode_is_exact(stack, clean_aws, ansible, local_docker):
    extra = dict(ansible.stack_vars)
    first = ansible.playbook("playbooks/site.yml", extra_vars=extra, verbosity=3, diff=True)
    assert not first.failed, first.stderr[-3000:]

    # Credentials: generated into Secrets Manager, passed to the backend as a task-definition secret,
    # and nowhere in a -vvv --diff run's output (everything ansible-playbook printed, both streams).
    secretsmanager = boto3_client("secretsmanager", clean_aws.endpoint_url)
    value = json.loads(secretsmanager.get_secret_value(SecretId="seed/local/backend")["SecretString"])
    assert len(value["api_key"]) == 40 and value["client"] == "frontend"
    assert first.data and value["api_key"] not in first.stdout + first.stderr
    assert seed_inventory(clean_aws.endpoint_url)["vpc"] == 1
    facts = {k: v for t in first.task_results() for k, v in t.get("ansible_facts", {}).items()}
    images = facts["registry_outputs"]
    assert set(images) == {"seed/frontend", "seed/backend"}

    # The images are in the registry: pulled back by digest, they are the same images.
    client = local_docker.client()
    for image in images.values():
        assert image["pinned"].startswith(local_docker.registry + "/")
        if client.images.list(name=image["repository"]):
            client.images.remove(image["pinned"], force=True)
        pulled = client.images.pull(image["pinned"])
        assert image["digest"] in [d.split("@")[1] for d in pulled.attrs["RepoDigests"]]

    # Services run the digest-pinned images, behind the load balancer.
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    services = ecs.describe_services(cluster="local", services=["frontend", "backend"])["services"]
    for service in services:
        td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        assert td["containerDefinitions"][0]["image"] == images[f"seed/{service['serviceName']}"]["pinned"]
        if service["serviceName"] == "backend":
            (secret,) = td["containerDefinitions"][0]["secrets"]
            assert secret["name"] == "APP_API_KEY" and secret["valueFrom"].endswith(":api_key::")
            assert not any(value["api_key"] in e["value"] for e in td["containerDefinitions"][0]["environment"])
        assert service["loadBalancers"] and service["networkConfiguration"]["awsvpcConfiguration"][
            "assignPublicIp"] == "DISABLED"
    # The HTTP API is on (inventories/local api.yml): the backend sits behind the API's internal ALB, and
    # the public ALB (behind WAF) routes nothing to it.
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)
    by_name = {lb["LoadBalancerName"]: lb for lb in elbv2.describe_load_balancers()["LoadBalancers"]}
    assert by_name["local-public"]["Scheme"] == "internet-facing" and by_name["local-api-backend"]["Scheme"] == "internal"
    public_tgs = {tg["TargetGroupArn"] for tg in elbv2.describe_target_groups(
        LoadBalancerArn=by_name["local-public"]["LoadBalancerArn"])["TargetGroups"]}
    listener = elbv2.describe_listeners(LoadBalancerArn=by_name["local-public"]["LoadBalancerArn"])["Listeners"][0]
    routed = {a.get("TargetGroupArn") for r in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
              for a in r["Actions"]}
    backend_tg = next(s for s in services if s["serviceName"] == "backend")["loadBalancers"][0]["targetGroupArn"]
    frontend_tg = next(s for s in services if s["serviceName"] == "frontend")["loadBalancers"][0]["targetGroupArn"]
    assert routed == {frontend_tg} and backend_tg not in public_tgs
    assert backend_tg in {tg["TargetGroupArn"] for tg in elbv2.describe_target_groups(
        LoadBalancerArn=by_name["local-api-backend"]["LoadBalancerArn"])["TargetGroups"]}
    apigw = boto3_client("apigatewayv2", clean_aws.endpoint_url)
    (api,) = apigw.get_apis()["Items"]
    (integration,) = apigw.get_integrations(ApiId=api["ApiId"])["Items"]
    internal_listener = elbv2.describe_listeners(
        LoadBalancerArn=by_name["local-api-backend"]["LoadBalancerArn"])["Listeners"][0]["ListenerArn"]
    assert integration["IntegrationUri"] == internal_listener and integration["ConnectionType"] == "VPC_LINK"
    # DNS and TLS (inventories/local dns.yml): HTTPS on the public ALB with the DNS-validated certificate,
    # app.<zone> a health-checked failover pair (ALB, then the maintenance page), api.<zone> the API's domain.
    acm = boto3_client("acm", clean_aws.endpoint_url)
    (certificate,) = acm.list_certificates()["CertificateSummaryList"]
    assert acm.describe_certificate(CertificateArn=certificate["CertificateArn"])["Certificate"]["Status"] == "ISSUED"
    listeners = elbv2.describe_listeners(LoadBalancerArn=by_name["local-public"]["LoadBalancerArn"])["Listeners"]
    assert {(li["Protocol"], li["Port"]) for li in listeners} == {("HTTPS", 443), ("HTTP", 80)}
    route53 = boto3_client("route53", clean_aws.endpoint_url)
    (zone,) = route53.list_hosted_zones()["HostedZones"]
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    app = {r["Failover"]: r for r in records if r["Name"] == "app.local.seed.example." and r["Type"] == "A"}
    assert app["PRIMARY"]["AliasTarget"]["DNSName"].startswith(by_name["local-public"]["DNSName"].lower())
    assert app["PRIMARY"]["HealthCheckId"] and "s3-website" in app["SECONDARY"]["AliasTarget"]["DNSName"]
    assert any(r["Name"] == "api.local.seed.example." and "execute-api" in r["AliasTarget"]["DNSName"]
               for r in records if r.get("AliasTarget"))
    # Security baseline: GuardDuty on, the trail validating its log files, findings routed to SNS.
    (detector,) = boto3_client("guardduty", clean_aws.endpoint_url).list_detectors()["DetectorIds"]
    (trail,) = boto3_client("cloudtrail", clean_aws.endpoint_url).describe_trails()["trailList"]
    assert trail["LogFileValidationEnabled"] and trail["IsMultiRegionTrail"]
    waf = boto3_client("wafv2", clean_aws.endpoint_url)
    (acl,) = waf.list_web_acls(Scope="REGIONAL")["WebACLs"]
    assert waf.get_web_acl_for_resource(ResourceArn=by_name["local-public"]["LoadBalancerArn"])["WebACL"]["ARN"] \
        == acl["ARN"]

    # Re-run: nothing changes, no AWS write, nothing pushed.
    clean_aws.reset_counts()
    pushes = registry_writes(local_docker, images)
    again = ansible.playbook("playbooks/site.yml", extra_vars=extra)
    assert not again.failed and again.changed == 0, actions(again)
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    assert registry_writes(local_docker, images) == pushes, "an unchanged rebuild must push nothing"
    # The cluster runs only the apps of seed_apps (its active-service count says so): the search for an app
    # dropped from seed_apps lists nothing.
    assert "ecs:ListServices" not in clean_aws.requests()["by_action"]

    # What make demo prints: the ALB's DNS name, the registry's digest-pinned images, and each service's
    # state with the images its task definition runs (read from ECS, not from the registry).
    summary = ansible.playbook("playbooks/summary.yml", extra_vars=extra)
    assert not summary.failed, summary.failures()
    (shown,) = [t["msg"] for t in summary.task_results() if t.get("_task") == "Show what was built"]
    assert shown["load_balancer"]["dns_name"] == by_name["local-public"]["DNSName"]
    assert sorted(shown["images"]) == sorted(image["pinned"] for image in images.values())
    assert shown["services"]["backend"]["images"] == {"backend": images["seed/backend"]["pinned"]}
    assert shown["services"]["frontend"]["images"] == {"frontend": images["seed/frontend"]["pinned"]}
    assert shown["services"]["backend"]["rollout_state"] == "COMPLETED"
    assert clean_aws.requests()["writes"] == 0

    # One file of the backend changes: check mode predicts exactly what the real run does, which is a
    # new image tag, a new task definition revision and a rolling update of that service only.
    with open(stack / "backend" / "app.py", "a", encoding="utf-8") as handle:
        handle.write("\n# a one-line change\n")
    clean_aws.reset_counts()
    check = ansible.playbook("playbooks/site.yml", extra_vars=extra, check=True)
    assert not check.failed, check.stderr[-3000:]
    assert clean_aws.requests()["writes"] == 0
    changed = ansible.playbook("playbooks/site.yml", extra_vars=extra)
    assert not changed.failed, changed.stderr[-3000:]
    assert actions(changed) == actions(check)
    names = [a for _task, task_actions in actions(changed) for a in task_actions]
    assert names[0].startswith("build ") and "seed/backend:ctx-" in names[0]
    assert "register task definition local-backend (changed: containers.backend.image)" in names
    assert "update service backend: taskDefinition" in names
    assert not any("frontend" in a for a in names)
    new_images = {k: v for t in changed.task_results() for k, v in t.get("ansible_facts", {}).items()}
    assert new_images["registry_outputs"]["seed/backend"]["tag"] != images["seed/backend"]["tag"]

    # Teardown, named explicitly, leaves nothing.
    gone = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(
        extra, seed_confirm_teardown="local", registry_force_absent=True, seed_teardown_delete_logs=True,
        security_delete_trail_bucket=True, security_guardduty_delete_on_absent=True))
    assert not gone.failed, gone.stderr[-3000:]
    assert seed_inventory(clean_aws.endpoint_url) == {}
    assert [s for s in ecs.describe_services(cluster="local", services=["frontend", "backend"])["services"]
            if s["status"] != "INACTIVE"] == []
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert apigw.get_apis()["Items"] == [] and apigw.get_vpc_links()["Items"] == []
    assert waf.list_web_acls(Scope="REGIONAL")["WebACLs"] == []
    assert route53.list_hosted_zones()["HostedZones"] == [] and route53.list_health_checks()["HealthChecks"] == []
    assert acm.list_certificates()["CertificateSummaryList"] == []
    assert boto3_client("cloudtrail", clean_aws.endpoint_url).describe_trails()["trailList"] == []
    assert boto3_client("guardduty", clean_aws.endpoint_url).list_detectors()["DetectorIds"] == []
    assert boto3_client("sns", clean_aws.endpoint_url).list_topics()["Topics"] == []
    assert boto3_client("events", clean_aws.endpoint_url).list_rules()["Rules"] == []
    assert boto3_client("s3", clean_aws.endpoint_url).list_buckets()["Buckets"] == []
    # Secrets are scheduled for deletion (their recovery window), not gone at once: data is never lost.
    assert [s["Name"] for s in secretsmanager.list_secrets()["SecretList"] if not s.get("DeletedDate")] == []
    assert boto3_client("ecr", clean_aws.endpoint_url).describe_repositories()["repositories"] == []


def test_switching_the_api_on_moves_the_backend_before_its_public_route_goes(stack, clean_aws, ansible):
    """Make before break: with the API switched on for a running deployment, the public /api/* rule and
    target group stay (platform_defer_removals) until the backend runs behind the API's internal load
    balancer, then services.yml prunes them. Check mode predicts the layers it can and says where it stops."""
    off = ansible.playbook("playbooks/site.yml", extra_vars=dict(ansible.stack_vars, seed_api_enabled=False))
    assert not off.failed, off.stderr[-3000:]
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)

    def public_routes():
        (lb,) = [lb for lb in elbv2.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"] == "local-public"]
        listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        return sorted(c["PathPatternConfig"]["Values"][0] for li in listeners
                      for r in elbv2.describe_rules(ListenerArn=li["ListenerArn"])["Rules"] for c in r["Conditions"])

    assert public_routes() == ["/api/*"]

    # Check mode predicts the layers up to the network, which would first create the API's security
    # groups (internal_lb, vpc_link) that the later layers name; it says so and skips those layers.
    clean_aws.reset_counts()
    check = ansible.playbook("playbooks/site.yml", extra_vars=ansible.stack_vars, check=True)
    assert not check.failed, check.failures()
    assert clean_aws.requests()["writes"] == 0
    stops = [t["msg"] for t in check.task_results() if "Check mode stops predicting here" in str(t.get("msg"))]
    assert stops == ["Check mode stops predicting here: the network layer would first create security group "
                     "internal_lb, security group vpc_link, and the layers after it name those IDs, so they are "
                     "skipped. A real run creates them; after it, check mode predicts every layer."]
    on = ansible.playbook("playbooks/site.yml", extra_vars=ansible.stack_vars)
    assert not on.failed, on.failures()
    steps = actions(on)
    predicted = actions(check)
    assert predicted and steps[:len(predicted)] == predicted
    flat = [(task, a) for task, task_actions in steps for a in task_actions]
    moved = next(i for i, (_t, a) in enumerate(flat) if a.startswith("update service backend:") and "loadBalancers" in a)
    pruned = next(i for i, (_t, a) in enumerate(flat) if a.startswith("delete rule") and "/api/* -> local-backend" in a)
    dropped = next(i for i, (_t, a) in enumerate(flat) if a == "delete target group local-backend")
    assert moved < pruned < dropped, flat
    assert public_routes() == []
    assert "local-backend" not in {tg["TargetGroupName"] for tg in elbv2.describe_target_groups()["TargetGroups"]}

    again = ansible.playbook("playbooks/site.yml", extra_vars=ansible.stack_vars)
    assert not again.failed and again.changed == 0, actions(again)


def test_switching_the_api_off_moves_the_backend_then_removes_the_api_layer(stack, clean_aws, ansible):
    """Make before break the other way: with the API switched off on a running deployment, the network keeps
    the API's security groups (network_defer_removals) and the public ALB gains the /api/* route before the
    backend moves to it; then prune.yml removes the API's DNS record, the HTTP API with its VPC link and the
    internal load balancer, and last the security groups. The local AWS gives load balancers and VPC links
    network interfaces, as AWS does, so a group deleted under them is waited for and refused."""
    on = ansible.playbook("playbooks/site.yml", extra_vars=ansible.stack_vars)
    assert not on.failed, on.stderr[-3000:]
    off_vars = dict(ansible.stack_vars, seed_api_enabled=False)
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)
    apigw = boto3_client("apigatewayv2", clean_aws.endpoint_url)
    route53 = boto3_client("route53", clean_aws.endpoint_url)

    def group_tiers():
        return {g["GroupName"].rsplit("-", 1)[-1] for g in ec2.describe_security_groups()["SecurityGroups"]
                if g["GroupName"].startswith("local-main-")}

    assert {"internal_lb", "vpc_link"} <= group_tiers()

    # Check mode predicts up to the platform layer, which would first create the public backend target group.
    clean_aws.reset_counts()
    check = ansible.playbook("playbooks/site.yml", extra_vars=off_vars, check=True)
    assert not check.failed, check.failures()
    assert clean_aws.requests()["writes"] == 0
    stops = [t["msg"] for t in check.task_results() if "Check mode stops predicting here" in str(t.get("msg"))]
    assert len(stops) == 1 and "the platform layer would first create target group local-backend" in stops[0], stops
    off = ansible.playbook("playbooks/site.yml", extra_vars=off_vars)
    assert not off.failed, off.failures()
    steps, predicted = actions(off), actions(check)
    assert predicted and steps[:len(predicted)] == predicted
    flat = [a for _task, task_actions in steps for a in task_actions]

    def first(predicate):
        return next(i for i, a in enumerate(flat) if predicate(a))

    routed = first(lambda a: a.startswith("create rule") and "/api/* -> local-backend" in a)
    moved = first(lambda a: a.startswith("update service backend:") and "loadBalancers" in a)
    unnamed = first(lambda a: a.startswith("change record sets of") and "DELETE api.local.seed.example A" in a)
    api_gone = first(lambda a: a.startswith("delete HTTP API"))
    lb_gone = first(lambda a: a == "delete load balancer local-api-backend")
    groups_gone = first(lambda a: a.startswith("delete security group"))
    assert routed < moved < unnamed < api_gone < lb_gone < groups_gone, flat
    assert sorted(a for a in flat if a.startswith("delete security group")) == [
        "delete security group internal_lb", "delete security group vpc_link"]

    assert apigw.get_apis()["Items"] == [] and apigw.get_vpc_links()["Items"] == []
    assert apigw.get_domain_names()["Items"] == []
    assert [lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]] == ["local-public"]
    assert {"internal_lb", "vpc_link"}.isdisjoint(group_tiers())
    (zone,) = route53.list_hosted_zones()["HostedZones"]
    names = {r["Name"] for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]}
    assert "api.local.seed.example." not in names and "app.local.seed.example." in names
    (backend,) = boto3_client("ecs", clean_aws.endpoint_url).describe_services(
        cluster="local", services=["backend"])["services"]
    (public_backend,) = elbv2.describe_target_groups(Names=["local-backend"])["TargetGroups"]
    assert backend["loadBalancers"][0]["targetGroupArn"] == public_backend["TargetGroupArn"]

    clean_aws.reset_counts()
    again = ansible.playbook("playbooks/site.yml", extra_vars=off_vars)
    assert not again.failed and again.changed == 0, actions(again)
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]


def test_a_switch_off_stopped_halfway_is_finished_by_the_next_run(stack, clean_aws, ansible):
    """The API switched off, and the last step stopped: first by an interface of something else in the API's
    internal_lb group (the network waits, then fails having deleted nothing; the API is gone already), then
    as if killed after one of the two groups went. The next run removes what is left."""
    on = ansible.playbook("playbooks/site.yml", extra_vars=ansible.stack_vars)
    assert not on.failed, on.stderr[-3000:]
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    groups = {g["GroupName"].rsplit("-", 1)[-1]: g for g in ec2.describe_security_groups()["SecurityGroups"]
              if g["GroupName"].startswith("local-main-")}
    (subnet,) = ec2.describe_subnets(SubnetIds=[ec2.describe_network_interfaces(Filters=[
        {"Name": "group-id", "Values": [groups["internal_lb"]["GroupId"]]}])["NetworkInterfaces"][0]["SubnetId"]])[
        "Subnets"]
    foreign = ec2.create_network_interface(SubnetId=subnet["SubnetId"], Groups=[groups["internal_lb"]["GroupId"]],
                                           Description="someone else's")["NetworkInterface"]["NetworkInterfaceId"]
    off_vars = dict(ansible.stack_vars, seed_api_enabled=False, network_wait_timeout=3)
    stopped = ansible.playbook("playbooks/site.yml", extra_vars=off_vars)
    assert stopped.failed and "nothing was deleted" in str(stopped.failures()) and foreign in str(stopped.failures())
    apigw = boto3_client("apigatewayv2", clean_aws.endpoint_url)
    assert apigw.get_apis()["Items"] == [] and apigw.get_vpc_links()["Items"] == []

    # As a run killed between the two deletes leaves it: the rules naming the groups revoked, vpc_link gone.
    ec2.delete_network_interface(NetworkInterfaceId=foreign)
    for group in groups.values():
        for direction, key in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
            naming = [dict(p, UserIdGroupPairs=pairs) for p in group[key] if (pairs := [
                pair for pair in p.get("UserIdGroupPairs", []) if pair["GroupId"] in (
                    groups["internal_lb"]["GroupId"], groups["vpc_link"]["GroupId"])])]
            if naming:
                revoke = getattr(ec2, f"revoke_security_group_{direction}")
                revoke(GroupId=group["GroupId"], IpPermissions=[
                    {k: v for k, v in p.items() if k in ("IpProtocol", "FromPort", "ToPort", "UserIdGroupPairs")}
                    for p in naming])
    ec2.delete_security_group(GroupId=groups["vpc_link"]["GroupId"])

    finished = ansible.playbook("playbooks/site.yml", extra_vars=off_vars)
    assert not finished.failed, finished.failures()
    flat = [a for _task, task_actions in actions(finished) for a in task_actions]
    assert "delete security group internal_lb" in flat and not any("vpc_link" in a for a in flat), flat
    left = {g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert not {"local-main-internal_lb", "local-main-vpc_link"} & left
    again = ansible.playbook("playbooks/site.yml", extra_vars=off_vars)
    assert not again.failed and again.changed == 0, actions(again)

    # A teardown with the API switched on again in the inventory: the API's groups are gone, and removing
    # the API needs none of them.
    gone = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(
        ansible.stack_vars, seed_confirm_teardown="local", seed_teardown_delete_logs=True))
    assert not gone.failed, gone.failures()
    assert seed_inventory(clean_aws.endpoint_url) == {}


def test_teardown_removes_an_api_switched_off_but_still_there(stack, clean_aws, ansible):
    """Switching the API off finishes in site.yml's last step; a teardown in between (the API still there,
    seed_api_enabled already false) removes it too, then the network (whose groups it used)."""
    on = ansible.playbook("playbooks/site.yml", extra_vars=ansible.stack_vars)
    assert not on.failed, on.stderr[-3000:]
    gone = ansible.playbook("playbooks/teardown.yml", extra_vars=dict(
        ansible.stack_vars, seed_api_enabled=False, seed_confirm_teardown="local", seed_teardown_delete_logs=True,
        network_wait_timeout=5))
    assert not gone.failed, gone.failures()
    apigw = boto3_client("apigatewayv2", clean_aws.endpoint_url)
    assert apigw.get_apis()["Items"] == [] and apigw.get_vpc_links()["Items"] == []
    assert apigw.get_domain_names()["Items"] == []
    assert boto3_client("elbv2", clean_aws.endpoint_url).describe_load_balancers()["LoadBalancers"] == []
    assert seed_inventory(clean_aws.endpoint_url) == {}


def test_an_app_dropped_from_seed_apps_goes_once_the_others_rolled_out(stack, clean_aws, ansible):
    """An app renamed in seed_apps (worker -> worker2, same target group): the new service rolls out first,
    then the old one (tag seed:owner=seed_apps) is removed, and check mode predicts both. A service of the
    cluster that seed_apps never declared stays. With seed_remove_dropped_services=false a dropped app is
    only reported, and the target group it uses stays even once the platform no longer wants it; removed,
    the service goes before its rule and target group."""
    inventory = yaml.safe_load((REPO_ROOT / "inventories/local/group_vars/all/apps.yml").read_text())
    declared = inventory["seed_apps"]
    routed = {"platform_target_groups": [{"name": "local-frontend", "port": 8080, "health_check": {"path": "/health"}},
                                         {"name": "local-worker", "port": 8000, "health_check": {"path": "/health"}}],
              "platform_rules": [{"target_group": "local-worker", "path_patterns": ["/worker/*"]}]}

    def with_worker(name):
        worker = {"name": name, "image": "seed/backend", "port": 8000, "target_group": "local-worker"}
        return dict(ansible.stack_vars, seed_apps=declared + [worker], **routed)

    first = ansible.playbook("playbooks/site.yml", extra_vars=with_worker("worker"))
    assert not first.failed, first.failures()
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    elbv2 = boto3_client("elbv2", clean_aws.endpoint_url)

    def active():
        arns = ecs.list_services(cluster="local")["serviceArns"]
        found = ecs.describe_services(cluster="local", services=arns, include=["TAGS"])["services"] if arns else []
        return {s["serviceName"]: {t["key"]: t["value"] for t in s.get("tags", [])} for s in found
                if s["status"] == "ACTIVE"}

    def worker_group():
        return [tg["TargetGroupName"] for tg in elbv2.describe_target_groups()["TargetGroups"]
                if tg["TargetGroupName"] == "local-worker"]

    assert {name: tags.get("seed:owner") for name, tags in active().items()} == {
        "frontend": "seed_apps", "backend": "seed_apps", "worker": "seed_apps"}
    # Another layer's service in the same cluster (made with ecs_service, without this owner).
    (worker,) = ecs.describe_services(cluster="local", services=["worker"])["services"]
    ecs.create_service(cluster="local", serviceName="other", taskDefinition=worker["taskDefinition"], desiredCount=1,
                       launchType="FARGATE", networkConfiguration=worker["networkConfiguration"],
                       tags=[{"key": "seed:managed-by", "value": "seed.aws_migration"},
                             {"key": "seed:component", "value": "ecs-service"}])

    clean_aws.reset_counts()
    check = ansible.playbook("playbooks/site.yml", extra_vars=with_worker("worker2"), check=True)
    assert not check.failed, check.failures()
    assert clean_aws.requests()["writes"] == 0
    renamed = ansible.playbook("playbooks/site.yml", extra_vars=with_worker("worker2"))
    assert not renamed.failed, renamed.failures()
    steps = actions(renamed)
    assert steps == actions(check)
    flat = [a for _task, task_actions in steps for a in task_actions]
    assert flat.index("create service worker2 (1 tasks)") < flat.index("delete service worker"), flat
    assert "deregister task definition local-worker:1" in flat
    deletes = [a for a in flat if a.startswith("delete")]
    assert all(a == "delete service worker" or a.endswith(("local-worker-execution", "local-worker-task"))
               for a in deletes), deletes
    assert sorted(active()) == ["backend", "frontend", "other", "worker2"]

    # worker2 dropped too, and its target group and rule, but the service is kept (only reported): the
    # public load balancer keeps the rule and target group it is registered in. Nothing is written.
    clean_aws.reset_counts()
    kept = ansible.playbook("playbooks/site.yml", extra_vars=dict(ansible.stack_vars, seed_apps=declared,
                                                                  seed_remove_dropped_services=False))
    assert not kept.failed and kept.changed == 0, actions(kept)
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    reports = [t["msg"] for t in kept.task_results() if str(t.get("msg", "")).startswith("Kept")]
    assert reports == ["Kept (seed_remove_dropped_services is false): worker2 - dropped from the app list but "
                       "still running in cluster local. The public load balancer keeps what it would remove "
                       "(https rule 10: path /worker/* -> local-worker, local-worker) while a dropped service is "
                       "kept."], reports
    assert sorted(active()) == ["backend", "frontend", "other", "worker2"] and worker_group() == ["local-worker"]

    # Removed (the default): the service goes, then the rule and the target group it used.
    gone = ansible.playbook("playbooks/site.yml", extra_vars=dict(ansible.stack_vars, seed_apps=declared))
    assert not gone.failed, gone.failures()
    flat = [a for _task, task_actions in actions(gone) for a in task_actions]
    assert (flat.index("delete service worker2") < min(i for i, a in enumerate(flat) if a.startswith("delete rule"))
            < flat.index("delete target group local-worker")), flat
    assert sorted(active()) == ["backend", "frontend", "other"] and worker_group() == []


def test_site_check_mode_on_an_empty_account_predicts_what_it_can(stack, clean_aws, ansible):
    """On an empty account the network would be created first: check mode predicts the security, network,
    registry, secrets and DNS layers exactly (no write), says why it stops, and skips the layers that
    name the network's IDs."""
    check = ansible.playbook("playbooks/site.yml", extra_vars=ansible.stack_vars, check=True)
    assert not check.failed, check.failures()
    assert clean_aws.requests()["writes"] == 0
    assert any("Check mode stops predicting here: the network layer would first create network main"
               in str(t.get("msg")) for t in check.task_results())
    predicted = actions(check)
    flat = [a for _task, acts in predicted for a in acts]
    assert any(a.startswith("create vpc ") for a in flat) and any(a.startswith("create repository seed/") for a in flat)
    assert not any(a.startswith(("create service", "create load balancer")) for a in flat)
    applied = ansible.playbook("playbooks/site.yml", extra_vars=ansible.stack_vars)
    assert not applied.failed, applied.stderr[-3000:]
    assert actions(applied)[:len(predicted)] == predicted


def test_teardown_needs_the_environment_named(stack, clean_aws, ansible):
    result = ansible.playbook("playbooks/teardown.yml", extra_vars=ansible.stack_vars)
    assert result.failed
    assert any("seed_confirm_teardown=local" in str(t.get("msg")) for t in result.task_results())
    assert clean_aws.requests()["total"] == 0


def test_network_layer_check_mode_on_an_empty_account(clean_aws, ansible):
    check = ansible.playbook("playbooks/network.yml", check=True)
    assert not check.failed and clean_aws.requests()["writes"] == 0
    applied = ansible.playbook("playbooks/network.yml")
    assert [t["actions"] for t in applied.task_results() if t.get("actions")] == \
        [t["actions"] for t in check.task_results() if t.get("actions")]
    # inventories/local: one network, 2 zones, NAT per zone, database tier, 4 interface + S3 endpoints, flow
    # logs, and the HTTP API's two groups (internal_lb, vpc_link)
    expected = expected_network(azs=2, nat=2, tiers=3, endpoints=5, interface=True, flow_logs=True)
    expected["security_group"] += 2
    assert seed_inventory(clean_aws.endpoint_url) == expected


def test_preflight_explains_a_stopped_local_aws(ansible):
    result = ansible.playbook("playbooks/site.yml", extra_vars={"seed_aws_endpoint_url": ""})
    assert result.failed
    assert any("make local-up" in str(t.get("msg")) for t in result.task_results())
