#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: guardduty_tickets
short_description: File open GuardDuty findings as tickets through a JSON webhook, never twice for a finding
version_added: 1.0.0
description:
  - Posts one JSON document per open GuardDuty finding to a webhook (for example a ticketing system's incoming
    webhook), and records each finding filed in a ledger - a JSON object in S3 (O(ledger_bucket), O(ledger_key)) -
    so that no later run, from this or any other controller (CI runners come and go), files it again.
  - The findings are read by the module (the region's detector, or O(detector_id), filtered like
    M(seed.aws_migration.guardduty_findings_info)), or given in O(findings) (its RV(seed.aws_migration.guardduty_findings_info#module:findings)).
    O(min_severity) applies in both cases.
  - Runs that overlap do not file the same finding twice - before posting, a run claims its findings in the ledger
    with a conditional write (S3 C(If-Match)/C(If-None-Match)); a run that finds the ledger changed reads it again.
    After posting it records the findings filed, and releases the claims of the ones that failed, in a second
    conditional write. A claim expires 15 minutes (plus O(timeout) for each finding claimed) after it was made - a run that
    died - and those findings are then posted again.
  - Every request carries C(Idempotency-Key) with the finding ID, so a receiver that honours it opens no second
    ticket when a run dies between its post and the ledger write.
  - A finding already filed is not filed again when GuardDuty later updates it (its count or severity grows) - the
    ticket owns the incident. Such findings are listed in RV(updated_since_filed).
  - Bad input - an unknown severity, a webhook URL that is not C(https://) (unless O(allow_insecure_http=true)), a
    template placeholder that is not a finding field - fails naming the option before any request to AWS or the
    webhook.
  - Check mode reads the findings and the ledger, reports in RV(filed) what would be filed and in RV(actions) the
    writes a real run would make, and posts nothing.
author:
  - Seed platform team (@seed-platform)
options:
  findings:
    description:
      - The findings to file (the RV(seed.aws_migration.guardduty_findings_info#module:findings) of
        M(seed.aws_migration.guardduty_findings_info)); each needs at least C(id) and C(severity).
      - When not given the module reads them itself with O(detector_id), O(min_severity), O(include_archived) and
        O(max_findings) - one task instead of two.
    type: list
    elements: dict
  detector_id:
    description: The detector whose findings are read. The region's detector when not given.
    type: str
  min_severity:
    description:
      - Only findings of at least this severity are filed - a number 0-10 or V(LOW), V(MEDIUM), V(HIGH),
        V(CRITICAL). Anything else fails naming this option.
    type: raw
    default: MEDIUM
  include_archived:
    description: Also file archived findings (when the module reads them).
    type: bool
    default: false
  max_findings:
    description: At most this many findings are read (the most severe ones), 1 to 10000.
    type: int
    default: 100
  webhook_url:
    description:
      - The webhook that receives one C(POST) with a JSON body per finding. Must be C(https://).
      - Not logged - incoming webhook URLs often carry a token.
    type: str
    required: true
  allow_insecure_http:
    description: Accept an C(http://) O(webhook_url). Only for a local test receiver.
    type: bool
    default: false
  webhook_headers:
    description: Extra request headers, for example C(Authorization). Not logged.
    type: dict
  ticket_template:
    description:
      - The JSON body to post, with C({field}) placeholders replaced by the finding's fields (C(id), C(type),
        C(severity), C(severity_label), C(title), C(description), C(region), C(account), C(created_at),
        C(updated_at), C(count), C(arn), C(archived), C(resource), C(resource.<key>)). A string that is
        exactly one placeholder takes the field's value as it is (a number stays a number).
      - When not given the body is C(source), C(idempotency_key), C(title) (C([GuardDuty HIGH 8] <title>)),
        C(severity), C(severity_label) and the whole C(finding).
    type: dict
  timeout:
    description: Seconds to wait for the webhook's answer to each post.
    type: int
    default: 10
  ledger_bucket:
    description: The S3 bucket that holds the ledger (it must exist; versioning on it keeps its history).
    type: str
    required: true
  ledger_key:
    description: The ledger's object key.
    type: str
    default: guardduty/tickets-ledger.json
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes
"""

EXAMPLES = r"""
- name: File open findings of high severity and above, once each
  seed.aws_migration.guardduty_tickets:
    min_severity: HIGH
    webhook_url: "{{ tickets_webhook_url }}"
    webhook_headers:
      Authorization: "Bearer {{ tickets_token }}"
    ledger_bucket: security-automation-state
    ticket_template:
      summary: "GuardDuty {severity_label}: {title}"
      priority: "{severity_label}"
      details: "{description}"
      finding_id: "{id}"
  register: tickets

- name: What was filed
  ansible.builtin.debug:
    msg: "{{ tickets.filed | map(attribute='id') | list }}"
"""

RETURN = r"""
actions:
  description: The writes made (or, in check mode, that a real run would make) - ledger writes and posts.
  returned: always
  type: list
  elements: str
  sample: ["claim 1 finding(s) in the ledger", "post ticket for finding 5ab7 (HIGH 8: SSH brute force)",
           "record 1 posted finding(s) in the ledger"]
filed:
  description: The findings filed (in check mode, to be filed), with the webhook's answer.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "5ab7", "title": "SSH brute force", "severity": 8.0, "severity_label": "HIGH", "status": 201,
            "response": {"ticket": "SEC-42"}}]
skipped_already_filed:
  description: IDs of findings the ledger shows filed already.
  returned: always
  type: list
  elements: str
skipped_in_progress:
  description: IDs of findings another run has claimed and is filing now.
  returned: always
  type: list
  elements: str
updated_since_filed:
  description: IDs of findings filed already whose severity or count grew since (not filed again).
  returned: always
  type: list
  elements: str
failed_tickets:
  description:
    - Findings the webhook refused or did not answer - C(id), C(status) (the HTTP status, or -1) and C(error). The
      task fails when there is any, after the findings filed were recorded.
    - Not called C(failed), which Ansible reserves for the task's own status.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "5ab7", "status": 503, "error": "Service Unavailable"}]
detector_id:
  description: The detector the findings were read from; null when they were given.
  returned: always
  type: str
ledger:
  description: Where the ledger is, C(s3://bucket/key).
  returned: always
  type: str
  sample: s3://security-automation-state/guardduty/tickets-ledger.json
"""

import datetime
import json
import time
import uuid

from ansible.module_utils.urls import open_url

from ansible_collections.seed.aws_migration.plugins.module_utils import guardduty as gd
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule

LEDGER_ATTEMPTS = 5
RESPONSE_LIMIT = 2000


def validate(params):
    """Everything that can be checked without a request; returns the minimum severity."""
    gd.validate_webhook_url(params["webhook_url"], params["allow_insecure_http"])
    if params.get("ticket_template") is not None:
        gd.validate_template(params["ticket_template"])
    if not 1 <= params["max_findings"] <= 10000:
        raise ValidationError("max_findings", f"{params['max_findings']} is not between 1 and 10000")
    if params["timeout"] < 1:
        raise ValidationError("timeout", "must be at least 1 second")
    if not params["ledger_bucket"].strip():
        raise ValidationError("ledger_bucket", "must name an S3 bucket")
    if not params["ledger_key"].strip() or params["ledger_key"].endswith("/"):
        raise ValidationError("ledger_key", f"{params['ledger_key']!r} is not an object key")
    for name, value in (params.get("webhook_headers") or {}).items():
        if not str(name).strip() or "\n" in str(name) + str(value) or "\r" in str(name) + str(value):
            raise ValidationError("webhook_headers", f"header {name!r} is not a valid header name/value")
    min_severity = gd.parse_severity("min_severity", params.get("min_severity"))
    if params.get("findings") is not None:
        gd.validate_given_findings(params["findings"])
    return min_severity


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _response_body(raw):
    text = (raw or b"").decode("utf-8", "replace")
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return text[:RESPONSE_LIMIT]


class TicketRun:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.min_severity = validate(self.params)  # before any request
        self.check_mode = module.check_mode
        self.bucket, self.key = self.params["ledger_bucket"], self.params["ledger_key"]
        self.where = f"s3://{self.bucket}/{self.key}"
        self.run_id = str(uuid.uuid4())
        self.actions = []
        self.result = {"filed": [], "failed_tickets": [], "skipped_already_filed": [], "skipped_in_progress": [],
                       "updated_since_filed": [], "detector_id": None, "ledger": self.where}

    # -- findings and ledger ----------------------------------------------------------------------
    def findings(self):
        given = self.params.get("findings")
        if given is not None:
            findings = gd.validate_given_findings(given)
            if self.min_severity is not None:
                findings = [f for f in findings if f["severity"] >= self.min_severity]
            return findings
        detector_id, findings = gd.find_findings(self.module.seed_client("guardduty"), self.params,
                                                 self.min_severity)
        self.result["detector_id"] = detector_id
        return findings

    def read_ledger(self):
        try:
            body, etag = gd.get_ledger(self.s3, self.bucket, self.key)
        except SeedAWSError as e:
            raise SeedAWSError(message=f"ledger_bucket: cannot read the ledger {self.where}: {e.message}",
                               exception=e.exception) from None
        return (gd.parse_ledger(body, self.where) if body is not None else gd.empty_ledger()), etag

    def write_ledger(self, change):
        """Apply ``change(ledger)`` to the ledger and write it conditionally, again on a fresh read when another
        run wrote it in between. Returns what ``change`` returned on the write that succeeded."""
        for _attempt in range(LEDGER_ATTEMPTS):
            ledger, etag = self.read_ledger()
            outcome = change(ledger)
            if outcome is None:
                return None
            try:
                gd.put_ledger(self.s3, self.bucket, self.key, ledger, etag)
                return outcome
            except gd.LedgerConflict:
                continue
        raise SeedAWSError(message=f"ledger_key: the ledger {self.where} changed under every one of "
                                   f"{LEDGER_ATTEMPTS} attempts to write it; run again")

    # -- the run ---------------------------------------------------------------------------------
    def run(self):
        findings = self.findings()
        self.by_id = {f["id"]: f for f in findings}
        self.s3 = self.module.seed_client("s3")
        now = time.time()
        self.to_file = []

        def claim(ledger):
            to_file, filed, claimed = gd.ledger_split(ledger, list(self.by_id), now)
            self.to_file = to_file
            self.result["skipped_already_filed"], self.result["skipped_in_progress"] = filed, claimed
            self.result["updated_since_filed"] = [i for i in filed if self._grew(i, ledger["findings"][i])]
            if not to_file or self.check_mode:
                return None  # nothing to write
            # The claim outlives the slowest batch of posts this run can make.
            expires = now + gd.CLAIM_SECONDS + len(to_file) * self.params["timeout"]
            for finding_id in to_file:
                ledger["findings"][finding_id] = {"state": "claimed", "run": self.run_id, "claimed_at": _now_iso(),
                                                  "expires": expires}
            return to_file

        if self.check_mode:
            claim(self.read_ledger()[0])
        else:
            self.write_ledger(claim)
        to_file = self.to_file
        if not to_file:
            return self.result
        self.actions.append(f"claim {len(to_file)} finding(s) in the ledger")
        outcomes = {}
        for finding_id in to_file:
            finding = self.by_id[finding_id]
            self.actions.append(f"post ticket for finding {finding_id} ({finding['severity_label']} "
                                f"{finding['severity']:g}: {finding.get('title') or ''})")
            outcomes[finding_id] = (None, None) if self.check_mode else self.post(finding)
        self.actions.append(f"record {len(to_file)} posted finding(s) in the ledger")
        for finding_id in to_file:
            finding, (status, response) = self.by_id[finding_id], outcomes[finding_id]
            if status is not None and not 200 <= status < 300:
                self.result["failed_tickets"].append({"id": finding_id, "status": status, "error": response})
            else:
                self.result["filed"].append({"id": finding_id, "title": finding.get("title"),
                                             "severity": finding["severity"],
                                             "severity_label": finding["severity_label"],
                                             "status": status, "response": response})
        if not self.check_mode:
            try:
                self.write_ledger(self.record)
            except SeedAWSError as e:
                posted = ", ".join(f["id"] for f in self.result["filed"]) or "none"
                raise SeedAWSError(message=f"{e.message} - after posting tickets for: {posted}. They are claimed in "
                                           "the ledger; once the claims expire they are posted again with the same "
                                           "Idempotency-Key", exception=e.exception) from None
        return self.result

    def _grew(self, finding_id, entry):
        finding = self.by_id[finding_id]
        return (finding["severity"] > float(entry.get("severity") or 0)
                or int(finding.get("count") or 0) > int(entry.get("count") or 0))

    def record(self, ledger):
        """The ledger change after posting: filed findings recorded, claims of failed ones released."""
        for item in self.result["filed"]:
            finding = self.by_id[item["id"]]
            ledger["findings"][item["id"]] = {
                "state": "filed", "filed_at": _now_iso(), "run": self.run_id, "severity": finding["severity"],
                "count": finding.get("count"), "updated_at": finding.get("updated_at"), "title": finding.get("title"),
                "status": item["status"]}
        for item in self.result["failed_tickets"]:
            entry = ledger["findings"].get(item["id"]) or {}
            if entry.get("state") == "claimed" and entry.get("run") == self.run_id:
                del ledger["findings"][item["id"]]
        return True

    def post(self, finding):
        template = self.params.get("ticket_template")
        body = gd.render_template(template, finding) if template is not None else gd.default_payload(finding)
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "Idempotency-Key": finding["id"]}
        headers.update({str(k): str(v) for k, v in (self.params.get("webhook_headers") or {}).items()})
        try:
            response = open_url(self.params["webhook_url"], data=json.dumps(body).encode("utf-8"), headers=headers,
                                method="POST", timeout=self.params["timeout"],
                                validate_certs=self.params["validate_certs"], follow_redirects="none")
            return response.getcode(), _response_body(response.read(RESPONSE_LIMIT))
        except Exception as e:  # pylint: disable=broad-except  # HTTPError, URLError, timeouts, TLS: all mean "not filed"
            status = getattr(e, "code", None)
            if status is not None:
                try:
                    detail = _response_body(e.read(RESPONSE_LIMIT)) or getattr(e, "reason", str(e))
                except Exception:  # pylint: disable=broad-except
                    detail = getattr(e, "reason", str(e))
                return int(status), detail
            return -1, str(getattr(e, "reason", None) or e)


def main():
    argument_spec = dict(
        findings=dict(type="list", elements="dict"),
        detector_id=dict(type="str"),
        min_severity=dict(type="raw", default="MEDIUM"),
        include_archived=dict(type="bool", default=False),
        max_findings=dict(type="int", default=100),
        webhook_url=dict(type="str", required=True, no_log=True),
        allow_insecure_http=dict(type="bool", default=False),
        webhook_headers=dict(type="dict", no_log=True),
        ticket_template=dict(type="dict"),
        timeout=dict(type="int", default=10),
        ledger_bucket=dict(type="str", required=True),
        ledger_key=dict(type="str", default="guardduty/tickets-ledger.json", no_log=False),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("findings", "detector_id")])
    try:
        run = TicketRun(module)
        result = run.run()
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    result.update(changed=bool(run.actions), actions=run.actions)
    if result["failed_tickets"]:
        listed = ", ".join(f"{f['id']} (HTTP {f['status']})" for f in result["failed_tickets"])
        module.fail_json(msg=f"webhook_url: {len(result['failed_tickets'])} of {len(result['failed_tickets']) + len(result['filed'])} "
                             f"ticket(s) not filed: {listed}; the {len(result['filed'])} filed are in the ledger "
                             "and the others will be posted again by the next run", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
