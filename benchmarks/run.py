#!/usr/bin/env python
"""Benchmarks: seed.aws_migration against the same resources built from amazon.aws modules.

Usage::

    python3 benchmarks/run.py                      # every scenario, 3 repeats (make bench)
    python3 benchmarks/run.py --repeat 5 --scenario network
    python3 benchmarks/run.py --scenario stack     # the reference stack only
    python3 benchmarks/run.py --no-readme          # do not touch benchmarks/README.md

One private local AWS server (``tools/local_aws_server.py``: moto with request counters) serves
the whole run. For every scenario and repeat, each variant (ours, then amazon.aws; the order
alternates between repeats) gets: moto state and counters wiped; a *cold* run (the resources do
not exist); the resources counted with boto3; counters zeroed; a *no-op* run (everything exists,
nothing to change). Each run is one whole ``ansible-playbook`` process, timed wall clock, with the
requests it made counted at the server. ``ANSIBLE_*`` and ``AWS_*`` variables of the caller's
environment are not passed on (they would change what is measured); ``--max-load`` waits for a
quiet machine before each measured repeat.

Reported per variant: median (and range) of the wall times, the requests (total/reads/writes), the
per-action breakdown of the no-op run; for the scenario: the wall time ratios ours / amazon.aws
against the targets. Checked: every run succeeds, each no-op run reports changed=0, our no-op
makes no write request, both variants leave the same resources, the ratio targets. The exit
status is 1 when a check fails (``--allow-target-miss``: missed ratio targets only warn).

Results go to ``benchmarks/results/<scenario>.json`` (gitignored) and a generated section of
``benchmarks/README.md`` (between ``<!-- bench:<scenario>:start -->`` and ``...:end -->``).

Scenarios: ``network`` (the network layer) and ``stack`` (the issue's reference stack: network,
ECR, cluster, log group, task definitions, ALB, services). A scenario may also set request targets
for our side (cold requests against the creates the resources need, a no-op request budget),
checked and reported like the wall-time ratios.

Add a layer by adding a :class:`Scenario` to ``SCENARIOS``: our playbook (with extra-vars
files), the amazon.aws playbook, a function that counts the resources, and the targets.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"
INVENTORY = REPO_ROOT / "inventories" / "local"
COLLECTION_LINK = REPO_ROOT / ".collections" / "ansible_collections" / "seed" / "aws_migration"
RUN_TIMEOUT = 900  # seconds per ansible-playbook run

sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
from support.servers import LocalAwsServer, boto3_client  # noqa: E402  pylint: disable=wrong-import-position

RECAP_RE = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


# ------------------------------------------------------------------------------------------------
# Scenarios
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One way of building a scenario's resources: a playbook run with the local inventory."""

    key: str  # "seed" or "amazon_aws"
    label: str
    playbook: str  # relative to the repository root
    extra_vars: tuple[str, ...] = ()  # files, relative to the repository root, passed as -e @FILE

    def command(self, ansible_playbook: str) -> list[str]:
        cmd = [ansible_playbook, "-i", str(INVENTORY), str(REPO_ROOT / self.playbook)]
        for path in self.extra_vars:
            cmd += ["-e", f"@{REPO_ROOT / path}"]
        return cmd


@dataclass(frozen=True)
class Scenario:
    """A layer benchmarked as ours against amazon.aws."""

    name: str
    title: str
    description: str
    seed: Variant
    amazon: Variant
    count_resources: Callable[[Any], dict[str, int]]  # (boto3 EC2 client factory) -> counts
    cold_target: float  # our cold wall time must be <= cold_target x amazon.aws's
    noop_target: float  # same for the no-op run
    notes: tuple[str, ...] = ()  # printed under the results
    amazon_cold_sleep_s: float = 0.0  # fixed sleeps in amazon.aws's cold run (shown as an extra ratio)
    # Request targets of our side (None: no target): the creates the resources need at least
    # (creates_needed, with their breakdown), our cold requests <= cold_requests_factor x that, and
    # our no-op requests <= noop_requests_max.
    creates_needed: int | None = None
    creates_breakdown: str = ""
    cold_requests_factor: float | None = None
    noop_requests_max: int | None = None

    @property
    def variants(self) -> tuple[Variant, Variant]:
        return self.seed, self.amazon


def _not_default_vpcs(ec2) -> list[str]:
    return [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]


