# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Content tags of build contexts, .dockerignore, build validation, git changes and ECR tag mutability."""

import os

import pytest

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError
from ansible_collections.seed.aws_migration.plugins.module_utils.images import base_images
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_hash
from ansible_collections.seed.aws_migration.plugins.module_utils.images import repo_digest
from ansible_collections.seed.aws_migration.plugins.module_utils.images import content_tag
from ansible_collections.seed.aws_migration.plugins.module_utils.images import context_entries
from ansible_collections.seed.aws_migration.plugins.module_utils.images import context_files
from ansible_collections.seed.aws_migration.plugins.module_utils.images import ecr_tag_is_immutable
from ansible_collections.seed.aws_migration.plugins.module_utils.images import git_changes
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
            "platform": "linux/amd64", "extra_tags": [], "smoke_test": {}, "registry": {"type": "oci"}}
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


@pytest.mark.parametrize("pattern, matches, misses", [
    # Go's filepath.Match (docker's patternmatcher): [^...] is the negated class, [!...] holds a literal '!'
    ("log[^0-9].txt", ["logx.txt", "log-.txt"], ["log1.txt", "logxy.txt"]),
    ("log[!0-9].txt", ["log!.txt", "log5.txt"], ["logx.txt"]),
    ("[a-c]*.py", ["a.py", "banana.py"], ["d.py", "x/a.py"]),
    ("data[0-9]/*", ["data1/x"], ["datax/x"]),
    ("file\\*", ["file*"], ["filex"]),
    ("a[b", ["a[b"], ["ab"]),  # not a class (not closed): literal, as Go would refuse it
])
def test_dockerignore_character_classes_follow_go(tmp_path, pattern, matches, misses):
    (tmp_path / ".dockerignore").write_text(pattern + "\n")
    rules = read_dockerignore(str(tmp_path))
    assert [p for p in matches if ignored(p, rules)] == matches
    assert [p for p in misses if ignored(p, rules)] == []


def test_symbolic_links_are_hashed_as_links_never_followed(context, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "big.bin").write_text("1")
    os.symlink("app.py", context / "alias.py")
    os.symlink(str(outside), context / "shared")  # a link to a directory: sent as a link, not walked
    os.symlink("does-not-exist", context / "dangling")
    assert {"alias.py", "shared", "dangling"} <= set(context_files(str(context)))
    before = tag(context)
    (outside / "big.bin").write_text("2")  # what the link points to is not in the context
    (context / "app.py").write_text("print('x')\n")
    changed = tag(context)
    assert changed != before
    os.remove(context / "shared")
    os.symlink(str(outside) + "/", context / "shared")  # only the target string differs
    assert tag(context) != changed


def test_directories_count_empty_ones_too_unless_ignored(context):
    before = tag(context)
    (context / "var" / "cache").mkdir(parents=True)
    assert "var/cache" in context_entries(str(context)) and "var/cache" not in context_files(str(context))
    with_dirs = tag(context)
    assert with_dirs != before
    (context / ".git" / "refs").mkdir()  # below an ignored directory
    assert tag(context) == with_dirs
    os.chmod(context / "var" / "cache", 0o700)
    assert tag(context) != with_dirs


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o664, 0o4755])
def test_every_permission_bit_counts(context, mode):
    os.chmod(context / "app.py", 0o644)
    before = tag(context)
    os.chmod(context / "app.py", mode)
    assert tag(context) != before


def test_a_fifo_is_not_read(context):
    os.mkfifo(context / "pipe")
    before = tag(context)  # would block forever if opened
    os.remove(context / "pipe")
    assert tag(context) != before


def test_absent_without_a_tag_computes_it_from_the_context(context):
    assert validate_build(params(context, state="absent")) == str(context / "Dockerfile")
    assert validate_build(params(context, state="absent", tag="v1", path=None)) is None


