# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two retry decorators every API wrapper uses (built on amazon.aws's AWSRetry).

Our clients make one attempt per call (``modules._CLIENT_CONFIG``): botocore would repeat any call
after a connection failure, creates without an idempotency token included. These decorators decide
instead, per call:

- error codes (AWSRetry): throttling and transient 5xx;
- connection failures (botocore raises them instead of a response, and AWSRetry only looks at
  ClientError): ``NOT_SENT_ERRORS`` (AWS never saw the request) are repeated for every call;
  ``NO_ANSWER_ERRORS`` (the request went out, no answer came back: it may have been carried out) only
  for calls that are safe to repeat. A create without a token raises them, and ``is_transient`` tells
  ``tagging.create_once`` to look for the resource before another attempt.

A TLS failure is not retried: a bad certificate does not get better.
"""

import functools
import random
import time

try:
    from botocore.exceptions import ConnectionClosedError
    from botocore.exceptions import ConnectTimeoutError
    from botocore.exceptions import EndpointConnectionError
    from botocore.exceptions import IncompleteReadError
    from botocore.exceptions import ProxyConnectionError
    from botocore.exceptions import ReadTimeoutError
    from botocore.exceptions import ResponseStreamingError
except ImportError:  # handled by AnsibleAWSModule
    NOT_SENT_ERRORS = NO_ANSWER_ERRORS = ()
else:
    # Raised only while connecting (urllib3's NewConnectionError / ConnectTimeoutError).
    NOT_SENT_ERRORS = (EndpointConnectionError, ConnectTimeoutError)
    # The request may have gone out. A proxy error too: urllib3 reports a connection through a proxy that
    # closes after the request was sent as a ProxyError. A body cut short is an answer lost on the way.
    NO_ANSWER_ERRORS = (ConnectionClosedError, ReadTimeoutError, ProxyConnectionError, ResponseStreamingError,
                        IncompleteReadError)

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


# A connection failure is retried this many times, after 0.5-1 s, 1-2 s, then 2-4 s (botocore's own
# default is 4 attempts too).
CONNECTION_RETRIES = 3


def _retry_connection(errors):
    """Repeat the call after any of ``errors``, ``CONNECTION_RETRIES`` times with a jittered back-off."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(CONNECTION_RETRIES):
                try:
                    return func(*args, **kwargs)
                except errors:
                    time.sleep(random.uniform(0.5, 1.0) * 2 ** attempt)
            return func(*args, **kwargs)

        return wrapper

    return decorator


def retry_on(codes, connection_errors=NOT_SENT_ERRORS + NO_ANSWER_ERRORS, by=AWSRetry):
    """A retry decorator for ``codes`` (``by``: AWSRetry or a subclass, up to 10 attempts, 1-20 s) and
    ``connection_errors``."""
    by_code = by.jittered_backoff(retries=10, delay=1, max_delay=20, catch_extra_error_codes=list(codes))
    by_connection = _retry_connection(connection_errors)

    def decorator(func):
        return by_connection(by_code(func))

    return decorator


# Reads, deletes, and writes that are idempotent on the AWS side (ClientToken, put/modify/replace).
retry = retry_on(TRANSIENT_CODES)

# Creates with no idempotency token: a transient 5xx or a connection closed without an answer may
# follow a create that did happen, so the caller looks the resource up by its identity tags before
# trying again (``create_once``). Throttling and a connection never made are safe to repeat here.
retry_throttling = retry_on((), NOT_SENT_ERRORS, by=_ThrottlingRetry)


def is_transient(error):
    """True for a botocore error (or our wrapper of one) after which the request may or may not have been
    carried out, and a later attempt may succeed: a transient error code, or a connection closed without
    an answer. (A connection never made has been retried by the decorator already.)"""
    exc = getattr(error, "exception", None) or error
    if isinstance(exc, NO_ANSWER_ERRORS):
        return True
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
