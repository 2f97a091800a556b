# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for several services' rollouts together (ecs.wait_for_rollouts), with recorded responses.

The local AWS runs no containers: every rollout there completes at once, so rollouts in progress,
failed ones and timeouts cannot happen against it. The fake client below answers DescribeServices,
ListTasks and DescribeTasks with the documented response shapes (deployments[].rolloutState,
events[], stoppedReason, containers[].reason/exitCode), one scripted answer per poll, and records
every request so the tests can count them.
"""

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils import ecs
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import WaitFailedError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import WaitTimeoutError


def service(name, state, running=1, desired=1, reason=None, events=()):
    deployment = {"id": f"ecs-svc/{name}", "status": "PRIMARY", "rolloutState": state, "runningCount": running,
                  "desiredCount": desired}
    if reason:
        deployment["rolloutStateReason"] = reason
    return {"serviceName": name, "status": "ACTIVE", "desiredCount": desired, "runningCount": running,
            "deployments": [deployment], "events": [{"message": m} for m in events]}


class FakeECS:
    """DescribeServices answers from a script: one dict name -> service per poll (the last one repeats)."""

    class exceptions:  # noqa: N801 - the shape of a boto3 client's exceptions attribute
        class ClusterNotFoundException(Exception):
            pass

    def __init__(self, polls, stopped=None):
        self.polls = polls
        self.stopped = stopped or {}
        self.requests = []
        self.poll = 0

    def describe_services(self, cluster, services, include):
        assert include == ["TAGS"] and len(services) <= 10
        self.requests.append(("DescribeServices", tuple(services)))
        answer = self.polls[min(self.poll, len(self.polls) - 1)]
        return {"services": [answer[name] for name in services if name in answer], "failures": []}

    def list_tasks(self, cluster, serviceName, desiredStatus, maxResults):  # noqa: N803 - boto3's names
        self.requests.append(("ListTasks", serviceName))
        return {"taskArns": [t["taskArn"] for t in self.stopped.get(serviceName, [])]}

    def describe_tasks(self, cluster, tasks):
        self.requests.append(("DescribeTasks", tuple(tasks)))
        return {"tasks": [t for ts in self.stopped.values() for t in ts if t["taskArn"] in tasks]}


@pytest.fixture
def wait(monkeypatch):
    """``wait(client, names, timeout)``: ecs.wait_for_rollouts on a fake clock; a sleep moves the script on."""
    original = ecs.wait_for

    def run(client, names, timeout=60):
        sleeps, clock = [], iter(range(0, 10 ** 6, 5))

        def sleep(seconds):
            sleeps.append(seconds)
            client.poll += 1

        monkeypatch.setattr(ecs, "wait_for", lambda poll, what, timeout_, **kw: original(
            poll, what, timeout_, clock=lambda: next(clock), sleep=sleep, **kw))
        return ecs.wait_for_rollouts(client, "it", names, timeout), sleeps

    return run


def test_services_rolling_out_together_are_polled_in_one_request_until_the_slowest_completes(wait):
    client = FakeECS([
        {"frontend": service("frontend", "IN_PROGRESS", 0), "backend": service("backend", "IN_PROGRESS", 0)},
        {"frontend": service("frontend", "COMPLETED"), "backend": service("backend", "IN_PROGRESS", 0)},
        {"frontend": service("frontend", "COMPLETED"), "backend": service("backend", "COMPLETED")},
    ])
    done, sleeps = wait(client, ["frontend", "backend"])
    assert sorted(done) == ["backend", "frontend"]
    assert done["backend"]["deployments"][0]["rolloutState"] == "COMPLETED"
    # Poll 1 asks for both, poll 2 for both, poll 3 only for the one still rolling out.
    assert client.requests == [("DescribeServices", ("backend", "frontend")),
                               ("DescribeServices", ("backend", "frontend")),
                               ("DescribeServices", ("backend",))]
    assert len(sleeps) == 2


def test_more_than_ten_services_take_one_request_per_ten(wait):
    names = [f"app{i:02d}" for i in range(12)]
    client = FakeECS([{n: service(n, "COMPLETED") for n in names}])
    done, _sleeps = wait(client, names)
    assert sorted(done) == names
    assert [len(r[1]) for r in client.requests] == [10, 2]


def test_a_failed_rollout_ends_the_wait_naming_the_service_with_its_events_and_stopped_tasks(wait):
    stopped = {"backend": [{"taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/it/4f1",
                            "stoppedReason": "Task failed ELB health checks in (target-group tg/it-backend)",
                            "containers": [{"name": "backend", "exitCode": 1}]}]}
    client = FakeECS([
        {"frontend": service("frontend", "IN_PROGRESS", 0), "backend": service("backend", "IN_PROGRESS", 0)},
        {"frontend": service("frontend", "IN_PROGRESS", 0),
         "backend": service("backend", "FAILED", 0, reason="ECS deployment circuit breaker: tasks failed to start.",
                            events=["(service backend) deployment ecs-svc/backend deployment failed"])},
    ], stopped)
    with pytest.raises(WaitFailedError) as e:
        wait(client, ["frontend", "backend"])
    message = e.value.message
    assert message.startswith("Rollout of service backend failed: deployment ecs-svc/backend failed. ")
    assert "circuit breaker: tasks failed to start" in message
    assert "deployment ecs-svc/backend deployment failed" in message
    assert "4f1: Task failed ELB health checks in (target-group tg/it-backend) (backend: exit 1)" in message
    assert "frontend" not in message


def test_a_timeout_names_every_service_still_rolling_out_with_its_report(wait):
    client = FakeECS([
        {"frontend": service("frontend", "COMPLETED"),
         "backend": service("backend", "IN_PROGRESS", 0, 2, events=["(service backend) has started 2 tasks"]),
         "worker": service("worker", "IN_PROGRESS", 1, 2)},
    ])
    with pytest.raises(WaitTimeoutError) as e:
        wait(client, ["frontend", "backend", "worker"], timeout=10)
    message = e.value.message
    assert message.startswith("Timed out after 10s waiting for the rollouts of services backend, frontend, worker")
    assert "last state: backend: IN_PROGRESS (0/2 running); worker: IN_PROGRESS (1/2 running)" in message
    assert "backend: Recent events: (service backend) has started 2 tasks" in message
    assert "worker: ECS gave no reason." in message


def test_a_service_that_does_not_exist_ends_the_wait_at_once(wait):
    client = FakeECS([{"frontend": service("frontend", "IN_PROGRESS", 0)}])
    with pytest.raises(WaitFailedError) as e:
        wait(client, ["frontend", "backend"])
    assert e.value.message == ("Service backend does not exist in cluster it, so there is no rollout to wait for.")
    assert len(client.requests) == 1


def test_a_deployment_without_rollout_state_is_done_when_it_runs_every_desired_task(wait):
    legacy = service("legacy", None, 2, 2)
    legacy["deployments"][0].pop("rolloutState")
    client = FakeECS([{"legacy": legacy}])
    done, sleeps = wait(client, ["legacy"])
    assert list(done) == ["legacy"] and sleeps == []


TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/it-backend:"


def two_deployments(primary_revision, primary_state, failed_revision):
    """The primary deployment next to a FAILED one (what a rollback leaves, or a fix deployed over a failure)."""
    answer = service("backend", primary_state, 1 if primary_state == "IN_PROGRESS" else 2, 2)
    answer["deployments"] = [
        dict(answer["deployments"][0], id="ecs-svc/3", taskDefinition=TD + str(primary_revision)),
        {"id": "ecs-svc/2", "status": "ACTIVE", "taskDefinition": TD + str(failed_revision), "rolloutState": "FAILED",
         "runningCount": 0, "desiredCount": 0, "rolloutStateReason": "ECS deployment circuit breaker: tasks failed."}]
    return answer


def test_without_a_deployment_id_a_rollback_under_way_fails_the_wait(wait):
    """The circuit breaker rolled revision 7 back to revision 6: the wait by name alone reports the failure
    at once instead of waiting for the rollback to complete and calling that a success."""
    client = FakeECS([{"backend": two_deployments(6, "IN_PROGRESS", 7)}])
    with pytest.raises(WaitFailedError) as e:
        wait(client, ["backend"])
    assert e.value.message.startswith("Rollout of service backend failed: deployment ecs-svc/2 failed and ECS "
                                      "rolled the service back to deployment ecs-svc/3 (it-backend:6)")


def test_without_a_deployment_id_a_failed_deployment_that_a_newer_revision_replaced_only_drains(wait):
    """Revision 7 failed with rollback off, then a fix (revision 8) was deployed: the failed deployment is
    still listed while the fix rolls out. The wait follows the fix to its completion."""
    client = FakeECS([{"backend": two_deployments(8, "IN_PROGRESS", 7)},
                      {"backend": two_deployments(8, "COMPLETED", 7)}])
    done, sleeps = wait(client, ["backend"])
    assert list(done) == ["backend"] and len(sleeps) == 1
    # The same revision deployed again (forceNewDeployment) cannot be told from a rollback to it: a failure.
    client = FakeECS([{"backend": two_deployments(7, "IN_PROGRESS", 7)}])
    with pytest.raises(WaitFailedError):
        wait(client, ["backend"])
