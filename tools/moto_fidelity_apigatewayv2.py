"""apigatewayv2: make moto 5.2.5 keep and return what API Gateway keeps and returns (same rules as
``moto_fidelity.py``: no patch changes what a module sends or how it compares).

* CreateDomainName: API Gateway completes every domain name configuration with the target of the
  domain (``ApiGatewayDomainName``, ``d-<id>.execute-api.<region>.amazonaws.com``), the Route 53 hosted
  zone of that target (``HostedZoneId``) and ``DomainNameStatus``; moto stores the configuration as
  sent, so a module could never report the alias target a DNS record needs.
* UpdateRoute: API Gateway applies ``AuthorizationScopes`` as given, also an empty list (which clears
  the scopes when a route leaves JWT authorization); moto ignores an empty list and keeps the old
  scopes.
* UpdateStage: moto 5.2.5 does not have it (NotImplementedError, a 500). Added as API Gateway documents
  it: the fields given change, the others stay; ``DefaultRouteSettings`` and ``AccessLogSettings`` are
  replaced as given, ``RouteSettings`` per route key (a route key not given keeps its settings: they go
  with DeleteRouteSettings), ``StageVariables`` per variable. A route key in ``RouteSettings`` that is
  not a route of the API is refused (404 NotFoundException), as API Gateway refuses it.
* UpdateApi: API Gateway merges an update - a field not given keeps its value (live-probed for the
  top-level fields, go-to-k/cdkd PR #1163) - and moto does that for the top-level fields too, but
  replaces ``CorsConfiguration`` whole. Whether API Gateway also merges the fields inside it is not
  documented: the local AWS merges them (a CORS field not given keeps its value), the stricter of the
  two, so a module that removes a CORS field must work under both (DeleteCorsConfiguration first).
* UpdateDomainName: moto 5.2.5 does not have it (a 500). Added as API Gateway documents it: the
  configurations given replace the old ones (a new certificate: the rotation path), and the domain keeps
  its regional target (``ApiGatewayDomainName``, ``HostedZoneId``), so the DNS alias stays valid.
"""

from __future__ import annotations

import hashlib

# Route 53 hosted zones of API Gateway's regional endpoints (AWS General Reference).
_REGIONAL_ZONES = {
    "us-east-1": "Z1UJRXOUMOOFQ8",
    "us-east-2": "ZOJJZC49E0EPZ",
    "us-west-1": "Z2MUQ32089INYE",
    "us-west-2": "Z2OJLYMUO9EFXC",
    "eu-west-1": "ZLY8HYME6SFDD",
    "eu-west-2": "ZJ5UAJN8Y3Z2Q",
    "eu-west-3": "Z3KY65QIEKYHQQ",
    "eu-central-1": "Z1U9ULNL0V5AJ3",
}


def _patch_domain_name() -> None:
    from moto.apigatewayv2.models import DomainName

    original = DomainName.__init__
    if getattr(original, "_seed_patched", False):
        return

    def __init__(self, domain_name, domain_name_configurations, mutual_tls_authentication, tags,  # type: ignore
                 backend):
        original(self, domain_name, domain_name_configurations, mutual_tls_authentication, tags, backend)
        region = backend.region_name
        for configuration in self.domain_name_configurations or []:
            digest = hashlib.sha256(f"{domain_name} {configuration.get('certificateArn')}".encode()).hexdigest()
            configuration.setdefault("apiGatewayDomainName", f"d-{digest[:10]}.execute-api.{region}.amazonaws.com")
            configuration.setdefault("hostedZoneId", _REGIONAL_ZONES.get(region, "Z1UJRXOUMOOFQ8"))
            configuration.setdefault("domainNameStatus", "AVAILABLE")
            configuration.setdefault("endpointType", "REGIONAL")

    __init__._seed_patched = True  # type: ignore[attr-defined]
    DomainName.__init__ = __init__


