"""container_image against the local Docker engine and registry: check mode, build and push, no push
when the registry has the tag, failing builds and smoke tests, an unreachable registry, deletion."""

from __future__ import annotations

import shutil

import pytest

from support.servers import REPO_ROOT

pytestmark = pytest.mark.docker


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

    gone = ansible.module("container_image", dict(image_args, state="absent", tag=tag))
    assert gone["actions"][0].startswith(f"delete {local_docker.registry}/{image_args['name']}:{tag}")
    assert ansible.module("container_image", image_args, check=True)["changed"] is True  # no longer there


def test_failing_build_reports_the_failing_step(ansible, image_args):
    with open(f"{image_args['path']}/Dockerfile", "a", encoding="utf-8") as handle:
        handle.write("\nCOPY this-file-does-not-exist /app/\n")
    result = ansible.module("container_image", image_args)
    assert result.get("failed")
    assert "Build of" in result["msg"] and "this-file-does-not-exist" in result["msg"]


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
