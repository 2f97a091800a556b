# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""container_image: main() with a fake Docker engine, a fake registry (open_url) and a fake ECR client.

ECR login from the authorization token, OCI credentials, extra tags, moved and immutable tags, git tags of
clean and changed contexts, deleting one tag (ECR by tag; an OCI registry refused when the image has other
tags), the smoke test's port check and loopback probes, and Docker / HTTP errors reported with their step.
"""

import base64
import io
import json
import socket
import subprocess
from urllib.error import HTTPError
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests

from docker.errors import APIError
from docker.errors import ImageNotFound

from ansible_collections.seed.aws_migration.tests.unit.plugins.modules.module_runner import run_module
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_hash
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_tag
from ansible_collections.seed.aws_migration.plugins.modules import container_image

ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
OCI = "127.0.0.1:5000"
OLD = "sha256:" + "0" * 64
NEW = "sha256:" + "1" * 64


def api_error(status, explanation, url="http+docker://localhost/v1.45/x"):
    response = requests.models.Response()
    response.status_code, response.url, response.reason = status, url, "Server Error" if status >= 500 else "Error"
    return APIError(explanation, response=response, explanation=explanation)


class FakeAPI:
    """The low-level API calls the module makes; the registry is ``remote`` (reference -> digest)."""

    def __init__(self, remote):
        self.remote, self.local, self.calls, self.fail = remote, set(), [], {}
        self.image_ids = {}  # images the engine has (base images): reference -> image ID
        self.stream_errors = {}  # an error reported inside a stream (not raised): call -> message

    def inspect_image(self, reference):
        self._call("inspect_image", reference)
        if reference not in self.image_ids:
            raise ImageNotFound(f"No such image: {reference}")
        found = self.image_ids[reference]
        return found if isinstance(found, dict) else {"Id": found, "RepoDigests": []}

    def _call(self, name, *args):
        self.calls.append((name,) + args)
        if name in self.fail:
            raise self.fail[name]

    def inspect_distribution(self, reference, auth_config=None):
        self._call("inspect", reference, auth_config)
        if reference not in self.remote:
            raise api_error(404, "manifest unknown")
        return {"Descriptor": {"digest": self.remote[reference]}}

    def pull(self, repository, tag, stream, decode, auth_config=None, platform=None):
        """The engine's pull API: a 404 for what the registry lacks; else the copy is replaced by the
        registry's image (with the digest it was pulled by) and the stream reports that digest."""
        reference = f"{repository}:{tag}"
        self._call("pull", reference, auth_config, platform)
        if "pull_stream" in self.stream_errors:
            return iter([{"status": "Pulling from x"}, {"errorDetail": {"message": self.stream_errors["pull_stream"]},
                                                        "error": self.stream_errors["pull_stream"]}])
        if reference not in self.remote:
            raise api_error(404, f"manifest for {reference} not found: manifest unknown")
        digest = self.remote[reference]
        self.local.add(reference)
        self.image_ids[reference] = {"Id": "sha256:" + "e" * 64, "RepoDigests": [f"{repository}@{digest}"]}
        return iter([{"status": f"Pulling from {repository}", "id": tag}, {"status": f"Digest: {digest}"},
                     {"status": f"Status: Downloaded newer image for {reference}"}])

    def build(self, **kwargs):
        self._call("build", kwargs["tag"])
        self.local.add(kwargs["tag"])
        return iter([{"stream": "Step 1/1 : FROM scratch\n"}, {"stream": "Successfully built 1\n"}])

    def push(self, repository, tag, stream, decode, auth_config=None):
        self._call("push", f"{repository}:{tag}", auth_config)
        self.remote[f"{repository}:{tag}"] = NEW
        return iter([{"status": "Pushed"}, {"aux": {"Tag": tag, "Digest": NEW}}])

    def images(self, name, quiet):
        return [name] if name in self.local else []

    def tag(self, reference, repository, tag):
        self._call("tag", reference, f"{repository}:{tag}")
        self.local.add(f"{repository}:{tag}")


class FakeContainer:
    id = "c0ffee"
    status = "running"
    attrs = {"State": {"ExitCode": 0}}

    def __init__(self, calls):
        self.calls = calls

    def reload(self):
        pass

    def logs(self, tail):
        return b"listening\n"

    def remove(self, force):
        self.calls.append(("remove container",))


