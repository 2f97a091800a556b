"""The load balancer against the local AWS over HTTP, with requests counted at the server.

The rhythm of every step: check mode (prediction, zero writes), apply (the same actions, one write
request per action), re-apply (changed=false, zero writes), then a direct look at what exists.
The network comes from seed.aws_migration.vpc_network (public subnets, the lb security group).
"""

from __future__ import annotations

import json

import pytest

from support.converge import converge as shared_converge
from support.servers import boto3_client

NETWORK = dict(name="lbnet", environment="it", cidr="10.42.0.0/16", nat_mode="none")
HEALTH = {"path": "/healthz"}


def converge(ansible, aws, args, module="load_balancer"):
    return shared_converge(ansible, aws, args, module)


@pytest.fixture
def network(clean_aws, ansible):
    result = ansible.module("vpc_network", NETWORK)
    assert not result.get("failed"), result.get("msg")
    return result["network"]


def lb_args(network, **extra):
    args = dict(name="itest-alb", subnets=network["subnet_ids"]["public"],
                security_groups=[network["security_groups"]["lb"]],
                target_groups=[{"name": "itest-web", "port": 8080, "health_check": HEALTH}],
                default_target_group="itest-web", tags={"team": "platform"})
    args.update(extra)
    return args


def elbv2_state(endpoint_url):
    """What really exists: load balancers, target groups, and listeners with their rules, by port."""
    client = boto3_client("elbv2", endpoint_url)
    balancers = client.describe_load_balancers()["LoadBalancers"]
    listeners = {}
    for lb in balancers:
        for listener in client.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            rules = client.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
            listeners[listener["Port"]] = dict(listener, Rules=[r for r in rules if not r["IsDefault"]])
    return {"load_balancers": balancers, "target_groups": client.describe_target_groups()["TargetGroups"],
            "listeners": listeners}