def count_network(client_for: Callable[[str], Any]) -> dict[str, int]:
    """VPC resources outside the default VPC, by kind (what both network variants must agree on)."""
    ec2 = client_for("ec2")
    vpc_ids = _not_default_vpcs(ec2)
    counts = {"vpc": len(vpc_ids)}
    if not vpc_ids:
        return counts
    in_vpcs = [{"Name": "vpc-id", "Values": vpc_ids}]
    counts["internet_gateway (attached)"] = len(ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": vpc_ids}])["InternetGateways"])
    counts["subnet"] = len(ec2.describe_subnets(Filters=in_vpcs)["Subnets"])
    counts["nat_gateway (live)"] = len([n for n in ec2.describe_nat_gateways(Filters=in_vpcs)["NatGateways"]
                                        if n["State"] in ("pending", "available")])
    counts["elastic_ip"] = len(ec2.describe_addresses()["Addresses"])
    route_tables = ec2.describe_route_tables(Filters=in_vpcs)["RouteTables"]
    own = [rt for rt in route_tables if not any(a.get("Main") for a in rt.get("Associations", []))]
    counts["route_table (not main)"] = len(own)
    counts["route (not local)"] = sum(1 for rt in own for r in rt.get("Routes", []) if r.get("GatewayId") != "local")
    counts["route_table association"] = sum(1 for rt in own for a in rt.get("Associations", []) if a.get("SubnetId"))
    groups = [g for g in ec2.describe_security_groups(Filters=in_vpcs)["SecurityGroups"]
              if g["GroupName"] != "default"]
    counts["security_group (not default)"] = len(groups)
    if groups:
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [g["GroupId"] for g in groups]}])["SecurityGroupRules"]
        counts["sg rule ingress"] = sum(1 for r in rules if not r.get("IsEgress"))
        counts["sg rule egress"] = sum(1 for r in rules if r.get("IsEgress"))
        counts["sg rule by group reference"] = sum(1 for r in rules if r.get("ReferencedGroupInfo"))
    counts["vpc_endpoint"] = len(ec2.describe_vpc_endpoints(Filters=in_vpcs)["VpcEndpoints"])
    counts["flow_log"] = len(ec2.describe_flow_logs(
        Filter=[{"Name": "resource-id", "Values": vpc_ids}])["FlowLogs"])
    return counts


