#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: secret
short_description: Converge a Secrets Manager secret - a given or generated value, KMS key, policy and tags
version_added: 1.0.0
description:
  - Manages an AWS Secrets Manager secret - its value (a plain string, or a JSON object of fields), description,
    KMS key, resource policy and tags.
  - A value can be generated (O(generate)). It is generated only when the secret has no value yet (or, in a JSON
    secret, when the generated field is missing or empty) - a rerun never generates it again. O(rotate=true)
    generates a new one on request.
  - A given value (O(value), O(fields), O(public_fields)) is compared with the current one and a new version is
    written only when they differ - the module reports no change otherwise.
  - Values never appear in the result, the diff, the actions or the logs, unless O(return_value=true). The diff
    shows field names and the version of the value (RV(secret.version_id)) - a new version means a new value.
  - Every value written carries a version ID derived from the secret's name and current version (never from the
    value), so check mode predicts it and a write retried after a lost response does not make a second version.
  - O(state=present) restores a secret that is scheduled for deletion (its value and versions come back).
  - Options are validated before any API call - a bad option fails naming it, and nothing is created.
author:
  - Seed platform team (@seed-platform)
options:
  name:
    description:
      - Name of the secret, for example C(seed/prod/metabase-db) - 1-512 letters, digits and C(/_+=.@-).
    type: str
    required: true
  state:
    description:
      - Whether the secret should exist. V(absent) deletes it with a recovery window
        (O(recovery_window_days)); a secret already scheduled for deletion counts as absent.
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Description of the secret. An empty string removes it. Left as it is when not given.
    type: str
  kms_key_id:
    description:
      - The KMS key (ID, ARN, alias name or alias ARN) that encrypts the secret. An empty string or
        V(alias/aws/secretsmanager) means the AWS managed key of Secrets Manager.
      - When not given, a new secret uses the AWS managed key and an existing one keeps its key.
    type: str
  value:
    description:
      - The value of a plain string secret. Mutually exclusive with O(fields), O(public_fields) and O(generate).
    type: str
  fields:
    description:
      - The secret fields of a JSON secret, field name to value (passwords, API keys given by you).
      - Their values are masked by Ansible wherever they would appear in the output (C(no_log)). Put values
        that are not secret (user names, host names, ports) in O(public_fields) instead - Ansible masks every
        occurrence of a masked string, also inside names and ARNs that happen to contain it.
    type: dict
  public_fields:
    description:
      - Fields of a JSON secret whose values are not secret (C(username), C(host), C(port), C(dbname)). Stored and
        compared exactly like O(fields), never returned, but not masked in the output.
    type: dict
  purge_fields:
    description:
      - With a JSON secret, remove fields that are in the current value but neither in O(fields),
        O(public_fields) nor O(generate.field). When false, such fields are kept.
    type: bool
    default: true
  generate:
    description:
      - Generate the value (a plain string secret) or one field of a JSON secret (O(generate.field)).
      - Generated locally with Python's C(secrets) module (the operating system's cryptographic random source),
        as GetRandomPassword does - at least one character of each included type. No API call; the value
        travels only in the write that stores it.
    type: dict
    suboptions:
      field:
        description:
          - The JSON field to generate (for example V(password)). Not given - the whole value is a generated
            plain string. Required with O(fields)/O(public_fields).
        type: str
      length:
        description: Length of the generated value, 8-4096.
        type: int
        default: 32
      exclude_characters:
        description:
          - "Characters never used. Default - quotes, backtick, backslash, C($) and the URL delimiters
            C(@ / : ? # [ ] % &), so the value works unescaped in shell and .env files and in database URLs."
        type: str
      exclude_punctuation:
        description: Use letters and digits only.
        type: bool
        default: false
  rotate:
    description:
      - Generate a new value for O(generate) now (the whole plain string, or O(generate.field)) and store it as a
        new version. Always a change. Needs O(generate). For maintenance playbooks; does not use Lambda
        rotation.
    type: bool
    default: false
  resource_policy:
    description:
      - The resource policy (a dict or JSON text). Compared as JSON, so key order and whitespace do not matter.
      - An empty document (C({})) removes the policy. Left as it is when not given.
    type: json
  block_public_policy:
    description: Refuse a O(resource_policy) that grants broad access (BlockPublicPolicy of PutResourcePolicy).
    type: bool
    default: true
  recovery_window_days:
    description:
      - With O(state=absent), the days (7-30) during which the deleted secret can still be restored.
        V(0) deletes it at once, without recovery - also a secret already scheduled for deletion.
    type: int
    default: 30
  return_value:
    description:
      - Return the value in RV(secret.value) (plain string) or RV(secret.fields) (JSON secret). Register the
        result of such a task with C(no_log) - values from O(value) and O(fields) are masked by Ansible anyway,
        generated ones are not.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - The tags C(seed:managed-by) and C(seed:component) are added to every secret and never removed by
    O(purge_tags).
  - Check mode cannot read the value of a secret that is scheduled for deletion; it predicts the restore, and the
    real run compares the value after restoring it (a warning says so).
"""

EXAMPLES = r"""
- name: A database secret - the user name given, the password generated once
  seed.aws_migration.secret:
    name: seed/prod/metabase-db
    description: Metabase application database
    public_fields:
      username: metabase
      host: metabase.cluster-abc.eu-west-1.rds.amazonaws.com
      port: 5432
    generate:
      field: password
    tags:
      team: data
  register: db_secret

- name: Use it in an ECS service (the field of the JSON secret, by ARN)
  ansible.builtin.set_fact:
    db_password_from: "{{ db_secret.secret.arn }}:password::"

- name: An API key given by a vendor
  seed.aws_migration.secret:
    name: seed/prod/vendor-api-key
    value: "{{ vault_vendor_api_key }}"
    kms_key_id: alias/seed-prod

- name: Rotate the database password (maintenance)
  seed.aws_migration.secret:
    name: seed/prod/metabase-db
    public_fields:
      username: metabase
      host: metabase.cluster-abc.eu-west-1.rds.amazonaws.com
      port: 5432
    generate:
      field: password
    rotate: true
    return_value: true
  register: rotated
  no_log: true

- name: Delete a secret at once, without recovery
  seed.aws_migration.secret:
    name: seed/dev/old-token
    state: absent
    recovery_window_days: 0
"""

RETURN = r"""
actions:
  description: The changes made (or, in check mode, that a real run would make), in order. Never a value.
  returned: always
  type: list
  elements: str
  sample: ["create secret seed/prod/metabase-db (JSON, fields set: host, port, username; generated: password)"]
secret:
  description: The secret after the run (before it, in check mode). Empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the secret.
      type: str
      sample: seed/prod/metabase-db
    arn:
      description: ARN of the secret.
      type: str
      sample: arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/prod/metabase-db-AbCdEf
    description:
      description: Description, or null.
      type: str
      sample: Metabase application database
    kms_key_id:
      description: The KMS key, or null for the AWS managed key C(aws/secretsmanager).
      type: str
      sample: alias/seed-prod
    tags:
      description: Tags of the secret.
      type: dict
      sample: {"team": "data", "seed:managed-by": "seed.aws_migration", "seed:component": "secret"}
    version_id:
      description: VersionId of the current value (AWSCURRENT); it changes exactly when the value does.
      type: str
      sample: 0b5e7f8e-3c9d-5d1e-8f7a-2b4c6d8e0f1a
    field_names:
      description:
        - Names of the fields of a JSON secret (sorted), null for a plain string. Null when the value was not
          read - a plain generated secret without O(return_value) is never read.
      type: list
      elements: str
      sample: ["host", "password", "port", "username"]
    created:
      description: When the secret was created (ISO 8601).
      type: str
      sample: "2026-01-31T12:00:00+00:00"
    last_changed:
      description: When the secret was last changed (ISO 8601).
      type: str
      sample: "2026-01-31T12:00:00+00:00"
    deleted_date:
      description: When the secret was scheduled for deletion, or null.
      type: str
      sample: null
    rotation_enabled:
      description: Whether Lambda rotation is configured for the secret (this module does not configure it).
      type: bool
      sample: false
    resource_policy:
      description: The resource policy, or null.
      returned: when O(resource_policy) is given
      type: dict
      sample: {"Version": "2012-10-17", "Statement": []}
    value:
      description: The value of a plain string secret.
      returned: with O(return_value=true), for a plain string secret
      type: str
    fields:
      description: The fields of a JSON secret, with their values.
      returned: with O(return_value=true), for a JSON secret
      type: dict
diff:
  description:
    - Description, KMS key, tags, field names, policy (when managed) and the version of the value
      (C(value_version)) before and after. Never a value, nor a hash of one.
  returned: in diff mode
  type: dict
  sample: {"before": {"value_version": "0b5e7f8e-3c9d-5d1e-8f7a-2b4c6d8e0f1a"},
           "after": {"value_version": "7d1c2a4b-9e8f-5a6b-8c7d-1e2f3a4b5c6d"}}
"""

from ansible_collections.seed.aws_migration.plugins.module_utils import secretsmanager as sm
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_COMPONENT
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import TAG_MANAGED_BY
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import tag_delta


class SecretManager:
    """Converges one secret. Every write goes through ``_do``, which records the action and, in check mode,
    skips the call: a check run and a real run walk the same code and report the same actions."""

    def __init__(self, module):
        self.module = module
        self.check_mode = module.check_mode
        self.spec = sm.build_spec(module.params)  # raises ValidationError before any API call
        self.client = module.seed_client("secretsmanager")
        self.actions = []
        self.facts = {}
        self.value = None  # the current value, held only to compare (and to return when asked)

    # -- plumbing -------------------------------------------------------------------------------
    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        if self.check_mode:
            return None
        return call(*args, **kwargs)

    def _generate(self, generate):
        value = sm.generate_password(generate)
        if not self.spec.return_value:
            self.module.no_log_values.add(value)  # masked should it ever reach the output
        return value

    def _kms_key_arn(self, key):
        if not hasattr(self, "_kms_client"):
            self._kms_client = self.module.seed_client("kms")
        return sm.describe_kms_key_arn(self._kms_client, key)

    def _tags(self):
        return dict(self.spec.tags or {}, **{TAG_MANAGED_BY: "seed.aws_migration", TAG_COMPONENT: "secret"})

    @property
    def _with_fields(self):
        spec = self.spec
        return spec.is_json or spec.value is not None or spec.return_value

    def _view(self):
        return sm.managed_view(self.facts, self._with_fields, self.spec.manage_policy)

    def _with_value(self, facts):
        """``facts`` with the value added, only when the caller asked for it."""
        if not self.spec.return_value or not facts or self.value is None:
            return dict(facts)
        document = sm.parse_json_value(self.value)
        return dict(facts, **({"fields": document} if document is not None else {"value": self.value}))

    def result_facts(self):
        return self._with_value(self.facts)

    # -- entry points ---------------------------------------------------------------------------
    def present(self):
        spec = self.spec
        described = sm.describe_secret(self.client, spec.name)
        self.facts = sm.secret_facts(described)
        deleted = bool(self.facts.get("deleted_date"))
        has_version = bool(self.facts.get("version_id"))
        value_known = True
        if self.facts and self._with_fields and has_version:
            if deleted:
                value_known = False  # GetSecretValue refuses a secret scheduled for deletion: read after restore
            else:
                self.value = sm.get_secret_value(self.client, spec.name)
        if self.facts:
            if self._with_fields:
                self.facts["field_names"] = sm.field_names_of(self.value) if value_known else None
            else:
                self.facts["field_names"] = None
            if spec.manage_policy:
                # GetResourcePolicy refuses a secret scheduled for deletion too: read after the restore.
                self.facts["resource_policy"] = None if deleted else sm.get_resource_policy(self.client, spec.name)
        facts_before = self._with_value(self.facts)
        before = self._view()

        if not self.facts:
            self._create()
        else:
            if deleted:
                value_known = self._restore(has_version)
                if spec.manage_policy and not self.check_mode:
                    self.facts["resource_policy"] = sm.get_resource_policy(self.client, spec.name)
                elif spec.manage_policy:
                    self.module.warn(f"secret {spec.name} is scheduled for deletion: check mode cannot read its "
                                     "resource policy, so it predicts putting it; the real run compares it after "
                                     "restoring the secret")
            self._ensure_metadata()
            self._ensure_value(described, has_version, value_known)
            self._ensure_policy()
            self._ensure_tags()
        return facts_before, before, self._view()

    def absent(self):
        spec = self.spec
        self.facts = sm.secret_facts(sm.describe_secret(self.client, spec.name))
        scheduled = bool(self.facts.get("deleted_date"))
        if not self.facts or (scheduled and spec.recovery_window_days):
            self.facts = {}
            return {}, {}, {}
        facts_before, before = dict(self.facts), sm.managed_view(self.facts, False, False)
        if spec.recovery_window_days:
            action = f"delete secret {spec.name} (recoverable for {spec.recovery_window_days} days)"
        else:
            action = f"delete secret {spec.name} at once, without recovery"
        self._do(action, sm.delete_secret, self.client, spec.name, spec.recovery_window_days)
        self.facts = {}
        return facts_before, before, {}

    # -- present --------------------------------------------------------------------------------
    def _create(self):
        spec = self.spec
        plan = sm.plan_value(spec, False, None, generator=self._generate)
        version_id = sm.next_version_id(spec.name, None)
        tags = self._tags()
        kind = "JSON, " if spec.is_json else ""
        given = (("description", spec.description), ("kms_key_id", not sm.kms_default(spec.kms_key_id)))
        extras = "".join(f", {name}" for name, wanted in given if wanted)
        self._do(f"create secret {spec.name} ({kind}{plan.summary()}{extras})", sm.create_secret, self.client,
                 spec.name, plan.new, version_id, description=spec.description, kms_key_id=spec.kms_key_id,
                 tags=tags)
        self.value = plan.new
        facts = sm.secret_facts(None if self.check_mode else sm.describe_secret(self.client, spec.name))
        self.facts = facts or {"name": spec.name, "arn": None, "description": spec.description or None,
                               "kms_key_id": sm.kms_view(spec.kms_key_id), "tags": tags, "version_id": version_id,
                               "created": None, "last_changed": None, "deleted_date": None,
                               "rotation_enabled": False}
        self.facts["field_names"] = sm.field_names_of(plan.new) if self._with_fields else None
        if spec.manage_policy:
            self.facts["resource_policy"] = None
            self._ensure_policy()

    def _restore(self, has_version):
        spec = self.spec
        self._do(f"restore secret {spec.name} (scheduled for deletion since {self.facts['deleted_date']})",
                 sm.restore_secret, self.client, spec.name)
        self.facts["deleted_date"] = None
        if not (self._with_fields and has_version):
            return True
        if self.check_mode:
            self.module.warn(f"secret {spec.name} is scheduled for deletion: check mode cannot read its value, so "
                             "it predicts no new value; the real run compares the value after restoring it")
            if spec.is_json and spec.purge_fields:
                names = set(spec.fields) | ({spec.generate["field"]} if spec.generate else set())
                self.facts["field_names"] = sorted(names)
            return False
        self.value = sm.get_secret_value(self.client, spec.name)
        self.facts["field_names"] = sm.field_names_of(self.value)
        return True

    def _ensure_metadata(self):
        spec, facts = self.spec, self.facts
        changes = []
        description = None
        if spec.description is not None and (spec.description or None) != facts["description"]:
            changes.append("description")
            description = spec.description
        kms_key_id = None
        if spec.kms_key_id is not None and not sm.key_matches(spec.kms_key_id, facts["kms_key_id"],
                                                              self._kms_key_arn):
            changes.append("kms_key_id")
            kms_key_id = spec.kms_key_id
        if not changes:
            return
        self._do(f"update secret {spec.name}: {', '.join(changes)}", sm.update_secret, self.client, spec.name,
                 description=description, kms_key_id=kms_key_id)
        if description is not None:
            facts["description"] = description or None
        if kms_key_id is not None:
            facts["kms_key_id"] = sm.kms_view(kms_key_id)

    def _ensure_value(self, described, has_version, value_known):
        spec = self.spec
        if not value_known and not spec.rotate:
            return  # check mode on a secret scheduled for deletion (warned in _restore)
        plan = sm.plan_value(spec, has_version, self.value, rotate=spec.rotate, generator=self._generate)
        if plan.new is None:
            return
        version_id = sm.next_version_id(spec.name, described)
        if spec.rotate:
            action = f"rotate secret {spec.name}: new {'value' if not spec.is_json else 'field'}"
            action += f" {spec.generate['field']}" if spec.is_json else ""
            others = sm.ValuePlan(set_fields=plan.set_fields, removed=plan.removed).summary() if value_known else ""
            action += f" ({others})" if others else ""
        else:
            action = f"put new value of secret {spec.name} ({plan.summary()})"
        self._do(action, sm.put_secret_value, self.client, spec.name, plan.new, version_id)
        self.value = plan.new
        self.facts["version_id"] = version_id
        if self._with_fields:
            self.facts["field_names"] = sm.field_names_of(plan.new)

    def _ensure_policy(self):
        spec = self.spec
        if not spec.manage_policy:
            return
        current = self.facts.get("resource_policy")
        if not sm.policies_differ(current, spec.resource_policy):
            return
        if spec.resource_policy is None:
            self._do(f"delete resource policy of secret {spec.name}", sm.delete_resource_policy, self.client,
                     spec.name)
        else:
            statements = spec.resource_policy["Statement"]
            statements = statements if isinstance(statements, list) else [statements]
            sids = sorted(str(s["Sid"]) for s in statements if isinstance(s, dict) and s.get("Sid"))
            self._do(f"put resource policy of secret {spec.name} ({len(statements)} statements"
                     f"{': ' + ', '.join(sids) if sids else ''})", sm.put_resource_policy, self.client, spec.name,
                     spec.resource_policy, spec.block_public_policy)
        self.facts["resource_policy"] = spec.resource_policy

    def _ensure_tags(self):
        spec = self.spec
        current = self.facts["tags"]
        to_set, to_unset = tag_delta(current, self._tags(), spec.purge_tags and spec.tags is not None)
        if to_set:
            self._do(f"set tags {', '.join(sorted(to_set))} on secret {spec.name}", sm.tag_resource, self.client,
                     spec.name, to_set)
        if to_unset:
            self._do(f"remove tags {', '.join(sorted(to_unset))} from secret {spec.name}", sm.untag_resource,
                     self.client, spec.name, to_unset)
        tags = dict(current, **to_set)
        for key in to_unset:
            tags.pop(key, None)
        self.facts["tags"] = tags


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        description=dict(type="str"),
        kms_key_id=dict(type="str", no_log=False),
        value=dict(type="str", no_log=True),
        fields=dict(type="dict", no_log=True),
        public_fields=dict(type="dict", no_log=False),
        purge_fields=dict(type="bool", default=True),
        generate=dict(type="dict", options=dict(
            field=dict(type="str"),
            length=dict(type="int", default=32),
            exclude_characters=dict(type="str", no_log=False),
            exclude_punctuation=dict(type="bool", default=False),
        )),
        rotate=dict(type="bool", default=False),
        resource_policy=dict(type="json"),
        block_public_policy=dict(type="bool", default=True),
        recovery_window_days=dict(type="int", default=30),
        return_value=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.exit_converged(SecretManager, "secret", lambda manager: manager.result_facts())


if __name__ == "__main__":
    main()