def test_lifecycle(clean_aws, ansible, network):
    # 1. HTTP only, one target group as the frontend.
    args = lb_args(network)
    created = converge(ansible, clean_aws, args)
    assert created["actions"] == [
        "create load balancer itest-alb (internet-facing, 2 subnets)",
        "create target group itest-web (HTTP:8080, ip)",
        "set target group itest-web deregistration_delay 300 -> 30",
        "create listener http (HTTP:80) -> forward to itest-web",
    ]
    lb = created["load_balancer"]
    assert lb["dns_name"] and lb["canonical_hosted_zone_id"] and lb["vpc_id"] == network["vpc_id"]
    assert lb["state"] == "active" and lb["scheme"] == "internet-facing"
    assert sorted(lb["subnets"]) == sorted(network["subnet_ids"]["public"])
    assert lb["security_groups"] == [network["security_groups"]["lb"]]
    assert set(lb["listeners"]) == {"http"} and set(lb["target_groups"]) == {"itest-web"} and lb["rules"] == []
    after = created["diff"]["after"]
    assert after["target_groups"]["itest-web"]["health_check"] == {
        "path": "/healthz", "interval": 15, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 3,
        "matcher": "200-399"}
    state = elbv2_state(clean_aws.endpoint_url)
    assert len(state["load_balancers"]) == 1 and [tg["TargetGroupName"] for tg in state["target_groups"]] == [
        "itest-web"]
    assert set(state["listeners"]) == {80}

    # The info module reads back the same facts and a managed view equal to what was promised.
    info = ansible.module("load_balancer_info", {"names": ["itest-alb", "no-such-alb"]})
    assert len(info["load_balancers"]) == 1
    found = info["load_balancers"][0]
    assert found.pop("managed") == after
    assert found == lb
    assert [b["name"] for b in ansible.module("load_balancer_info", {})["load_balancers"]] == ["itest-alb"]

    # 2. A second target group and a path rule; its priority is derived from the list order.
    api = {"name": "itest-api", "port": 8000, "health_check": {"path": "/api/health", "matcher": "200"}}
    args = lb_args(network, target_groups=args["target_groups"] + [api],
                   rules=[{"target_group": "itest-api", "path_patterns": ["/api/*"]}])
    added = converge(ansible, clean_aws, args)
    assert added["actions"] == [
        "create target group itest-api (HTTP:8000, ip)",
        "set target group itest-api deregistration_delay 300 -> 30",
        "create rule 10 on http: path /api/* -> itest-api",
    ]
    assert [(r["listener"], r["priority"], r["target_group"]) for r in added["load_balancer"]["rules"]] == [
        ("http", 10, "itest-api")]

    # 3. The health check changes in place.
    args["target_groups"][1] = dict(api, health_check={"path": "/api/ready", "matcher": "200", "interval": 30})
    changed = converge(ansible, clean_aws, args)
    assert changed["actions"] == [
        "modify target group itest-api health check: path /api/health -> /api/ready, interval 15 -> 30"]
    tgs = {tg["TargetGroupName"]: tg for tg in elbv2_state(clean_aws.endpoint_url)["target_groups"]}
    assert tgs["itest-api"]["HealthCheckPath"] == "/api/ready"
    assert tgs["itest-api"]["TargetGroupArn"] == added["load_balancer"]["target_groups"]["itest-api"]

    # 4. A host rule after the path rule.
    args["rules"] = args["rules"] + [{"target_group": "itest-web", "host_headers": ["admin.example.com"]}]
    host = converge(ansible, clean_aws, args)
    assert host["actions"] == ["create rule 20 on http: host admin.example.com -> itest-web"]

    # 5. Removing the path rule: it goes, the host rule moves up to the priority the list now derives.
    args["rules"] = args["rules"][1:]
    removed = converge(ansible, clean_aws, args)
    assert removed["actions"] == [
        "delete rule 10 on http: path /api/* -> itest-api",
        "set priority of rule on http (host admin.example.com -> itest-web) 20 -> 10",
    ]
    rules = elbv2_state(clean_aws.endpoint_url)["listeners"][80]["Rules"]
    assert [(r["Priority"], r["RuleArn"]) for r in rules] == [("10", host["load_balancer"]["rules"][1]["arn"])]

    # 6. With a certificate: HTTPS:443 serves, with the rules; HTTP:80 redirects with a 301.
    # moto's ACM leaves a requested certificate PENDING_VALIDATION and moto's elbv2 takes it anyway;
    # AWS needs an ISSUED one (validated, or imported).
    acm = boto3_client("acm", clean_aws.endpoint_url)
    certificate = acm.request_certificate(DomainName="shop.example.com")["CertificateArn"]
    args["certificate_arn"] = certificate
    secure = converge(ansible, clean_aws, args)
    assert secure["actions"] == [
        "create listener https (HTTPS:443) -> forward to itest-web",
        "create rule 10 on https: host admin.example.com -> itest-web",
        "modify listener http: default action forward to itest-web -> redirect to HTTPS:443 (HTTP_301)",
        "delete rule 10 on http: host admin.example.com -> itest-web",
    ]
    listeners = elbv2_state(clean_aws.endpoint_url)["listeners"]
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == certificate
    assert listeners[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert [r["Priority"] for r in listeners[443]["Rules"]] == ["10"] and listeners[80]["Rules"] == []
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert {k: redirect["RedirectConfig"][k] for k in ("Protocol", "Port", "StatusCode")} == {
        "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    assert set(secure["load_balancer"]["listeners"]) == {"http", "https"}

    # 7. Deletion protection: absent refuses, naming the field, and writes nothing: when the task says
    # deletion_protection: true (AWS's flag is still off here)...
    clean_aws.reset_counts()
    refused = ansible.module("load_balancer", {"name": "itest-alb", "state": "absent", "deletion_protection": True})
    assert refused.get("failed") and refused["msg"].startswith(
        "deletion_protection: load balancer itest-alb is protected by deletion_protection: true"), refused.get("msg")
    assert clean_aws.requests()["writes"] == 0
    # ... and when AWS's flag is on...
    protected = converge(ansible, clean_aws, dict(args, deletion_protection=True, idle_timeout=120))
    assert protected["actions"] == [
        "set load balancer attributes: deletion_protection false -> true, idle_timeout 60 -> 120"]
    clean_aws.reset_counts()
    refused = ansible.module("load_balancer", {"name": "itest-alb", "state": "absent"})
    assert refused.get("failed") and refused["msg"].startswith("deletion_protection:"), refused.get("msg")
    assert "force_absent" in refused["msg"]
    assert clean_aws.requests()["writes"] == 0
    # ... unless forced: the protection goes first (moto's DeleteLoadBalancer ignores the protection;
    # AWS refuses with OperationNotPermitted, so the order is what matters).
    gone = converge(ansible, clean_aws, {"name": "itest-alb", "state": "absent", "force_absent": True})
    assert gone["actions"] == [
        "disable deletion protection on load balancer itest-alb",
        "delete load balancer itest-alb",
        "delete target group itest-api",
        "delete target group itest-web",
    ]
    assert gone["load_balancer"] == {}
    assert elbv2_state(clean_aws.endpoint_url) == {"load_balancers": [], "target_groups": [], "listeners": {}}
    assert ansible.module("load_balancer_info", {"names": ["itest-alb"]})["load_balancers"] == []
    # Once it is gone there is nothing to protect: the task run again (a teardown run again) changes nothing.
    clean_aws.reset_counts()
    again = ansible.module("load_balancer", {"name": "itest-alb", "state": "absent", "deletion_protection": True})
    assert not again.get("failed") and not again["changed"], again
    assert clean_aws.requests()["writes"] == 0


def test_defer_removals_keeps_routing_until_a_run_without_it(clean_aws, ansible, network):
    """Make before break: the /api/* rule and its target group stay (and are reported) while
    defer_removals is on, a new rule still converges, and the next run without it removes them."""
    api = {"name": "itest-api", "port": 8000, "health_check": HEALTH}
    web = {"name": "itest-web", "port": 8080, "health_check": HEALTH}
    converge(ansible, clean_aws, lb_args(network, target_groups=[web, api], rules=[
        {"target_group": "itest-api", "path_patterns": ["/api/*"]}]))

    deferred = converge(ansible, clean_aws, lb_args(network, target_groups=[web], defer_removals=True, rules=[
        {"target_group": "itest-web", "path_patterns": ["/static/*"], "priority": 20}]))
    assert deferred["actions"] == ["create rule 20 on http: path /static/* -> itest-web"]
    assert deferred["deferred_removals"] == {"rules": ["http rule 10: path /api/* -> itest-api"],
                                             "target_groups": ["itest-api"]}
    assert [r["priority"] for r in deferred["diff"]["after"]["listeners"]["http"]["rules"]] == [10, 20]
    assert set(deferred["diff"]["after"]["target_groups"]) == {"itest-web", "itest-api"}
    state = elbv2_state(clean_aws.endpoint_url)
    assert sorted(tg["TargetGroupName"] for tg in state["target_groups"]) == ["itest-api", "itest-web"]
    assert sorted(r["Conditions"][0]["PathPatternConfig"]["Values"][0] for r in state["listeners"][80]["Rules"]) == ["/api/*", "/static/*"]

    pruned = converge(ansible, clean_aws, lb_args(network, target_groups=[web], rules=[
        {"target_group": "itest-web", "path_patterns": ["/static/*"], "priority": 20}]))
    assert pruned["actions"] == ["delete rule 10 on http: path /api/* -> itest-api", "delete target group itest-api"]
    assert pruned["deferred_removals"] == {"rules": [], "target_groups": []}
    state = elbv2_state(clean_aws.endpoint_url)
    assert [tg["TargetGroupName"] for tg in state["target_groups"]] == ["itest-web"]
    assert [r["Conditions"][0]["PathPatternConfig"]["Values"][0] for r in state["listeners"][80]["Rules"]] == ["/static/*"]


def test_https_from_the_start_and_back_to_http(clean_aws, ansible, network):
    acm = boto3_client("acm", clean_aws.endpoint_url)
    certificate = acm.request_certificate(DomainName="app.example.com")["CertificateArn"]
    api = {"name": "itest-api", "port": 8000, "health_check": HEALTH}
    rules = [{"target_group": "itest-api", "path_patterns": ["/api/*", "/v2/*"]},
             {"target_group": "itest-api", "host_headers": ["api.example.com"], "priority": 5}]
    args = lb_args(network, certificate_arn=certificate, target_groups=lb_args(network)["target_groups"] + [api],
                   rules=rules, scheme="internal")
    created = converge(ansible, clean_aws, args)
    assert [a for a in created["actions"] if "listener" in a] == [
        "create listener https (HTTPS:443) -> forward to itest-web",
        "create listener http (HTTP:80) -> redirect to HTTPS:443 (HTTP_301)",
    ]
    assert sorted((r["priority"], r["listener"]) for r in created["load_balancer"]["rules"]) == [
        (5, "https"), (10, "https")]

    # Rules swap places and a target group changes: in place, the same rule ARNs.
    swapped = [dict(rules[0], priority=5, target_group="itest-web"), dict(rules[1], priority=10)]
    moved = converge(ansible, clean_aws, dict(args, rules=swapped))
    assert moved["actions"] == [
        "modify rule 10 on https: path /api/*,/v2/* -> itest-web (was path /api/*,/v2/* -> itest-api)",
        "set priority of rule on https (host api.example.com -> itest-api) 5 -> 50000",
        "set priority of rule on https (path /api/*,/v2/* -> itest-web) 10 -> 5",
        "set priority of rule on https (host api.example.com -> itest-api) 50000 -> 10",
    ]
    assert sorted(r["arn"] for r in moved["load_balancer"]["rules"]) == sorted(
        r["arn"] for r in created["load_balancer"]["rules"])

    # Without the certificate the rules come back to HTTP and the HTTPS listener goes; the target
    # group no longer listed is deleted once nothing routes to it.
    plain = dict(args, rules=[dict(rules[0], target_group="itest-web")], target_groups=lb_args(network)[
        "target_groups"])
    plain.pop("certificate_arn")
    back = converge(ansible, clean_aws, plain)
    assert back["actions"] == [
        "modify listener http: default action redirect to HTTPS:443 (HTTP_301) -> forward to itest-web",
        "create rule 10 on http: path /api/*,/v2/* -> itest-web",
        "delete listener https (HTTPS:443)",
        "delete target group itest-api",
    ]
    state = elbv2_state(clean_aws.endpoint_url)
    assert set(state["listeners"]) == {80}
    assert [tg["TargetGroupName"] for tg in state["target_groups"]] == ["itest-web"]

    converge(ansible, clean_aws, {"name": "itest-alb", "state": "absent"})
    assert elbv2_state(clean_aws.endpoint_url) == {"load_balancers": [], "target_groups": [], "listeners": {}}


# Account of the Elastic Load Balancing service in us-east-1: the bucket policy lets it write the logs.
ELB_ACCOUNT_US_EAST_1 = "127311923021"


def access_log_bucket(endpoint_url, bucket, prefix):
    """A bucket whose policy lets the load balancer write its logs under ``<prefix>/AWSLogs/<account>/``."""
    s3 = boto3_client("s3", endpoint_url)
    s3.create_bucket(Bucket=bucket)
    account = boto3_client("sts", endpoint_url).get_caller_identity()["Account"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ELB_ACCOUNT_US_EAST_1}:root"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{prefix}/AWSLogs/{account}/*"}]}))


