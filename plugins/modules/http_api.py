#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: http_api
short_description: An API Gateway HTTP API in front of an internal load balancer, converged in one run
version_added: 1.0.0
description:
  - Manages an API Gateway HTTP API (apigatewayv2) and everything it needs to front a private backend - a VPC link
    in the private subnets, a private integration to a listener of an internal load balancer, the routes, an
    optional JWT authorizer, CORS, the C($default) stage with automatic deployment, throttling (per-route
    overrides) and JSON access logs, and an optional custom domain with its API mapping.
  - The API is found by its identity tags (C(seed:name), C(seed:component=http-api)); a no-op run reads the APIs
    once and then only what is managed.
  - The subnets and security groups of a VPC link cannot change in place; the module creates a new VPC link,
    moves the integration to it and deletes the old one.
  - O(state=absent) deletes the API mapping, the custom domain (only when this module created it), the API with
    its routes, integration, authorizer and stage, the VPC link, and the access log group when this module created
    it.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description: Name of the API (1-128 characters); also the name of its VPC link.
    type: str
    required: true
  state:
    description: Whether the API should exist.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: Description of the API.
    type: str
  vpc_link:
    description: The VPC link through which API Gateway reaches the internal load balancer. Required when present.
    type: dict
    suboptions:
      subnets:
        description: Private subnets of the VPC link.
        type: list
        elements: str
        required: true
      security_groups:
        description: Security groups of the VPC link's network interfaces.
        type: list
        elements: str
        default: []
  vpc_link_timeout:
    description: Seconds to wait for a new VPC link to become C(AVAILABLE).
    type: int
    default: 300
  integration:
    description: The private integration (C(HTTP_PROXY) over the VPC link). Required when present.
    type: dict
    suboptions:
      listener_arn:
        description: ARN of the listener of the internal load balancer that fronts the backend.
        type: str
        required: true
      timeout_ms:
        description: Integration timeout in milliseconds (50-30000).
        type: int
        default: 30000
      payload_format_version:
        description: Payload format; C(1.0) is the only one private HTTP integrations accept.
        type: str
        choices: ['1.0']
        default: '1.0'
      request_parameters:
        description: Parameter mappings, for example C(overwrite:path) to C($request.path).
        type: dict
  default_authorization:
    description:
      - Authorization of routes that do not give their own.
      - Not set - C(JWT) when O(authorizer) is given, else C(NONE).
    type: str
    choices: [NONE, JWT, AWS_IAM]
  routes:
    description: The routes; all go to the integration. Routes of the API not listed here are deleted.
    type: list
    elements: dict
    default: [{key: 'ANY /{proxy+}'}]
    suboptions:
      key:
        description:
          - C($default) or C(<METHOD> /path) with METHOD one of C(ANY), C(GET), C(POST), C(PUT), C(PATCH),
            C(DELETE), C(HEAD), C(OPTIONS); a greedy parameter C({name+}) only as the last segment.
        type: str
        required: true
      authorization:
        description: Authorization of the route. Not set - O(default_authorization).
        type: str
        choices: [NONE, JWT, AWS_IAM]
      scopes:
        description: OAuth scopes a JWT must carry (JWT authorization only).
        type: list
        elements: str
      throttling:
        description: Throttling of this route, overriding the stage's.
        type: dict
        suboptions:
          burst_limit:
            description: Burst limit (requests), greater than 0.
            type: int
          rate_limit:
            description: Steady-state rate (requests per second), greater than 0.
            type: float
  authorizer:
    description: A JWT authorizer (Cognito, Auth0, any OIDC issuer).
    type: dict
    suboptions:
      type:
        description: Authorizer type.
        type: str
        choices: [jwt]
        default: jwt
      issuer:
        description: The https URL of the token issuer. Required.
        type: str
      audience:
        description: Accepted audiences (client IDs). At least one.
        type: list
        elements: str
      identity_source:
        description: Where the token is read from.
        type: str
        default: $request.header.Authorization
      name:
        description: Authorizer name. Not set - C(<name>-jwt).
        type: str
  cors:
    description:
      - CORS of the API. Not set - no CORS configuration.
      - A field not given is not set; one given before and no longer given is cleared (the configuration is
        deleted and set again, since an API update keeps the fields it is not given).
    type: dict
    suboptions:
      allow_origins:
        description: Allowed origins.
        type: list
        elements: str
      allow_methods:
        description: Allowed methods.
        type: list
        elements: str
      allow_headers:
        description: Allowed request headers.
        type: list
        elements: str
      expose_headers:
        description: Response headers exposed to the browser.
        type: list
        elements: str
      max_age:
        description: Seconds a preflight result may be cached (-1-86400).
        type: int
      allow_credentials:
        description: Whether credentials are allowed (not with origin C(*)).
        type: bool
  stage:
    description: Settings of the C($default) stage (always deployed automatically).
    type: dict
    default: {}
    suboptions:
      throttling:
        description: Default throttling of every route. Not set - left as it is.
        type: dict
        suboptions:
          burst_limit:
            description: Burst limit (requests), greater than 0.
            type: int
          rate_limit:
            description: Steady-state rate (requests per second), greater than 0.
            type: float
      access_log_group:
        description:
          - CloudWatch Logs group of the access logs - an ARN, or a name. A name is created when missing (with
            O(stage.access_log_retention_days)) and deleted with the API.
          - Not set - no access logs.
        type: str
      access_log_format:
        description:
          - Format of an access log line. Not set - JSON with requestId, ip, requestTime, httpMethod, routeKey,
            status, protocol, responseLength and integrationError.
        type: str
      access_log_retention_days:
        description: Retention of a log group the module creates.
        type: int
  custom_domain:
    description: A custom domain name mapped to the C($default) stage.
    type: dict
    suboptions:
      domain_name:
        description: The domain name (lower case).
        type: str
        required: true
      certificate_arn:
        description: ARN of the ACM certificate of the domain, in the API's region.
        type: str
        required: true
      endpoint_type:
        description: Endpoint type.
        type: str
        choices: [REGIONAL]
        default: REGIONAL
      security_policy:
        description: TLS security policy.
        type: str
        choices: [TLS_1_2]
        default: TLS_1_2
      mapping_key:
        description: Path under the domain at which the API is mapped; empty - the root.
        type: str
        default: ''
