# -*- coding: utf-8 -*-
# Copyright: Contributors to the seed.aws_migration collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container images: the content tag of a build context, and registry helpers.

The content tag is a hash of everything that decides what ``docker build`` produces: every entry of
the context that ``.dockerignore`` lets through, as docker sends it (files: path, permission bits and
bytes; symbolic links: path and target, never followed; directories, empty ones too: path and
permission bits), the Dockerfile, the build args, the target, the platform, and the images the
Dockerfile builds on (``FROM``, ``COPY --from``) by the image ID or digest they resolve to. The same
inputs give the same tag, so a registry that already has the tag already has the image: nothing to
build, nothing to push; a new base image behind the same tag (a security update) gives a new tag.
"""

import hashlib
import os
import re
import shlex
import stat

from ansible_collections.seed.aws_migration.plugins.module_utils import ecr
from ansible_collections.seed.aws_migration.plugins.module_utils.errors import ValidationError

TAG_PREFIX = "ctx-"
NAME_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
PLATFORM_RE = re.compile(r"^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$")


def _class_regex(pattern, start):
    """The regex of the Go character class opening at ``pattern[start]`` (``[``), and the index after it;
    ``None`` when the class is not closed (Go rejects the pattern; taken literally here)."""
    i, out = start + 1, ["["]
    if i < len(pattern) and pattern[i] == "^":  # Go's negation; ``!`` is an ordinary character in Go
        out.append("^")
        i += 1
    first = True
    while i < len(pattern):
        char = pattern[i]
        if char == "]" and not first:
            return "".join(out) + "]", i + 1
        if char == "\\" and i + 1 < len(pattern):
            i += 1
            char = pattern[i]
        elif char == "-" and not first and i + 1 < len(pattern) and pattern[i + 1] != "]":
            out.append("-")
            i += 1
            first = False
            continue
        out.append(re.escape(char))
        first = False
        i += 1
    return None, start + 1


class DockerPattern:
    """A .dockerignore pattern matched as docker's patternmatcher (moby/patternmatcher ``compile`` and
    ``match``) does, over slash paths: ``*`` and ``?`` stop at ``/``; ``[a-z]`` and ``[^a-z]`` are
    character classes; ``\\`` escapes the next character; ``**`` spans directories - a leading
    ``**/x`` matches ``x`` and every path ending in ``/x`` (not ``latest`` for ``**/test``), a
    ``**/`` inside matches zero or more directories (``a/**/b``: ``a/b``, ``a/x/b``, not ``a/xb``),
    a trailing ``**`` anything after what precedes it."""

    def __init__(self, pattern):
        self.pattern = pattern
        self.kind, out, i, step = "exact", [], 0, 0
        while i < len(pattern):
            char = pattern[i]
            i += 1
            if char == "*" and pattern.startswith("*", i):
                i += 1
                if pattern.startswith("/", i):
                    i += 1  # "**/" is read as "**"
                if i >= len(pattern):
                    if self.kind == "exact":
                        self.kind = "prefix"
                    else:
                        out.append(".*")
                        self.kind = "regexp"
                else:
                    out.append("(.*/)?")
                    self.kind = "regexp"
                if step == 0:
                    self.kind = "suffix"
            elif char in "*?":
                out.append("[^/]*" if char == "*" else "[^/]")
                self.kind = "regexp"
            elif char == "\\":
                if i < len(pattern):
                    out.append(re.escape(pattern[i]))
                    i += 1
                    self.kind = "regexp"
                else:
                    out.append(re.escape(char))
            elif char == "[" and _class_regex(pattern, i - 1)[0] is not None:
                regex, i = _class_regex(pattern, i - 1)
                out.append(regex)
                self.kind = "regexp"
            else:
                out.append(re.escape(char))
            step += 1
        self.regex = re.compile("^" + "".join(out) + "$") if self.kind == "regexp" else None

    def match(self, path):
        if self.kind == "exact":
            return path == self.pattern
        if self.kind == "prefix":
            return path.startswith(self.pattern[:-2])
        if self.kind == "suffix":
            suffix = self.pattern[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return bool(self.regex.match(path))


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
                rules.append((negate, DockerPattern(pattern)))
    return rules


def ignored(relpath, rules):
    """Whether docker leaves ``relpath`` out of the context (last matching rule wins; a match on a
    parent directory counts)."""
    parts = relpath.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for negate, pattern in rules:
        if any(pattern.match(c) for c in candidates):
            result = not negate
    return result


def context_entries(context):
    """Relative paths of everything docker would send (files, symbolic links - never followed - and
    directories, empty ones too), sorted."""
    rules = read_dockerignore(context)
    negations = any(negate for negate, _regex in rules)
    found = []
    for root, dirs, files in os.walk(context):
        rel_root = os.path.relpath(root, context)
        rel_root = "" if rel_root == "." else rel_root.replace(os.sep, "/") + "/"
        # os.walk lists a symbolic link to a directory with the directories: docker sends it as a link.
        links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        dirs[:] = sorted(d for d in dirs if d not in links)
        for name in dirs:
            if not ignored(rel_root + name, rules):
                found.append(rel_root + name)
        # An ignored directory is still walked when a ``!`` rule may bring back something below it.
        dirs[:] = [d for d in dirs if negations or not ignored(rel_root + d, rules)]
        for name in files + links:
            rel = rel_root + name
            if not ignored(rel, rules) or rel == ".dockerignore":
                found.append(rel)
    return sorted(found)


def context_files(context):
    """Relative paths of the files (and symbolic links) docker would send, sorted."""
    return [rel for rel in context_entries(context)
            if not stat.S_ISDIR(os.lstat(os.path.join(context, rel)).st_mode)]


_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<op>[-+])(?P<word>[^}]*))?\}"
                       r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def _expand(word, values):
    """``word`` with ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alternative}`` replaced from
    ``values`` (what docker does for FROM); None when it uses a form this does not know."""
    def replace(match):
        name = match.group("braced") or match.group("plain")
        value = values.get(name, "")
        if match.group("op") == "-":
            return value or match.group("word")
        if match.group("op") == "+":
            return match.group("word") if value else ""
        return value

    expanded = _VARIABLE.sub(replace, word)
    return None if "$" in expanded else expanded


def _instructions(text):
    """``(INSTRUCTION, arguments)`` of a Dockerfile: parser directives, comments and line continuations
    handled as docker's parser does (the ``escape`` directive included)."""
    lines = text.splitlines()
    escape = "\\"
    for index, line in enumerate(lines):  # parser directives: "# name=value" lines at the very top
        directive = re.match(r"^\s*#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$", line)
        if not directive:
            lines = lines[index:]
            break
        if directive.group(1).lower() == "escape" and directive.group(2) in ("\\", "`"):
            escape = directive.group(2)
    else:
        lines = []
    current, heredocs = "", []
    for line in lines:
        if heredocs:  # the body of a heredoc (RUN/COPY/ADD <<EOF): not instructions, until its delimiter
            strip_tabs, delimiter = heredocs[0]
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                heredocs.pop(0)
            continue
        if not current and not line.strip():
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment, also inside a continued instruction
        stripped = line.rstrip()
        if stripped.endswith(escape):
            current += stripped[:-1] + " "
            continue
        current += line
        parts = current.strip().split(None, 1)
        current = ""
        if parts:
            instruction = parts[0].upper()
            arguments = parts[1] if len(parts) > 1 else ""
            if instruction in ("RUN", "COPY", "ADD"):
                heredocs = _heredocs(arguments)
            yield instruction, arguments


