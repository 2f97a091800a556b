"""Tests of the local AWS tooling in tools/, over real HTTP on 127.0.0.1.

Run with: python3 -m pytest tests/integration/test_local_tools.py -q
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError
from support.servers import TOOLS_DIR, FaultProxy, LocalAwsServer, boto3_client, http_json

NO_RETRIES = {"total_max_attempts": 1}
STANDARD_RETRIES = {"mode": "standard", "max_attempts": 10}


def _ec2_calls(client: Any) -> None:
    client.create_vpc(CidrBlock="10.10.0.0/16")
    client.create_vpc(CidrBlock="10.11.0.0/16")
    client.describe_vpcs()


def _logs_calls(client: Any) -> None:
    client.create_log_group(logGroupName="/seed/app")
    client.put_retention_policy(logGroupName="/seed/app", retentionInDays=7)
    client.describe_log_groups()


def _iam_calls(client: Any) -> None:
    client.create_role(
        RoleName="seed-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    client.get_role(RoleName="seed-role")
    client.list_roles()


def _s3_calls(client: Any) -> None:
    client.create_bucket(Bucket="seed-bucket")
    client.list_buckets()
    client.list_objects_v2(Bucket="seed-bucket")


# service, calls, expected by_action, expected writes_by_action
COUNTING_CASES = [
    pytest.param(
        "ec2",
        _ec2_calls,
        {"ec2:CreateVpc": 2, "ec2:DescribeVpcs": 1},
        {"ec2:CreateVpc": 2},
        id="ec2-query",
    ),
    pytest.param(
        "logs",
        _logs_calls,
        {"logs:CreateLogGroup": 1, "logs:PutRetentionPolicy": 1, "logs:DescribeLogGroups": 1},
        {"logs:CreateLogGroup": 1, "logs:PutRetentionPolicy": 1},
        id="logs-json",
    ),
    pytest.param(
        "iam",
        _iam_calls,
        {"iam:CreateRole": 1, "iam:GetRole": 1, "iam:ListRoles": 1},
        {"iam:CreateRole": 1},
        id="iam-query-global",
    ),
    pytest.param(
        "s3",
        _s3_calls,
        {"s3:PUT /seed-bucket": 1, "s3:GET /": 1, "s3:GET /seed-bucket": 1},
        {"s3:PUT /seed-bucket": 1},
        id="s3-rest",
    ),
]


@pytest.mark.parametrize("service, calls, by_action, writes_by_action", COUNTING_CASES)
def test_counts_classify_reads_and_writes(
    clean_aws: LocalAwsServer,
    service: str,
    calls: Callable[[Any], None],
    by_action: dict[str, int],
    writes_by_action: dict[str, int],
) -> None:
    calls(boto3_client(service, clean_aws.endpoint_url))

    counts = clean_aws.requests()
    writes = sum(writes_by_action.values())
    assert counts["by_action"] == by_action
    assert counts["writes_by_action"] == writes_by_action
    assert (counts["total"], counts["writes"], counts["reads"]) == (3, writes, 3 - writes)


def test_reset_counts_and_state(clean_aws: LocalAwsServer) -> None:
    ec2 = boto3_client("ec2", clean_aws.endpoint_url)
    cidr_filter = [{"Name": "cidr-block", "Values": ["10.42.0.0/16"]}]
    ec2.create_vpc(CidrBlock="10.42.0.0/16")
    assert clean_aws.requests()["total"] == 1

    clean_aws.reset_counts()
    assert clean_aws.requests() == {
        "total": 0,
        "reads": 0,
        "writes": 0,
        "by_action": {},
        "writes_by_action": {},
    }
    assert len(ec2.describe_vpcs(Filters=cidr_filter)["Vpcs"]) == 1, "reset_counts must keep moto state"

    clean_aws.reset_counts()
    http_json("POST", clean_aws.endpoint_url + "/moto-api/reset")
    clean_aws.requests()
    assert clean_aws.requests()["total"] == 0, "/moto-api and /_seed calls are not counted"
    assert ec2.describe_vpcs(Filters=cidr_filter)["Vpcs"] == []

    ec2.create_vpc(CidrBlock="10.42.0.0/16")
    clean_aws.reset_state()
    assert clean_aws.requests()["total"] == 0
    assert ec2.describe_vpcs(Filters=cidr_filter)["Vpcs"] == []


# service, a read call, the codes an injected fault may carry
FAULT_CASES: dict[str, tuple[Callable[[Any], Any], set[str]]] = {
    "ec2": (lambda c: c.describe_vpcs(), {"RequestLimitExceeded", "InternalError", "Unavailable"}),
    "logs": (
        lambda c: c.describe_log_groups(),
        {"ThrottlingException", "InternalFailure", "ServiceUnavailableException"},
    ),
    "iam": (lambda c: c.list_roles(), {"Throttling", "InternalFailure", "ServiceUnavailable"}),
    "s3": (lambda c: c.list_buckets(), {"SlowDown", "InternalError", "ServiceUnavailable"}),
    "lambda": (
        lambda c: c.list_functions(),
        {"ThrottlingException", "InternalFailure", "ServiceUnavailableException"},
    ),
    "cloudwatch": (
        lambda c: c.list_metrics(),
        {"ThrottlingException", "InternalFailure", "ServiceUnavailableException"},
    ),
}
STATUS_BY_CODE = {
    "RequestLimitExceeded": 400,
    "Throttling": 400,
    "ThrottlingException": 400,
    "SlowDown": 503,
    "InternalError": 500,
    "InternalFailure": 500,
    "Unavailable": 503,
    "ServiceUnavailable": 503,
    "ServiceUnavailableException": 503,
}


def test_fault_proxy_injects_parseable_faults_at_rate(
    clean_aws: LocalAwsServer, fault_proxy: FaultProxy
) -> None:
    calls = 200
    clients = {name: boto3_client(name, fault_proxy.endpoint_url, retries=NO_RETRIES) for name in FAULT_CASES}
    services = list(FAULT_CASES)
    errors: Counter[tuple[str, str]] = Counter()
    for index in range(calls):
        service = services[index % len(services)]
        call, allowed_codes = FAULT_CASES[service]
        try:
            call(clients[service])
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            assert code in allowed_codes, f"{service}: unexpected error {code}"
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == STATUS_BY_CODE[code]
            errors[(service, code)] += 1

    stats = fault_proxy.stats()
    injected = sum(errors.values())
    assert stats["injected"] == injected
    assert stats["forwarded"] + injected == calls
    assert 20 <= injected <= 60, f"{injected} faults in {calls} calls at rate 0.2"
    assert sum(stats["injected_by_code"].values()) == injected
    assert clean_aws.requests()["total"] == stats["forwarded"], "faults must not reach the server"


def test_fault_proxy_rate_can_be_changed(clean_aws: LocalAwsServer, fault_proxy: FaultProxy) -> None:
    ec2 = boto3_client("ec2", fault_proxy.endpoint_url, retries=NO_RETRIES)
    fault_proxy.set_rate(0.0)
    for _attempt in range(10):
        ec2.describe_vpcs()
    fault_proxy.set_rate(1.0)
    with pytest.raises(ClientError):
        ec2.describe_vpcs()
    stats = fault_proxy.stats()
    assert (stats["forwarded"], stats["injected"], stats["rate"]) == (10, 1, 1.0)


def test_fault_proxy_drops_connections_before_and_after_forwarding(
    clean_aws: LocalAwsServer, fault_proxy: FaultProxy
) -> None:
    """A dropped connection reaches botocore as ConnectionClosedError; ``drop_once`` carries the request out."""
    ec2 = boto3_client("ec2", fault_proxy.endpoint_url, retries=NO_RETRIES)
    fault_proxy.set_rate(0.0, drop_rate=0.5)
    dropped = 0
    for _attempt in range(40):
        try:
            ec2.describe_vpcs()
        except ConnectionClosedError:
            dropped += 1
    stats = fault_proxy.stats()
    by_code = stats["injected_by_code"]
    assert 8 <= dropped <= 32 and dropped == stats["injected"], stats
    assert by_code.get("dropped-after-forward", 0) > 0 and by_code.get("dropped-before-forward", 0) > 0, stats
    assert clean_aws.requests()["total"] == stats["forwarded"]
    assert stats["forwarded"] == 40 - by_code["dropped-before-forward"], "a drop after forwarding is carried out"

    fault_proxy.set_rate(0.0, drop_rate=0.0)
    fault_proxy.drop_once(r"POST /")
    with pytest.raises(ConnectionClosedError):
        ec2.create_vpc(CidrBlock="10.30.0.0/16")
    assert [v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.30.0.0/16"] == [
        "10.30.0.0/16"]


def test_retries_absorb_faults_without_duplicate_writes(
    clean_aws: LocalAwsServer, fault_proxy: FaultProxy
) -> None:
    """50 CreateVpc calls from 10 threads (like Ansible forks), so retry back-offs overlap."""

    def create_vpcs(count: int) -> list[str]:
        ec2 = boto3_client("ec2", fault_proxy.endpoint_url, retries=STANDARD_RETRIES)
        return [ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"] for _index in range(count)]

    with ThreadPoolExecutor(max_workers=10) as pool:
        vpc_ids = {vpc_id for batch in pool.map(create_vpcs, [5] * 10) for vpc_id in batch}

    assert len(vpc_ids) == 50
    assert fault_proxy.stats()["injected"] > 0
    assert clean_aws.requests()["writes_by_action"] == {"ec2:CreateVpc": 50}


def _local_env(command: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    # The local AWS alone: the Docker engine and registry are covered by test_local_docker.py.
    env = dict(os.environ, SEED_LOCAL_STATE_DIR=str(state_dir), SEED_LOCAL_SERVICES="aws")
    return subprocess.run(
        [sys.executable, str(TOOLS_DIR / "local_env.py"), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _pid_running(pid: int) -> bool:
    """Alive and not a zombie (an orphaned server may not be reaped in containers)."""
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def test_local_env_up_down_is_idempotent(tmp_path: Path) -> None:
    state = tmp_path / "state"
    try:
        first = _local_env("up", state)
        assert first.returncode == 0, first.stderr
        record = json.loads((state / "aws" / "server.json").read_text())
        endpoint = (state / "aws" / "endpoint_url").read_text()
        assert endpoint == record["endpoint_url"] + "\n"
        assert "started" in first.stdout

        second = _local_env("up", state)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        assert json.loads((state / "aws" / "server.json").read_text()) == record

        assert http_json("GET", record["endpoint_url"] + "/_seed/requests")["total"] == 0
        assert _local_env("env", state).stdout == f"export SEED_AWS_ENDPOINT_URL={record['endpoint_url']}\n"
        assert _local_env("status", state).returncode == 0
    finally:
        down = _local_env("down", state)
    assert down.returncode == 0 and f"stopped pid {record['pid']}" in down.stdout
    assert not _pid_running(record["pid"])
    assert not (state / "aws" / "server.json").exists()
    assert not (state / "aws" / "endpoint_url").exists()

    again = _local_env("down", state)
    assert again.returncode == 0 and "nothing to stop" in again.stdout
    assert _local_env("status", state).returncode == 3
