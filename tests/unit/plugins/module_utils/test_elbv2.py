# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""elbv2.describe_tags: batches of 20, and a resource gone between the listing and the tag read."""

from botocore.exceptions import ClientError

from ansible_collections.seed.aws_migration.plugins.module_utils import elbv2


class FakeELB:
    """DescribeTags as ELBv2 answers it: every ARN of the call described, or - when one of them does not
    exist - the whole call fails with TargetGroupNotFound."""

    def __init__(self, tags, gone=()):
        self.tags, self.gone, self.calls = tags, set(gone), []

    def describe_tags(self, ResourceArns):
        self.calls.append(list(ResourceArns))
        assert len(ResourceArns) <= 20
        if self.gone & set(ResourceArns):
            raise ClientError({"Error": {"Code": "TargetGroupNotFound", "Message": "One or more target groups not "
                                                                                   "found"}}, "DescribeTags")
        return {"TagDescriptions": [{"ResourceArn": arn, "Tags": [{"Key": k, "Value": v}
                                                                  for k, v in self.tags[arn].items()]}
                                    for arn in ResourceArns]}


ARNS = [f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-{i}/{i:016x}" for i in range(25)]


def test_tags_are_read_20_at_a_time():
    client = FakeELB({arn: {"seed:name": f"lb-{i}"} for i, arn in enumerate(ARNS)})
    tags = elbv2.describe_tags(client, ARNS)
    assert [len(c) for c in client.calls] == [20, 5]
    assert tags == {arn: {"seed:name": f"lb-{i}"} for i, arn in enumerate(ARNS)}


def test_a_resource_gone_since_the_listing_does_not_hide_the_tags_of_its_batch():
    """One target group deleted between DescribeTargetGroups and DescribeTags fails its whole batch: the
    others are read one by one (their tags must not be taken for none), and the gone one is left out."""
    client = FakeELB({arn: {"seed:name": f"lb-{i}"} for i, arn in enumerate(ARNS)}, gone=[ARNS[3]])
    tags = elbv2.describe_tags(client, ARNS)
    assert tags == {arn: {"seed:name": f"lb-{i}"} for i, arn in enumerate(ARNS) if i != 3}
    assert client.calls[0] == ARNS[:20] and [len(c) for c in client.calls[1:21]] == [1] * 20