_HEREDOC = re.compile(r"^\d*<<(-?)([\"']?)([^<\"']+)\2$")


def _heredocs(arguments):
    """``[(strip_tabs, delimiter)]`` of the heredocs an instruction opens (``<<EOF``, ``<<-EOF``,
    ``<<'EOF'``, ``2<<EOF``), in order, as BuildKit reads them: a shell word that starts with ``<<``."""
    found = []
    for word in arguments.split():
        match = _HEREDOC.match(word)
        if match:
            found.append((match.group(1) == "-", match.group(3)))
    return found


def base_images(dockerfile_text, build_args=None):
    """The images a Dockerfile builds on, in order: each ``FROM`` and ``COPY --from`` that names an image
    rather than one of its own stages (``scratch`` left out), with the global ``ARG``s (their defaults,
    or the build args given) substituted. A reference whose variables cannot be read is returned as
    written."""
    build_args = {k: str(v) for k, v in (build_args or {}).items()}
    values, stages, found, seen_from = {}, set(), [], False

    def add(reference):
        if reference and reference.lower() != "scratch" and reference.lower() not in stages \
                and not reference.isdigit() and reference not in found:
            found.append(reference)

    for instruction, arguments in _instructions(dockerfile_text):
        if instruction == "ARG" and not seen_from:
            try:
                declared = shlex.split(arguments)
            except ValueError:
                continue
            for item in declared:
                name, has_default, default = item.partition("=")
                values[name] = build_args.get(name, default if has_default else "")
        elif instruction == "FROM":
            seen_from = True
            words = [w for w in arguments.split() if not w.startswith("--")]
            if not words:
                continue
            reference = _expand(words[0], values) or words[0]
            add(reference)
            if len(words) >= 3 and words[1].lower() == "as":
                stages.add(words[2].lower())
        elif instruction == "COPY":
            for word in arguments.split():
                if word.lower().startswith("--from="):
                    add(_expand(word[len("--from="):], values) or word[len("--from="):])
    return found


