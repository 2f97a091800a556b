#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: acm_certificate
short_description: An ACM certificate requested with DNS validation, validated through Route 53
version_added: 1.0.0
description:
  - Requests a public ACM certificate for O(domain_name) and O(subject_alternative_names) with DNS validation,
    writes the validation C(CNAME) records into the Route 53 zone O(validation_zone_id) (or
    O(validation_zone_name)) with one C(UPSERT) batch, and waits until the certificate is issued.
  - A certificate that already stands for the same names (Amazon-issued, C(ISSUED) or C(PENDING_VALIDATION), not
    expired) is reused; no second one is requested. The request carries an idempotency token derived from the
    names, so a retried or concurrent request returns the same certificate.
  - The validation records of a reused certificate are checked (and written when missing) - ACM renews the
    certificate only while they exist.
  - O(state=absent) deletes the matching certificates and, with a validation zone, their validation records; a
    certificate still in use (load balancer listener, API domain) is kept and the run fails listing its users.
  - With O(identity), a change of the names requests a new certificate and supersedes the old one (see
    O(identity)).
author:
  - Seed platform team (@seed-platform)
options:
  domain_name:
    description: The main name of the certificate (C(*.) allowed as the first label).
    type: str
    required: true
  subject_alternative_names:
    description: Further names of the certificate.
    type: list
    elements: str
    default: []
  validation_zone_id:
    description: ID of the public hosted zone to write the validation records into.
    type: str
  validation_zone_name:
    description: Name of the public hosted zone to write the validation records into (looked up; must exist).
    type: str
  state:
    description: Whether the certificate should exist.
    type: str
    choices: [present, absent]
    default: present
  certificate_arn:
    description: With O(state=absent), the certificate to delete (default every certificate for exactly these names).
    type: str
  identity:
    description:
      - A name for this certificate that stays when its names change, kept in the tag C(seed:name) (for example the
        environment and zone). Certificates of this module with the same identity and O(domain_name) but other
        names are superseded - the ones left by earlier names.
      - A run deletes the superseded certificates that no resource uses any more; one still in use (the listener or
        API domain moves to the new certificate later in the same play) is kept, listed in RV(superseded), and
        deleted by a later run. O(state=absent) deletes them with the current one.
      - Give each environment its own identity when environments share a domain name.
      - Without it, certificates left by earlier names stay in ACM.
    type: str
  wait:
    description: Wait until the certificate is C(ISSUED).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the validation records to be published and for the certificate to be issued.
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - Without a validation zone the module requests the certificate and reports the records to create in
    RV(certificate.validation_records); with O(wait=true) it then waits for someone else to create them.
  - Tag keys C(Name) and C(seed:*) are never removed by O(purge_tags).
"""

EXAMPLES = r"""
- name: The certificate of the public load balancer and the API domain
  seed.aws_migration.acm_certificate:
    domain_name: example.com
    subject_alternative_names: [app.example.com, api.example.com]
    validation_zone_name: example.com
    wait_timeout: 1200
    tags:
      team: platform
  register: cert

- name: Delete it (fails while a listener still uses it)
  seed.aws_migration.acm_certificate:
    domain_name: example.com
    subject_alternative_names: [app.example.com, api.example.com]
    validation_zone_name: example.com
    state: absent
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order.
  returned: always
  type: list
  elements: str
  sample: ["request certificate for example.com (SANs app.example.com)",
           "write the DNS validation records of example.com into zone example.com"]
