#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: http_api_info
short_description: Read the HTTP APIs managed by http_api
version_added: 1.0.0
description:
  - Reads the API Gateway HTTP APIs that M(seed.aws_migration.http_api) manages (found by their identity tags),
    with their VPC link, integration, authorizer, routes and stage, in the shape of the
    RV(seed.aws_migration.http_api#module:http_api) return value of M(seed.aws_migration.http_api).
author:
  - Seed platform team (@seed-platform)
options:
  names:
    description:
      - Names of the APIs to read. Names that do not exist are left out of the result.
      - Every managed HTTP API when not given.
    type: list
    elements: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes.info_module
"""

EXAMPLES = r"""
- name: Read the shop API
  seed.aws_migration.http_api_info:
    names: [shop-api]
  register: found

- name: Its endpoint
  ansible.builtin.debug:
    msg: "{{ found.http_apis[0].endpoint }}"
"""

RETURN = r"""
http_apis:
  description: The APIs found, as RV(seed.aws_migration.http_api#module:http_api) (C(custom_domain) is not read).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "a1b2c3d4e5", "name": "shop-api", "endpoint": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
            "stage": "$default", "vpc_link_id": "x1y2z3", "integration_id": "i1i2i3", "authorizer_id": null,
            "routes": {"ANY /{proxy+}": {"id": "r1r2r3", "authorization": "NONE"}}, "access_log_arn": null,
            "custom_domain": null}]
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import apigatewayv2 as api
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_NAME


def find_apis(client, names):
    found = []
    for item in api.get_apis(client):
        tags = item.get("Tags") or {}
        if tags.get(TAG_MANAGED_BY) != "seed.aws_migration" or tags.get(TAG_COMPONENT) != "http-api":
            continue
        if names is not None and tags.get(TAG_NAME) not in names:
            continue
        api_id = item["ApiId"]
        integrations = api.get_integrations(client, api_id)
        integration = integrations[0] if integrations else None
        routes = api.get_routes(client, api_id)
        authorizer_ids = sorted({r["AuthorizerId"] for r in routes if r.get("AuthorizerId")})
        authorizer = api.get_authorizer(client, api_id, authorizer_ids[0]) if authorizer_ids else None
        link_id = (integration or {}).get("ConnectionId")
        link = api.get_vpc_link(client, link_id) if link_id else None
        stage = api.get_stage(client, api_id)
        found.append(api.api_facts(item, link, integration, authorizer, stage,
                                   {r["RouteKey"]: {"id": r["RouteId"],
                                                    "authorization": r.get("AuthorizationType") or "NONE"}
                                    for r in routes}))
    return sorted(found, key=lambda facts: facts["name"] or "")


def main():
    argument_spec = dict(names=dict(type="list", elements="str"))
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        apis = find_apis(module.seed_client("apigatewayv2"), module.params["names"])
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, http_apis=apis)


if __name__ == "__main__":
    main()
