# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared attribute documentation for the collection's modules."""


class ModuleDocFragment:
    # Standard documentation fragment for modules that change state.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and predict what a real run would change, without changing anything.
    support: full
  diff_mode:
    description: Shows before/after of the managed fields with C(--diff).
    support: full
  idempotent:
    description: A second run with the same options reports no change and makes no write call.
    support: full
  action_group:
    description: Use C(group/seed.aws_migration.aws) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - seed.aws_migration.aws
"""

    # For _info modules.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode; it only reads.
    support: full
  diff_mode:
    description: Reads only, so it never shows a diff.
    support: N/A
  idempotent:
    description: Reads only.
    support: full
  action_group:
    description: Use C(group/seed.aws_migration.aws) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - seed.aws_migration.aws
"""
