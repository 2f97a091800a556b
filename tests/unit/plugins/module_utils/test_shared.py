# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pieces: diff builder, waiting, tags, create-once, retry classification."""

import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionClosedError
from botocore.exceptions import ConnectTimeoutError
from botocore.exceptions import EndpointConnectionError
from botocore.exceptions import IncompleteReadError
from botocore.exceptions import ProxyConnectionError
from botocore.exceptions import ReadTimeoutError
from botocore.exceptions import ResponseStreamingError
from botocore.exceptions import SSLError

from ansible_collections.seed.aws_migration.plugins.module_utils.diff import build_diff
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import changed_paths
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import WaitFailedError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import WaitTimeoutError
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import already_done
from ansible_collections.seed.aws_migration.plugins.module_utils import retries
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import is_transient
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import create_once
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import resource_tags
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import text_tags
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import fail_wait
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_for


def client_error(code, operation="CreateVpc"):
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


def test_changed_paths_and_diff():
    before = {"vpc": {"cidr": "10.0.0.0/16", "dns": True}, "subnets": ["a"]}
    after = {"vpc": {"cidr": "10.0.0.0/16", "dns": False}, "subnets": ["a", "b"], "nat": "x"}
    assert changed_paths(before, after) == ["nat", "subnets", "vpc.dns"]
    assert build_diff(None, after) == {"before": {}, "after": after}


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_returns_when_done():
    states = iter([(False, "pending"), (False, "pending"), (True, "available")])
    clock = FakeClock()
    assert wait_for(lambda: next(states), "x", 60, clock=clock, sleep=clock.sleep) == "available"


def test_wait_times_out_with_last_state():
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError) as e:
        wait_for(lambda: (False, "nat-1=pending"), "NAT gateways", 30, clock=clock, sleep=clock.sleep)
    assert "NAT gateways" in e.value.message and "nat-1=pending" in e.value.message and "30s" in e.value.message
    assert clock.now <= 30


def test_wait_failure_carries_reason():
    def poll():
        fail_wait("NAT gateway nat-1 failed: InsufficientFreeAddressesInSubnet")

    with pytest.raises(WaitFailedError, match="InsufficientFreeAddressesInSubnet"):
        wait_for(poll, "x", 30)


def test_identity_tags_win_and_are_never_purged():
    tags = resource_tags({"team": "a", "seed:name": "evil"}, {"seed:name": "main"}, "test-main")
    assert tags == {"team": "a", "seed:name": "main", "Name": "test-main"}
    to_set, to_unset = tag_delta({"seed:name": "main", "Name": "n", "old": "1"}, {"team": "b"}, purge_tags=True)
    assert to_set == {"team": "b"} and to_unset == ["old"]


def test_create_once_adopts_what_a_lost_response_created():
    calls = []

    def create():
        calls.append("create")
        raise SeedAWSError(message="Failed to create VPC", exception=client_error("InternalError"))

    assert create_once(create, lambda: {"VpcId": "vpc-1"}) == {"VpcId": "vpc-1"}
    assert calls == ["create"]


def test_create_once_retries_when_nothing_was_created():
    results = iter([SeedAWSError(message="x", exception=client_error("503")), {"VpcId": "vpc-2"}])

    def create():
        result = next(results)
        if isinstance(result, Exception):
            raise result
        return result

    assert create_once(create, lambda: None) == {"VpcId": "vpc-2"}


def test_create_once_does_not_swallow_real_errors():
    def create():
        raise SeedAWSError(message="x", exception=client_error("VpcLimitExceeded"))

    with pytest.raises(SeedAWSError):
        create_once(create, lambda: {"VpcId": "never"})


def test_transient_classification():
    assert is_transient(client_error("RequestLimitExceeded"))
    assert is_transient(SeedAWSError(message="m", exception=client_error("500")))
    assert not is_transient(client_error("InvalidParameterValue"))


URL = "https://ec2.us-east-1.amazonaws.com/"
# What botocore raises instead of an answer: never sent (raised while connecting) ...
NOT_SENT = [EndpointConnectionError(endpoint_url=URL), ConnectTimeoutError(endpoint_url=URL)]
# ... and sent, with no (whole) answer: the request may have been carried out.
NO_ANSWER = [ConnectionClosedError(endpoint_url=URL), ReadTimeoutError(endpoint_url=URL),
             ProxyConnectionError(proxy_url="http://proxy:3128"), ResponseStreamingError(error="reset"),
             IncompleteReadError(actual_bytes=10, expected_bytes=20)]


def ids(errors):
    return [type(e).__name__ for e in errors]