def count_stack(client_for: Callable[[str], Any]) -> dict[str, int]:
    """The reference stack: the network's counts plus the registry, platform and services, by kind."""
    counts = count_network(client_for)
    ecr = client_for("ecr")
    counts["ecr_repository"] = len(ecr.describe_repositories()["repositories"])
    ecs = client_for("ecs")
    cluster_arns = ecs.list_clusters()["clusterArns"]
    clusters = ecs.describe_clusters(clusters=cluster_arns)["clusters"] if cluster_arns else []
    clusters = [c for c in clusters if c["status"] == "ACTIVE"]
    counts["ecs_cluster (active)"] = len(clusters)
    counts["ecs_cluster capacity provider"] = sum(len(c.get("capacityProviders") or []) for c in clusters)
    counts["ecs_cluster default strategy entry"] = sum(len(c.get("defaultCapacityProviderStrategy") or [])
                                                       for c in clusters)
    families = ecs.list_task_definition_families(status="ACTIVE")["families"]
    counts["ecs task_definition family"] = len(families)
    counts["ecs task_definition (active revisions)"] = len(ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"])
    services = []
    for cluster in clusters:
        arns = ecs.list_services(cluster=cluster["clusterArn"])["serviceArns"]
        if arns:
            services += [s for s in ecs.describe_services(cluster=cluster["clusterArn"], services=arns)["services"]
                         if s["status"] == "ACTIVE"]
    counts["ecs_service (active)"] = len(services)
    counts["ecs_service behind a target group"] = sum(1 for s in services if s.get("loadBalancers"))
    awsvpc = [(s.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {} for s in services]
    counts["ecs_service awsvpc (subnets + groups, no public IP)"] = sum(
        1 for n in awsvpc if n.get("subnets") and n.get("securityGroups") and n.get("assignPublicIp") == "DISABLED")
    counts["ecs_service capacity provider strategy entry"] = sum(len(s.get("capacityProviderStrategy") or [])
                                                                 for s in services)
    counts["ecs_service circuit breaker with rollback"] = sum(
        1 for s in services
        if ((s.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}).get("rollback"))
    logs = client_for("logs")
    groups = logs.describe_log_groups()["logGroups"]
    counts["log_group"] = len(groups)
    counts["log_group with retention"] = sum(1 for g in groups if g.get("retentionInDays"))
    elbv2 = client_for("elbv2")
    lbs = elbv2.describe_load_balancers()["LoadBalancers"]
    counts["load_balancer"] = len(lbs)
    listeners = [li for lb in lbs for li in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]]
    counts["listener"] = len(listeners)
    counts["listener rule (not default)"] = sum(
        1 for li in listeners for r in elbv2.describe_rules(ListenerArn=li["ListenerArn"])["Rules"] if not r["IsDefault"])
    target_groups = elbv2.describe_target_groups()["TargetGroups"]
    counts["target_group"] = len(target_groups)
    counts["target_group ip, health check /health"] = sum(
        1 for t in target_groups if t.get("TargetType") == "ip" and t.get("HealthCheckPath") == "/health")
    iam = client_for("iam")
    counts["iam_role"] = len(iam.list_roles()["Roles"])
    scaling = client_for("application-autoscaling")
    counts["autoscaling scalable target"] = len(scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"])
    return counts


SCENARIOS = [
    Scenario(
        name="network",
        title="Network layer",
        description=(
            "The reference network: a VPC in 2 AZs with public and private subnets, one NAT gateway "
            "(and Elastic IP) per AZ, public and per-AZ private route tables, and the lb/app/db "
            "security groups chained by group reference; no VPC endpoints, no flow logs, no database "
            "tier. Ours: the real `playbooks/network.yml` (role `seed.aws_migration.network`, one "
            "`vpc_network` module run) with `-e @benchmarks/network_seed.yml`. amazon.aws: "
            "`benchmarks/network_amazon_aws.yml` (ec2_vpc_net, ec2_vpc_igw, ec2_vpc_subnet x4, "
            "ec2_vpc_nat_gateway x2, ec2_vpc_route_table x3, ec2_security_group x3)."
        ),
        seed=Variant("seed", "seed.aws_migration", "playbooks/network.yml", ("benchmarks/network_seed.yml",)),
        amazon=Variant("amazon_aws", "amazon.aws", "benchmarks/network_amazon_aws.yml"),
        count_resources=count_network,
        cold_target=0.2,
        noop_target=0.15,
        amazon_cold_sleep_s=21.0,
        notes=(
            "amazon.aws's cold run contains about 21 s of fixed sleeps that real AWS would cost too: "
            "ec2_vpc_route_table sleeps 5 s after changing a route table (3 tables) and ec2_security_group "
            "3 s after creating a group (lb and db; app is created by lb's rule). The extra ratio row "
            "leaves them out.",
            "The amazon.aws NAT gateway task sets no tags: moto 5.2.5 files NAT gateway tags under resource "
            "type `nat-gateway` while the module asks DescribeTags for `natgateway` (the AWS value), so with "
            "tags it would re-tag on every run (changed=1). Without them it is idempotent and a little cheaper.",
            "Both variants are checked to leave the same resources (table below, counted with boto3), and each "
            "no-op run must report changed=0.",
        ),
    ),
    Scenario(
        name="stack",
        title="Reference stack",
        description=(
            "The issue's reference stack: the network above (2 AZs, 2 NAT gateways), 2 ECR repositories, "
            "an ECS cluster, one log group, 2 task definitions, 2 target groups, an ALB with an HTTP:80 "
            "listener (frontend by default) and a `/api/*` rule to the backend, 2 Fargate services behind "
            "them; no images (not part of the reference stack: placeholder digest-pinned references), no "
            "IAM roles (both variants name the same existing role ARNs), no autoscaling. Ours: "
            "`benchmarks/stack_seed.yml`, our roles as `playbooks/site.yml` runs them (`network`, "
            "`registry`, `platform`, `service` x2: vpc_network, ecr_repository x2, ecs_cluster, "
            "load_balancer, ecs_service x2 started without waiting, then one ecs_service_info that waits for "
            "both rollouts together, as `playbooks/services.yml` does - 8 module runs cold, 7 in a no-op, "
            "where no rollout starts; its check for apps dropped from the app list is one skipped task in "
            "both, the cluster running only these apps). amazon.aws: `benchmarks/stack_amazon_aws.yml` "
            "(the network playbook above imported, then community.aws ecs_ecr x2, ecs_cluster, amazon.aws "
            "cloudwatchlogs_log_group, community.aws ecs_taskdefinition x2, elb_target_group x2, amazon.aws "
            "elb_application_lb, community.aws ecs_service x2 - 25 module runs, 14 of them the network's)."
        ),
        seed=Variant("seed", "seed.aws_migration", "benchmarks/stack_seed.yml"),
        amazon=Variant("amazon_aws", "amazon.aws", "benchmarks/stack_amazon_aws.yml"),
        count_resources=count_stack,
        cold_target=0.2,
        noop_target=0.15,
        amazon_cold_sleep_s=21.0,
        creates_needed=42,
        creates_breakdown=(
            "The 42 creates the stack needs, one write per resource or attachment: the network 29 (CreateVpc, "
            "ModifyVpcAttribute for DNS hostnames, CreateInternetGateway + AttachInternetGateway, 4 CreateSubnet, "
            "2 AllocateAddress, 2 CreateNatGateway, 3 CreateRouteTable, 3 CreateRoute, 4 AssociateRouteTable, "
            "3 CreateSecurityGroup, 4 rule authorisations: lb ingress, lb egress to app, app ingress from lb, db "
            "ingress from app) and the rest 13 (2 CreateRepository, CreateCluster, CreateLogGroup, 2 "
            "RegisterTaskDefinition, 2 CreateTargetGroup, CreateLoadBalancer, CreateListener, CreateRule, 2 "
            "CreateService). The same resources with the same settings take 5 writes more that are not creates, "
            "in both variants: 2 RevokeSecurityGroupEgress (lb and db lose the default egress rule), "
            "PutRetentionPolicy (30 days; CreateLogGroup takes no retention) and 2 ModifyTargetGroupAttributes "
            "(30 s deregistration delay; CreateTargetGroup takes no attributes): 47 writes at the least."
        ),
        cold_requests_factor=1.3,
        noop_requests_max=30,
        notes=(
            "amazon.aws's cold run contains the network's 21 s of fixed sleeps (see `network`); the rest of the "
            "stack adds none. The extra ratio row leaves them out.",
            "amazon.aws 10.1.2's elb_application_lb cannot create a listener and its rules in the same run (it "
            "looks the new listener up in the list it read before creating it: `ListenerArn` None, amazon.aws "
            "issue #2400, fixed by PR #2773 after 10.1.2). The baseline retries the task once (`until`, no "
            "delay): the cold run makes two attempts, a no-op run one.",
            "elb_application_lb is given no `idle_timeout`: with moto 5.2.5 the module fails with "
            "KeyError `idle_timeout_timeout_seconds` (moto does not return that attribute); 60 s is AWS's "
            "default and our load_balancer's.",
            "Settings the baseline modules cannot express, so the resources differ there (not counted): "
            "community.aws.ecs_cluster has no Container Insights option (ours turns it on at CreateCluster), "
            "community.aws.ecs_ecr no tags (ours tags the repositories at creation), "
            "community.aws.ecs_taskdefinition no tags. community.aws.ecs_service compares only the task "
            "definition, grace period, load balancers, propagate_tags, tags, ECS Exec and desired count: its "
            "no-op is idempotent, but a change to the network, the capacity provider strategy or the "
            "deployment settings would go unnoticed (and it cannot change tags or propagate_tags at all).",
            "Both services write to the one log group and run with the existing role ARNs given in the task "
            "(`service_log_group`, `service_execution_role_arn`, `service_task_role_arn`), so our ecs_service "
            "creates no log group of its own and derives no IAM role: both variants build the same resources.",
            "Both variants are checked to leave the same resources (table below, counted with boto3), and each "
            "no-op run must report changed=0.",
        ),
    ),
]


# ------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------
@dataclass
class Run:
    wall: float
    cpu: float  # user + system CPU seconds of ansible-playbook and the processes it waited for
    returncode: int
    recap: dict[str, int]
    requests: dict[str, Any]
    output_tail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"wall_s": round(self.wall, 3), "cpu_s": round(self.cpu, 3), "returncode": self.returncode, "recap": self.recap,
                "requests": self.requests}


@dataclass
class Checks:
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str, hard: bool = True) -> None:
        self.items.append({"check": name, "ok": bool(ok), "detail": detail, "hard": hard})
        print(f"  [{'ok' if ok else ('FAIL' if hard else 'MISS')}] {name}: {detail}")

    def failed(self, allow_target_miss: bool) -> list[dict[str, Any]]:
        return [c for c in self.items if not c["ok"] and (c["hard"] or not allow_target_miss)]


