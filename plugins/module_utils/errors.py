# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception family our modules catch at the top, and the handlers that raise it."""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError


class SeedAWSError(AnsibleAWSError):
    """Any failure a seed.aws_migration module reports; ``main()`` catches only this."""


class ValidationError(SeedAWSError):
    """Bad input, detected before any API call. ``field`` names the offending option."""

    def __init__(self, field, message):
        super().__init__(message=f"{field}: {message}", field=field)
        self.field = field


class WaitTimeoutError(SeedAWSError):
    """A wait ran out of time; the message says what was awaited and the last state seen."""


class WaitFailedError(SeedAWSError):
    """A wait saw a terminal failure state; the message carries the reason AWS gave."""


# Error codes that mean "that resource is not there" across the EC2, Logs and IAM APIs we call.
MISSING_CODES = [
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidRoute.NotFound",
    "InvalidAssociationID.NotFound",
    "InvalidAllocationID.NotFound",
    "InvalidAddress.NotFound",
    "NatGatewayNotFound",
    "InvalidNatGatewayID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidPermission.NotFound",
    "InvalidVpcEndpointId.NotFound",
    "InvalidFlowLogId.NotFound",
    "ResourceNotFoundException",
    "ClusterNotFoundException",
    "NoSuchEntity",
]


# Error codes of a denied call (S3, most JSON APIs, EC2).
ACCESS_DENIED_CODES = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def aws_error_code(error):
    """The AWS error code behind ``error`` (a SeedAWSError or a botocore ClientError); "" when it has none."""
    response = getattr(getattr(error, "exception", None) or error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def is_access_denied(error):
    return aws_error_code(error) in ACCESS_DENIED_CODES


class SeedErrorHandler(AWSErrorHandler):
    """amazon.aws's decorator-based handler, raising our exception type."""

    _CUSTOM_EXCEPTION = SeedAWSError
    _MISSING_CODES = MISSING_CODES

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(cls._MISSING_CODES)


def error_handler(*missing_codes):
    """A SeedErrorHandler that also treats a service's own "not found" codes as missing."""
    return type("SeedServiceErrorHandler", (SeedErrorHandler,), {"_MISSING_CODES": MISSING_CODES + list(missing_codes)})