def access_log_attributes(endpoint_url, arn):
    client = boto3_client("elbv2", endpoint_url)
    attributes = client.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    return {a["Key"]: a["Value"] for a in attributes if a["Key"].startswith("access_logs.s3.")}


def test_access_logs_to_a_bucket(clean_aws, ansible, network):
    """Access logs on, to another prefix, and off: each predicted in check mode, one write per action,
    and a re-apply that writes nothing (the converge rhythm)."""
    access_log_bucket(clean_aws.endpoint_url, "itest-alb-logs", "alb")
    created = converge(ansible, clean_aws, lb_args(network))
    arn = created["load_balancer"]["arn"]
    assert created["diff"]["after"]["load_balancer"]["access_logs"] == {"enabled": False}

    logs = {"enabled": True, "bucket": "itest-alb-logs", "prefix": "alb"}
    enabled = converge(ansible, clean_aws, lb_args(network, access_logs=logs))
    assert enabled["actions"] == [
        "set load balancer attributes: access_logs.bucket - -> itest-alb-logs, access_logs.enabled false -> true, "
        "access_logs.prefix - -> alb"]
    assert enabled["writes_by_action"] == {"elasticloadbalancing:ModifyLoadBalancerAttributes": 1}
    assert enabled["diff"]["before"]["load_balancer"]["access_logs"] == {"enabled": False}
    assert enabled["diff"]["after"]["load_balancer"]["access_logs"] == logs
    assert access_log_attributes(clean_aws.endpoint_url, arn) == {
        "access_logs.s3.enabled": "true", "access_logs.s3.bucket": "itest-alb-logs", "access_logs.s3.prefix": "alb"}

    # Another prefix: the action names the prefix only; the request carries the whole setting (AWS takes the
    # three attributes together).
    moved = converge(ansible, clean_aws, lb_args(network, access_logs=dict(logs, prefix="alb/public")))
    assert moved["actions"] == ["set load balancer attributes: access_logs.prefix alb -> alb/public"]
    assert moved["writes_by_action"] == {"elasticloadbalancing:ModifyLoadBalancerAttributes": 1}
    assert access_log_attributes(clean_aws.endpoint_url, arn)["access_logs.s3.prefix"] == "alb/public"

    disabled = converge(ansible, clean_aws, lb_args(network, access_logs={"enabled": False}))
    assert disabled["actions"] == ["set load balancer attributes: access_logs.enabled true -> false"]
    assert disabled["diff"]["after"]["load_balancer"]["access_logs"] == {"enabled": False}
    assert access_log_attributes(clean_aws.endpoint_url, arn)["access_logs.s3.enabled"] == "false"
    # No access_logs option at all is the same as disabled: nothing to do.
    clean_aws.reset_counts()
    again = ansible.module("load_balancer", lb_args(network))
    assert again["changed"] is False and clean_aws.requests()["writes"] == 0
    converge(ansible, clean_aws, {"name": "itest-alb", "state": "absent"})


