# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for static_website: runs the module in the task worker on the controller (see plugin_utils/in_process.py)."""

from __future__ import annotations

from ansible_collections.seed.aws_migration.plugins.plugin_utils.in_process import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    """The static_website module, in-process when the task runs on the controller."""
