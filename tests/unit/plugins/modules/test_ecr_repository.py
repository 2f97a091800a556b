# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ecr_repository: validation, lifecycle rendering, policy normalisation, views, the login token, and
main() with the API wrappers replaced (check mode plans without writing, validation before any client)."""

import base64
import json

import pytest


from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils import ecr
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.modules import ecr_repository

POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": "*"},
                                                  "Action": ["ecr:BatchGetImage"]}]}


def params(**kwargs):
    base = dict(name="seed/web", state="present", scan_on_push=True, image_tag_mutability="IMMUTABLE",
                encryption=None, lifecycle=None, lifecycle_policy=None, policy=None, force_absent=False,
                tags=None, purge_tags=True)
    base.update(kwargs)
    return base


# --- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ab", "web", "seed/web-api", "a.b_c-d/e/f1", "x" * 256, "team/sub/app2"])
def test_valid_names(name):
    ecr.check_name("name", name)


@pytest.mark.parametrize("name", ["a", "", "Web", "web/", "/web", "seed//web", "-web", "web-", "we--b", "we._b",
                                  "we b", "web:1", "x" * 257, None])
def test_invalid_names_name_the_field(name):
    with pytest.raises(ValidationError) as e:
        ecr.check_name("name", name)
    assert e.value.field == "name" and str(e.value).startswith("name: ")


# --- options -------------------------------------------------------------------------------------
def test_defaults_leave_lifecycle_policy_and_tags_unmanaged():
    spec = ecr.build_spec(params())
    assert (spec.scan_on_push, spec.image_tag_mutability, spec.encryption) == (True, "IMMUTABLE", None)
    assert not spec.manage_lifecycle and not spec.manage_policy and spec.tags is None


def test_absent_validates_only_the_name():
    spec = ecr.build_spec(params(state="absent", policy="{not json", force_absent=True))
    assert spec.force_absent is True
    with pytest.raises(ValidationError):
        ecr.build_spec(params(name="Bad", state="absent"))


@pytest.mark.parametrize("kwargs, field", [
    (dict(lifecycle={"keep_tagged": 0, "expire_untagged_days": 7}), "lifecycle.keep_tagged"),
    (dict(lifecycle={"keep_tagged": 3, "expire_untagged_days": -1}), "lifecycle.expire_untagged_days"),
    (dict(lifecycle={"keep_tagged": 3}, lifecycle_policy="{}"), "lifecycle"),
    (dict(lifecycle_policy='{"rules": []}'), "lifecycle_policy"),
    (dict(lifecycle_policy={"rules": [{"rulePriority": 1}]}), "lifecycle_policy.rules[0]"),
    (dict(lifecycle_policy={"rules": [{"rulePriority": 1, "selection": {}, "action": {}},
                                      {"rulePriority": 1, "selection": {}, "action": {}}]}), "lifecycle_policy"),
    (dict(policy="{nope"), "policy"),
    (dict(policy="[1]"), "policy"),
    (dict(policy={"Version": "2012-10-17"}), "policy"),
    (dict(policy={"Statement": ["x" * 11000]}), "policy"),
    (dict(encryption={"type": "AES256", "kms_key": "alias/k"}), "encryption.kms_key"),
    (dict(encryption={"type": "DSSE", "kms_key": None}), "encryption.type"),
    (dict(image_tag_mutability="SOMETIMES"), "image_tag_mutability"),
    (dict(tags={"aws:owner": "me"}), "tags"),
    (dict(tags={"k" * 129: "v"}), "tags"),
    (dict(tags={"team": None}), "tags.team"),
    (dict(tags={"team": "v" * 257}), "tags.team"),
    (dict(tags={f"k{i}": "v" for i in range(51)}), "tags"),
])
def test_bad_options_name_the_field(kwargs, field):
    with pytest.raises(ValidationError) as e:
        ecr.build_spec(params(**kwargs))
    assert e.value.field == field, str(e.value)


def test_tag_values_become_strings():
    assert ecr.build_spec(params(tags={"n": 3, "on": True})).tags == {"n": "3", "on": "true"}


# --- lifecycle -----------------------------------------------------------------------------------
def test_lifecycle_is_rendered_from_keep_tagged_and_expire_untagged_days():
    spec = ecr.build_spec(params(lifecycle={"keep_tagged": 12, "expire_untagged_days": 3}))
    assert spec.manage_lifecycle
    untagged, tagged = spec.lifecycle_policy["rules"]
    assert untagged["rulePriority"] == 1 and tagged["rulePriority"] == 2
    assert untagged["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                     "countNumber": 3}
    # AWS requires a tag prefix or pattern list with tagStatus=tagged; "*" selects every tagged image.
    assert tagged["selection"] == {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                                   "countNumber": 12}
    assert untagged["action"] == tagged["action"] == {"type": "expire"}
    assert spec.lifecycle_summary == "keep the last 12 tagged images, expire untagged images after 3 days"


def test_lifecycle_defaults_are_30_tagged_and_7_days():
    spec = ecr.build_spec(params(lifecycle={"keep_tagged": None, "expire_untagged_days": None}))
    assert spec.lifecycle_policy == ecr.render_lifecycle(30, 7)


def test_raw_lifecycle_policy_and_empty_one():
    raw = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                                       "countNumber": 5}, "action": {"type": "expire"}}]}
    spec = ecr.build_spec(params(lifecycle_policy=json.dumps(raw, indent=3)))
    assert spec.manage_lifecycle and spec.lifecycle_policy == raw and spec.lifecycle_summary == "1 rules"
    spec = ecr.build_spec(params(lifecycle_policy="{}"))
    assert spec.manage_lifecycle and spec.lifecycle_policy is None


# --- policy normalisation ------------------------------------------------------------------------
def test_policy_key_order_and_whitespace_do_not_matter():
    reordered = json.dumps({"Statement": [{"Action": ["ecr:BatchGetImage"], "Principal": {"AWS": "*"},
                                           "Effect": "Allow", "Sid": "Pull"}], "Version": "2012-10-17"}, indent=4)
    assert ecr.normalize_document("policy", reordered) == ecr.normalize_document("policy", POLICY) == POLICY
    assert ecr.parse_aws_document("  " + reordered + "\n") == POLICY
    assert ecr.canonical_json(json.loads(reordered)) == ecr.canonical_json(POLICY)
    assert " " not in ecr.canonical_json(POLICY).replace("2012-10-17", "")


def test_policy_content_still_matters():
    changed = dict(POLICY, Statement=[dict(POLICY["Statement"][0], Action=["ecr:PutImage"])])
    assert ecr.normalize_document("policy", changed) != ecr.normalize_document("policy", POLICY)


@pytest.mark.parametrize("value", ["", "   ", "{}", {}])
def test_empty_documents_mean_none(value):
    assert ecr.normalize_document("policy", value) is None
    assert ecr.build_spec(params(policy=value)).manage_policy is True


def test_unparsable_aws_document_reads_as_none():
    assert ecr.parse_aws_document(None) is None
    assert ecr.parse_aws_document("not json") is None
    assert ecr.parse_aws_document("[1]") is None


# --- views ---------------------------------------------------------------------------------------
DESCRIBED = {"repositoryName": "seed/web", "repositoryArn": "arn:aws:ecr:us-east-1:1:repository/seed/web",
             "repositoryUri": "1.dkr.ecr.us-east-1.amazonaws.com/seed/web", "registryId": "1",
             "imageTagMutability": "MUTABLE", "imageScanningConfiguration": {"scanOnPush": False},
             "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-east-1:1:key/abc"}}


def test_facts_and_managed_view():
    facts = ecr.repository_facts(DESCRIBED, policy=POLICY, tags={"a": "1"})
    assert facts["uri"] == DESCRIBED["repositoryUri"] and facts["registry_id"] == "1"
    assert facts["encryption"] == {"type": "KMS", "kms_key": "arn:aws:kms:us-east-1:1:key/abc"}
    view = ecr.managed_view(facts)
    assert set(view) == {"name", "scan_on_push", "image_tag_mutability", "image_tag_mutability_exclusions",
                         "encryption", "lifecycle_policy", "policy", "tags"}
    assert ecr.repository_facts(None) == {} and ecr.managed_view({}) == {}


def test_desired_view_keeps_unmanaged_fields_and_existing_encryption():
    current = ecr.managed_view(ecr.repository_facts(DESCRIBED, policy=POLICY, lifecycle_policy={"rules": []},
                                                    tags={"a": "1", "Name": "web"}))
    spec = ecr.build_spec(params(encryption={"type": "KMS", "kms_key": None}, tags={"b": "2"}))
    view = ecr.desired_view(spec, current)
    assert view["policy"] == POLICY and view["lifecycle_policy"] == {"rules": []}
    assert view["encryption"] == current["encryption"]
    assert view["tags"] == {"b": "2", "Name": "web"}  # Name is never purged (tag_delta)
    assert view["scan_on_push"] is True and view["image_tag_mutability"] == "IMMUTABLE"
    new = ecr.desired_view(ecr.build_spec(params()), {})
    assert new["encryption"] == {"type": "AES256", "kms_key": None} and new["tags"] == {}


def test_wanted_tags():
    spec = ecr.build_spec(params(tags={"a": "1", "b": "2"}))
    assert ecr.wanted_tags(spec, {"a": "1", "c": "3"}) == ({"b": "2"}, ["c"], {"a": "1", "b": "2"})
    spec = ecr.build_spec(params(tags={"b": "2"}, purge_tags=False))
    assert ecr.wanted_tags(spec, {"c": "3"}) == ({"b": "2"}, [], {"b": "2", "c": "3"})
    assert ecr.wanted_tags(ecr.build_spec(params()), {"c": "3"}) == ({}, [], {"c": "3"})


def test_kms_key_references_match_without_lookups_when_the_text_says_so():
    actual = "arn:aws:kms:us-east-1:1:key/abc"
    lookups = []

    def resolve(key):
        lookups.append(key)
        return {"alias/web": actual, actual: actual}.get(key)

    assert ecr.kms_key_matches(actual, actual, resolve)
    assert ecr.kms_key_matches("abc", actual, resolve)
    assert ecr.kms_key_matches("alias/web", "arn:aws:kms:us-east-1:1:alias/web", resolve)
    assert lookups == []
    assert ecr.kms_key_matches("alias/web", actual, resolve)
    assert not ecr.kms_key_matches("alias/other", actual, resolve)
    assert not ecr.kms_key_matches("abc", None, resolve)


# --- authorization token -------------------------------------------------------------------------
class FakeEcr:
    def __init__(self, token):
        self.token = token
        self.calls = []

    def get_authorization_token(self, **kwargs):
        self.calls.append(kwargs)
        return {"authorizationData": [{"authorizationToken": self.token,
                                       "proxyEndpoint": "https://1.dkr.ecr.us-east-1.amazonaws.com"}]}


class FakeModule:
    def __init__(self):
        self.no_log_values = set()


def test_authorization_token_is_decoded_and_the_password_registered_as_no_log():
    token = base64.b64encode(b"AWS:pa:ss").decode()
    client, module = FakeEcr(token), FakeModule()
    assert ecr.get_authorization_token(client, ["1"], module=module) == (
        "AWS", "pa:ss", "https://1.dkr.ecr.us-east-1.amazonaws.com")
    assert client.calls == [{"registryIds": ["1"]}]
    assert "pa:ss" in module.no_log_values and token in module.no_log_values
    assert ecr.get_authorization_token(client)[1] == "pa:ss" and client.calls[-1] == {}


def test_bad_authorization_token_fails_without_showing_it():
    with pytest.raises(SeedAWSError) as e:
        ecr.get_authorization_token(FakeEcr(base64.b64encode(b"no-separator").decode()))
    assert "no-separator" not in str(e.value)


# --- main() with the wrappers replaced -----------------------------------------------------------

WRITES = ("create_repository", "put_image_scanning_configuration", "put_image_tag_mutability",
          "put_lifecycle_policy", "delete_lifecycle_policy", "set_repository_policy", "delete_repository_policy",
          "tag_resource", "untag_resource", "delete_repository")


@pytest.fixture
def account(monkeypatch):
    """A fake registry: ``state`` holds what the reads return; every write fails the test."""
    state = {"repository": None, "policy": None, "lifecycle": None, "tags": {}, "images": []}
    monkeypatch.setattr(ecr, "describe_repository", lambda client, name: state["repository"])
    monkeypatch.setattr(ecr, "get_repository_policy", lambda client, name: state["policy"])
    monkeypatch.setattr(ecr, "get_lifecycle_policy", lambda client, name: state["lifecycle"])
    monkeypatch.setattr(ecr, "list_tags", lambda client, arn: dict(state["tags"]))
    monkeypatch.setattr(ecr, "list_images", lambda client, name: list(state["images"]))
    for name in WRITES:
        monkeypatch.setattr(ecr, name, lambda *a, _n=name, **k: pytest.fail(f"{_n} called in check mode"))
    monkeypatch.setattr(ecr_repository.SeedAWSModule, "seed_client", lambda self, service: object())
    return state


def run(monkeypatch, args, check_mode=True):
    return run_module(monkeypatch, ecr_repository, args, check_mode)


def test_check_mode_on_an_empty_registry_plans_everything_and_writes_nothing(monkeypatch, account):
    result = run(monkeypatch, dict(name="seed/web", lifecycle={}, policy=POLICY, tags={"team": "x"}))
    assert result["changed"] is True
    assert result["actions"] == [
        "create repository seed/web (image_tag_mutability=IMMUTABLE, scan_on_push=true, encryption=AES256)",
        "put lifecycle policy: keep the last 30 tagged images, expire untagged images after 7 days",
        "set repository policy (1 statements: Pull)"]
    assert result["repository"] == {} and result["diff"]["before"] == {}
    assert result["diff"]["after"]["tags"] == {"team": "x"}
    assert result["diff"]["after"]["lifecycle_policy"] == ecr.render_lifecycle(30, 7)
    json.dumps(result)  # what Ansible will serialise


def test_check_mode_on_a_converged_repository_is_no_change(monkeypatch, account):
    account.update(repository=dict(DESCRIBED, imageTagMutability="IMMUTABLE",
                                   imageScanningConfiguration={"scanOnPush": True}),
                   policy=POLICY, lifecycle=ecr.render_lifecycle(30, 7), tags={"team": "x"})
    result = run(monkeypatch, dict(name="seed/web", lifecycle={}, policy=json.dumps(POLICY, indent=2),
                                   tags={"team": "x"}, encryption={"type": "KMS", "kms_key": "abc"}))
    assert result["changed"] is False and result["actions"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["repository"]["arn"] == DESCRIBED["repositoryArn"]


def test_check_mode_plans_updates(monkeypatch, account):
    account.update(repository=DESCRIBED, policy=POLICY, lifecycle={"rules": []}, tags={"team": "x", "old": "1"})
    result = run(monkeypatch, dict(name="seed/web", policy={}, lifecycle_policy="", tags={"team": "y"}))
    assert result["actions"] == ["set scan_on_push=true", "set image_tag_mutability=IMMUTABLE",
                                 "delete lifecycle policy", "delete repository policy", "set tags team",
                                 "remove tags old"]
    assert result["repository"]["tags"] == {"team": "x", "old": "1"}  # as it is: check mode changed nothing


def test_encryption_cannot_change(monkeypatch, account):
    account.update(repository=DESCRIBED)
    result = run(monkeypatch, dict(name="seed/web", encryption={"type": "AES256"}))
    assert result["failed"] and result["msg"].startswith("encryption.type:") and "cannot change" in result["msg"]


def test_absent_with_images_needs_force_absent(monkeypatch, account):
    account.update(repository=DESCRIBED, images=[{"imageTag": "v1"}, {"imageTag": "v2"}])
    result = run(monkeypatch, dict(name="seed/web", state="absent"))
    assert result["failed"] and result["msg"].startswith("force_absent:") and "2 images" in result["msg"]
    result = run(monkeypatch, dict(name="seed/web", state="absent", force_absent=True))
    assert result["actions"] == ["delete repository seed/web and its 2 images"]
    assert result["diff"]["after"] == {} and result["repository"]["name"] == "seed/web"


def test_absent_when_already_gone_is_no_change(monkeypatch, account):
    result = run(monkeypatch, dict(name="seed/web", state="absent"))
    assert result["changed"] is False and result["actions"] == [] and result["repository"] == {}


def test_bad_input_fails_before_any_client(monkeypatch, account):
    monkeypatch.setattr(ecr_repository.SeedAWSModule, "seed_client",
                        lambda self, service: pytest.fail("a client was made before validation finished"))
    result = run(monkeypatch, dict(name="seed/web", lifecycle={"keep_tagged": 0}))
    assert result["failed"] and result["msg"].startswith("lifecycle.keep_tagged:")
    result = run(monkeypatch, dict(name="Seed/Web"))
    assert result["failed"] and result["msg"].startswith("name:")


def _client(knows_exclusions):
    """An ECR client's service model as botocore gives it, or as a botocore from before July 2025 had it (no
    imageTagMutabilityExclusionFilters member)."""
    import boto3
    from types import SimpleNamespace

    real = boto3.client("ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    if knows_exclusions:
        return real
    model = real.meta.service_model.operation_model("PutImageTagMutability")
    members = {k: v for k, v in model.input_shape.members.items() if k != "imageTagMutabilityExclusionFilters"}
    old = SimpleNamespace(operation_model=lambda name: SimpleNamespace(input_shape=SimpleNamespace(members=members)))
    return SimpleNamespace(meta=SimpleNamespace(service_model=old))


@pytest.mark.parametrize("knows", [True, False])
def test_exclusions_need_a_botocore_that_knows_them(monkeypatch, account, knows):
    """An older botocore would refuse to send the filters and drop them from what it reads: the module says so
    before any call when exceptions are given, and after the read when the repository has them."""
    monkeypatch.setattr(ecr_repository.SeedAWSModule, "seed_client", lambda self, service: _client(knows))
    reads = []
    monkeypatch.setattr(ecr, "describe_repository", lambda client, name: reads.append(name))
    result = run(monkeypatch, dict(name="seed/web", image_tag_mutability_exclusions=["latest"]))
    if knows:
        assert not result.get("failed") and result["actions"][0].startswith("create repository seed/web")
    else:
        assert result["failed"] and result["msg"].startswith("image_tag_mutability_exclusions: exceptions are given, "
                                                             "but this botocore (") and "upgrade" in result["msg"]
        assert reads == []  # before any call
    account.update(repository=dict(DESCRIBED, imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                                   imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "dev-*"}]))
    monkeypatch.setattr(ecr, "describe_repository", lambda client, name: account["repository"])
    result = run(monkeypatch, dict(name="seed/web"))
    if knows:
        assert result["actions"][-1] == "set image_tag_mutability=IMMUTABLE", result  # the exception goes
    else:
        assert result["failed"] and result["msg"].startswith(
            "image_tag_mutability: repository seed/web has tag mutability exceptions, but this botocore")
    gone = run(monkeypatch, dict(name="seed/web", state="absent", force_absent=True))
    assert not gone.get("failed") and gone["actions"] == ["delete repository seed/web"]
