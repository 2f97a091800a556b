# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content tags of build contexts, .dockerignore, and build validation."""

import os

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_hash
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_tag
from ansible_collections.seed.aws_migration.plugins.module_utils.images import context_files
from ansible_collections.seed.aws_migration.plugins.module_utils.images import ignored
from ansible_collections.seed.aws_migration.plugins.module_utils.images import read_dockerignore
from ansible_collections.seed.aws_migration.plugins.module_utils.images import validate_build


@pytest.fixture
def context(tmp_path):
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY app.py /app/\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    (tmp_path / "notes.md").write_text("x")
    (tmp_path / ".dockerignore").write_text(".git\n*.md\n!README.md\n")
    return tmp_path


def tag(ctx, **kwargs):
    return content_tag(content_hash(str(ctx), str(ctx / "Dockerfile"), **kwargs))


def test_context_respects_dockerignore(context):
    assert context_files(str(context)) == [".dockerignore", "Dockerfile", "app.py", "static/index.html"]


def test_same_inputs_same_tag_and_ignored_files_do_not_count(context):
    first = tag(context)
    assert first.startswith("ctx-") and len(first) == 20
    (context / "notes.md").write_text("changed")  # ignored
    (context / ".git" / "HEAD").write_text("other")  # ignored
    assert tag(context) == first


@pytest.mark.parametrize("change", [
    lambda c: (c / "app.py").write_text("print('bye')\n"),
    lambda c: (c / "static" / "new.css").write_text("body{}"),
    lambda c: (c / "Dockerfile").write_text("FROM scratch\n"),
    lambda c: os.chmod(c / "app.py", 0o755),
    lambda c: (c / "README.md").write_text("re-included by !README.md"),
])
def test_one_file_change_gives_a_new_tag(context, change):
    before = tag(context)
    change(context)
    assert tag(context) != before


def test_build_args_target_and_platform_count(context):
    base = tag(context)
    assert tag(context, build_args={"BASE_IMAGE": "a"}) != base
    assert tag(context, target="runtime") != base
    assert tag(context, platform="linux/arm64") != tag(context, platform="linux/amd64")


def test_dockerignore_patterns(tmp_path):
    assert not ignored("a/b", [])
    (tmp_path / ".dockerignore").write_text("**/__pycache__\nbuild/\n# comment\n")
    rules = read_dockerignore(str(tmp_path))
    assert ignored("pkg/__pycache__/x.pyc", rules)
    assert ignored("build/out.bin", rules)
    assert not ignored("src/build.py", rules)


def params(context, **overrides):
    base = {"name": "seed/backend", "state": "present", "path": str(context), "dockerfile": "Dockerfile",
            "platform": "linux/amd64", "extra_tags": [], "smoke_test": {}}
    base.update(overrides)
    return base


@pytest.mark.parametrize("overrides, field", [
    (dict(name="Seed/Backend"), "name"),
    (dict(path="/does/not/exist"), "path"),
    (dict(path=None), "path"),
    (dict(dockerfile="Missing.Dockerfile"), "dockerfile"),
    (dict(platform="amd64"), "platform"),
    (dict(extra_tags=["bad tag"]), "extra_tags[0]"),
    (dict(smoke_test={"enabled": True}), "smoke_test.port"),
    (dict(smoke_test={"enabled": True, "port": 8000, "path": "health"}), "smoke_test.path"),
])
def test_bad_build_input_names_the_field(context, overrides, field):
    with pytest.raises(ValidationError) as e:
        validate_build(params(context, **overrides))
    assert e.value.field == field
