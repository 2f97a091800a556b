"""http_api against the local AWS (moto 5.2.5 + tools/moto_fidelity_apigatewayv2.py) over HTTP.

moto lacks DeleteRouteSettings, DeleteAccessLogSettings, GetAuthorizers and UpdateApiMapping (UpdateStage and
UpdateDomainName are added by the fidelity patch): the changes that need them (per-route throttling removed,
removing access logs or an override) are tested with recorded responses in
tests/unit/plugins/modules/test_http_api.py.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support.converge import converge
from support.servers import boto3_client

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b0f3f0c-1111-2222-3333-444455556666"


@pytest.fixture
def backend(clean_aws):
    """Two private subnets, a security group and an internal ALB with an HTTP listener (made with boto3)."""
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="it-api-link", Description="vpc link", VpcId=vpc)["GroupId"]
    elb = boto3_client("elbv2", clean_aws.endpoint_url)
    lb = elb.create_load_balancer(Name="it-api-backend", Subnets=subnets, SecurityGroups=[sg], Scheme="internal",
                                  Type="application")["LoadBalancers"][0]
    tg = elb.create_target_group(Name="it-api-backend", Protocol="HTTP", Port=8080, VpcId=vpc,
                                 TargetType="ip")["TargetGroups"][0]
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    return {"subnets": subnets, "sg": sg, "listener": listener["Listeners"][0]["ListenerArn"],
            "scheme": lb["Scheme"]}


def full_args(backend, **extra):
    args = {
        "name": "it-api",
        "description": "shop API",
        "vpc_link": {"subnets": backend["subnets"], "security_groups": [backend["sg"]]},
        "integration": {"listener_arn": backend["listener"], "timeout_ms": 10000,
                        "request_parameters": {"overwrite:path": "$request.path"}},
        "authorizer": {"issuer": ISSUER, "audience": ["shop-web"]},
        "routes": [{"key": "ANY /{proxy+}", "scopes": ["shop/read"]},
                   {"key": "GET /health", "authorization": "NONE",
                    "throttling": {"burst_limit": 10, "rate_limit": 5}},
                   {"key": "POST /admin/{item}", "authorization": "AWS_IAM"}],
        "cors": {"allow_origins": ["https://shop.example.com"], "allow_methods": ["GET", "POST"],
                 "allow_headers": ["Authorization"], "max_age": 300},
        "stage": {"throttling": {"burst_limit": 200, "rate_limit": 100},
                  "access_log_group": "/seed/it-api/access", "access_log_retention_days": 30},
        "custom_domain": {"domain_name": "api.shop.example.com", "certificate_arn": CERT},
        "tags": {"team": "shop"},
    }
    args.update(extra)
    return args


def apigw(clean_aws):
    return boto3_client("apigatewayv2", clean_aws.endpoint_url)


def test_full_api_lifecycle(clean_aws, ansible, backend):
    assert backend["scheme"] == "internal"
    args = full_args(backend)
    created = converge(ansible, clean_aws, args, "http_api")
    assert created["actions"] == [
        "create VPC link it-api",
        "create HTTP API it-api",
        "create JWT authorizer it-api-jwt on HTTP API it-api",
        "create private integration on HTTP API it-api",
        "create route ANY /{proxy+} on HTTP API it-api",
        "create route GET /health on HTTP API it-api",
        "create route POST /admin/{item} on HTTP API it-api",
        "create log group /seed/it-api/access",
        "set retention of log group /seed/it-api/access to 30 days",
        "create stage $default on HTTP API it-api",
        "create domain name api.shop.example.com",
        "create API mapping api.shop.example.com/ to HTTP API it-api",
    ]
    facts = created["http_api"]
    client = apigw(clean_aws)
    api_id = facts["id"]
    assert facts["endpoint"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    assert facts["custom_domain"]["target"].startswith("d-") and facts["custom_domain"]["hosted_zone_id"]
    assert set(facts["routes"]) == {"ANY /{proxy+}", "GET /health", "POST /admin/{item}"}

    integration = client.get_integration(ApiId=api_id, IntegrationId=facts["integration_id"])
    assert (integration["IntegrationType"], integration["ConnectionType"], integration["ConnectionId"],
            integration["IntegrationUri"], integration["PayloadFormatVersion"]) == (
        "HTTP_PROXY", "VPC_LINK", facts["vpc_link_id"], backend["listener"], "1.0")
    routes = {r["RouteKey"]: r for r in client.get_routes(ApiId=api_id)["Items"]}
    assert routes["ANY /{proxy+}"]["AuthorizationType"] == "JWT"
    assert routes["ANY /{proxy+}"]["AuthorizerId"] == facts["authorizer_id"]
    assert routes["ANY /{proxy+}"]["AuthorizationScopes"] == ["shop/read"]
    assert routes["POST /admin/{item}"]["AuthorizationType"] == "AWS_IAM"
    assert {r["Target"] for r in routes.values()} == {f"integrations/{facts['integration_id']}"}
    authorizer = client.get_authorizer(ApiId=api_id, AuthorizerId=facts["authorizer_id"])
    assert authorizer["JwtConfiguration"] == {"Issuer": ISSUER, "Audience": ["shop-web"]}
    stage = client.get_stage(ApiId=api_id, StageName="$default")
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 200
    assert stage["RouteSettings"]["GET /health"]["ThrottlingRateLimit"] == 5.0
    assert stage["AccessLogSettings"]["DestinationArn"].endswith(":log-group:/seed/it-api/access")
    assert '"routeKey":"$context.routeKey"' in stage["AccessLogSettings"]["Format"]
    logs = boto3_client("logs", clean_aws.endpoint_url)
    group = logs.describe_log_groups(logGroupNamePrefix="/seed/it-api/access")["logGroups"][0]
    assert group["retentionInDays"] == 30
    assert client.get_api(ApiId=api_id)["CorsConfiguration"]["AllowOrigins"] == ["https://shop.example.com"]

    # a no-op reads the APIs once, then one read per managed part, and writes nothing
    clean_aws.reset_counts()
    again = ansible.module("http_api", args)
    assert again["changed"] is False
    counts = clean_aws.requests()
    assert counts["writes"] == 0 and counts["reads"] == 8, counts["by_action"]
    assert sorted(action.split(" ")[1].split("/")[2] for action in counts["by_action"]) == [
        "apis", "apis", "apis", "apis", "apis", "domainnames", "domainnames", "vpclinks"]

    # the diff of the creation shows the managed fields
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"]["routes"]["GET /health"] == {"authorization": "NONE", "scopes": []}

    # an update: a route added, one removed, tags and CORS changed (stage changes: recorded, see the unit test)
    routes_changed = [r for r in args["routes"] if r["key"] != "POST /admin/{item}"] + [
        {"key": "GET /items/{id}", "authorization": "NONE"}]
    updated_args = dict(args, routes=routes_changed, tags={"team": "shop", "tier": "api"},
                        cors=dict(args["cors"], max_age=600))
    updated = converge(ansible, clean_aws, updated_args, "http_api")
    assert updated["actions"] == [
        "update HTTP API it-api: CorsConfiguration",
        "set tags tier on HTTP API it-api",
        "create route GET /items/{id} on HTTP API it-api",
        "delete route POST /admin/{item} of HTTP API it-api",
    ]
    before, after = updated["diff"]["before"], updated["diff"]["after"]
    assert set(before["routes"]) - set(after["routes"]) == {"POST /admin/{item}"}
    assert set(after["routes"]) - set(before["routes"]) == {"GET /items/{id}"}
    assert (before["cors"]["MaxAge"], after["cors"]["MaxAge"]) == (300, 600)
    assert {k for k in before if before[k] != after[k]} == {"routes", "cors", "tags"}

    # a stage throttling change: one UpdateStage (added to the local AWS by tools/moto_fidelity_apigatewayv2.py;
    # the removals moto still lacks - DeleteRouteSettings, DeleteAccessLogSettings - are in the unit test)
    throttled = converge(ansible, clean_aws, dict(updated_args, stage=dict(args["stage"], throttling={
        "burst_limit": 300, "rate_limit": 150})), "http_api")
    assert throttled["actions"] == ["update stage $default of HTTP API it-api: throttling"]
    assert throttled["writes_by_action"] == {f"apigateway:PATCH /v2/apis/{api_id}/stages/$default": 1}
    stage = client.get_stage(ApiId=api_id, StageName="$default")
    assert (stage["DefaultRouteSettings"]["ThrottlingBurstLimit"],
            stage["DefaultRouteSettings"]["ThrottlingRateLimit"]) == (300, 150.0)
    assert stage["RouteSettings"]["GET /health"]["ThrottlingRateLimit"] == 5.0  # the route's own: kept

    # a new route with its own throttling: the route is made before the stage names it (API Gateway, and the
    # local AWS's UpdateStage, refuse route settings for a route key the API does not have)
    with pytest.raises(ClientError, match="NotFoundException"):
        client.update_stage(ApiId=api_id, StageName="$default",
                            RouteSettings={"GET /nowhere": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 1.0}})
    routed_args = dict(updated_args, stage=dict(args["stage"], throttling={"burst_limit": 300, "rate_limit": 150}),
                       routes=updated_args["routes"] + [{"key": "GET /limited",
                                                         "throttling": {"burst_limit": 3, "rate_limit": 2}}])
    routed = converge(ansible, clean_aws, routed_args, "http_api")
    assert routed["actions"] == ["create route GET /limited on HTTP API it-api",
                                 "update stage $default of HTTP API it-api: route_throttling"], routed["actions"]
    stage = client.get_stage(ApiId=api_id, StageName="$default")
    assert stage["RouteSettings"]["GET /limited"]["ThrottlingRateLimit"] == 2.0

    # CORS fields no longer given are cleared: UpdateApi merges what it is given (the local AWS merges the CORS
    # fields too, see tools/moto_fidelity_apigatewayv2.py), so the configuration is deleted, then set again
    cors_args = dict(routed_args, cors={"allow_origins": ["https://shop.example.com"], "allow_methods": ["GET"]})
    trimmed = converge(ansible, clean_aws, cors_args, "http_api")
    assert trimmed["actions"] == [
        "delete CORS configuration of HTTP API it-api (AllowHeaders, MaxAge no longer set)",
        "update HTTP API it-api: CorsConfiguration"], trimmed["actions"]
    assert client.get_api(ApiId=api_id)["CorsConfiguration"] == {"AllowOrigins": ["https://shop.example.com"],
                                                                 "AllowMethods": ["GET"]}
    assert ansible.module("http_api", cors_args)["changed"] is False

    # certificate rotation: the custom domain moves to the new certificate (UpdateDomainName, added to the local
    # AWS by tools/moto_fidelity_apigatewayv2.py) and keeps its regional target, so the DNS alias stays valid
    target = facts["custom_domain"]["target"]
    new_cert = CERT.replace("0b0f", "1c1f")
    rotated_args = dict(cors_args, custom_domain=dict(args["custom_domain"], certificate_arn=new_cert))
    rotated = converge(ansible, clean_aws, rotated_args, "http_api")
    assert rotated["actions"] == ["update domain name api.shop.example.com: certificate_arn"], rotated["actions"]
    (configuration,) = client.get_domain_name(DomainName="api.shop.example.com")["DomainNameConfigurations"]
    assert configuration["CertificateArn"] == new_cert
    assert configuration["ApiGatewayDomainName"] == target and rotated["http_api"]["custom_domain"]["target"] == target

    # the info module reads it back in the same shape
    info = ansible.module("http_api_info", {"names": ["it-api"]})
    assert info["http_apis"][0]["id"] == api_id
    assert set(info["http_apis"][0]["routes"]) == set(after["routes"]) | {"GET /limited"}

    gone = converge(ansible, clean_aws, {"name": "it-api", "state": "absent"}, "http_api")
    assert gone["actions"] == [
        "delete API mapping api.shop.example.com/ of HTTP API it-api",
        "delete domain name api.shop.example.com",
        "delete HTTP API it-api",
        f"delete VPC link {facts['vpc_link_id']} (it-api)",
        "delete log group /seed/it-api/access",
    ]
    assert client.get_apis()["Items"] == []
    assert client.get_vpc_links()["Items"] == []
    assert client.get_domain_names()["Items"] == []
    assert logs.describe_log_groups(logGroupNamePrefix="/seed/it-api")["logGroups"] == []


@pytest.mark.parametrize("fault", ["lost-response", "dropped-after-forward"])
def test_lost_responses_to_creates_make_no_duplicates(clean_aws, backend, fault_proxy, ansible_factory, ansible,
                                                      fault):
    """The first answer to every create is lost (carried out, then answered with a 500, or the connection
    closed with no answer): the API, VPC link, integration, routes, stage, domain name and API mapping still
    exist once each. Only CreateApi and CreateVpcLink had idempotent retries before; an integration was made
    twice, a route or stage retry failed with a conflict; a closed connection failed the run. (Not the
    authorizer's create: finding it after a lost answer takes GetAuthorizers, which the local AWS lacks; the
    same code path is the routes'.)"""
    fault_proxy.set_rate(0.0, lost_rate=0.0)
    patterns = (r"POST /v2/apis", r"POST /v2/vpclinks", r"POST /v2/apis/[^/]+/integrations",
                r"POST /v2/apis/[^/]+/routes", r"POST /v2/apis/[^/]+/stages", r"POST /v2/domainnames",
                r"POST /v2/domainnames/[^/]+/apimappings")
    (fault_proxy.lose_once if fault == "lost-response" else fault_proxy.drop_once)(*patterns)
    args = full_args(backend)
    created = ansible_factory(fault_proxy.endpoint_url).module("http_api", args)
    assert not created.get("failed"), created.get("msg")
    assert fault_proxy.stats()["injected_by_code"] == {fault: 7}, fault_proxy.stats()
    client = apigw(clean_aws)
    (found,) = client.get_apis()["Items"]
    assert len(client.get_vpc_links()["Items"]) == 1
    assert len(client.get_integrations(ApiId=found["ApiId"])["Items"]) == 1
    assert sorted(r["RouteKey"] for r in client.get_routes(ApiId=found["ApiId"])["Items"]) == sorted(
        r["key"] for r in args["routes"])
    assert [s["StageName"] for s in client.get_stages(ApiId=found["ApiId"])["Items"]] == ["$default"]
    assert len(client.get_domain_names()["Items"]) == 1
    assert len(client.get_api_mappings(DomainName="api.shop.example.com")["Items"]) == 1
    again = ansible.module("http_api", args)
    assert again["changed"] is False, again["actions"]
    ansible.module("http_api", {"name": "it-api", "state": "absent"})


def test_minimal_api_defaults_to_a_greedy_route(clean_aws, ansible, backend):
    args = {"name": "it-min", "vpc_link": {"subnets": backend["subnets"]},
            "integration": {"listener_arn": backend["listener"]}}
    created = converge(ansible, clean_aws, args, "http_api")
    assert created["actions"] == ["create VPC link it-min", "create HTTP API it-min",
                                  "create private integration on HTTP API it-min",
                                  "create route ANY /{proxy+} on HTTP API it-min",
                                  "create stage $default on HTTP API it-min"]
    assert created["http_api"]["routes"]["ANY /{proxy+}"]["authorization"] == "NONE"
    assert created["http_api"]["authorizer_id"] is None
    # the subnets and security groups of a VPC link cannot change: a new link, the integration moved, the old gone
    old_link = created["http_api"]["vpc_link_id"]
    link = {"subnets": backend["subnets"], "security_groups": [backend["sg"]]}
    moved = converge(ansible, clean_aws, dict(args, vpc_link=link), "http_api")
    assert moved["actions"] == ["create VPC link it-min",
                                "update integration of HTTP API it-min: connection",
                                f"delete VPC link {old_link} (it-min, replaced)"]
    assert moved["diff"]["before"]["vpc_link"]["security_groups"] == []
    assert moved["diff"]["after"]["vpc_link"]["security_groups"] == [backend["sg"]]
    links = apigw(clean_aws).get_vpc_links()["Items"]
    assert [link["VpcLinkId"] for link in links] == [moved["http_api"]["vpc_link_id"]] != [old_link]
    integration = apigw(clean_aws).get_integration(ApiId=moved["http_api"]["id"],
                                                   IntegrationId=moved["http_api"]["integration_id"])
    assert integration["ConnectionId"] == moved["http_api"]["vpc_link_id"]

    gone = converge(ansible, clean_aws, {"name": "it-min", "state": "absent"}, "http_api")
    assert len(gone["actions"]) == 2
    assert apigw(clean_aws).get_apis()["Items"] == [] and apigw(clean_aws).get_vpc_links()["Items"] == []


LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/it/0123456789abcdef/0123456789abcdef"
BASE = {"name": "it-bad", "vpc_link": {"subnets": ["subnet-1"]}, "integration": {"listener_arn": LISTENER}}


@pytest.mark.parametrize("extra, field", [
    ({"authorizer": {"audience": ["web"]}}, "authorizer.issuer"),
    ({"authorizer": {"issuer": "http://idp.example.com", "audience": ["web"]}}, "authorizer.issuer"),
    ({"authorizer": {"issuer": ISSUER}}, "authorizer.audience"),
    ({"authorizer": {"issuer": ISSUER, "audience": []}}, "authorizer.audience"),
    ({"stage": {"throttling": {"burst_limit": 0, "rate_limit": 10}}}, "stage.throttling.burst_limit"),
    ({"stage": {"throttling": {"burst_limit": 10, "rate_limit": -1}}}, "stage.throttling.rate_limit"),
    ({"routes": [{"key": "GET /x", "throttling": {"rate_limit": 0}}]}, "routes[0].throttling.rate_limit"),
    ({"routes": [{"key": "FETCH /x"}]}, "routes[0].key"),
    ({"routes": [{"key": "GET x"}]}, "routes[0].key"),
    ({"routes": [{"key": "ANY /{proxy+}/more"}]}, "routes[0].key"),
    ({"routes": [{"key": "GET /a//b"}]}, "routes[0].key"),
    ({"routes": [{"key": "GET /x", "authorization": "JWT"}]}, "routes[0].authorization"),
    ({"integration": {"listener_arn": "arn:aws:s3:::bucket"}}, "integration.listener_arn"),
])
def test_bad_input_fails_naming_the_field_with_zero_requests(clean_aws, ansible, extra, field):
    clean_aws.reset_counts()
    result = ansible.module("http_api", dict(BASE, **extra))
    assert result.get("failed") and result["msg"].startswith(f"{field}:"), result.get("msg")
    assert clean_aws.requests()["total"] == 0


def test_a_domain_other_apis_still_map_to_is_kept_when_its_api_goes(clean_aws, ansible, backend):
    """API a made the custom domain; API b maps ``b`` onto it. Deleting a removes a's mapping and keeps the
    domain - with a warning naming b's mapping - since deleting it would take b's traffic too. Once b is
    gone, a's rerun deletes the domain."""
    link = {"subnets": backend["subnets"], "security_groups": [backend["sg"]]}
    common = {"vpc_link": link, "integration": {"listener_arn": backend["listener"]}}
    domain = {"domain_name": "api.shared.example.com", "certificate_arn": CERT}
    converge(ansible, clean_aws, dict(common, name="it-a", custom_domain=domain), "http_api")
    b = converge(ansible, clean_aws, dict(common, name="it-b", custom_domain=dict(domain, mapping_key="b")),
                 "http_api")
    assert not any(a.startswith("create domain name") for a in b["actions"])  # a's domain, b's mapping

    a_gone = converge(ansible, clean_aws, {"name": "it-a", "state": "absent"}, "http_api")
    assert not any(a.startswith("delete domain name") for a in a_gone["actions"]), a_gone["actions"]
    mappings = apigw(clean_aws).get_api_mappings(DomainName="api.shared.example.com")["Items"]
    assert [m["ApiMappingKey"] for m in mappings] == ["b"] and mappings[0]["ApiId"] == b["http_api"]["id"]
    warned = ansible.module("http_api", {"name": "it-a", "state": "absent"}, check=True)
    assert any("api.shared.example.com is kept: other APIs are still mapped to it (b -> " in w
               for w in warned.get("warnings", [])), warned.get("warnings")

    converge(ansible, clean_aws, {"name": "it-b", "state": "absent"}, "http_api")
    last = converge(ansible, clean_aws, {"name": "it-a", "state": "absent"}, "http_api")
    assert last["actions"] == ["delete domain name api.shared.example.com"]
    assert apigw(clean_aws).get_domain_names()["Items"] == []
