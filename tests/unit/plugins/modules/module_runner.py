# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drive a module's main() in-process and return what it would have returned to Ansible."""

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule


class Exit(Exception):
    """Raised instead of exiting the interpreter."""


def run_module(monkeypatch, module, args, check_mode=True):
    """Run ``module.main()`` with ``args`` (check mode and diff by default); return its result dict."""
    results = {}

    def exit_json(self, **kwargs):
        results.update(kwargs)
        raise Exit()

    def fail_json(self, **kwargs):
        results.update(kwargs, failed=True)
        raise Exit()

    monkeypatch.setattr(SeedAWSModule, "exit_json", exit_json)
    monkeypatch.setattr(SeedAWSModule, "fail_json", fail_json)
    args = dict(args, region="us-east-1", _ansible_check_mode=check_mode, _ansible_diff=True)
    with patch_module_args(args):
        with pytest.raises(Exit):
            module.main()
    return results