def flaky(*failures):
    """A call failing with ``failures`` in turn, then answering "done"; ``calls`` counts the attempts."""
    pending = list(failures)

    def call():
        call.calls += 1
        if pending:
            raise pending.pop(0)
        return "done"

    call.calls = 0
    return call


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(retries.time, "sleep", slept.append)
    return slept


def test_the_two_families_cover_every_connection_error_and_do_not_overlap():
    assert set(retries.NOT_SENT_ERRORS) == {type(e) for e in NOT_SENT}
    assert set(retries.NO_ANSWER_ERRORS) == {type(e) for e in NO_ANSWER}


@pytest.mark.parametrize("error", NOT_SENT + NO_ANSWER, ids=ids(NOT_SENT + NO_ANSWER))
def test_retry_repeats_a_call_after_a_connection_failure(sleeps, error):
    """Our clients make one attempt (botocore's retries are off): ``retry`` repeats connection failures,
    whether the request was sent or not, with a growing jittered back-off."""
    call = flaky(error, error, error)
    assert retries.retry(call)() == "done"
    assert call.calls == 4
    assert 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2 and 2 <= sleeps[2] <= 4


def test_retry_gives_up_after_its_connection_attempts(sleeps):
    call = flaky(*[ConnectionClosedError(endpoint_url=URL)] * (retries.CONNECTION_RETRIES + 1))
    with pytest.raises(ConnectionClosedError):
        retries.retry(call)()
    assert call.calls == retries.CONNECTION_RETRIES + 1


def test_retry_does_not_repeat_tls_failures(sleeps):
    call = flaky(SSLError(endpoint_url=URL, error="certificate verify failed"))
    with pytest.raises(SSLError):
        retries.retry(call)()
    assert call.calls == 1 and sleeps == []


@pytest.mark.parametrize("error", NOT_SENT, ids=ids(NOT_SENT))
def test_creates_without_a_token_repeat_requests_never_sent(sleeps, error):
    call = flaky(error)
    assert retries.retry_throttling(call)() == "done"
    assert call.calls == 2
    # retried already: not one for create_once to look up and try again
    assert not is_transient(error) and not is_transient(SeedAWSError(message="m", exception=error))


@pytest.mark.parametrize("error", NO_ANSWER, ids=ids(NO_ANSWER))
def test_creates_without_a_token_do_not_repeat_a_request_that_may_have_been_carried_out(sleeps, error):
    """The create may have happened: it is not repeated blindly, and counts as transient for ``create_once``,
    which looks the resource up first."""
    call = flaky(error)
    with pytest.raises(type(error)):
        retries.retry_throttling(call)()
    assert call.calls == 1 and sleeps == []
    assert is_transient(error) and is_transient(SeedAWSError(message="m", exception=error))


def test_tls_failures_are_not_transient():
    assert not is_transient(SSLError(endpoint_url=URL, error="x"))


@pytest.mark.parametrize("error", NO_ANSWER, ids=ids(NO_ANSWER))
def test_create_once_adopts_what_a_dropped_connection_created(error):
    calls = []

    def create():
        calls.append("create")
        raise SeedAWSError(message="Failed to create VPC", exception=error)

    assert create_once(create, lambda: {"VpcId": "vpc-3"}) == {"VpcId": "vpc-3"}
    assert calls == ["create"]


def test_already_done_treats_duplicate_as_success():
    @already_done("InvalidPermission.Duplicate")
    def authorize():
        raise client_error("InvalidPermission.Duplicate", "AuthorizeSecurityGroupIngress")

    @already_done("InvalidPermission.Duplicate")
    def other():
        raise client_error("InvalidGroup.NotFound", "AuthorizeSecurityGroupIngress")

    assert authorize() is None
    with pytest.raises(ClientError):
        other()


def test_tag_values_become_the_text_aws_stores():
    assert text_tags({"cost_center": 1234, "billable": True, "off": False, "ratio": 0.5, "empty": None,
                      "team": "web"}) == {"cost_center": "1234", "billable": "true", "off": "false", "ratio": "0.5",
                                          "empty": "", "team": "web"}


@pytest.mark.parametrize("tags, field", [
    ({"team": ["a"]}, "tags.team"),
    ({"team": {"a": 1}}, "tags.team"),
    ({"team": "x" * 257}, "tags.team"),
    ({"aws:team": "x"}, "tags"),
    ({"AWS:team": "x"}, "tags"),
    ({"k" * 129: "x"}, "tags"),
    ({"": "x"}, "tags"),
])
def test_tags_aws_cannot_store_name_the_tag(tags, field):
    with pytest.raises(SeedAWSError) as e:
        text_tags(tags)
    assert e.value.field == field and e.value.message.startswith(field + ": ")
