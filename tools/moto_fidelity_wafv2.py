"""moto fidelity patches for AWS WAF (wafv2), loaded by tools/moto_fidelity.py (same rules as there).

ListResourcesForWebACL: moto 5.2.5 stores the resources a web ACL is associated with (AssociateWebACL /
DisassociateWebACL keep ``FakeWebACL.associated_resources``, and GetWebACLForResource reads them) but has no
handler for the call AWS offers to list them, so the association data it keeps is unreachable. The patch
answers from that stored data, filtered by ``ResourceType`` (default APPLICATION_LOAD_BALANCER) the way AWS
does, and fails with WAFNonexistentItemException for an unknown web ACL, as AWS does. Without it the local
AWS could not show whether a web ACL protects a load balancer. The module's handling of the real response
is also tested against recorded AWS responses (tests/unit/plugins/modules/test_web_acl.py).

UpdateWebACL: AWS replaces every mutable field with what the request gives ("This operation completely
replaces the mutable specifications that you already have for the web ACL"): no ``Description`` removes the
description, ``Rules: []`` removes every rule. moto 5.2.5 keeps the old description when none is sent and the
old rules when the list is empty, so a web ACL would keep a description or rules AWS drops. The patch applies
those two replacements after moto's own update (the lock token check and everything else stay moto's).
"""

from __future__ import annotations

import json

# The ResourceType AWS lists an associated resource under, by the service part of its ARN.
_TYPES_BY_SERVICE = {
    "elasticloadbalancing": "APPLICATION_LOAD_BALANCER",
    "apigateway": "API_GATEWAY",
    "appsync": "APPSYNC",
    "cognito-idp": "COGNITO_USER_POOL",
    "apprunner": "APP_RUNNER_SERVICE",
    "ec2": "VERIFIED_ACCESS_INSTANCE",
    "amplify": "AMPLIFY",
}


def _resource_type(arn: str) -> str | None:
    parts = arn.split(":")
    return _TYPES_BY_SERVICE.get(parts[2]) if len(parts) > 2 else None


def _patch_list_resources_for_web_acl() -> None:
    from moto.wafv2.exceptions import WAFNonexistentItemException
    from moto.wafv2.responses import WAFV2Response

    if getattr(getattr(WAFV2Response, "list_resources_for_web_acl", None), "_seed_patched", False):
        return

    def list_resources_for_web_acl(self):  # type: ignore[no-untyped-def]
        body = json.loads(self.body or "{}")
        web_acl = self.wafv2_backend.wacls.get(body.get("WebACLArn"))
        if web_acl is None:
            raise WAFNonexistentItemException()
        wanted = body.get("ResourceType") or "APPLICATION_LOAD_BALANCER"
        arns = [arn for arn in dict.fromkeys(web_acl.associated_resources) if _resource_type(arn) == wanted]
        return 200, {"Content-Type": "application/json"}, json.dumps({"ResourceArns": arns})

    list_resources_for_web_acl._seed_patched = True  # type: ignore[attr-defined]
    WAFV2Response.list_resources_for_web_acl = list_resources_for_web_acl


def _patch_update_web_acl_replaces() -> None:
    from moto.wafv2.responses import WAFV2Response

    original = WAFV2Response.update_web_acl
    if getattr(original, "_seed_patched", False):
        return

    def update_web_acl(self):  # type: ignore[no-untyped-def]
        result = original(self)  # raises (lock token, missing web ACL) before anything below
        body = json.loads(self.body or "{}")
        acl = self.wafv2_backend.get_web_acl(None, body.get("Name"), body.get("Id"))
        if body.get("Description") is None:
            acl.description = ""
        if body.get("Rules") == []:
            acl.rules = []
        return result

    update_web_acl._seed_patched = True  # type: ignore[attr-defined]
    WAFV2Response.update_web_acl = update_web_acl


def apply() -> None:
    """Apply every wafv2 patch (idempotent)."""
    _patch_list_resources_for_web_acl()
    _patch_update_web_acl_replaces()
