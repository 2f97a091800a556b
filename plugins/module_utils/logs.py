# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small function per CloudWatch Logs call our modules make.

Each carries an error handler (raising SeedAWSError with what was being done) and the ``retry``
policy; creates tolerate "already exists", so a retry after a lost response is harmless.
"""

from ansible_collections.seed.aws_migration.plugins.module_utils.common import paginate_all
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedErrorHandler as H
from ansible_collections.seed.aws_migration.plugins.module_utils.retries import retry

# The retention periods (days) CloudWatch Logs accepts.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)


@H.list_error_handler("describe log groups", [])
@retry
def describe_log_group(client, name):
    groups = paginate_all(client, "describe_log_groups", "logGroups", logGroupNamePrefix=name)
    return [g for g in groups if g["logGroupName"] == name]


@H.list_error_handler("list log group tags", {})
@retry
def list_log_group_tags(client, name):
    return client.list_tags_log_group(logGroupName=name).get("tags", {})


@H.common_error_handler("create log group")
@retry
def create_log_group(client, name, tags):
    try:
        client.create_log_group(logGroupName=name, tags=tags)
    except client.exceptions.ResourceAlreadyExistsException:
        pass  # a lost response to an earlier attempt: the group is there, which is what we want


@H.common_error_handler("set log group retention")
@retry
def put_retention_policy(client, name, days):
    client.put_retention_policy(logGroupName=name, retentionInDays=days)


@H.deletion_error_handler("delete log group")
@retry
def delete_log_group(client, name):
    client.delete_log_group(logGroupName=name)
    return True