def find_ansible_playbook() -> str:
    """ansible-playbook of this Python's environment (not a pyenv shim, which adds its own startup)."""
    local = Path(sys.executable).parent / "ansible-playbook"
    if local.exists():
        return str(local)
    found = shutil.which("ansible-playbook")
    if not found:
        raise SystemExit("ansible-playbook not found: run make deps")
    return found


def ensure_collection_link() -> None:
    """What ``make collection-link`` does, for runs that did not go through make."""
    if not COLLECTION_LINK.exists():
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        COLLECTION_LINK.symlink_to(Path("../../.."), target_is_directory=True)


def ansible_env(endpoint_url: str, tmpdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "ANSIBLE_")) or k in ("AWS_CA_BUNDLE",)}
    env.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCAL_TEMP=str(tmpdir / "ansible-tmp"),
        SEED_AWS_ENDPOINT_URL=endpoint_url,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def run_playbook(cmd: list[str], env: dict[str, str], server: LocalAwsServer | None) -> Run:
    """One timed ansible-playbook process; requests counted at the server (counters zeroed first)."""
    if server is not None:
        server.reset_counts()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        output = proc.communicate(timeout=RUN_TIMEOUT)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the module process too
        output = proc.communicate()[0]
        output += f"\n(killed after {RUN_TIMEOUT}s)"
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    requests = server.requests() if server is not None else {}
    match = RECAP_RE.search(output)
    recap = dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()))) if match else {}
    return Run(wall, cpu, proc.returncode, recap, requests, output[-4000:])


def floor_playbook(tmpdir: Path) -> Path:
    """A play with no task: the cost of starting ansible-playbook with our inventory and config."""
    path = tmpdir / "floor.yml"
    path.write_text("- name: Nothing\n  hosts: localhost\n  gather_facts: false\n  tasks: []\n")
    return path


def check_run(run: Run, what: str, recap: bool = True) -> None:
    if run.returncode != 0 or run.recap.get("failed") or (recap and not run.recap):
        raise SystemExit(f"{what} failed (rc={run.returncode}):\n{run.output_tail}")


def wait_for_quiet(max_load: float | None, max_wait: float) -> float:
    """Wait (at most ``max_wait`` s) until the 1-minute load average is below ``max_load``; return it."""
    deadline = time.monotonic() + max_wait
    load = os.getloadavg()[0]
    while max_load is not None and load >= max_load and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