@pytest.mark.parametrize("overrides, field", [
    (dict(state="absent", tag="bad tag"), "tag"),
    (dict(state="absent", tag="-leading-dash"), "tag"),
    (dict(state="absent", tag="x" * 129), "tag"),
    (dict(state="absent", path=None), "tag"),
    (dict(state="absent", path="/does/not/exist"), "path"),
    (dict(state="absent", dockerfile="Missing.Dockerfile"), "dockerfile"),
])
def test_bad_absent_input_names_the_field(context, overrides, field):
    with pytest.raises(ValidationError) as e:
        validate_build(params(context, **overrides))
    assert e.value.field == field


@pytest.mark.parametrize("name", ["seed__backend", "seed--backend", "team/web---api"])
def test_ecr_names_follow_ecrs_rule_before_anything_is_built(context, name):
    validate_build(params(context, name=name))  # a valid name for an OCI registry
    with pytest.raises(ValidationError) as e:
        validate_build(params(context, name=name, registry={"type": "ecr"}))
    assert e.value.field == "name" and "not a valid ECR repository name" in str(e.value)


def test_git_changes_are_what_docker_would_send(context):
    root = str(context.parent)
    sub = context.name
    porcelain = "\0".join([
        f" M {sub}/app.py",
        f"?? {sub}/static/new.css",
        f"!! {sub}/.git/HEAD",  # ignored by .dockerignore
        f"!! {sub}/notes.md",  # ignored by .dockerignore
        f"R  {sub}/renamed.txt", f"{sub}/old.txt",
        "?? elsewhere/file",  # outside the context
    ]) + "\0"
    assert git_changes(porcelain, root, str(context)) == ["app.py", "renamed.txt", "static/new.css"]
    assert git_changes("", root, str(context)) == []
    assert git_changes(f"?? {sub}/\0", root, str(context)) == ["."]


