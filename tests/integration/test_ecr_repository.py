"""ecr_repository and ecr_repository_info against the local AWS over HTTP, requests counted at the server.

The rhythm of every step: check mode (prediction, zero writes), apply (the same actions, one write
request per action), re-apply (changed=false, zero writes).

What the local AWS (moto 5.2.5) does and does not do, checked in moto/ecr:
- it honours CreateRepository's scanning, tag mutability, encryption and tags, PutImageScanningConfiguration,
  PutImageTagMutability, Put/Get/DeleteLifecyclePolicy, Set/Get/DeleteRepositoryPolicy, Tag/UntagResource,
  PutImage, ListImages and DeleteRepository(force), and refuses to delete a repository that holds images
  without force, as AWS does;
- it stores policy texts verbatim, where AWS reformats them: the module compares parsed JSON, which the
  reformatting tests below exercise from the other side (same document, other key order and whitespace);
- it stores a KMS key as given (an alias stays an alias), where AWS reports the key ARN; the module resolves
  key references through KMS DescribeKey when they do not match as text, which test_kms_encryption exercises;
- it does not check that a ``tagStatus: tagged`` lifecycle rule has a tag prefix or pattern list (AWS does);
  the module always renders ``tagPatternList: ["*"]`` (checked in the unit tests);
- it never runs lifecycle policies (no image expires), and its DescribeRepositories/ListImages ignore
  maxResults and nextToken, so pagination is not exercised here.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from support.converge import converge as shared_converge
from support.servers import boto3_client

NAME = "seed/web-api"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "PullFromCI", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                   "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}],
}
POLICY_2 = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "PullFromCI", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                   "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]},
                  {"Sid": "PushFromDeploy", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::123456789012:role/deploy"},
                   "Action": ["ecr:PutImage"]}],
}
BASE = dict(name=NAME, lifecycle={"keep_tagged": 30}, policy=POLICY, tags={"team": "platform"})


def converge(ansible, aws, args, module="ecr_repository"):
    return shared_converge(ansible, aws, args, module)


def lifecycle(keep, days=7):
    return {"rules": [
        {"rulePriority": 1, "description": f"Expire untagged images {days} days after push",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": days},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"Keep the last {keep} tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                       "countNumber": keep},
         "action": {"type": "expire"}},
    ]}


def push_image(endpoint_url, name, tag):
    """PutImage with a minimal manifest (a push without layers, which the local AWS accepts)."""
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                           "digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest()},
                "layers": []}
    boto3_client("ecr", endpoint_url).put_image(repositoryName=name, imageManifest=json.dumps(manifest),
                                                imageTag=tag)


def repository_names(endpoint_url):
    return sorted(r["repositoryName"] for r in
                  boto3_client("ecr", endpoint_url).describe_repositories()["repositories"])


def test_full_lifecycle(clean_aws, ansible):
    url = clean_aws.endpoint_url
    created = converge(ansible, clean_aws, BASE)
    assert created["actions"] == [
        f"create repository {NAME} (image_tag_mutability=IMMUTABLE, scan_on_push=true, encryption=AES256)",
        "put lifecycle policy: keep the last 30 tagged images, expire untagged images after 7 days",
        "set repository policy (1 statements: PullFromCI)",
    ]
    assert created["writes_by_action"] == {"ecr:CreateRepository": 1, "ecr:PutLifecyclePolicy": 1,
                                           "ecr:SetRepositoryPolicy": 1}
    repo = created["repository"]
    assert repo == {
        "name": NAME, "arn": f"arn:aws:ecr:us-east-1:123456789012:repository/{NAME}",
        "uri": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{NAME}", "registry_id": "123456789012",
        "scan_on_push": True, "image_tag_mutability": "IMMUTABLE", "image_tag_mutability_exclusions": [],
        "encryption": {"type": "AES256", "kms_key": None},
        "lifecycle_policy": lifecycle(30), "policy": POLICY, "tags": {"team": "platform"},
    }
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"] == {k: v for k, v in repo.items() if k not in ("arn", "uri", "registry_id")}

    # What the local AWS really holds.
    client = boto3_client("ecr", url)
    described = client.describe_repositories(repositoryNames=[NAME])["repositories"][0]
    assert described["imageScanningConfiguration"] == {"scanOnPush": True}
    assert described["imageTagMutability"] == "IMMUTABLE"
    assert json.loads(client.get_lifecycle_policy(repositoryName=NAME)["lifecyclePolicyText"]) == lifecycle(30)
    assert json.loads(client.get_repository_policy(repositoryName=NAME)["policyText"]) == POLICY

    # The info module reads back the same repository.
    info = ansible.module("ecr_repository_info", {"names": [NAME, "seed/not-there"]})
    assert info["repositories"] == [repo] and info["changed"] is False

    # The same policy as JSON text, other key order and whitespace: no change, no write.
    clean_aws.reset_counts()
    reordered = json.dumps({"Statement": [dict(reversed(list(POLICY["Statement"][0].items())))],
                            "Version": "2012-10-17"}, indent=4)
    same = ansible.module("ecr_repository", dict(BASE, policy=reordered))
    assert same["changed"] is False and same["actions"] == [], same.get("msg")
    assert clean_aws.requests()["writes"] == 0
    # The same grant written the way AWS may give it back (an account principal as the account ID, a
    # one-action list as a string, the actions in another order): no change, no diff, no write. (AWS stores
    # an account principal as arn:aws:iam::<id>:root; the local AWS keeps the text, so it is set here.)
    statement = dict(POLICY["Statement"][0], Principal={"AWS": "123456789012"},
                     Action=list(reversed(POLICY["Statement"][0]["Action"])))
    clean_aws.reset_counts()
    equivalent = ansible.module("ecr_repository", dict(BASE, policy=dict(POLICY, Statement=[statement])), diff=True)
    assert equivalent["changed"] is False and clean_aws.requests()["writes"] == 0, equivalent.get("actions")
    assert equivalent["diff"]["before"] == equivalent["diff"]["after"]
    # Lifecycle rules listed in another order are the same rules (ECR goes by rulePriority).
    clean_aws.reset_counts()
    swapped = {"rules": list(reversed(lifecycle(30)["rules"]))}
    again = ansible.module("ecr_repository", dict(BASE, lifecycle=None, lifecycle_policy=swapped))
    assert again["changed"] is False and clean_aws.requests()["writes"] == 0, again.get("actions")

    # Update everything that can change in place: one write per action.
    updated = converge(ansible, clean_aws, dict(BASE, scan_on_push=False, image_tag_mutability="MUTABLE",
                                                lifecycle={"keep_tagged": 10, "expire_untagged_days": 3},
                                                policy=POLICY_2, tags={"team": "data", "tier": "web"}))
    assert updated["actions"] == [
        "set scan_on_push=false",
        "set image_tag_mutability=MUTABLE",
        "put lifecycle policy: keep the last 10 tagged images, expire untagged images after 3 days",
        "set repository policy (2 statements: PullFromCI, PushFromDeploy)",
        "set tags team, tier",
    ]
    assert updated["writes_by_action"] == {"ecr:PutImageScanningConfiguration": 1, "ecr:PutImageTagMutability": 1,
                                           "ecr:PutLifecyclePolicy": 1, "ecr:SetRepositoryPolicy": 1,
                                           "ecr:TagResource": 1}
    assert updated["diff"]["before"]["scan_on_push"] is True and updated["diff"]["after"]["scan_on_push"] is False
    repo = updated["repository"]
    assert (repo["scan_on_push"], repo["image_tag_mutability"]) == (False, "MUTABLE")
    assert repo["lifecycle_policy"] == lifecycle(10, 3) and repo["policy"] == POLICY_2
    assert repo["tags"] == {"team": "data", "tier": "web"}

    # Tags: purge removes what is not listed; purge_tags=false only adds.
    purged = converge(ansible, clean_aws, dict(BASE, scan_on_push=False, image_tag_mutability="MUTABLE",
                                               lifecycle={"keep_tagged": 10, "expire_untagged_days": 3},
                                               policy=POLICY_2, tags={"team": "data"}))
    assert purged["actions"] == ["remove tags tier"]
    assert purged["writes_by_action"] == {"ecr:UntagResource": 1}
    kept = converge(ansible, clean_aws, {"name": NAME, "scan_on_push": False, "image_tag_mutability": "MUTABLE",
                                         "tags": {"owner": "ops"}, "purge_tags": False})
    assert kept["actions"] == ["set tags owner"]
    assert kept["repository"]["tags"] == {"team": "data", "owner": "ops"}
    # Options not given leave lifecycle and policy as they are, unread (null in the result, saves 2 requests).
    assert kept["repository"]["lifecycle_policy"] is None and kept["repository"]["policy"] is None
    assert "ecr:GetLifecyclePolicy" not in clean_aws.requests()["by_action"]
    ecr_client = boto3_client("ecr", clean_aws.endpoint_url)
    assert json.loads(ecr_client.get_lifecycle_policy(repositoryName=NAME)["lifecyclePolicyText"]) == lifecycle(10, 3)
    assert json.loads(ecr_client.get_repository_policy(repositoryName=NAME)["policyText"]) == POLICY_2

    # Empty documents remove the policy and the lifecycle policy.
    cleared = converge(ansible, clean_aws, {"name": NAME, "scan_on_push": False, "image_tag_mutability": "MUTABLE",
                                            "lifecycle_policy": {}, "policy": {}})
    assert cleared["actions"] == ["delete lifecycle policy", "delete repository policy"]
    assert cleared["repository"]["lifecycle_policy"] is None and cleared["repository"]["policy"] is None

    # A raw lifecycle policy, from JSON text.
    raw = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                                       "countNumber": 100}, "action": {"type": "expire"}}]}
    rawed = converge(ansible, clean_aws, {"name": NAME, "scan_on_push": False, "image_tag_mutability": "MUTABLE",
                                          "lifecycle_policy": json.dumps(raw, indent=2)})
    assert rawed["actions"] == ["put lifecycle policy: 1 rules"] and rawed["repository"]["lifecycle_policy"] == raw

    # Delete while images are in it: refused without force_absent, in check mode too; nothing is lost.
    push_image(url, NAME, "v1")
    push_image(url, NAME, "v2")
    for check in (True, False):
        clean_aws.reset_counts()
        refused = ansible.module("ecr_repository", {"name": NAME, "state": "absent"}, check=check)
        assert refused.get("failed"), refused
        assert "force_absent" in refused["msg"] and "2 images" in refused["msg"], refused["msg"]
        assert clean_aws.requests()["writes"] == 0
    assert repository_names(url) == [NAME]
    assert len(client.list_images(repositoryName=NAME)["imageIds"]) == 2

    gone = converge(ansible, clean_aws, {"name": NAME, "state": "absent", "force_absent": True})
    assert gone["actions"] == [f"delete repository {NAME} and its 2 images"]
    assert gone["writes_by_action"] == {"ecr:DeleteRepository": 1}
    assert gone["repository"] == {} and gone["diff"]["after"] == {}
    assert gone["diff"]["before"]["tags"] == {"team": "data", "owner": "ops"}
    assert repository_names(url) == []
    assert ansible.module("ecr_repository_info", {})["repositories"] == []


def test_empty_repository_is_deleted_without_force(clean_aws, ansible):
    converge(ansible, clean_aws, {"name": "seed/empty"})
    gone = converge(ansible, clean_aws, {"name": "seed/empty", "state": "absent"})
    assert gone["actions"] == ["delete repository seed/empty"]
    assert repository_names(clean_aws.endpoint_url) == []


def test_defaults_and_info_of_all_repositories(clean_aws, ansible):
    created = converge(ansible, clean_aws, {"name": "seed/api"})
    # Without lifecycle, policy or tags: only the repository itself, with scanning and immutable tags.
    assert created["actions"] == [
        "create repository seed/api (image_tag_mutability=IMMUTABLE, scan_on_push=true, encryption=AES256)"]
    assert created["repository"]["lifecycle_policy"] is None and created["repository"]["tags"] == {}
    with_defaults = converge(ansible, clean_aws, {"name": "seed/api", "lifecycle": {}})
    assert with_defaults["repository"]["lifecycle_policy"] == lifecycle(30, 7)
    converge(ansible, clean_aws, {"name": "seed/worker", "tags": {"team": "jobs"}})
    info = ansible.module("ecr_repository_info", {})
    assert [r["name"] for r in info["repositories"]] == ["seed/api", "seed/worker"]
    assert info["repositories"][1]["tags"] == {"team": "jobs"}


def test_tags_can_be_the_exception_to_the_tag_mutability(clean_aws, ansible):
    """Immutable tags except a few movable ones (``latest``, ``dev-*``): ECR's IMMUTABLE_WITH_EXCLUSION,
    shown as the mode and its exceptions; a change of exceptions, or none left, updates it in place."""
    ecr = boto3_client("ecr", clean_aws.endpoint_url)

    def described():
        repository = ecr.describe_repositories(repositoryNames=["seed/web"])["repositories"][0]
        return repository["imageTagMutability"], repository.get("imageTagMutabilityExclusionFilters") or []

    created = converge(ansible, clean_aws, {"name": "seed/web", "image_tag_mutability_exclusions": ["latest",
                                                                                                    "dev-*"]})
    assert created["actions"] == ["create repository seed/web (image_tag_mutability=IMMUTABLE except dev-*, latest, "
                                  "scan_on_push=true, encryption=AES256)"]
    assert created["repository"]["image_tag_mutability"] == "IMMUTABLE"
    assert created["repository"]["image_tag_mutability_exclusions"] == ["dev-*", "latest"]
    assert described() == ("IMMUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "dev-*"},
                                                        {"filterType": "WILDCARD", "filter": "latest"}])
    changed = converge(ansible, clean_aws, {"name": "seed/web", "image_tag_mutability": "MUTABLE",
                                            "image_tag_mutability_exclusions": ["release-*"]})
    assert changed["actions"] == ["set image_tag_mutability=MUTABLE except release-*"]
    assert changed["diff"]["before"]["image_tag_mutability_exclusions"] == ["dev-*", "latest"]
    assert described() == ("MUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "release-*"}])
    plain = converge(ansible, clean_aws, {"name": "seed/web"})
    assert plain["actions"] == ["set image_tag_mutability=IMMUTABLE"]
    assert described()[0] == "IMMUTABLE"


def test_kms_encryption_is_create_only(clean_aws, ansible):
    url = clean_aws.endpoint_url
    kms = boto3_client("kms", url)
    key = kms.create_key(Description="ecr")["KeyMetadata"]
    kms.create_alias(AliasName="alias/ecr-test", TargetKeyId=key["KeyId"])
    other = kms.create_key(Description="other")["KeyMetadata"]

    args = {"name": "seed/secure", "encryption": {"type": "KMS", "kms_key": "alias/ecr-test"}}
    created = converge(ansible, clean_aws, args)
    assert created["actions"] == ["create repository seed/secure (image_tag_mutability=IMMUTABLE, "
                                  "scan_on_push=true, encryption=KMS alias/ecr-test)"]
    assert created["repository"]["encryption"]["type"] == "KMS"
    # The same key by ARN or ID: no change (the references are resolved through KMS when the text differs).
    for same_key in (key["Arn"], key["KeyId"]):
        clean_aws.reset_counts()
        same = ansible.module("ecr_repository", dict(args, encryption={"type": "KMS", "kms_key": same_key}))
        assert same["changed"] is False, same.get("msg")
        assert clean_aws.requests()["writes"] == 0
    # Not given: an existing repository's encryption is not checked.
    assert ansible.module("ecr_repository", {"name": "seed/secure"})["changed"] is False

    # Another key or type fails naming the field, before any write, and the repository is unchanged.
    for encryption, field in (({"type": "KMS", "kms_key": other["Arn"]}, "encryption.kms_key"),
                              ({"type": "AES256"}, "encryption.type")):
        clean_aws.reset_counts()
        result = ansible.module("ecr_repository", dict(args, encryption=encryption, scan_on_push=False))
        assert result.get("failed") and field in result["msg"], result
        assert "cannot change" in result["msg"]
        assert clean_aws.requests()["writes"] == 0
    described = boto3_client("ecr", url).describe_repositories(repositoryNames=["seed/secure"])["repositories"][0]
    assert described["imageScanningConfiguration"] == {"scanOnPush": True}


def test_kms_with_the_aws_managed_key(clean_aws, ansible):
    args = {"name": "seed/managed-key", "encryption": {"type": "KMS"}}
    clean_aws.reset_counts()
    applied = ansible.module("ecr_repository", args)
    assert applied["changed"] and clean_aws.requests()["writes"] == 1
    # AWS (and the local AWS) report the key it chose; asking for "KMS, any key" again is no change.
    assert applied["repository"]["encryption"]["kms_key"]
    clean_aws.reset_counts()
    again = ansible.module("ecr_repository", args)
    assert again["changed"] is False and clean_aws.requests()["writes"] == 0


@pytest.mark.parametrize("args, field", [
    (dict(name="Seed/Web"), "name"),
    (dict(name="a"), "name"),
    (dict(name="seed//web"), "name"),
    (dict(name="seed/-web"), "name"),
    (dict(name="x" * 257), "name"),
    (dict(lifecycle={"keep_tagged": 0}), "lifecycle.keep_tagged"),
    (dict(lifecycle={"expire_untagged_days": 0}), "lifecycle.expire_untagged_days"),
    (dict(lifecycle={"keep_tagged": 5}, lifecycle_policy={"rules": []}), "lifecycle"),
    (dict(lifecycle_policy={"rulez": []}), "lifecycle_policy"),
    (dict(policy="{not json"), "policy"),
    (dict(policy="[1, 2]"), "policy"),
    (dict(policy={"Version": "2012-10-17"}), "policy"),
    (dict(encryption={"type": "AES256", "kms_key": "alias/x"}), "encryption.kms_key"),
    (dict(image_tag_mutability="SOMETIMES"), "image_tag_mutability"),
    (dict(image_tag_mutability_exclusions=["dev/*"]), "image_tag_mutability_exclusions[0]"),
    (dict(image_tag_mutability_exclusions=["a", "b", "c", "d", "e", "f"]), "image_tag_mutability_exclusions"),
    (dict(tags={"aws:owner": "me"}), "tags"),
])
def test_bad_input_fails_before_any_request(clean_aws, ansible, args, field):
    clean_aws.reset_counts()
    result = ansible.module("ecr_repository", dict(dict(name="seed/bad"), **args))
    assert result.get("failed"), result
    assert field in result["msg"], result["msg"]
    assert clean_aws.requests()["total"] == 0, clean_aws.requests()["by_action"]


def test_info_bad_name_fails_before_any_request(clean_aws, ansible):
    clean_aws.reset_counts()
    result = ansible.module("ecr_repository_info", {"names": ["seed/ok", "Not_OK"]})
    assert result.get("failed") and "names[1]" in result["msg"], result
    assert clean_aws.requests()["total"] == 0
