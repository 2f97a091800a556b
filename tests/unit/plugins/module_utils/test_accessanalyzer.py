# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""accessanalyzer's pure part: locations, ignore rules, failure messages and what counts as "not available".

The error responses are hand-written in the shapes botocore gives (ClientError ``response["Error"]``); moto has
no Access Analyzer to record them from.
"""

import botocore.exceptions
import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils import accessanalyzer as aa
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError


def finding(kind, code, path=None):
    return {"findingType": kind, "issueCode": code, "findingDetails": "d", "learnMoreLink": "l",
            "locations": [{"path": path or [], "span": {"start": {"line": 1, "column": 0, "offset": 0},
                                                        "end": {"line": 1, "column": 1, "offset": 1}}}]}


@pytest.mark.parametrize("path, text", [
    ([{"value": "Statement"}, {"index": 0}, {"value": "Action"}, {"index": 2}], "Statement[0].Action[2]"),
    ([{"value": "Statement"}, {"index": 1}, {"key": "Conditon"}], "Statement[1].Conditon (key)"),
    ([{"value": "Statement"}, {"index": 0}, {"value": "Resource"}, {"substring": {"start": 13, "length": 4}}],
     "Statement[0].Resource (characters 13-17)"),
    ([], ""),
])
def test_location_text(path, text):
    assert aa.location_text([{"path": path, "span": {}}]) == text
    assert aa.location_text([]) == ""


def test_classify_ignores_by_code_and_glob_and_counts_the_rest():
    results = [
        {"name": "role/a-task/inline/seed-policy", "source": "s", "findings": [
            finding("SECURITY_WARNING", "PASS_ROLE_WITH_STAR_IN_RESOURCE"), finding("SUGGESTION", "EMPTY_ARRAY_ACTION")]},
        {"name": "deployer", "source": "s", "findings": [finding("SECURITY_WARNING", "PASS_ROLE_WITH_STAR_IN_RESOURCE"),
                                                         finding("ERROR", "MISSING_VERSION")]},
    ]
    ignore = [{"issue_code": "PASS_ROLE_WITH_STAR_IN_RESOURCE", "policy": "role/*/inline/*", "reason": "r1"},
              {"issue_code": "REDUNDANT_ACTION", "policy": "*", "reason": "r2"}]
    counts, failed, unused = aa.classify(results, ignore, {"ERROR", "SECURITY_WARNING"})
    assert counts == {"ERROR": 1, "SECURITY_WARNING": 1, "WARNING": 0, "SUGGESTION": 1}
    assert failed == ["deployer"] and unused == [1]
    assert [f["issueCode"] for f in results[0]["findings"]] == ["EMPTY_ARRAY_ACTION"]
    assert results[0]["ignored"][0]["reason"] == "r1"
    message = aa.failure_message(results, failed, {"ERROR", "SECURITY_WARNING"})
    assert message == ("IAM Access Analyzer reports findings of type ERROR, SECURITY_WARNING (fail_on) in 1 policy: "
                       "deployer (s): SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE, ERROR MISSING_VERSION")


def client_error(code, status, message="m"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message},
                                            "ResponseMetadata": {"HTTPStatusCode": status}}, "ValidatePolicy")


@pytest.mark.parametrize("error, start", [
    (botocore.exceptions.EndpointConnectionError(endpoint_url="https://access-analyzer.x.amazonaws.com/"),
     "cannot connect to its endpoint"),
    (botocore.exceptions.ConnectTimeoutError(endpoint_url="https://access-analyzer.x.amazonaws.com/"),
     "cannot connect to its endpoint"),
    (client_error("AccessDeniedException", 403), "AccessDeniedException: these credentials may not call"),
    (client_error("UnrecognizedClientException", 403), "UnrecognizedClientException: the endpoint does not know"),
    (client_error("UnknownOperationException", 404), "UnknownOperationException: the endpoint does not implement"),
    (client_error("500", 500, "<html>Internal Server Error</html>"), "the endpoint answered ValidatePolicy with HTTP 500"),
    (client_error("501", 501), "the endpoint answered ValidatePolicy with HTTP 501"),
])
def test_unavailable(error, start):
    assert aa.unavailable_reason(error).startswith(start)
    wrapped = SeedAWSError(message="Failed to validate policy with IAM Access Analyzer", exception=error)
    assert aa.unavailable_reason(wrapped).startswith(start)


@pytest.mark.parametrize("error", [
    client_error("ValidationException", 400),  # the request is wrong: a bug to report, not "unavailable"
    client_error("ThrottlingException", 400),  # retried by the wrapper; still throttled afterwards is a failure
    client_error("InternalServerException", 500),
    client_error("503", 503),  # a gateway in trouble: retried, then reported as a failure
    botocore.exceptions.NoCredentialsError(),  # every other call fails the same way
    ValueError("x"),
])
def test_not_unavailable(error):
    assert aa.unavailable_reason(error) is None


def test_validate_policy_does_not_retry_a_bare_500():
    calls = []

    class Client:
        def get_paginator(self, name):
            calls.append(name)
            raise client_error("500", 500, "<html>")

    with pytest.raises(SeedAWSError) as e:
        aa.validate_policy(Client(), "{}", "IDENTITY_POLICY")
    assert calls == ["validate_policy"] and e.value.message == "Failed to validate policy with IAM Access Analyzer"


def test_managed_policy_names():
    assert aa.is_aws_managed("arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert aa.is_aws_managed("arn:aws-us-gov:iam::aws:policy/service-role/X")
    assert not aa.is_aws_managed("arn:aws:iam::123456789012:policy/seed/boundary")
    assert aa.managed_policy_name("arn:aws:iam::123456789012:policy/seed/boundary") == "policy/seed/boundary"
    assert aa.managed_policy_name("arn:aws:iam::123456789012:policy/top") == "policy/top"