class FakeDocker:
    def __init__(self, remote=None):
        self.api = FakeAPI(dict(remote or {}))
        test = self

        class Images:
            def get(self, reference):
                if reference not in test.api.local:
                    raise ImageNotFound("no such image")
                return reference

            def remove(self, reference):
                test.api._call("remove image", reference)
                test.api.local.discard(reference)

        class Containers:
            def run(self, reference, **kwargs):
                test.api._call("run", reference, kwargs)
                return FakeContainer(test.api.calls)

        self.images, self.containers = Images(), Containers()

    def ping(self):
        return True


class FakeResponse(io.BytesIO):
    def __init__(self, status=200, body=b"", headers=None):
        super().__init__(body)
        self.status, self.headers = status, headers or {}


class FakeRegistryHTTP:
    """open_url: the registry's /v2/ endpoints (tags, manifests), the smoke test's health URL."""

    def __init__(self, tags=None, digests=None):
        self.tags, self.digests, self.calls, self.fail = list(tags or []), dict(digests or {}), [], {}

    def __call__(self, url, method=None, headers=None, use_proxy=True, **kwargs):
        method = method or "GET"
        self.calls.append({"url": url, "method": method, "headers": headers or {}, "use_proxy": use_proxy})
        if method in self.fail:
            code = self.fail[method]
            raise HTTPError(url, code, {401: "Unauthorized", 405: "Method Not Allowed"}.get(code, "Error"), {}, None)
        if url.endswith("/tags/list?n=1000"):
            return FakeResponse(body=json.dumps({"name": "x", "tags": self.tags}).encode())
        if "/manifests/" in url and method == "HEAD":
            digest = self.digests.get(url.rsplit("/", 1)[1])
            if digest is None:
                raise HTTPError(url, 404, "Not Found", {}, None)
            return FakeResponse(headers={"Docker-Content-Digest": digest})
        return FakeResponse(status=202 if method == "DELETE" else 200)


class FakeECR:
    def __init__(self, mutability="IMMUTABLE"):
        self.mutability, self.calls = mutability, []

    def get_authorization_token(self, **kwargs):
        self.calls.append(("get_authorization_token", kwargs))
        token = base64.b64encode(b"AWS:ecr-pass-w0rd").decode()
        return {"authorizationData": [{"authorizationToken": token, "proxyEndpoint": f"https://{ECR_HOST}"}]}

    def describe_repositories(self, repositoryNames):
        self.calls.append(("describe_repositories", repositoryNames))
        return {"repositories": [{"repositoryName": repositoryNames[0], "imageTagMutability": self.mutability}]}

    def batch_delete_image(self, repositoryName, imageIds):
        self.calls.append(("batch_delete_image", repositoryName, imageIds))
        return {"imageIds": imageIds, "failures": []}