certificate:
  description: The certificate after the run (before it, in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the certificate.
      type: str
      sample: arn:aws:acm:eu-west-1:123456789012:certificate/0f3a8e1c-7b2d-4f6a-9e5c-1b3d7f2a4c6e
    domain_name:
      description: The main name.
      type: str
    subject_alternative_names:
      description: All names of the certificate.
      type: list
      elements: str
    status:
      description: C(ISSUED), C(PENDING_VALIDATION), ...
      type: str
    validation_records:
      description: The DNS validation records (C(name), C(type), C(value)).
      type: list
      elements: dict
    in_use_by:
      description: ARNs of the resources that use the certificate.
      type: list
      elements: str
    not_after:
      description: End of validity (ISO 8601).
      type: str
superseded:
  description:
    - With O(identity), the superseded certificates still in use and therefore kept (deleted by a later run once free).
  returned: always
  type: list
  elements: dict
  contains:
    arn:
      description: ARN of the certificate.
      type: str
    subject_alternative_names:
      description: Its names.
      type: list
      elements: str
    in_use_by:
      description: ARNs of the resources that still use it.
      type: list
      elements: str
diff:
  description: The names of the certificate and its validation zone, before and after.
  returned: in diff mode
  type: dict
"""

import datetime

from ansible_collections.seed.aws_migration.plugins.module_utils import acm
from ansible_collections.seed.aws_migration.plugins.module_utils import route53
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import build_diff
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_NAME
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import fail_wait
from ansible_collections.seed.aws_migration.plugins.module_utils.waiting import wait_for


def validate(params):
    domain = route53.check_domain("domain_name", params["domain_name"])
    names = [domain]
    for index, name in enumerate(params["subject_alternative_names"] or []):
        name = route53.check_domain(f"subject_alternative_names[{index}]", name)
        if name not in names:
            names.append(name)
    if len(names) > 100:
        raise ValidationError("subject_alternative_names", f"{len(names)} names; a certificate has at most 100")
    if params["validation_zone_id"] and params["validation_zone_name"]:
        raise ValidationError("validation_zone_id", "give validation_zone_id or validation_zone_name, not both")
    if params["validation_zone_id"] and not route53.ZONE_ID_RE.match(params["validation_zone_id"]):
        raise ValidationError("validation_zone_id", f"{params['validation_zone_id']!r} is not a hosted zone ID")
    zone = params["validation_zone_name"]
    if zone:
        zone = route53.check_domain("validation_zone_name", zone, wildcard=False)
        outside = [n for n in names if not _in_zone(n, zone)]
        if outside:
            raise ValidationError("validation_zone_name", f"{', '.join(outside)} not in zone {zone}: ACM could not "
                                                          "validate them with records in it")
    if params["certificate_arn"] and params["state"] != "absent":
        raise ValidationError("certificate_arn", "only with state=absent")
    if params["wait_timeout"] < 0:
        raise ValidationError("wait_timeout", "must be 0 or more seconds")
    identity = params.get("identity")
    if identity is not None and (not identity.strip() or identity != identity.strip() or len(identity) > 256):
        raise ValidationError("identity", f"{identity!r}: 1-256 characters, without leading or trailing spaces")
    return domain, names, zone


def _in_zone(name, zone):
    name = name[2:] if name.startswith("*.") else name
    return name == zone or name.endswith("." + zone)


def certificate_facts(certificate):
    if not certificate:
        return {}
    records, _missing = acm.validation_records(certificate)
    not_after = certificate.get("NotAfter")
    if isinstance(not_after, (int, float)):
        not_after = datetime.datetime.fromtimestamp(not_after, tz=datetime.timezone.utc)
    return {"arn": certificate["CertificateArn"], "domain_name": certificate.get("DomainName"),
            "subject_alternative_names": certificate.get("SubjectAlternativeNames", []),
            "status": certificate.get("Status"), "failure_reason": certificate.get("FailureReason"),
            "validation_records": [{"name": n, "type": "CNAME", "value": v} for n, v in sorted(records.items())],
            "in_use_by": certificate.get("InUseBy", []),
            "not_after": not_after.isoformat() if hasattr(not_after, "isoformat") else not_after}


class CertificateManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.domain, self.names, self.zone_name = validate(self.params)  # before any client exists
        self.acm = module.seed_client("acm")
        self.route53 = None
        self.zone_id = route53.short_id(self.params["validation_zone_id"]) if self.params["validation_zone_id"] else None
        self.actions = []
        self.certificate = None
        self.identity = self.params.get("identity")
        self.superseded_in_use = []

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.check_mode else call(*args, **kwargs)

    def _identity_tags(self):
        tags = {TAG_MANAGED_BY: "seed.aws_migration", TAG_COMPONENT: "acm-certificate"}
        if self.identity:
            tags[TAG_NAME] = self.identity
        return tags

    def _tags(self):
        return dict(self.params.get("tags") or {}, **self._identity_tags())

    def _zone(self, required=True):
        """(zone id, zone name) of the validation zone, or (None, None) without one (or, unless ``required``,
        when the zone named does not exist)."""
        if not (self.zone_id or self.zone_name):
            return None, None
        self.route53 = self.route53 or self.module.seed_client("route53")
        if self.zone_name and not self.zone_id:
            zones = [z for z in route53.find_zones(self.route53, self.zone_name)
                     if not z.get("Config", {}).get("PrivateZone")]
            if not zones and not required:
                return None, None
            if not zones:
                raise ValidationError("validation_zone_name", f"no public hosted zone named {self.zone_name} exists")
            self.zone_id = route53.short_id(zones[0]["Id"])
        elif not self.zone_name:
            zone = route53.get_zone(self.route53, self.zone_id)["HostedZone"]
            self.zone_name = route53.display(zone["Name"]).lower()
        return self.zone_id, self.zone_name

    def _matching(self, present=True):
        """Described Amazon-issued certificates for exactly these names (to reuse: issued or pending and not
        expired), the best first (issued, then the newest); and, with an identity, the superseded ones (see
        ``identity``: ours, same identity and domain name, other names) in any status."""
        found, superseded = [], []
        for summary in acm.list_certificates(self.acm, acm.ALL_STATUSES if self.identity or not present else None):
            if str(summary.get("DomainName", "")).lower() != self.domain:
                continue
            described = acm.describe_certificate(self.acm, summary["CertificateArn"])
            if not described or described.get("Type") != "AMAZON_ISSUED":
                continue
            if acm.names_of(described) != set(self.names):
                if self.identity and self._ours(described):
                    superseded.append(described)
            elif not present or acm.reusable(described, self.domain, self.names):
                found.append(described)
        found.sort(key=lambda c: (c.get("Status") != "ISSUED", -_epoch(c.get("CreatedAt"))))
        return found, superseded

    def _ours(self, certificate):
        tags = acm.list_tags(self.acm, certificate["CertificateArn"])
        return all(tags.get(k) == v for k, v in self._identity_tags().items())

    def _delete_superseded(self, superseded):
        """Delete the superseded certificates nothing uses; keep (and report) the others."""
        for certificate in superseded:
            names = sorted(acm.names_of(certificate))
            if certificate.get("InUseBy"):
                self.superseded_in_use.append({"arn": certificate["CertificateArn"], "subject_alternative_names": names,
                                               "in_use_by": list(certificate["InUseBy"])})
                continue
            self._do(f"delete superseded certificate {certificate['CertificateArn']} ({', '.join(names)})",
                     acm.delete_certificate, self.acm, certificate["CertificateArn"])

    def view(self, certificate):
        if not certificate:
            return None
        return {"domain_name": str(certificate.get("DomainName", "")).lower(),
                "subject_alternative_names": sorted(acm.names_of(certificate)),
                "validation_zone": self.zone_name or self.zone_id}

    # -- present ----------------------------------------------------------------------------------
    def present(self):
        zone_id, zone_name = self._zone()  # a missing zone fails before anything is requested
        found, superseded = self._matching()
        current = found[0] if found else None
        before = self.view(current)
        after = {"domain_name": self.domain, "subject_alternative_names": sorted(self.names),
                 "validation_zone": zone_name or zone_id}
        if before:
            before["validation_zone"] = after["validation_zone"]
        if current:
            self.certificate = current
            self._ensure_tags()
            self._ensure_records(new=False)
        else:
            sans = [n for n in self.names if n != self.domain]
            arn = self._do(f"request certificate for {self.domain}" + (f" (SANs {', '.join(sans)})" if sans else ""),
                           self._request, sans)
            if arn:
                self.certificate = self._wait_published(arn)
            self._ensure_records(new=True)
        if self.params["wait"] and self.certificate and not self.check_mode:
            self.certificate = self._wait_issued(self.certificate["CertificateArn"])
        self._delete_superseded(superseded)
        return current, before, after

    def _request(self, sans):
        """RequestCertificate with the names' idempotency token. Within the token's hour ACM answers with the
        certificate that token made, also one since deleted (these names, then others - which deleted it as
        superseded - then these again): then a token salted with that ARN asks for a new one (the same on a
        rerun)."""
        arn = acm.request_certificate(self.acm, self.domain, sans, acm.idempotency_token(self.names), self._tags())
        if acm.describe_certificate(self.acm, arn) is None:
            arn = acm.request_certificate(self.acm, self.domain, sans, acm.idempotency_token(self.names, salt=arn),
                                          self._tags())
        return arn

    def _wait_published(self, arn):
        """The described certificate once ACM has published a DNS record for every name (a few seconds)."""
        state = {}

        def poll():
            described = acm.describe_certificate(self.acm, arn)
            if not described:
                fail_wait(f"certificate {arn} requested with idempotency token "
                          f"{acm.idempotency_token(self.names)} does not exist (deleted within the token's hour?); "
                          "retry after an hour or delete nothing in between")
            state["certificate"] = described
            if described.get("Status") in acm.FAILED_STATUSES:
                fail_wait(f"certificate {arn} is {described['Status']}: {described.get('FailureReason', 'no reason')}")
            _records, missing = acm.validation_records(described)
            return not missing, f"{described.get('Status')}; no validation record yet for {', '.join(missing)}"

        wait_for(poll, f"ACM to publish the DNS validation records of {arn}", self.params["wait_timeout"],
                 delay=1.0, max_delay=5.0)
        return state["certificate"]

    def _ensure_records(self, new):
        zone_id, zone_name = self._zone()
        if not zone_id:
            return
        action = f"write the DNS validation records of {self.domain} into zone {zone_name}"
        if not self.certificate:  # check mode, new certificate
            self.actions.append(action)
            return
        records, _missing = acm.validation_records(self.certificate)
        records = {n: v for n, v in records.items() if _in_zone(n.rstrip("."), zone_name)}
        if not new:
            existing = {route53.fqdn(r["Name"]): [x["Value"] for x in r.get("ResourceRecords") or []]
                        for r in route53.list_records(self.route53, zone_id) if r["Type"] == "CNAME"}
            records = {n: v for n, v in records.items()
                       if [x.lower().rstrip(".") for x in existing.get(n, [])] != [v.lower().rstrip(".")]}
        if not records:
            return
        changes = [{"Action": "UPSERT", "ResourceRecordSet": {"Name": n, "Type": "CNAME", "TTL": 300,
                                                              "ResourceRecords": [{"Value": v}]}}
                   for n, v in sorted(records.items())]
        self._do(action, route53.change_records, self.route53, zone_id, changes,
                 f"ACM DNS validation of {self.domain}")

    def _ensure_tags(self):
        if self.params.get("tags") is None and not self.identity:
            return
        arn = self.certificate["CertificateArn"]
        if self.params.get("tags") is None:  # only the identity (a certificate from before it was given)
            to_set, to_unset = tag_delta(acm.list_tags(self.acm, arn), self._identity_tags(), False)
        else:
            to_set, to_unset = tag_delta(acm.list_tags(self.acm, arn), self._tags(), self.params["purge_tags"])
        if to_set:
            self._do(f"set tags {', '.join(sorted(to_set))} on certificate {self.domain}", acm.add_tags, self.acm,
                     arn, to_set)
        if to_unset:
            self._do(f"remove tags {', '.join(sorted(to_unset))} from certificate {self.domain}", acm.remove_tags,
                     self.acm, arn, to_unset)

    def _wait_issued(self, arn):
        state = {"certificate": self.certificate}

        def poll():
            described = acm.describe_certificate(self.acm, arn) or {}
            state["certificate"] = described
            status = described.get("Status")
            if status in acm.FAILED_STATUSES:
                fail_wait(f"certificate {arn} for {self.domain} is {status}: "
                          f"{described.get('FailureReason') or 'no reason given'} ({acm.pending_text(described)})")
            return status == "ISSUED", f"{status}; {acm.pending_text(described)}"

        wait_for(poll, f"certificate {arn} for {self.domain} to be ISSUED", self.params["wait_timeout"])
        return state["certificate"]

    # -- absent -----------------------------------------------------------------------------------
    def absent(self):
        arn = self.params["certificate_arn"]
        if arn:
            described = acm.describe_certificate(self.acm, arn)
            doomed = [described] if described else []
        else:
            matching, superseded = self._matching(present=False)
            doomed = matching + superseded
        if not doomed:
            return None, None, None
        in_use = [c for c in doomed if c.get("InUseBy")]
        if in_use:
            users = "; ".join(f"{c['CertificateArn']} is used by {', '.join(c['InUseBy'])}" for c in in_use)
            raise SeedAWSError(message=f"domain_name: certificate for {self.domain} is in use, nothing was deleted: "
                                       f"{users}. Remove it from these resources first")
        self.certificate = doomed[0]
        before = self.view(doomed[0])
        zone_id, zone_name = self._zone(required=False)
        if before:
            before["validation_zone"] = zone_name or zone_id
        for certificate in doomed:
            self._do(f"delete certificate {certificate['CertificateArn']}", acm.delete_certificate, self.acm,
                     certificate["CertificateArn"])
        if zone_id:
            wanted = {}
            for certificate in doomed:
                wanted.update(acm.validation_records(certificate)[0])
            existing = [r for r in route53.list_records(self.route53, zone_id)
                        if r["Type"] == "CNAME" and route53.fqdn(r["Name"]) in wanted
                        and [x["Value"].lower().rstrip(".") for x in r.get("ResourceRecords") or []]
                        == [wanted[route53.fqdn(r["Name"])].lower().rstrip(".")]]
            if existing:
                self._do(f"delete the DNS validation records of {self.domain} from zone {zone_name}",
                         route53.change_records, self.route53, zone_id,
                         [{"Action": "DELETE", "ResourceRecordSet": r} for r in existing])
        return doomed[0], before, None


def _epoch(value):
    if hasattr(value, "timestamp"):
        return value.timestamp()
    return float(value or 0)


def main():
    argument_spec = dict(
        domain_name=dict(type="str", required=True),
        subject_alternative_names=dict(type="list", elements="str", default=[]),
        validation_zone_id=dict(type="str"),
        validation_zone_name=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        certificate_arn=dict(type="str"),
        identity=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        manager = CertificateManager(module)
        run = manager.present if module.params["state"] == "present" else manager.absent
        current, before, after = run()
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    if module.params["state"] == "absent":
        facts = certificate_facts(current) if module.check_mode else {}
    else:
        facts = certificate_facts(current if module.check_mode else manager.certificate)
    result = {"changed": bool(manager.actions), "actions": manager.actions, "certificate": facts,
              "superseded": manager.superseded_in_use}
    if module._diff:
        result["diff"] = build_diff(before, after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