def _repository_of(reference):
    """The repository of an image reference, as docker names it in RepoDigests (``docker.io/library/``
    left out): ``python:3.12`` and ``docker.io/library/python@sha256:...`` are both ``python``."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:  # a tag (a colon before the last '/' is a registry port)
        name = name[:len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def repo_digest(reference, repo_digests):
    """The digest the engine's copy of ``reference`` was pulled (or pushed) by - the one its registry
    gives for the tag, so machines that pulled the same base agree - or None (built or imported here)."""
    wanted = _repository_of(reference)
    for entry in repo_digests or []:
        if "@" in entry and _repository_of(entry) == wanted:
            return entry.rsplit("@", 1)[1]
    return None


def content_hash(context, dockerfile, build_args=None, target=None, platform=None, bases=None):
    """sha256 hex of a build's inputs (see the module docstring); ``bases``: the base images the
    Dockerfile names (base_images) to the image ID or digest each resolves to (None: not known)."""
    digest = hashlib.sha256()

    def feed(*parts):
        for part in parts:
            digest.update(part if isinstance(part, bytes) else str(part).encode())
            digest.update(b"\0")

    for rel in context_entries(context):
        full = os.path.join(context, rel)
        info = os.lstat(full)
        mode = oct(stat.S_IMODE(info.st_mode))
        if stat.S_ISLNK(info.st_mode):
            feed("link", rel, os.readlink(full))
        elif stat.S_ISDIR(info.st_mode):
            feed("dir", rel, mode)
        elif stat.S_ISREG(info.st_mode):
            feed("file", rel, mode)
            with open(full, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            feed("end")
        else:  # a socket or FIFO: never read (it would block)
            feed("special", rel, stat.S_IFMT(info.st_mode), mode)
    with open(dockerfile, "rb") as handle:
        feed("dockerfile", handle.read())
    for key, value in sorted((build_args or {}).items()):
        feed("arg", key, value)
    feed("target", target or "", "platform", platform or "")
    for reference, resolved in sorted((bases or {}).items()):
        feed("base", reference, resolved or "")
    return digest.hexdigest()


def content_tag(hex_digest):
    return TAG_PREFIX + hex_digest[:16]


def validate_build(params):
    """Checks of an image build's options that need no Docker engine and no registry.

    Returns the Dockerfile's path when the content tag is to be computed (``state=present``, or
    ``state=absent`` without ``tag``), else ``None``.
    """
    name = params["name"]
    if not NAME_RE.match(name or "") or len(name) > 256:
        raise ValidationError("name", f"{name!r} is not a repository name (lowercase, digits, '.', '_', '-', '/')")
    if ((params.get("registry") or {}).get("type") or "oci") == "ecr":
        ecr.check_name("name", name)  # stricter: no '__', no '--', ...
    for index, tag in enumerate(params.get("extra_tags") or []):
        if not TAG_RE.match(tag):
            raise ValidationError(f"extra_tags[{index}]", f"{tag!r} is not a valid tag")
    if params["state"] == "absent":
        tag = params.get("tag")
        if tag:
            if not TAG_RE.match(tag):
                raise ValidationError("tag", f"{tag!r} is not a valid tag (letters, digits, '_', '.', '-'; "
                                             "up to 128, not starting with '.' or '-')")
            return None
        if not params.get("path"):
            raise ValidationError("tag", "state=absent needs the tag to delete (or path, to compute it)")
        return _context_dockerfile(params)
    if not params.get("path"):
        raise ValidationError("path", "is required when state=present (the build context)")
    dockerfile = _context_dockerfile(params)
    if params.get("platform") and not PLATFORM_RE.match(params["platform"]):
        raise ValidationError("platform", f"{params['platform']!r} is not os/arch[/variant], like linux/amd64")
    smoke = params.get("smoke_test") or {}
    if smoke.get("enabled"):
        if not 1 <= (smoke.get("port") or 0) <= 65535:
            raise ValidationError("smoke_test.port", "is required (1-65535) when the smoke test is enabled")
        if not (smoke.get("path") or "/").startswith("/"):
            raise ValidationError("smoke_test.path", "must start with /")
    return dockerfile


def _context_dockerfile(params):
    path = params["path"]
    if not os.path.isdir(path):
        raise ValidationError("path", f"build context {path} is not a directory")
    dockerfile = os.path.join(path, params.get("dockerfile") or "Dockerfile")
    if not os.path.isfile(dockerfile):
        raise ValidationError("dockerfile", f"{dockerfile} does not exist")
    return dockerfile


def git_changes(porcelain, repo_root, context):
    """Paths under ``context`` that ``git status --porcelain -z --ignored`` output (run in the repository
    at ``repo_root``) reports as changed, untracked or ignored by git, and that docker would send (the
    context's ``.dockerignore`` applies). Paths are relative to the context, sorted."""
    rules = read_dockerignore(context)
    fields = porcelain.split("\0")
    changed, i = set(), 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        if status[0] in "RC":
            i += 1  # the source of a rename or copy follows
        rel = os.path.relpath(os.path.join(repo_root, path.rstrip("/")), context).replace(os.sep, "/")
        if rel.split("/")[0] == "..":
            if set(rel.split("/")) == {".."}:
                changed.add(".")  # a directory holding the whole context (untracked, say)
            continue
        if rel == "." or not ignored(rel, rules) or rel == ".dockerignore":
            changed.add(rel)
    return sorted(changed)


def ecr_tag_is_immutable(repository, tag):
    """Whether ECR refuses to move ``tag`` in ``repository`` (a DescribeRepositories entry; ``None`` when
    it could not be read: taken as immutable, the safe side). Exclusion filters (``*`` wildcards) turn
    the repository's rule around for the tags they match."""
    mutability = (repository or {}).get("imageTagMutability") or "IMMUTABLE"
    filters = [f.get("filter") for f in (repository or {}).get("imageTagMutabilityExclusionFilters") or []]
    excluded = any(re.fullmatch(re.escape(f).replace(r"\*", ".*"), tag) for f in filters if f)
    if mutability == "MUTABLE":
        return False
    if mutability == "MUTABLE_WITH_EXCLUSION":
        return excluded
    if mutability == "IMMUTABLE_WITH_EXCLUSION":
        return not excluded
    return True