def _patch_route_update() -> None:
    from moto.apigatewayv2.models import Route

    original = Route.update
    if getattr(original, "_seed_patched", False):
        return

    def update(self, api_key_required, authorization_scopes, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, api_key_required, authorization_scopes, *args, **kwargs)
        if authorization_scopes is not None:
            self.authorization_scopes = authorization_scopes

    update._seed_patched = True  # type: ignore[attr-defined]
    Route.update = update


def _patch_api_update() -> None:
    from moto.apigatewayv2.models import Api

    original = Api.update
    if getattr(original, "_seed_patched", False):
        return

    def update(self, api_key_selection_expression, cors_configuration, *args, **kwargs):  # type: ignore
        if cors_configuration is not None and self.cors_configuration:
            cors_configuration = dict(self.cors_configuration, **cors_configuration)
        original(self, api_key_selection_expression, cors_configuration, *args, **kwargs)

    update._seed_patched = True  # type: ignore[attr-defined]
    Api.update = update


def _patch_update_domain_name() -> None:
    import json
    from urllib.parse import unquote

    from moto.apigatewayv2.responses import ApiGatewayV2Response

    if getattr(getattr(ApiGatewayV2Response, "update_domain_name", None), "_seed_patched", False):
        return

    def update_domain_name(self):  # type: ignore[no-untyped-def]
        domain = self.apigatewayv2_backend.get_domain_name(domain_name=unquote(self.path.split("/")[-1]))
        changes = json.loads(self.body or "{}")
        if "domainNameConfigurations" in changes:
            old = (domain.domain_name_configurations or [{}])[0]
            configurations = []
            for configuration in changes["domainNameConfigurations"]:
                configuration = dict(configuration)
                for key in ("apiGatewayDomainName", "hostedZoneId", "domainNameStatus", "endpointType"):
                    if key in old:
                        configuration.setdefault(key, old[key])
                configurations.append(configuration)
            domain.domain_name_configurations = configurations
        if "mutualTlsAuthentication" in changes:
            domain.mutual_tls_authentication = changes["mutualTlsAuthentication"]
        return 200, {}, json.dumps(domain.to_json())

    update_domain_name._seed_patched = True  # type: ignore[attr-defined]
    ApiGatewayV2Response.update_domain_name = update_domain_name


def _patch_update_stage() -> None:
    import json
    from datetime import datetime
    from urllib.parse import unquote

    from moto.apigatewayv2.exceptions import APIGatewayV2Error
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    if getattr(getattr(ApiGatewayV2Response, "update_stage", None), "_seed_patched", False):
        return

    def update_stage(self):  # type: ignore[no-untyped-def]
        api_id = self.path.split("/")[-3]
        stage = self.apigatewayv2_backend.get_stage(api_id, unquote(self.path.split("/")[-1]))
        changes = json.loads(self.body or "{}")
        keys = {route.route_key for route in self.apigatewayv2_backend.get_api(api_id).get_routes()}
        for key in changes.get("routeSettings") or {}:
            if key not in keys:
                error = APIGatewayV2Error("NotFoundException",
                                          f"Unable to find Route by key {key} within the provided RouteSettings")
                error.code = 404
                raise error
        if "defaultRouteSettings" in changes:
            stage.default_route_settings = changes["defaultRouteSettings"]
        if "routeSettings" in changes:
            stage.route_settings = dict(stage.route_settings or {}, **changes["routeSettings"])
        if "accessLogSettings" in changes:
            stage.access_log_settings = changes["accessLogSettings"]
        if "stageVariables" in changes:
            stage.stage_variables = dict(stage.stage_variables or {}, **changes["stageVariables"])
        for key, attribute in (("autoDeploy", "auto_deploy"), ("description", "description"),
                               ("clientCertificateId", "client_certificate_id")):
            if key in changes:
                setattr(stage, attribute, changes[key])
        stage.updated = datetime.now()
        return 200, {}, json.dumps(stage.to_json())

    update_stage._seed_patched = True  # type: ignore[attr-defined]
    ApiGatewayV2Response.update_stage = update_stage


def apply() -> None:
    """Apply the apigatewayv2 patches (idempotent)."""
    _patch_domain_name()
    _patch_route_update()
    _patch_api_update()
    _patch_update_domain_name()
    _patch_update_stage()