notes:
  - O(tags) go on the API (and converge there); the VPC link, stage, custom domain and access log group get them
    with the identity tags when they are created.
  - Removing O(custom_domain) from the options leaves the domain and its mapping; O(state=absent) removes them.
  - Read on a no-op run - GetApis, then GetIntegrations, GetRoutes, GetStage, GetVpcLink, GetAuthorizer (when a route
    uses one) and, with O(custom_domain), GetDomainName and GetApiMappings.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
"""

EXAMPLES = r"""
- name: The shop API in front of the internal load balancer of the backend
  seed.aws_migration.http_api:
    name: shop-api
    vpc_link:
      subnets: "{{ network_outputs.private_subnet_ids }}"
      security_groups: ["{{ vpc_link_sg }}"]
    integration:
      listener_arn: "{{ internal_lb.load_balancer.listeners[0].arn }}"
    authorizer:
      issuer: https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf
      audience: [shop-web]
    routes:
      - key: ANY /{proxy+}
      - key: GET /health
        authorization: NONE
        throttling: {burst_limit: 10, rate_limit: 5}
    cors:
      allow_origins: [https://shop.example.com]
      allow_methods: [GET, POST]
    stage:
      throttling: {burst_limit: 200, rate_limit: 100}
      access_log_group: /seed/shop/api-access
      access_log_retention_days: 30
    custom_domain:
      domain_name: api.shop.example.com
      certificate_arn: arn:aws:acm:eu-west-1:123456789012:certificate/0b0f3f0c-1111-2222-3333-444455556666
  register: api

- name: Gone, with its VPC link, stage, domain and log group
  seed.aws_migration.http_api:
    name: shop-api
    state: absent
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["create VPC link shop-api", "create HTTP API shop-api"]
http_api:
  description: The API after the run (before it, in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: API ID.
      type: str
    name:
      description: API name.
      type: str
    endpoint:
      description: The default endpoint (C(https://<id>.execute-api.<region>.amazonaws.com)).
      type: str
    stage:
      description: Name of the stage (C($default)), when it exists.
      type: str
    vpc_link_id:
      description: ID of the VPC link.
      type: str
    integration_id:
      description: ID of the integration.
      type: str
    authorizer_id:
      description: ID of the JWT authorizer, when there is one.
      type: str
    routes:
      description: Route key to C(id) and C(authorization).
      type: dict
    access_log_arn:
      description: ARN of the access log group, when access logs are on.
      type: str
    custom_domain:
      description: C(domain_name), C(target) and C(hosted_zone_id) (for a Route 53 alias), C(mapping_id).
      type: dict
  sample: {"id": "a1b2c3d4e5", "name": "shop-api", "endpoint": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
           "stage": "$default", "vpc_link_id": "x1y2z3", "integration_id": "i1i2i3",
           "routes": {"ANY /{proxy+}": {"id": "r1r2r3", "authorization": "JWT"}}, "authorizer_id": "au1au2",
           "custom_domain": {"domain_name": "api.shop.example.com",
                             "target": "d-abc123.execute-api.eu-west-1.amazonaws.com",
                             "hosted_zone_id": "ZLY8HYME6SFDD", "mapping_id": "m1m2m3"}}
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import apigatewayv2 as api
from ansible_collections.seed.aws_migration.plugins.module_utils import logs
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import IDENTITY_KEYS
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_NAME
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import create_once
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import fail_wait
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_for

MANAGED_BY = "seed.aws_migration"
COMPONENT = "http-api"
# VPC link states nothing is built on (replaced), and that of a link already going (not deleted again).
# INACTIVE is neither: an idle link (60 days without traffic) that API Gateway brings back on use.
LINK_UNUSABLE = ("FAILED", "DELETING")
LINK_GOING = ("DELETING",)
NEW = "(new)"  # the ID of something a check-mode run would create


def identity(name, component):
    return {TAG_NAME: name, TAG_MANAGED_BY: MANAGED_BY, TAG_COMPONENT: component}


def owned(resource, name, component):
    tags = resource.get("Tags") or {}
    return all(tags.get(k) == v for k, v in identity(name, component).items())


def log_group_arn(params, region):
    group = (params.get("stage") or {}).get("access_log_group")
    if not group:
        return None
    if group.startswith("arn:"):
        return group[:-2] if group.endswith(":*") else group
    partition, _region, account = api.listener_arn_parts(params["integration"]["listener_arn"])
    return f"arn:{partition}:logs:{region}:{account}:log-group:{group}"


def desired_view(params, region, current):
    """The managed fields as the options ask for them (``current``: the view of what exists, for the
    fields left unmanaged when an option is not given)."""
    p = params
    stage = p.get("stage") or {}
    arn = log_group_arn(p, region)
    authorizer = p.get("authorizer")
    current_stage = (current or {}).get("stage") or {}
    view = {
        "description": p.get("description") or "",
        "cors": api.cors_view(api.cors_to_api(p.get("cors"))),
        "tags": user_tags(current_tags=(current or {}).get("tags"), params=p),
        "vpc_link": {"subnets": sorted(p["vpc_link"]["subnets"]),
                     "security_groups": sorted(p["vpc_link"].get("security_groups") or [])},
        "integration": {"listener_arn": p["integration"]["listener_arn"],
                        "timeout_ms": p["integration"]["timeout_ms"],
                        "payload_format_version": p["integration"]["payload_format_version"],
                        "request_parameters": dict(p["integration"].get("request_parameters") or {})},
        "authorizer": {"name": authorizer.get("name") or f"{p['name']}-jwt", "issuer": authorizer["issuer"],
                       "audience": sorted(authorizer["audience"]),
                       "identity_source": authorizer["identity_source"]} if authorizer else None,
        "routes": {r["key"]: {"authorization": api.route_authorization(p, r), "scopes": sorted(r.get("scopes") or [])}
                   for r in p["routes"]},
        "stage": {"auto_deploy": True,
                  "throttling": api.throttling_param(stage["throttling"]) if stage.get("throttling")
                  else current_stage.get("throttling"),
                  "route_throttling": {r["key"]: api.throttling_param(r["throttling"])
                                       for r in sorted(p["routes"], key=lambda r: r["key"]) if r.get("throttling")},
                  "access_log": {"destination_arn": arn,
                                 "format": stage.get("access_log_format") or api.DEFAULT_ACCESS_LOG_FORMAT}
                  if arn else None},
    }
    domain = p.get("custom_domain")
    if domain:
        view["custom_domain"] = {"domain_name": domain["domain_name"], "certificate_arn": domain["certificate_arn"],
                                 "endpoint_type": domain["endpoint_type"],
                                 "security_policy": domain["security_policy"],
                                 "mapping_key": domain.get("mapping_key") or ""}
    return view


def user_tags(current_tags, params):
    """The user's tags as they will be: the given ones (plus the current others unless purged)."""
    current = {k: v for k, v in (current_tags or {}).items() if k not in IDENTITY_KEYS}
    if params.get("tags") is None:
        return current
    if params["purge_tags"]:
        return dict(params["tags"])
    return dict(current, **params["tags"])


class Observed:
    """What exists of an API, read with as few calls as possible."""

    def __init__(self):
        self.api = self.link = self.integration = self.authorizer = self.stage = None
        self.domain = self.mapping = None
        self.routes = {}
        self.links = None  # VPC links found by tags (read when the integration names no usable one)


class ApiManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        api.validate(self.params)  # before any client exists
        self.client = module.seed_client("apigatewayv2")
        self.region = module.region
        self.name = self.params["name"]
        self.actions = []
        self.ids = {}
        self.routes_after = {}
        self.domain_after = None

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.module.check_mode else call(*args, **kwargs)

    # --- reading -------------------------------------------------------------------------------------
    def find_api(self):
        found = [a for a in api.get_apis(self.client) if owned(a, self.name, COMPONENT)]
        if len(found) > 1:
            raise SeedAWSError(message=f"name: {len(found)} HTTP APIs carry the identity tags of {self.name} "
                                       f"({', '.join(a['ApiId'] for a in found)}); delete all but one")
        return found[0] if found else None

    def find_links(self):
        return [link for link in api.get_vpc_links(self.client) if owned(link, self.name, COMPONENT + "-vpc-link")]

    def observe(self, for_absent=False):
        obs = Observed()
        obs.api = self.find_api()
        if obs.api:
            api_id = obs.api["ApiId"]
            integrations = api.get_integrations(self.client, api_id)
            obs.integration = integrations[0] if integrations else None
            obs.routes = {r["RouteKey"]: r for r in api.get_routes(self.client, api_id)}
            obs.stage = api.get_stage(self.client, api_id)
            obs.authorizer = self._find_authorizer(api_id, obs.routes)
            link_id = (obs.integration or {}).get("ConnectionId")
            if link_id and not for_absent:
                obs.link = api.get_vpc_link(self.client, link_id)
        if for_absent or not obs.link:
            obs.links = self.find_links()
            if not obs.link and obs.links:
                link_id = (obs.integration or {}).get("ConnectionId")
                obs.link = next((link for link in obs.links if link["VpcLinkId"] == link_id), obs.links[0])
        domain = self.params.get("custom_domain")
        if domain:
            obs.domain = api.get_domain_name(self.client, domain["domain_name"])
            if obs.domain and obs.api:
                mappings = [m for m in api.get_api_mappings(self.client, domain["domain_name"])
                            if m.get("ApiId") == obs.api["ApiId"]]
                obs.mapping = mappings[0] if mappings else None
        return obs

    def _find_authorizer(self, api_id, routes):
        """The JWT authorizer: the one the routes use (one read), else (when one is wanted) by name."""
        ids = sorted({r["AuthorizerId"] for r in routes.values() if r.get("AuthorizerId")})
        if ids:
            return api.get_authorizer(self.client, api_id, ids[0])
        if self.params.get("authorizer"):
            wanted = self.params["authorizer"].get("name") or f"{self.name}-jwt"
            found = [a for a in api.get_authorizers(self.client, api_id) if a.get("Name") == wanted]
            return found[0] if found else None
        return None

    def current_view(self, obs):
        if not obs.api:
            return None
        view = {
            "description": obs.api.get("Description") or "",
            "cors": api.cors_view(obs.api.get("CorsConfiguration")),
            "tags": {k: v for k, v in (obs.api.get("Tags") or {}).items() if k not in IDENTITY_KEYS},
            "vpc_link": {"subnets": sorted(obs.link.get("SubnetIds") or []),
                         "security_groups": sorted(obs.link.get("SecurityGroupIds") or [])} if obs.link else None,
            "integration": api.integration_view(obs.integration),
            "authorizer": api.authorizer_view(obs.authorizer),
            "routes": {key: api.route_view(route) for key, route in sorted(obs.routes.items())},
            "stage": api.stage_view(obs.stage),
        }
        if self.params.get("custom_domain"):
            view["custom_domain"] = api.domain_view(obs.domain, obs.mapping)
        return view

    def facts(self, obs):
        if not obs.api:
            return {}
        return self._facts(obs.api, obs.link, obs.integration, obs.authorizer, obs.stage,
                           {k: {"id": r["RouteId"], "authorization": r.get("AuthorizationType") or "NONE"}
                            for k, r in obs.routes.items()}, obs.domain, obs.mapping)

    @staticmethod
    def _facts(*args):
        return api.api_facts(*args)

    # --- converging ----------------------------------------------------------------------------------
    def present(self):
        p = self.params
        obs = self.observe()
        before = self.current_view(obs)
        after = desired_view(p, self.region, before)
        facts_before = self.facts(obs)
        check = self.module.check_mode
        label = f"HTTP API {self.name}"

        # the VPC link (first: a new one takes time to become available)
        link = self._usable_link(obs, after["vpc_link"])
        if not link or self._link_view(link) != after["vpc_link"]:
            link = self._create_link(after["vpc_link"], exclude={(obs.link or {}).get("VpcLinkId")})
        elif link.get("VpcLinkStatus") == "PENDING" and not check:
            link = self._wait_link(link)  # created by a run that stopped before it was available
        link_id = link["VpcLinkId"] if link else NEW
        # Replaced links of ours go once the integration no longer uses them (another's link, one the
        # integration was pointed at by hand, stays; so does one already going).
        old_links = {item["VpcLinkId"]: item for item in [obs.link] + (obs.links or [])
                     if item and item["VpcLinkId"] != link_id and self._mine(item)
                     and item.get("VpcLinkStatus") not in LINK_GOING}

        # the API
        found = obs.api
        if not found:
            create = dict(Name=self.name, Tags=dict(p.get("tags") or {}, **identity(self.name, COMPONENT)))
            if p.get("description"):
                create["Description"] = p["description"]
            if p.get("cors"):
                create["CorsConfiguration"] = api.cors_to_api(p["cors"])
            found = self._do(f"create {label}", create_once,
                             lambda: api.create_api(self.client, **create), self.find_api)
            found = found or {"ApiId": NEW, "Name": self.name}
        else:
            self._update_api(obs, before, after)
        api_id = found["ApiId"]

        # the JWT authorizer
        authorizer = obs.authorizer
        if after["authorizer"] and (not authorizer or api.authorizer_view(authorizer) != after["authorizer"]):
            wanted = after["authorizer"]
            params = dict(AuthorizerType="JWT", Name=wanted["name"], IdentitySource=[wanted["identity_source"]],
                          JwtConfiguration={"Issuer": wanted["issuer"], "Audience": wanted["audience"]})
            if authorizer:
                authorizer = self._do(f"update JWT authorizer {wanted['name']} of {label}", api.update_authorizer,
                                      self.client, api_id, authorizer["AuthorizerId"], **params) or authorizer
            else:
                authorizer = self._do(f"create JWT authorizer {wanted['name']} on {label}", create_once,
                                      lambda: api.create_authorizer(self.client, api_id, **params),
                                      lambda: next((a for a in api.get_authorizers(self.client, api_id)
                                                    if a.get("Name") == wanted["name"]), None)) or {"AuthorizerId": NEW}
        authorizer_id = (authorizer or {}).get("AuthorizerId") if after["authorizer"] else None

        # the integration
        integration = self._converge_integration(obs, api_id, link_id, after["integration"], label)
        integration_id = integration["IntegrationId"]

        # the routes (new and changed ones; removed ones after the stage lets go of them)
        target = f"integrations/{integration_id}"
        routes = {}
        for key, wanted in after["routes"].items():
            routes[key] = self._converge_route(obs.routes.get(key), api_id, key, wanted, target, authorizer_id, label)

        # the stage
        stage = self._converge_stage(obs, api_id, before, after, label)

        for key, route in sorted(obs.routes.items()):
            if key not in after["routes"]:
                self._do(f"delete route {key} of {label}", api.delete_route, self.client, api_id, route["RouteId"])
        if obs.authorizer and not after["authorizer"]:
            self._do(f"delete JWT authorizer {obs.authorizer.get('Name')} of {label}", api.delete_authorizer,
                     self.client, api_id, obs.authorizer["AuthorizerId"])
        for old_id in sorted(old_links):
            self._do(f"delete VPC link {old_id} ({self.name}, replaced)", api.delete_vpc_link, self.client, old_id)

        domain, mapping = self._converge_domain(obs, api_id, after.get("custom_domain"), label)
        if not check:
            self.after_facts = self._facts(dict(obs.api or {}, **found), link, integration, authorizer if authorizer_id
                                           else None, stage, routes, domain, mapping)
        return facts_before, before, after

    def _mine(self, link):
        return owned(link, self.name, COMPONENT + "-vpc-link")

    def _usable_link(self, obs, wanted):
        """The VPC link to keep: the integration's when it is ours and usable, else one of ours that is
        (a FAILED link, one being deleted or one that is not ours is never built on)."""
        if obs.link and self._mine(obs.link) and obs.link.get("VpcLinkStatus") not in LINK_UNUSABLE:
            return obs.link
        if obs.link and obs.links is None:
            obs.links = self.find_links()  # the integration's link is not usable: look for ours
        usable = [link for link in obs.links or [] if link.get("VpcLinkStatus") not in LINK_UNUSABLE]
        return next((link for link in usable if self._link_view(link) == wanted), usable[0] if usable else None)

    @staticmethod
    def _link_view(link):
        if not link:
            return None
        return {"subnets": sorted(link.get("SubnetIds") or []), "security_groups": sorted(link.get("SecurityGroupIds")
                                                                                          or [])}

    def _create_link(self, wanted, exclude=()):
        tags = dict(self.params.get("tags") or {}, **identity(self.name, COMPONENT + "-vpc-link"))

        def find():  # after a lost response: the link this run created, never one it replaces
            found = [link for link in self.find_links() if self._link_view(link) == wanted
                     and link["VpcLinkId"] not in exclude and link.get("VpcLinkStatus") not in LINK_UNUSABLE]
            return found[0] if found else None

        link = self._do(f"create VPC link {self.name}", create_once,
                        lambda: api.create_vpc_link(self.client, self.name, wanted["subnets"],
                                                    wanted["security_groups"], tags), find)
        if link:
            link = self._wait_link(link)
        return link

    def _wait_link(self, link):
        link_id = link["VpcLinkId"]
        latest = {"link": link}

        def poll():
            current = latest["link"] if latest["link"].get("VpcLinkStatus") else None
            current = current or api.get_vpc_link(self.client, link_id) or {}
            latest["link"] = {}
            status = current.get("VpcLinkStatus")
            if status == "FAILED":
                fail_wait(f"VPC link {link_id} of {self.name} failed: {current.get('VpcLinkStatusMessage')}")
            if status == "AVAILABLE":
                latest["link"] = current
            return status == "AVAILABLE", f"{status} {current.get('VpcLinkStatusMessage') or ''}".strip()

        wait_for(poll, f"VPC link {link_id} of {self.name} to become AVAILABLE", self.params["vpc_link_timeout"])
        return latest["link"] or link

    def _update_api(self, obs, before, after):
        label = f"HTTP API {self.name}"
        api_id = obs.api["ApiId"]
        changes = {}
        if before["description"] != after["description"]:
            changes["Description"] = after["description"]
        dropped = []
        if before["cors"] != after["cors"] and after["cors"]:
            changes["CorsConfiguration"] = api.cors_to_api(self.params["cors"])
            # UpdateApi merges: a CORS field it is not given keeps its value, so one no longer given goes with the
            # whole configuration first (a field given empty is sent as such).
            dropped = sorted(set(before["cors"] or {}) - set(changes["CorsConfiguration"]))
            if dropped:
                self._do(f"delete CORS configuration of {label} ({', '.join(dropped)} no longer set)",
                         api.delete_cors_configuration, self.client, api_id)
        if changes:
            try:
                obs.api = self._do(f"update {label}: {', '.join(sorted(changes))}", api.update_api, self.client,
                                   api_id, **changes) or obs.api
            except SeedAWSError as e:
                if dropped:  # not left without CORS: the configuration it had goes back (best effort)
                    try:
                        api.update_api(self.client, api_id, CorsConfiguration=obs.api["CorsConfiguration"])
                    except SeedAWSError as restore:
                        raise SeedAWSError(message=f"{e}; the CORS configuration was deleted first and could not be "
                                                   f"put back ({restore}): {label} has none until a run succeeds",
                                           exception=e.exception) from e
                raise
        if before["cors"] and not after["cors"]:
            self._do(f"delete CORS configuration of {label}", api.delete_cors_configuration, self.client, api_id)
        current = obs.api.get("Tags") or {}
        desired = dict(self.params.get("tags") or {}, **identity(self.name, COMPONENT))
        to_set, to_unset = tag_delta(current, desired, self.params["purge_tags"] and self.params.get("tags")
                                     is not None)
        arn = api.api_arn(self.region, api_id)
        if to_set:
            self._do(f"set tags {', '.join(sorted(to_set))} on {label}", api.tag_resource, self.client, arn, to_set)
        if to_unset:
            self._do(f"remove tags {', '.join(sorted(to_unset))} from {label}", api.untag_resource, self.client, arn,
                     to_unset)

    def _converge_integration(self, obs, api_id, link_id, wanted, label):
        integration = obs.integration
        params = dict(ConnectionType="VPC_LINK", ConnectionId=link_id, IntegrationMethod="ANY",
                      IntegrationUri=wanted["listener_arn"], PayloadFormatVersion=wanted["payload_format_version"],
                      TimeoutInMillis=wanted["timeout_ms"])
        if wanted["request_parameters"] or (integration and integration.get("RequestParameters")):
            params["RequestParameters"] = wanted["request_parameters"]
        if not integration:
            return self._do(f"create private integration on {label}", create_once,
                            lambda: api.create_integration(self.client, api_id, IntegrationType="HTTP_PROXY", **params),
                            lambda: next((i for i in api.get_integrations(self.client, api_id)
                                          if (i.get("ConnectionId"), i.get("IntegrationUri")) == (
                                              link_id, wanted["listener_arn"])), None)) or {"IntegrationId": NEW}
        changed = [name for name, value in (("connection", link_id), ("listener", wanted["listener_arn"]),
                                            ("timeout", wanted["timeout_ms"]),
                                            ("payload format", wanted["payload_format_version"]),
                                            ("request parameters", wanted["request_parameters"]))
                   if value != {"connection": integration.get("ConnectionId"),
                                "listener": integration.get("IntegrationUri"),
                                "timeout": integration.get("TimeoutInMillis"),
                                "payload format": integration.get("PayloadFormatVersion"),
                                "request parameters": dict(integration.get("RequestParameters") or {})}[name]]
        if changed:
            removed = set(integration.get("RequestParameters") or {}) - set(wanted["request_parameters"])
            if removed:  # UpdateIntegration drops a mapping given an empty value
                params["RequestParameters"] = dict(wanted["request_parameters"], **{k: "" for k in removed})
            return self._do(f"update integration of {label}: {', '.join(changed)}", api.update_integration,
                            self.client, api_id, integration["IntegrationId"], **params) or integration
        return integration

    def _converge_route(self, route, api_id, key, wanted, target, authorizer_id, label):
        jwt = wanted["authorization"] == "JWT"
        params = dict(AuthorizationType=wanted["authorization"], Target=target)
        if jwt:
            params["AuthorizerId"] = authorizer_id
            params["AuthorizationScopes"] = wanted["scopes"]
        if not route:
            created = self._do(f"create route {key} on {label}", create_once,
                               lambda: api.create_route(self.client, api_id, RouteKey=key, **params),
                               lambda: next((r for r in api.get_routes(self.client, api_id) if r.get("RouteKey") == key),
                                            None)) or {"RouteId": NEW}
            return {"id": created["RouteId"], "authorization": wanted["authorization"]}
        changed = []
        if api.route_view(route) != wanted:
            changed.extend(name for name in ("authorization", "scopes") if api.route_view(route)[name] != wanted[name])
        if route.get("Target") != target:
            changed.append("target")
        if (route.get("AuthorizerId") or None) != (authorizer_id if jwt else None):
            changed.append("authorizer")
        if changed:
            if not jwt:
                params["AuthorizerId"] = ""  # detach the authorizer
                if route.get("AuthorizationScopes"):
                    params["AuthorizationScopes"] = []
            self._do(f"update route {key} of {label}: {', '.join(changed)}", api.update_route, self.client, api_id,
                     route["RouteId"], **params)
        return {"id": route["RouteId"], "authorization": wanted["authorization"]}

    def _ensure_log_group(self, obs, after):
        """Create the access log group given by name, when the stage does not already log to it."""
        stage = self.params.get("stage") or {}
        group = stage.get("access_log_group")
        if not group or group.startswith("arn:"):
            return
        current = ((obs.stage or {}).get("AccessLogSettings") or {}).get("DestinationArn")
        if current == after["stage"]["access_log"]["destination_arn"]:
            return
        client = self.module.seed_client("logs")
        if logs.describe_log_group(client, group):
            return
        tags = dict(self.params.get("tags") or {}, **identity(self.name, COMPONENT + "-access-logs"))
        self._do(f"create log group {group}", logs.create_log_group, client, group, tags)
        if stage.get("access_log_retention_days"):
            self._do(f"set retention of log group {group} to {stage['access_log_retention_days']} days",
                     logs.put_retention_policy, client, group, stage["access_log_retention_days"])

    def _converge_stage(self, obs, api_id, before, after, label):
        wanted = after["stage"]
        self._ensure_log_group(obs, after)
        stage = obs.stage
        params = {}
        if not stage or wanted["throttling"] != (before or {}).get("stage", {}).get("throttling"):
            params["DefaultRouteSettings"] = dict(api.without_throttling((stage or {}).get("DefaultRouteSettings")),
                                                  **api.throttling_to_api(wanted["throttling"]))
        empty = {"route_throttling": {}, "access_log": None, "auto_deploy": False, "throttling": None}
        current = api.stage_view(stage) or empty
        changed_routes = {key: value for key, value in wanted["route_throttling"].items()
                          if current["route_throttling"].get(key) != value}
        if changed_routes:
            params["RouteSettings"] = {key: dict(api.without_throttling(((stage or {}).get("RouteSettings") or {})
                                                                        .get(key)),
                                                 **api.throttling_to_api(value))
                                       for key, value in changed_routes.items()}
        if wanted["access_log"] and wanted["access_log"] != current["access_log"]:
            params["AccessLogSettings"] = {"DestinationArn": wanted["access_log"]["destination_arn"],
                                           "Format": wanted["access_log"]["format"]}
        if not current["auto_deploy"]:
            params["AutoDeploy"] = True
        if not stage:
            params = {k: v for k, v in params.items() if v}
            return self._do(f"create stage {api.STAGE} on {label}", create_once,
                            lambda: api.create_stage(self.client, api_id, StageName=api.STAGE,
                                                     Tags=identity(self.name, COMPONENT + "-stage"), **params),
                            lambda: api.get_stage(self.client, api_id))
        for key in sorted(set(current["route_throttling"]) - set(wanted["route_throttling"])):
            self._do(f"delete throttling of route {key} on stage {api.STAGE} of {label}", api.delete_route_settings,
                     self.client, api_id, key)
        if current["access_log"] and not wanted["access_log"]:
            self._do(f"delete access log settings of stage {api.STAGE} of {label}", api.delete_access_log_settings,
                     self.client, api_id)
        if params:
            names = {"DefaultRouteSettings": "throttling", "RouteSettings": "route_throttling",
                     "AccessLogSettings": "access_log", "AutoDeploy": "auto_deploy"}
            stage = self._do(f"update stage {api.STAGE} of {label}: {', '.join(sorted(names[k] for k in params))}",
                             api.update_stage, self.client, api_id, **params) or stage
        return stage

    def _converge_domain(self, obs, api_id, wanted, label):
        if not wanted:
            return None, None
        name = wanted["domain_name"]
        configuration = {"CertificateArn": wanted["certificate_arn"], "EndpointType": wanted["endpoint_type"],
                         "SecurityPolicy": wanted["security_policy"]}
        domain = obs.domain
        if not domain:
            tags = dict(self.params.get("tags") or {}, **identity(self.name, COMPONENT + "-domain"))
            domain = self._do(f"create domain name {name}", api.create_domain_name, self.client, name, configuration,
                              tags)
        elif owned(domain, self.name, COMPONENT + "-domain"):
            current = api.domain_view(domain, obs.mapping)
            changed = [k for k in ("certificate_arn", "endpoint_type", "security_policy") if current[k] != wanted[k]]
            if changed:
                domain = self._do(f"update domain name {name}: {', '.join(changed)}", api.update_domain_name,
                                  self.client, name, configuration) or domain
        mapping = obs.mapping
        key = wanted["mapping_key"]
        if not mapping:
            mapping = self._do(f"create API mapping {name}/{key} to {label}", create_once,
                               lambda: api.create_api_mapping(self.client, name, api_id, key),
                               lambda: next((m for m in api.get_api_mappings(self.client, name)
                                             if m.get("ApiId") == api_id and (m.get("ApiMappingKey") or "") == key),
                                            None))
        elif (mapping.get("ApiMappingKey") or "") != key or mapping.get("Stage") != api.STAGE:
            mapping = self._do(f"update API mapping {name}/{key} to {label}", api.update_api_mapping, self.client,
                               name, mapping["ApiMappingId"], api_id, key) or mapping
        return domain, mapping

    def absent(self):
        obs = self.observe(for_absent=True)
        label = f"HTTP API {self.name}"
        before = self.current_view(obs)
        facts_before = self.facts(obs)
        api_id = (obs.api or {}).get("ApiId")
        for domain, mappings, others in self._domains_of(obs):
            for mapping in mappings:
                self._do(f"delete API mapping {domain['DomainName']}/{mapping.get('ApiMappingKey') or ''} of {label}",
                         api.delete_api_mapping, self.client, domain["DomainName"], mapping["ApiMappingId"])
            if owned(domain, self.name, COMPONENT + "-domain") and others:
                # Deleting the domain would take the other APIs' mappings (their traffic) with it.
                keys = ", ".join(sorted(f"{m.get('ApiMappingKey') or '(root)'} -> {m.get('ApiId')}" for m in others))
                self.module.warn(f"domain name {domain['DomainName']} is kept: other APIs are still mapped to it "
                                 f"({keys}); delete it once they have moved")
            elif owned(domain, self.name, COMPONENT + "-domain"):
                self._do(f"delete domain name {domain['DomainName']}", api.delete_domain_name, self.client,
                         domain["DomainName"])
        if api_id:
            self._do(f"delete {label}", api.delete_api, self.client, api_id)
        for link in obs.links or []:
            self._do(f"delete VPC link {link['VpcLinkId']} ({self.name})", api.delete_vpc_link, self.client,
                     link["VpcLinkId"])
        destination = ((obs.stage or {}).get("AccessLogSettings") or {}).get("DestinationArn") or ""
        if ":log-group:" in destination:
            group = destination.split(":log-group:", 1)[1]
            group = group[:-2] if group.endswith(":*") else group
            client = self.module.seed_client("logs")
            tags = logs.list_log_group_tags(client, group)
            if all(tags.get(k) == v for k, v in identity(self.name, COMPONENT + "-access-logs").items()):
                self._do(f"delete log group {group}", logs.delete_log_group, client, group)
        self.after_facts = {}
        return facts_before, before, None

    def _domains_of(self, obs):
        """(domain, [mappings of this API], [mappings of other APIs]) for the given custom domain, or for every
        domain this module made for the API or that maps it (another API's domain it was mapped onto)."""
        api_id = (obs.api or {}).get("ApiId")
        domains = ([obs.domain] if obs.domain else []) if self.params.get("custom_domain") else \
            api.get_domain_names(self.client)
        for domain in domains:
            every = api.get_api_mappings(self.client, domain["DomainName"])
            mine = [m for m in every if api_id and m.get("ApiId") == api_id]
            if mine or owned(domain, self.name, COMPONENT + "-domain") or self.params.get("custom_domain"):
                yield domain, mine, [m for m in every if m not in mine]


def main():
    throttling = dict(type="dict", options=dict(burst_limit=dict(type="int"), rate_limit=dict(type="float")))
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        description=dict(type="str"),
        vpc_link=dict(type="dict", options=dict(subnets=dict(type="list", elements="str", required=True),
                                                security_groups=dict(type="list", elements="str", default=[]))),
        vpc_link_timeout=dict(type="int", default=300),
        integration=dict(type="dict", options=dict(
            listener_arn=dict(type="str", required=True), timeout_ms=dict(type="int", default=30000),
            payload_format_version=dict(type="str", default="1.0", choices=["1.0"]),
            request_parameters=dict(type="dict"))),
        default_authorization=dict(type="str", choices=list(api.AUTHORIZATIONS)),
        routes=dict(type="list", elements="dict", default=[{"key": "ANY /{proxy+}"}], options=dict(
            key=dict(type="str", required=True, no_log=False),
            authorization=dict(type="str", choices=list(api.AUTHORIZATIONS)),
            scopes=dict(type="list", elements="str"), throttling=throttling)),
        authorizer=dict(type="dict", options=dict(
            type=dict(type="str", default="jwt", choices=["jwt"]), issuer=dict(type="str"),
            audience=dict(type="list", elements="str"),
            identity_source=dict(type="str", default="$request.header.Authorization"), name=dict(type="str"))),
        cors=dict(type="dict", options=dict(
            allow_origins=dict(type="list", elements="str"), allow_methods=dict(type="list", elements="str"),
            allow_headers=dict(type="list", elements="str"), expose_headers=dict(type="list", elements="str"),
            max_age=dict(type="int"), allow_credentials=dict(type="bool"))),
        stage=dict(type="dict", default={}, options=dict(
            throttling=throttling, access_log_group=dict(type="str"), access_log_format=dict(type="str"),
            access_log_retention_days=dict(type="int"))),
        custom_domain=dict(type="dict", options=dict(
            domain_name=dict(type="str", required=True), certificate_arn=dict(type="str", required=True),
            endpoint_type=dict(type="str", default="REGIONAL", choices=["REGIONAL"]),
            security_policy=dict(type="str", default="TLS_1_2", choices=["TLS_1_2"]),
            mapping_key=dict(type="str", default="", no_log=False))),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_converged(ApiManager, "http_api", lambda manager: manager.after_facts)


if __name__ == "__main__":
    main()
