"""container_image against the local Docker engine and registry: check mode, build and push, no push
when the registry has the tag, failing builds and smoke tests, an unreachable registry, deletion (one tag of
an image with several is refused), git commit tags of clean and changed contexts; and site.yml's preflight
refusing a missing Dockerfile before any AWS request."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from support.servers import REPO_ROOT
from support.servers import boto3_client

pytestmark = pytest.mark.docker

MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy


def manifest_digest(local_docker, name, tag):
    """The digest the registry has for ``name:tag``, or None (HEAD of the manifest, straight to the registry)."""
    request = urllib.request.Request(f"{local_docker.registry_url}/v2/{name}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": MANIFEST_TYPES})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.headers["Docker-Content-Digest"]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


@pytest.fixture
def image_args(ansible, local_docker, base_image, tmp_path):
    app = tmp_path / "backend"
    shutil.copytree(REPO_ROOT / "examples" / "apps" / "backend", app)
    ansible.extra_env.update(DOCKER_HOST=local_docker.docker_host)
    return {"name": f"it/{tmp_path.name.lower().replace('_', '-')}", "path": str(app),
            "registry": {"url": local_docker.registry}, "build_args": {"BASE_IMAGE": base_image.ref}}


def test_build_push_and_skip(ansible, image_args, local_docker):
    check = ansible.module("container_image", image_args, check=True)
    assert check["changed"] and not check["built"] and not check["pushed"]
    tag = check["image"]["tag"]
    assert check["actions"] == [f"build {local_docker.registry}/{image_args['name']}:{tag}",
                                f"push {local_docker.registry}/{image_args['name']}:{tag}"]
    assert check["image"]["digest"] is None

    built = ansible.module("container_image", dict(image_args, smoke_test={"enabled": True, "port": 18123}))
    assert not built.get("failed"), built.get("msg")
    assert built["actions"] == check["actions"] and built["built"] and built["pushed"]
    assert built["image"]["pinned"] == f"{local_docker.registry}/{image_args['name']}@{built['image']['digest']}"

    again = ansible.module("container_image", image_args)
    assert again["changed"] is False and not again["built"] and not again["pushed"]
    assert again["image"]["digest"] == built["image"]["digest"]

    # The image's only tag: deleted (state=absent without tag deletes the content tag of path).
    gone = ansible.module("container_image", dict(image_args, state="absent"))
    assert not gone.get("failed"), gone.get("msg")
    assert gone["actions"][0] == f"delete {local_docker.registry}/{image_args['name']}:{tag} ({built['image']['digest']})"
    assert manifest_digest(local_docker, image_args["name"], tag) is None
    assert ansible.module("container_image", image_args, check=True)["changed"] is True  # no longer there


def test_failing_build_reports_the_failing_step(ansible, image_args):
    # The marker is computed by the shell: only the step's own output has it, not the daemon's error text
    # (which quotes the command, "$((6*7))").
    with open(f"{image_args['path']}/Dockerfile", "a", encoding="utf-8") as handle:
        handle.write("\nRUN echo \"step-output-marker-$((6*7))\" && exit 3\n")
    result = ansible.module("container_image", image_args)
    assert result.get("failed")
    assert "Build of" in result["msg"] and "step-output-marker-42" in result["msg"], result["msg"]


def test_failing_smoke_test_pushes_nothing(ansible, image_args, local_docker):
    args = dict(image_args, smoke_test={"enabled": True, "port": 18124, "path": "/no-such-page", "timeout": 20})
    result = ansible.module("container_image", args)
    assert result.get("failed")
    assert "Smoke test" in result["msg"] and "nothing was pushed" in result["msg"]
    assert "Container logs" in result["msg"]
    assert ansible.module("container_image", image_args, check=True)["changed"] is True  # not in the registry


@pytest.mark.parametrize("override, field", [
    ({"registry": {"url": "127.0.0.1:1"}}, "registry.url"),
    ({"dockerfile": "Missing.Dockerfile"}, "dockerfile"),
    ({"path": "/nonexistent/context"}, "path"),
    ({"docker_host": "unix:///nonexistent/docker.sock"}, "docker_host"),
])
def test_bad_input_names_the_field(ansible, image_args, override, field):
    result = ansible.module("container_image", dict(image_args, **override))
    assert result.get("failed") and result["msg"].startswith(field + ":"), result.get("msg")


def test_deleting_one_tag_of_an_image_with_two_is_refused(ansible, image_args, local_docker):
    """The registry deletes manifests, not tags: deleting release-1 would delete the content tag too."""
    pushed = ansible.module("container_image", dict(image_args, extra_tags=["release-1"]))
    assert not pushed.get("failed"), pushed.get("msg")
    name, (tag, extra), digest = image_args["name"], pushed["image"]["tags"], pushed["image"]["digest"]
    assert extra == "release-1" and manifest_digest(local_docker, name, extra) == digest

    for check in (True, False):  # check mode predicts the refusal
        refused = ansible.module("container_image", dict(image_args, state="absent", tag=extra), check=check)
        assert refused.get("failed") and not refused.get("changed")
        assert f"also tagged {tag}" in refused["msg"] and "Nothing was deleted" in refused["msg"]
    assert manifest_digest(local_docker, name, tag) == digest == manifest_digest(local_docker, name, extra)
    client = local_docker.client()
    client.images.remove(f"{local_docker.registry}/{name}:{tag}", force=True)
    pulled = client.images.pull(f"{local_docker.registry}/{name}", tag=tag)
    assert digest in [d.split("@")[1] for d in pulled.attrs["RepoDigests"]]


def git(path, *args):
    return subprocess.run(["git", "-C", str(path), "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_git_commit_tag_names_only_a_committed_context(ansible, image_args, local_docker):
    repo = image_args["path"]  # the build context is the repository
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "backend")
    git_tag = "git-" + git(repo, "rev-parse", "--short=12", "HEAD")
    args = dict(image_args, git_commit_tag=True)

    first = ansible.module("container_image", args)
    assert not first.get("failed"), first.get("msg")
    assert first["image"]["tags"] == [first["image"]["tag"], git_tag] and not first.get("warnings")
    assert manifest_digest(local_docker, image_args["name"], git_tag) == first["image"]["digest"]

    # Changed content on the same commit: a new image, and git-<commit> stays on the committed one.
    with open(f"{image_args['path']}/app.py", "a", encoding="utf-8") as handle:
        handle.write("\n# not committed\n")
    check = ansible.module("container_image", args, check=True)
    changed = ansible.module("container_image", args)
    assert not changed.get("failed"), changed.get("msg")
    assert changed["actions"] == check["actions"] and not any(git_tag in a for a in changed["actions"])
    assert changed["image"]["tags"] == [changed["image"]["tag"]] != first["image"]["tags"][:1]
    assert any(f"not tagging {git_tag}" in w and "app.py" in w for w in changed.get("warnings", [])), changed
    assert manifest_digest(local_docker, image_args["name"], git_tag) == first["image"]["digest"]


def test_a_new_base_image_behind_the_same_tag_is_a_new_content_tag(ansible, image_args, local_docker, base_image,
                                                                   tmp_path):
    """The base's tag stays and its image changes (a security update pulled): the content tag changes, so
    the image is rebuilt and pushed; the result names the base image ID the tag includes."""
    base = f"it-base/{tmp_path.name.lower().replace('_', '-')}:1"
    local_docker.docker("tag", base_image.ref, base)
    try:
        args = dict(image_args, build_args={"BASE_IMAGE": base})
        first = ansible.module("container_image", args)
        assert not first.get("failed"), first.get("msg")
        assert first["image"]["bases"] == {base: base_image.id}

        updated = tmp_path / "base"
        updated.mkdir()
        (updated / "Dockerfile").write_text(f"FROM {base_image.ref}\nLABEL seed.test.update=2\n")
        new_id = local_docker.build(updated, base)
        assert new_id != base_image.id
        check = ansible.module("container_image", args, check=True)
        assert check["image"]["tag"] != first["image"]["tag"] and check["image"]["bases"] == {base: new_id}
        second = ansible.module("container_image", args)
        assert not second.get("failed"), second.get("msg")
        assert second["actions"] == check["actions"] and second["built"] and second["pushed"]
        assert second["image"]["digest"] != first["image"]["digest"]
        assert ansible.module("container_image", args)["changed"] is False
    finally:
        local_docker.docker("image", "rm", base, check=False)


def test_pull_bases_builds_on_what_the_registry_has_not_on_a_stale_copy(ansible, image_args, local_docker,
                                                                        base_image, tmp_path):
    """pull_bases, real engine and registry: the base lives in the registry; an update is pushed under the
    same tag while the engine keeps its old copy. Without pull_bases nothing changes (the copy is what a
    build would take); check mode with it predicts the update without pulling; the run pulls it, builds on
    it (the built image carries the update's label) and pushes; a rerun changes nothing."""
    name = f"it-base/{tmp_path.name.lower().replace('_', '-')}"
    base = f"{local_docker.registry}/{name}:1"
    args = dict(image_args, build_args={"BASE_IMAGE": base})
    pulling = dict(args, pull_bases=True)
    built = []
    try:
        local_docker.docker("tag", base_image.ref, base)
        local_docker.docker("push", base)
        old_digest = manifest_digest(local_docker, name, "1")
        first = ansible.module("container_image", pulling)
        assert not first.get("failed"), first.get("msg")
        assert first["image"]["bases"] == {base: old_digest} and first["built"] and first["pushed"]
        built.append(f"{first['image']['repository']}:{first['image']['tag']}")

        updated = tmp_path / "base"
        updated.mkdir()
        (updated / "Dockerfile").write_text(f"FROM {base_image.ref}\nLABEL seed.test.update=2\n")
        local_docker.build(updated, base)
        local_docker.docker("push", base)
        new_digest = manifest_digest(local_docker, name, "1")
        assert new_digest != old_digest
        local_docker.docker("tag", base_image.ref, base)  # the engine's copy is the old image again: stale

        assert ansible.module("container_image", args, check=True)["changed"] is False
        check = ansible.module("container_image", pulling, check=True)
        assert check["changed"] and check["image"]["bases"] == {base: new_digest}
        stale = json.loads(local_docker.docker("image", "inspect", base).stdout)[0]
        assert stale["Id"] == base_image.id  # check mode pulled nothing

        second = ansible.module("container_image", pulling)
        assert not second.get("failed"), second.get("msg")
        assert second["image"]["tag"] == check["image"]["tag"] and second["actions"] == check["actions"]
        assert second["built"] and second["pushed"] and second["image"]["digest"] != first["image"]["digest"]
        reference = f"{second['image']['repository']}:{second['image']['tag']}"
        built.append(reference)
        labels = json.loads(local_docker.docker("image", "inspect", reference).stdout)[0]["Config"]["Labels"]
        assert (labels or {}).get("seed.test.update") == "2"  # built on the update, not on the stale copy
        assert ansible.module("container_image", pulling)["changed"] is False

        missing = ansible.module("container_image", dict(pulling, build_args={"BASE_IMAGE": f"{base}-missing"}))
        assert missing["failed"]
        assert missing["msg"].startswith(f"pull_bases: the base image {base}-missing could not be pulled")
    finally:
        for reference in [base, *built]:
            local_docker.docker("image", "rm", reference, check=False)


def test_site_refuses_a_missing_dockerfile_before_any_aws_request(clean_aws, ansible, tmp_path):
    apps = tmp_path / "apps"
    shutil.copytree(REPO_ROOT / "examples" / "apps", apps)
    (apps / "backend" / "Dockerfile").unlink()
    result = ansible.playbook("playbooks/site.yml", extra_vars={"seed_examples": str(apps)})
    assert result.failed
    (failed,) = [t for t in result.task_results() if t.get("failed")]
    assert failed["_task"] == "Check that every image's build context and Dockerfile are there"
    assert failed["msg"] == (f"registry_images[1] (seed/backend): dockerfile {apps}/backend/Dockerfile does not "
                             "exist. Nothing was deployed.")
    assert clean_aws.requests()["total"] == 0, clean_aws.requests()


def test_ecr_login_from_the_local_aws_token_then_push(clean_aws, ansible, image_args, local_docker):
    """registry type ecr: the authorization token comes from the local AWS over HTTP (ecr:GetAuthorizationToken,
    decoded to user AWS and its password) and the push logs in with it. moto's ECR has no registry endpoint, so
    registry.url (the override users give for ECR's dual-stack, FIPS or VPC-endpoint names) points at the local
    registry, which takes any credentials: this proves the token flow and the push, not that ECR accepts them."""
    args = dict(image_args, registry={"type": "ecr", "url": local_docker.registry})
    clean_aws.reset_counts()
    pushed = ansible.module("container_image", args)
    assert not pushed.get("failed"), pushed.get("msg")
    assert pushed["pushed"] and manifest_digest(local_docker, args["name"], pushed["image"]["tag"]) \
        == pushed["image"]["digest"]
    assert clean_aws.requests()["by_action"].get("ecr:GetAuthorizationToken") == 1
    # The token's password is a secret: never in the result (moto gives the same token on every call).
    token = boto3_client("ecr", clean_aws.endpoint_url).get_authorization_token()["authorizationData"][0]
    password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)[1]
    assert password not in json.dumps(pushed)
    again = ansible.module("container_image", args)
    assert again["changed"] is False and not again["pushed"]
