# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two retry decorators every API wrapper uses (built on amazon.aws's AWSRetry)."""

import functools

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

THROTTLING_CODES = frozenset(
    ["RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException",
     "RequestThrottled", "SlowDown", "PriorRequestNotComplete"]
)
# A bare 5xx whose body could not be parsed reaches botocore with the HTTP status as its code.
TRANSIENT_CODES = THROTTLING_CODES | frozenset(
    ["Unavailable", "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
     "InternalServerError", "InternalServerException", "RequestTimeout", "RequestTimeoutException",
     "500", "502", "503", "504"]
)


class _ThrottlingRetry(AWSRetry):
    """Retries only errors that guarantee the request was not carried out."""

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        return response_code in THROTTLING_CODES


# Reads, deletes, and writes that are idempotent on the AWS side (ClientToken, put/modify/replace).
retry = AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=20, catch_extra_error_codes=list(TRANSIENT_CODES))

# Creates with no idempotency token: a transient 5xx may follow a create that did happen, so the
# caller looks the resource up by its identity tags before trying again (``create_once``).
retry_throttling = _ThrottlingRetry.jittered_backoff(retries=10, delay=1, max_delay=20)


def is_transient(error):
    """True for a botocore ClientError (or our wrapper of one) that a later attempt may not repeat."""
    exc = getattr(error, "exception", None) or error
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in TRANSIENT_CODES


def already_done(*codes):
    """Treat these error codes as success.

    For writes the planner makes only when the describe showed them missing: when such a write
    answers "already exists", an earlier attempt whose response was lost did the work.
    """

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except is_boto3_error_code(list(codes)):
                return None

        return wrapper

    return decorator