@pytest.mark.parametrize("repository, tag, immutable", [
    ({"imageTagMutability": "IMMUTABLE"}, "git-1", True),
    ({"imageTagMutability": "MUTABLE"}, "git-1", False),
    (None, "git-1", True),  # unknown: the safe side
    ({"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
      "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "latest*"}]}, "latest-main", False),
    ({"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
      "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "latest*"}]}, "git-1", True),
    ({"imageTagMutability": "MUTABLE_WITH_EXCLUSION",
      "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "release-*"}]}, "release-2", True),
    ({"imageTagMutability": "MUTABLE_WITH_EXCLUSION",
      "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "release-*"}]}, "edge", False),
])
def test_ecr_tag_mutability(repository, tag, immutable):
    assert ecr_tag_is_immutable(repository, tag) is immutable


@pytest.mark.parametrize("pattern, matches, misses", [
    # docker's patternmatcher: a leading **/x is "x, or a path ending in /x" - never a longer name
    ("**/test", ["test", "a/test", "a/b/test"], ["latest", "a/latest", "test2"]),
    ("**/node_modules", ["node_modules/x.js", "web/node_modules/x.js"], ["my_node_modules/x.js"]),
    ("**/.env", [".env", "config/.env"], ["config/prod.env"]),
    # **/ inside is zero or more directories
    ("a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb", "ab"]),
    ("**/*.go", ["y.go", "x/y.go"], ["y.gox"]),
    # a trailing ** is everything after what precedes it
    ("foo/**", ["foo/x", "foo/x/y"], ["foob", "bar/foo/x"]),
    ("a*/**", ["ab/c"], ["b/c"]),
    ("**", ["x", "x/y"], []),
])
def test_dockerignore_double_star_follows_docker(tmp_path, pattern, matches, misses):
    (tmp_path / ".dockerignore").write_text(pattern + "\n")
    rules = read_dockerignore(str(tmp_path))
    assert [p for p in matches if ignored(p, rules)] == matches
    assert [p for p in misses if ignored(p, rules)] == []


def test_a_file_docker_sends_changes_the_tag_whatever_the_double_star_rules(context):
    """config/prod.env is sent (**/.env ignores only files named .env): editing it is a new tag."""
    (context / ".dockerignore").write_text(".git\n*.md\n!README.md\n**/.env\n")
    (context / "config").mkdir()
    (context / "config" / "prod.env").write_text("MODE=prod\n")
    (context / "config" / ".env").write_text("SECRET=1\n")
    assert "config/prod.env" in context_files(str(context)) and "config/.env" not in context_files(str(context))
    before = tag(context)
    (context / "config" / ".env").write_text("SECRET=2\n")
    assert tag(context) == before
    (context / "config" / "prod.env").write_text("MODE=staging\n")
    assert tag(context) != before


# --- the base images a Dockerfile names ------------------------------------------------------------
DOCKERFILE = """# syntax=docker/dockerfile:1
ARG BASE_IMAGE=python:3.12-slim
ARG TOOLS="alpine:3.20" UNSET
FROM --platform=$BUILDPLATFORM ${BASE_IMAGE} AS build
RUN echo one \\
  # a comment inside a continued line
  two
COPY --from=nginx:1.27 /etc/nginx /n
FROM build AS test
FROM scratch
COPY --from=build /a /b
COPY --from=0 /a /b
FROM ${TOOLS}
FROM ${MISSING:-debian:12}
FROM ${BASE_IMAGE:+python:3.13}
"""


def test_base_images_are_the_images_not_the_stages():
    assert base_images(DOCKERFILE) == ["python:3.12-slim", "nginx:1.27", "alpine:3.20", "debian:12", "python:3.13"]


def test_build_args_override_the_global_args_they_name():
    assert base_images(DOCKERFILE, {"BASE_IMAGE": "seed/base:1", "NOT_DECLARED": "x"})[:2] == ["seed/base:1",
                                                                                               "nginx:1.27"]


def test_the_escape_directive_and_a_dockerfile_without_bases():
    assert base_images("# escape=`\nFROM `\n  debian:12\n") == ["debian:12"]
    assert base_images("FROM scratch\nCOPY a /\n") == []


def test_heredoc_bodies_are_not_instructions():
    # A Python heredoc's "from os import path" is not a FROM; the instructions after the delimiter are read.
    dockerfile = ("FROM debian:12\n"
                  "RUN <<EOF python3 -\nfrom os import path\nFROM nope:1\nEOF\n"
                  "COPY <<-'ONE' /one <<TWO /two\n\tfrom a import b\n\tONE\nCOPY --from=nope:2 x\nTWO\n"
                  "COPY --from=alpine:3.20 /etc/os-release /\n")
    assert base_images(dockerfile) == ["debian:12", "alpine:3.20"]
    # "<<" inside a word (shell arithmetic) opens no heredoc.
    assert base_images("FROM debian:12\nRUN echo $((1<<2))\nFROM alpine:3.20\n") == ["debian:12", "alpine:3.20"]


def test_a_new_base_is_a_new_content_tag(tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM python:3.12-slim\n")
    one = content_hash(str(ctx), str(ctx / "Dockerfile"), bases={"python:3.12-slim": "sha256:" + "a" * 64})
    two = content_hash(str(ctx), str(ctx / "Dockerfile"), bases={"python:3.12-slim": "sha256:" + "b" * 64})
    assert one != two and one == content_hash(str(ctx), str(ctx / "Dockerfile"),
                                              bases={"python:3.12-slim": "sha256:" + "a" * 64})


@pytest.mark.parametrize("reference, repo_digests, expected", [
    ("python:3.12-slim", ["python@sha256:" + "a" * 64], "sha256:" + "a" * 64),
    ("docker.io/library/python:3.12", ["python@sha256:" + "a" * 64], "sha256:" + "a" * 64),
    ("registry.example.com:5000/base/py:1", ["other/py@sha256:" + "b" * 64,
                                             "registry.example.com:5000/base/py@sha256:" + "c" * 64],
     "sha256:" + "c" * 64),
    ("seed/base:bookworm-python3", [], None),  # imported here: never pulled
    ("python:3.12", ["pypy@sha256:" + "a" * 64], None),
])
def test_the_digest_a_base_was_pulled_by(reference, repo_digests, expected):
    assert repo_digest(reference, repo_digests) == expected
