#!/usr/bin/env python
"""Generate the deployer's least-privilege IAM policy from the AWS calls a real run makes.

Usage::

    # a fresh recording: a private local AWS, site.yml (cold, a new release, settings changed, a no-op,
    # the HTTP API switched off) and teardown.yml,
    # every botocore call recorded; then policies/deployer.json is written
    python3 tools/deployer_policy.py --record

    python3 tools/deployer_policy.py --record --save-recording /tmp/calls.jsonl   # keep the recording
    python3 tools/deployer_policy.py --recording /tmp/calls.jsonl                 # regenerate from one
    python3 tools/deployer_policy.py --record --check     # exit 1 if policies/deployer.json is stale
    python3 tools/deployer_policy.py --recording calls.jsonl --evaluate          # every call vs the policy

How the calls are recorded: ``sitecustomize.py`` (written to a temporary directory put first on the
module processes' PYTHONPATH) wraps ``botocore.client.BaseClient._make_api_call`` and appends one JSON
line per call (service, signing name, operation, region, parameters, error code) to
``$SEED_CALL_RECORDING``.  So every call is seen, whatever the service, including the services whose
requests moto cannot authorise (apigatewayv2, guardduty, route53, efs).

How the policy is built (deterministic: the recording only decides WHICH actions; the scope of each
one comes from the rules below and parliament's copy of the IAM service reference):

* actions without resource-level permissions (``ec2:Describe*``-style reads, ``sts:GetCallerIdentity``)
  are listed one by one on ``"Resource": "*"``, one statement per service;
* every other action is scoped to the resource types the collection manages: ECR repositories and
  log groups by name prefix, IAM roles by path, EC2/ECS/ELB resources by type, and the mutating calls
  conditioned on the ``seed:managed-by`` tag (``aws:RequestTag`` on creates, ``aws:ResourceTag`` on the
  rest) where the action supports it;
* permissions AWS checks without a botocore call of their own are IMPLIED by recorded calls and
  labelled so: ``iam:PassRole`` (with ``iam:PassedToService``), tag-on-create (``ec2:CreateTags`` with
  ``ec2:CreateAction`` and friends), service-linked roles;
* SUPPLEMENT: a static, labelled list for what no botocore call shows (docker's pushes to an ECR
  registry) and for the services moto cannot enforce, merged only when a playbook or role uses the
  module that needs it, so regenerating after new modules land picks them up.

The account in the shipped document is ``*``: ``playbooks/deployer_role.yml`` pins it to the deploying
account when it creates the managed policy (``--account`` does the same here).

Not in the document, whatever the recording shows: the resource-policy writes (``BOOTSTRAP_ACTIONS``:
bucket policies, lifecycle rules), which ``playbooks/bootstrap.yml`` makes with administrator
credentials. ``--record`` runs bootstrap.yml first (not recorded), then the scenario as the deployer
would, with ``service_permissions_boundary`` and ``network_flow_logs_permissions_boundary`` set to the
boundary bootstrap.yml created: every role the deployer creates or writes - the services' derived roles
and vpc_network's flow-log role - carries it (``iam:PermissionsBoundary`` condition).
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import json
import os
import re
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any, Iterable

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "policies" / "deployer.json"
MANAGED_TAG_KEY, MANAGED_TAG_VALUE = "seed:managed-by", "seed.aws_migration"

# Names the collection gives to what it creates (see roles/*/defaults and the modules).
ECR_PREFIX = "seed/"      # registry_repositories names (inventories/*: seed/<app>)
LOG_GROUP_PREFIX = "/seed/"  # /seed/<environment>/<service>, /seed/<environment>/<network>/vpc-flow-logs
ROLE_PATH = "/seed/"      # every role the modules create (iam_roles.role_arn, vpc_network flow-log role)
SECRET_PREFIX = "seed/"   # secrets_secrets names (inventories/*: seed/<environment>/<app>)
# roles/security/defaults: <environment>-audit, <environment>-seed-audit-trail, <environment>-security-incidents,
# <environment>-guardduty-findings and <environment>-alarms
TRAIL_SUFFIX, TRAIL_BUCKET_SUFFIX = "-audit", "-seed-audit-trail"
TOPIC_SUFFIX, RULE_SUFFIXES = "-security-incidents", ("-guardduty-findings", "-alarms")
# playbooks/incident_tickets.yml: the ledger object (its bucket is the operator's, not in the recording)
LEDGER_KEY = "guardduty/tickets-ledger.json"

# Resource-policy writes: parliament reports RESOURCE_POLICY_PRIVILEGE_ESCALATION for them (a bucket policy
# or lifecycle rule can grant/delete what the deployer may not touch itself, e.g. the audit trail's objects).
# They are an administrator's job (playbooks/bootstrap.yml): never in the deployer's document; a recording
# that shows one gets a warning (the run changed a bucket policy: run bootstrap.yml first).
BOOTSTRAP_ACTIONS = frozenset({"s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl",
                               "s3:PutBucketPublicAccessBlock", "s3:DeletePublicAccessBlock",
                               "s3:PutLifecycleConfiguration"})
# The permissions boundary of the roles the deployer creates (policies/workload-boundary.json, created by
# playbooks/bootstrap.yml outside /seed/: the deployer can neither write it nor remove it from a role).
BOUNDARY_NAME, BOUNDARY_PATH = "seed-workload-boundary", "/seed-deployer/"
BOUNDARY_DOCUMENT = REPO_ROOT / "policies" / "workload-boundary.json"
# Role writes that must carry the boundary (iam:PermissionsBoundary: the one given, or the role's).
BOUNDED_ROLE_ACTIONS = frozenset({"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy",
                                  "iam:PutRolePermissionsBoundary"})
# vpc_network's flow-log role (seed-<environment>-<network>-vpc-flow-logs): written only with the boundary
# like every /seed/ role (flow_logs.permissions_boundary), and passed to VPC flow logs only.
FLOW_LOG_ROLE = "seed-*-vpc-flow-logs"


def boundary_arn(account: str = "*", partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:policy{BOUNDARY_PATH}{BOUNDARY_NAME}"


# --------------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------------

SITECUSTOMIZE = '''\
"""seed.aws_migration call recorder (tools/deployer_policy.py): one JSON line per botocore call."""
import os

if os.environ.get("SEED_CALL_RECORDING"):
    import json
    import threading

    import botocore.client
    import botocore.exceptions

    import re

    _original = botocore.client.BaseClient._make_api_call
    _lock = threading.Lock()
    _SECRET = re.compile(r"(?i)secretstring|secretbinary|password|privatekey|^certificate$")

    def _plain(value):
        if isinstance(value, dict):  # never write a secret value into the recording
            return {str(k): "<redacted>" if _SECRET.search(str(k)) else _plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_plain(v) for v in value]
        if isinstance(value, (bytes, bytearray)):
            return "<bytes>"
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        return str(value)

    def _make_api_call(self, operation_name, api_params):
        model = self.meta.service_model
        entry = {"service": model.service_name, "signing_name": model.signing_name,
                 "operation": operation_name, "region": self.meta.region_name,
                 "params": _plain(api_params), "error": None}
        try:
            return _original(self, operation_name, api_params)
        except botocore.exceptions.ClientError as error:
            entry["error"] = error.response.get("Error", {}).get("Code")
            raise
        finally:
            with _lock, open(os.environ["SEED_CALL_RECORDING"], "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, sort_keys=True) + "\\n")

    botocore.client.BaseClient._make_api_call = _make_api_call
'''


def recorder_dir(directory: Path | str | None = None) -> Path:
    """A directory holding the recorder's ``sitecustomize.py`` (put it first on PYTHONPATH)."""
    path = Path(directory or tempfile.mkdtemp(prefix="seed-recorder-"))
    path.mkdir(parents=True, exist_ok=True)
    (path / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return path


def recorder_env(recording: Path | str, directory: Path | str | None = None) -> dict[str, str]:
    """Environment variables that make every Python process (the modules) record its AWS calls."""
    path = recorder_dir(directory)
    pythonpath = os.pathsep.join(filter(None, [str(path), os.environ.get("PYTHONPATH", "")]))
    return {"PYTHONPATH": pythonpath, "SEED_CALL_RECORDING": str(recording)}


def load_recording(path: Path | str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# Pre-built images stand in for the registry layer's Docker builds: the images layer makes no AWS call
# with an OCI registry (the local default), and ECR-mode calls are in SUPPLEMENT.
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/seed/{0}@sha256:" + "a" * 64


def scenario_vars(account: str = "123456789012") -> dict[str, Any]:
    """Extra vars for site.yml without Docker: no image builds, the images given as registry_outputs; the
    derived roles and the flow-log roles with the boundary bootstrap.yml creates (moto's account by default)."""
    return {"registry_images": [],
            "registry_outputs": {f"seed/{app}": {"pinned": IMAGE.format(app)} for app in ("frontend", "backend")},
            "service_permissions_boundary": boundary_arn(account),
            "network_flow_logs_permissions_boundary": boundary_arn(account)}


def bootstrap_vars(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Extra vars of playbooks/bootstrap.yml for the scenario (administrator credentials)."""
    return dict(extra or {}, deployer_trusted_principals=["arn:aws:iam::123456789012:root"])


def release_vars(extra: dict[str, Any]) -> dict[str, Any]:
    """The scenario's second run: what a deployer changes on a running stack - a new release of both images
    (new task definitions, UpdateService), a third app (a worker, which the settings run drops again), the
    repositories' settings (lifecycle, tag mutability exceptions, tags), two routing rules on the public load
    balancer (the local inventory has none while the HTTP API is on) and a name added to the certificate (a
    new certificate, which the HTTPS listener and the API's custom domain move to): the update paths a cold
    run and a no-op never take."""
    images = {f"seed/{app}": {"pinned": IMAGE.replace("a" * 64, "b" * 64).format(app)} for app in ("frontend", "backend")}
    repositories = [{"name": f"seed/{app}", "lifecycle": {"keep_tagged": 20, "expire_untagged_days": 3},
                     "image_tag_mutability_exclusions": ["latest"], "tags": {"release": "2"}}
                    for app in ("frontend", "backend")]
    # a name added to the certificate: a new one is requested, and the HTTPS listener and the API's custom
    # domain move to it (the certificate rotation path)
    names = local_inventory("dns.yml")["dns_subject_alternative_names"] + ["status.{{ dns_zone_name }}"]
    apps = local_inventory("apps.yml")["seed_apps"] + [WORKER]
    return dict(extra, registry_outputs=images, registry_repositories=repositories, platform_tags={"release": "2"},
                platform_rules=RELEASE_RULES, dns_subject_alternative_names=names, seed_apps=apps)


# An app of the release run only (no load balancer): the settings run drops it, so services.yml removes it.
WORKER = {"name": "worker", "image": "seed/backend", "port": 8000}


# Routing rules of the public load balancer: two made by the release run; the settings run changes the
# first one's conditions (ModifyRule) and drops the second (DeleteRule, when site.yml prunes).
RELEASE_RULES = [{"target_group": "local-frontend", "host_headers": ["www.local.seed.example"]},
                 {"target_group": "local-frontend", "path_patterns": ["/static/*"]}]
SETTINGS_RULES = [{"target_group": "local-frontend", "host_headers": ["www.local.seed.example"],
                   "path_patterns": ["/app/*"]}]


def local_inventory(name: str) -> dict[str, Any]:
    """One file of inventories/local/group_vars/all (the scenario's inventory), as YAML data."""
    import yaml  # pylint: disable=import-outside-toplevel

    return yaml.safe_load((REPO_ROOT / "inventories" / "local" / "group_vars" / "all" / name).read_text("utf-8"))


def settings_vars(extra: dict[str, Any]) -> dict[str, Any]:
    """The scenario's third run: settings a deployer changes on a running stack, in every layer, so that the
    update paths are recorded (a policy made from creates alone refuses them): the NAT mode and the flow-log
    retention (routes replaced, NAT gateways deleted, EIPs released), tags added and removed in every layer,
    Container Insights and the capacity provider strategy, the release's worker app dropped (services.yml
    removes its service), a target group's health check, the load balancer's
    deletion protection, its HTTPS listener's TLS policy and its routing rules (one changed, one removed), the
    web ACL's rate limit, the HTTP API's throttling and CORS, a secret's description, the DNS health check's
    threshold, GuardDuty's publishing frequency, the incident severity and e-mail address, an autoscaling
    target. Each is the local inventory's (or a role default's) value changed; extra
    vars replace a whole variable."""
    network = local_inventory("network.yml")
    networks = [dict(n, nat_mode="single", flow_logs=dict(n["flow_logs"], retention_days=14))
                for n in network["network_networks"]]
    apps = local_inventory("apps.yml")
    seed_apps = [dict(a, autoscaling=dict(a["autoscaling"], target_value=70)) for a in apps["seed_apps"]]
    secrets = local_inventory("secrets.yml")
    # the inventory's frontend target group (seed_environment local), its health check every 20 s (not 15)
    target_groups = [{"name": "local-frontend", "port": 8080, "health_check": {"path": "/health", "interval": 20}}]
    owner = {"owner": "platform"}  # replaces each layer's tags: "project" (or the release's "release") removed
    return dict(extra, network_networks=networks, network_tags=owner, seed_apps=seed_apps,
                platform_container_insights="disabled", platform_target_groups=target_groups, platform_tags=owner,
                platform_default_capacity_provider_strategy=[
                    {"capacity_provider": "FARGATE", "weight": 1, "base": 2},
                    {"capacity_provider": "FARGATE_SPOT", "weight": 3}],
                platform_deletion_protection=True, platform_ssl_policy="ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
                platform_rules=SETTINGS_RULES,
                platform_web_acl={"state": "present", "rate_limit": {"limit": 1000}},
                api_throttling={"burst_limit": 200, "rate_limit": 100}, api_tags=owner,
                api_cors={"allow_origins": ["https://app.local.seed.example"], "allow_methods": ["GET"]},
                secrets_secrets=[dict(s, description=s["description"] + " (rotated by the platform team)")
                                 for s in secrets["secrets_secrets"]],
                secrets_tags=owner, dns_health_check_failure_threshold=2, dns_tags=owner,
                security_guardduty_finding_publishing_frequency="ONE_HOUR", security_incident_min_severity="HIGH",
                security_incident_emails=["platform-oncall@example.com"], security_tags=owner,
                registry_repositories=[{"name": f"seed/{app}"} for app in ("frontend", "backend")])


def api_off_vars(settings: dict[str, Any]) -> dict[str, Any]:
    """The scenario's fifth run: the HTTP API switched off on the running stack - the backend moves to the
    public load balancer's /api/* route, then prune.yml removes the API's record, the API with its VPC link,
    the internal load balancer and the API's security groups."""
    backend = {"name": "local-backend", "port": 8000, "health_check": {"path": "/health"}}
    return dict(settings, seed_api_enabled=False,
                platform_target_groups=settings["platform_target_groups"] + [backend],
                platform_rules=SETTINGS_RULES + [{"target_group": "local-backend", "path_patterns": ["/api/*"]}])


def scenario(extra: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """The runs the policy must cover: (label, playbook, extra vars)."""
    release = release_vars(extra)
    settings = settings_vars(release)
    api_off = api_off_vars(settings)
    # the settings run turned the load balancer's deletion protection on: the teardown turns it off first
    teardown = dict(api_off, seed_confirm_teardown="local", registry_force_absent=True,
                    seed_teardown_delete_logs=True, seed_teardown_force=True)
    return [("site.yml", "playbooks/site.yml", extra),
            ("site.yml (a new release)", "playbooks/site.yml", release),
            ("site.yml (settings changed)", "playbooks/site.yml", settings),
            ("site.yml (no-op)", "playbooks/site.yml", settings),
            ("site.yml (HTTP API switched off)", "playbooks/site.yml", api_off),
            ("teardown.yml", "playbooks/teardown.yml", teardown)]


def run_scenario(ansible: Any, extra: dict[str, Any] | None = None, admin: Any = None) -> list[tuple[str, Any]]:
    """Run the scenario with ``ansible`` (tests/integration/support/ansible.Ansible); stop at a failure.

    ``admin``: another Ansible (not recorded) that runs playbooks/bootstrap.yml first."""
    results = []
    if admin is not None:
        result = admin.playbook("playbooks/bootstrap.yml", extra_vars=bootstrap_vars())
        results.append(("bootstrap.yml", result))
        if result.failed:
            return results
    for label, playbook, extra_vars in scenario(extra or scenario_vars()):
        result = ansible.playbook(playbook, extra_vars=extra_vars)
        results.append((label, result))
        if result.failed:
            break
    return results


def record(recording: Path) -> None:
    """A fresh recording: a private local AWS server, the scenario, every call written to ``recording``."""
    sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
    from support.ansible import Ansible  # pylint: disable=import-outside-toplevel
    from support.servers import LocalAwsServer  # pylint: disable=import-outside-toplevel

    recording.unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix="seed-deployer-policy-"))
    server = LocalAwsServer(workdir=work / "aws")
    try:
        ansible = Ansible(server.endpoint_url, work / "ansible")
        ansible.extra_env.update(recorder_env(recording, work / "recorder"))
        for label, result in run_scenario(ansible, admin=Ansible(server.endpoint_url, work / "admin")):
            print(f"{label}: {'FAILED' if result.failed else 'ok'} (changed={result.changed})", file=sys.stderr)
            if result.failed:
                failed = [(t["_task"], t.get("msg")) for t in result.task_results() if t.get("failed")]
                raise SystemExit(f"{label} failed, no policy written: {failed or result.stderr[-2000:]}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# IAM service reference (parliament's copy)
# --------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _parliament_definition() -> tuple[dict[str, Any], ...]:
    """parliament's copy of the IAM service reference (iam_definition.json), read once: every entry, in order
    (a prefix may have several)."""
    import parliament  # pylint: disable=import-outside-toplevel

    path = Path(parliament.__file__).parent / "iam_definition.json"
    return tuple(json.loads(path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=1)
def reference() -> dict[str, dict[str, Any]]:
    """``{prefix: {"privileges": {Action: privilege}, "resources": {type: resource}}}`` from parliament (the first
    entry of a prefix wins, as in parliament's own lookups)."""
    merged: dict[str, dict[str, Any]] = {}
    for service in _parliament_definition():
        entry = merged.setdefault(service["prefix"], {"privileges": {}, "resources": {}})
        for privilege in service["privileges"]:
            entry["privileges"].setdefault(privilege["privilege"], privilege)
        for resource in service["resources"]:
            entry["resources"].setdefault(resource["resource"], resource)
    return merged


def parliament_findings(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """parliament's findings on ``document``, as (issue, detail).

    One is left out, and only while parliament's own data proves it wrong: parliament holds two entries for the
    prefix ``elasticloadbalancing`` and checks condition keys against the first, older one, which lacks
    ``elasticloadbalancing:CreateAction`` for AddTags; its second entry lists the key, as AWS's Service
    Authorization Reference and the ELB guide do."""
    from parliament import analyze_policy_string  # pylint: disable=import-outside-toplevel

    listed = any("elasticloadbalancing:CreateAction" in resource.get("condition_keys", [])
                 for service in _parliament_definition() if service["prefix"] == "elasticloadbalancing"
                 for p in service["privileges"]
                 if p["privilege"] == "AddTags" for resource in p["resource_types"])
    outdated = ("UNKNOWN_CONDITION_FOR_ACTION",
                "Unknown condition elasticloadbalancing:CreateAction for action elasticloadbalancing:AddTags")
    found = [(f.issue, f.detail) for f in analyze_policy_string(json.dumps(document)).findings]
    return [f for f in found if not (listed and f == outdated)]


def privilege(action: str) -> dict[str, Any] | None:
    prefix, name = action.split(":", 1)
    return reference().get(prefix, {}).get("privileges", {}).get(name)


def has_resource_level(action: str) -> bool:
    """True when the action can be scoped to resources (some resource type besides the '' row)."""
    info = privilege(action)
    return bool(info) and any(r["resource_type"] for r in info["resource_types"])


def is_read(action: str) -> bool:
    info = privilege(action)
    return bool(info) and info["access_level"] in ("Read", "List")


# --------------------------------------------------------------------------------------------------
# From calls to IAM actions
# --------------------------------------------------------------------------------------------------

# apigateway(v2): IAM actions are HTTP verbs on resource paths (apigateway:POST on /apis).
_PATH_FIELD = re.compile(r"\{[^}]+\}")


def iam_actions(call: dict[str, Any]) -> list[str]:
    """IAM actions a recorded call needs (its own; IMPLIED ones come from ``implied``)."""
    service, operation = call["service"], call["operation"]
    if service in ("apigateway", "apigatewayv2"):
        import botocore.session  # pylint: disable=import-outside-toplevel

        model = botocore.session.get_session().get_service_model(service).operation_model(operation)
        return [f"apigateway:{model.http['method']}"]
    if service == "s3":
        actions = [S3_ACTIONS.get(operation, f"s3:{operation}")]
        objects = ((call.get("params") or {}).get("Delete") or {}).get("Objects") or []
        if operation == "DeleteObjects" and any(o.get("VersionId") for o in objects if isinstance(o, dict)):
            actions.append("s3:DeleteObjectVersion")  # a versioned delete is authorised per version
        return actions
    prefix = {"monitoring": "cloudwatch"}.get(call["signing_name"], call["signing_name"])
    return [f"{prefix}:{operation}"]


def apigateway_resource(call: dict[str, Any]) -> str:
    import botocore.session  # pylint: disable=import-outside-toplevel

    model = botocore.session.get_session().get_service_model(call["service"]).operation_model(call["operation"])
    path = _PATH_FIELD.sub("*", model.http["requestUri"].split("?")[0])
    if call["service"] == "apigatewayv2" and path.startswith("/v2/"):
        path = path[3:]  # IAM names HTTP API resources /apis/..., without the API's /v2 prefix
    return f"arn:aws:apigateway:*::{path}"


# S3 operations whose IAM action has another name (the others are s3:<Operation>)
S3_ACTIONS = {"HeadBucket": "s3:ListBucket", "ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket",
              "ListObjectVersions": "s3:ListBucketVersions", "HeadObject": "s3:GetObject",
              "DeleteObjects": "s3:DeleteObject", "DeleteBucketTagging": "s3:PutBucketTagging",
              "GetBucketEncryption": "s3:GetEncryptionConfiguration",
              "PutBucketEncryption": "s3:PutEncryptionConfiguration",
              "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
              "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
              "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
              "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
              "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
              "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
              "ListBucketInventoryConfigurations": "s3:GetInventoryConfiguration",
              "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
              "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
              "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
              "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
              "PutBucketNotificationConfiguration": "s3:PutBucketNotification"}


def tags_of(params: dict[str, Any]) -> dict[str, str] | None:
    """The tags a call sets on what it creates (TagSpecifications, Tags, tags), None if none."""
    found: dict[str, str] = {}
    for spec in params.get("TagSpecifications") or []:
        found.update({t["Key"]: t["Value"] for t in spec.get("Tags", [])})
    for key in ("Tags", "tags"):
        value = params.get(key)
        if isinstance(value, dict):
            found.update(value)
        elif isinstance(value, list):
            found.update({t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in value})
    return found or None


# --------------------------------------------------------------------------------------------------
# Scoping rules
# --------------------------------------------------------------------------------------------------

ARN = "arn:{partition}:{service}:{region}:{account}:{resource}"

EC2_CREATES = {"CreateVpc": "vpc", "CreateSubnet": "subnet", "CreateRouteTable": "route-table",
               "CreateSecurityGroup": "security-group", "CreateInternetGateway": "internet-gateway",
               "CreateNatGateway": "natgateway", "AllocateAddress": "elastic-ip", "CreateVpcEndpoint": "vpc-endpoint",
               "CreateFlowLogs": "vpc-flow-log"}
EC2_TYPES = sorted(set(EC2_CREATES.values()))
ALB = "arn:{partition}:elasticloadbalancing:*:{account}:loadbalancer/app/*/*"
LISTENER_ACTIONS = ("CreateListener", "CreateRule", "ModifyListener", "ModifyRule", "DeleteListener", "DeleteRule",
                    "SetRulePriorities")


class Scope:
    """How one service's actions are scoped.

    ``resources``: the ARN patterns (``resource`` part) of everything the collection manages there;
    ``creates``: the actions that create a resource (tagged at creation when ``tagged``);
    ``tagged``: mutating calls are conditioned on the ``seed:managed-by`` tag;
    ``unconditioned``: ``{action: [resource patterns]}`` scoped by type only (AWS checks a resource the
    collection does not tag, e.g. an ELB listener);
    ``tag_on_create``: ``(action, condition key)`` AWS also checks when a create call carries tags;
    ``also``: ``{action: (sid, [resource patterns])}`` granted besides the action's own scope.
    """

    def __init__(self, service: str, resources: list[str], creates: Iterable[str] = (), tagged: bool = False,
                 unconditioned: dict[str, list[str]] | None = None, tag_on_create: tuple[str, str] | None = None,
                 region: str = "*", name: str = "", also: dict[str, tuple[str, list[str]]] | None = None) -> None:
        self.service, self.resources, self.creates, self.tagged = service, resources, set(creates), tagged
        self.unconditioned = unconditioned or {}
        self.tag_on_create = tag_on_create
        self.also = also or {}
        self.region = region
        self.name = name or service.title().replace("-", "")


def scopes(buckets: Iterable[str] = ()) -> dict[str, Scope]:
    """``buckets``: the maintenance-page buckets (host names from the inventory, taken from the recording)."""
    s3_resources = []
    for bucket in [f"*{TRAIL_BUCKET_SUFFIX}", *sorted(set(buckets))]:
        s3_resources += [f"arn:{{partition}}:s3:::{bucket}", f"arn:{{partition}}:s3:::{bucket}/*"]
    # parliament requires both ELB flavours' listener ARNs for the listener actions (app and net)
    listeners = ["listener/app/*/*/*", "listener-rule/app/*/*/*/*", "listener/net/*/*/*", "listener-rule/net/*/*/*/*"]
    return {s.service: s for s in [
        Scope("ec2", [f"{t}/*" for t in EC2_TYPES], creates=EC2_CREATES, tagged=True,
              tag_on_create=("ec2:CreateTags", "ec2:CreateAction"), name="Ec2"),
        Scope("ecs", ["cluster/*", "service/*/*", "task-definition/*:*"],
              creates=["CreateCluster", "CreateService", "RegisterTaskDefinition"], tagged=True,
              tag_on_create=("ecs:TagResource", "ecs:CreateAction"), name="Ecs"),
        Scope("elasticloadbalancing", ["loadbalancer/app/*/*", "targetgroup/*/*"],
              creates=["CreateLoadBalancer", "CreateTargetGroup"], tagged=True,
              unconditioned={a: ["loadbalancer/app/*/*", *listeners] for a in LISTENER_ACTIONS},
              # AddTags only as part of a create (ELB guide, "API permissions to tag resources during creation"):
              # conditioned on the request's tag alone, it would let the deployer put the managed-by tag on any
              # load balancer, then delete it (ElbManageTagged). See parliament_findings for parliament.
              tag_on_create=("elasticloadbalancing:AddTags", "elasticloadbalancing:CreateAction"), name="Elb"),
        Scope("ecr", [f"repository/{ECR_PREFIX}*"], name="Ecr"),
        Scope("logs", [f"log-group:{LOG_GROUP_PREFIX}*", f"log-group:{LOG_GROUP_PREFIX}*:*"], name="Logs"),
        # A role that does not exist yet has no path: IAM checks the lookup against role/<name>, so the
        # reads before a create are allowed on the names the modules give (ecs_service: <family>-execution,
        # <family>-task; vpc_network: seed-<environment>-<network>-vpc-flow-logs). Reads only.
        Scope("iam", [f"role{ROLE_PATH}*"], name="Iam",
              also={a: ("IamLookupBeforeCreate", ["role/*-execution", "role/*-task", "role/seed-*-vpc-flow-logs"])
                    for a in ("GetRole", "GetRolePolicy")}),
        Scope("application-autoscaling", ["scalable-target/*"], name="Autoscaling"),
        Scope("secretsmanager", [f"secret:{SECRET_PREFIX}*"], name="Secrets"),
        # zones, records and health checks of the dns role; certificates of acm_certificate
        Scope("route53", ["hostedzone/*", "healthcheck/*", "change/*"], name="Route53"),
        Scope("acm", ["certificate/*"], name="Acm"),
        # the trail bucket by its suffix; the maintenance-page buckets are named like the host names
        # (inventory): exactly the ones the recording shows
        Scope("s3", s3_resources, name="S3"),
        Scope("cloudtrail", [f"trail/*{TRAIL_SUFFIX}"], name="CloudTrail"),
        Scope("sns", [f"*{TOPIC_SUFFIX}"], name="Sns"),
        Scope("events", [f"rule/*{suffix}" for suffix in RULE_SUFFIXES], name="Events"),
        Scope("guardduty", ["detector/*"], name="GuardDuty"),
        Scope("wafv2", ["regional/webacl/*/*"], name="Waf",
              unconditioned={"AssociateWebACL": ["regional/webacl/*/*", ALB],
                             "DisassociateWebACL": [ALB]}),
    ]}


# Permissions AWS checks without a botocore call of their own: (label, predicate on a call, statement).
SERVICE_LINKED = {"ecs": "ecs.amazonaws.com", "elasticloadbalancing": "elasticloadbalancing.amazonaws.com",
                  "application-autoscaling": "ecs.application-autoscaling.amazonaws.com"}
PASSED_ROLE_PARAMS = {("ecs", "RegisterTaskDefinition"): (("executionRoleArn", "taskRoleArn"), "ecs-tasks.amazonaws.com"),
                      ("ec2", "CreateFlowLogs"): (("DeliverLogsPermissionArn",), "vpc-flow-logs.amazonaws.com")}
SERVICE_LINKED_CREATES = {("ecs", "CreateCluster"), ("elasticloadbalancing", "CreateLoadBalancer"),
                          ("application-autoscaling", "RegisterScalableTarget")}
TAGS_ON_CREATE_ACTIONS = {("iam", "CreateRole"): "iam:TagRole", ("logs", "CreateLogGroup"): "logs:TagResource",
                          ("ecr", "CreateRepository"): "ecr:TagResource",
                          ("application-autoscaling", "RegisterScalableTarget"): "application-autoscaling:TagResource",
                          ("secretsmanager", "CreateSecret"): "secretsmanager:TagResource"}

# Static supplement, merged when a playbook or role uses the module (labelled in each statement's Sid).
# * container_image with registry.type=ecr: docker talks to the ECR registry API itself (no botocore
#   call to record), and the local default pushes to an OCI registry instead.
# * route53, apigatewayv2, guardduty: moto 5.2.5 cannot authorise their requests (signature check), so
#   the enforcement test cannot prove them; their recorded calls are evaluated against the policy
#   instead. These lists are a fallback, merged only while the recording has no call of the service
#   (``unless_recorded``): once it has, the recorded calls make the policy.
SUPPLEMENT = [
    {"modules": ["container_image"], "sid": "SupplementEcrRegistryLogin", "service": "ecr",
     "actions": ["ecr:GetAuthorizationToken"], "resources": ["*"]},
    {"modules": ["container_image"], "sid": "SupplementEcrImagePushPull", "service": "ecr",
     "actions": ["ecr:BatchCheckLayerAvailability", "ecr:BatchDeleteImage", "ecr:BatchGetImage",
                 "ecr:CompleteLayerUpload", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage",
                 "ecr:UploadLayerPart"],
     "resources": [f"repository/{ECR_PREFIX}*"]},
    {"modules": ["dns_zone", "acm_certificate"], "sid": "SupplementRoute53Account", "unless_recorded": True, "service": "route53",
     "actions": ["route53:CreateHostedZone", "route53:ListHostedZones", "route53:ListHostedZonesByName"],
     "resources": ["*"], "global": True},
    {"modules": ["dns_zone", "acm_certificate"], "sid": "SupplementRoute53Changes", "unless_recorded": True, "service": "route53",
     "actions": ["route53:GetChange"], "resources": ["change/*"], "global": True},
    {"modules": ["dns_zone", "acm_certificate"], "sid": "SupplementRoute53Zones", "unless_recorded": True, "service": "route53",
     "actions": ["route53:ChangeResourceRecordSets", "route53:DeleteHostedZone", "route53:GetHostedZone",
                 "route53:ListResourceRecordSets", "route53:ListTagsForResource"],
     "resources": ["hostedzone/*"], "global": True},
    # parliament's reference wants health checks too for ChangeTagsForResource: zones and health checks
    {"modules": ["dns_zone"], "sid": "SupplementRoute53Tags", "unless_recorded": True, "service": "route53",
     "actions": ["route53:ChangeTagsForResource"], "resources": ["hostedzone/*", "healthcheck/*"], "global": True},
    {"modules": ["http_api", "http_api_info"], "sid": "SupplementApiGatewayHttpApis", "unless_recorded": True, "service": "apigateway",
     "actions": ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"],
     "resources": ["/apis", "/apis/*", "/tags/*"], "global": True},
    {"modules": ["guardduty_detector", "guardduty_findings_info", "guardduty_tickets"],
     "sid": "SupplementGuardDutyDetectors", "unless_recorded": True, "service": "guardduty",
     "actions": ["guardduty:GetDetector", "guardduty:ListTagsForResource", "guardduty:TagResource",
                 "guardduty:UpdateDetector", "guardduty:DeleteDetector"],
     "resources": ["detector/*"]},
    {"modules": ["guardduty_detector", "guardduty_findings_info", "guardduty_tickets"],
     "sid": "SupplementGuardDutyAccount", "unless_recorded": True, "service": "guardduty",
     "actions": ["guardduty:CreateDetector", "guardduty:GetFindings", "guardduty:ListDetectors",
                 "guardduty:ListFindings"], "resources": ["*"]},
    # ecs_service's deployment.alarms (the local scenario names none): the alarms must exist, read before
    # any write (module_utils/ecs.py existing_alarm_names); any alarm the operator names, so by type only.
    {"modules": ["ecs_service"], "sid": "SupplementEcsDeploymentAlarms", "service": "cloudwatch",
     "actions": ["cloudwatch:DescribeAlarms"], "resources": ["alarm:*"]},
    # ecs_service's reference checks (module_utils/references.py) of what the local scenario does not
    # use: the access points of efs_access_points, the keys of kms_keys, the buckets of s3_prefixes and
    # SSM parameters in secrets - each must exist before a role or a volume points at it. Any the
    # operator names, so by type only (a bucket is looked up with GetBucketLocation, which tells only its
    # region, where HeadBucket would need s3:ListBucket; DescribeParameters takes no resource).
    {"modules": ["ecs_service"], "sid": "SupplementEcsServiceReferencesEfs", "service": "elasticfilesystem",
     "actions": ["elasticfilesystem:DescribeAccessPoints"], "resources": ["access-point/*"]},
    {"modules": ["ecs_service"], "sid": "SupplementEcsServiceReferencesKms", "service": "kms",
     "actions": ["kms:DescribeKey"], "resources": ["key/*"]},
    {"modules": ["ecs_service"], "sid": "SupplementEcsServiceReferencesS3", "service": "s3",
     "actions": ["s3:GetBucketLocation"], "resources": ["arn:{partition}:s3:::*"]},
    {"modules": ["ecs_service"], "sid": "SupplementEcsServiceReferencesSsm", "service": "ssm",
     "actions": ["ssm:DescribeParameters"], "resources": ["*"]},
    # * playbooks/incident_tickets.yml (guardduty_tickets) is not run by --record: it needs the operator's
    #   webhook and real findings (moto has no ListFindings/GetFindings). Its calls, from the module's code
    #   (module_utils/guardduty.py: list_detectors, list_findings, get_findings, get_ledger, put_ledger),
    #   are this labelled static list; the ledger object by its default key, in the operator's bucket.
    # (parliament's reference: the findings reads take no resource)
    {"modules": ["guardduty_tickets"], "sid": "SupplementIncidentTicketsFindings", "service": "guardduty",
     "actions": ["guardduty:GetFindings", "guardduty:ListDetectors", "guardduty:ListFindings"], "resources": ["*"]},
    {"modules": ["guardduty_tickets"], "sid": "SupplementIncidentTicketsLedger", "service": "s3",
     "actions": ["s3:GetObject", "s3:PutObject"], "resources": [f"arn:{{partition}}:s3:::*/{LEDGER_KEY}"]},
    # without s3:ListBucket S3 answers the first run's GetObject of the missing ledger with 403, not 404:
    # listing only the ledger key (the bucket is the operator's, any name)
    {"modules": ["guardduty_tickets"], "sid": "SupplementIncidentTicketsLedgerList", "service": "s3",
     "actions": ["s3:ListBucket"], "resources": ["arn:{partition}:s3:::*"],
     "condition": {"StringEquals": {"s3:prefix": LEDGER_KEY}}},
]


MAINTAINED_PLAYBOOKS = ("site.yml", "teardown.yml", "incident_tickets.yml")


def used_modules(playbooks: Iterable[str] = MAINTAINED_PLAYBOOKS, root: Path = REPO_ROOT) -> set[str]:
    """The collection's modules that these playbooks run, following import_playbook, include_tasks and
    the collection's roles they use."""
    files, seen, modules = [root / "playbooks" / p for p in playbooks], set(), set()
    while files:
        path = files.pop()
        if path in seen or not path.exists():
            continue
        seen.add(path)
        text = path.read_text(encoding="utf-8")
        for name in re.findall(r"seed\.aws_migration\.([a-z0-9_]+)", text):
            role = root / "roles" / name
            if role.is_dir():
                files.extend(sorted(role.rglob("*.yml")))
            else:
                modules.add(name)
        for target in re.findall(r"(?:import_playbook|include_tasks|import_tasks):\s*[\"']?([\w./-]+\.ya?ml)", text):
            files.append(path.parent / target)
    return modules


# --------------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------------

def arn(service: str, resource: str, account: str, partition: str = "aws", region: str = "*",
        global_service: bool = False) -> str:
    if resource == "*":
        return "*"
    if resource.startswith("arn:"):  # another service's resource (e.g. the ALB a web ACL protects)
        return resource.format(partition=partition, account=account)
    if service == "iam" or global_service:
        region = ""
    if service in ("route53", "apigateway"):
        account = ""
    if service == "route53":
        region = ""
    if service == "apigateway":
        return f"arn:{partition}:apigateway:{region or '*'}::{resource}"
    return ARN.format(partition=partition, service=service, region=region, account=account, resource=resource)


class Builder:
    """Collects (sid, action, resources, condition) and renders statements in a stable order."""

    def __init__(self, account: str, partition: str) -> None:
        self.account, self.partition = account, partition
        self.statements: dict[str, dict[str, Any]] = {}

    def add(self, sid: str, action: str, resources: list[str], condition: dict[str, Any] | None = None) -> None:
        statement = self.statements.setdefault(sid, {"Sid": sid, "Effect": "Allow", "Action": set(),
                                                     "Resource": set()})
        statement["Action"].add(action)
        statement["Resource"].update(resources)
        if condition:
            if statement.get("Condition") not in (None, condition):
                merged = statement["Condition"]
                for operator, keys in condition.items():
                    for key, values in keys.items():
                        have = merged.setdefault(operator, {}).setdefault(key, [])
                        for value in values if isinstance(values, list) else [values]:
                            if value not in have:
                                have.append(value)
                        have.sort()
            else:
                statement["Condition"] = json.loads(json.dumps(condition))

    def arns(self, scope_service: str, resources: Iterable[str], global_service: bool = False) -> list[str]:
        return [arn(scope_service, r, self.account, self.partition, global_service=global_service) for r in resources]

    def document(self) -> dict[str, Any]:
        statements = []
        for sid in sorted(self.statements):
            statement = dict(self.statements[sid])
            statement["Action"] = sorted(statement["Action"])
            statement["Resource"] = sorted(statement["Resource"])
            statements.append(statement)
        return {"Version": "2012-10-17", "Statement": statements}


def managed_condition(kind: str) -> dict[str, Any]:
    return {"StringEquals": {f"aws:{kind}/{MANAGED_TAG_KEY}": MANAGED_TAG_VALUE}}


def generate(calls: list[dict[str, Any]], account: str = "*", partition: str = "aws",
             modules: set[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The deployer policy for these recorded calls; also the warnings (actions scoped generically)."""
    builder, warnings, rules = Builder(account, partition), [], scopes(maintenance_buckets(calls))
    created_with_tags: dict[str, set[str]] = {}
    for call in calls:
        for action in iam_actions(call):
            if action in BOOTSTRAP_ACTIONS:
                warnings.append(f"{action}: a resource-policy write ({call['operation']} on "
                                f"{(call.get('params') or {}).get('Bucket')}) is playbooks/bootstrap.yml's "
                                "(administrator credentials); left out of the deployer policy")
                continue
            scope_action(builder, rules, call, action, warnings)
        implied(builder, rules, call, created_with_tags)
    for service, creates in sorted(created_with_tags.items()):
        scope = rules[service]
        tag_action, key = scope.tag_on_create
        values = [MANAGED_TAG_VALUE] if key.startswith("aws:RequestTag/") else sorted(creates)
        builder.add(f"{scope.name}TagOnCreateImplied", tag_action, builder.arns(service, scope.resources),
                    {"StringEquals": {key: values}})
    if any(fnmatch.fnmatchcase((c.get("params") or {}).get("RoleName") or "", FLOW_LOG_ROLE)
           and set(iam_actions(c)) & BOUNDED_ROLE_ACTIONS for c in calls):
        # a flow-log role (bounded like the others) may be passed to VPC flow logs only, never to ECS tasks
        builder.add("IamFlowLogRolesOnlyToFlowLogsDeny", "iam:PassRole",
                    builder.arns("iam", [f"role{ROLE_PATH}{FLOW_LOG_ROLE}"]),
                    {"StringNotEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}})
        builder.statements["IamFlowLogRolesOnlyToFlowLogsDeny"]["Effect"] = "Deny"
    recorded = {a.split(":", 1)[0] for c in calls for a in iam_actions(c)}
    for entry in SUPPLEMENT:
        if entry.get("unless_recorded") and entry["service"] in recorded:
            continue  # the recording shows that service's calls: they are the policy, not this list
        if set(entry["modules"]) & (used_modules() if modules is None else modules):
            for action in entry["actions"]:
                builder.add(entry["sid"], action,
                            builder.arns(entry["service"], entry["resources"], entry.get("global", False)),
                            entry.get("condition"))
    return builder.document(), sorted(set(warnings))


def maintenance_buckets(calls: list[dict[str, Any]]) -> list[str]:
    """The buckets the recording shows besides the trail bucket (the dns role's maintenance pages)."""
    buckets = {(c.get("params") or {}).get("Bucket") for c in calls if c["service"] == "s3"}
    return sorted(b for b in buckets if b and not b.endswith(TRAIL_BUCKET_SUFFIX))


def scope_action(builder: Builder, rules: dict[str, Scope], call: dict[str, Any], action: str,
                 warnings: list[str]) -> None:
    prefix, name = action.split(":", 1)
    if prefix == "apigateway":
        verb = name.title()
        builder.add(f"ApiGateway{verb}", action, [apigateway_resource(call).replace("arn:aws:", f"arn:{builder.partition}:")])
        return
    if not has_resource_level(action):
        if privilege(action) is None:
            warnings.append(f"{action}: unknown to parliament's IAM reference; listed on '*'")
        builder.add(f"{rules[prefix].name if prefix in rules else prefix.title()}NoResourceLevel", action, ["*"])
        return
    if prefix == "s3" and (call.get("params") or {}).get("Bucket"):
        scope_s3(builder, call, action)
        return
    if prefix == "iam" and scope_iam(builder, call, action, warnings):
        return
    scope = rules.get(prefix)
    if scope is None:
        resources = [r.format(partition=builder.partition, account=builder.account) for r in generic_resources(action)]
        warnings.append(f"{action}: no scoping rule for {prefix}, scoped by resource type only: {resources}")
        builder.add(f"{prefix.title().replace('-', '')}ByTypeOnly", action, resources)
        return
    resources = builder.arns(prefix, scope.resources)
    if name in scope.also:
        sid, extra = scope.also[name]
        builder.add(sid, action, builder.arns(prefix, extra))
    if name in scope.unconditioned:
        builder.add(f"{scope.name}Untagged", action, builder.arns(prefix, scope.unconditioned[name]))
        if prefix != "ec2":
            return
    if not scope.tagged:
        builder.add(f"{scope.name}Read" if is_read(action) else f"{scope.name}Write", action, resources)
    elif name in scope.creates:
        builder.add(f"{scope.name}CreateTagged", action, resources, managed_condition("RequestTag"))
        if prefix == "ec2" and ec2_parents(name):
            builder.add(f"{scope.name}ManageTagged", action, resources, managed_condition("ResourceTag"))
    elif is_read(action):
        builder.add(f"{scope.name}Read", action, resources)
    else:
        builder.add(f"{scope.name}ManageTagged", action, resources, managed_condition("ResourceTag"))


def scope_iam(builder: Builder, call: dict[str, Any], action: str, warnings: list[str]) -> bool:
    """The boundary rules of IAM; False for the actions the ``iam`` Scope handles (reads, deletes, tags).

    * the lookup of the boundary policy (``iam:GetPolicy``, before a role write): that policy only;
    * ``BOUNDED_ROLE_ACTIONS`` on the roles under ``/seed/`` - the services' derived roles and
      vpc_network's flow-log roles alike - only with ``iam:PermissionsBoundary`` = the boundary. A
      recorded ``CreateRole`` without it gets a warning: the policy will not allow that run.
    """
    params = call.get("params") or {}
    if action == "iam:GetPolicy":
        builder.add("IamBoundaryRead", action, [boundary_arn(builder.account, builder.partition)])
        return True
    if action not in BOUNDED_ROLE_ACTIONS:
        return False
    if action == "iam:CreateRole" and not params.get("PermissionsBoundary"):
        warnings.append(f"iam:CreateRole of {params.get('RoleName')} without a permissions boundary: the policy "
                        f"allows role writes only with {boundary_arn(builder.account, builder.partition)} "
                        "(service_permissions_boundary, network_flow_logs_permissions_boundary)")
    builder.add("IamRoleWriteWithBoundary", action, builder.arns("iam", [f"role{ROLE_PATH}*"]),
                {"ArnEquals": {"iam:PermissionsBoundary": boundary_arn(builder.account, builder.partition)}})
    return True


def scope_s3(builder: Builder, call: dict[str, Any], action: str) -> None:
    """An S3 action on the bucket it was called on only, as bucket and/or object ARN (what the action takes).

    The trail bucket by its suffix (``*-seed-audit-trail``), a maintenance-page bucket by its exact name:
    each group has its own statements, so what one bucket needs is never granted on the other (the
    deployer may write the maintenance page's objects, never the audit trail's).
    """
    bucket = call["params"]["Bucket"]
    trail = bucket.endswith(TRAIL_BUCKET_SUFFIX)
    pattern = f"*{TRAIL_BUCKET_SUFFIX}" if trail else bucket
    kinds = {r["resource_type"].rstrip("*") for r in (privilege(action) or {"resource_types": []})["resource_types"]
             if r["resource_type"]}
    resources = [f"arn:{builder.partition}:s3:::{pattern}"] if "bucket" in kinds else []
    if "object" in kinds:
        resources.append(f"arn:{builder.partition}:s3:::{pattern}/*")
    group = ("TrailBucket" if trail else "SiteBuckets") + ("Objects" if kinds == {"object"} else "")
    builder.add(f"S3{group}{'Read' if is_read(action) else 'Write'}", action, resources or ["*"])


def ec2_parents(name: str) -> list[str]:
    """Managed EC2 resource types an ec2 create also authorises (the VPC of a subnet...)."""
    info = privilege(f"ec2:{name}") or {"resource_types": []}
    kinds = {r["resource_type"].rstrip("*") for r in info["resource_types"]}
    return sorted(k for k in kinds & set(EC2_TYPES) if k != EC2_CREATES.get(name))


def generic_resources(action: str) -> list[str]:
    prefix = action.split(":", 1)[0]
    info, found = privilege(action), []
    for row in info["resource_types"]:
        kind = row["resource_type"].rstrip("*")
        resource = reference()[prefix]["resources"].get(kind)
        if resource and row["resource_type"].endswith("*"):
            pattern = resource["arn"].replace("${Partition}", "{partition}").replace("${Account}", "{account}")
            found.append(re.sub(r"\$\{[^}]+\}", "*", pattern))
    return sorted(set(found)) or ["*"]


def implied(builder: Builder, rules: dict[str, Scope], call: dict[str, Any],
            created_with_tags: dict[str, set[str]]) -> None:
    """Permissions AWS checks for this call besides its own action."""
    key = (call["signing_name"], call["operation"])
    params = call.get("params") or {}
    if key in PASSED_ROLE_PARAMS:
        fields, service = PASSED_ROLE_PARAMS[key]
        if any(params.get(f) for f in fields):
            builder.add("IamPassRoleImplied", "iam:PassRole", builder.arns("iam", [f"role{ROLE_PATH}*"]),
                        {"StringEquals": {"iam:PassedToService": [service]}})
    if key == ("iam", "CreateRole") and params.get("PermissionsBoundary"):
        # a role created before the boundary was introduced gets it with PutRolePermissionsBoundary
        # (ecs_service): never in a fresh recording, so implied by the creates that carry one
        builder.add("IamBoundaryOnExistingRolesImplied", "iam:PutRolePermissionsBoundary",
                    builder.arns("iam", [f"role{ROLE_PATH}*"]),
                    {"ArnEquals": {"iam:PermissionsBoundary": boundary_arn(builder.account, builder.partition)}})
    if key in SERVICE_LINKED_CREATES:
        service = SERVICE_LINKED[key[0]]
        builder.add("IamServiceLinkedRolesImplied", "iam:CreateServiceLinkedRole",
                    builder.arns("iam", [f"role/aws-service-role/{service}/*"]),
                    {"StringEquals": {"iam:AWSServiceName": [service]}})
    scope = rules.get(key[0])
    if tags_of(params) and scope and scope.tag_on_create and key[1] in scope.creates:
        created_with_tags.setdefault(key[0], set()).add(f"{key[1]}")
    if tags_of(params) and key in TAGS_ON_CREATE_ACTIONS and scope:
        builder.add(f"{scope.name}TagOnCreateImplied", TAGS_ON_CREATE_ACTIONS[key],
                    builder.arns(key[0], scope.resources))


# --------------------------------------------------------------------------------------------------
# Evaluation of recorded calls against a policy
# --------------------------------------------------------------------------------------------------

ACCOUNT = "123456789012"  # moto's


EC2_ID_PREFIXES = {"vpc": "vpc", "subnet": "subnet", "rtb": "route-table", "sg": "security-group",
                   "igw": "internet-gateway", "nat": "natgateway", "eipalloc": "elastic-ip", "vpce": "vpc-endpoint",
                   "fl": "vpc-flow-log"}
EC2_ID = re.compile(r"^(" + "|".join(EC2_ID_PREFIXES) + r")-[0-9a-f]+$")


def _ec2_resources(name: str, params: dict[str, Any], region: str) -> list[str]:
    ids = {"VpcId": "vpc", "SubnetId": "subnet", "RouteTableId": "route-table", "GroupId": "security-group",
           "InternetGatewayId": "internet-gateway", "NatGatewayId": "natgateway", "AllocationId": "elastic-ip",
           "VpcEndpointId": "vpc-endpoint", "FlowLogId": "vpc-flow-log"}
    lists = {"VpcEndpointIds": "vpc-endpoint", "FlowLogIds": "vpc-flow-log", "RouteTableIds": "route-table",
             "SubnetIds": "subnet", "SecurityGroupIds": "security-group"}
    found = []
    if name in EC2_CREATES:
        found.append(f"{EC2_CREATES[name]}/new")
    for key, kind in ids.items():
        if isinstance(params.get(key), str) and not (name == "CreateNatGateway" and key == "AllocationId"):
            found.append(f"{kind}/{params[key]}")
    for key, kind in lists.items():
        found.extend(f"{kind}/{value}" for value in params.get(key) or [])
    if name == "CreateFlowLogs":
        found.extend(f"vpc/{value}" for value in params.get("ResourceIds") or [])
    if name in ("CreateTags", "DeleteTags"):  # tags of existing resources, by their IDs' prefixes
        # an ID of another type (also vpce-svc-..., an endpoint service) stays unrecognised: reported
        for value in params.get("Resources") or []:
            match = EC2_ID.match(value)
            found.append(f"{EC2_ID_PREFIXES[match.group(1)] if match else 'unrecognised'}/{value}")
    if str(params.get("AssociationId", "")).startswith("rtbassoc-"):
        found.append(f"route-table/of-{params['AssociationId']}")  # the association's route table
    # nothing recognised: a resource no pattern of a managed type matches (reported, never waved through)
    return [f"arn:aws:ec2:{region}:{ACCOUNT}:{r}" for r in found] or [f"arn:aws:ec2:{region}:{ACCOUNT}:*"]


def call_resources(call: dict[str, Any], action: str, role_paths: dict[str, str]) -> list[str]:
    """The ARNs AWS authorises for this call (only those an identity policy can scope)."""
    if not has_resource_level(action):
        return ["*"]
    prefix, name = action.split(":", 1)
    params, region = call.get("params") or {}, call.get("region") or "us-east-1"
    base = f"arn:aws:{prefix}:{region}:{ACCOUNT}:"
    if prefix == "apigateway":
        return [apigateway_resource(call).replace(":*::", f":{region}::")]
    if prefix == "ec2":
        return _ec2_resources(name, params, region)
    if prefix == "ecs":
        if params.get("resourceArn"):
            return [params["resourceArn"]]
        cluster = str(params.get("cluster") or params.get("clusterName") or "default").rsplit("/", maxsplit=1)[-1]
        if "service" in params or "serviceName" in params or "services" in params:
            names = params.get("services") or [params.get("service") or params.get("serviceName")]
            return [f"{base}service/{cluster}/{n.split('/')[-1]}" for n in names]
        if name == "RegisterTaskDefinition":
            return [f"{base}task-definition/{params['family']}:1"]
        names = params.get("clusters") or [cluster]
        return [f"{base}cluster/{n.split('/')[-1]}" for n in names]
    if prefix == "elasticloadbalancing":
        found = [params[k] for k in ("LoadBalancerArn", "TargetGroupArn", "ListenerArn", "RuleArn") if params.get(k)]
        found += params.get("ResourceArns") or []
        if name == "CreateLoadBalancer":
            found.append(f"{base}loadbalancer/app/{params['Name']}/new")
        if name == "CreateTargetGroup":
            found.append(f"{base}targetgroup/{params['Name']}/new")
        return found or [f"{base}loadbalancer/app/*"]
    if prefix == "ecr":
        if params.get("resourceArn"):
            return [params["resourceArn"]]
        names = params.get("repositoryNames") or [params.get("repositoryName", "")]
        return [f"{base}repository/{n}" for n in names]
    if prefix == "logs":
        return [f"{base}log-group:{params.get('logGroupName', '')}"]
    if prefix == "iam":
        if params.get("PolicyArn") and not params.get("RoleName"):
            return [params["PolicyArn"]]
        role = params.get("RoleName", "")
        # a lookup of a role that does not exist (yet) is checked without a path
        path = "/" if call.get("error") == "NoSuchEntity" else params.get("Path") or role_paths.get(role, "/")
        return [f"arn:aws:iam::{ACCOUNT}:role{path}{role}"]
    if prefix == "wafv2":
        found = [params[k] for k in ("ResourceArn", "ResourceARN", "WebACLArn") if params.get(k)]
        if params.get("Name"):
            found.append(f"{base}{params.get('Scope', 'REGIONAL').lower()}/webacl/{params['Name']}/"
                         f"{params.get('Id', 'new')}")
        return found or [f"{base}*"]
    if prefix == "s3":
        bucket, key = params.get("Bucket", ""), params.get("Key")
        keys = [key] if key else [o.get("Key") for o in (params.get("Delete") or {}).get("Objects") or []]
        return [f"arn:aws:s3:::{bucket}/{k}" for k in keys] or [f"arn:aws:s3:::{bucket}"]
    if prefix == "route53":
        if params.get("HostedZoneId") or (params.get("Id") and "Zone" in name):
            zone = str(params.get("HostedZoneId") or params.get("Id")).rsplit("/", maxsplit=1)[-1]
            return [f"arn:aws:route53:::hostedzone/{zone}"]
        if params.get("ResourceType") and params.get("ResourceId"):
            return [f"arn:aws:route53:::{params['ResourceType']}/{params['ResourceId']}"]
        if params.get("HealthCheckId"):
            return [f"arn:aws:route53:::healthcheck/{params['HealthCheckId']}"]
        if name == "GetChange":
            return [f"arn:aws:route53:::change/{str(params.get('Id')).rsplit('/', maxsplit=1)[-1]}"]
        return ["arn:aws:route53:::*"]
    if prefix == "acm":
        return [params["CertificateArn"]] if params.get("CertificateArn") else [f"{base}certificate/new"]
    if prefix == "secretsmanager":
        secret = str(params.get("SecretId") or params.get("Name") or "")
        return [secret if secret.startswith("arn:") else f"{base}secret:{secret}-AbCdEf"]
    if prefix == "application-autoscaling":
        return [f"{base}scalable-target/{params.get('ResourceId', '').replace('/', '-')}"]
    if prefix == "cloudtrail":
        names = params.get("ResourceIdList") or params.get("trailNameList") or [
            params.get("Name") or params.get("TrailName") or params.get("ResourceId") or ""]
        return [n if n.startswith("arn:") else f"{base}trail/{n}" for n in names]
    if prefix == "sns":
        topic = params.get("TopicArn") or params.get("ResourceArn") or f"{base}{params.get('Name', '')}"
        if params.get("SubscriptionArn") and not params.get("TopicArn"):
            topic = params["SubscriptionArn"].rsplit(":", 1)[0]  # a subscription is checked on its topic
        return [topic]
    if prefix == "events":
        if params.get("ResourceARN"):
            return [params["ResourceARN"]]
        return [f"{base}rule/{params.get('Name') or params.get('Rule') or ''}"]
    if prefix == "guardduty":
        if params.get("ResourceArn"):
            return [params["ResourceArn"]]
        return [f"{base}detector/{params.get('DetectorId', 'new')}"]
    return [f"{base}*"]


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


# Condition keys the evaluator knows from a recorded call (``context``); the others are taken as satisfied.
EVALUATED_KEYS = ("iam:PermissionsBoundary", "s3:prefix")


def _conditions_hold(condition: dict[str, Any] | None, request_tags: dict[str, str] | None,
                     context: dict[str, str] | None = None) -> bool:
    """``aws:RequestTag`` (from the call's parameters), ``iam:PermissionsBoundary`` (the boundary a role
    write gives or the role has, from the recording; ``ArnEquals``: parliament types the key as an ARN) and
    ``s3:prefix`` are evaluated; a key the call does not carry fails. The other keys (ResourceTag, CreateAction, PassedToService) are not
    in a recording and are taken as satisfied: that every create carries the managed-by tag is checked
    separately (``untagged_creates``)."""
    for operator, keys in (condition or {}).items():
        for key, values in keys.items():
            wanted = values if isinstance(values, list) else [values]
            if key.startswith("aws:RequestTag/"):
                if operator != "StringEquals" or (request_tags or {}).get(key.split("/", 1)[1]) not in wanted:
                    return False
            elif key in EVALUATED_KEYS:
                given = (context or {}).get(key)
                if operator in ("ArnEquals", "ArnLike"):  # the same in IAM: wildcards allowed
                    if given is None or not any(_matches(w, given) for w in wanted):
                        return False
                elif operator != "StringEquals" or given not in wanted:
                    return False
    return True


def allowed(policy: dict[str, Any], action: str, resource: str, request_tags: dict[str, str] | None = None,
            context: dict[str, str] | None = None) -> bool:
    """Allow-only evaluation: some statement matches the action (wildcards), the resource and its conditions
    (``context``: the values of ``EVALUATED_KEYS`` the request carries)."""
    for statement in policy["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if not any(_matches(a.lower(), action.lower()) for a in actions):
            continue
        if not any(r == "*" or _matches(r, resource) or resource == "*" and r == "*" for r in resources):
            continue
        if _conditions_hold(statement.get("Condition"), request_tags, context):
            return True
    return False


def pin(policy: dict[str, Any], account: str) -> dict[str, Any]:
    """The policy with the account of every ARN set (what deployer_role.yml creates)."""
    text = re.sub(r'"(arn:[^:"]+:[^:"]+:[^:"]*):\*:', lambda m: f'"{m.group(1)}:{account}:', json.dumps(policy))
    return json.loads(text)


def evaluate(policy: dict[str, Any], calls: list[dict[str, Any]]) -> list[str]:
    """Every recorded call that the policy would not allow, as readable lines (empty: all allowed)."""
    pinned = pin(policy, ACCOUNT)
    role_paths = {c["params"]["RoleName"]: c["params"].get("Path", "/") for c in calls
                  if c["operation"] == "CreateRole" and c["signing_name"] == "iam"}
    boundaries: dict[str, str] = {}  # role -> its boundary, as the recording has set it so far
    denied = []
    for call in calls:
        params = call.get("params") or {}
        context = {}
        if call["signing_name"] == "iam" and params.get("RoleName"):
            boundary = params.get("PermissionsBoundary") or boundaries.get(params["RoleName"])
            if boundary:
                context["iam:PermissionsBoundary"] = boundary
            if call["operation"] in ("CreateRole", "PutRolePermissionsBoundary") and not call.get("error"):
                boundaries[params["RoleName"]] = params.get("PermissionsBoundary")
        if call["service"] == "s3" and params.get("Prefix") is not None:
            context["s3:prefix"] = params["Prefix"]
        for action in iam_actions(call):
            for resource in call_resources(call, action, role_paths):
                if not allowed(pinned, action, resource, tags_of(params), context):
                    denied.append(f"{action} on {resource}")
    return sorted(set(denied))


def untagged_creates(calls: list[dict[str, Any]]) -> list[str]:
    """Creates under a tag-conditioned scope that do not carry the managed-by tag (must be none)."""
    rules, found = scopes(), []
    for call in calls:
        scope = rules.get(call["signing_name"])
        if scope and scope.tagged and call["operation"] in scope.creates:
            if (tags_of(call.get("params") or {}) or {}).get(MANAGED_TAG_KEY) != MANAGED_TAG_VALUE:
                found.append(f"{call['signing_name']}:{call['operation']}")
    return sorted(set(found))


# IAM prefixes of the services whose requests moto 5.2.5 cannot authorise (its signature check fails)
UNENFORCEABLE = frozenset({"apigateway", "guardduty", "route53", "elasticfilesystem"})


# moto 5.2.5 (s3/responses.py ACTION_MAP) checks some S3 requests under its own names, not the IAM action
# AWS checks: the projection gives the user both (the emulator's name of the SAME permission, like
# monitoring:* for cloudwatch:*). The shipped documents keep the IAM names only.
MOTO_S3_NAMES = {"s3:ListBucket": ("s3:HeadBucket",),
                 "s3:GetBucketPublicAccessBlock": ("s3:GetPublicAccessBlock",),
                 "s3:PutBucketPublicAccessBlock": ("s3:PutPublicAccessBlock", "s3:DeletePublicAccessBlock"),
                 "s3:GetInventoryConfiguration": ("s3:ListBucketInventoryConfigurations",)}


def enforceable_projection(policy: dict[str, Any], drop: Iterable[str] = ()) -> dict[str, Any]:
    """What moto can enforce of ``policy``: its actions (minus ``drop``) on ``*`` without conditions.

    moto authorises most requests against the resource ``*`` and without a request context, so a
    statement scoped to ARNs or conditioned on tags never matches there.  This projection proves the
    ACTION set is complete; ``evaluate`` proves the resources and tag conditions on the recorded calls.
    The services moto cannot authorise are left out (proved by ``evaluate`` only); CloudWatch is named
    ``monitoring:*`` by moto.
    """
    drop = set(drop)
    actions = sorted({a for s in policy["Statement"] for a in s["Action"]
                      if a.split(":", 1)[0] not in UNENFORCEABLE and a not in drop})
    actions += [a.replace("cloudwatch:", "monitoring:") for a in actions if a.startswith("cloudwatch:")]
    actions += [alias for a in actions for alias in MOTO_S3_NAMES.get(a, ())]
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------

def render(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=textwrap.dedent(__doc__.split("\n\n", 1)[1]))
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--record", action="store_true", help="make a fresh recording (private local AWS)")
    source.add_argument("--recording", type=Path, help="read this recording (JSON lines)")
    parser.add_argument("--save-recording", type=Path, help="keep the fresh recording here")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default: %(default)s")
    parser.add_argument("--account", default="*", help="account in the ARNs (default '*': pinned at creation)")
    parser.add_argument("--partition", default="aws")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if --output differs")
    parser.add_argument("--evaluate", action="store_true", help="also evaluate every recorded call")
    args = parser.parse_args(argv)

    if args.record:
        recording = args.save_recording or Path(tempfile.mkdtemp(prefix="seed-calls-")) / "calls.jsonl"
        record(recording)
    else:
        recording = args.recording
    calls = load_recording(recording)
    policy, warnings = generate(calls, args.account, args.partition)
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    outputs = {args.output: render(policy)}
    status = 0
    if args.evaluate:
        denied = evaluate(policy, calls) + [f"create without the {MANAGED_TAG_KEY} tag: {c}"
                                            for c in untagged_creates(calls)]
        for line in denied:
            print(f"DENIED: {line}", file=sys.stderr)
        status = 1 if denied else 0
    if args.check:
        for output, text in outputs.items():
            current = output.read_text(encoding="utf-8") if output.exists() else ""
            if current != text:
                print(f"{output} is stale: regenerate with python3 tools/deployer_policy.py --record", file=sys.stderr)
                return 1
            print(f"{output} is up to date ({len(calls)} calls)", file=sys.stderr)
        return status
    for output, text in outputs.items():
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}: {len(json.loads(text)['Statement'])} statements from {len(calls)} calls",
              file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
