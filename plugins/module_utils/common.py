# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collection identity: one place for the name and version the modules report."""

COLLECTION_NAME = "seed.aws_migration"
COLLECTION_VERSION = "1.0.0"


def paginate_all(client, operation, key, **params):
    """Every page of a paginated call, merged; ``key`` is the list in the response."""
    return client.get_paginator(operation).paginate(**params).build_full_result()[key]
