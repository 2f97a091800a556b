#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: dns_zone
short_description: A Route 53 hosted zone with the records and health checks of an app, in one run
version_added: 1.0.0
description:
  - Creates a hosted zone, or looks an existing one up (O(lookup_only=true)), and converges the listed records
    (plain values or aliases, optionally failover pairs) and health checks in one run. Every record change goes
    in one C(ChangeResourceRecordSets) batch.
  - Only the listed records are managed unless O(purge_records=true); the zone's C(SOA) and apex C(NS) records are
    never touched. The listed records of one name and type are all the records of that name and type (a plain
    record turned into a failover pair is replaced).
  - Health checks are identified by their O(health_checks[].name) through their C(CallerReference) (never by the
    endpoint, so two checks of one endpoint do not clobber each other), and tagged C(Name) when created. The type
    and request interval of a health check cannot change in place; the check is then replaced.
  - O(state=absent) deletes the listed records and health checks; the zone itself (with all its records and the
    health checks this module made for it) only with O(delete_zone=true).
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description: Domain name of the zone, for example C(example.com).
    type: str
    required: true
  state:
    description: Whether the listed records and health checks (and, for O(state=absent) with O(delete_zone), the
      zone) should exist.
    type: str
    choices: [present, absent]
    default: present
  lookup_only:
    description: The zone must exist already; it is neither created nor changed (comment, tags). Fails naming
      O(name) when there is no such zone.
    type: bool
    default: false
  private:
    description: A private zone (associated with O(vpc) when created).
    type: bool
    default: false
  vpc:
    description: VPC of a private zone, used only when the zone is created.
    type: dict
    suboptions:
      id:
        description: VPC ID.
        type: str
        required: true
      region:
        description: Region of the VPC.
        type: str
        required: true
  comment:
    description: Comment of the zone. Not set - not managed.
    type: str
  records:
    description: Records of the zone to manage.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the record, relative to the zone (C(app)), the zone apex (C(@)) or a name in the zone.
        type: str
        required: true
      type:
        description: Record type.
        type: str
        required: true
        choices: [A, AAAA, CAA, CNAME, DS, MX, NAPTR, NS, PTR, SPF, SRV, TXT]
      ttl:
        description: Time to live of a record with O(records[].values) (default 300); not with an alias.
        type: int
      values:
        description: The values. C(TXT) values are quoted when they are not already.
        type: list
        elements: str
      alias:
        description: An alias target instead of O(records[].values).
        type: dict
        suboptions:
          dns_name:
            description: DNS name of the target (load balancer, S3 website endpoint, API domain, CloudFront).
            type: str
            required: true
          hosted_zone_id:
            description: Hosted zone ID of the target.
            type: str
            required: true
          evaluate_target_health:
            description: Whether Route 53 evaluates the health of the target.
            type: bool
            default: false
      failover:
        description: Failover role of the record. A C(PRIMARY) record needs O(records[].health_check).
        type: str
        choices: [PRIMARY, SECONDARY]
      set_identifier:
        description: Identifier of a failover record (default the O(records[].failover) value in lower case).
        type: str
      health_check:
        description: Name of an entry in O(health_checks) whose health check the record uses.
        type: str
  health_checks:
    description: Health checks used by the records, identified by name.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Identity of the health check (unique in this zone; also its C(Name) tag).
        type: str
        required: true
      type:
        description: Check type.
        type: str
        choices: [HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP]
        default: HTTPS
      fqdn:
        description: Domain name checked.
        type: str
        required: true
      port:
        description: Port (default 443 for HTTPS types, 80 for HTTP types; required for TCP).
        type: int
      path:
        description: Path requested (not for TCP).
        type: str
        default: /
      request_interval:
        description: Seconds between checks (10 or 30).
        type: int
        choices: [10, 30]
        default: 30
      failure_threshold:
        description: Consecutive failures (and successes) that change the status (1-10).
        type: int
        default: 3
      search_string:
        description: String the response must contain (the C(*_STR_MATCH) types only).
        type: str
  purge_records:
    description: Delete the records of the zone that are not listed (never C(SOA) and apex C(NS)), and the health
      checks this module made for the zone that are not listed.
    type: bool
    default: false
  delete_zone:
    description: With O(state=absent), delete the zone, all its records and its health checks.
    type: bool
    default: false
  wait:
    description: Wait until the record changes are C(INSYNC).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for O(wait).
    type: int
    default: 300
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - Tags (O(tags)) are those of the zone; tag keys C(Name) and C(seed:*) are never removed by O(purge_tags).
"""

EXAMPLES = r"""
- name: The zone with the app behind the load balancer, failing over to a maintenance page
  seed.aws_migration.dns_zone:
    name: example.com
    health_checks:
      - name: app
        type: HTTPS
        fqdn: web-123.eu-west-1.elb.amazonaws.com
        path: /healthz
    records:
      - name: app
        type: A
        failover: PRIMARY
        health_check: app
        alias: {dns_name: web-123.eu-west-1.elb.amazonaws.com, hosted_zone_id: Z32O12XQLNTSW2,
                evaluate_target_health: true}
      - name: app
        type: A
        failover: SECONDARY
        alias: {dns_name: app.example.com.s3-website-eu-west-1.amazonaws.com, hosted_zone_id: Z1BKCTXD74EZPE}
      - name: "@"
        type: TXT
        ttl: 3600
        values: ["v=spf1 -all"]

