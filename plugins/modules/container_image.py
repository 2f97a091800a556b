#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: container_image
short_description: Build an image, smoke-test it and push it to ECR or any OCI registry, tagged by content
version_added: 1.0.0
description:
  - Builds a container image from a context and Dockerfile with the Docker SDK, tags it with the content hash of
    the build (every file the C(.dockerignore) lets through, the Dockerfile, build args, target and platform), and
    pushes it to Amazon ECR (logging in with ECR's authorization token) or to any OCI registry.
  - When the registry already has that tag, nothing is built and nothing is pushed (zero bytes). The digest-pinned
    reference (C(registry/name@sha256:...)) that task definitions should use is returned either way.
  - Optionally runs the fresh image locally before pushing, waits for its health endpoint, and fails with the
    container's logs if it never becomes healthy. A failing build fails with the output of the failing step.
  - Check mode says whether a run would build and push, without building or pushing.
  - O(state=absent) deletes a tag from the registry (and the local image).
author:
  - Seed platform team (@seed-platform)
requirements:
  - docker (the Python Docker SDK) >= 6.0
options:
  name:
    description: Repository name in the registry, for example V(seed/backend).
    type: str
    required: true
  state:
    description: V(present) builds and pushes when needed; V(absent) deletes O(tag) from the registry.
    type: str
    choices: [present, absent]
    default: present
  registry:
    description: Where the image goes.
    type: dict
    required: true
    suboptions:
      type:
        description:
          - V(ecr) logs in with ECR's authorization token (the AWS connection options of the module apply).
          - V(oci) is any registry speaking the OCI distribution API, with optional O(registry.username) and
            O(registry.password).
        type: str
        choices: [ecr, oci]
        default: oci
      url:
        description:
          - Registry host (and port), for example V(123456789012.dkr.ecr.eu-west-1.amazonaws.com) or
            V(registry.example.com:5000). For V(ecr) it defaults to the account's registry.
        type: str
      username:
        description: User name for an V(oci) registry.
        type: str
      password:
        description: Password or token for an V(oci) registry.
        type: str
      insecure:
        description: Talk plain HTTP to the registry. Loopback registries (C(127.0.0.1), C(localhost)) always do.
        type: bool
        default: false
  path:
    description: The build context (a directory). Required with O(state=present).
    type: path
  dockerfile:
    description: Dockerfile, relative to O(path).
    type: str
    default: Dockerfile
  build_args:
    description: Build arguments, for example C(BASE_IMAGE). Never put a credential here; they stay in the image.
    type: dict
    default: {}
  target:
    description: Build stage to stop at.
    type: str
  platform:
    description: Platform to build for.
    type: str
    default: linux/amd64
  git_commit_tag:
    description: Also tag the image with C(git-<short commit>) of the repository holding O(path).
    type: bool
    default: false
  extra_tags:
    description: More tags to push the same image under (for example a release name).
    type: list
    elements: str
    default: []
  tag:
    description: With O(state=absent), the tag to delete (default - the content tag of O(path)).
    type: str
  smoke_test:
    description: Run the fresh image before pushing it.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Whether to run the smoke test.
        type: bool
        default: false
      port:
        description:
          - Port the container listens on. The container runs on the host network (the local engine has no
            bridge), told its port through the C(PORT) environment variable.
        type: int
      path:
        description: Health endpoint.
        type: str
        default: /health
      env:
        description: Environment of the test container.
        type: dict
        default: {}
      timeout:
        description: Seconds to wait for the health endpoint.
        type: int
        default: 60
  docker_host:
    description: Docker engine to use. Defaults to the C(DOCKER_HOST) environment variable, then the local socket.
    type: str
  timeout:
    description: Seconds a single Docker API call may take.
    type: int
    default: 600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - seed.aws_migration.attributes
notes:
  - Runs where the Docker engine is reachable (usually the controller, with C(delegate_to) or a local play).
"""

EXAMPLES = r"""
- name: Build and push the backend to ECR
  seed.aws_migration.container_image:
    name: seed/backend
    registry:
      type: ecr
    path: "{{ playbook_dir }}/../examples/apps/backend"
    smoke_test:
      enabled: true
      port: 8000
  register: backend_image

- name: Use the digest-pinned reference
  ansible.builtin.debug:
    msg: "{{ backend_image.image.pinned }}"

- name: Push to the company's own registry
  seed.aws_migration.container_image:
    name: apps/frontend
    registry:
      url: registry.example.com
      username: ci
      password: "{{ registry_token }}"
    path: apps/frontend
    build_args:
      BASE_IMAGE: registry.example.com/base/python:3.12-slim
"""

RETURN = r"""
actions:
  description: What was (or, in check mode, would be) done.
  returned: always
  type: list
  elements: str
  sample: ["build 127.0.0.1:5000/seed/backend:ctx-3f2a9c1b0d4e5f67", "push 127.0.0.1:5000/seed/backend:ctx-3f2a9c1b0d4e5f67"]
image:
  description: The image.
  returned: always
  type: dict
  contains:
    repository:
      description: Registry host and repository.
      type: str
      sample: 127.0.0.1:5000/seed/backend
    tag:
      description: The content tag.
      type: str
      sample: ctx-3f2a9c1b0d4e5f67
    digest:
      description: Manifest digest in the registry (null in check mode when it would be built).
      type: str
      sample: sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270
    pinned:
      description:
        - The digest-pinned reference for task definitions. In check mode, when the image would be built, the
          tag reference (C(repository:tag)) stands in for it.
      type: str
      sample: 127.0.0.1:5000/seed/backend@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270
    tags:
      description: Every tag pushed for this image.
      type: list
      elements: str
      sample: [ctx-3f2a9c1b0d4e5f67, git-1a2b3c4]
built:
  description: Whether an image was built.
  returned: always
  type: bool
pushed:
  description: Whether anything was pushed.
  returned: always
  type: bool
"""

import base64
import os
import time

try:
    import docker
    from docker.errors import APIError
    from docker.errors import DockerException
    from docker.errors import ImageNotFound
    from docker.errors import NotFound
except ImportError:
    docker = None

from ansible.module_utils.urls import open_url

from ansible_collections.seed.aws_migration.plugins.module_utils import ecr
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import build_diff
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_hash
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_tag
from ansible_collections.seed.aws_migration.plugins.module_utils.images import validate_build
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class ImageManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.dockerfile = validate_build(self.params)  # before any Docker or AWS call
        self.actions = []
        self.built = self.pushed = False
        self.registry, self.auth = self._registry()
        self.repository = f"{self.registry}/{self.params['name']}"
        self.docker = self._docker()

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        return None if self.module.check_mode else call(*args, **kwargs)

    # -- connections ----------------------------------------------------------------------------
    def _registry(self):
        spec = self.params["registry"]
        if spec["type"] == "ecr":
            username, password, endpoint = ecr.get_authorization_token(self.module.seed_client("ecr"),
                                                                       module=self.module)
            host = spec.get("url") or endpoint.split("://", 1)[-1].rstrip("/")
            return host, {"username": username, "password": password, "serveraddress": host}
        if not spec.get("url"):
            raise ValidationError("registry.url", "is required for an oci registry")
        host = spec["url"].split("://", 1)[-1].rstrip("/")
        auth = None
        if spec.get("username"):
            auth = {"username": spec["username"], "password": spec.get("password") or "", "serveraddress": host}
        self._probe_registry(host)
        return host, auth

    def _scheme(self, host):
        return "http" if self.params["registry"].get("insecure") or host.split(":")[0] in LOOPBACK else "https"

    def _probe_registry(self, host):
        """Fail early, naming the field, when the registry does not answer at all."""
        try:
            open_url(f"{self._scheme(host)}://{host}/v2/", timeout=10, validate_certs=True)
        except Exception as e:  # pylint: disable=broad-exception-caught
            status = getattr(e, "code", None)
            if status in (401, 403):
                return  # it answers; credentials are checked by the push
            raise ValidationError("registry.url", f"cannot reach the registry at {host}: {e}") from None

    def _docker(self):
        if docker is None:
            raise SeedAWSError(message="The Python Docker SDK (docker) is required: pip install docker")
        base_url = self.params.get("docker_host") or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        try:
            client = docker.DockerClient(base_url=base_url, timeout=self.params["timeout"])
            client.ping()
        except DockerException as e:
            raise ValidationError("docker_host", f"cannot reach the Docker engine at {base_url}: {e}") from None
        return client

    # -- present --------------------------------------------------------------------------------
    def present(self):
        p = self.params
        tag = content_tag(content_hash(p["path"], self.dockerfile, p["build_args"], p.get("target"), p["platform"]))
        tags = [tag] + ([self._git_tag()] if p["git_commit_tag"] else []) + list(p["extra_tags"])
        remote = {t: self._remote_digest(t) for t in tags}
        before = {"tags": sorted(t for t, d in remote.items() if d), "digest": remote[tag]}
        digest = remote[tag]
        reference = f"{self.repository}:{tag}"
        if not digest:
            self._do(f"build {reference}", self._build, reference)
            if p["smoke_test"].get("enabled") and not self.module.check_mode:
                self._smoke_test(reference)
            digest = self._do(f"push {reference}", self._push, tag)
        for extra in tags[1:]:
            if remote[extra] != digest or not digest:
                self._do(f"push {self.repository}:{extra}", self._tag_and_push, reference, extra)
        after = {"tags": sorted(tags), "digest": digest if digest else "(known after push)"}
        return tag, tags, digest, before, after

    def _git_tag(self):
        rc, out, err = self.module.run_command(["git", "-C", self.params["path"], "rev-parse", "--short=12", "HEAD"])
        if rc != 0:
            raise ValidationError("git_commit_tag", f"{self.params['path']} is not in a git repository: {err.strip()}")
        return f"git-{out.strip()}"

    def _remote_digest(self, tag):
        """Digest of ``tag`` in the registry, or None when the registry does not have it."""
        try:
            found = self.docker.api.inspect_distribution(f"{self.repository}:{tag}", auth_config=self.auth)
        except APIError as e:
            text = str(e).lower()
            if e.status_code in (401, 403) and "denied" not in text and "unauthorized" not in text:
                return None
            if "manifest unknown" in text or "not found" in text or e.status_code == 404 or "name unknown" in text:
                return None
            raise SeedAWSError(message=f"Failed to look up {self.repository}:{tag} in the registry: {e}") from None
        return found.get("Descriptor", {}).get("digest")

    def _build(self, reference):
        p = self.params
        lines = []
        try:
            stream = self.docker.api.build(path=p["path"], dockerfile=p["dockerfile"], tag=reference,
                                           buildargs={k: str(v) for k, v in p["build_args"].items()},
                                           target=p.get("target"), platform=p["platform"], rm=True, forcerm=True,
                                           decode=True, pull=False)
            for chunk in stream:
                if "stream" in chunk:
                    lines.extend(line for line in chunk["stream"].splitlines() if line.strip())
                if "error" in chunk or "errorDetail" in chunk:
                    detail = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error")
                    raise SeedAWSError(message=f"Build of {reference} failed: {detail}\n" + "\n".join(lines[-25:]))
        except APIError as e:
            raise SeedAWSError(message=f"Build of {reference} failed: {e}\n" + "\n".join(lines[-25:])) from None
        self.built = True

    def _push(self, tag):
        digest, errors = None, []
        for chunk in self.docker.api.push(self.repository, tag=tag, stream=True, decode=True, auth_config=self.auth):
            if chunk.get("error") or chunk.get("errorDetail"):
                errors.append((chunk.get("errorDetail") or {}).get("message") or chunk.get("error"))
            digest = (chunk.get("aux") or {}).get("Digest") or digest
        if errors or not digest:
            raise SeedAWSError(message=f"Push of {self.repository}:{tag} failed: {'; '.join(errors) or 'no digest'}")
        self.pushed = True
        return digest

    def _tag_and_push(self, reference, extra):
        if not self.docker.api.images(name=reference, quiet=True):
            self.docker.images.pull(reference, auth_config=self.auth)
        self.docker.api.tag(reference, self.repository, tag=extra)
        return self._push(extra)

    def _smoke_test(self, reference):
        smoke = self.params["smoke_test"]
        port = smoke["port"]
        env = dict(smoke.get("env") or {}, PORT=str(port))
        container = self.docker.containers.run(reference, detach=True, network_mode="host", environment=env,
                                               labels={"seed.aws_migration/smoke-test": "true"})
        url = f"http://127.0.0.1:{port}{smoke['path']}"
        deadline = time.monotonic() + smoke["timeout"]
        last = None
        try:
            while time.monotonic() < deadline:
                container.reload()
                if container.status in ("exited", "dead"):
                    last = f"the container exited with {container.attrs.get('State', {}).get('ExitCode')}"
                    break
                try:
                    with open_url(url, timeout=3) as response:
                        if response.status < 400:
                            return
                        last = f"{url} answered {response.status}"
                except Exception as e:  # pylint: disable=broad-exception-caught
                    last = f"{url}: {e}"
                time.sleep(1)
            logs = container.logs(tail=50).decode(errors="replace")
            raise SeedAWSError(message=f"Smoke test of {reference} failed ({last or 'timed out'}); nothing was "
                                       f"pushed. Container logs:\n{logs}")
        finally:
            container.remove(force=True)

    # -- absent ---------------------------------------------------------------------------------
    def absent(self):
        p = self.params
        tag = p.get("tag") or content_tag(content_hash(p["path"], self.dockerfile, p["build_args"], p.get("target"),
                                                       p["platform"]))
        digest = self._remote_digest(tag)
        before = {"tags": [tag] if digest else [], "digest": digest}
        if digest:
            self._do(f"delete {self.repository}:{tag} ({digest})", self._delete_manifest, digest)
        try:
            self.docker.images.get(f"{self.repository}:{tag}")
            self._do(f"remove local image {self.repository}:{tag}", self.docker.images.remove,
                     f"{self.repository}:{tag}")
        except (ImageNotFound, NotFound):
            pass
        return tag, [], None, before, {"tags": [], "digest": None}

    def _delete_manifest(self, digest):
        if self.params["registry"]["type"] == "ecr":
            ecr.batch_delete_image(self.module.seed_client("ecr"), self.params["name"], [{"imageDigest": digest}])
            return
        headers = {}
        if self.auth:
            token = base64.b64encode(f"{self.auth['username']}:{self.auth['password']}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        open_url(f"{self._scheme(self.registry)}://{self.registry}/v2/{self.params['name']}/manifests/{digest}",
                 method="DELETE", headers=headers, timeout=30)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        registry=dict(type="dict", required=True, options=dict(
            type=dict(type="str", default="oci", choices=["ecr", "oci"]),
            url=dict(type="str"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            insecure=dict(type="bool", default=False),
        )),
        path=dict(type="path"),
        dockerfile=dict(type="str", default="Dockerfile"),
        build_args=dict(type="dict", default={}),
        target=dict(type="str"),
        platform=dict(type="str", default="linux/amd64"),
        git_commit_tag=dict(type="bool", default=False),
        extra_tags=dict(type="list", elements="str", default=[]),
        tag=dict(type="str"),
        smoke_test=dict(type="dict", default={}, options=dict(
            enabled=dict(type="bool", default=False),
            port=dict(type="int"),
            path=dict(type="str", default="/health"),
            env=dict(type="dict", default={}),
            timeout=dict(type="int", default=60),
        )),
        docker_host=dict(type="str"),
        timeout=dict(type="int", default=600),
    )
    module = SeedAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        manager = ImageManager(module)
        run = manager.present if module.params["state"] == "present" else manager.absent
        tag, tags, digest, before, after = run()
    except SeedAWSError as e:
        module.fail_json_aws_error(e)
    result = {
        "changed": bool(manager.actions), "actions": manager.actions, "built": manager.built,
        "pushed": manager.pushed,
        "image": {"repository": manager.repository, "tag": tag, "digest": digest, "tags": tags,
                  # Without a digest (check mode, before a build) the tag stands in, so later tasks can plan.
                  "pinned": f"{manager.repository}@{digest}" if digest else f"{manager.repository}:{tag}"},
    }
    if module._diff:
        result["diff"] = build_diff(before, after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
