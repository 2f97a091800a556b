# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our module class: amazon.aws's AnsibleAWSModule with the collection's user agent and retry policy."""

import gc

try:
    from botocore.config import Config
except ImportError:
    Config = None  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.seed.aws_migration.plugins.module_utils.common import COLLECTION_NAME
from ansible_collections.seed.aws_migration.plugins.module_utils.common import COLLECTION_VERSION
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import build_diff
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.tagging import text_tags

# botocore's own retry layer is switched off for our clients: every call goes through one of our
# wrappers, which retry throttling, transient 5xx and connection failures (``retries.py``), and creates
# that are not idempotent on the AWS side are retried only after checking that the first attempt left
# nothing.
# A user's ``aws_config`` is merged over this and wins.
_CLIENT_CONFIG = {"retries": {"total_max_attempts": 1}}


class SeedAWSModule(AnsibleAWSModule):
    """AnsibleAWSModule that reports ``seed.aws_migration/<version>`` in the user agent."""

    def __init__(self, **kwargs):
        # A module run is one short process: the cyclic garbage collector only costs time here (boto3
        # allocates many objects building a client, and the interpreter collects them all again at exit).
        # Measured at ~0.12 s of a ~0.6 s no-op module run (benchmarks/README.md).
        gc.disable()
        super().__init__(**kwargs)
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)
        # The tags a module writes (it has purge_tags): text before anything uses them (YAML makes
        # ``1234`` an int and ``true`` a bool; botocore refuses both, and a compare would never match).
        if "purge_tags" in self.argument_spec:
            if self.params.get("tags") is None:
                # No tags given: the resource's tags are left as they are (amazon.aws's convention, the
                # documented one); purge_tags only applies to the tags a task names.
                self.params["purge_tags"] = False
            elif isinstance(self.params["tags"], dict):
                try:
                    self.params["tags"] = text_tags(self.params["tags"])
                except SeedAWSError as e:
                    self.fail_json_aws_error(e)

    def _should_inject_warnings(self):
        # amazon.aws 10.1.2 passes the module's warnings to exit_json/fail_json again on ansible-core >= 2.19,
        # which already returns every AnsibleModule.warn(): each warning came back twice, with core's
        # deprecation warning about `warnings` passed to exit_json on top.
        return False

    def exit_json(self, *args, **kwargs):
        gc.freeze()  # nothing left to collect: skip the final collection
        super().exit_json(*args, **kwargs)

    def fail_json(self, *args, **kwargs):
        gc.freeze()
        super().fail_json(*args, **kwargs)

    def seed_client(self, service, region=None):
        """A boto3 client with the collection's retry policy (see ``_CLIENT_CONFIG``), in ``region`` when
        given (a resource another region holds, named by its ARN), else in the module's region."""
        if region and region != self.region:
            return self.client(service, config=Config(**_CLIENT_CONFIG), region=region)
        return self.client(service, config=Config(**_CLIENT_CONFIG))

    def exit_converged(self, manager_class, key, facts_after, extra=None):
        """Converge with ``manager_class(self)`` and exit with ``changed``, ``actions``, ``<key>`` and ``diff``.

        The manager's ``present()`` / ``absent()`` return ``(facts_before, view_before, view_after)`` and
        record every write in ``manager.actions``. ``facts_after(manager)`` gives the facts after a real run;
        check mode returns the facts from before, since nothing changed. ``extra(manager)``: more result keys
        (check mode included).
        """
        try:
            manager = manager_class(self)
            run = manager.present if self.params["state"] == "present" else manager.absent
            facts_before, before, after = run()
        except SeedAWSError as e:
            self.fail_json_aws_error(e)
        result = {"changed": bool(manager.actions), "actions": manager.actions,
                  key: facts_before if self.check_mode else facts_after(manager)}
        if extra:
            result.update(extra(manager))
        if self._diff:
            result["diff"] = build_diff(before, after)
        self.exit_json(**result)
