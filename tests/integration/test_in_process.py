"""Modules run in the task worker (plugin_utils/in_process.py) exactly as they do as module processes.

The same plays run twice against a freshly reset local AWS: once in-process (the local inventory's
default), once with SEED_AWS_MIGRATION_IN_PROCESS=0 (Ansible's AnsiballZ module process). Every task
result must be the same (check mode, diff, warnings, failures, no_log censoring), with the same requests
at the server. `-vvv` says which path each task took.
"""

from __future__ import annotations

import re
import sys

from support.servers import boto3_client

SECRET_VALUE = "in-process-Secr3t-value"

PLAY = [
    {"name": "Check mode with diff", "seed.aws_migration.ecs_cluster": {"name": "ip-cluster", "tags": {"a": "1"}},
     "check_mode": True, "diff": True},
    {"name": "Create with diff", "seed.aws_migration.ecs_cluster": {"name": "ip-cluster", "tags": {"a": "1"}},
     "diff": True},
    {"name": "Re-apply", "seed.aws_migration.ecs_cluster": {"name": "ip-cluster", "tags": {"a": "1"}}},
    {"name": "Bad input fails naming the field", "seed.aws_migration.ecs_cluster": {"name": "bad name!"},
     "ignore_errors": True},
    {"name": "Unknown option", "seed.aws_migration.ecs_cluster": {"name": "x", "colour": "red"},
     "ignore_errors": True},
    {"name": "A secret value given by the caller", "seed.aws_migration.secret": {
        "name": "seed/ip/token", "value": SECRET_VALUE}},
    {"name": "Its value is not returned", "seed.aws_migration.secret_info": {"name": "seed/ip/token"}},
    # secret.py warns when check mode cannot read the value of a secret scheduled for deletion
    {"name": "Schedule deletion", "seed.aws_migration.secret": {"name": "seed/ip/token", "state": "absent"}},
    {"name": "A module warning", "seed.aws_migration.secret": {"name": "seed/ip/token", "value": SECRET_VALUE},
     "check_mode": True},
]

VOLATILE = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)?|\b\d{10}(\.\d+)?\b|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f-]{27}"
                      r"|arn:aws:[^\"' ]+|-[A-Za-z0-9]{6}\b")


def _normalised(results):
    """Task results without what differs between two creations of the same resources (times, ARNs, IDs)."""
    out = []
    for result in results:
        result = {k: v for k, v in result.items() if k not in ("_ansible_no_log", "invocation")}
        out.append(VOLATILE.sub("<v>", repr(sorted(result.items()))))
    return out


def _run(ansible, clean_aws, switch):
    clean_aws.reset_state()
    ansible.extra_env["SEED_AWS_MIGRATION_IN_PROCESS"] = switch
    play = ansible.tasks(PLAY, diff=True, verbosity=3)
    return play, clean_aws.requests()


def test_both_paths_give_the_same_results(clean_aws, ansible):
    in_process, in_process_requests = _run(ansible, clean_aws, "1")
    module_process, module_process_requests = _run(ansible, clean_aws, "0")

    assert in_process.returncode == module_process.returncode == 0, in_process.stderr[-2000:]
    results = in_process.task_results()
    assert len(results) == len(PLAY)
    assert _normalised(results) == _normalised(module_process.task_results())
    assert in_process_requests == module_process_requests

    check, create, again, bad, unknown, _secret, info, _gone, warned = results
    assert check["changed"] and check["diff"] and check["actions"] == create["actions"]
    assert create["changed"] and not again["changed"]
    assert bad["failed"] and bad["msg"].startswith("name:")
    assert unknown["failed"] and "colour" in unknown["msg"]
    assert "secret_string" not in repr(info)
    assert [w for w in warned.get("warnings", []) if "scheduled for deletion" in str(w)], warned
    assert len(warned["warnings"]) == 1 and not warned.get("deprecations"), warned  # once, no deprecation
    for play in (in_process, module_process):
        assert SECRET_VALUE not in play.stdout

    # which path each task took
    assert len(re.findall(r"runs in the task worker \(in-process", in_process.stdout)) == len(PLAY)
    assert "AnsiballZ_" not in in_process.stdout
    assert len(re.findall(r"runs as a module process: SEED_AWS_MIGRATION_IN_PROCESS=0", module_process.stdout)) \
        == len(PLAY)
    assert "AnsiballZ_ecs_cluster.py" in module_process.stdout


def test_other_interpreter_takes_the_module_process(clean_aws, ansible, tmp_path):
    """A task whose Python is not the controller's (here: the same binary by another path) is not run in-process."""
    other = tmp_path / "python3"
    other.symlink_to(sys.executable)
    play = ansible.tasks([{"name": "Elsewhere", "seed.aws_migration.ecs_cluster": {"name": "ip-other"},
                           "vars": {"ansible_python_interpreter": str(other)}}], verbosity=3)
    assert play.returncode == 0, play.stderr[-2000:]
    assert "is not the controller's Python" in play.stdout
    assert "AnsiballZ_ecs_cluster.py" in play.stdout


def test_task_environment_is_applied_and_restored(clean_aws, ansible):
    """`environment:` reaches the module in-process as it would a module process (here: an unusable proxy)."""
    proxy = {"HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}
    play = ansible.tasks([
        {"name": "Through a dead proxy", "seed.aws_migration.ecs_cluster": {"name": "ip-env"},
         "environment": proxy, "ignore_errors": True},
        {"name": "Without it", "seed.aws_migration.ecs_cluster": {"name": "ip-env"}},
    ], verbosity=3)
    assert play.returncode == 0, play.stderr[-2000:]
    through_proxy, direct = play.task_results()
    assert through_proxy["failed"] and "127.0.0.1:9" in through_proxy["msg"]
    assert direct["changed"]
    assert len(re.findall(r"runs in the task worker", play.stdout)) == 2
    ecs = boto3_client("ecs", clean_aws.endpoint_url)
    assert [c["clusterName"] for c in ecs.describe_clusters(clusters=["ip-env"])["clusters"]] == ["ip-env"]