def bench_scenario(scenario: Scenario, server: LocalAwsServer, ansible_playbook: str, env: dict[str, str],
                   args: argparse.Namespace, tmpdir: Path) -> dict[str, Any]:
    repeat, warmup = args.repeat, args.warmup
    print(f"== scenario {scenario.name}: {repeat} repeat(s), {warmup} warm-up(s)")
    runs: dict[str, list[dict[str, Any]]] = {v.key: [] for v in scenario.variants}
    resources: dict[str, list[dict[str, int]]] = {v.key: [] for v in scenario.variants}
    floors, loads = [], []
    floor_cmd = [ansible_playbook, "-i", str(INVENTORY), str(floor_playbook(tmpdir))]

    def client_for(service: str) -> Any:
        return boto3_client(service, server.endpoint_url)

    for index in range(warmup + repeat):
        measured = index >= warmup
        tag = f"repeat {index - warmup + 1}/{repeat}" if measured else f"warm-up {index + 1}/{warmup}"
        load = wait_for_quiet(args.max_load, args.max_wait) if measured else os.getloadavg()[0]
        floor = run_playbook(floor_cmd, env, None)
        check_run(floor, "the empty play", recap=False)
        if measured:
            floors.append(floor.wall)
            loads.append(round(load, 2))
        order = scenario.variants if index % 2 == 0 else scenario.variants[::-1]
        for variant in order:
            cmd = variant.command(ansible_playbook)
            server.reset_state()
            cold = run_playbook(cmd, env, server)
            check_run(cold, f"{variant.label} cold run")
            counts = scenario.count_resources(client_for)
            noop = run_playbook(cmd, env, server)
            check_run(noop, f"{variant.label} no-op run")
            print(f"  {tag} {variant.label:<20} cold {cold.wall:6.2f}s {cold.requests['total']:4d} req "
                  f"({cold.requests['writes']} writes, changed={cold.recap['changed']})   "
                  f"no-op {noop.wall:6.2f}s {noop.requests['total']:4d} req "
                  f"({noop.requests['writes']} writes, changed={noop.recap['changed']})")
            if measured:
                runs[variant.key].append({"cold": cold.as_dict(), "noop": noop.as_dict()})
                resources[variant.key].append(counts)
    result = summarize(scenario, runs, resources, floors)
    result["load_1min_before_repeats"] = loads
    result["warmup"] = warmup
    return result


# ------------------------------------------------------------------------------------------------
# Summary, checks
# ------------------------------------------------------------------------------------------------
def _median_run(runs: list[dict[str, Any]], phase: str) -> dict[str, Any]:
    walls = [r[phase]["wall_s"] for r in runs]
    reqs = [r[phase]["requests"] for r in runs]
    # The run whose wall time is the median (lower median for even counts) gives the breakdown.
    middle = sorted(range(len(runs)), key=lambda i: walls[i])[(len(runs) - 1) // 2]
    return {
        "wall_s": round(statistics.median(walls), 3),
        "wall_min_s": min(walls),
        "wall_max_s": max(walls),
        "walls_s": walls,
        "cpu_s": round(statistics.median(r[phase]["cpu_s"] for r in runs), 3),
        "requests_total": int(statistics.median(r["total"] for r in reqs)),
        "requests_reads": int(statistics.median(r["reads"] for r in reqs)),
        "requests_writes": int(statistics.median(r["writes"] for r in reqs)),
        "requests_stable": len({json.dumps(r["by_action"], sort_keys=True) for r in reqs}) == 1,
        "changed": [r[phase]["recap"].get("changed") for r in runs],
        "by_action": runs[middle][phase]["requests"]["by_action"],
        "writes_by_action": runs[middle][phase]["requests"]["writes_by_action"],
    }


def summarize(scenario: Scenario, runs: dict[str, list], resources: dict[str, list],
              floors: list[float]) -> dict[str, Any]:
    variants = {}
    for variant in scenario.variants:
        variants[variant.key] = {
            "label": variant.label,
            "command": " ".join(["ansible-playbook", "-i", "inventories/local", variant.playbook] +
                                [f"-e @{p}" for p in variant.extra_vars]),
            "cold": _median_run(runs[variant.key], "cold"),
            "noop": _median_run(runs[variant.key], "noop"),
            "resources": resources[variant.key][-1],
            "resources_stable": len({json.dumps(r, sort_keys=True) for r in resources[variant.key]}) == 1,
            "runs": runs[variant.key],
        }
    seed, amazon = variants["seed"], variants["amazon_aws"]
    ratios = {phase: round(seed[phase]["wall_s"] / amazon[phase]["wall_s"], 3) for phase in ("cold", "noop")}
    checks = Checks()
    for key, data in variants.items():
        changed = data["noop"]["changed"]
        checks.add(f"{key} no-op is idempotent", all(c == 0 for c in changed), f"changed per no-op run: {changed}")
        checks.add(f"{key} resources identical in every repeat", data["resources_stable"], "boto3 counts")
    writes = [r["noop"]["requests"]["writes"] for r in runs["seed"]]
    checks.add("seed no-op makes zero write requests", all(w == 0 for w in writes),
               f"writes per no-op run: {writes}" + (f" {seed['noop']['writes_by_action']}" if any(writes) else ""))
    differ = {k: (seed["resources"].get(k), amazon["resources"].get(k))
              for k in sorted(set(seed["resources"]) | set(amazon["resources"]))
              if seed["resources"].get(k) != amazon["resources"].get(k)}
    checks.add("both variants converge to the same resources", not differ,
               f"differences (seed, amazon.aws): {differ}" if differ else "all counts equal")
    for phase, target in (("cold", scenario.cold_target), ("noop", scenario.noop_target)):
        checks.add(f"{phase} wall time <= {target}x amazon.aws", ratios[phase] <= target,
                   f"{seed[phase]['wall_s']:.2f}s / {amazon[phase]['wall_s']:.2f}s = {ratios[phase]:.3f}x",
                   hard=False)
    request_targets = {}
    if scenario.creates_needed and scenario.cold_requests_factor:
        limit = scenario.creates_needed * scenario.cold_requests_factor
        per_run = [r["cold"]["requests"]["total"] for r in runs["seed"]]
        request_targets["cold"] = {"measured": max(per_run), "limit": limit, "met": max(per_run) <= limit,
                                   "creates_needed": scenario.creates_needed,
                                   "factor": scenario.cold_requests_factor}
        checks.add(f"seed cold requests <= {scenario.cold_requests_factor}x the {scenario.creates_needed} creates "
                   f"({limit:g})", max(per_run) <= limit,
                   f"requests per cold run: {per_run} = {max(per_run) / scenario.creates_needed:.2f}x", hard=False)
    if scenario.noop_requests_max is not None:
        per_run = [r["noop"]["requests"]["total"] for r in runs["seed"]]
        request_targets["noop"] = {"measured": max(per_run), "limit": scenario.noop_requests_max,
                                   "met": max(per_run) <= scenario.noop_requests_max}
        checks.add(f"seed no-op requests <= {scenario.noop_requests_max}", max(per_run) <= scenario.noop_requests_max,
                   f"requests per no-op run: {per_run}", hard=False)
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "repeat": len(floors),
        "floor_wall_s": round(statistics.median(floors), 3) if floors else None,
        "floor_walls_s": [round(f, 3) for f in floors],
        "variants": variants,
        "ratios": ratios,
        "targets": {"cold": scenario.cold_target, "noop": scenario.noop_target},
        "amazon_cold_sleep_s": scenario.amazon_cold_sleep_s,
        "notes": list(scenario.notes),
        "targets_met": {"cold": ratios["cold"] <= scenario.cold_target,
                        "noop": ratios["noop"] <= scenario.noop_target,
                        **{f"{phase}_requests": t["met"] for phase, t in request_targets.items()}},
        "request_targets": request_targets,
        "creates_breakdown": scenario.creates_breakdown,
        "checks": checks.items,
    }


