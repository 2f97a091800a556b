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
    the build (every file, symbolic link and directory the C(.dockerignore) lets through, with its permission bits,
    the Dockerfile, build args, target, platform, and the base images the Dockerfile names in C(FROM) and
    C(COPY --from) by the image each resolves to), and pushes it to Amazon ECR (logging in with ECR's
    authorization token) or to any OCI registry.
  - A base image resolves to the Docker engine's copy (the one the build uses) - by the registry digest it was
    pulled by, or its image ID when it was built or imported there - else to the digest its registry has for that
    tag (the one the build would pull), else - with a warning - to nothing.
    So a new base behind the same tag (a security update pulled, or published upstream) gives a new content
    tag, and a rebuild. With O(pull_bases) every base is pulled first (as C(docker build --pull) does), so an
    update published upstream is built on without a manual pull.
  - When the registry already has that tag, nothing is built and nothing is pushed (zero bytes). The digest-pinned
    reference (C(registry/name@sha256:...)) that task definitions should use is returned either way.
  - Optionally runs the fresh image locally before pushing, waits for its health endpoint, and fails with the
    container's logs if it never becomes healthy. A failing build fails with the output of the failing step.
  - Check mode says whether a run would build and push, without building or pushing.
  - O(state=absent) deletes a tag from the registry (and the local image). On ECR only that tag goes (the image
    too when it was its last tag). An OCI registry deletes images, not tags - every tag of the image would go -
    so the module refuses, naming them, when the image has other tags.
  - A failing Docker, registry or HTTP call fails the task with the step that failed (build, push, smoke test,
    delete, ...) and the reason.
author:
  - Seed platform team (@seed-platform)
requirements:
  - docker (the Python Docker SDK) >= 6.0
options:
  name:
    description:
      - Repository name in the registry, for example V(seed/backend).
      - With O(registry.type=ecr) it must follow ECR's rule (lowercase letters and digits separated by single
        C(.), C(_) or C(-), in C(/)-separated components); this is checked before anything is built.
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
        description:
          - Talk plain HTTP to the registry. Loopback registries (C(127.0.0.1), C(localhost)) always do, and are
            never reached through a proxy (C(HTTP_PROXY)); other hosts follow the proxy settings and C(NO_PROXY).
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
    description:
      - Build arguments, for example C(BASE_IMAGE). Never put a credential here; they stay in the image.
      - They are part of the content tag, and so is the base image each C(FROM) resolves to with them (see the
        description). A base pinned by digest (V(python:3.12-slim@sha256:...)) is taken at its word, with no
        lookup.
    type: dict
    default: {}
  target:
    description: Build stage to stop at.
    type: str
  platform:
    description: Platform to build for.
    type: str
    default: linux/amd64
  pull_bases:
    description:
      - Pull every base image the Dockerfile names (C(FROM), C(COPY --from)) that is not pinned by digest before
        the content tag is computed, like C(docker build --pull), so a new image behind a base's tag (a security
        update) is taken without a manual C(docker pull) - and, being part of the content tag, rebuilt on.
      - The base then counts by the digest the pull gave. In check mode, and with O(state=absent), nothing is
        pulled - the digest the base's registry has now stands in for it, which is what the pull would give.
      - Bases in the registry of O(registry) are pulled with its credentials; others with none (public images).
      - A base that cannot be pulled or looked up (unknown tag, unreachable or refusing registry) fails the task
        naming this option, before anything is built or pushed.
      - Off, the engine's copy of a base is taken as it is (the only way for bases made offline, as in the local
        default).
    type: bool
    default: false
  git_commit_tag:
    description:
      - Also tag the image with C(git-<commit>) (12 hex digits) of the repository holding O(path).
      - Only when the build context has no change git would report (modified, untracked or git-ignored files that
        docker would send); otherwise the tag is left out with a warning, since the image is not that commit's.
      - When the registry already has an O(extra_tags) or git tag on another image, the tag is moved - except on an
        ECR repository whose tags are immutable, where the task fails naming the tag before anything is built or
        pushed.
    type: bool
    default: false
  extra_tags:
    description: More tags to push the same image under (for example a release name).
    type: list
    elements: str
    default: []
  tag:
    description:
      - With O(state=absent), the tag to delete (default - the content tag of O(path), which must then exist with
        its O(dockerfile)).
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
          - It must be free on this machine when the test starts, else the task fails naming this option (the
            health check would reach what already listens there). Smoke tests of runs at the same time on the same
            port take turns.
        type: int
      path:
        description: Health endpoint.
        type: str
        default: /health
      env:
        description:
          - Environment of the test container.
          - Its values are treated as secrets (no_log) - they are masked wherever they appear in the task's output,
            so avoid short values like V(1) that would mask unrelated text.
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
    pull_bases: true   # build on what the registry has now for that tag (a patched base means a rebuild)
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
    bases:
      description:
        - The base images of the Dockerfile (C(FROM), C(COPY --from)), each with the image ID or digest it resolved
          to and that the content tag includes (null when it could not be resolved). Empty with O(state=absent)
          and O(tag).
      type: dict
      sample: {"python:3.12-slim": "sha256:9c4d0b3e2f1a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"}
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
import contextlib
import json
import os
import re
import socket
import tempfile
import time
from urllib.error import HTTPError
from urllib.error import URLError
from urllib.parse import urlencode