def test_what_cannot_change_in_place_is_refused(clean_aws, ansible, network):
    args = lb_args(network)
    converge(ansible, clean_aws, args)
    clean_aws.reset_counts()
    result = ansible.module("load_balancer", dict(args, target_groups=[dict(args["target_groups"][0], port=9090)]))
    assert result.get("failed") and result["msg"].startswith("target_groups[0].port:"), result.get("msg")
    result = ansible.module("load_balancer", dict(args, scheme="internal"))
    assert result.get("failed") and result["msg"].startswith("scheme:"), result.get("msg")
    assert clean_aws.requests()["writes"] == 0
    converge(ansible, clean_aws, {"name": "itest-alb", "state": "absent"})


def test_a_new_load_balancer_refuses_a_target_group_of_another_vpc_before_any_write(clean_aws, ansible, network):
    """A target group the spec names that already exists (adopted) in another VPC than the subnets': AWS would
    refuse it only at the listener, after the load balancer was made. The run reads the subnets' VPC (one
    DescribeSubnets, only in this case) and refuses it first."""
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    other = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    boto3_client("elbv2", clean_aws.endpoint_url).create_target_group(
        Name="itest-web", Protocol="HTTP", Port=8080, VpcId=other, TargetType="ip")
    for check in (True, False):
        clean_aws.reset_counts()
        refused = ansible.module("load_balancer", lb_args(network), check=check)
        assert refused.get("failed") and refused["msg"].startswith("target_groups[0].name: target group itest-web "
                                                                   f"is in {other}"), refused.get("msg")
        assert network["vpc_id"] in refused["msg"]
        assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    assert boto3_client("elbv2", clean_aws.endpoint_url).describe_load_balancers()["LoadBalancers"] == []


