#!/usr/bin/env python
"""tools/local_aws_server.py for the least-privilege test: the same server, except that moto's IAM
enforcement leaves alone the services it cannot authorise.

Under enforcement (``POST /moto-api/reset-auth``) moto 5.2.5 refuses every request to apigatewayv2,
guardduty, route53 and efs at its signature check, whatever the policy: those requests are let through
here without the check, and the test proves them by evaluating their recorded calls against the policy
(tools/deployer_policy.py). Nothing else changes; the counting endpoints are the same.

Usage: as tools/local_aws_server.py (``--host``, ``--port``, ``--ready-file``).
"""

from __future__ import annotations

import os
import sys

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools")
sys.path.insert(0, os.path.abspath(TOOLS))

import _common  # noqa: E402  pylint: disable=wrong-import-position
import local_aws_server  # noqa: E402  pylint: disable=wrong-import-position
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402  pylint: disable=wrong-import-position

# signing names (credential scope) of the services moto cannot authorise
UNENFORCEABLE = frozenset({"apigateway", "guardduty", "route53", "elasticfilesystem"})


def apply() -> None:
    original = ActionAuthenticatorMixin._authenticate_and_authorize_action  # pylint: disable=protected-access

    def authenticate_and_authorize(self, iam_request_cls, resource="*"):
        service = _common.signing_service(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        if service in UNENFORCEABLE:
            return None
        return original(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_and_authorize  # pylint: disable=protected-access


if __name__ == "__main__":
    apply()
    sys.exit(local_aws_server.main())
