# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection identity (the name and version the modules report), and small helpers every part shares."""

COLLECTION_NAME = "seed.aws_migration"
COLLECTION_VERSION = "1.0.0"


def paginate_all(client, operation, key, **params):
    """Every page of a paginated call, merged; ``key`` is the list in the response."""
    return client.get_paginator(operation).paginate(**params).build_full_result()[key]


def as_int(value):
    """``value`` as an int the way an argument spec takes one (``3`` or ``"3"``, not ``True``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