@pytest.fixture
def context(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (app / "app.py").write_text("print('hi')\n")
    return app


def ctx_tag(path):
    return content_tag(content_hash(str(path), str(path / "Dockerfile"), {}, None, "linux/amd64"))


class Env:
    """The fakes of one test, and what the module did with them."""

    def __init__(self, monkeypatch, docker_client, http, ecr_client):
        self.docker, self.http, self.ecr, self.managers, self.warnings = docker_client, http, ecr_client, [], []
        self.monkeypatch = monkeypatch
        test = self

        class Recording(container_image.ImageManager):
            def __init__(self, module):
                test.managers.append(self)
                self.module = module
                super().__init__(module)

        monkeypatch.setattr(container_image, "ImageManager", Recording)
        monkeypatch.setattr(container_image.docker, "DockerClient", lambda base_url, timeout: docker_client)
        monkeypatch.setattr(container_image, "open_url", http)
        monkeypatch.setattr(container_image.SeedAWSModule, "seed_client", lambda self, service: ecr_client)
        monkeypatch.setattr(container_image.SeedAWSModule, "warn", lambda self, msg: test.warnings.append(msg))

    def run(self, args, check_mode=False):
        return run_module(self.monkeypatch, container_image, args, check_mode)

    @property
    def no_log_values(self):
        return self.managers[-1].module.no_log_values

    def calls(self, name):
        return [c for c in self.docker.api.calls if c[0] == name]


def make_env(monkeypatch, remote=None, tags=None, digests=None, mutability="IMMUTABLE"):
    return Env(monkeypatch, FakeDocker(remote), FakeRegistryHTTP(tags, digests), FakeECR(mutability))


def oci(context, **kwargs):
    return dict({"name": "seed/app", "registry": {"url": OCI}, "path": str(context)}, **kwargs)


def ecr_args(context, **kwargs):
    return dict({"name": "seed/app", "registry": {"type": "ecr"}, "path": str(context)}, **kwargs)


# --- registries and credentials ---------------------------------------------------------------------
def test_ecr_login_uses_the_decoded_token_and_its_endpoint(monkeypatch, context):
    env = make_env(monkeypatch)
    result = env.run(ecr_args(context))
    assert not result.get("failed"), result.get("msg")
    tag = ctx_tag(context)
    auth = {"username": "AWS", "password": "ecr-pass-w0rd", "serveraddress": ECR_HOST}
    assert env.calls("push") == [("push", f"{ECR_HOST}/seed/app:{tag}", auth)]
    assert all(call[2] == auth for call in env.calls("inspect"))
    assert result["image"]["pinned"] == f"{ECR_HOST}/seed/app@{NEW}"
    assert "ecr-pass-w0rd" in env.no_log_values
    assert env.http.calls == []  # no registry probe: ECR answered the token


def test_oci_credentials_go_to_the_engine_and_the_registry(monkeypatch, context):
    env = make_env(monkeypatch)
    args = oci(context, registry={"url": OCI, "username": "ci", "password": "oci-s3cret"})
    result = env.run(args)
    assert not result.get("failed"), result.get("msg")
    auth = {"username": "ci", "password": "oci-s3cret", "serveraddress": OCI}
    assert env.calls("push")[0][2] == auth and env.calls("inspect")[0][2] == auth
    assert "oci-s3cret" in env.no_log_values
    probe = env.http.calls[0]
    assert probe["url"] == f"http://{OCI}/v2/" and probe["use_proxy"] is False  # loopback: never a proxy


def test_a_remote_registry_follows_the_proxy_settings(monkeypatch, context):
    env = make_env(monkeypatch)
    env.run(oci(context, registry={"url": "registry.example.com"}), check_mode=True)
    assert env.http.calls[0]["url"] == "https://registry.example.com/v2/" and env.http.calls[0]["use_proxy"] is True


# --- present: tags ----------------------------------------------------------------------------------
def test_extra_tags_are_added_to_an_image_the_registry_has(monkeypatch, context):
    tag = ctx_tag(context)
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:{tag}": NEW})
    args = oci(context, extra_tags=["release-1", "release-1", tag])
    check = env.run(args, check_mode=True)
    assert check["actions"] == [f"push {OCI}/seed/app:release-1"] and env.calls("push") == []
    result = env.run(args)
    assert result["actions"] == check["actions"] and not result["built"]
    assert [c[1] for c in env.calls("pull")] == [f"{OCI}/seed/app:{tag}"]
    assert env.calls("tag") == [("tag", f"{OCI}/seed/app:{tag}", f"{OCI}/seed/app:release-1")]
    assert result["image"]["tags"] == [tag, "release-1"]
    assert env.run(args)["changed"] is False


def test_a_failed_pull_of_the_image_to_tag_fails_with_the_engines_reason(monkeypatch, context):
    """The engine reports some pull errors inside the stream; the task fails with that reason, not with a
    later 'no such image'."""
    tag = ctx_tag(context)
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:{tag}": NEW})
    env.docker.api.stream_errors["pull_stream"] = "unauthorized: authentication required"
    result = env.run(oci(context, extra_tags=["release-1"]))
    assert result["failed"] and result["msg"].startswith(f"push {OCI}/seed/app:release-1 failed: unauthorized")
    assert env.calls("tag") == [] and env.calls("push") == []


def test_a_tag_on_another_image_is_moved_where_tags_are_mutable(monkeypatch, context):
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:stable": OLD})
    result = env.run(oci(context, extra_tags=["stable"]), check_mode=True)
    assert result["actions"][-1] == f"push {OCI}/seed/app:stable (moving it from {OLD})"
    env = make_env(monkeypatch, remote={f"{ECR_HOST}/seed/app:stable": OLD}, mutability="MUTABLE")
    result = env.run(ecr_args(context, extra_tags=["stable"]))
    assert not result.get("failed"), result.get("msg")
    assert result["actions"][-1] == f"push {ECR_HOST}/seed/app:stable (moving it from {OLD})"


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_immutable_tag_on_another_image_fails_before_anything_is_built(monkeypatch, context, check_mode):
    env = make_env(monkeypatch, remote={f"{ECR_HOST}/seed/app:release-1": OLD})
    result = env.run(ecr_args(context, extra_tags=["release-1"]), check_mode=check_mode)
    assert result.get("failed")
    assert f"release-1 (now {OLD})" in result["msg"] and "IMMUTABLE" in result["msg"]
    assert "nothing was built or pushed" in result["msg"]
    assert env.calls("build") == [] and env.calls("push") == []


def git(path, *args):
    subprocess.run(["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


def test_git_tag_only_for_a_context_without_uncommitted_changes(monkeypatch, context):
    git(context.parent, "init", "-q")
    git(context.parent, "add", "-A")
    git(context.parent, "commit", "-qm", "app")
    commit = subprocess.run(["git", "-C", str(context), "rev-parse", "--short=12", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    env = make_env(monkeypatch)
    clean = env.run(oci(context, git_commit_tag=True), check_mode=True)
    assert clean["image"]["tags"] == [ctx_tag(context), f"git-{commit}"] and env.warnings == []
    (context.parent / "outside.txt").write_text("not in the context")
    assert env.run(oci(context, git_commit_tag=True), check_mode=True)["image"]["tags"][1] == f"git-{commit}"

    (context / "app.py").write_text("print('changed, not committed')\n")
    (context / "new.txt").write_text("untracked")
    dirty = env.run(oci(context, git_commit_tag=True), check_mode=True)
    assert dirty["image"]["tags"] == [ctx_tag(context)]
    assert not any("git-" in a for a in dirty["actions"])
    assert len(env.warnings) == 1 and f"not tagging git-{commit}" in env.warnings[0]
    assert "app.py, new.txt" in env.warnings[0]


def test_git_commit_tag_outside_a_repository_names_the_field(monkeypatch, context):
    env = make_env(monkeypatch)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(context.parent))
    result = env.run(oci(context, git_commit_tag=True), check_mode=True)
    assert result.get("failed") and result["msg"].startswith("git_commit_tag:")


# --- base images ------------------------------------------------------------------------------------
BASED = "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE} AS app\nCOPY --from=tools:1 /bin/t /bin/\nCOPY app.py /\n"


def test_the_base_images_the_build_takes_are_part_of_the_content_tag(monkeypatch, context):
    """The engine's copy of a base (what the build takes, pull=False) by its image ID; a base the engine
    lacks by the digest its registry has (what the build would pull); a new base behind the same tag is a
    new content tag, so a rebuild."""
    (context / "Dockerfile").write_text(BASED)
    env = make_env(monkeypatch, remote={"tools:1": "sha256:" + "7" * 64})
    env.docker.api.image_ids["python:3.12-slim"] = "sha256:" + "a" * 64
    first = env.run(oci(context), check_mode=True)
    assert first["image"]["bases"] == {"python:3.12-slim": "sha256:" + "a" * 64, "tools:1": "sha256:" + "7" * 64}
    assert ("inspect", "tools:1", None) in env.calls("inspect")  # not the push registry's: no credentials sent

    env.docker.api.image_ids["python:3.12-slim"] = "sha256:" + "b" * 64  # a security update pulled
    second = env.run(oci(context), check_mode=True)
    assert second["image"]["tag"] != first["image"]["tag"]
    assert second["actions"] == [f"build {OCI}/seed/app:{second['image']['tag']}",
                                 f"push {OCI}/seed/app:{second['image']['tag']}"]
    # A pulled copy counts by the digest it was pulled by: what its registry gives another machine.
    env.docker.api.image_ids["python:3.12-slim"] = {"Id": "sha256:" + "b" * 64,
                                                    "RepoDigests": ["python@sha256:" + "d" * 64]}
    pulled = env.run(oci(context), check_mode=True)
    assert pulled["image"]["bases"]["python:3.12-slim"] == "sha256:" + "d" * 64
    env.docker.api.image_ids.pop("python:3.12-slim")
    env.docker.api.remote["python:3.12-slim"] = "sha256:" + "d" * 64
    assert env.run(oci(context), check_mode=True)["image"]["tag"] == pulled["image"]["tag"]
    # Build args pick the base: the one named is looked up, the default is not.
    third = env.run(oci(context, build_args={"BASE_IMAGE": "python:3.12-slim@sha256:" + "c" * 64}), check_mode=True)
    assert third["image"]["bases"]["python:3.12-slim@sha256:" + "c" * 64] == "sha256:" + "c" * 64
    assert ("inspect_image", "python:3.12-slim@sha256:" + "c" * 64) not in env.calls("inspect_image")  # pinned


def test_a_base_image_that_cannot_be_resolved_is_left_out_with_a_warning(monkeypatch, context):
    (context / "Dockerfile").write_text("FROM registry.example.com/base:1\nCOPY app.py /\n")
    env = make_env(monkeypatch)
    result = env.run(oci(context), check_mode=True)
    assert not result.get("failed") and result["image"]["bases"] == {"registry.example.com/base:1": None}
    assert any(w.startswith("base image registry.example.com/base:1 is not on the Docker engine") for w in env.warnings)


PY = "sha256:" + "5" * 64
TOOLS = "sha256:" + "7" * 64


def test_pull_bases_pulls_each_base_and_counts_the_digest_pulled(monkeypatch, context):
    """pull_bases: each unpinned base is pulled (for the build's platform, before the build) and counts by
    the digest the pull gave, not by the stale copy the engine had; check mode pulls nothing and predicts
    the same tag from the registry's digests; a new image behind a base's tag is a rebuild."""
    (context / "Dockerfile").write_text(BASED)
    env = make_env(monkeypatch, remote={"python:3.12-slim": PY, "tools:1": TOOLS})
    env.docker.api.image_ids["python:3.12-slim"] = "sha256:" + "a" * 64  # a stale copy
    check = env.run(oci(context, pull_bases=True), check_mode=True)
    assert not check.get("failed"), check.get("msg")
    assert env.calls("pull") == [] and check["image"]["bases"] == {"python:3.12-slim": PY, "tools:1": TOOLS}

    result = env.run(oci(context, pull_bases=True))
    assert not result.get("failed"), result.get("msg")
    assert env.calls("pull") == [("pull", "python:3.12-slim", None, "linux/amd64"),
                                 ("pull", "tools:1", None, "linux/amd64")]
    names = [c[0] for c in env.docker.api.calls]
    assert names.index("build") > max(i for i, name in enumerate(names) if name == "pull")
    assert result["image"]["tag"] == check["image"]["tag"] and result["image"]["bases"] == check["image"]["bases"]
    assert result["actions"] == check["actions"] and result["built"]

    # Without pull_bases the same copy (now the pulled one) gives the same tag: nothing to do.
    assert env.run(oci(context), check_mode=True)["changed"] is False
    env.docker.api.remote["python:3.12-slim"] = "sha256:" + "6" * 64  # a security update published
    assert env.run(oci(context), check_mode=True)["changed"] is False  # the engine's copy is what it was
    update = env.run(oci(context, pull_bases=True))
    assert update["image"]["tag"] != result["image"]["tag"] and update["built"] and update["pushed"]
    assert update["image"]["bases"]["python:3.12-slim"] == "sha256:" + "6" * 64


def test_pull_bases_skips_pinned_bases_and_sends_the_push_registrys_credentials_to_its_own(monkeypatch, context):
    (context / "Dockerfile").write_text(f"FROM {OCI}/base/python:3\nCOPY --from=tools@{TOOLS} /t /t\n")
    env = make_env(monkeypatch, remote={f"{OCI}/base/python:3": PY})
    args = oci(context, pull_bases=True, registry={"url": OCI, "username": "ci", "password": "oci-s3cret"})
    result = env.run(args)
    assert not result.get("failed"), result.get("msg")
    auth = {"username": "ci", "password": "oci-s3cret", "serveraddress": OCI}
    assert env.calls("pull") == [("pull", f"{OCI}/base/python:3", auth, "linux/amd64")]
    assert result["image"]["bases"] == {f"{OCI}/base/python:3": PY, f"tools@{TOOLS}": TOOLS}


@pytest.mark.parametrize("check_mode", [False, True])
def test_pull_bases_fails_naming_the_option_when_a_base_cannot_be_had(monkeypatch, context, check_mode):
    (context / "Dockerfile").write_text("FROM registry.example.com/base:1\nCOPY app.py /\n")
    env = make_env(monkeypatch)
    env.docker.api.image_ids["registry.example.com/base:1"] = "sha256:" + "a" * 64  # a copy does not do
    result = env.run(oci(context, pull_bases=True), check_mode=check_mode)
    assert result["failed"]
    assert result["msg"].startswith("pull_bases: the base image registry.example.com/base:1 could not be ")
    assert "manifest unknown" in result["msg"] and "nothing was built or pushed" in result["msg"]
    assert env.calls("build") == [] and env.calls("push") == []


def test_pull_bases_reads_an_error_reported_inside_the_pull_stream(monkeypatch, context):
    """The engine reports some pull failures in the stream, not as an HTTP error: still a failure (the
    SDK's images.pull would have gone on with the old copy)."""
    (context / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY app.py /\n")
    env = make_env(monkeypatch, remote={"python:3.12-slim": PY})
    env.docker.api.image_ids["python:3.12-slim"] = "sha256:" + "a" * 64
    env.docker.api.stream_errors["pull_stream"] = "toomanyrequests: pull rate limit"
    result = env.run(oci(context, pull_bases=True))
    assert result["failed"] and result["msg"].startswith("pull_bases: the base image python:3.12-slim could not")
    assert "toomanyrequests" in result["msg"] and env.calls("build") == []


# --- absent -----------------------------------------------------------------------------------------
def test_absent_without_a_tag_deletes_the_content_tag_of_path(monkeypatch, context):
    tag = ctx_tag(context)
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:{tag}": NEW}, tags=[tag], digests={tag: NEW})
    check = env.run(oci(context, state="absent"), check_mode=True)
    assert check["actions"] == [f"delete {OCI}/seed/app:{tag} ({NEW})"]
    assert not [c for c in env.http.calls if c["method"] == "DELETE"]
    result = env.run(oci(context, state="absent"))
    assert result["actions"] == check["actions"] and result["image"]["tag"] == tag
    (delete,) = [c for c in env.http.calls if c["method"] == "DELETE"]
    assert delete["url"] == f"http://{OCI}/v2/seed/app/manifests/{NEW}" and delete["use_proxy"] is False


@pytest.mark.parametrize("check_mode", [True, False])
def test_oci_refuses_to_delete_a_tag_whose_image_has_other_tags(monkeypatch, context, check_mode):
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:v1": NEW, f"{OCI}/seed/app:stable": NEW},
                   tags=["v1", "stable", "v0"], digests={"v1": NEW, "stable": NEW, "v0": OLD})
    result = env.run(oci(context, state="absent", tag="v1"), check_mode=check_mode)
    assert result.get("failed")
    assert "also tagged stable," in result["msg"] and "v0" not in result["msg"] and "Nothing was deleted" in result["msg"]
    assert not [c for c in env.http.calls if c["method"] == "DELETE"]


def test_oci_delete_sends_the_credentials(monkeypatch, context):
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:v1": NEW}, tags=["v1"], digests={"v1": NEW})
    args = oci(context, state="absent", tag="v1", registry={"url": OCI, "username": "ci", "password": "pw"})
    assert not env.run(args).get("failed")
    (delete,) = [c for c in env.http.calls if c["method"] == "DELETE"]
    assert delete["headers"]["Authorization"] == "Basic " + base64.b64encode(b"ci:pw").decode()


class TokenRegistryHTTP(FakeRegistryHTTP):
    """A registry with token authentication, as the distribution token spec describes it (Harbor, GitLab,
    distribution's token auth): every /v2/ request without a token good for its scope is answered 401 with
    ``WWW-Authenticate: Bearer realm=...,service=...,scope=repository:<name>:<actions>``; the realm gives a
    token for the scope asked. A DELETE needs the ``delete`` action, reads ``pull``."""

    REALM = "https://auth.example/token"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued = []

    def __call__(self, url, method=None, headers=None, use_proxy=True, **kwargs):
        if url.startswith(self.REALM):
            scope = parse_qs(urlsplit(url).query)["scope"][0]
            self.issued.append(scope)
            return FakeResponse(body=json.dumps({"token": f"tok-{len(self.issued)}"}).encode())
        if "/v2/" in url and "/v2/" != url[-4:]:
            scope = "repository:seed/app:" + ("delete" if method == "DELETE" else "pull")
            granted = {f"Bearer tok-{i + 1}": s for i, s in enumerate(self.issued)}
            if granted.get((headers or {}).get("Authorization")) != scope:
                self.calls.append({"url": url, "method": method or "GET", "headers": headers or {}, "status": 401})
                challenge = f'Bearer realm="{self.REALM}",service="registry",scope="{scope}"'
                raise HTTPError(url, 401, "Unauthorized", {"WWW-Authenticate": challenge}, None)
        return super().__call__(url, method=method, headers=headers, use_proxy=use_proxy, **kwargs)


def test_token_registry_delete_fetches_a_token_with_the_delete_scope(monkeypatch, context):
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:v1": NEW})
    env.http = TokenRegistryHTTP(["v1"], {"v1": NEW})
    monkeypatch.setattr(container_image, "open_url", env.http)
    result = env.run(oci(context, state="absent", tag="v1", registry={"url": OCI, "username": "ci", "password": "pw"}))
    assert not result.get("failed"), result.get("msg")
    assert env.http.issued == ["repository:seed/app:pull", "repository:seed/app:delete"]
    (delete,) = [c for c in env.http.calls if c["method"] == "DELETE" and "status" not in c]
    assert delete["headers"]["Authorization"] == "Bearer tok-2"
    assert {"tok-1", "tok-2"} <= env.no_log_values


def test_token_registry_refusing_the_scope_fails_once_naming_the_credentials(monkeypatch, context):
    """The realm's token for delete is refused again: no loop, the failure names the credentials."""
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:v1": NEW})
    env.http = TokenRegistryHTTP(["v1"], {"v1": NEW})

    def refuse_delete(url, method=None, headers=None, use_proxy=True, **kwargs):
        if method == "DELETE" and (headers or {}).get("Authorization", "").startswith("Bearer tok-2"):
            challenge = f'Bearer realm="{TokenRegistryHTTP.REALM}",scope="repository:seed/app:delete",' \
                        'error="insufficient_scope"'
            raise HTTPError(url, 401, "Unauthorized", {"WWW-Authenticate": challenge}, None)
        return env.http(url, method=method, headers=headers, use_proxy=use_proxy, **kwargs)

    monkeypatch.setattr(container_image, "open_url", refuse_delete)
    result = env.run(oci(context, state="absent", tag="v1", registry={"url": OCI, "username": "ci", "password": "pw"}))
    assert result.get("failed") and "HTTP 401" in result["msg"] and "registry.username" in result["msg"], result
    assert env.http.issued == ["repository:seed/app:pull", "repository:seed/app:delete"]


def test_ecr_deletes_by_tag_only(monkeypatch, context):
    env = make_env(monkeypatch, remote={f"{ECR_HOST}/seed/app:v1": NEW})
    result = env.run(ecr_args(context, state="absent", tag="v1"))
    assert not result.get("failed"), result.get("msg")
    assert ("batch_delete_image", "seed/app", [{"imageTag": "v1"}]) in env.ecr.calls
    assert env.http.calls == []  # no tag listing on ECR


def test_a_bad_tag_to_delete_fails_before_any_call(monkeypatch, context):
    env = make_env(monkeypatch)
    monkeypatch.setattr(container_image.docker, "DockerClient", lambda **kw: pytest.fail("Docker called"))
    result = env.run(oci(context, state="absent", tag="not a tag"))
    assert result.get("failed") and result["msg"].startswith("tag:") and env.http.calls == []


# --- errors with their step -------------------------------------------------------------------------
@pytest.mark.parametrize("error, reason", [
    (api_error(500, "received unexpected HTTP status: 500"), "500 Server Error"),
    (requests.exceptions.ConnectionError("Connection aborted"), "Connection aborted"),
])
def test_a_push_error_names_the_push(monkeypatch, context, error, reason):
    env = make_env(monkeypatch)
    env.docker.api.fail["push"] = error
    result = env.run(oci(context))
    assert result.get("failed")
    assert result["msg"].startswith(f"push {OCI}/seed/app:{ctx_tag(context)} failed: ") and reason in result["msg"]


def test_a_build_timeout_names_the_build_and_the_option(monkeypatch, context):
    env = make_env(monkeypatch)
    env.docker.api.fail["build"] = requests.exceptions.ReadTimeout("Read timed out.")
    result = env.run(oci(context, timeout=30))
    assert result.get("failed")
    assert result["msg"].startswith(f"build {OCI}/seed/app:") and "gave no answer within 30 s (option timeout)" in result["msg"]


def test_a_lookup_error_names_the_lookup(monkeypatch, context):
    env = make_env(monkeypatch)
    env.docker.api.fail["inspect"] = requests.exceptions.ConnectionError("engine went away")
    result = env.run(oci(context), check_mode=True)
    assert result.get("failed") and result["msg"].startswith(f"look up {OCI}/seed/app:") and "engine went away" in result["msg"]


@pytest.mark.parametrize("code, hint", [(405, "storage.delete.enabled"), (401, "registry.username")])
def test_a_refused_delete_says_why(monkeypatch, context, code, hint):
    env = make_env(monkeypatch, remote={f"{OCI}/seed/app:v1": NEW}, tags=["v1"], digests={"v1": NEW})
    env.http.fail["DELETE"] = code
    result = env.run(oci(context, state="absent", tag="v1"))
    assert result.get("failed")
    assert result["msg"].startswith(f"delete {OCI}/seed/app:v1 ({NEW}) failed: HTTP {code}") and hint in result["msg"]


def test_a_local_image_that_cannot_be_removed_is_reported(monkeypatch, context):
    env = make_env(monkeypatch)
    env.docker.api.local.add(f"{OCI}/seed/app:v1")
    env.docker.api.fail["remove image"] = api_error(409, "image is being used by running container")
    result = env.run(oci(context, state="absent", tag="v1"))
    assert result.get("failed")
    assert result["msg"].startswith(f"remove local image {OCI}/seed/app:v1 failed: 409 Client Error")


# --- smoke test -------------------------------------------------------------------------------------
def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_smoke_test_probes_loopback_without_a_proxy_and_keeps_env_secret(monkeypatch, context):
    env = make_env(monkeypatch)
    port = free_port()
    result = env.run(oci(context, smoke_test={"enabled": True, "port": port, "env": {"API_KEY": "smoke-s3cret"}}))
    assert not result.get("failed"), result.get("msg")
    (run,) = env.calls("run")
    assert run[2]["environment"] == {"API_KEY": "smoke-s3cret", "PORT": str(port)}
    health = [c for c in env.http.calls if c["url"] == f"http://127.0.0.1:{port}/health"]
    assert health and all(c["use_proxy"] is False for c in health)
    assert "smoke-s3cret" in env.no_log_values
    assert ("remove container",) in env.docker.api.calls


def test_smoke_test_refuses_a_port_that_already_answers(monkeypatch, context):
    env = make_env(monkeypatch)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = env.run(oci(context, smoke_test={"enabled": True, "port": port}))
    assert result.get("failed")
    assert result["msg"].startswith("smoke_test.port: ") and str(port) in result["msg"]
    assert env.calls("run") == [] and env.calls("push") == []


def test_smoke_test_container_errors_name_the_smoke_test(monkeypatch, context):
    env = make_env(monkeypatch)
    env.docker.api.fail["run"] = api_error(500, "failed to create shim")
    result = env.run(oci(context, smoke_test={"enabled": True, "port": free_port()}))
    assert result.get("failed")
    assert result["msg"].startswith(f"smoke test of {OCI}/seed/app:") and "failed to create shim" in result["msg"]
    assert env.calls("push") == []