try:
    import fcntl
except ImportError:  # not on a POSIX controller: smoke tests on one port are then not serialised
    fcntl = None

try:
    import docker
    from docker.errors import APIError
    from docker.errors import DockerException
    from docker.errors import ImageNotFound
    from docker.errors import NotFound
    from docker.utils import parse_repository_tag
    from requests.exceptions import RequestException
    from requests.exceptions import Timeout as RequestsTimeout

    DOCKER_ERRORS = (DockerException, RequestException)
    DOCKER_TIMEOUTS = (RequestsTimeout,)
except ImportError:
    docker = None  # the module fails before any Docker call
    DOCKER_ERRORS = DOCKER_TIMEOUTS = ()

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.seed.aws_migration.plugins.module_utils import ecr
from ansible_collections.seed.aws_migration.plugins.module_utils.diff import build_diff
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import SeedAWSError
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.images import base_images
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_hash
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_tag
from ansible_collections.seed.aws_migration.plugins.module_utils.images import ecr_tag_is_immutable
from ansible_collections.seed.aws_migration.plugins.module_utils.images import git_changes
from ansible_collections.seed.aws_migration.plugins.module_utils.images import repo_digest
from ansible_collections.seed.aws_migration.plugins.module_utils.images import validate_build
from ansible_collections.seed.aws_migration.plugins.module_utils.modules import SeedAWSModule

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
# What a Docker, registry or HTTP call can raise besides our own errors: turned into a failure naming the step.
STEP_ERRORS = DOCKER_ERRORS + (URLError, UrlsConnectionError, OSError)
HTTP_HINTS = {
    401: " (the registry refused the credentials: registry.username / registry.password)",
    403: " (the registry refused the credentials: registry.username / registry.password)",
    405: " (the registry does not allow deleting: distribution needs storage.delete.enabled)",
}
MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])
MAX_TAG_PAGES = 100


def host_name(host):
    """The host of ``host[:port]`` (``[::1]`` stays bracketed)."""
    return host[:host.index("]") + 1] if host.startswith("[") and "]" in host else host.split(":")[0]


def port_in_use(port):
    """What holds ``port`` on this machine (a short description), or ``None`` when it is free."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return f"something already answers on 127.0.0.1:{port}"
    except OSError:
        pass
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("0.0.0.0", port))
    except OSError as e:
        return f"port {port} is in use ({e.strerror or e})"
    finally:
        probe.close()
    return None


@contextlib.contextmanager
def port_lock(port, timeout):
    """Serialise the smoke tests of this machine that use ``port`` (an exclusive lock on a file in the
    temporary directory), so two runs at once cannot probe each other's container."""
    if fcntl is None:
        yield
        return
    path = os.path.join(tempfile.gettempdir(), f"seed.aws_migration-smoke-test-{os.getuid()}-{port}.lock")
    with open(path, "a", encoding="utf-8") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ValidationError("smoke_test.port", f"another smoke test on port {port} has held it for "
                                                             f"{timeout} s ({path}); nothing was pushed") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _challenge_fields(challenge):
    """``realm``, ``service``, ``scope``, ... of a ``WWW-Authenticate: Bearer k="v",...`` challenge."""
    return dict(re.findall(r'(\w+)="([^"]*)"', challenge))


class ImageManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.dockerfile = validate_build(self.params)  # before any Docker or AWS call
        self.actions = []
        self.built = self.pushed = False
        self.bases = {}
        self._bearer = self._bearer_scope = None
        self.registry, self.auth = self._registry()
        self.repository = f"{self.registry}/{self.params['name']}"
        self.docker = self._docker()

    def _do(self, action, call, *args, **kwargs):
        self.actions.append(action)
        if self.module.check_mode:
            return None
        with self._step(action):
            return call(*args, **kwargs)

    @contextlib.contextmanager
    def _step(self, what):
        """Turn a Docker, registry or HTTP error of ``what`` into a failure that says what failed and why."""
        try:
            yield
        except SeedAWSError:
            raise
        except STEP_ERRORS as e:
            raise SeedAWSError(message=f"{what} failed: {self._reason(e)}") from None

    def _reason(self, error):
        if isinstance(error, HTTPError):
            return f"HTTP {error.code} {error.reason}{HTTP_HINTS.get(error.code, '')}"
        if isinstance(error, DOCKER_TIMEOUTS):
            return f"the Docker engine gave no answer within {self.params['timeout']} s (option timeout): {error}"
        return str(error) or type(error).__name__

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
        return "http" if self.params["registry"].get("insecure") or host_name(host) in LOOPBACK else "https"

    def _open(self, url, **kwargs):
        """open_url, never through a proxy for a loopback address (elsewhere NO_PROXY applies as usual)."""
        host = url.split("://", 1)[-1].split("/", 1)[0]
        return open_url(url, use_proxy=host_name(host) not in LOOPBACK, validate_certs=True, **kwargs)

    def _probe_registry(self, host):
        """Fail early, naming the field, when the registry does not answer at all."""
        try:
            self._open(f"{self._scheme(host)}://{host}/v2/", timeout=10).close()
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
        except DOCKER_ERRORS as e:
            raise ValidationError("docker_host", f"cannot reach the Docker engine at {base_url}: {e}") from None
        return client

    def _registry_request(self, method, path, headers=None):
        """One request to the registry's distribution API (``/v2/<path>``) with the registry's credentials:
        Basic, or the bearer token a token-authenticated registry asks for. A token is good for the scope
        it was asked for (``repository:<name>:pull``); a request that needs another scope (a DELETE needs
        ``delete``) is answered 401 with that scope, and one new token is fetched. HTTP errors raise HTTPError."""
        url = f"{self._scheme(self.registry)}://{self.registry}/v2/{path}"
        headers = dict(headers or {})
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._bearer}"
        elif self.auth:
            headers["Authorization"] = "Basic " + base64.b64encode(
                f"{self.auth['username']}:{self.auth['password']}".encode()).decode()
        try:
            return self._open(url, method=method, headers=headers, timeout=30)
        except HTTPError as e:
            challenge = (e.headers.get("WWW-Authenticate") if e.headers else None) or ""
            if e.code != 401 or not challenge.lower().startswith("bearer "):
                raise
            scope = _challenge_fields(challenge).get("scope", "")
            if self._bearer and scope == self._bearer_scope:
                raise  # the token of this very scope was refused: the credentials do not allow it
        self._bearer, self._bearer_scope = self._token(challenge), scope
        headers["Authorization"] = f"Bearer {self._bearer}"
        return self._open(url, method=method, headers=headers, timeout=30)

    def _token(self, challenge):
        """The bearer token of a ``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` challenge."""
        fields = _challenge_fields(challenge)
        if not fields.get("realm"):
            raise SeedAWSError(message=f"{self.registry} asked for a bearer token without saying where to get one")
        query = urlencode({k: v for k, v in fields.items() if k in ("service", "scope")})
        kwargs = {"timeout": 30}
        if self.auth:
            kwargs.update(url_username=self.auth["username"], url_password=self.auth["password"],
                          force_basic_auth=True)
        with self._open(fields["realm"] + ("?" + query if query else ""), **kwargs) as response:
            data = json.loads(response.read() or b"{}")
        token = data.get("token") or data.get("access_token")
        if not token:
            raise SeedAWSError(message=f"{fields['realm']} gave no token for {self.registry}")
        self.module.no_log_values.add(token)
        return token

    # -- the content tag ------------------------------------------------------------------------
    def _content_tag(self):
        p = self.params
        with open(self.dockerfile, encoding="utf-8", errors="replace") as handle:
            references = base_images(handle.read(), p["build_args"])
        self.bases = {reference: self._resolve_base(reference) for reference in references}
        return content_tag(content_hash(p["path"], self.dockerfile, p["build_args"], p.get("target"), p["platform"],
                                        self.bases))

    def _resolve_base(self, reference):
        """What the build takes for base image ``reference``: its digest when pinned; else the engine's copy
        (the build does not pull what the engine has) by the registry digest it was pulled by, or by its
        image ID when it was built or imported here; else the digest its registry has for it (what the build
        would pull); else None with a warning. A pulled copy and its registry give the same digest, so two
        machines with the same base compute the same tag."""
        if "@sha256:" in reference:
            return reference.rsplit("@", 1)[1]
        if self.params["pull_bases"]:
            return self._pulled_base(reference)
        with self._step(f"look up the base image {reference}"):
            try:
                image = self.docker.api.inspect_image(reference)
                return repo_digest(reference, image.get("RepoDigests")) or image["Id"]
            except (ImageNotFound, NotFound):
                pass
            except APIError as e:  # not a valid reference (a variable the Dockerfile leaves unset, say)
                self.module.warn(f"base image {reference}: {e}; its content is not part of the content tag")
                return None
            try:
                found = self.docker.api.inspect_distribution(reference, auth_config=self._base_auth(reference))
            except APIError as e:
                self.module.warn(f"base image {reference} is not on the Docker engine and its registry did not give "
                                 f"its digest ({e}); its content is not part of the content tag")
                return None
        return found.get("Descriptor", {}).get("digest")

    def _base_auth(self, reference):
        """The push registry's credentials for a base in that registry; none for any other (public) one."""
        return self.auth if reference.startswith(f"{self.registry}/") else None

    def _pulled_base(self, reference):
        """O(pull_bases): the digest of what the base's registry has now. A run that may build pulls it (the
        build then takes that copy); check mode and state=absent only ask the registry for its digest."""
        pull = self.params["state"] == "present" and not self.module.check_mode
        auth = self._base_auth(reference)
        with self._step(f"{'pull' if pull else 'look up'} the base image {reference}"):
            try:
                if pull:
                    digest = self._pull(reference, auth)
                else:
                    found = self.docker.api.inspect_distribution(reference, auth_config=auth)
                    digest = found.get("Descriptor", {}).get("digest")
            except APIError as e:
                raise ValidationError("pull_bases", f"the base image {reference} could not be "
                                                    f"{'pulled' if pull else 'looked up in its registry'} "
                                                    f"({self._reason(e)}); nothing was built or pushed") from None
        if not digest:
            raise ValidationError("pull_bases", f"the registry of the base image {reference} gave no digest for it; "
                                                f"nothing was built or pushed")
        return digest

    def _pull(self, reference, auth):
        """Pull ``reference`` for O(platform); the digest the registry gave (from the pull's own report, else
        the copy's RepoDigests). An error reported inside the pull's stream fails it (the SDK's
        ``images.pull`` would return the old copy)."""
        repository, tag = parse_repository_tag(reference)
        digest, errors = None, []
        for chunk in self.docker.api.pull(repository, tag=tag or "latest", stream=True, decode=True,
                                          auth_config=auth, platform=self.params["platform"]):
            if chunk.get("error") or chunk.get("errorDetail"):
                errors.append((chunk.get("errorDetail") or {}).get("message") or chunk.get("error"))
            found = re.match(r"Digest: (sha256:[0-9a-f]{64})$", chunk.get("status") or "")
            digest = found.group(1) if found else digest
        if errors:  # as the engine's own HTTP errors are, so the caller's step names it
            raise APIError("; ".join(errors))
        return digest or repo_digest(reference, self.docker.api.inspect_image(reference).get("RepoDigests"))

    # -- present --------------------------------------------------------------------------------
    def present(self):
        p = self.params
        tag = self._content_tag()
        git_tag = self._git_tag() if p["git_commit_tag"] else None
        tags = list(dict.fromkeys([tag] + ([git_tag] if git_tag else []) + list(p["extra_tags"])))
        remote = {t: self._remote_digest(t) for t in tags}
        before = {"tags": sorted(t for t, d in remote.items() if d), "digest": remote[tag]}
        digest = remote[tag]
        # Tags that already name another image than the one this run pushes: moved, where the registry allows it.
        moved = {t: remote[t] for t in tags[1:] if remote[t] and remote[t] != digest}
        if moved:
            self._check_movable(moved)  # before anything is built or pushed
        reference = f"{self.repository}:{tag}"
        if not digest:
            self._do(f"build {reference}", self._build, reference)
            if p["smoke_test"].get("enabled") and not self.module.check_mode:
                self._smoke_test(reference)
            digest = self._do(f"push {reference}", self._push, tag)
        for extra in tags[1:]:
            if remote[extra] != digest or not digest:
                note = f" (moving it from {remote[extra]})" if extra in moved else ""
                self._do(f"push {self.repository}:{extra}{note}", self._tag_and_push, reference, extra)
        after = {"tags": sorted(tags), "digest": digest if digest else "(known after push)"}
        return tag, tags, digest, before, after

    def _git_tag(self):
        """``git-<commit>`` of the repository holding O(path), or ``None`` (with a warning) when the build
        context has changes that are not committed: the image would not be the commit's."""
        path = self.params["path"]
        rc, out, err = self.module.run_command(["git", "-C", path, "rev-parse", "--show-toplevel", "--short=12",
                                                "HEAD"])
        if rc != 0:
            raise ValidationError("git_commit_tag", f"{path} is not in a git repository with a commit: {err.strip()}")
        lines = out.splitlines()
        toplevel, commit = lines[0].strip(), lines[-1].strip()
        rc, out, err = self.module.run_command(["git", "-C", path, "status", "--porcelain", "-z", "--ignored",
                                                "--untracked-files=all", "--", "."])
        if rc != 0:
            raise ValidationError("git_commit_tag", f"git status in {path} failed: {err.strip()}")
        changes = git_changes(out, toplevel, os.path.realpath(path))
        git_tag = f"git-{commit}"
        if changes:
            shown = ", ".join(changes[:5]) + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")
            self.module.warn(f"git_commit_tag: not tagging {git_tag}: the build context {path} has changes that are "
                             f"not committed ({shown}), so the image is not the one of commit {commit}")
            return None
        return git_tag

    def _check_movable(self, moved):
        """Fail, naming them, when tags to move are immutable (ECR: the repository's tag mutability)."""
        if self.params["registry"]["type"] != "ecr":
            return  # the distribution API has no immutable tags: they move
        repository = ecr.describe_repository(self.module.seed_client("ecr"), self.params["name"])
        stuck = [t for t in moved if ecr_tag_is_immutable(repository, t)]
        if stuck:
            mutability = (repository or {}).get("imageTagMutability") or "unknown"
            raise SeedAWSError(message=(
                f"{self.repository}: tag {', '.join(f'{t} (now {moved[t]})' for t in stuck)} already names another "
                f"image than the one this run would push, and the repository's tags cannot be moved "
                f"(imageTagMutability {mutability}); nothing was built or pushed. Delete that tag, or use another "
                f"one (extra_tags), or commit the changes (git_commit_tag)."))

    def _remote_digest(self, tag):
        """Digest of ``tag`` in the registry, or None when the registry does not have it."""
        with self._step(f"look up {self.repository}:{tag} in the registry"):
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
            self._pull(reference, self.auth)
        self.docker.api.tag(reference, self.repository, tag=extra)
        return self._push(extra)

    def _smoke_test(self, reference):
        smoke = self.params["smoke_test"]
        port = smoke["port"]
        with self._step(f"smoke test of {reference}"), port_lock(port, smoke["timeout"] + 60):
            # On the host network, the probe would reach whatever already listens on the port.
            busy = port_in_use(port)
            if busy:
                raise ValidationError("smoke_test.port", f"{busy}: the smoke test would probe that instead of the new "
                                                         f"image; nothing was pushed. Choose a free port.")
            env = dict(smoke.get("env") or {}, PORT=str(port))
            container = self.docker.containers.run(reference, detach=True, network_mode="host", environment=env,
                                                   labels={"seed.aws_migration/smoke-test": "true"})
            try:
                self._await_healthy(reference, container, port, smoke)
            finally:
                try:
                    container.remove(force=True)
                except STEP_ERRORS as e:  # not in the way of the test's own result
                    self.module.warn(f"Could not remove the smoke-test container {container.id}: {self._reason(e)}")

    def _await_healthy(self, reference, container, port, smoke):
        url = f"http://127.0.0.1:{port}{smoke['path']}"
        deadline = time.monotonic() + smoke["timeout"]
        last = None
        while time.monotonic() < deadline:
            container.reload()
            if container.status in ("exited", "dead"):
                last = f"the container exited with {container.attrs.get('State', {}).get('ExitCode')}"
                break
            try:
                with self._open(url, timeout=3) as response:
                    if response.status < 400:
                        return
                    last = f"{url} answered {response.status}"
            except Exception as e:  # pylint: disable=broad-exception-caught
                last = f"{url}: {e}"
            time.sleep(1)
        logs = container.logs(tail=50).decode(errors="replace")
        raise SeedAWSError(message=f"Smoke test of {reference} failed ({last or 'timed out'}); nothing was "
                                   f"pushed. Container logs:\n{logs}")

    # -- absent ---------------------------------------------------------------------------------
    def absent(self):
        p = self.params
        tag = p.get("tag") or self._content_tag()
        reference = f"{self.repository}:{tag}"
        digest = self._remote_digest(tag)
        before = {"tags": [tag] if digest else [], "digest": digest}
        if digest:
            if p["registry"]["type"] != "ecr":
                # The distribution API deletes manifests, not tags: every tag of that manifest would go.
                with self._step(f"list the tags of {self.repository}"):
                    others = self._other_tags(tag, digest)
                if others:
                    raise SeedAWSError(message=(
                        f"Not deleting {reference}: the registry deletes images, not tags, and {digest} is also "
                        f"tagged {', '.join(others)}, which would go with it. Nothing was deleted."))
            self._do(f"delete {reference} ({digest})", self._delete_tag, tag, digest)
        with self._step(f"look up the local image {reference}"):
            try:
                self.docker.images.get(reference)
                local = True
            except (ImageNotFound, NotFound):
                local = False
        if local:
            self._do(f"remove local image {reference}", self.docker.images.remove, reference)
        return tag, [], None, before, {"tags": [], "digest": None}

    def _other_tags(self, tag, digest):
        """The repository's other tags whose manifest is ``digest``, sorted."""
        tags, path, pages = [], f"{self.params['name']}/tags/list?n=1000", 0
        while path and pages < MAX_TAG_PAGES:
            pages += 1
            with self._registry_request("GET", path) as response:
                tags += json.loads(response.read() or b"{}").get("tags") or []
                link = re.match(r"\s*<([^>]+)>", response.headers.get("Link") or "")
            path = link.group(1).split("/v2/", 1)[-1] if link else None
        others = []
        for other in sorted(set(tags) - {tag}):
            try:
                with self._registry_request("HEAD", f"{self.params['name']}/manifests/{other}",
                                            headers={"Accept": MANIFEST_TYPES}) as response:
                    if response.headers.get("Docker-Content-Digest") == digest:
                        others.append(other)
            except HTTPError as e:
                if e.code != 404:  # deleted meanwhile
                    raise
        return others

    def _delete_tag(self, tag, digest):
        if self.params["registry"]["type"] == "ecr":
            # By tag: ECR removes that tag only (and the image when it was its last tag).
            ecr.batch_delete_image(self.module.seed_client("ecr"), self.params["name"], [{"imageTag": tag}])
            return
        self._registry_request("DELETE", f"{self.params['name']}/manifests/{digest}").close()


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
        pull_bases=dict(type="bool", default=False),
        git_commit_tag=dict(type="bool", default=False),
        extra_tags=dict(type="list", elements="str", default=[]),
        tag=dict(type="str"),
        smoke_test=dict(type="dict", default={}, options=dict(
            enabled=dict(type="bool", default=False),
            port=dict(type="int"),
            path=dict(type="str", default="/health"),
            env=dict(type="dict", default={}, no_log=True),
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
    except STEP_ERRORS as e:  # a call outside the named steps: still a failure, not a traceback
        module.fail_json(msg=f"Docker or registry call failed: {e}")
    result = {
        "changed": bool(manager.actions), "actions": manager.actions, "built": manager.built,
        "pushed": manager.pushed,
        "image": {"repository": manager.repository, "tag": tag, "digest": digest, "tags": tags, "bases": manager.bases,
                  # Without a digest (check mode, before a build) the tag stands in, so later tasks can plan.
                  "pinned": f"{manager.repository}@{digest}" if digest else f"{manager.repository}:{tag}"},
    }
    if module._diff:
        result["diff"] = build_diff(before, after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