def print_resources(result: dict[str, Any]) -> None:
    seed, amazon = result["variants"]["seed"]["resources"], result["variants"]["amazon_aws"]["resources"]
    print(f"  {'resources after the cold run':<52} {'seed':>6} {'amazon.aws':>11}")
    for key in sorted(set(seed) | set(amazon)):
        mark = "" if seed.get(key) == amazon.get(key) else "   <- differs"
        print(f"  {key:<52} {seed.get(key, '-'):>6} {amazon.get(key, '-'):>11}{mark}")


# ------------------------------------------------------------------------------------------------
# Machine and versions
# ------------------------------------------------------------------------------------------------
def _version(dist: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def _collection_version(namespace: str, name: str) -> str:
    try:
        import importlib.util
        spec = importlib.util.find_spec(f"ansible_collections.{namespace}.{name}")
        manifest = Path(list(spec.submodule_search_locations)[0]) / "MANIFEST.json"
        return json.loads(manifest.read_text())["collection_info"]["version"]
    except Exception:  # pylint: disable=broad-except
        return "-"


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "-"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "-"
    try:
        kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "plugins", "roles", "playbooks",
                                "inventories", "benchmarks"], cwd=REPO_ROOT, capture_output=True, text=True,
                               check=False).stdout.strip()
    except OSError:
        commit, dirty = "-", ""
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ansible_core": _version("ansible-core"),
        "ansible": _version("ansible"),
        "amazon_aws": _collection_version("amazon", "aws"),
        "boto3": _version("boto3"),
        "botocore": _version("botocore"),
        "moto": _version("moto"),
        "git_commit": commit + (" (working tree modified)" if dirty else ""),
        "load_1min_at_start": load,
    }


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------
README_HEADER = """# Benchmarks

`make bench` (`python3 benchmarks/run.py`) measures each layer of seed.aws_migration against the same
resources built with amazon.aws modules, on a private local AWS (moto) server, and rewrites the
sections below (everything between a section's start and end markers is generated: edit
`benchmarks/run.py`, not the section). Raw figures: `benchmarks/results/<scenario>.json` (not committed).

Wall times depend on the machine; the ratios and request counts are what to compare between runs.
"""


def _fmt_range(phase: dict[str, Any]) -> str:
    return f"**{phase['wall_s']:.2f} s** ({phase['wall_min_s']:.2f}-{phase['wall_max_s']:.2f})"