- name: Records in a zone someone else manages (fails when it does not exist)
  seed.aws_migration.dns_zone:
    name: corp.example.com
    lookup_only: true
    records:
      - {name: shop, type: CNAME, values: [shop.example.net]}

- name: Delete the zone, its records and health checks
  seed.aws_migration.dns_zone:
    name: example.com
    state: absent
    delete_zone: true
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["create hosted zone example.com", "tag hosted zone example.com", "create health check app",
           "tag health check app", "change record sets of example.com: UPSERT app.example.com A [primary]"]
zone:
  description: The zone (C(id) is null in check mode when the zone is still to be created); empty when absent.
  returned: always
  type: dict
  contains:
    id:
      description: Hosted zone ID.
      type: str
      sample: Z0123456789ABCDEFGHIJ
    name:
      description: Domain name of the zone.
      type: str
      sample: example.com
    private:
      description: Whether the zone is private.
      type: bool
    comment:
      description: Comment of the zone.
      type: str
    name_servers:
      description: Name servers of a public zone.
      type: list
      elements: str
      sample: ["ns-1.awsdns-01.org"]
records:
  description: The managed records as they are after the run, keyed by C(<name> <type> [<set identifier>]).
  returned: always
  type: dict
  sample: {"app.example.com A [primary]": {"alias": {"dns_name": "web-123.eu-west-1.elb.amazonaws.com",
           "hosted_zone_id": "Z32O12XQLNTSW2", "evaluate_target_health": true}, "failover": "PRIMARY",
           "health_check": "app"}}
health_checks:
  description: IDs of the listed health checks by name (null in check mode for one still to be created).
  returned: always
  type: dict
  sample: {"app": "4a5b6c7d-0000-1111-2222-333344445555"}
diff:
  description: The zone, the managed records and the health checks before and after.
  returned: in diff mode
  type: dict
