# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Before/after diffs of managed fields, the same way in every module."""

_MISSING = object()


def changed_paths(before, after, prefix=""):
    """Dotted paths whose values differ between two nested dicts (lists compare whole)."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths = []
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.extend(changed_paths(before.get(key, _MISSING), after.get(key, _MISSING), path))
        return paths
    if before is _MISSING or after is _MISSING or before != after:
        return [prefix]
    return []


def build_diff(before, after, before_header=None, after_header=None):
    """The ``diff`` return value Ansible renders for ``--diff``: the managed view before and after."""
    diff = {"before": before if before is not None else {}, "after": after if after is not None else {}}
    if before_header:
        diff["before_header"] = before_header
    if after_header:
        diff["after_header"] = after_header
    return diff