BAD_TG = {"name": "web", "port": 8080}


@pytest.mark.parametrize("args, field, also", [
    (dict(target_groups=[dict(BAD_TG, health_check={"path": "healthz"})]), "target_groups[0].health_check.path",
     None),
    (dict(target_groups=[dict(BAD_TG, port=70000)]), "target_groups[0].port", None),
    (dict(target_groups=[dict(BAD_TG, name="x" * 33)]), "target_groups[0].name", None),
    (dict(target_groups=[BAD_TG], rules=[{"target_group": "api", "path_patterns": ["/api/*"]}]),
     "rules[0].target_group", None),
    (dict(target_groups=[BAD_TG], default_target_group="api"), "default_target_group", None),
    (dict(target_groups=[BAD_TG], rules=[{"target_group": "web", "path_patterns": ["/api/*"]},
                                         {"target_group": "web", "path_patterns": ["/v1/*", "/api/*"]}]),
     "rules[1]", "rules[0]"),
    (dict(target_groups=[BAD_TG], rules=[{"target_group": "web", "host_headers": ["a.example.com"]},
                                         {"target_group": "web", "host_headers": ["A.example.com"]}]),
     "rules[1]", "rules[0]"),
    (dict(target_groups=[BAD_TG], rules=[{"target_group": "web", "path_patterns": ["/a"], "priority": 7},
                                         {"target_group": "web", "path_patterns": ["/b"], "priority": 7}]),
     "rules[1].priority", "rules[0]"),
    (dict(subnets=["subnet-0123456789abcdef0"]), "subnets", None),
    (dict(name="a-load-balancer-name-that-is-too-long"), "name", None),
    (dict(wait_timeout=-1), "wait_timeout", None),
    (dict(state="absent", wait_timeout=-1), "wait_timeout", None),
    (dict(certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/x", ssl_policy="TLS13-1-2-2021-06"),
     "ssl_policy", "ELBSecurityPolicy-"),
    (dict(access_logs={"enabled": True, "bucket": "logs", "prefix": "/alb"}), "access_logs.prefix", None),
    (dict(access_logs={"enabled": True, "bucket": "logs", "prefix": "alb/AWSLogs"}), "access_logs.prefix",
     "AWSLogs"),
])
def test_bad_input_fails_before_any_request(clean_aws, ansible, args, field, also):
    clean_aws.reset_counts()
    base = dict(name="bad", subnets=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"])
    result = ansible.module("load_balancer", dict(base, **args))
    assert result.get("failed"), result
    assert result["msg"].startswith(f"{field}:"), result["msg"]
    assert also is None or also in result["msg"], result["msg"]
    assert clean_aws.requests()["total"] == 0, clean_aws.requests()["by_action"]


# --- the platform role around the load balancer ----------------------------------------------------
def test_platform_check_mode_with_a_web_acl_before_the_load_balancer_exists(clean_aws, ansible):
    """The local inventory puts a web ACL on the public load balancer (platform_web_acl.state: present). With
    the network in place and no load balancer yet, playbooks/platform.yml --check predicts the cluster, the
    load balancer and the web ACL, says that the association is not predicted, and writes nothing; the real
    run then does what was predicted, plus the association."""
    network = ansible.playbook("playbooks/network.yml")
    assert not network.failed, network.failures()

    clean_aws.reset_counts()
    check = ansible.playbook("playbooks/platform.yml", check=True)
    assert not check.failed, check.failures()
    assert clean_aws.requests()["writes"] == 0, clean_aws.requests()["writes_by_action"]
    predicted = {t["_task"]: t["actions"] for t in check.task_results() if t.get("actions")}
    waf_task = "seed.aws_migration.platform : Keep the WAF web ACL of the public load balancer"
    assert [a.split(" (")[0] for a in predicted[waf_task]] == ["create web ACL local-public-waf"]
    assert [t["msg"] for t in check.task_results() if "is not predicted" in str(t.get("msg"))] == [
        "Check mode: load balancer local-public does not exist yet (this run would create it), so the association "
        "of web ACL local-public-waf with it is not predicted; a real run associates it."]

    applied = ansible.playbook("playbooks/platform.yml")
    assert not applied.failed, applied.failures()
    done = {t["_task"]: t["actions"] for t in applied.task_results() if t.get("actions")}
    lb_arn = next(t for t in applied.task_results() if t["_task"].endswith(" : Keep the public load balancer"))[
        "load_balancer"]["arn"]
    assert done[waf_task] == predicted[waf_task] + [f"associate web ACL local-public-waf with {lb_arn}"]
    assert {k: v for k, v in done.items() if k != waf_task} == {k: v for k, v in predicted.items() if k != waf_task}
    waf = boto3_client("wafv2", clean_aws.endpoint_url)
    assert waf.get_web_acl_for_resource(ResourceArn=lb_arn)["WebACL"]["Name"] == "local-public-waf"

    # Once the load balancer exists, check mode predicts everything: nothing to do, nothing left out.
    clean_aws.reset_counts()
    again = ansible.playbook("playbooks/platform.yml", check=True)
    assert not again.failed and again.changed == 0, again.failures()
    assert clean_aws.requests()["writes"] == 0
    assert not any("is not predicted" in str(t.get("msg")) for t in again.task_results())