def render_section(result: dict[str, Any], machine: dict[str, Any], when: str) -> str:
    seed, amazon = result["variants"]["seed"], result["variants"]["amazon_aws"]
    ratios, targets, met = result["ratios"], result["targets"], result["targets_met"]
    lines = [
        f"## {result['title']} (`{result['scenario']}`)",
        "",
        result["description"],
        "",
        "### Method",
        "",
        f"- One private `tools/local_aws_server.py` (moto {machine['moto']}, request counting) for the whole run.",
        f"- {result['repeat']} repeats after {result.get('warmup', 0)} unmeasured warm-up(s); in each, both variants run (the order "
        "alternates between repeats). Per variant: moto state and counters wiped, **cold** run "
        "(nothing exists), resources counted with boto3, **no-op** run (everything exists).",
        "- Wall time: the whole `ansible-playbook` process (interpreter start, inventory, playbook, "
        "modules), median of the repeats (range in brackets). CPU: user + system time of that process and "
        "the module processes it ran (not the server's), median; less sensitive to other load on the "
        "machine than wall time. Requests: counted at the server.",
        f"- Floor: `ansible-playbook` of a play with no task, same inventory and config: "
        f"{result['floor_wall_s']:.2f} s (median).",
        f"- 1-minute load average before each repeat: {', '.join(map(str, result['load_1min_before_repeats']))} "
        f"({machine['cpus']} CPUs; other work on the machine inflates wall times, ratios less so).",
        "",
        "### Machine",
        "",
        f"{machine['cpu']}, {machine['cpus']} CPUs, {machine['memory']} RAM, {machine['os']}; Python "
        f"{machine['python']}, ansible-core {machine['ansible_core']} (ansible {machine['ansible']}), amazon.aws "
        f"{machine['amazon_aws']}, boto3 {machine['boto3']}; commit {machine['git_commit']}; {when}.",
        "",
        "### Results",
        "",
        "| variant | cold wall | cold CPU | cold requests (writes) | no-op wall | no-op CPU "
        "| no-op requests (writes) | no-op changed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for data in (seed, amazon):
        cold, noop = data["cold"], data["noop"]
        lines.append(f"| {data['label']} | {_fmt_range(cold)} | {cold['cpu_s']:.2f} s "
                     f"| {cold['requests_total']} ({cold['requests_writes']}) "
                     f"| {_fmt_range(noop)} | {noop['cpu_s']:.2f} s "
                     f"| {noop['requests_total']} ({noop['requests_writes']}) | {max(noop['changed'])} |")
    lines += [
        "",
        "| seed / amazon.aws, and our request targets | measured | target | met |",
        "|---|---|---|---|",
    ]
    for phase, name in (("cold", "cold wall time"), ("noop", "no-op wall time")):
        lines.append(f"| {name} | {ratios[phase]:.3f}x | <= {targets[phase]}x | {'yes' if met[phase] else '**NO**'} |")
    if result.get("amazon_cold_sleep_s"):
        sleep = result["amazon_cold_sleep_s"]
        lines.append(f"| cold wall time, amazon.aws minus its {sleep:.0f} s of fixed sleeps (for information) "
                     f"| {seed['cold']['wall_s'] / (amazon['cold']['wall_s'] - sleep):.3f}x | - | - |")
    request_targets = result.get("request_targets") or {}
    if "cold" in request_targets:
        t = request_targets["cold"]
        lines.append(f"| seed cold requests / the {t['creates_needed']} creates the resources need "
                     f"| {t['measured']} = {t['measured'] / t['creates_needed']:.2f}x | <= {t['factor']}x "
                     f"({t['limit']:g}) | {'yes' if t['met'] else '**NO**'} |")
    if "noop" in request_targets:
        t = request_targets["noop"]
        lines.append(f"| seed no-op requests | {t['measured']} | <= {t['limit']} | {'yes' if t['met'] else '**NO**'} |")
    if request_targets:
        writes = seed["noop"]["requests_writes"]
        lines.append(f"| seed no-op writes | {writes} | 0 | {'yes' if writes == 0 else '**NO**'} |")
    req_ratio = {p: seed[p]["requests_total"] / amazon[p]["requests_total"] for p in ("cold", "noop")}
    cpu_ratio = {p: seed[p]["cpu_s"] / amazon[p]["cpu_s"] for p in ("cold", "noop")}
    lines.append(f"| CPU time cold / no-op (for information) | {cpu_ratio['cold']:.3f}x / {cpu_ratio['noop']:.3f}x "
                 "| - | - |")
    lines.append(f"| requests cold / no-op (for information) | {req_ratio['cold']:.2f}x / {req_ratio['noop']:.2f}x "
                 "| - | - |")
    if result.get("creates_breakdown"):
        lines += ["", result["creates_breakdown"]]
    if result.get("notes"):
        lines += ["", "Notes:", ""] + [f"- {note}" for note in result["notes"]]
    lines += ["", "Checks:", ""]
    for check in result["checks"]:
        status = "ok" if check["ok"] else ("FAILED" if check["hard"] else "missed")
        lines.append(f"- {status}: {check['check']} ({check['detail']})")
    lines += [
        "",
        "### Resources after the cold run (boto3)",
        "",
        "| resource | seed.aws_migration | amazon.aws |",
        "|---|---|---|",
    ]
    for key in sorted(set(seed["resources"]) | set(amazon["resources"])):
        lines.append(f"| {key} | {seed['resources'].get(key, '-')} | {amazon['resources'].get(key, '-')} |")
    lines += [
        "",
        "### API calls per action, no-op run",
        "",
        "| action | seed.aws_migration | amazon.aws |",
        "|---|---|---|",
    ]
    actions = sorted(set(seed["noop"]["by_action"]) | set(amazon["noop"]["by_action"]))
    for action in actions:
        lines.append(f"| {action} | {seed['noop']['by_action'].get(action, '')} "
                     f"| {amazon['noop']['by_action'].get(action, '')} |")
    lines.append(f"| **total** | **{seed['noop']['requests_total']}** | **{amazon['noop']['requests_total']}** |")
    if result.get("request_targets"):
        lines += [
            "",
            "### API calls per action, cold run",
            "",
            "| action | seed.aws_migration (writes) | amazon.aws (writes) |",
            "|---|---|---|",
        ]
        cold = {key: (data["cold"]["by_action"], data["cold"]["writes_by_action"]) for key, data in
                (("seed", seed), ("amazon", amazon))}

        def cell(key: str, action: str) -> str:
            total, writes = cold[key][0].get(action), cold[key][1].get(action)
            return "" if not total else f"{total}" + (f" ({writes})" if writes else "")

        for action in sorted(set(cold["seed"][0]) | set(cold["amazon"][0])):
            lines.append(f"| {action} | {cell('seed', action)} | {cell('amazon', action)} |")
        lines.append(f"| **total** | **{seed['cold']['requests_total']} ({seed['cold']['requests_writes']})** "
                     f"| **{amazon['cold']['requests_total']} ({amazon['cold']['requests_writes']})** |")
    return "\n".join(lines) + "\n"


def update_readme(scenario: str, section: str) -> None:
    start, end = f"<!-- bench:{scenario}:start -->", f"<!-- bench:{scenario}:end -->"
    block = f"{start}\n<!-- generated by benchmarks/run.py: do not edit by hand -->\n{section}{end}"
    text = README.read_text(encoding="utf-8") if README.exists() else README_HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="measured repeats per scenario (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured repeats first (default 1)")
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS],
                        help="scenario to run (repeatable; default all)")
    parser.add_argument("--max-load", type=float,
                        help="before each measured repeat, wait until the 1-minute load average is below this "
                             "(a shared machine: other work inflates wall times); default: do not wait")
    parser.add_argument("--max-wait", type=float, default=600,
                        help="wait at most this many seconds for --max-load (default %(default)s)")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite benchmarks/README.md")
    parser.add_argument("--allow-target-miss", action="store_true",
                        help="missed ratio and request targets warn instead of failing")
    parser.add_argument("--from-results", action="store_true",
                        help="run nothing: regenerate the README sections from benchmarks/results/<scenario>.json")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.from_results:
        for scenario in SCENARIOS:
            if args.scenario and scenario.name not in args.scenario:
                continue
            path = RESULTS_DIR / f"{scenario.name}.json"
            if not path.exists():
                print(f"  {scenario.name}: no {path.relative_to(REPO_ROOT)}, skipped")
                continue
            result = json.loads(path.read_text(encoding="utf-8"))
            # The words come from the code (they may have been corrected since), the figures from the file.
            result.update(title=scenario.title, description=scenario.description, notes=list(scenario.notes),
                          creates_breakdown=scenario.creates_breakdown)
            update_readme(scenario.name, render_section(result, result["machine"], result["date"]))
            print(f"  README: {README.relative_to(REPO_ROOT)} (section {scenario.name}, from {path.name})")
        return 0

    ensure_collection_link()
    ansible_playbook = find_ansible_playbook()
    machine = machine_info()
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    failed = []
    with tempfile.TemporaryDirectory(prefix="seed-bench-") as tmp:
        tmpdir = Path(tmp)
        with LocalAwsServer(workdir=tmpdir / "server") as server:
            print(f"local AWS: {server.endpoint_url} (pid {server.pid}); ansible-playbook: {ansible_playbook}")
            env = ansible_env(server.endpoint_url, tmpdir)
            for scenario in scenarios:
                result = bench_scenario(scenario, server, ansible_playbook, env, args, tmpdir)
                when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                result["machine"] = machine
                result["date"] = when
                print_resources(result)
                print(f"  ratios: cold {result['ratios']['cold']:.3f}x (target {scenario.cold_target}), "
                      f"no-op {result['ratios']['noop']:.3f}x (target {scenario.noop_target})")
                out = RESULTS_DIR / f"{scenario.name}.json"
                out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
                print(f"  results: {out.relative_to(REPO_ROOT)}")
                if not args.no_readme:
                    update_readme(scenario.name, render_section(result, machine, when))
                    print(f"  README: {README.relative_to(REPO_ROOT)} (section {scenario.name})")
                bad = Checks(result["checks"]).failed(args.allow_target_miss)
                failed += [f"{scenario.name}: {c['check']} ({c['detail']})" for c in bad]
    if failed:
        print("benchmarks: FAILED\n  " + "\n  ".join(failed))
        return 1
    print("benchmarks: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