"""

import uuid

from ansible_collections.seed.aws_migration.plugins.module_utils import route53
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import build_diff
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import create_once
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import identity_tags
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_for

NAME_QUOTED_TYPES = ("CNAME", "NS", "PTR")
HTTPS_TYPES = ("HTTPS", "HTTPS_STR_MATCH")
STR_MATCH_TYPES = ("HTTP_STR_MATCH", "HTTPS_STR_MATCH")
UPDATABLE = {"fqdn": "FullyQualifiedDomainName", "port": "Port", "path": "ResourcePath",
             "failure_threshold": "FailureThreshold", "search_string": "SearchString"}


# -- validation (before any client) ------------------------------------------------------------------
def record_name(field, name, zone):
    text = str(name or "").strip().lower().rstrip(".")
    if text in ("", "@"):
        return zone
    if text != zone and not text.endswith("." + zone):
        text = f"{text}.{zone}"
    return route53.check_domain(field, text)


def _value(rtype, value):
    text = str(value).strip()
    if rtype in NAME_QUOTED_TYPES:
        return text.lower().rstrip(".")
    if rtype in ("TXT", "SPF") and not text.startswith('"'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def check_health_checks(items):
    checks = {}
    for index, item in enumerate(items):
        field = f"health_checks[{index}]"
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 64:
            raise ValidationError(f"{field}.name", f"{item.get('name')!r} must be 1-64 characters")
        if name in checks:
            raise ValidationError(f"{field}.name", f"{name!r} is listed twice")
        htype = item.get("type") or "HTTPS"
        target = route53.check_domain(f"{field}.fqdn", item.get("fqdn"), wildcard=False)
        port = item.get("port")
        if port is None:
            if htype == "TCP":
                raise ValidationError(f"{field}.port", "a TCP health check needs a port")
            port = 443 if htype in HTTPS_TYPES else 80
        if not 1 <= port <= 65535:
            raise ValidationError(f"{field}.port", f"{port} is not a port (1-65535)")
        path = item.get("path") or "/"
        if htype != "TCP" and (not path.startswith("/") or len(path) > 255):
            raise ValidationError(f"{field}.path", f"{path!r} must start with '/' (at most 255 characters)")
        search = item.get("search_string")
        if (htype in STR_MATCH_TYPES) != bool(search):
            raise ValidationError(f"{field}.search_string", f"needed with, and only with, the types "
                                                            f"{', '.join(STR_MATCH_TYPES)} (type is {htype})")
        if search and len(search) > 255:
            raise ValidationError(f"{field}.search_string", "at most 255 characters")
        threshold = item.get("failure_threshold") or 3
        if not 1 <= threshold <= 10:
            raise ValidationError(f"{field}.failure_threshold", f"{threshold} is not in 1-10")
        checks[name] = {"type": htype, "fqdn": target, "port": port, "path": None if htype == "TCP" else path,
                        "request_interval": item.get("request_interval") or 30, "failure_threshold": threshold,
                        "search_string": search or None}
    return checks


def check_records(items, zone, checks, state):
    records = {}
    for index, item in enumerate(items):
        field = f"records[{index}]"
        name = record_name(f"{field}.name", item.get("name"), zone)
        rtype = item["type"]
        failover = item.get("failover")
        ident = item.get("set_identifier") or (failover.lower() if failover else "")
        if ident and not failover:
            raise ValidationError(f"{field}.set_identifier", "only failover records (records[].failover) are "
                                                             "supported")
        if len(ident) > 128:
            raise ValidationError(f"{field}.set_identifier", "at most 128 characters")
        key = (route53.fqdn(name), rtype, ident)
        if key in records:
            raise ValidationError(f"{field}.name", f"record {route53.key_text(key)} is listed twice")
        if name == zone and rtype in ("NS", "SOA"):
            raise ValidationError(f"{field}.type", f"the {rtype} record of the zone apex is never managed")
        if name == zone and rtype == "CNAME":
            raise ValidationError(f"{field}.type", "a CNAME record is not allowed at the zone apex")
        health = item.get("health_check")
        if health and health not in checks:
            raise ValidationError(f"{field}.health_check", f"{health!r} is not the name of an entry in "
                                                           f"health_checks ({sorted(checks)})")
        if failover == "PRIMARY" and not health and state == "present":
            raise ValidationError(f"{field}.health_check", f"the PRIMARY failover record {route53.key_text(key)} "
                                                           "needs a health check (the name of an entry in "
                                                           "health_checks)")
        alias, values, ttl = item.get("alias"), item.get("values"), item.get("ttl")
        if state == "present":
            if bool(alias) == bool(values):
                raise ValidationError(f"{field}.values", "give either values or alias")
            if alias and ttl is not None:
                raise ValidationError(f"{field}.ttl", "an alias record has no TTL")
            if ttl is not None and not 0 <= ttl <= 2147483647:
                raise ValidationError(f"{field}.ttl", f"{ttl} is not a TTL (0-2147483647 seconds)")
        view = {"type": rtype}
        if alias:
            if not route53.ZONE_ID_RE.match(str(alias["hosted_zone_id"])):
                raise ValidationError(f"{field}.alias.hosted_zone_id", f"{alias['hosted_zone_id']!r} is not a "
                                                                       "hosted zone ID")
            view["alias"] = {"dns_name": route53.check_domain(f"{field}.alias.dns_name", alias["dns_name"]),
                             "hosted_zone_id": route53.short_id(alias["hosted_zone_id"]),
                             "evaluate_target_health": bool(alias.get("evaluate_target_health"))}
        else:
            view["ttl"] = 300 if ttl is None else ttl
            view["values"] = sorted(_value(rtype, v) for v in values or [])
        if failover:
            view["failover"] = failover
            view["health_check"] = health or None
        records[key] = view
    return records


def validate(params):
    zone = route53.check_domain("name", params["name"], wildcard=False)
    if params["delete_zone"] and params["state"] != "absent":
        raise ValidationError("delete_zone", "only with state=absent")
    if params["vpc"] and not params["private"]:
        raise ValidationError("vpc", "only for a private zone (private=true)")
    checks = check_health_checks(params["health_checks"] or [])
    records = check_records(params["records"] or [], zone, checks, params["state"])
    return zone, records, checks


# -- views ----------------------------------------------------------------------------------------
def current_record_view(record, names_by_id):
    view = {"type": record["Type"]}
    alias = record.get("AliasTarget")
    if alias:
        view["alias"] = {"dns_name": route53.display(alias["DNSName"]).lower(),
                         "hosted_zone_id": route53.short_id(alias["HostedZoneId"]),
                         "evaluate_target_health": bool(alias.get("EvaluateTargetHealth"))}
    else:
        view["ttl"] = record.get("TTL")
        view["values"] = sorted(_value(record["Type"], r["Value"]) for r in record.get("ResourceRecords") or [])
    if record.get("Failover"):
        view["failover"] = record["Failover"]
        check_id = record.get("HealthCheckId")
        view["health_check"] = names_by_id.get(check_id, check_id) if check_id else None
    return view


def current_check_view(check):
    config = check["HealthCheckConfig"]
    return {"type": config.get("Type"), "fqdn": str(config.get("FullyQualifiedDomainName") or "").lower(),
            "port": config.get("Port"), "path": config.get("ResourcePath") if config.get("Type") != "TCP" else None,
            "request_interval": config.get("RequestInterval"), "failure_threshold": config.get("FailureThreshold"),
            "search_string": config.get("SearchString") or None}


def check_config(view):
    config = {"Type": view["type"], "FullyQualifiedDomainName": view["fqdn"], "Port": view["port"],
              "RequestInterval": view["request_interval"], "FailureThreshold": view["failure_threshold"]}
    if view["path"]:
        config["ResourcePath"] = view["path"]
    if view["search_string"]:
        config["SearchString"] = view["search_string"]
    if view["type"] in HTTPS_TYPES:
        config["EnableSNI"] = True
    return config


def record_set(key, view, check_ids):
    name, rtype, ident = key
    rrset = {"Name": name, "Type": rtype}
    if "alias" in view:
        alias = view["alias"]
        rrset["AliasTarget"] = {"HostedZoneId": alias["hosted_zone_id"], "DNSName": alias["dns_name"],
                                "EvaluateTargetHealth": alias["evaluate_target_health"]}
    else:
        rrset["TTL"] = view["ttl"]
        rrset["ResourceRecords"] = [{"Value": v} for v in view["values"]]
    if ident:
        rrset["SetIdentifier"] = ident
        rrset["Failover"] = view["failover"]
        if view.get("health_check"):
            rrset["HealthCheckId"] = check_ids[view["health_check"]]
    return rrset


class ZoneManager:
    """Converges the zone, then the health checks, then the records (one batch), then removes what is left.
    Every write goes through ``_do``: a check run and a real run walk the same code and report the same
    actions."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.zone_name, self.records, self.checks = validate(self.params)  # before any client exists
        self.client = module.seed_client("route53")
        self.actions = []
        self.zone = None  # {"id", "name", "private", "comment", "name_servers"}
        self.check_ids = {}  # name -> id after the run
        self.records_after = {}

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.check_mode else call(*args, **kwargs)

    # -- zone -------------------------------------------------------------------------------------
    def _find_zone(self):
        private = self.params["private"]
        found = [z for z in route53.find_zones(self.client, self.zone_name)
                 if bool(z.get("Config", {}).get("PrivateZone")) == private]
        if len(found) > 1:
            raise ValidationError("name", f"{len(found)} {'private' if private else 'public'} hosted zones are "
                                          f"named {self.zone_name} ({', '.join(route53.short_id(z['Id']) for z in found)})"
                                          "; remove the extra ones")
        return found[0] if found else None

    def _read_zone(self, summary):
        described = route53.get_zone(self.client, summary["Id"])
        zone = described["HostedZone"]
        return {"id": route53.short_id(zone["Id"]), "name": self.zone_name,
                "private": bool(zone.get("Config", {}).get("PrivateZone")),
                "comment": zone.get("Config", {}).get("Comment"),
                "name_servers": (described.get("DelegationSet") or {}).get("NameServers", [])}

    def _zone_tags(self):
        tags = dict(self.params.get("tags") or {})
        tags.update(identity_tags("global", self.zone_name, "route53-zone"))
        return tags

    def _create_zone(self):
        p = self.params
        if p["private"] and not p["vpc"]:
            raise ValidationError("vpc", f"private zone {self.zone_name} does not exist; creating it needs a VPC")
        reference = f"seed-{uuid.uuid4().hex}"

        def create():
            created = route53.create_zone(self.client, self.zone_name, reference, p["comment"], p["private"], p["vpc"])
            return {"Id": created["HostedZone"]["Id"]}

        summary = self._do(f"create hosted zone {self.zone_name}", create_once, create, self._find_zone)
        self._do(f"tag hosted zone {self.zone_name}", lambda: route53.change_tags(
            self.client, "hostedzone", summary["Id"], to_set=self._zone_tags()))
        if summary:
            self.zone = self._read_zone(summary)
        else:
            self.zone = {"id": None, "name": self.zone_name, "private": p["private"], "comment": p["comment"],
                         "name_servers": []}

    def _ensure_zone_settings(self):
        p = self.params
        if p["comment"] is not None and (self.zone["comment"] or "") != p["comment"]:
            self._do(f"set comment of hosted zone {self.zone_name}", route53.update_zone_comment, self.client,
                     self.zone["id"], p["comment"])
            self.zone["comment"] = p["comment"]
        if p.get("tags") is None:
            return
        current = route53.list_tags(self.client, "hostedzone", self.zone["id"])
        to_set, to_unset = tag_delta(current, self._zone_tags(), p["purge_tags"])
        if to_set or to_unset:
            changed = sorted(set(to_set) | set(to_unset))
            self._do(f"set tags {', '.join(changed)} of hosted zone {self.zone_name}", route53.change_tags,
                     self.client, "hostedzone", self.zone["id"], to_set, to_unset)

    def _zone_view(self):
        if not self.zone:
            return None
        return {"name": self.zone["name"], "private": self.zone["private"], "comment": self.zone["comment"]}

    # -- health checks ----------------------------------------------------------------------------
    def _read_checks(self, names):
        """This zone's health checks (made by this module): those of ``names`` by name, and the others."""
        prefix = route53.zone_reference_prefix(self.zone_name)
        mine = [c for c in route53.list_health_checks(self.client)
                if str(c.get("CallerReference", "")).startswith(prefix)]
        by_name, extra = {}, []
        for check in sorted(mine, key=lambda c: c["CallerReference"]):
            name = next((n for n in names if check["CallerReference"].startswith(
                route53.health_check_reference_prefix(self.zone_name, n))), None)
            if name and name not in by_name:
                by_name[name] = check
            else:
                extra.append(check)
        return by_name, extra

    def _ensure_checks(self, current):
        """Create/update the listed checks; returns the checks replaced (to delete after the records)."""
        replaced = []
        for name, wanted in self.checks.items():
            check = current.get(name)
            if check:
                view = current_check_view(check)
                if (view["type"], view["request_interval"]) != (wanted["type"], wanted["request_interval"]):
                    replaced.append((name, check))
                    check = None
            if not check:
                self.check_ids[name] = self._create_check(name, wanted)
                continue
            self.check_ids[name] = check["Id"]
            changes = {api: wanted[key] for key, api in UPDATABLE.items() if wanted[key] != view[key]}
            if changes:
                if "SearchString" in changes and not changes["SearchString"]:
                    changes.pop("SearchString")
                if "ResourcePath" in changes and not changes["ResourcePath"]:
                    changes.pop("ResourcePath")
                self._do(f"update health check {name}: {', '.join(sorted(changes))}", route53.update_health_check,
                         self.client, check["Id"], check.get("HealthCheckVersion", 1), changes)
        return replaced

    def _create_check(self, name, wanted):
        reference = route53.new_health_check_reference(self.zone_name, name)
        target = f"{wanted['fqdn']}:{wanted['port']}{wanted['path'] or ''}"
        created = self._do(f"create health check {name} ({wanted['type']} {target})", route53.create_health_check,
                           self.client, reference, check_config(wanted))
        tags = dict(identity_tags("global", name, "route53-health-check"), Name=name)
        tags["seed:zone"] = self.zone_name
        self._do(f"tag health check {name}", lambda: route53.change_tags(self.client, "healthcheck", created["Id"],
                                                                         to_set=tags))
        return created["Id"] if created else f"(new health check {name})"

    def _delete_checks(self, checks, why=""):
        for name, check in checks:
            name = name or route53.name_in_reference(check["CallerReference"]) or check["Id"]
            self._do(f"delete health check {name}{why}", route53.delete_health_check, self.client,
                     check["Id"])

    # -- records ----------------------------------------------------------------------------------
    def _is_apex_meta(self, record):
        return record["Type"] == "SOA" or (record["Type"] == "NS" and route53.fqdn(record["Name"]) ==
                                           route53.fqdn(self.zone_name))

    def _change(self, changes):
        if not changes:
            return
        summary = ", ".join(f"{c['Action']} {route53.key_text(route53.record_key(c['ResourceRecordSet']))}"
                            for c in changes)
        info = self._do(f"change record sets of {self.zone_name}: {summary}", route53.change_records, self.client,
                        self.zone["id"], changes)
        if info and self.params["wait"]:
            def poll():
                status = route53.get_change(self.client, info["Id"])["Status"]
                return status == "INSYNC", status

            wait_for(poll, f"the record changes {info['Id']} of {self.zone_name} to be INSYNC",
                     self.params["wait_timeout"])

    # -- entry points ---------------------------------------------------------------------------
    def present(self):
        summary = self._find_zone()
        if not summary and self.params["lookup_only"]:
            raise ValidationError("name", f"no {'private' if self.params['private'] else 'public'} hosted zone "
                                          f"named {self.zone_name} exists (lookup_only=true: it is not created)")
        before = {"zone": None, "records": {}, "health_checks": {}}
        current_records, current_checks, extra_checks = [], {}, []
        if summary:
            self.zone = self._read_zone(summary)
            before["zone"] = self._zone_view()
            current_records = route53.list_records(self.client, self.zone["id"])
            if self.checks or self.params["purge_records"]:
                current_checks, extra_checks = self._read_checks(list(self.checks))
        names_by_id = {c["Id"]: n for n, c in current_checks.items()}
        current = {route53.record_key(r): r for r in current_records}
        managed_types = {(k[0], k[1]) for k in self.records}
        stale = [k for k, r in current.items() if k not in self.records and not self._is_apex_meta(r)
                 and (self.params["purge_records"] or (k[0], k[1]) in managed_types)]
        before["records"] = {route53.key_text(k): current_record_view(current[k], names_by_id)
                             for k in sorted(set(self.records) | set(stale)) if k in current}
        before["health_checks"] = {n: current_check_view(c) for n, c in sorted(current_checks.items())}
        after = {"zone": None, "records": {route53.key_text(k): v for k, v in sorted(self.records.items())},
                 "health_checks": dict(sorted(self.checks.items()))}

        if summary:
            if not self.params["lookup_only"]:
                self._ensure_zone_settings()
        else:
            self._create_zone()
        after["zone"] = self._zone_view()

        replaced = self._ensure_checks(current_checks)
        changes = [{"Action": "DELETE", "ResourceRecordSet": current[k]} for k in sorted(stale)]
        for key, view in sorted(self.records.items()):
            wanted = record_set(key, view, self.check_ids)
            existing = current.get(key)
            if not existing or current_record_view(existing, {}) != current_record_view(wanted, {}):
                changes.append({"Action": "UPSERT", "ResourceRecordSet": wanted})
        self._change(changes)
        self._delete_checks(replaced, " (replaced: type or request interval changed)")
        if self.params["purge_records"]:
            self._delete_checks([(None, c) for c in extra_checks] +
                                [(n, c) for n, c in sorted(current_checks.items()) if n not in self.checks])
        self.records_after = after["records"]
        return before, after

    def absent(self):
        before = {"zone": None, "records": {}, "health_checks": {}}
        summary = self._find_zone()
        if not summary:
            return before, dict(before)
        self.zone = self._read_zone(summary)
        records = route53.list_records(self.client, self.zone["id"])
        named, extra = self._read_checks(list(self.checks))
        names_by_id = {c["Id"]: n for n, c in named.items()}
        current = {route53.record_key(r): r for r in records}
        if self.params["delete_zone"]:
            doomed = [k for k, r in current.items() if not self._is_apex_meta(r)]
            doomed_checks = sorted(named.items()) + [(None, c) for c in extra]
        else:
            doomed = [k for k in self.records if k in current]
            doomed_checks = [(n, named[n]) for n in self.checks if n in named]
        before["zone"] = self._zone_view()
        before["records"] = {route53.key_text(k): current_record_view(current[k], names_by_id) for k in sorted(doomed)}
        before["health_checks"] = {n or c["Id"]: current_check_view(c) for n, c in doomed_checks}
        after = {"zone": before["zone"] if not self.params["delete_zone"] else None, "records": {},
                 "health_checks": {}}
        self._change([{"Action": "DELETE", "ResourceRecordSet": current[k]} for k in sorted(doomed)])
        self._delete_checks(doomed_checks)
        if self.params["delete_zone"]:
            self._do(f"delete hosted zone {self.zone_name}", route53.delete_zone, self.client, self.zone["id"])
        return before, after

    def facts(self):
        zone = dict(self.zone) if self.zone else {}
        if self.params["state"] == "absent":
            if self.params["delete_zone"] and not self.check_mode:
                zone = {}
            return zone, {}, {}
        ids = {n: (None if str(i).startswith("(new") else i) for n, i in self.check_ids.items()}
        return zone, self.records_after, ids


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        lookup_only=dict(type="bool", default=False),
        private=dict(type="bool", default=False),
        vpc=dict(type="dict", options=dict(id=dict(type="str", required=True),
                                           region=dict(type="str", required=True))),
        comment=dict(type="str"),
        records=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", required=True, choices=[t for t in route53.RECORD_TYPES if t != "SOA"]),
            ttl=dict(type="int"),
            values=dict(type="list", elements="str"),
            alias=dict(type="dict", options=dict(
                dns_name=dict(type="str", required=True),
                hosted_zone_id=dict(type="str", required=True),
                evaluate_target_health=dict(type="bool", default=False),
            )),
            failover=dict(type="str", choices=["PRIMARY", "SECONDARY"]),
            set_identifier=dict(type="str"),
            health_check=dict(type="str"),
        )),
        health_checks=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", default="HTTPS", choices=list(route53.HEALTH_CHECK_TYPES)),
            fqdn=dict(type="str", required=True),
            port=dict(type="int"),
            path=dict(type="str", default="/"),
            request_interval=dict(type="int", default=30, choices=[10, 30]),
            failure_threshold=dict(type="int", default=3),
            search_string=dict(type="str"),
        )),
        purge_records=dict(type="bool", default=False),
        delete_zone=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        manager = ZoneManager(module)
        before, after = manager.present() if module.params["state"] == "present" else manager.absent()
        zone, records, checks = manager.facts()
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    result = {"changed": bool(manager.actions), "actions": manager.actions, "zone": zone, "records": records,
              "health_checks": checks}
    if module._diff:
        result["diff"] = build_diff(before, after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
