# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container images: the content tag of a build context, and registry helpers.

The content tag is a hash of everything that decides what ``docker build`` produces: every file of
the context that ``.dockerignore`` lets through (path, executable bit, bytes, symlink target), the
Dockerfile, the build args, the target and the platform. The same inputs give the same tag, so a
registry that already has the tag already has the image: nothing to build, nothing to push.
"""

import hashlib
import os
import re
import stat

from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError

TAG_PREFIX = "ctx-"
NAME_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
PLATFORM_RE = re.compile(r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$")


def _pattern_regex(pattern):
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regex over slash paths."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            if i < len(pattern) and pattern[i] == "/":
                i += 1
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char)))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def read_dockerignore(context):
    path = os.path.join(context, ".dockerignore")
    rules = []
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                negate = line.startswith("!")
                pattern = os.path.normpath(line[1:] if negate else line).lstrip("/")
                rules.append((negate, _pattern_regex(pattern)))
    return rules


def ignored(relpath, rules):
    """Whether docker leaves ``relpath`` out of the context (last matching rule wins; a match on a
    parent directory counts)."""
    parts = relpath.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for negate, regex in rules:
        if any(regex.match(c) for c in candidates):
            result = not negate
    return result


def context_files(context):
    """Relative paths of the files docker would send, sorted."""
    rules = read_dockerignore(context)
    found = []
    for root, dirs, files in os.walk(context):
        rel_root = os.path.relpath(root, context)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/") + "/"
        dirs[:] = sorted(d for d in dirs if not ignored(rel_root + d, rules) or any(n for n, _r in rules))
        for name in files:
            rel = rel_root + name
            if not ignored(rel, rules) or rel in (".dockerignore",):
                found.append(rel)
    return sorted(found)


def content_hash(context, dockerfile, build_args=None, target=None, platform=None):
    """sha256 hex of a build's inputs (see the module docstring)."""
    digest = hashlib.sha256()

    def feed(*parts):
        for part in parts:
            digest.update(part if isinstance(part, bytes) else str(part).encode())
            digest.update(b"\0")

    for rel in context_files(context):
        full = os.path.join(context, rel)
        info = os.lstat(full)
        if stat.S_ISLNK(info.st_mode):
            feed("link", rel, os.readlink(full))
            continue
        feed("file", rel, "x" if info.st_mode & 0o111 else "-")
        with open(full, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        feed("end")
    with open(dockerfile, "rb") as handle:
        feed("dockerfile", handle.read())
    for key, value in sorted((build_args or {}).items()):
        feed("arg", key, value)
    feed("target", target or "", "platform", platform or "")
    return digest.hexdigest()


def content_tag(hex_digest):
    return TAG_PREFIX + hex_digest[:16]


def validate_build(params):
    """Checks of an image build's options that need no Docker engine and no registry."""
    name = params["name"]
    if not NAME_RE.match(name or "") or len(name) > 256:
        raise ValidationError("name", f"{name!r} is not a repository name (lowercase, digits, '.', '_', '-', '/')")
    for index, tag in enumerate(params.get("extra_tags") or []):
        if not TAG_RE.match(tag):
            raise ValidationError(f"extra_tags[{index}]", f"{tag!r} is not a valid tag")
    if params["state"] == "absent":
        if not params.get("tag") and not params.get("path"):
            raise ValidationError("tag", "state=absent needs the tag to delete (or path, to compute it)")
        return
    path = params.get("path")
    if not path:
        raise ValidationError("path", "is required when state=present (the build context)")
    if not os.path.isdir(path):
        raise ValidationError("path", f"build context {path} is not a directory")
    dockerfile = os.path.join(path, params.get("dockerfile") or "Dockerfile")
    if not os.path.isfile(dockerfile):
        raise ValidationError("dockerfile", f"{dockerfile} does not exist")
    if params.get("platform") and not PLATFORM_RE.match(params["platform"]):
        raise ValidationError("platform", f"{params['platform']!r} is not os/arch[/variant], like linux/amd64")
    smoke = params.get("smoke_test") or {}
    if smoke.get("enabled"):
        if not 1 <= (smoke.get("port") or 0) <= 65535:
            raise ValidationError("smoke_test.port", "is required (1-65535) when the smoke test is enabled")
        if not (smoke.get("path") or "/").startswith("/"):
            raise ValidationError("smoke_test.path", "must start with /")
    return dockerfile
