# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API Gateway HTTP APIs (apigatewayv2): validation, managed views, and one small function per call.

Creates of APIs and VPC links carry no idempotency token: they are retried on throttling only, and
``tagging.create_once`` looks for the identity tags before another attempt. Every other create is
made only after a read showed the resource missing, under an API the module owns.
"""

import re

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import error_handler
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.logs import RETENTION_DAYS
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry_throttling

# API Gateway says NotFoundException for a missing API, route, mapping, VPC link...: a delete retried after a
# lost answer then counts as done, a read as "not there".
H = error_handler("NotFoundException")

STAGE = "$default"
METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
AUTHORIZATIONS = ("NONE", "JWT", "AWS_IAM")
NAME_RE = re.compile(r"^[^\x00-\x1f]{1,128}$")
# A literal path segment: the characters API Gateway accepts in a resource path.
_LITERAL_RE = re.compile(r"^[A-Za-z0-9._~!$&'()*,;=:@-]+$")
_PARAM_RE = re.compile(r"^\{([A-Za-z0-9._-]+)(\+?)\}$")
_LISTENER_RE = re.compile(r"^arn:(aws[a-z-]*):elasticloadbalancing:([a-z0-9-]+):(\d{12}):listener/(app|net)/.+$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_MAPPING_KEY_RE = re.compile(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")
DEFAULT_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"integrationError":"$context.integrationErrorMessage"}'
)


# --- validation ----------------------------------------------------------------------------------
def check_route_key(field, key):
    """Raise ValidationError unless ``key`` is a route key API Gateway accepts for an HTTP API."""
    if key == "$default":
        return
    if not isinstance(key, str) or " " not in key:
        raise ValidationError(field, f"{key!r} must be '$default' or '<METHOD> /path' (e.g. 'GET /health')")
    method, path = key.split(" ", 1)
    if method not in METHODS:
        raise ValidationError(field, f"{key!r}: method {method!r} must be one of {', '.join(METHODS)}")
    if not path.startswith("/"):
        raise ValidationError(field, f"{key!r}: the path must start with '/'")
    if path == "/":
        return
    if path.endswith("/"):
        raise ValidationError(field, f"{key!r}: the path must not end with '/'")
    segments = path[1:].split("/")
    names = set()
    for index, segment in enumerate(segments):
        if not segment:
            raise ValidationError(field, f"{key!r}: the path has an empty segment ('//')")
        param = _PARAM_RE.match(segment)
        if param:
            if param.group(2) and index != len(segments) - 1:
                raise ValidationError(field, f"{key!r}: the greedy parameter {segment} must be the last segment")
            if param.group(1) in names:
                raise ValidationError(field, f"{key!r}: the path parameter {param.group(1)!r} appears twice")
            names.add(param.group(1))
        elif "{" in segment or "}" in segment:
            raise ValidationError(field, f"{key!r}: {segment!r} - a path parameter is a whole segment "
                                         "'{name}' or '{name+}'")
        elif not _LITERAL_RE.match(segment):
            raise ValidationError(field, f"{key!r}: {segment!r} has characters a path cannot contain")


def check_throttling(field, throttling):
    if not throttling:
        return
    burst, rate = throttling.get("burst_limit"), throttling.get("rate_limit")
    if burst is None and rate is None:
        raise ValidationError(field, "give burst_limit, rate_limit or both")
    if burst is not None and (isinstance(burst, bool) or int(burst) != burst or burst <= 0):
        raise ValidationError(f"{field}.burst_limit", f"{burst!r} must be an integer greater than 0")
    if rate is not None and (isinstance(rate, bool) or rate <= 0):
        raise ValidationError(f"{field}.rate_limit", f"{rate!r} must be greater than 0 (requests per second)")


def listener_arn_parts(arn):
    """(partition, region, account) of a load balancer listener ARN, or None."""
    match = _LISTENER_RE.match(arn or "")
    return match.groups()[:3] if match else None


def validate(params):
    """Every check on the options, before any client exists; raises ValidationError naming the field."""
    if not NAME_RE.match(params["name"] or ""):
        raise ValidationError("name", f"{params['name']!r} must be 1-128 printable characters")
    if params["state"] == "absent":
        return
    for option in ("vpc_link", "integration"):
        if not params.get(option):
            raise ValidationError(option, "is required when state=present")
    link = params["vpc_link"]
    if not link.get("subnets"):
        raise ValidationError("vpc_link.subnets", "give at least one private subnet")
    integration = params["integration"]
    if not listener_arn_parts(integration["listener_arn"]):
        raise ValidationError("integration.listener_arn", f"{integration['listener_arn']!r} is not a load "
                                                          "balancer listener ARN")
    if not 50 <= integration["timeout_ms"] <= 30000:
        raise ValidationError("integration.timeout_ms", f"{integration['timeout_ms']} must be 50-30000")
    authorizer = params.get("authorizer")
    if authorizer:
        if not authorizer.get("issuer"):
            raise ValidationError("authorizer.issuer", "a JWT authorizer needs the issuer (the https URL of the "
                                                       "identity provider)")
        if not authorizer["issuer"].startswith("https://") or len(authorizer["issuer"]) <= len("https://"):
            raise ValidationError("authorizer.issuer", f"{authorizer['issuer']!r} must be an https:// URL")
        audience = authorizer.get("audience") or []
        if not audience or not all(audience):
            raise ValidationError("authorizer.audience", "a JWT authorizer needs at least one non-empty audience")
        if not authorizer.get("identity_source", "").startswith("$"):
            raise ValidationError("authorizer.identity_source", f"{authorizer.get('identity_source')!r} must be "
                                                                "a selection expression such as "
                                                                "'$request.header.Authorization'")
    routes = params.get("routes")
    if not routes:
        raise ValidationError("routes", "give at least one route")
    seen = set()
    for index, route in enumerate(routes):
        field = f"routes[{index}]"
        check_route_key(f"{field}.key", route["key"])
        if route["key"] in seen:
            raise ValidationError(f"{field}.key", f"{route['key']!r} is given twice")
        seen.add(route["key"])
        authorization = route_authorization(params, route)
        if authorization == "JWT" and not authorizer:
            raise ValidationError(f"{field}.authorization", "JWT needs the authorizer option")
        if route.get("scopes") and authorization != "JWT":
            raise ValidationError(f"{field}.scopes", "scopes apply only to JWT authorization")
        check_throttling(f"{field}.throttling", route.get("throttling"))
    stage = params.get("stage") or {}
    check_throttling("stage.throttling", stage.get("throttling"))
    days = stage.get("access_log_retention_days")
    if days is not None and days not in RETENTION_DAYS:
        raise ValidationError("stage.access_log_retention_days", f"{days} must be one of {list(RETENTION_DAYS)}")
    log_group = stage.get("access_log_group")
    if log_group and log_group.startswith("arn:") and ":log-group:" not in log_group:
        raise ValidationError("stage.access_log_group", f"{log_group!r} is not a log group ARN")
    if stage.get("access_log_format") and not log_group:
        raise ValidationError("stage.access_log_format", "needs stage.access_log_group")
    cors = params.get("cors")
    if cors:
        if cors.get("max_age") is not None and not -1 <= cors["max_age"] <= 86400:
            raise ValidationError("cors.max_age", f"{cors['max_age']} must be -1-86400 seconds")
        if cors.get("allow_credentials") and "*" in (cors.get("allow_origins") or []):
            raise ValidationError("cors.allow_credentials", "cannot be true when allow_origins contains '*'")
    domain = params.get("custom_domain")
    if domain:
        if not _DOMAIN_RE.match(domain["domain_name"] or ""):
            raise ValidationError("custom_domain.domain_name", f"{domain['domain_name']!r} is not a lower-case "
                                                               "DNS name")
        if not re.match(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/.+$", domain["certificate_arn"] or ""):
            raise ValidationError("custom_domain.certificate_arn", f"{domain['certificate_arn']!r} is not an ACM "
                                                                   "certificate ARN")
        key = domain.get("mapping_key") or ""
        if key and not _MAPPING_KEY_RE.match(key):
            raise ValidationError("custom_domain.mapping_key", f"{key!r} must be path segments without a leading, "
                                                               "trailing or double '/'")


def route_authorization(params, route):
    if route.get("authorization"):
        return route["authorization"]
    if params.get("default_authorization"):
        return params["default_authorization"]
    return "JWT" if params.get("authorizer") else "NONE"


# --- views (the managed fields, compared and shown in the diff) ----------------------------------
def throttling_view(settings):
    """``{burst_limit, rate_limit}`` of route settings (API shape), None when neither is set."""
    settings = settings or {}
    burst, rate = settings.get("ThrottlingBurstLimit"), settings.get("ThrottlingRateLimit")
    if burst is None and rate is None:
        return None
    return {"burst_limit": None if burst is None else int(burst), "rate_limit": None if rate is None else float(rate)}


def without_throttling(settings):
    """Route settings without their throttling limits: what the wanted limits replace (a limit no longer
    given goes, instead of surviving in the settings sent back)."""
    return {k: v for k, v in (settings or {}).items() if k not in ("ThrottlingBurstLimit", "ThrottlingRateLimit")}


def throttling_to_api(throttling):
    settings = {}
    if throttling and throttling.get("burst_limit") is not None:
        settings["ThrottlingBurstLimit"] = int(throttling["burst_limit"])
    if throttling and throttling.get("rate_limit") is not None:
        settings["ThrottlingRateLimit"] = float(throttling["rate_limit"])
    return settings


def throttling_param(throttling):
    """The option normalised the way ``throttling_view`` shows it."""
    return throttling_view(throttling_to_api(throttling))


def cors_to_api(cors):
    if not cors:
        return None
    keys = (("allow_origins", "AllowOrigins"), ("allow_methods", "AllowMethods"), ("allow_headers", "AllowHeaders"),
            ("expose_headers", "ExposeHeaders"), ("max_age", "MaxAge"), ("allow_credentials", "AllowCredentials"))
    return {api: cors[option] for option, api in keys if cors.get(option) is not None}


def cors_view(config):
    """CORS of an API (API shape) for comparison: header names and methods are case-insensitive."""
    if not config:
        return None
    view = {}
    for key in ("AllowOrigins", "AllowMethods", "AllowHeaders", "ExposeHeaders"):
        values = config.get(key)
        if values:
            lower = key in ("AllowHeaders", "ExposeHeaders")
            view[key] = sorted((v.lower() if lower else v.upper() if key == "AllowMethods" else v) for v in values)
    for key in ("MaxAge", "AllowCredentials"):
        if config.get(key) is not None:
            view[key] = config[key]
    return view or None


def authorizer_view(authorizer):
    if not authorizer:
        return None
    jwt = authorizer.get("JwtConfiguration") or {}
    sources = authorizer.get("IdentitySource") or []
    return {"name": authorizer.get("Name"), "issuer": jwt.get("Issuer"),
            "audience": sorted(jwt.get("Audience") or []), "identity_source": sources[0] if sources else None}


def route_view(route, authorizer_id=None):
    """authorization and scopes of a route (API shape); ``target`` and authorizer are checked separately."""
    return {"authorization": route.get("AuthorizationType") or "NONE",
            "scopes": sorted(route.get("AuthorizationScopes") or [])}


def integration_view(integration):
    if not integration:
        return None
    return {"listener_arn": integration.get("IntegrationUri"), "timeout_ms": integration.get("TimeoutInMillis"),
            "payload_format_version": integration.get("PayloadFormatVersion"),
            "request_parameters": dict(integration.get("RequestParameters") or {})}


def stage_view(stage, manage_default_throttling=True):
    if not stage:
        return None
    logs = stage.get("AccessLogSettings") or {}
    routes = {key: throttling_view(settings) for key, settings in (stage.get("RouteSettings") or {}).items()}
    return {"auto_deploy": bool(stage.get("AutoDeploy")),
            "throttling": throttling_view(stage.get("DefaultRouteSettings")),
            "route_throttling": {key: value for key, value in sorted(routes.items()) if value},
            "access_log": {"destination_arn": logs.get("DestinationArn"), "format": logs.get("Format")}
            if logs.get("DestinationArn") else None}


def domain_view(domain, mapping):
    if not domain:
        return None
    config = (domain.get("DomainNameConfigurations") or [{}])[0]
    return {"domain_name": domain.get("DomainName"), "certificate_arn": config.get("CertificateArn"),
            "endpoint_type": config.get("EndpointType"), "security_policy": config.get("SecurityPolicy"),
            "mapping_key": None if mapping is None else mapping.get("ApiMappingKey") or ""}


def api_facts(found, link, integration, authorizer, stage, routes, domain=None, mapping=None):
    """The ``http_api`` return value; ``routes``: route key -> ``{id, authorization}``."""
    facts = {"id": found["ApiId"], "name": found.get("Name"), "endpoint": found.get("ApiEndpoint"),
             "stage": stage.get("StageName") if stage else None,
             "vpc_link_id": (link or {}).get("VpcLinkId"), "integration_id": (integration or {}).get("IntegrationId"),
             "authorizer_id": (authorizer or {}).get("AuthorizerId"), "routes": routes,
             "access_log_arn": ((stage or {}).get("AccessLogSettings") or {}).get("DestinationArn"),
             "custom_domain": None}
    if domain:
        config = (domain.get("DomainNameConfigurations") or [{}])[0]
        facts["custom_domain"] = {"domain_name": domain.get("DomainName"),
                                  "target": config.get("ApiGatewayDomainName"),
                                  "hosted_zone_id": config.get("HostedZoneId"),
                                  "mapping_id": (mapping or {}).get("ApiMappingId")}
    return facts


def api_arn(region, api_id):
    return f"arn:{partition_of(region)}:apigateway:{region}::/apis/{api_id}"


def vpc_link_arn(region, link_id):
    return f"arn:{partition_of(region)}:apigateway:{region}::/vpclinks/{link_id}"


def domain_arn(region, name):
    return f"arn:{partition_of(region)}:apigateway:{region}::/domainnames/{name}"


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# --- API calls -----------------------------------------------------------------------------------
def _all_items(call, **params):
    """Every page of a call botocore has no paginator for."""
    items, token = [], None
    while True:
        page = call(**dict(params, NextToken=token) if token else params)
        items.extend(page.get("Items") or [])
        token = page.get("NextToken")
        if not token:
            return items


@H.list_error_handler("get HTTP APIs", [])
@retry
def get_apis(client):
    return paginate_all(client, "get_apis", "Items")


@H.common_error_handler("create HTTP API")
@retry_throttling
def create_api(client, **params):
    return client.create_api(ProtocolType="HTTP", **params)


@H.common_error_handler("update HTTP API")
@retry
def update_api(client, api_id, **params):
    return client.update_api(ApiId=api_id, **params)


@H.deletion_error_handler("delete CORS configuration")  # gone already: a retry after a lost answer
@retry
def delete_cors_configuration(client, api_id):
    client.delete_cors_configuration(ApiId=api_id)


@H.deletion_error_handler("delete HTTP API")
@retry
def delete_api(client, api_id):
    client.delete_api(ApiId=api_id)
    return True


@H.common_error_handler("tag API Gateway resource")
@retry
def tag_resource(client, arn, tags):
    client.tag_resource(ResourceArn=arn, Tags=tags)


@H.common_error_handler("untag API Gateway resource")
@retry
def untag_resource(client, arn, keys):
    client.untag_resource(ResourceArn=arn, TagKeys=list(keys))


# VPC links
@H.list_error_handler("get VPC links", [])
@retry
def get_vpc_links(client):
    return _all_items(client.get_vpc_links)


@H.list_error_handler("get VPC link", None)
@retry
def get_vpc_link(client, link_id):
    try:
        return client.get_vpc_link(VpcLinkId=link_id)
    except client.exceptions.NotFoundException:
        return None


@H.common_error_handler("create VPC link")
@retry_throttling
def create_vpc_link(client, name, subnets, security_groups, tags):
    return client.create_vpc_link(Name=name, SubnetIds=list(subnets), SecurityGroupIds=list(security_groups),
                                  Tags=tags)


@H.deletion_error_handler("delete VPC link")
@retry
def delete_vpc_link(client, link_id):
    client.delete_vpc_link(VpcLinkId=link_id)
    return True


# integrations
@H.list_error_handler("get integrations", [])
@retry
def get_integrations(client, api_id):
    return paginate_all(client, "get_integrations", "Items", ApiId=api_id)


@H.common_error_handler("create integration")
@retry_throttling  # no idempotency token: the caller goes through create_once
def create_integration(client, api_id, **params):
    return client.create_integration(ApiId=api_id, **params)


@H.common_error_handler("update integration")
@retry
def update_integration(client, api_id, integration_id, **params):
    return client.update_integration(ApiId=api_id, IntegrationId=integration_id, **params)


# routes
@H.list_error_handler("get routes", [])
@retry
def get_routes(client, api_id):
    return paginate_all(client, "get_routes", "Items", ApiId=api_id)


@H.common_error_handler("create route")
@retry_throttling  # no idempotency token: the caller goes through create_once
def create_route(client, api_id, **params):
    return client.create_route(ApiId=api_id, **params)


@H.common_error_handler("update route")
@retry
def update_route(client, api_id, route_id, **params):
    return client.update_route(ApiId=api_id, RouteId=route_id, **params)


@H.deletion_error_handler("delete route")
@retry
def delete_route(client, api_id, route_id):
    client.delete_route(ApiId=api_id, RouteId=route_id)
    return True


# authorizers
@H.list_error_handler("get authorizer", None)
@retry
def get_authorizer(client, api_id, authorizer_id):
    try:
        return client.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    except client.exceptions.NotFoundException:
        return None


@H.list_error_handler("get authorizers", [])
@retry
def get_authorizers(client, api_id):
    return paginate_all(client, "get_authorizers", "Items", ApiId=api_id)


@H.common_error_handler("create authorizer")
@retry_throttling  # no idempotency token: the caller goes through create_once
def create_authorizer(client, api_id, **params):
    return client.create_authorizer(ApiId=api_id, **params)


@H.common_error_handler("update authorizer")
@retry
def update_authorizer(client, api_id, authorizer_id, **params):
    return client.update_authorizer(ApiId=api_id, AuthorizerId=authorizer_id, **params)


@H.deletion_error_handler("delete authorizer")
@retry
def delete_authorizer(client, api_id, authorizer_id):
    client.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    return True


# the $default stage
@H.list_error_handler("get stage", None)
@retry
def get_stage(client, api_id, name=STAGE):
    try:
        return client.get_stage(ApiId=api_id, StageName=name)
    except client.exceptions.NotFoundException:
        return None


@H.common_error_handler("create stage")
@retry_throttling  # no idempotency token: the caller goes through create_once
def create_stage(client, api_id, **params):
    return client.create_stage(ApiId=api_id, **params)


@H.common_error_handler("update stage")
@retry
def update_stage(client, api_id, name=STAGE, **params):
    return client.update_stage(ApiId=api_id, StageName=name, **params)


@H.deletion_error_handler("delete route settings")
@retry
def delete_route_settings(client, api_id, route_key, name=STAGE):
    client.delete_route_settings(ApiId=api_id, StageName=name, RouteKey=route_key)
    return True


@H.deletion_error_handler("delete access log settings")
@retry
def delete_access_log_settings(client, api_id, name=STAGE):
    client.delete_access_log_settings(ApiId=api_id, StageName=name)
    return True


# custom domains
@H.list_error_handler("get domain name", None)
@retry
def get_domain_name(client, name):
    try:
        return client.get_domain_name(DomainName=name)
    except client.exceptions.NotFoundException:
        return None


@H.list_error_handler("get domain names", [])
@retry
def get_domain_names(client):
    return paginate_all(client, "get_domain_names", "Items")


@H.common_error_handler("create domain name")
@retry
def create_domain_name(client, name, configuration, tags):
    try:
        return client.create_domain_name(DomainName=name, DomainNameConfigurations=[configuration], Tags=tags)
    except client.exceptions.ConflictException:
        return client.get_domain_name(DomainName=name)  # a lost response to an earlier attempt


@H.common_error_handler("update domain name")
@retry
def update_domain_name(client, name, configuration):
    return client.update_domain_name(DomainName=name, DomainNameConfigurations=[configuration])


@H.deletion_error_handler("delete domain name")
@retry
def delete_domain_name(client, name):
    client.delete_domain_name(DomainName=name)
    return True


@H.list_error_handler("get API mappings", [])
@retry
def get_api_mappings(client, domain):
    try:
        return _all_items(client.get_api_mappings, DomainName=domain)
    except client.exceptions.NotFoundException:
        return []


@H.common_error_handler("create API mapping")
@retry_throttling  # no idempotency token: the caller goes through create_once
def create_api_mapping(client, domain, api_id, key):
    return client.create_api_mapping(DomainName=domain, ApiId=api_id, Stage=STAGE, ApiMappingKey=key)


@H.common_error_handler("update API mapping")
@retry
def update_api_mapping(client, domain, mapping_id, api_id, key):
    return client.update_api_mapping(DomainName=domain, ApiMappingId=mapping_id, ApiId=api_id, Stage=STAGE,
                                     ApiMappingKey=key)


@H.deletion_error_handler("delete API mapping")
@retry
def delete_api_mapping(client, domain, mapping_id):
    client.delete_api_mapping(DomainName=domain, ApiMappingId=mapping_id)
    return True
