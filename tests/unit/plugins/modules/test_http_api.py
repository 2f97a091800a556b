# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""http_api: route-key and option validation (the field is named, nothing is called), the comparison views,
and main() against recorded responses.

Recorded responses (botocore Stubber, labelled RECORDED below) cover what the local AWS (moto 5.2.5) lacks
entirely: UpdateStage, DeleteRouteSettings, DeleteAccessLogSettings, GetAuthorizers, UpdateDomainName and
UpdateApiMapping (stage and per-route throttling changes, removing access logs or an override, finding an
authorizer no route uses, changing a custom domain). They are written in the response syntax of the API
Gateway V2 API reference with the account and ids replaced (not captured from a live account); the Stubber
checks every response against botocore's service model and every request against the expected parameters,
and fails on any call not listed.
"""

import copy

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import apigatewayv2 as api
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.modules import http_api

LISTENER = ("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shop-backend/50dc6c495c0c9188/"
            "f2f7dc8efc522ab2")
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b0f3f0c-1111-2222-3333-444455556666"
CERT2 = "arn:aws:acm:us-east-1:123456789012:certificate/9b9f3f0c-1111-2222-3333-444455556666"
LOG_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/seed/shop/api-access"
TAGS = {"seed:name": "shop-api", "seed:managed-by": "seed.aws_migration", "seed:component": "http-api"}


def params(**kwargs):
    base = dict(name="shop-api", state="present", description=None,
                vpc_link={"subnets": ["subnet-a", "subnet-b"], "security_groups": ["sg-1"]},
                vpc_link_timeout=300,
                integration={"listener_arn": LISTENER, "timeout_ms": 30000, "payload_format_version": "1.0",
                             "request_parameters": None},
                default_authorization=None, routes=[{"key": "ANY /{proxy+}"}], authorizer=None, cors=None,
                stage={}, custom_domain=None, tags=None, purge_tags=True)
    base.update(kwargs)
    return base


# --- route keys ----------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["$default", "ANY /{proxy+}", "GET /health", "GET /", "POST /items/{id}",
                                 "DELETE /a/{b}/c/{d+}", "OPTIONS /x.y_z~-", "PATCH /v1/items:batch"])
def test_valid_route_keys(key):
    api.check_route_key("routes[0].key", key)


@pytest.mark.parametrize("key", ["", "default", "$DEFAULT", "GET", "get /x", "FETCH /x", "GET x", "GET /x/",
                                 "GET /a//b", "ANY /{proxy+}/more", "GET /{a}/{a}", "GET /x{y}", "GET /{}",
                                 "GET /a b", "GET /a?b=1", "GET  /x"])
def test_invalid_route_keys_name_the_field(key):
    with pytest.raises(ValidationError) as e:
        api.check_route_key("routes[2].key", key)
    assert e.value.field == "routes[2].key" and str(e.value).startswith("routes[2].key: ")


# --- options -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, field", [
    (dict(name=""), "name"),
    (dict(vpc_link=None), "vpc_link"),
    (dict(vpc_link={"subnets": [], "security_groups": []}), "vpc_link.subnets"),
    (dict(integration=dict(params()["integration"], listener_arn="arn:aws:elasticloadbalancing:us-east-1:"
                                                                 "123456789012:loadbalancer/app/x/1")),
     "integration.listener_arn"),
    (dict(integration=dict(params()["integration"], timeout_ms=40000)), "integration.timeout_ms"),
    (dict(authorizer={"issuer": None, "audience": ["web"], "identity_source": "$request.header.Authorization"}),
     "authorizer.issuer"),
    (dict(authorizer={"issuer": "https://", "audience": ["web"], "identity_source": "$request.header.X"}),
     "authorizer.issuer"),
    (dict(authorizer={"issuer": ISSUER, "audience": [""], "identity_source": "$request.header.X"}),
     "authorizer.audience"),
    (dict(authorizer={"issuer": ISSUER, "audience": ["web"], "identity_source": "header"}),
     "authorizer.identity_source"),
    (dict(routes=[]), "routes"),
    (dict(routes=[{"key": "GET /x"}, {"key": "GET /x"}]), "routes[1].key"),
    (dict(routes=[{"key": "GET /x", "authorization": "JWT"}]), "routes[0].authorization"),
    (dict(routes=[{"key": "GET /x", "scopes": ["a"]}]), "routes[0].scopes"),
    (dict(routes=[{"key": "GET /x", "throttling": {"burst_limit": None, "rate_limit": None}}]),
     "routes[0].throttling"),
    (dict(routes=[{"key": "GET /x", "throttling": {"burst_limit": -5, "rate_limit": None}}]),
     "routes[0].throttling.burst_limit"),
    (dict(stage={"throttling": {"burst_limit": 10, "rate_limit": 0.0}}), "stage.throttling.rate_limit"),
    (dict(stage={"access_log_group": "/x", "access_log_retention_days": 10}), "stage.access_log_retention_days"),
    (dict(stage={"access_log_group": "arn:aws:s3:::bucket"}), "stage.access_log_group"),
    (dict(stage={"access_log_format": "$context.requestId"}), "stage.access_log_format"),
    (dict(cors={"allow_origins": ["*"], "allow_credentials": True}), "cors.allow_credentials"),
    (dict(cors={"max_age": 100000}), "cors.max_age"),
    (dict(custom_domain={"domain_name": "API.example.com", "certificate_arn": CERT, "mapping_key": ""}),
     "custom_domain.domain_name"),
    (dict(custom_domain={"domain_name": "api.example.com", "certificate_arn": "arn:aws:iam::1:x"}),
     "custom_domain.certificate_arn"),
    (dict(custom_domain={"domain_name": "api.example.com", "certificate_arn": CERT, "mapping_key": "/v1"}),
     "custom_domain.mapping_key"),
])
def test_bad_options_name_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        api.validate(params(**kwargs))
    assert e.value.field == field and str(e.value).startswith(f"{field}: ")


def test_absent_validates_only_the_name():
    api.validate(params(state="absent", vpc_link=None, integration=None, routes=[]))


def test_route_authorization_defaults():
    jwt = {"issuer": ISSUER, "audience": ["web"], "identity_source": "$request.header.Authorization"}
    assert api.route_authorization(params(), {"key": "GET /"}) == "NONE"
    assert api.route_authorization(params(authorizer=jwt), {"key": "GET /"}) == "JWT"
    assert api.route_authorization(params(authorizer=jwt, default_authorization="AWS_IAM"), {"key": "GET /"}) == \
        "AWS_IAM"
    assert api.route_authorization(params(authorizer=jwt), {"key": "GET /", "authorization": "NONE"}) == "NONE"


# --- comparison ----------------------------------------------------------------------------------
def test_cors_compares_methods_and_headers_case_insensitively():
    wanted = api.cors_view(api.cors_to_api({"allow_origins": ["https://a"], "allow_methods": ["get", "POST"],
                                            "allow_headers": ["Authorization"], "max_age": 300}))
    current = {"AllowOrigins": ["https://a"], "AllowMethods": ["POST", "GET"], "AllowHeaders": ["authorization"],
               "MaxAge": 300}
    assert api.cors_view(current) == wanted
    assert api.cors_view({"AllowOrigins": ["https://b"]}) != wanted
    assert api.cors_view({}) is None and api.cors_to_api(None) is None


def test_throttling_is_compared_as_int_and_float():
    assert api.throttling_param({"burst_limit": 10, "rate_limit": 5}) == \
        api.throttling_view({"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5.0}) == \
        {"burst_limit": 10, "rate_limit": 5.0}
    assert api.throttling_view({"DetailedMetricsEnabled": False}) is None


def test_stage_view_keeps_only_route_throttling():
    stage = {"StageName": "$default", "AutoDeploy": True,
             "DefaultRouteSettings": {"DetailedMetricsEnabled": False, "ThrottlingBurstLimit": 200,
                                      "ThrottlingRateLimit": 100.0},
             "RouteSettings": {"GET /health": {"ThrottlingBurstLimit": 10, "ThrottlingRateLimit": 5.0},
                               "GET /x": {"DetailedMetricsEnabled": True}},
             "AccessLogSettings": {"DestinationArn": LOG_ARN, "Format": "{}"}}
    assert api.stage_view(stage) == {"auto_deploy": True, "throttling": {"burst_limit": 200, "rate_limit": 100.0},
                                     "route_throttling": {"GET /health": {"burst_limit": 10, "rate_limit": 5.0}},
                                     "access_log": {"destination_arn": LOG_ARN, "format": "{}"}}


def test_desired_view_leaves_stage_throttling_unmanaged_when_not_given():
    current = {"stage": {"throttling": {"burst_limit": 5000, "rate_limit": 10000.0}}, "tags": {"a": "1"}}
    view = http_api.desired_view(params(stage={"access_log_group": "/seed/shop/api-access"}), "us-east-1", current)
    assert view["stage"]["throttling"] == {"burst_limit": 5000, "rate_limit": 10000.0}
    assert view["stage"]["access_log"]["destination_arn"] == LOG_ARN
    assert view["tags"] == {"a": "1"}  # tags not given: left as they are
    assert view["routes"] == {"ANY /{proxy+}": {"authorization": "NONE", "scopes": []}}


# --- main() against recorded responses -----------------------------------------------------------
@pytest.fixture
def stubs(monkeypatch):
    session = botocore.session.get_session()
    clients = {name: session.create_client(name, region_name="us-east-1", aws_access_key_id="testing",
                                           aws_secret_access_key="testing") for name in ("apigatewayv2", "logs")}
    stubbers = {name: Stubber(client) for name, client in clients.items()}
    monkeypatch.setattr(http_api.SeedAWSModule, "seed_client", lambda self, service: clients[service])
    for stubber in stubbers.values():
        stubber.activate()
    yield stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


# RECORDED: GetApis / GetIntegrations / GetRoutes / GetAuthorizer / GetStage / GetVpcLink of an API the module made.
API = {"ApiId": "a1b2c3d4e5", "ApiEndpoint": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
       "Name": "shop-api", "ProtocolType": "HTTP", "RouteSelectionExpression": "$request.method $request.path",
       "ApiKeySelectionExpression": "$request.header.x-api-key", "DisableExecuteApiEndpoint": False,
       "Tags": dict(TAGS)}
INTEGRATION = {"IntegrationId": "i1i2i3", "ConnectionId": "vl1vl2", "ConnectionType": "VPC_LINK",
               "IntegrationMethod": "ANY", "IntegrationType": "HTTP_PROXY", "IntegrationUri": LISTENER,
               "PayloadFormatVersion": "1.0", "TimeoutInMillis": 30000, "ApiGatewayManaged": False}
LINK = {"VpcLinkId": "vl1vl2", "Name": "shop-api", "SubnetIds": ["subnet-a", "subnet-b"],
        "SecurityGroupIds": ["sg-1"], "VpcLinkStatus": "AVAILABLE", "VpcLinkVersion": "V2",
        "Tags": {"seed:name": "shop-api", "seed:managed-by": "seed.aws_migration",
                 "seed:component": "http-api-vpc-link"}}
AUTHORIZER = {"AuthorizerId": "au1au2", "AuthorizerType": "JWT", "Name": "shop-api-jwt",
              "IdentitySource": ["$request.header.Authorization"],
              "JwtConfiguration": {"Issuer": ISSUER, "Audience": ["shop-web"]}}
JWT = {"issuer": ISSUER, "audience": ["shop-web"], "identity_source": "$request.header.Authorization", "name": None,
       "type": "jwt"}


def route(key, route_id, authorization="NONE", authorizer_id=None):
    item = {"RouteId": route_id, "RouteKey": key, "AuthorizationType": authorization, "ApiKeyRequired": False,
            "Target": "integrations/i1i2i3", "ApiGatewayManaged": False}
    if authorizer_id:
        item["AuthorizerId"] = authorizer_id
    return item


STAGE = {"StageName": "$default", "AutoDeploy": True, "DeploymentId": "dep123", "ApiGatewayManaged": False,
         "DefaultRouteSettings": {"DetailedMetricsEnabled": False, "ThrottlingBurstLimit": 200,
                                  "ThrottlingRateLimit": 100.0},
         "RouteSettings": {"GET /health": {"DetailedMetricsEnabled": False, "ThrottlingBurstLimit": 10,
                                           "ThrottlingRateLimit": 5.0}},
         "AccessLogSettings": {"DestinationArn": LOG_ARN, "Format": api.DEFAULT_ACCESS_LOG_FORMAT},
         "StageVariables": {}, "Tags": {}}
ROUTES = [route("ANY /{proxy+}", "r1", "JWT", "au1au2"), route("GET /health", "r2")]
ROUTE_ARGS = [{"key": "ANY /{proxy+}"}, {"key": "GET /health", "authorization": "NONE",
                                         "throttling": {"burst_limit": 10, "rate_limit": 5}}]


def expect_reads(stubber, stage=None, routes=None, authorizer=None, link=None, api_item=None):
    stage, routes, authorizer, link = stage or STAGE, routes or ROUTES, authorizer or AUTHORIZER, link or LINK
    stubber.add_response("get_apis", {"Items": [api_item or API]}, {})
    stubber.add_response("get_integrations", {"Items": [INTEGRATION]}, {"ApiId": "a1b2c3d4e5"})
    stubber.add_response("get_routes", {"Items": copy.deepcopy(routes)}, {"ApiId": "a1b2c3d4e5"})
    stubber.add_response("get_stage", copy.deepcopy(stage), {"ApiId": "a1b2c3d4e5", "StageName": "$default"})
    if any(r.get("AuthorizerId") for r in routes):
        stubber.add_response("get_authorizer", authorizer, {"ApiId": "a1b2c3d4e5", "AuthorizerId": "au1au2"})
    else:
        stubber.add_response("get_authorizers", {"Items": [authorizer]}, {"ApiId": "a1b2c3d4e5"})
    stubber.add_response("get_vpc_link", link, {"VpcLinkId": "vl1vl2"})


def args(**extra):
    base = {"name": "shop-api", "vpc_link": {"subnets": ["subnet-a", "subnet-b"], "security_groups": ["sg-1"]},
            "integration": {"listener_arn": LISTENER}, "authorizer": JWT, "routes": ROUTE_ARGS,
            "stage": {"throttling": {"burst_limit": 200, "rate_limit": 100},
                      "access_log_group": "/seed/shop/api-access"}}
    base.update(extra)
    return base


def test_no_op_reads_once_each_and_writes_nothing(monkeypatch, stubs):
    expect_reads(stubs["apigatewayv2"])
    result = run_module(monkeypatch, http_api, args(), check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and result["actions"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["http_api"]["authorizer_id"] == "au1au2" and result["http_api"]["access_log_arn"] == LOG_ARN


CHANGED = args(routes=[{"key": "ANY /{proxy+}", "throttling": {"burst_limit": 50, "rate_limit": 20.5}},
                       {"key": "GET /health", "authorization": "NONE"}],
               stage={"throttling": {"burst_limit": 300, "rate_limit": 150}})
CHANGED_ACTIONS = [
    "delete throttling of route GET /health on stage $default of HTTP API shop-api",
    "delete access log settings of stage $default of HTTP API shop-api",
    "update stage $default of HTTP API shop-api: route_throttling, throttling",
]


def test_check_mode_predicts_stage_changes_without_writing(monkeypatch, stubs):
    expect_reads(stubs["apigatewayv2"])
    result = run_module(monkeypatch, http_api, CHANGED, check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == CHANGED_ACTIONS
    before, after = result["diff"]["before"]["stage"], result["diff"]["after"]["stage"]
    assert (before["throttling"], after["throttling"]) == ({"burst_limit": 200, "rate_limit": 100.0},
                                                           {"burst_limit": 300, "rate_limit": 150.0})
    assert before["route_throttling"] == {"GET /health": {"burst_limit": 10, "rate_limit": 5.0}}
    assert after["route_throttling"] == {"ANY /{proxy+}": {"burst_limit": 50, "rate_limit": 20.5}}
    assert after["access_log"] is None
    assert {k for k in result["diff"]["before"] if result["diff"]["before"][k] != result["diff"]["after"][k]} == \
        {"stage"}


def test_stage_changes_use_update_stage_and_the_deletes(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    expect_reads(stubber)
    # RECORDED: DeleteRouteSettings / DeleteAccessLogSettings answer 204 without a body; UpdateStage the stage.
    stubber.add_response("delete_route_settings", {},
                         {"ApiId": "a1b2c3d4e5", "StageName": "$default", "RouteKey": "GET /health"})
    stubber.add_response("delete_access_log_settings", {}, {"ApiId": "a1b2c3d4e5", "StageName": "$default"})
    updated = dict(copy.deepcopy(STAGE), DefaultRouteSettings={"DetailedMetricsEnabled": False,
                                                               "ThrottlingBurstLimit": 300,
                                                               "ThrottlingRateLimit": 150.0},
                   RouteSettings={"ANY /{proxy+}": {"ThrottlingBurstLimit": 50, "ThrottlingRateLimit": 20.5}})
    del updated["AccessLogSettings"]
    stubber.add_response("update_stage", updated, {
        "ApiId": "a1b2c3d4e5", "StageName": "$default",
        "DefaultRouteSettings": {"DetailedMetricsEnabled": False, "ThrottlingBurstLimit": 300,
                                 "ThrottlingRateLimit": 150.0},
        "RouteSettings": {"ANY /{proxy+}": {"ThrottlingBurstLimit": 50, "ThrottlingRateLimit": 20.5}}})
    result = run_module(monkeypatch, http_api, CHANGED, check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == CHANGED_ACTIONS
    assert result["http_api"]["access_log_arn"] is None


def test_a_throttling_limit_no_longer_given_is_left_out_of_the_update(monkeypatch, stubs):
    """Stage throttling down to a rate limit only: UpdateStage gets the other route settings as they are and
    the rate limit, without the old burst limit (sent back, it would survive and the next run would update
    again, for ever)."""
    stubber = stubs["apigatewayv2"]
    expect_reads(stubber)
    updated = dict(copy.deepcopy(STAGE), DefaultRouteSettings={"DetailedMetricsEnabled": False,
                                                               "ThrottlingRateLimit": 100.0})
    stubber.add_response("update_stage", updated, {
        "ApiId": "a1b2c3d4e5", "StageName": "$default",
        "DefaultRouteSettings": {"DetailedMetricsEnabled": False, "ThrottlingRateLimit": 100.0}})
    rate_only = args(stage={"throttling": {"rate_limit": 100}, "access_log_group": "/seed/shop/api-access"})
    result = run_module(monkeypatch, http_api, rate_only, check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["update stage $default of HTTP API shop-api: throttling"]
    stubber.assert_no_pending_responses()


def test_removing_a_route_with_an_override_lets_the_stage_go_first(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    expect_reads(stubber)
    stubber.add_response("delete_route_settings", {},
                         {"ApiId": "a1b2c3d4e5", "StageName": "$default", "RouteKey": "GET /health"})
    stubber.add_response("delete_route", {}, {"ApiId": "a1b2c3d4e5", "RouteId": "r2"})
    result = run_module(monkeypatch, http_api, args(routes=[{"key": "ANY /{proxy+}"}]), check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["delete throttling of route GET /health on stage $default of HTTP API shop-api",
                                 "delete route GET /health of HTTP API shop-api"]
    assert list(result["http_api"]["routes"]) == ["ANY /{proxy+}"]


def test_an_authorizer_no_route_uses_is_found_by_name(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    routes = [route("ANY /{proxy+}", "r1"), route("GET /health", "r2")]
    expect_reads(stubber, routes=routes)  # RECORDED: GetAuthorizers
    stubber.add_response("update_route", dict(routes[0], AuthorizationType="JWT", AuthorizerId="au1au2"), {
        "ApiId": "a1b2c3d4e5", "RouteId": "r1", "AuthorizationType": "JWT", "Target": "integrations/i1i2i3",
        "AuthorizerId": "au1au2", "AuthorizationScopes": []})
    result = run_module(monkeypatch, http_api, args(), check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["update route ANY /{proxy+} of HTTP API shop-api: authorization, authorizer"]


def test_custom_domain_changes_use_update_domain_name_and_mapping(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    expect_reads(stubber)
    domain = {"DomainName": "api.shop.example.com", "ApiMappingSelectionExpression": "$request.basepath",
              "DomainNameConfigurations": [{"ApiGatewayDomainName": "d-abc123.execute-api.us-east-1.amazonaws.com",
                                            "CertificateArn": CERT, "DomainNameStatus": "AVAILABLE",
                                            "EndpointType": "REGIONAL", "HostedZoneId": "Z1UJRXOUMOOFQ8",
                                            "SecurityPolicy": "TLS_1_2"}],
              "Tags": {"seed:name": "shop-api", "seed:managed-by": "seed.aws_migration",
                       "seed:component": "http-api-domain"}}
    stubber.add_response("get_domain_name", domain, {"DomainName": "api.shop.example.com"})
    stubber.add_response("get_api_mappings", {"Items": [{"ApiId": "a1b2c3d4e5", "ApiMappingId": "m1m2",
                                                         "ApiMappingKey": "", "Stage": "$default"}]},
                         {"DomainName": "api.shop.example.com"})
    # RECORDED: UpdateDomainName and UpdateApiMapping
    new_domain = copy.deepcopy(domain)
    new_domain["DomainNameConfigurations"][0]["CertificateArn"] = CERT2
    stubber.add_response("update_domain_name", new_domain, {
        "DomainName": "api.shop.example.com", "DomainNameConfigurations": [
            {"CertificateArn": CERT2, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}]})
    stubber.add_response("update_api_mapping", {"ApiId": "a1b2c3d4e5", "ApiMappingId": "m1m2",
                                                "ApiMappingKey": "v1", "Stage": "$default"},
                         {"DomainName": "api.shop.example.com", "ApiMappingId": "m1m2", "ApiId": "a1b2c3d4e5",
                          "Stage": "$default", "ApiMappingKey": "v1"})
    result = run_module(monkeypatch, http_api, args(custom_domain={"domain_name": "api.shop.example.com",
                                                                   "certificate_arn": CERT2, "mapping_key": "v1"}),
                        check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["update domain name api.shop.example.com: certificate_arn",
                                 "update API mapping api.shop.example.com/v1 to HTTP API shop-api"]
    assert result["http_api"]["custom_domain"] == {
        "domain_name": "api.shop.example.com", "target": "d-abc123.execute-api.us-east-1.amazonaws.com",
        "hosted_zone_id": "Z1UJRXOUMOOFQ8", "mapping_id": "m1m2"}


def test_bad_input_makes_no_client(monkeypatch):
    def no_client(self, service):
        raise AssertionError("no client before validation")

    monkeypatch.setattr(http_api.SeedAWSModule, "seed_client", no_client)
    result = run_module(monkeypatch, http_api, args(authorizer={"issuer": ISSUER, "audience": []}))
    assert result["failed"] and result["msg"].startswith("authorizer.audience:")


# --- waiting for a VPC link (RECORDED: API Gateway reports PENDING first; moto is AVAILABLE at once) -----------
def waiting_manager(monkeypatch, client):
    manager = object.__new__(http_api.ApiManager)
    manager.client, manager.name, manager.params = client, "shop-api", {"vpc_link_timeout": 60}
    real_wait = http_api.wait_for
    monkeypatch.setattr(http_api, "wait_for", lambda *a, **k: real_wait(*a, **dict(k, sleep=lambda s: None)))
    return manager


def test_a_new_vpc_link_is_awaited_until_available(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    pending = dict(LINK, VpcLinkStatus="PENDING", VpcLinkStatusMessage="VPC link is provisioning ENIs")
    stubber.add_response("get_vpc_link", pending, {"VpcLinkId": "vl1vl2"})
    stubber.add_response("get_vpc_link", LINK, {"VpcLinkId": "vl1vl2"})
    manager = waiting_manager(monkeypatch, http_api.SeedAWSModule.seed_client(None, "apigatewayv2"))
    assert manager._wait_link(dict(LINK, VpcLinkStatus="PENDING"))["VpcLinkStatus"] == "AVAILABLE"


def test_a_failed_vpc_link_fails_with_the_reason(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    failed = dict(LINK, VpcLinkStatus="FAILED", VpcLinkStatusMessage="Subnet subnet-a does not exist")
    stubber.add_response("get_vpc_link", failed, {"VpcLinkId": "vl1vl2"})
    manager = waiting_manager(monkeypatch, http_api.SeedAWSModule.seed_client(None, "apigatewayv2"))
    with pytest.raises(http_api.SeedAWSError) as e:
        manager._wait_link(dict(LINK, VpcLinkStatus="PENDING"))
    assert "Subnet subnet-a does not exist" in str(e.value)


# --- the VPC link a rerun finds (RECORDED: GetVpcLink / GetVpcLinks in the API reference's syntax) -------
def expect_reads_with_link(stubber, link, links=None):
    expect_reads(stubber, link=link)
    if links is not None:
        stubber.add_response("get_vpc_links", {"Items": links}, {})


def test_a_failed_vpc_link_is_replaced_not_built_on(monkeypatch, stubs):
    """A link that FAILED (say, a subnet was deleted) is never kept: a new one, the integration moved to
    it, the failed one deleted."""
    failed = dict(LINK, VpcLinkStatus="FAILED", VpcLinkStatusMessage="Subnet subnet-a does not exist")
    expect_reads_with_link(stubs["apigatewayv2"], failed, links=[failed])
    result = run_module(monkeypatch, http_api, args(), check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["create VPC link shop-api", "update integration of HTTP API shop-api: connection",
                                 "delete VPC link vl1vl2 (shop-api, replaced)"]


def test_a_vpc_link_left_pending_by_an_interrupted_run_is_awaited(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    expect_reads_with_link(stubber, dict(LINK, VpcLinkStatus="PENDING"))
    stubber.add_response("get_vpc_link", LINK, {"VpcLinkId": "vl1vl2"})  # the wait's poll: available
    real_wait = http_api.wait_for
    monkeypatch.setattr(http_api, "wait_for", lambda *a, **k: real_wait(*a, **dict(k, sleep=lambda s: None)))
    result = run_module(monkeypatch, http_api, args(), check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and result["actions"] == []


def test_a_link_not_ours_is_left_alone_and_the_integration_moved_back_to_ours(monkeypatch, stubs):
    """The integration pointed by hand at someone else's VPC link: it goes back to this API's own link, and
    the other link is neither adopted (teardown would delete it) nor deleted."""
    foreign = dict(LINK, Name="someone-else", Tags={"team": "other"})
    ours = dict(LINK, VpcLinkId="vl9vl9")
    expect_reads_with_link(stubs["apigatewayv2"], foreign, links=[ours])
    result = run_module(monkeypatch, http_api, args(), check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["update integration of HTTP API shop-api: connection"]


def test_an_idle_inactive_vpc_link_is_kept(monkeypatch, stubs):
    """INACTIVE: no traffic for 60 days; API Gateway brings it back on use. Not replaced, not deleted."""
    expect_reads(stubs["apigatewayv2"], link=dict(LINK, VpcLinkStatus="INACTIVE"))
    result = run_module(monkeypatch, http_api, args(), check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == []


def test_every_replaced_link_of_ours_goes_not_only_the_integrations(monkeypatch, stubs):
    """The integration's link FAILED and another of ours has other subnets: one new link; both of ours go
    (one being deleted already is left to finish)."""
    failed = dict(LINK, VpcLinkStatus="FAILED")
    other = dict(LINK, VpcLinkId="vl7vl7", SubnetIds=["subnet-z"])
    going = dict(LINK, VpcLinkId="vl8vl8", VpcLinkStatus="DELETING")
    expect_reads_with_link(stubs["apigatewayv2"], failed, links=[failed, other, going])
    result = run_module(monkeypatch, http_api, args(), check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["create VPC link shop-api", "update integration of HTTP API shop-api: connection",
                                 "delete VPC link vl1vl2 (shop-api, replaced)",
                                 "delete VPC link vl7vl7 (shop-api, replaced)"]


# --- CORS fields no longer given ------------------------------------------------------------------
CORS_BEFORE = {"AllowOrigins": ["https://shop.example.com"], "AllowHeaders": ["authorization"], "MaxAge": 300}


def expect_cors_reads(stubber):
    # RECORDED: GetApis of the API with a CORS configuration
    expect_reads(stubber, api_item=dict(API, CorsConfiguration=copy.deepcopy(CORS_BEFORE)))


def test_a_cors_field_given_empty_is_sent_empty_without_a_delete(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    expect_cors_reads(stubber)
    wanted = {"AllowOrigins": ["https://shop.example.com"], "AllowHeaders": [], "MaxAge": 300}
    stubber.add_response("update_api", dict(API, CorsConfiguration=wanted),
                         {"ApiId": "a1b2c3d4e5", "CorsConfiguration": wanted})
    result = run_module(monkeypatch, http_api, args(cors={"allow_origins": ["https://shop.example.com"],
                                                          "allow_headers": [], "max_age": 300}), check_mode=False)
    assert not result.get("failed"), result.get("msg")
    assert result["actions"] == ["update HTTP API shop-api: CorsConfiguration"]


def test_a_failed_update_after_the_cors_delete_puts_the_old_configuration_back(monkeypatch, stubs):
    """The configuration is deleted so that the fields no longer given go; when the update that sets the new
    one is refused, the old one goes back (the API is not left without CORS) and the run fails with the
    update's error."""
    stubber = stubs["apigatewayv2"]
    expect_cors_reads(stubber)
    stubber.add_response("delete_cors_configuration", {}, {"ApiId": "a1b2c3d4e5"})
    wanted = {"AllowOrigins": ["https://shop.example.com/app"]}
    stubber.add_client_error("update_api", "BadRequestException", "Invalid origin", 400,
                             expected_params={"ApiId": "a1b2c3d4e5", "CorsConfiguration": wanted})
    stubber.add_response("update_api", dict(API, CorsConfiguration=CORS_BEFORE),
                         {"ApiId": "a1b2c3d4e5", "CorsConfiguration": CORS_BEFORE})
    result = run_module(monkeypatch, http_api, args(cors={"allow_origins": ["https://shop.example.com/app"]}),
                        check_mode=False)
    assert result.get("failed") and "Invalid origin" in result["msg"], result.get("msg")


def test_a_cors_configuration_that_cannot_be_put_back_is_said(monkeypatch, stubs):
    stubber = stubs["apigatewayv2"]
    expect_cors_reads(stubber)
    stubber.add_response("delete_cors_configuration", {}, {"ApiId": "a1b2c3d4e5"})
    stubber.add_client_error("update_api", "BadRequestException", "Invalid origin", 400)
    stubber.add_client_error("update_api", "AccessDeniedException", "not allowed", 403)
    result = run_module(monkeypatch, http_api, args(cors={"allow_origins": ["https://shop.example.com/app"]}),
                        check_mode=False)
    assert result.get("failed") and "Invalid origin" in result["msg"], result.get("msg")
    assert "could not be put back" in result["msg"] and "not allowed" in result["msg"], result["msg"]
